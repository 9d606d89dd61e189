import json

import orjson
import pytest

from oimws.protocol.codec import ArgsDecodeError, EnvelopeError, JsonEnvelopeCodec

codec = JsonEnvelopeCodec()


def envelope(**fields) -> bytes:
    return orjson.dumps(fields)


def test_decodes_a_request_from_a_memoryview():
    payload = envelope(reqFuncName="CreateTextMessage", operationID="op1", userID="alice",
                       data='["hi"]')
    request = codec.decode_request(memoryview(bytearray(payload)))
    assert (request.func_name, request.operation_id, request.user_id, request.data) == (
        "CreateTextMessage", "op1", "alice", '["hi"]')
    assert codec.decode_args(request) == ["hi"]


def test_missing_optional_fields_default_to_empty():
    request = codec.decode_request(envelope(reqFuncName="GetLoginStatus"))
    assert request.operation_id == "" and request.data == ""
    assert codec.decode_args(request) == []


@pytest.mark.parametrize(
    "payload",
    [b"", b"{", b"not json", b"\xff\xfe", b"[1,2]", b'"text"', b"{}",
     b'{"reqFuncName": 5}', b'{"reqFuncName": ""}'],
)
def test_unusable_envelopes_raise_without_a_function_name(payload: bytes):
    with pytest.raises(EnvelopeError) as raised:
        codec.decode_request(payload)
    assert raised.value.func_name == ""


def test_wrong_field_types_keep_the_function_name_and_operation_id():
    with pytest.raises(EnvelopeError) as raised:
        codec.decode_request(envelope(reqFuncName="Login", operationID="op9", data=["x"]))
    assert raised.value.func_name == "Login"
    assert raised.value.operation_id == "op9"
    assert "'data' must be a string" in str(raised.value)


@pytest.mark.parametrize(("data", "message"), [("nope", "not valid JSON"),
                                                ('{"a": 1}', "must hold a JSON array")])
def test_data_must_hold_an_array(data: str, message: str):
    request = codec.decode_request(envelope(reqFuncName="X", data=data))
    with pytest.raises(ArgsDecodeError, match=message):
        codec.decode_args(request)


def test_response_data_is_a_json_string_the_client_parses():
    result = {"text": 'quote " and \\ and ü', "n": 3}
    frame = codec.encode_response("CreateTextMessage", 0, "", result, "op-1")
    decoded = json.loads(frame)
    assert decoded == {"event": "CreateTextMessage", "errCode": 0, "errMsg": "",
                       "data": json.dumps(result, separators=(",", ":"), ensure_ascii=False),
                       "operationID": "op-1"}
    assert json.loads(decoded["data"]) == result


def test_no_result_is_an_empty_data_string():
    decoded = json.loads(codec.encode_response("Logout", 0, "", None, "op"))
    assert decoded["data"] == ""


def test_error_response_carries_code_and_message():
    decoded = json.loads(codec.encode_response("X", 10002, 'bad "arg"', None, "op"))
    assert (decoded["errCode"], decoded["errMsg"]) == (10002, 'bad "arg"')


def test_push_has_no_operation_id():
    decoded = json.loads(codec.encode_push("OnTotalUnreadMessageCountChanged", 4))
    assert decoded == {"event": "OnTotalUnreadMessageCountChanged", "errCode": 0,
                       "errMsg": "", "data": "4", "operationID": ""}
