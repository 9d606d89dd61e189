import orjson
import pytest

from oimws.protocol.args import (
    MAX_NESTING,
    Anything,
    Bool,
    Int,
    JsonArray,
    JsonObject,
    Str,
    decode_positional,
)
from oimws.protocol.errors import ArgumentError, ErrCode

SEND_SCHEMA = (JsonObject("message"), Str("recvID"), Str("groupID", default=""),
               JsonObject("offlinePushInfo", default=None), Bool("isOnlineOnly", default=False))


def test_double_encoded_objects_are_decoded():
    values = ['{"clientMsgID": "c1"}', "bob", "", '{"title": "t"}', True]
    assert decode_positional(SEND_SCHEMA, values) == [
        {"clientMsgID": "c1"}, "bob", "", {"title": "t"}, True]


def test_objects_may_also_come_decoded():
    assert decode_positional(SEND_SCHEMA, [{"a": 1}, "bob"])[0] == {"a": 1}


def test_missing_optional_arguments_take_defaults():
    assert decode_positional(SEND_SCHEMA, ["{}", "bob"]) == [{}, "bob", "", None, False]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], r"argument 0 \(message\) is missing"),
        (["{}"], r"argument 1 \(recvID\) is missing"),
        (["{}", 5], r"argument 1 \(recvID\) must be a string, got number"),
        (["[1]", "bob"], r"argument 0 \(message\) must be a JSON object.*got string"),
        (["{bad", "bob"], r"not valid JSON"),
        (["{}", "bob", "", None, "yes"], r"argument 4 \(isOnlineOnly\) must be a boolean"),
        (["{}", None], r"argument 1 \(recvID\) must not be null"),
        (["{}", "b", "", None, False, "extra"], r"takes at most 5 arguments, got 6"),
    ],
)
def test_errors_name_the_argument(values, message):
    with pytest.raises(ArgumentError, match=message) as raised:
        decode_positional(SEND_SCHEMA, values)
    assert raised.value.code == ErrCode.SDK_ARGS


def test_integers_reject_booleans_floats_and_out_of_range():
    schema = (Int("count", minimum=0, maximum=10),)
    assert decode_positional(schema, [3]) == [3]
    for bad in (True, 1.5, "3", -1, 11):
        with pytest.raises(ArgumentError):
            decode_positional(schema, [bad])


def test_string_length_limit():
    with pytest.raises(ArgumentError, match="longer than 3"):
        decode_positional((Str("id", max_length=3),), ["abcd"])


def test_array_items_are_checked():
    schema = (JsonArray("ids", item=Str("id")),)
    assert decode_positional(schema, ['["a", "b"]']) == [["a", "b"]]
    with pytest.raises(ArgumentError, match="element 1 must be a string"):
        decode_positional(schema, ['["a", 2]'])


def _nested(depth: int) -> object:
    value: object = 1
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


@pytest.mark.parametrize("arg", [JsonArray("list"), JsonObject("object"), Anything("any")])
def test_nesting_is_limited_to_what_answers_can_carry(arg):
    def shaped(depth: int) -> object:  # the outermost level of the kind the argument takes
        return {"a": _nested(depth - 1)} if isinstance(arg, JsonObject) else [_nested(depth - 1)]

    as_given = [shaped(MAX_NESTING), shaped(MAX_NESTING + 1)]
    if not isinstance(arg, Anything):  # the double-encoded form the jssdk sends
        as_given += [orjson.dumps(v).decode() for v in as_given]
    for value in as_given:
        if _depth(value) <= MAX_NESTING:
            assert arg.decode(0, value) == (orjson.loads(value) if isinstance(value, str)
                                            else value)
        else:
            with pytest.raises(ArgumentError, match=f"nested deeper than {MAX_NESTING} levels"):
                arg.decode(0, value)


def _depth(value: object) -> int:
    if isinstance(value, str):
        value = orjson.loads(value)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0
