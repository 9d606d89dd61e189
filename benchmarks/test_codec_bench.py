"""Envelope codec: the compiled path against plain-Python equivalents, in the same run.

Run with ``make bench-micro``; compare the rows of one group (pytest-benchmark prints them
side by side, and the speed-up summary at the end), not absolute times.
"""

from __future__ import annotations

import json

import orjson
import pytest

from benchmarks import plain_python
from oimws._speedups import codec

MESSAGE = {
    "clientMsgID": "0f4c3e0c8c2b4f6e9a0d7d1b2c3e4f50", "serverMsgID": "", "createTime": 1,
    "sendTime": 0, "sessionType": 1, "sendID": "alice", "recvID": "bob", "msgFrom": 100,
    "contentType": 101, "senderPlatformID": 5, "senderNickname": "Alice",
    "senderFaceUrl": "", "groupID": "", "content": "", "seq": 0, "isRead": False,
    "status": 1, "textElem": {"content": "hello there, how are you doing today?"},
}
REQUEST = orjson.dumps({
    "reqFuncName": "SendMessage", "operationID": "a3f1c2", "userID": "alice",
    "data": json.dumps([json.dumps(MESSAGE), "bob", "", "{}", False]),
})
RESULT = orjson.dumps(MESSAGE)


def _decode_compiled(payload: bytes) -> tuple[codec.Request, list[object]]:
    request = codec.decode_request(payload)
    return request, codec.decode_args(request.data)


@pytest.mark.benchmark(group="decode request")
def test_decode_compiled(benchmark):
    benchmark(codec.decode_request, REQUEST)


@pytest.mark.benchmark(group="decode request")
def test_decode_plain_python(benchmark):
    benchmark(plain_python.decode_request, REQUEST)


@pytest.mark.benchmark(group="decode request")
def test_decode_plain_python_orjson(benchmark):
    benchmark(plain_python.decode_request, REQUEST, orjson.loads)


@pytest.mark.benchmark(group="decode request with args")
def test_decode_args_compiled(benchmark):
    benchmark(_decode_compiled, REQUEST)


@pytest.mark.benchmark(group="decode request with args")
def test_decode_args_plain_python(benchmark):
    benchmark(plain_python.decode_request_with_args, REQUEST)


@pytest.mark.benchmark(group="decode request with args")
def test_decode_args_plain_python_orjson(benchmark):
    benchmark(plain_python.decode_request_with_args, REQUEST, orjson.loads)


@pytest.mark.benchmark(group="encode push")
def test_encode_compiled(benchmark):
    benchmark(lambda: codec.encode_push("OnRecvNewMessages", orjson.dumps([MESSAGE])))


@pytest.mark.benchmark(group="encode push")
def test_encode_plain_python(benchmark):
    benchmark(plain_python.encode_push, "OnRecvNewMessages", [MESSAGE])


@pytest.mark.benchmark(group="encode push")
def test_encode_orjson_dict(benchmark):
    benchmark(plain_python.encode_push_orjson_dict, "OnRecvNewMessages", [MESSAGE])


@pytest.mark.benchmark(group="encode response")
def test_encode_response_compiled(benchmark):
    benchmark(lambda: codec.encode_response("SendMessage", 0, "", orjson.dumps(MESSAGE),
                                            "a3f1c2"))


@pytest.mark.benchmark(group="encode response")
def test_encode_response_plain_python(benchmark):
    benchmark(plain_python.encode_response, "SendMessage", 0, "", MESSAGE, "a3f1c2")


@pytest.mark.benchmark(group="encode response")
def test_encode_response_orjson_dict(benchmark):
    benchmark(plain_python.encode_response_orjson_dict, "SendMessage", 0, "", MESSAGE,
              "a3f1c2")
