"""Users in the embedded store."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from oimws.store.rows import USER_FIELDS, USER_UPDATABLE, checked_changes
from oimws.store.schema import Schema
from oimws.store.sqlite.engine import SqliteEngine
from oimws.store.users import UserRecord, UserStore
from oimws.util.clock import now_ms

_USER_COLUMNS = ", ".join(USER_FIELDS)


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
        # 2: forced logouts (tokens of a user and platform issued before a time)
        """
        CREATE TABLE token_revocations (
            user_id TEXT NOT NULL,
            platform_id INTEGER NOT NULL,
            revoked_before INTEGER NOT NULL,
            PRIMARY KEY (user_id, platform_id)
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

    async def update_user(self, user_id: str, changes: Mapping[str, Any]) -> UserRecord | None:
        changes = checked_changes(UserRecord, changes, USER_UPDATABLE, "user")
        assignments = ", ".join(f"{name} = ?" for name in changes)
        values = [*changes.values(), user_id]

        def op(conn: sqlite3.Connection) -> UserRecord | None:
            if assignments:
                conn.execute(f"UPDATE users SET {assignments} WHERE user_id = ?", values)
            row = conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = ?",
                               (user_id,)).fetchone()
            return UserRecord(*row) if row else None

        result: UserRecord | None = await self._write(op)
        return result

    async def find_users(
        self, offset: int, count: int, user_id: str = "", nickname: str = ""
    ) -> tuple[int, list[UserRecord]]:
        where, params = [], []
        for column, wanted in (("user_id", user_id), ("nickname", nickname)):
            if wanted:
                where.append(f"instr(lower({column}), lower(?)) > 0")
                params.append(wanted)
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        reader = self._read()
        total = reader.execute(f"SELECT count(*) FROM users {condition}", params).fetchone()[0]
        rows = reader.execute(
            f"SELECT {_USER_COLUMNS} FROM users {condition} ORDER BY create_time, user_id "
            "LIMIT ? OFFSET ?", [*params, count, offset]).fetchall()
        return total, [UserRecord(*row) for row in rows]

    async def revoke_tokens(self, user_id: str, platform_id: int, before_ms: int) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO token_revocations (user_id, platform_id, revoked_before)"
                " VALUES (?, ?, ?) ON CONFLICT (user_id, platform_id) DO UPDATE SET"
                " revoked_before = max(revoked_before, excluded.revoked_before)",
                (user_id, platform_id, before_ms))

        await self._write(op)

    async def get_token_revocations(self) -> dict[tuple[str, int], int]:
        rows = self._read().execute(
            "SELECT user_id, platform_id, revoked_before FROM token_revocations").fetchall()
        return {(user_id, platform_id): before for user_id, platform_id, before in rows}
