"""The plain-Python twins in benchmarks/ do the same work as the compiled hot paths: the same
output for the same input, so the micro-benchmarks compare like with like."""

from __future__ import annotations

import asyncio
import json

import orjson

from benchmarks import plain_python
from benchmarks.fanout_rig import FanoutRig
from benchmarks.test_codec_bench import MESSAGE, REQUEST
from oimws._speedups import codec, ids
from oimws._speedups.fanout import send_to_all


def test_decode_agrees():
    request = codec.decode_request(REQUEST)
    as_tuple = (request.func_name, request.operation_id, request.user_id, request.data)
    assert plain_python.decode_request(REQUEST) == as_tuple
    assert plain_python.decode_request(REQUEST, orjson.loads) == as_tuple
    assert plain_python.decode_request_with_args(REQUEST) == (
        as_tuple, codec.decode_args(request.data))


def test_encode_agrees():
    compiled = json.loads(codec.encode_push("OnRecvNewMessages", orjson.dumps([MESSAGE])))
    assert compiled == json.loads(plain_python.encode_push("OnRecvNewMessages", [MESSAGE]))
    assert compiled == json.loads(
        plain_python.encode_push_orjson_dict("OnRecvNewMessages", [MESSAGE]))
    response = json.loads(codec.encode_response("SendMessage", 0, "", orjson.dumps(MESSAGE),
                                                "op1"))
    assert response == json.loads(plain_python.encode_response("SendMessage", 0, "", MESSAGE,
                                                               "op1"))
    assert response == json.loads(
        plain_python.encode_response_orjson_dict("SendMessage", 0, "", MESSAGE, "op1"))


def test_ids_agree():
    assert plain_python.server_msg_id("sg_1", 7, 1_700_000_000_000) == ids.server_msg_id(
        "sg_1", 7, 1_700_000_000_000)
    nodes = [f"n{i}" for i in range(6)]
    compiled, plain = ids.HashRing(nodes, 50), plain_python.HashRing(nodes, 50)
    assert compiled.nodes == plain.nodes
    keys = [f"user{i}" for i in range(3000)]
    assert [compiled.node_for(k) for k in keys] == [plain.node_for(k) for k in keys]


async def test_fan_out_agrees_on_real_transports():
    rig = await FanoutRig(20).open()
    try:
        frame = b'{"event":"OnRecvNewMessages","data":"x"}'
        for fan_out in (send_to_all, plain_python.send_to_all):
            assert fan_out(rig.transports, frame, 4 * 1024 * 1024) == []
            rig.sent()
            await rig.drain(10)
            # a limit below any backlog: every transport is reported, in order
            assert fan_out(rig.transports, frame, -1) == rig.transports
            rig.sent()
            await rig.drain(10)
        assert rig.received == 4 * 20
        closed = rig.transports[3]
        closed.disconnect()
        await asyncio.sleep(0.05)
        for fan_out in (send_to_all, plain_python.send_to_all):
            assert closed not in fan_out(rig.transports, frame, -1)
    finally:
        await rig.close()
