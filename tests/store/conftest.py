"""The store contract: each test here runs on every backend (the ``store`` fixture is
parametrized), against a real database: a SQLite file, and a throwaway PostgreSQL server
(``tests.support.postgres``) whose database is emptied before each test."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from oimws.store import Store
from oimws.store.postgres import PostgresStore
from oimws.store.sqlite import SqliteStore
from tests.store.helpers import RunSql, StoreFactory

BACKENDS = ("sqlite", "postgres")



@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """This test's database: a SQLite file's path, or a PostgreSQL DSN."""
    if backend == "sqlite":
        return str(tmp_path / "db.sqlite3")
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


@pytest.fixture
def new_store(backend: str, database: str) -> StoreFactory:
    """Makes (unopened) stores on this test's one database: to reopen it, or to stand for
    another node sharing it."""
    if backend == "sqlite":
        return lambda: SqliteStore(Path(database))
    return lambda: PostgresStore(database)


@pytest.fixture
def run_sql(backend: str, database: str) -> RunSql:
    """Runs SQL on the test's database behind the store's back."""
    async def run(sql: str) -> None:
        if backend == "sqlite":
            with contextlib.closing(sqlite3.connect(database)) as conn, conn:
                conn.executescript(sql)
            return
        conn = await asyncpg.connect(database)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    return run


@pytest.fixture
async def store(new_store: StoreFactory) -> AsyncIterator[Store]:
    opened = new_store()
    await opened.open()
    yield opened
    await opened.close()
