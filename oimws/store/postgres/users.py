"""Users in the cluster store."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import asyncpg

from oimws.store.postgres.engine import Params, PostgresEngine, assignments, insert_new
from oimws.store.rows import USER_FIELDS, USER_UPDATABLE, checked_changes
from oimws.store.schema import Schema
from oimws.store.users import UserRecord, UserStore
from oimws.util.clock import now_ms

_USER_SELECT = f"SELECT {', '.join(USER_FIELDS)} FROM users"


class PostgresUsers(PostgresEngine, UserStore):
    # Identifiers compare byte by byte (COLLATE "C"), as in the embedded store, whatever the
    # database's locale; integers are BIGINT, as wide as SQLite's.
    SCHEMA: ClassVar[Schema | None] = ("users", (
        """
        CREATE TABLE users (
            user_id TEXT COLLATE "C" PRIMARY KEY,
            nickname TEXT NOT NULL DEFAULT '',
            face_url TEXT NOT NULL DEFAULT '',
            ex TEXT NOT NULL DEFAULT '',
            create_time BIGINT NOT NULL,
            global_recv_msg_opt BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX users_by_create_time ON users (create_time, user_id);
        -- forced logouts (tokens of a user and platform issued before a time)
        CREATE TABLE token_revocations (
            user_id TEXT COLLATE "C" NOT NULL,
            platform_id BIGINT NOT NULL,
            revoked_before BIGINT NOT NULL,
            PRIMARY KEY (user_id, platform_id)
        )
        """,
    ))

    async def register_users(self, users: Sequence[UserRecord]) -> list[str]:
        records = [dataclasses.replace(u, create_time=u.create_time or now_ms()) for u in users]

        async def op(conn: asyncpg.Connection) -> list[str]:
            inserted = await insert_new(conn, "users", USER_FIELDS, ("user_id",), records)
            return [r.user_id for r, new in zip(records, inserted, strict=True) if not new]

        existing: list[str] = await self._write(op)
        return existing

    async def get_users(self, user_ids: Sequence[str]) -> dict[str, UserRecord]:
        if not user_ids:
            return {}
        rows = await self._fetch(f"{_USER_SELECT} WHERE user_id = ANY($1)", list(user_ids))
        return {row[0]: UserRecord(*row) for row in rows}

    async def update_user(self, user_id: str, changes: Mapping[str, Any]) -> UserRecord | None:
        checked = checked_changes(UserRecord, changes, USER_UPDATABLE, "user")

        async def op(conn: asyncpg.Connection) -> UserRecord | None:
            if checked:
                p = Params(user_id)
                await conn.execute(
                    f"UPDATE users SET {assignments(checked, p)} WHERE user_id = $1", *p.values)
            row = await conn.fetchrow(f"{_USER_SELECT} WHERE user_id = $1", user_id)
            return UserRecord(*row) if row else None

        result: UserRecord | None = await self._write(op, ("user", user_id))
        return result

    async def find_users(
        self, offset: int, count: int, user_id: str = "", nickname: str = ""
    ) -> tuple[int, list[UserRecord]]:
        p = Params()
        where = [f"strpos(lower({column}), lower({p(wanted)})) > 0"
                 for column, wanted in (("user_id", user_id), ("nickname", nickname)) if wanted]
        condition = f"WHERE {' AND '.join(where)}" if where else ""

        async def read(conn: asyncpg.Connection) -> tuple[int, list[UserRecord]]:
            total = await conn.fetchval(f"SELECT count(*) FROM users {condition}", *p.values)
            page = Params(*p.values)
            rows = await conn.fetch(
                f"{_USER_SELECT} {condition} ORDER BY create_time, user_id"
                f" LIMIT {page(count)} OFFSET {page(offset)}", *page.values)
            return total, [UserRecord(*row) for row in rows]

        return await self._read(read)

    async def revoke_tokens(self, user_id: str, platform_id: int, before_ms: int) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO token_revocations AS t (user_id, platform_id, revoked_before)"
                " VALUES ($1, $2, $3) ON CONFLICT (user_id, platform_id) DO UPDATE SET"
                " revoked_before = GREATEST(t.revoked_before, EXCLUDED.revoked_before)",
                user_id, platform_id, before_ms)

        await self._write(op, ("user", user_id))

    async def get_token_revocations(self) -> dict[tuple[str, int], int]:
        rows = await self._fetch(
            "SELECT user_id, platform_id, revoked_before FROM token_revocations")
        return {(user_id, platform_id): before for user_id, platform_id, before in rows}
