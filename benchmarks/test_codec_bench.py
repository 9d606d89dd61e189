"""Envelope codec: the compiled path against plain-Python equivalents, in the same run.

Run with ``make bench``; compare the rows of one group (pytest-benchmark prints them side by
side), not absolute times.
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


def test_plain_and_compiled_agree():
    request = codec.decode_request(REQUEST)
    assert plain_python.decode_request(REQUEST) == (
        request.func_name, request.operation_id, request.user_id, request.data)
    compiled = json.loads(codec.encode_push("OnRecvNewMessages", orjson.dumps([MESSAGE])))
    assert compiled == json.loads(plain_python.encode_push("OnRecvNewMessages", [MESSAGE]))
    assert compiled == json.loads(
        plain_python.encode_push_orjson_dict("OnRecvNewMessages", [MESSAGE]))


@pytest.mark.benchmark(group="decode request")
def test_decode_compiled(benchmark):
    benchmark(codec.decode_request, REQUEST)


@pytest.mark.benchmark(group="decode request")
def test_decode_plain_python(benchmark):
    benchmark(plain_python.decode_request, REQUEST)


@pytest.mark.benchmark(group="decode request")
def test_decode_plain_python_orjson(benchmark):
    benchmark(plain_python.decode_request, REQUEST, orjson.loads)


@pytest.mark.benchmark(group="encode push")
def test_encode_compiled(benchmark):
    benchmark(lambda: codec.encode_push("OnRecvNewMessages", orjson.dumps([MESSAGE])))


@pytest.mark.benchmark(group="encode push")
def test_encode_plain_python(benchmark):
    benchmark(plain_python.encode_push, "OnRecvNewMessages", [MESSAGE])


@pytest.mark.benchmark(group="encode push")
def test_encode_orjson_dict(benchmark):
    benchmark(plain_python.encode_push_orjson_dict, "OnRecvNewMessages", [MESSAGE])
