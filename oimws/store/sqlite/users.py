"""Users in the embedded store."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import ClassVar

from oimws.store.sqlite.engine import Schema, SqliteEngine
from oimws.store.users import UserRecord, UserStore
from oimws.util.clock import now_ms

_USER_COLUMNS = "user_id, nickname, face_url, ex, create_time, global_recv_msg_opt"


class SqliteUsers(SqliteEngine, UserStore):
    SCHEMA: ClassVar[Schema | None] = ("users", (
        """
        CREATE TABLE users (
            user_id TEXT PRIMARY KEY,
            nickname TEXT NOT NULL DEFAULT '',
            face_url TEXT NOT NULL DEFAULT '',
            ex TEXT NOT NULL DEFAULT '',
            create_time INTEGER NOT NULL,
            global_recv_msg_opt INTEGER NOT NULL DEFAULT 0
        )
        """,
    ))

    async def register_users(self, users: Sequence[UserRecord]) -> list[str]:
        rows = [(u.user_id, u.nickname, u.face_url, u.ex, u.create_time or now_ms(),
                 u.global_recv_msg_opt) for u in users]

        def op(conn: sqlite3.Connection) -> list[str]:
            existing = []
            for row in rows:
                cursor = conn.execute(
                    f"INSERT OR IGNORE INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    row)
                if cursor.rowcount == 0:
                    existing.append(row[0])
            return existing

        result: list[str] = await self._write(op)
        return result

    async def get_users(self, user_ids: Sequence[str]) -> dict[str, UserRecord]:
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        rows = self._read().execute(
            f"SELECT {_USER_COLUMNS} FROM users WHERE user_id IN ({marks})",
            list(user_ids)).fetchall()
        return {row[0]: UserRecord(*row) for row in rows}
