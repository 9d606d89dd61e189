"""A member that stops reading while its group is busy costs the others nothing.

A group of ``MEMBERS`` users, all online; one of them posts at a steady rate. The delivery
latency (the sender's send to a member's receipt, both seen by this process's clock) of the
members who read is measured in a run where one member stops reading, and in runs without
it: one before, where everyone reads, and one after, once it is gone. That member must be
cut off at ``write_buffer_limit``; every other member must get every message exactly once,
no later (by a generous margin) than without it; and once back, the cut-off member must find
the whole conversation in history, once, seqs dense.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from oimws.client import JssdkClient
from tests.support.history import history
from tests.support.server import RunningServer

MEMBERS = 24  # the poster, the member who stops reading, and 22 who read
GROUP = "G-busy"
RATE = 100  # messages a second
MEASURED_MESSAGES = 300  # per run; the slow run goes on until the cut-off, and a bit more
AFTER_CUT_OFF = 100
MAX_MESSAGES = 3000  # a bound on the slow run (30 s) should the cut-off never come
# A push stays below 8 KiB: larger frames hit a picows bug (with use_aiofastnet=False) that
# can garble the stream of a reader with queued writes; not what this test is about.
TEXT_SIZE = 5000
WRITE_BUFFER_LIMIT = 64 * 1024
# Liveness bounds, far above the real times.
DELIVERED_WITHIN = 20.0

NEW_MESSAGES_PUSH = b'{"event":"OnRecvNewMessages"'
CLIENT_MSG_ID = re.compile(rb'\\"clientMsgID\\":\\"([^\\"]+)')


@dataclass
class Receipts:
    """What one member received: (arrival time, clientMsgID) of every new-message push."""

    arrivals: list[tuple[float, str]] = field(default_factory=list)

    def hook(self, payload: bytes) -> bool:
        """Timestamp new-message pushes and drop every push unparsed (thousands a second:
        this process must not be what slows delivery down); answers go on to the client."""
        if not payload.startswith(b'{"event":"On'):
            return False
        if payload.startswith(NEW_MESSAGES_PUSH):
            match = CLIENT_MSG_ID.search(payload)
            assert match is not None, payload[:200]
            self.arrivals.append((time.perf_counter(), match.group(1).decode()))
        return True

    def count_of(self, client_msg_ids: set[str]) -> Counter[str]:
        return Counter(i for _, i in self.arrivals if i in client_msg_ids)


async def logged_in(server: RunningServer, user: str) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user, server.user_token(user), 5)
    await client.login()
    return client


def healthz(server: RunningServer) -> dict[str, Any]:
    with urllib.request.urlopen(server.api_url + "/healthz", timeout=5) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def metric(server: RunningServer, name: str) -> float:
    with urllib.request.urlopen(server.api_url + "/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


async def post_steadily(poster: JssdkClient, template: dict[str, Any], *, at_least: int,
                        until: Callable[[], bool] | None = None) -> dict[str, float]:
    """Post ``RATE`` messages a second to the group, pipelined (never waiting for an answer
    to send the next): ``at_least``, or with ``until``, at least that many and then, once
    ``until()`` holds, ``AFTER_CUT_OFF`` more. Returns each message's send time; every one
    must be acknowledged."""
    sent_at: dict[str, float] = {}
    answers = []
    start = time.perf_counter()
    stop_after = at_least if until is None else None
    index = 0
    while index < MAX_MESSAGES and (stop_after is None or index < stop_after):
        await asyncio.sleep(max(0.0, start + index / RATE - time.perf_counter()))
        if stop_after is None and index >= at_least and until is not None and until():
            stop_after = index + AFTER_CUT_OFF
        message = dict(template, clientMsgID=uuid.uuid4().hex)
        sent_at[message["clientMsgID"]] = time.perf_counter()
        answers.append(asyncio.ensure_future(
            poster.call("SendMessage", message, "", GROUP, {}, False, timeout=30)))
        index += 1
    await asyncio.gather(*answers)  # raises on any refusal
    return sent_at


async def all_delivered(readers: dict[str, Receipts], sent_at: dict[str, float]) -> None:
    wanted = set(sent_at)
    async with asyncio.timeout(DELIVERED_WITHIN):
        while any(len(r.count_of(wanted)) < len(wanted) for r in readers.values()):
            await asyncio.sleep(0.05)


def latencies(readers: dict[str, Receipts], sent_at: dict[str, float]) -> list[float]:
    return sorted(at - sent_at[i] for r in readers.values() for at, i in r.arrivals
                  if i in sent_at)


def p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def assert_each_once(readers: dict[str, Receipts], sent_at: dict[str, float]) -> None:
    wanted = set(sent_at)
    for user, receipts in readers.items():
        counts = receipts.count_of(wanted)
        assert set(counts) == wanted, f"{user} missed {len(wanted - set(counts))} messages"
        doubled = [i for i, n in counts.items() if n > 1]
        assert not doubled, f"{user} got {len(doubled)} messages more than once"


def stop_reading(client: JssdkClient) -> None:
    """A small receive buffer (no autotuning) and no reads: the server's backlog for it
    grows with every push."""
    assert client.transport is not None
    transport = client.transport.underlying_transport
    transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    transport.pause_reading()


async def test_a_member_that_stops_reading_is_cut_off_and_costs_the_others_nothing(
        server_factory):
    # Disk flushes are not what is measured here, and their stalls (hundreds of ms on a busy
    # machine) would dominate a p99 taken over a few seconds: the store does not fsync.
    server = server_factory(env={"OIMWS_WRITE_BUFFER_LIMIT": str(WRITE_BUFFER_LIMIT),
                                 "OIMWS_SQLITE_SYNCHRONOUS": "OFF"})
    users = [f"member{i:02d}" for i in range(MEMBERS)]
    poster_id, slow_id, reader_ids = users[0], users[1], users[2:]
    server.register(*users)
    clients = {user: await logged_in(server, user) for user in users}
    receipts = {user: Receipts() for user in users}
    for user, client in clients.items():
        client.raw_frame_hook = receipts[user].hook
    poster, slow = clients[poster_id], clients[slow_id]
    await poster.call("CreateGroup", {
        "memberUserIDs": users[1:], "adminUserIDs": [],
        "groupInfo": {"groupID": GROUP, "groupName": "busy", "groupType": 2}})
    template = await poster.call("CreateTextMessage", "t" * TEXT_SIZE)
    readers = {user: receipts[user] for user in reader_ids}

    # Polled throughout, so that every run carries the same load.
    cut_off = asyncio.Event()

    async def watch_for_cut_off() -> None:
        while True:
            if await asyncio.to_thread(lambda: healthz(server)["connections"]) < MEMBERS:
                cut_off.set()
            await asyncio.sleep(0.2)

    watcher = asyncio.ensure_future(watch_for_cut_off())
    warm_up = await post_steadily(poster, template, at_least=20)
    await all_delivered(readers, warm_up)

    # Everyone reads.
    before = await post_steadily(poster, template, at_least=MEASURED_MESSAGES)
    await all_delivered(readers, before)

    # One member stops reading; posting goes on until the server has cut it off, and on.
    stop_reading(slow)
    with_slow = await post_steadily(poster, template, at_least=MEASURED_MESSAGES,
                                    until=cut_off.is_set)
    assert cut_off.is_set(), (f"the member that stopped reading was never cut off after "
                              f"{len(with_slow)} messages\n{server.log_tail(10)}")
    await all_delivered(readers, with_slow)

    # It is gone.
    after = await post_steadily(poster, template, at_least=MEASURED_MESSAGES)
    await all_delivered(readers, after)
    watcher.cancel()

    # It was cut off at the write-buffer bound, and is offline; the others all stayed.
    assert metric(server, "oimws_slow_consumers_dropped_total") >= 1
    status = await poster.call("GetUserStatus", [slow_id, *reader_ids])
    online = {s["userID"]: s["platformIDs"] for s in status}
    assert online.pop(slow_id) == []
    assert all(online.values()), online
    for run in (warm_up, before, with_slow, after):
        assert_each_once(readers, run)

    # Not materially later for the others. The runs share this machine with whatever else
    # runs on it, so a p99 over a few thousand deliveries moves a lot between runs for
    # reasons of its own: the baseline is the worse of the runs before and after, and the
    # bound allows three times it, or a quarter second more when that is larger (a p99 of a
    # few ms tripled is still noise). A server that waited on the slow socket, or copied its
    # backlog around, would blow it by far.
    p99_without = max(p99(latencies(readers, before)), p99(latencies(readers, after)))
    p99_with = p99(latencies(readers, with_slow))
    assert p99_with <= max(3 * p99_without, p99_without + 0.25), (
        f"p99 delivery latency {p99_with * 1000:.0f} ms with a member that stopped reading, "
        f"{p99_without * 1000:.0f} ms without")

    # Back again, the cut-off member finds every message of the group once, seqs dense.
    assert slow.transport is not None
    slow.transport.disconnect(graceful=False)
    back = await logged_in(server, slow_id)
    stored = await history(back, f"sg_{GROUP}")
    seqs = [m["seq"] for m in stored]
    assert seqs == list(range(1, len(seqs) + 1)), seqs[:30]
    copies = Counter(m["clientMsgID"] for m in stored)
    not_once = [i for i in {*warm_up, *before, *with_slow, *after} if copies[i] != 1]
    assert not not_once, f"{len(not_once)} messages missing or doubled in history"
    for client in [back, *(c for user, c in clients.items() if user != slow_id)]:
        await client.close()
