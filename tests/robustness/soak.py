"""The soak's driver: cycles of thousands of clients connecting, logging in, chatting and
disconnecting, against a real server, with every message accounted for.

The clients live in the load harness's generator processes (``oimws.bench``: a
``GeneratorPool`` of picows clients on uvloop, which count every arrival per client and
message), so the generator is not the bottleneck; this module only plans each cycle, hands
the plans to the pool, and checks what came back. One cycle:

1. ``ONLINE`` of the ``ONLINE + AWAY`` users connect and log in; the other ``AWAY`` stay
   away (a different block of users each cycle, so over 11 cycles everyone is away once);
2. every online user sends one one-to-one message, to the user ``DIRECT_STRIDE`` places on
   (so some recipients are away), then a few users send to the group everyone is in;
3. every online recipient must have had each of its messages exactly once, every send was
   answered with errCode 0;
4. everyone disconnects; the server must drop every connection and session;
5. the away users log in from this process and read their history: each one-to-one message
   sent to them while they were away is there exactly once, and so is each group message
   (read by ``GROUP_HISTORY_READERS`` of them);
6. with everyone gone, the server's memory is sampled: its RSS, and its live Python heap
   (reported on SIGUSR1 by ``soak_server/sitecustomize.py``, loaded into the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from oimws.bench.accounting import Delivery
from oimws.bench.generator import GeneratorPool
from oimws.bench.procstat import open_fds
from oimws.bench.worker import CLIENT_OPTIONS
from oimws.client import JssdkClient
from tests.support.server import RunningServer, make_token

ONLINE = 2000  # clients connected at once in each cycle
AWAY = 200  # users who sit a cycle out: what is sent to them waits in their history
USERS = [f"soak{i:05d}" for i in range(ONLINE + AWAY)]
DIRECT_STRIDE = 701  # user i writes to user i + 701: every away user gets one message from
                     # an online one (its sender, 701 places back, is outside the block)
GROUP_MESSAGES = 3  # per cycle, each fanned out to every online member
GENERATOR_PROCESSES = 2
CONNECT_CONCURRENCY = 200  # handshakes in flight per generator process
DIRECT_RATE = 1000.0  # messages/s offered (open loop: the server may lag, it must not lose)
GROUP_RATE = 5.0
DRAIN_S = 60.0  # the longest a run waits for its last arrival
GRACE_S = 0.3  # after the last expected arrival: a duplicate would come now
HISTORY_READERS = 50  # away users reading their history at once
# Away users who also read the group's history each cycle (the block rotates, so over a run
# many do). Not all: one page of a 2200-member group's history costs the server about 0.1 s
# of its event loop (0.4-0.5 s the first time; docs/ROBUSTNESS.md), so 200 of them would
# make this step most of the soak.
GROUP_HISTORY_READERS = 10
PLATFORM_WEB = 5
ADMIN_BATCH = 1000  # /user/user_register and the group endpoints take up to 1000 IDs


def memory_status(pid: int) -> dict[str, int]:
    """The process's resident memory from /proc/<pid>/status, in bytes: ``VmRSS`` and its
    parts ``RssAnon`` (the heaps: where a leak shows), ``RssFile`` (mapped files: libraries,
    SQLite's memory-mapped database) and ``RssShmem`` (SQLite's WAL index)."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                found[name] = int(value.split()[0]) * 1024  # kB
    return found


def single_conversation_id(a: str, b: str) -> str:
    return "si_{}_{}".format(*sorted((a, b)))


@dataclasses.dataclass
class CycleResult:
    number: int
    connected: int
    login_failures: list[str]
    direct_sent: int
    group_sent: int
    direct: Delivery  # what the online recipients got
    group: Delivery
    away_checked: int  # away users whose history was read
    away_missing: list[str]  # "user: message" never stored, or stored twice
    leftover_connections: int  # sessions the server still had once everyone was gone
    memory: dict[str, int]  # memory_status() once everyone has gone
    heap: dict[str, int]  # the live Python heap then: allocated blocks, GC-tracked objects
    open_fds: int
    seconds: float
    phases: dict[str, float]  # seconds spent in each step


class SoakDriver:
    """A server with ``USERS`` registered and one group of them all, and a generator pool."""

    def __init__(self, server: RunningServer, pool: GeneratorPool, token_lifetime_s: float,
                 heap_report: Path) -> None:
        self.server = server
        self.pool = pool
        self.heap_report = heap_report  # where the server writes its heap (SOAK_HEAP_REPORT)
        self.tokens = {user: make_token(server.secret, user, PLATFORM_WEB,
                                        expires_in=token_lifetime_s) for user in USERS}
        self.group_id = ""

    def prepare(self) -> None:
        admin = self.server.admin_token()
        for start in range(0, len(USERS), ADMIN_BATCH):
            self.server.register(*USERS[start:start + ADMIN_BATCH])
        owner, *others = USERS
        created = self.server.call("/group/create_group", {
            "ownerUserID": owner, "memberUserIDs": others[:ADMIN_BATCH], "adminUserIDs": [],
            "groupInfo": {"groupName": "soak", "groupType": 2}}, token=admin)
        self.group_id = created["groupInfo"]["groupID"]
        for start in range(ADMIN_BATCH, len(others), ADMIN_BATCH):
            self.server.call("/group/invite_user_to_group", {
                "groupID": self.group_id, "reason": "soak",
                "invitedUserIDs": others[start:start + ADMIN_BATCH]}, token=admin)

    # one cycle ----------------------------------------------------------------------------
    def cycle(self, number: int) -> CycleResult:
        started = time.monotonic()
        phases: dict[str, float] = {}
        mark = started

        def phase(name: str) -> None:
            nonlocal mark
            now = time.monotonic()
            phases[name] = round(now - mark, 2)
            mark = now

        first_away = (number * AWAY) % len(USERS)
        away = {USERS[(first_away + i) % len(USERS)] for i in range(AWAY)}
        online = [u for u in USERS if u not in away]
        shares = self.pool.split(online)  # round-robin: online[i] is in generator i % size
        worker_of = {user: i % self.pool.size for i, user in enumerate(online)}

        connected = self.pool.call_all("connect", [
            {"url": self.server.ws_url, "users": [(u, self.tokens[u]) for u in share],
             "concurrency": CONNECT_CONCURRENCY} for share in shares], timeout=300)
        login_failures = [f for r in connected for f in r["failure_sample"]]
        failed = sum(r["failed"] for r in connected)
        if failed:
            login_failures.append(f"{failed} clients in all failed to connect or log in")
        phase("connect")

        position = {user: i for i, user in enumerate(USERS)}
        recipients = [USERS[(position[u] + DIRECT_STRIDE) % len(USERS)] for u in online]
        direct_run = f"d{number}-{uuid.uuid4().hex[:8]}"
        direct = self._run(direct_run, worker_of, [
            (mid / DIRECT_RATE, mid, sender, recipient, "")
            for mid, (sender, recipient) in enumerate(zip(online, recipients, strict=True))],
            {"kind": "direct", "to": recipients})
        phase("direct")
        group_run = f"g{number}-{uuid.uuid4().hex[:8]}"
        spacing = len(online) // GROUP_MESSAGES  # senders spread over both generators
        group_senders = [online[(number + k * spacing) % len(online)]
                         for k in range(GROUP_MESSAGES)]
        group = self._run(group_run, worker_of, [
            (mid / GROUP_RATE, mid, sender, "", self.group_id)
            for mid, sender in enumerate(group_senders)], {"kind": "group"})
        phase("group")

        self.pool.call_all("disconnect", [{} for _ in range(self.pool.size)], timeout=120)
        leftover = self._wait_until_nobody_is_connected()
        phase("disconnect")

        # what each away user should find in history: (conversation, clientMsgID)
        owed: dict[str, list[tuple[str, str]]] = {user: [] for user in away}
        for mid, (sender, recipient) in enumerate(zip(online, recipients, strict=True)):
            if recipient in away:
                owed[recipient].append((single_conversation_id(sender, recipient),
                                        f"{direct_run}-{mid}"))
        for user in sorted(away)[:GROUP_HISTORY_READERS]:
            owed[user] += [(f"sg_{self.group_id}", f"{group_run}-{mid}")
                           for mid in range(len(group_senders))]
        missing = asyncio.run(self._read_histories(owed))
        leftover = max(leftover, self._wait_until_nobody_is_connected())
        phase("away_histories")
        heap = self.live_heap()
        pid = self.server.pid
        assert pid is not None, "the server is not running"
        return CycleResult(
            number=number, connected=sum(r["connected"] for r in connected),
            login_failures=login_failures, direct_sent=len(online),
            group_sent=len(group_senders), direct=direct, group=group,
            away_checked=len(owed), away_missing=missing, leftover_connections=leftover,
            memory=memory_status(pid), heap=heap, open_fds=open_fds([pid]),
            seconds=time.monotonic() - started, phases=phases)

    def _run(self, run_id: str, worker_of: dict[str, int],
             sends: list[tuple[float, int, str, str, str]], recipients: dict[str, Any]
             ) -> Delivery:
        """Send from each sender's own generator on schedule; every generator counts what
        its clients received (``oimws.bench.worker.Worker.cmd_run``)."""
        per_worker: list[list[tuple[float, int, str, str, str]]] = [
            [] for _ in range(self.pool.size)]
        for send in sends:
            per_worker[worker_of[send[2]]].append(send)
        start_at = time.monotonic() + 0.2
        results = self.pool.call_all("run", [
            {"run_id": run_id, "messages": len(sends), "sends": share, "start_at": start_at,
             "recipients": recipients, "drain_s": DRAIN_S, "grace_s": GRACE_S}
            for share in per_worker], timeout=DRAIN_S + 120)
        delivery = Delivery()
        for result in results:
            delivery.merge(Delivery(**{k: v for k, v in result["delivery"].items()
                                       if k != "exactly_once"}))
        return delivery

    def live_heap(self, timeout: float = 30.0) -> dict[str, int]:
        """Ask the server for its live Python heap (after a garbage collection)."""
        assert self.server.pid is not None, "the server is not running"
        self.heap_report.unlink(missing_ok=True)
        os.kill(self.server.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not self.heap_report.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server wrote no heap report in {timeout:.0f} s "
                                   "(is soak_server/ on its PYTHONPATH?)")
            time.sleep(0.02)
        report: dict[str, int] = json.loads(self.heap_report.read_text())
        return report

    def _connections(self) -> tuple[int, int]:
        with urllib.request.urlopen(self.server.api_url + "/healthz", timeout=10) as answer:
            health = json.loads(answer.read())
        return int(health["connections"]), int(health["onlineUsers"])

    def _wait_until_nobody_is_connected(self, timeout: float = 30.0) -> int:
        """The server forgets every connection and session once its clients have gone;
        answers how many it still had at the timeout (0 when all were gone)."""
        deadline = time.monotonic() + timeout
        while True:
            connections, online = self._connections()
            if connections == online == 0 or time.monotonic() > deadline:
                return max(connections, online)
            time.sleep(0.05)

    async def _read_histories(self, owed: dict[str, list[tuple[str, str]]]) -> list[str]:
        gate = asyncio.Semaphore(HISTORY_READERS)
        problems: list[str] = []

        async def read(user: str, expected: list[tuple[str, str]]) -> None:
            async with gate:
                client = await JssdkClient.connect(self.server.ws_url, user, self.tokens[user],
                                                   PLATFORM_WEB, **CLIENT_OPTIONS)
                try:
                    await client.login()
                    for conversation_id in sorted({c for c, _ in expected}):
                        # the newest messages: this cycle's are the conversation's latest
                        page = await client.call("GetAdvancedHistoryMessageList", {
                            "conversationID": conversation_id, "count": 20,
                            "startClientMsgID": "", "lastMinSeq": 0}, timeout=30)
                        stored = Counter(m["clientMsgID"] for m in page["messageList"])
                        for wanted_conversation, client_msg_id in expected:
                            if wanted_conversation == conversation_id \
                                    and stored[client_msg_id] != 1:
                                problems.append(f"{user}: {client_msg_id} in {conversation_id}"
                                                f" {stored[client_msg_id]} times")
                finally:
                    with contextlib.suppress(Exception):
                        await client.close()

        await asyncio.gather(*(read(user, expected) for user, expected in owed.items()))
        return problems
