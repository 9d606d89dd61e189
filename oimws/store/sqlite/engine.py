"""The embedded store's engine: SQLite in WAL mode with group commit.

One writer thread owns the write connection. Writes requested during one event-loop tick are
handed over together and committed in ONE transaction (one fsync), each inside its own
savepoint so a failing write does not take its neighbours down. Callers are answered only
after that commit. Reads use a second connection on the loop thread; WAL lets them proceed
while the writer commits, and they see only committed data.

When the transaction itself fails (disk full, I/O error, the file locked by another process)
it is rolled back and every write of the batch fails with the kind of ``StoreUnavailableError``
that says why: nothing of the batch is stored, so nothing is acknowledged. The writer thread
outlives any failure and the next batch starts from a clean connection, so writes succeed
again as soon as the cause is gone (space freed), without reopening the store. Seqs are read
from the database inside each write, so a rolled-back append gives its seq back.

Each domain module (users, messages, ...) is a mixin over ``SqliteEngine`` that declares its
own ``SCHEMA`` = (domain, migrations); every domain's schema is versioned on its own.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from oimws.store.errors import (
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from oimws.store.schema import Schema, declared_schemas, steps_to_run
from oimws.util.clock import now_ms

log = logging.getLogger("oimws.store")

WriteOp = Callable[[sqlite3.Connection], Any]
# Told on the loop how a write settled, ``(ok, result or error)``, before its caller is, and
# even when the caller stopped waiting: what keeps in-memory state in step with the database.
SettleReport = Callable[[bool, Any], None]


class _Batch:
    __slots__ = ("futures", "ops", "reports")

    def __init__(self) -> None:
        self.ops: list[WriteOp] = []
        self.futures: list[asyncio.Future[Any]] = []
        self.reports: list[SettleReport | None] = []


_CLOSE = object()

# SQLite's primary result codes (the low byte of an extended code) that mean the storage, not
# the request, failed: the same write may succeed later.
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_NOMEM, _SQLITE_READONLY = 5, 6, 7, 8
_SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_PROTOCOL = 10, 13, 14, 15
_UNAVAILABLE = {_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_NOMEM, _SQLITE_IOERR, _SQLITE_CANTOPEN,
                _SQLITE_PROTOCOL}


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def store_error(exc: sqlite3.Error, doing: str) -> StoreError:
    """The ``StoreError`` that says what an error of SQLite means for the caller."""
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    message = f"{doing}: {exc} ({name})"
    primary = _primary_code(exc)
    if primary == _SQLITE_FULL:
        return StoreFullError(message)
    if primary == _SQLITE_READONLY:
        return StoreReadOnlyError(message)
    if primary in _UNAVAILABLE:
        return StoreUnavailableError(message)
    return StoreError(message)


_LOCK_WAIT_SECONDS = 30.0


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=_LOCK_WAIT_SECONDS)
    _enter_wal(conn)
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _enter_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, waiting out other processes opening the same new file (``--workers``):
    the switch answers SQLITE_BUSY at once, without SQLite's busy wait, while another
    connection makes or converts the file."""
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if _primary_code(exc) != _SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def migrate(conn: sqlite3.Connection, schemas: list[Schema]) -> None:
    """Bring every domain's tables to its newest version, one transaction per domain.

    The version is read inside the write lock, so processes opening one database file at
    the same moment (``--workers``) migrate it once between them.
    """
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions ("
                 " domain TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    for domain, migrations in schemas:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT version FROM schema_versions WHERE domain = ?",
                               (domain,)).fetchone()
            version = row[0] if row else 0
            for number in steps_to_run(domain, version, migrations):
                for statement in migrations[number].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                log.info("store schema %s migrated to version %d", domain, number + 1)
            if version < len(migrations):
                conn.execute("INSERT INTO schema_versions (domain, version) VALUES (?, ?)"
                             " ON CONFLICT (domain) DO UPDATE SET version = excluded.version",
                             (domain, len(migrations)))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


class SqliteEngine:
    # The engine's own table: the row ``check_writable`` writes.
    SCHEMA: ClassVar[Schema | None] = ("engine", (
        "CREATE TABLE write_probe (id INTEGER PRIMARY KEY, written_at INTEGER NOT NULL)",
    ))

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self._path = path
        self._synchronous = synchronous.upper()
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: _Batch | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = True
        self.commit_count = 0  # transactions committed by the writer: one per batch
        # Called on the writer thread with each batch's commit time in seconds (metrics).
        self.commit_observer: Callable[[float], None] | None = None

    # lifecycle
    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._loop = asyncio.get_running_loop()
        try:
            self._writer = _connect(self._path, self._synchronous)
            migrate(self._writer, declared_schemas(type(self)))
            self._reader = _connect(self._path, self._synchronous)
        except sqlite3.Error as exc:
            raise store_error(exc, f"cannot open the store at {self._path}") from exc
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="oimws-sqlite-writer",
                                        daemon=True)
        self._thread.start()
        log.info("store opened at %s (WAL, synchronous=%s)", self._path, self._synchronous)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._flush()
        self._queue.put(_CLOSE)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None
        log.info("store closed")

    # group commit
    def _write(self, op: WriteOp, report: SettleReport | None = None) -> asyncio.Future[Any]:
        if self._closed or self._loop is None:
            raise StoreError("store is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        if self._pending is None:
            self._pending = _Batch()
            self._loop.call_soon(self._flush)
        self._pending.ops.append(op)
        self._pending.futures.append(future)
        self._pending.reports.append(report)
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, None
        if batch is not None:
            self._queue.put(batch)

    def _write_loop(self) -> None:
        conn = self._writer
        assert conn is not None and self._loop is not None
        loop = self._loop
        while True:
            item = self._queue.get()
            if item is _CLOSE:
                return
            batch: _Batch = item
            started = time.perf_counter()
            try:
                committed, outcomes = self._run_batch(conn, batch.ops)
            except Exception as exc:  # never let the writer die: every caller is answered
                log.exception("store writer failed on a batch of %d writes", len(batch.ops))
                committed = False
                outcomes = _all_failed(StoreError(f"store write failed: {exc!r}"), batch.ops)
            if committed:
                self.commit_count += 1
            if self.commit_observer is not None:
                try:
                    self.commit_observer(time.perf_counter() - started)
                except Exception:
                    log.exception("store commit observer failed")
            try:
                loop.call_soon_threadsafe(_settle, batch, outcomes)
            except RuntimeError:  # the loop is closed: no one is waiting any more
                return

    @staticmethod
    def _run_batch(conn: sqlite3.Connection, ops: list[WriteOp]
                   ) -> tuple[bool, list[tuple[bool, Any]]]:
        """Run the ops in one transaction, each in a savepoint. Returns whether it committed
        and ``(ok, result or error)`` per op (all failed when it did not commit)."""
        outcomes: list[tuple[bool, Any]] = []
        try:
            if conn.in_transaction:  # an earlier failure's rollback did not go through
                conn.execute("ROLLBACK")
            conn.execute("BEGIN IMMEDIATE")
            for op in ops:
                conn.execute("SAVEPOINT op")
                try:
                    outcomes.append((True, op(conn)))
                    conn.execute("RELEASE op")
                except Exception as exc:
                    if isinstance(exc, sqlite3.Error) and not conn.in_transaction:
                        raise  # SQLite rolled the whole transaction back (disk full, I/O)
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    outcomes.append((False, exc))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            failure = store_error(exc, "store commit failed")
            log.error("%s; the %d writes of the batch are rolled back", failure, len(ops))
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error as again:  # retried before the next batch
                    log.error("store rollback failed: %s", again)
            return False, _all_failed(failure, ops)
        return True, outcomes

    def _read(self) -> sqlite3.Connection:
        if self._reader is None:
            raise StoreError("store is closed")
        return self._reader

    async def check_writable(self) -> None:
        """A real write (one row of ``write_probe``) through the writer like any other, so
        that a full disk, an I/O error or a stuck writer shows."""
        written_at = now_ms()
        await self._write(lambda conn: conn.execute(
            "INSERT INTO write_probe (id, written_at) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at", (written_at,)))


def _all_failed(failure: StoreError, ops: list[WriteOp]) -> list[tuple[bool, Any]]:
    """The same failure for every write of a batch, one exception object per caller."""
    return [(False, type(failure)(*failure.args)) for _ in ops]


def _settle(batch: _Batch, outcomes: list[tuple[bool, Any]]) -> None:
    for future, report, (ok, value) in zip(batch.futures, batch.reports, outcomes, strict=True):
        if report is not None:
            try:
                report(ok, value)
            except Exception:
                log.exception("store write report failed")
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        elif isinstance(value, sqlite3.Error):
            future.set_exception(store_error(value, "store write failed"))
        else:
            future.set_exception(value)
