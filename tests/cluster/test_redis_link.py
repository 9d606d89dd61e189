"""The Redis link between two nodes, against a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from oimws.delivery.redis_link import RedisLink
from oimws.devcluster import RedisServer


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def eventually(check, what: str, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not happen")


async def test_presence_forwarding_and_kicks(redis: RedisServer):
    presence_a: dict[str, tuple[int, ...]] = {"alice": (5,)}
    a = RedisLink(redis.url, "a", lambda: dict(presence_a))
    b = RedisLink(redis.url, "b", dict)
    frames: list[tuple[list[str], bytes]] = []
    kicks: list[tuple[str, int]] = []
    a.on_frame(lambda users, frame: frames.append((users, frame)))
    a.on_kick(lambda user, platform: kicks.append((user, platform)))
    await a.start()
    await b.start()
    try:
        # b learned a's existing users when it started, and hears of new ones
        assert b.nodes_for(["alice", "bob"]) == {"a": ["alice"]}
        a.announce("carol", (1, 5))
        await eventually(lambda: b.nodes_for(["carol"]) == {"a": ["carol"]}, "presence")
        assert a.nodes_for(["carol"]) == {}  # a node never forwards to itself

        # one frame per node, with its users
        b.forward(b.nodes_for(["alice", "carol", "nobody"]), b'{"event":"X"}')
        await eventually(lambda: frames, "delivery")
        assert frames == [(["alice", "carol"], b'{"event":"X"}')]

        # a kick goes only to the node holding that user on that platform
        b.kick_elsewhere("carol", 7)
        b.kick_elsewhere("carol", 1)
        await eventually(lambda: kicks, "kick")
        await asyncio.sleep(0.2)
        assert kicks == [("carol", 1)]

        a.announce("carol", ())
        await eventually(lambda: b.nodes_for(["carol"]) == {}, "goodbye")
    finally:
        await a.stop()
    await eventually(lambda: b.nodes_for(["alice"]) == {}, "a node leaving")
    await b.stop()


async def test_survives_a_redis_restart(redis: RedisServer):
    a = RedisLink(redis.url, "a", lambda: {"alice": (5,)})
    b = RedisLink(redis.url, "b", dict)
    frames: list[list[str]] = []
    a.on_frame(lambda users, frame: frames.append(users))
    await a.start()
    await b.start()
    try:
        redis.stop()
        await eventually(lambda: not a.connected and not b.connected, "noticing the outage")
        b.forward({"a": ["alice"]}, b"lost")  # dropped: the message is in the store anyway
        redis.start()
        # both re-register (a's presence survives the restart though Redis lost it)
        await eventually(lambda: a.connected and b.connected, "reconnecting", 15)
        await eventually(lambda: b.nodes_for(["alice"]) == {"a": ["alice"]}, "presence", 10)
        b.forward({"a": ["alice"]}, b"after")
        await eventually(lambda: ["alice"] in frames, "delivery after the restart")
    finally:
        await a.stop()
        await b.stop()


async def test_what_is_queued_when_a_node_stops_still_goes_out(redis: RedisServer):
    """stop() lets the sender drain its queue: frames forwarded and users announced just
    before a graceful stop reach the other node (it once waited on the listener instead and
    cancelled the sender with its queue)."""
    a = RedisLink(redis.url, "a", dict)
    b = RedisLink(redis.url, "b", dict)
    frames: list[bytes] = []
    a.on_frame(lambda users, frame: frames.append(frame))
    await a.start()
    await b.start()
    b.announce("bob", (5,))
    await eventually(lambda: a.nodes_for(["bob"]) == {"b": ["bob"]}, "presence")
    try:
        for index in range(200):
            b.forward({"a": ["alice"]}, b"frame %d" % index)
        await b.stop()
        await eventually(lambda: len(frames) == 200, "the queued frames")
        assert frames == [b"frame %d" % index for index in range(200)]
        await eventually(lambda: a.nodes_for(["bob"]) == {}, "b's users leaving with it")
    finally:
        await a.stop()
