"""The cluster store's engine: PostgreSQL through an asyncpg connection pool.

Every node of a cluster opens its own pool on the same database. Each write is one
transaction on a pooled connection and its caller is answered after COMMIT; PostgreSQL's row
locks, not this process, keep concurrent writers from several nodes apart. Writes about the
same thing (an ``order_key``: a conversation, a group, a user) that this node issues are run
one after the other in the order they were issued, as the embedded store's single writer
does, so a client's quick succession of sends keeps its order. Reads run on any pooled
connection and see committed data only.

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

from oimws.store.errors import StoreError
from oimws.store.schema import Schema, declared_schemas, steps_to_run

log = logging.getLogger("oimws.store")

T = TypeVar("T")
WriteOp = Callable[[asyncpg.Connection], Awaitable[T]]
OrderKey = tuple[str, ...]

# What asyncpg raises when the database cannot do what was asked: each becomes a StoreError.
DATABASE_FAILURES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError, asyncpg.InterfaceError, OSError, asyncio.TimeoutError)
# Conflicts between concurrent transactions that PostgreSQL resolves by aborting one of them;
# running that one again is safe (it was rolled back) and then succeeds.
TRANSIENT_CONFLICTS = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
WRITE_ATTEMPTS = 5
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


@contextlib.contextmanager
def database_errors(doing: str) -> Iterator[None]:
    """Turn the driver's and the network's failures into ``StoreError``."""
    try:
        yield
    except StoreError:
        raise
    except DATABASE_FAILURES as exc:
        raise StoreError(f"{doing} failed: {type(exc).__name__}: {exc}") from exc


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
    SCHEMA: ClassVar[Schema | None] = None

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
        async def op(conn: asyncpg.Connection) -> None:
            if await conn.fetchval("SELECT current_setting('transaction_read_only')") == "on":
                raise StoreError("the database accepts only reads (a standby?)")

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
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            with database_errors("store write"):
                try:
                    async with pool.acquire() as conn, conn.transaction():
                        return await op(conn)
                except (RetryWrite, *TRANSIENT_CONFLICTS) as exc:
                    if attempt == WRITE_ATTEMPTS:
                        raise StoreError(f"store write kept conflicting: {exc}") from exc
                    log.debug("store write conflicted (%s); running it again", exc)
        raise AssertionError("unreachable: the last attempt returns or raises")

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
            async with pool.acquire() as conn:
                return await op(conn)

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._read(lambda conn: conn.fetch(sql, *args))
        return rows

    async def _fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._read(lambda conn: conn.fetchrow(sql, *args))
        return row
