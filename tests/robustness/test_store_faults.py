"""The store fails under load: a full disk (SQLite), an unavailable or read-only PostgreSQL.

Three senders keep one-to-one and group messages in flight against the real ``oimws serve``
while the storage is made to fail for real, then repaired, without restarting oimws:

- SQLite: the data directory is on a small tmpfs of its own that a file of zeros fills up
  (where mounting is refused, the server process gets an ``RLIMIT_FSIZE`` instead: no file
  may grow, which is what a full disk does to the WAL); the file size limit also runs as a
  case of its own, a second real failure path (SQLite's I/O error rather than "full").
- PostgreSQL (a server of this module's own): stopped with ``pg_ctl stop`` and started again;
  and made read-only (``default_transaction_read_only``, its sessions cut) then writable.

Every send must be answered, either acknowledged or with errCode 500 and the errMsg that
names the failure; every acknowledged message is in history exactly once with the seq it was
acknowledged with; no send answered with an error is stored (PostgreSQL may have stored one
whose COMMIT lost its connection, and says so in the errMsg); seqs stay dense; the node is
not ready (``/readyz`` 503) while writes fail and ready again afterwards; the connection and
other requests keep being served. Afterwards every failed send, resent with its clientMsgID as
a client does, is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import json
import os
import resource
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from oimws.client import JssdkClient
from oimws.store.errors import (
    StoreFullError,
    StoreOutcomeUnknownError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from oimws.util.ids import group_conversation_id, single_conversation_id
from tests.support.history import history
from tests.support.postgres import PostgresServer, _run_as, start_postgres
from tests.support.server import RunningServer

SENDERS = ("alice", "bob", "carol")
RECIPIENT = "dave"
GROUP = "G1"
IN_FLIGHT = 4  # sends each sender keeps pipelined
BACKOFF = 0.05  # seconds a sender waits after a failed send, as a client would
PHASE = 60  # outcomes to see in each phase (before, during, after the fault)
PHASE_TIMEOUT = 20.0
UNLIMITED_REQUESTS = {"OIMWS_REQUEST_RATE": "1000000", "OIMWS_REQUEST_BURST": "1000000"}
TMPFS_SIZE = 8 * 1024 * 1024


# -- the load ---------------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    client_msg_id: str
    conversation_id: str
    message: dict[str, Any]  # what was sent
    code: int = -1  # -1: never answered
    err_msg: str = ""
    seq: int = 0
    answered_at: float = 0.0


class Load:
    """SENDERS each keep IN_FLIGHT sends going, alternating one-to-one (to RECIPIENT) and
    group (GROUP) messages, and record every answer."""

    def __init__(self, clients: list[JssdkClient]) -> None:
        self.clients = clients
        self.outcomes: dict[str, Outcome] = {}
        self._stop = False
        self._going = asyncio.Event()
        self._in_flight = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._going.set()
        for client in self.clients:
            for lane in range(IN_FLIGHT):
                self._tasks.append(asyncio.ensure_future(self._lane(client, lane)))

    async def pause(self) -> None:
        """Once every send in flight is answered, send no more until ``resume``."""
        self._going.clear()
        while self._in_flight:
            await asyncio.sleep(0.005)

    def resume(self) -> None:
        self._going.set()

    async def stop(self) -> None:
        self._stop = True
        self._going.set()
        await asyncio.gather(*self._tasks)

    async def _lane(self, client: JssdkClient, lane: int) -> None:
        template = await client.call("CreateTextMessage", f"load from {client.user_id}")
        to_group = lane % 2 == 1
        while True:
            await self._going.wait()
            if self._stop:
                return
            client_msg_id = uuid.uuid4().hex
            message = dict(template, clientMsgID=client_msg_id)
            conversation = (group_conversation_id(GROUP) if to_group
                            else single_conversation_id(client.user_id, RECIPIENT))
            outcome = Outcome(client_msg_id, conversation, message)
            self.outcomes[client_msg_id] = outcome
            self._in_flight += 1
            try:
                frame = await send(client, message, to_group)
            finally:
                self._in_flight -= 1
            outcome.answered_at = time.monotonic()
            outcome.code, outcome.err_msg = frame["errCode"], frame["errMsg"]
            if outcome.code == 0:
                stored = json.loads(frame["data"])
                assert stored["clientMsgID"] == client_msg_id
                outcome.seq = stored["seq"]
            else:
                await asyncio.sleep(BACKOFF)
            to_group = not to_group

    def summary(self) -> str:
        messages: dict[str, int] = {}
        for outcome in self.failed():
            messages[outcome.err_msg] = messages.get(outcome.err_msg, 0) + 1
        return f"{len(self.acked())} acknowledged, failed: {messages}"

    def acked(self, since: float = 0.0) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.code == 0 and o.answered_at >= since]

    def failed(self, since: float = 0.0) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.code > 0 and o.answered_at >= since]

    async def until(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + PHASE_TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, (
                f"timed out waiting for {what}: {len(self.acked())} acknowledged, "
                f"{len(self.failed())} failed so far")
            await asyncio.sleep(0.01)


async def send(client: JssdkClient, message: dict[str, Any], to_group: bool
               ) -> dict[str, Any]:
    """SendMessage; the answer frame, whatever its errCode (a timeout fails the test)."""
    data = json.dumps([json.dumps(message), "" if to_group else RECIPIENT,
                       GROUP if to_group else "", "{}", False])
    return await client.call_raw("SendMessage", data, timeout=15)


# -- the people -------------------------------------------------------------------------------

async def logged_in(server: RunningServer, user: str) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user, server.user_token(user), 5)
    await client.login()
    return client


@contextlib.asynccontextmanager
async def people(server: RunningServer) -> AsyncIterator[tuple[list[JssdkClient],
                                                                 JssdkClient]]:
    """The senders and the recipient, logged in; GROUP has all four."""
    server.register(*SENDERS, RECIPIENT)
    senders = [await logged_in(server, user) for user in SENDERS]
    reader = await logged_in(server, RECIPIENT)
    await senders[0].call("CreateGroup", {
        "memberUserIDs": [*SENDERS[1:], RECIPIENT], "adminUserIDs": [],
        "groupInfo": {"groupID": GROUP, "groupName": "faults", "groupType": 2}})
    try:
        yield senders, reader
    finally:
        for client in (*senders, reader):
            with contextlib.suppress(Exception):
                await client.close()


async def stored_messages(reader: JssdkClient) -> dict[str, dict[str, Any]]:
    """Every message in the load's conversations, by clientMsgID; checks that each
    conversation's seqs are exactly 1..n and that no clientMsgID is stored twice."""
    conversations = [single_conversation_id(s, RECIPIENT) for s in SENDERS]
    conversations.append(group_conversation_id(GROUP))
    stored: dict[str, dict[str, Any]] = {}
    for conversation_id in conversations:
        messages = await history(reader, conversation_id)
        seqs = [m["seq"] for m in messages]
        assert seqs == list(range(1, len(seqs) + 1)), (
            f"{conversation_id}: seqs not dense: {seqs}")
        for message in messages:
            assert message["clientMsgID"] not in stored, f"stored twice: {message}"
            stored[message["clientMsgID"]] = message
    return stored


def check_history(load: Load, stored: dict[str, dict[str, Any]], *,
                  maybe_stored: Callable[[Outcome], bool] = lambda o: False) -> None:
    """Acknowledged messages are stored with their seqs; failed ones are not (unless
    ``maybe_stored`` says the failure left the outcome unknown)."""
    for outcome in load.acked():
        message = stored.get(outcome.client_msg_id)
        assert message is not None, f"an acknowledged send is not in history: {outcome}"
        assert message["seq"] == outcome.seq
    for outcome in load.failed():
        if not maybe_stored(outcome):
            assert outcome.client_msg_id not in stored, (
                f"a send answered with an error is stored: {outcome}")
    ours = set(load.outcomes)
    for client_msg_id, message in stored.items():
        if client_msg_id not in ours:  # the group's creation notice
            assert message["contentType"] >= 1500, message


async def resend_failed(load: Load) -> None:
    """Every failed send again, with its clientMsgID, as a client retries: all succeed."""
    senders = {client.user_id: client for client in load.clients}
    for outcome in load.failed():
        sender = senders[outcome.message["sendID"]]
        to_group = outcome.conversation_id.startswith("sg_")
        frame = await send(sender, outcome.message, to_group)
        assert frame["errCode"] == 0, frame
        outcome.code, outcome.err_msg = 0, ""
        outcome.seq = json.loads(frame["data"])["seq"]


def check_answers(load: Load, expected: set[str]) -> None:
    """Every send answered: acknowledged, or errCode 500 with one of the expected errMsgs."""
    unanswered = [o for o in load.outcomes.values() if o.code == -1]
    assert not unanswered, f"{len(unanswered)} sends never answered"
    wrong = {(o.code, o.err_msg) for o in load.failed()
             if o.code != 500 or o.err_msg not in expected}
    assert not wrong, f"unexpected error answers: {wrong}"


def tracebacks(server: RunningServer, known: tuple[str, ...] = ()) -> list[str]:
    """Log lines of the server's current run that carry a traceback, but for ``known``."""
    return [line for line in server.log_text().splitlines()
            if '"exc":' in line and not any(k in line for k in known)]


# Tracebacks PostgreSQL's outage brings that are not the store's: asyncpg's pool failing to
# reconnect in the background (a warning).
PG_KNOWN_TRACEBACKS = ('"logger":"asyncpg.pool"',)
# PostgreSQL's answer when the connection was lost during COMMIT: the send may be stored.
UNKNOWN = StoreOutcomeUnknownError.public_message


def readyz(server: RunningServer) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(server.api_url + "/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def healthz(server: RunningServer) -> int:
    with urllib.request.urlopen(server.api_url + "/healthz", timeout=10) as response:
        status: int = response.status
        return status


async def readyz_when_idle(server: RunningServer, load: Load) -> tuple[int, dict[str, Any]]:
    """/readyz with no send in flight, so its answer rests on its own probe write alone
    (under load the probe shares the senders' commits, failing or not)."""
    await load.pause()
    try:
        return await asyncio.to_thread(readyz, server)
    finally:
        load.resume()


async def fail_under_load(load: Load, fault: Callable[[], object]) -> None:
    """Bring the fault on while sends are in flight, and see a phase of refusals."""
    await load.until("acknowledgements", lambda: len(load.acked()) >= PHASE)
    await asyncio.to_thread(fault)
    faulted_at = time.monotonic()
    await load.until("failures", lambda: len(load.failed(faulted_at)) >= PHASE)


async def still_refusing(load: Load, during: str) -> None:
    """A few more refusals, and no acknowledgement among them."""
    recent = time.monotonic()
    await load.until("more failures", lambda: len(load.failed(recent)) >= 5)
    assert not load.acked(recent), f"acknowledged {during}"


async def recover_under_load(server: RunningServer, load: Load, repair: Callable[[], object]
                             ) -> None:
    """Take the fault away, with no restart: a phase of acknowledgements, ready again."""
    await asyncio.to_thread(repair)
    repaired_at = time.monotonic()
    await load.until("acknowledgements after the repair",
                     lambda: len(load.acked(repaired_at)) >= PHASE)
    assert await readyz_when_idle(server, load) == (
        200, {"status": "ready", "checks": {"store": "ok"}})


async def check_nothing_lost(server: RunningServer, load: Load, reader: JssdkClient,
                             answers: set[str], known_tracebacks: tuple[str, ...] = ()
                             ) -> dict[str, dict[str, Any]]:
    """After an episode: every send answered as expected, no traceback, every acknowledged
    message stored and no refused one (but those whose outcome was unknown); the refused
    ones resent are stored once. Returns what is stored."""
    print(load.summary())
    check_answers(load, answers)
    assert not tracebacks(server, known_tracebacks), tracebacks(server)
    stored = await stored_messages(reader)
    check_history(load, stored, maybe_stored=lambda o: o.err_msg == UNKNOWN)
    await resend_failed(load)
    stored = await stored_messages(reader)
    check_history(load, stored)
    assert set(load.outcomes) <= set(stored)
    return stored


# -- SQLite: a full disk ----------------------------------------------------------------------

class DiskFull:
    """The data directory alone on a tmpfs; a file of zeros takes every byte left."""

    error = StoreFullError
    sqlite_words = "full"

    def __init__(self, mount_point: Path) -> None:
        self.mount_point = mount_point
        self.data_dir = mount_point / "data"
        self.filler = mount_point / "filler"

    def attach(self, server: RunningServer) -> None:
        pass

    def break_(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1024 * 1024, 4096, 1):  # until not even one more byte fits
                chunk = bytes(size)
                try:
                    while True:
                        os.write(fd, chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)
        assert os.statvfs(self.mount_point).f_bavail == 0

    def repair(self) -> None:
        self.filler.unlink()


class FileSizeLimit:
    """RLIMIT_FSIZE on the server process at the WAL's current size: no file may grow (a
    write past it fails with EFBIG; Python ignores SIGXFSZ). SQLite reports an I/O error."""

    error = StoreUnavailableError
    sqlite_words = "disk I/O error"

    def __init__(self, root: Path) -> None:
        self.data_dir = root / "data"
        self.pid = 0

    def attach(self, server: RunningServer) -> None:
        assert server.pid is not None
        self.pid = server.pid

    def break_(self) -> None:
        wal = self.data_dir / "oimws.sqlite3-wal"
        _, hard = resource.prlimit(self.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (wal.stat().st_size, hard))

    def repair(self) -> None:
        _, hard = resource.prlimit(self.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (hard, hard))


@contextlib.contextmanager
def small_tmpfs(mount_point: Path) -> Iterator[bool]:
    """A tmpfs of TMPFS_SIZE mounted at ``mount_point``, unmounted afterwards whatever
    happens; yields False (and mounts nothing) where mounting is not permitted."""
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs",
         str(mount_point)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        permission = any(w in mounted.stderr.lower()
                         for w in ("permission denied", "operation not permitted",
                                   "must be superuser", "only root"))
        assert permission, f"mount failed: {mounted.stderr}"
        yield False
        return
    try:
        yield True
    finally:
        if subprocess.run(["umount", str(mount_point)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], check=True)  # busy: detach


@pytest.fixture(params=["disk-full", "file-size-limit"])
def storage_fault(request: pytest.FixtureRequest, tmp_path: Path
                  ) -> Iterator[DiskFull | FileSizeLimit]:
    if request.param == "file-size-limit":
        yield FileSizeLimit(tmp_path)
        return
    with small_tmpfs(tmp_path / "fs") as mounted:
        if mounted:
            yield DiskFull(tmp_path / "fs")
        else:  # no mount here: the same failure for SQLite's WAL, by another real means
            print("mounting a tmpfs is not permitted: RLIMIT_FSIZE instead")
            yield FileSizeLimit(tmp_path)


async def test_sqlite_disk_full_under_load(server_factory: Callable[..., RunningServer],
                                           storage_fault: DiskFull | FileSizeLimit,
                                           tmp_path: Path) -> None:
    fault = storage_fault
    server = server_factory(env=UNLIMITED_REQUESTS, data_dir=fault.data_dir,
                            tmp_path=tmp_path, log_level="info")
    try:
        fault.attach(server)
        stored = await _full_disk_episode(server, fault)
        # Restarting after the episode finds the database intact, the same messages, and
        # the seqs going on.
        server.stop()
        with contextlib.closing(sqlite3.connect(fault.data_dir / "oimws.sqlite3")) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        server.restart()
        async with people_again(server) as (senders, reader):
            before = await stored_messages(reader)
            assert before == stored
            result = await senders[0].send_text(RECIPIENT, "after the restart")
            after = await stored_messages(reader)
            assert set(after) == set(before) | {result["clientMsgID"]}
            single = [m for m in before.values()
                      if m["sendID"] == SENDERS[0] and m["groupID"] == ""]
            assert result["seq"] == len(single) + 1
    finally:
        server.stop()  # before the tmpfs goes


async def _full_disk_episode(server: RunningServer, fault: DiskFull | FileSizeLimit
                             ) -> dict[str, dict[str, Any]]:
    """The load, the fault, the repair; returns what is stored in the end."""
    async with people(server) as (senders, reader):
        load = Load(senders)
        load.start()
        try:
            await fail_under_load(load, fault.break_)
            # The connection and the server stay up: reads, the profile, the probes.
            me = await senders[0].call("GetSelfUserInfo")
            assert me["userID"] == SENDERS[0]
            assert len(await history(reader, group_conversation_id(GROUP))) > 0
            assert healthz(server) == 200
            status, body = await readyz_when_idle(server, load)
            assert status == 503 and fault.sqlite_words in body["checks"]["store"], body
            await still_refusing(load, "while the disk is full")
            await recover_under_load(server, load, fault.repair)  # space returns
        finally:
            await load.stop()
        assert server.is_running()
        stored = await check_nothing_lost(server, load, reader, {fault.error.public_message})
        return stored


@contextlib.asynccontextmanager
async def people_again(server: RunningServer) -> AsyncIterator[tuple[list[JssdkClient],
                                                                       JssdkClient]]:
    senders = [await logged_in(server, user) for user in SENDERS]
    reader = await logged_in(server, RECIPIENT)
    try:
        yield senders, reader
    finally:
        for client in (*senders, reader):
            with contextlib.suppress(Exception):
                await client.close()


# -- PostgreSQL: stopped, read-only -----------------------------------------------------------

@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server these tests may stop and start (the session's is shared)."""
    server = start_postgres()
    try:
        yield server
    finally:
        _start(server)  # stop() expects it running
        server.stop()


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    _run_as(server.run_as, [str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir),
                            *args], timeout=60)


def _start(server: PostgresServer) -> None:
    if not (server.data_dir / "postmaster.pid").exists():
        _pg_ctl(server, "-l", str(server.log_file), "-o", f"-p {server.port}", "-w", "start")


@pytest.fixture
def pg_oimws(own_postgres: PostgresServer, server_factory: Callable[..., RunningServer]
             ) -> Iterator[tuple[RunningServer, PostgresServer, str]]:
    _start(own_postgres)
    database = own_postgres.create_database()
    server = server_factory(["--postgres-dsn", own_postgres.dsn(database)],
                            env=UNLIMITED_REQUESTS, log_level="info")
    try:
        yield server, own_postgres, database
    finally:
        server.stop()
        _start(own_postgres)
        own_postgres.drop_database(database)


async def test_postgres_stopped_and_started_under_load(
        pg_oimws: tuple[RunningServer, PostgresServer, str]) -> None:
    server, postgres, _ = pg_oimws
    async with people(server) as (senders, reader):
        load = Load(senders)
        load.start()
        try:
            await fail_under_load(load, lambda: _pg_ctl(postgres, "-m", "fast", "-w", "stop"))
            await still_refusing(load, "while PostgreSQL is down")
            # Still answered: the profile is in the database, so it fails, clearly.
            frame = await senders[0].call_raw("GetSelfUserInfo", "[]")
            assert (frame["errCode"], frame["errMsg"]) == (
                500, StoreUnavailableError.public_message), frame
            assert healthz(server) == 200
            status, body = await readyz_when_idle(server, load)
            assert status == 503 and "store write failed" in body["checks"]["store"], body
            await recover_under_load(server, load, lambda: _start(postgres))  # no restart
        finally:
            await load.stop()
        await check_nothing_lost(server, load, reader,
                                 {StoreUnavailableError.public_message, UNKNOWN},
                                 PG_KNOWN_TRACEBACKS)


async def test_postgres_read_only_then_writable_under_load(
        pg_oimws: tuple[RunningServer, PostgresServer, str]) -> None:
    server, postgres, database = pg_oimws
    async with people(server) as (senders, reader):
        load = Load(senders)
        load.start()
        try:
            # What a failover to a standby looks like: every new session is read-only, and
            # the sessions open at the time are cut.
            await fail_under_load(load, lambda: postgres.psql(
                f"ALTER DATABASE {database} SET default_transaction_read_only = on;"
                " SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"))
            await still_refusing(load, "while the database is read-only")
            me = await senders[0].call("GetSelfUserInfo")  # reads are served
            assert me["userID"] == SENDERS[0]
            status, body = await readyz_when_idle(server, load)
            assert status == 503 and "only reads" in body["checks"]["store"], body
            # Writable again; the sessions opened meanwhile are left as they are.
            await recover_under_load(server, load, lambda: postgres.psql(
                f"ALTER DATABASE {database} RESET default_transaction_read_only"))
        finally:
            await load.stop()
        await check_nothing_lost(server, load, reader,
                                 {StoreReadOnlyError.public_message,
                                  StoreUnavailableError.public_message, UNKNOWN},
                                 PG_KNOWN_TRACEBACKS)
