"""The cluster store's engine: PostgreSQL through an asyncpg connection pool.

Every node of a cluster opens its own pool on the same database. Each write is one
transaction on a pooled connection and its caller is answered after COMMIT; PostgreSQL's row
locks, not this process, keep concurrent writers from several nodes apart. Writes about the
same thing (an ``order_key``: a conversation, a group, a user) that this node issues are run
one after the other in the order they were issued, as the embedded store's single writer
does, so a client's quick succession of sends keeps its order. Reads run on any pooled
connection and see committed data only.

When the database fails (it cannot be reached, shuts down, is full or accepts only reads)
the write fails with the kind of ``StoreUnavailableError`` that says why; its transaction was
rolled back, so nothing of it is stored. The one exception is a connection lost while
PostgreSQL committed: then nobody here can know whether it did, and the caller is told so
(``StoreOutcomeUnknownError``); once committed, a write has succeeded whatever befalls its
connection afterwards. A statement that finds its pooled connection cut by the server (a
restart, a failover) or, for a write, its session read-only, has the pool's connections
replaced and runs once more: a session keeps the read-only default it started with, so a
database made writable again would otherwise stay read-only through the old connections.
Writes succeed again as soon as the database does, without reopening the store.

Each domain module is a mixin over ``PostgresEngine`` that declares its ``SCHEMA`` =
(domain, migrations), versioned on its own in ``schema_versions`` as in the embedded store.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar

import asyncpg
import orjson

from oimws.store.errors import (
    StoreError,
    StoreFullError,
    StoreOutcomeUnknownError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from oimws.store.schema import Schema, declared_schemas, steps_to_run
from oimws.util.clock import now_ms

log = logging.getLogger("oimws.store")

T = TypeVar("T")
WriteOp = Callable[[asyncpg.Connection], Awaitable[T]]
OrderKey = tuple[str, ...]

# What asyncpg raises when the database cannot do what was asked: each becomes a StoreError.
DATABASE_FAILURES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError,
    asyncio.TimeoutError)
# Of those, the ones that are the database's or the network's fault, not the request's: the
# connection is refused or lost, the server shuts down or cancelled the statement, it lacks
# resources (disk, connections) or had an I/O error. The same request may succeed later.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError, asyncio.TimeoutError, asyncpg.InterfaceError, asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError, asyncpg.InsufficientResourcesError,
    asyncpg.PostgresSystemError)
# Conflicts between concurrent transactions that PostgreSQL resolves by aborting one of them;
# running that one again is safe (it was rolled back) and then succeeds.
TRANSIENT_CONFLICTS = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
WRITE_ATTEMPTS = 5
# A pooled connection the server cut while it was idle (a restart, pg_terminate_backend) fails
# the next statement on it with one of these, before the pool has noticed. The statement had
# no effect, so it is run once more, on a new connection.
BROKEN_CONNECTION: tuple[type[BaseException], ...] = (
    asyncpg.InternalClientError, asyncpg.InterfaceError, asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError, ConnectionResetError, BrokenPipeError)
# Held while migrating, so that nodes starting together migrate one after the other.
MIGRATION_LOCK_ID = 0x6F696D7773  # "oimws"


class RetryWrite(Exception):
    """Raised by a write op that met a concurrent commit it cannot build on: the engine
    rolls its transaction back and runs the op again from the start."""


class Params:
    """Numbered placeholders for a query assembled piece by piece: ``p(value)`` keeps the
    value and returns its ``$n``."""

    def __init__(self, *values: Any) -> None:
        self.values = list(values)

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def store_error(exc: BaseException, doing: str) -> StoreError:
    """The ``StoreError`` that says what a failure of the database means for the caller."""
    message = f"{doing} failed: {type(exc).__name__}: {exc}"
    if isinstance(exc, asyncpg.DiskFullError):
        return StoreFullError(message)
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return StoreReadOnlyError(f"{doing} failed: the database accepts only reads: "
                                  f"{type(exc).__name__}: {exc}")
    if isinstance(exc, UNAVAILABLE):
        return StoreUnavailableError(message)
    return StoreError(message)


@contextlib.contextmanager
def database_errors(doing: str) -> Iterator[None]:
    """Turn the driver's and the network's failures into ``StoreError``."""
    try:
        yield
    except StoreError:
        raise
    except DATABASE_FAILURES as exc:
        raise store_error(exc, doing) from exc


def redacted(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    parts = urllib.parse.urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


async def migrate(conn: asyncpg.Connection, schemas: list[Schema]) -> None:
    """Bring every domain's tables to its newest version, one transaction per step."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        # Created only when missing: a database that is up to date opens even where it
        # accepts only reads (then check_writable tells that writes fail).
        if await conn.fetchval("SELECT to_regclass('schema_versions')") is None:
            await conn.execute("CREATE TABLE schema_versions ("
                               " domain TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        for domain, migrations in schemas:
            version = await conn.fetchval(
                "SELECT version FROM schema_versions WHERE domain = $1", domain)
            for number in steps_to_run(domain, version or 0, migrations):
                async with conn.transaction():
                    await conn.execute(migrations[number])
                    await conn.execute(
                        "INSERT INTO schema_versions (domain, version) VALUES ($1, $2)"
                        " ON CONFLICT (domain) DO UPDATE SET version = EXCLUDED.version",
                        domain, number + 1)
                log.info("store schema %s migrated to version %d", domain, number + 1)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)


# rows in ------------------------------------------------------------------------------------

def _rows_json(records: Sequence[Any]) -> str:
    return orjson.dumps([dataclasses.asdict(record) for record in records]).decode()


async def insert_new(conn: asyncpg.Connection, table: str, columns: Sequence[str],
                     key: Sequence[str], records: Sequence[Any]) -> list[bool]:
    """Insert the records (dataclasses whose fields are named like the columns) whose key is
    free, in one statement; returns which ones were inserted (of two with one key, the
    first), in order."""
    if not records:
        return []
    names = ", ".join(columns)
    rows = await conn.fetch(
        f"INSERT INTO {table} ({names}) SELECT {names}"
        f" FROM jsonb_populate_recordset(NULL::{table}, $1::jsonb)"
        f" ON CONFLICT ({', '.join(key)}) DO NOTHING RETURNING {', '.join(key)}",
        _rows_json(records))
    inserted = {tuple(row) for row in rows}
    outcome = []
    for record in records:
        record_key = tuple(getattr(record, name) for name in key)
        outcome.append(record_key in inserted)
        inserted.discard(record_key)
    return outcome


async def upsert(conn: asyncpg.Connection, table: str, columns: Sequence[str],
                 key: Sequence[str], record: Any) -> None:
    """Insert the record, or overwrite every other column of the row with its key."""
    names = ", ".join(columns)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns if name not in key)
    await conn.execute(
        f"INSERT INTO {table} ({names}) SELECT {names}"
        f" FROM jsonb_populate_recordset(NULL::{table}, $1::jsonb)"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}", _rows_json([record]))


def assignments(changes: dict[str, Any], p: Params) -> str:
    """``SET`` clauses for checked changes (their names are known column names)."""
    return ", ".join(f"{name} = {p(value)}" for name, value in changes.items())


class PostgresEngine:
    # The engine's own table: the row ``check_writable`` writes.
    SCHEMA: ClassVar[Schema | None] = ("engine", (
        "CREATE TABLE write_probe (id INTEGER PRIMARY KEY, written_at BIGINT NOT NULL)",
    ))

    def __init__(self, dsn: str, *, min_connections: int = 1, max_connections: int = 10,
                 command_timeout: float = 30.0) -> None:
        self._dsn = dsn
        self._pool_options = {"min_size": min_connections, "max_size": max_connections,
                              "command_timeout": command_timeout}
        self._pool: asyncpg.Pool | None = None
        self._closed = True
        self._writes: set[asyncio.Task[Any]] = set()  # issued and not finished yet
        self._last_write: dict[OrderKey, asyncio.Task[Any]] = {}  # per order key

    # lifecycle
    async def open(self) -> None:
        pool = None
        try:
            with database_errors(f"opening the store at {redacted(self._dsn)}"):
                pool = await asyncpg.create_pool(self._dsn, **self._pool_options)
                async with pool.acquire() as conn:
                    await migrate(conn, declared_schemas(type(self)))
        except BaseException:
            if pool is not None:
                pool.terminate()
            raise
        self._pool = pool
        self._closed = False
        log.info("store opened at %s (PostgreSQL)", redacted(self._dsn))

    async def close(self) -> None:
        """Finish the writes already issued, then release every connection."""
        if self._closed:
            return
        self._closed = True
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
        log.info("store closed")

    async def check_writable(self) -> None:
        """A real write (one row of ``write_probe``) like any other: an unreachable, full or
        read-only (a standby?) database shows."""
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO write_probe (id, written_at) VALUES (1, $1)"
                " ON CONFLICT (id) DO UPDATE SET written_at = EXCLUDED.written_at", now_ms())

        await self._write(op)

    # writes
    def _write(self, op: WriteOp[T], order_key: OrderKey | None = None) -> asyncio.Future[T]:
        """Run ``op`` in a transaction of its own; resolves after COMMIT.

        The write runs as a task of the engine: a caller that gives up waiting does not cut a
        transaction short, and ``close`` waits for it."""
        if self._closed:
            raise StoreError("store is closed")
        previous = self._last_write.get(order_key) if order_key is not None else None
        task = asyncio.get_running_loop().create_task(self._run_write(op, previous))
        self._writes.add(task)
        task.add_done_callback(self._write_finished)
        if order_key is not None:
            self._last_write[order_key] = task
            task.add_done_callback(lambda done: self._forget_last_write(order_key, done))
        return asyncio.shield(task)

    async def _run_write(self, op: WriteOp[T], previous: asyncio.Task[Any] | None) -> T:
        if previous is not None:
            await asyncio.wait((previous,))  # its outcome is its caller's business
        pool = self._pool
        assert pool is not None  # close() waits for every write issued before it
        conflicts = read_only_sessions = broken_connections = 0
        while True:
            with database_errors("store write"):
                try:
                    return await self._attempt_write(pool, op)
                except (RetryWrite, *TRANSIENT_CONFLICTS) as exc:
                    conflicts += 1
                    if conflicts == WRITE_ATTEMPTS:
                        raise StoreError(f"store write kept conflicting: {exc}") from exc
                    log.debug("store write conflicted (%s); running it again", exc)
                except asyncpg.ReadOnlySQLTransactionError:
                    # The pool's connections are being replaced: once more on a new
                    # session, which sees whether the database accepts writes now.
                    read_only_sessions += 1
                    if read_only_sessions == 2:
                        raise
                    log.info("store write met a read-only session; running it again on a "
                             "new connection")
                except BROKEN_CONNECTION as exc:
                    # Rolled back with its connection (it never reached COMMIT): once more,
                    # on a connection the pool opens if the database is there.
                    broken_connections += 1
                    if broken_connections == 2:
                        raise
                    log.info("store write lost its connection (%s: %s); running it again",
                             type(exc).__name__, exc)

    @staticmethod
    async def _attempt_write(pool: asyncpg.Pool, op: WriteOp[T]) -> T:
        """One transaction running ``op``. Whatever fails before COMMIT is sent is rolled
        back; a connection lost during COMMIT raises ``StoreOutcomeUnknownError``; once
        committed, the write has succeeded, whatever happens to its connection after."""
        conn = await pool.acquire()
        try:
            transaction = conn.transaction()
            try:
                await transaction.start()
                result = await op(conn)
            except BaseException as exc:
                if isinstance(exc, BROKEN_CONNECTION):
                    await _replace_connections(pool, conn)
                elif not _is_closed(conn):
                    with contextlib.suppress(*DATABASE_FAILURES):
                        await transaction.rollback()
                if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
                    # Sessions keep the read-only default they started with: every pooled
                    # connection is replaced, so the next write sees the database as it is.
                    await pool.expire_connections()
                raise
            if _is_closed(conn):  # lost before COMMIT: the server rolled it back
                raise asyncpg.ConnectionDoesNotExistError(
                    "the connection was closed before the transaction committed")
            try:
                await transaction.commit()
            except UNAVAILABLE as exc:
                raise StoreOutcomeUnknownError(
                    f"store write failed while committing: {type(exc).__name__}: {exc}; "
                    "whether it was stored is unknown") from exc
            return result
        finally:
            await _release(pool, conn)

    def _write_finished(self, task: asyncio.Task[Any]) -> None:
        self._writes.discard(task)
        if not task.cancelled():
            task.exception()  # seen here if its caller stopped waiting

    def _forget_last_write(self, order_key: OrderKey, task: asyncio.Task[Any]) -> None:
        if self._last_write.get(order_key) is task:
            del self._last_write[order_key]

    # reads
    async def _read(self, op: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run ``op`` on a pooled connection (no transaction: each statement sees what was
        committed when it started)."""
        pool = self._pool
        if pool is None:
            raise StoreError("store is closed")
        with database_errors("store read"):
            for attempt in (1, 2):
                conn = await pool.acquire()
                try:
                    return await op(conn)
                except BROKEN_CONNECTION as exc:
                    await _replace_connections(pool, conn)
                    if attempt == 2:
                        raise
                    log.info("store read lost its connection (%s: %s); reading again",
                             type(exc).__name__, exc)
                finally:
                    await _release(pool, conn)
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._read(lambda conn: conn.fetch(sql, *args))
        return rows

    async def _fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._read(lambda conn: conn.fetchrow(sql, *args))
        return row


def _is_closed(conn: asyncpg.Connection) -> bool:
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:  # closed, and handed back to the pool by asyncpg already
        return True


async def _replace_connections(pool: asyncpg.Pool, broken: asyncpg.Connection) -> None:
    """After a connection turned out cut by the server: the others most likely were too (a
    restart, a failover), so every pooled connection is replaced when next acquired, and
    the broken one is dropped at once (closing it politely could wait on a dead peer)."""
    with contextlib.suppress(asyncpg.InterfaceError):  # already handed back: closed
        broken.terminate()
    await pool.expire_connections()


async def _release(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    """Hand a connection back. A connection the server cut meanwhile fails to reset; the
    pool then closes it and opens another when needed. That is no failure of the request,
    which succeeded or failed before (a write that committed is stored)."""
    try:
        await pool.release(conn)
    except DATABASE_FAILURES as exc:
        log.info("a store connection failed when handed back (%s: %s); the pool replaces it",
                 type(exc).__name__, exc)
