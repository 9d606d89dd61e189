"""Groups, members and join applications in the cluster store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import asyncpg

from oimws.store.errors import DuplicateKeyError, StoreError
from oimws.store.groups import (
    APPLICATION_UNHANDLED,
    GROUP_STATUS_DISMISSED,
    ROLE_MEMBER,
    ROLE_OWNER,
    GroupApplicationRecord,
    GroupRecord,
    GroupStore,
    MemberRecord,
)
from oimws.store.postgres.engine import (
    OrderKey,
    Params,
    PostgresEngine,
    assignments,
    insert_new,
    upsert,
)
from oimws.store.queries import (
    APPLICATION_SELECT,
    GROUP_SELECT,
    MEMBER_ORDER,
    MEMBER_SELECT,
)
from oimws.store.rows import (
    APPLICATION_FIELDS,
    GROUP_FIELDS,
    GROUP_UPDATABLE,
    MEMBER_FIELDS,
    MEMBER_UPDATABLE,
    checked_changes,
)
from oimws.store.schema import Schema
from oimws.util.clock import now_ms

_MEMBER_KEY = ("group_id", "user_id")


def _group(group_id: str) -> OrderKey:
    return ("group", group_id)


async def _insert_members(conn: asyncpg.Connection, members: Sequence[MemberRecord]
                          ) -> list[str]:
    inserted = await insert_new(conn, "group_members", MEMBER_FIELDS, _MEMBER_KEY, members)
    return [m.user_id for m, new in zip(members, inserted, strict=True) if new]


class PostgresGroups(PostgresEngine, GroupStore):
    SCHEMA: ClassVar[Schema | None] = ("groups", (
        """
        CREATE TABLE groups (
            group_id TEXT COLLATE "C" PRIMARY KEY,
            group_name TEXT NOT NULL DEFAULT '',
            notification TEXT NOT NULL DEFAULT '',
            notification_user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            notification_update_time BIGINT NOT NULL DEFAULT 0,
            introduction TEXT NOT NULL DEFAULT '',
            face_url TEXT NOT NULL DEFAULT '',
            owner_user_id TEXT COLLATE "C" NOT NULL,
            create_time BIGINT NOT NULL,
            status BIGINT NOT NULL DEFAULT 0,
            creator_user_id TEXT COLLATE "C" NOT NULL,
            group_type BIGINT NOT NULL DEFAULT 2,
            need_verification BIGINT NOT NULL DEFAULT 0,
            ex TEXT NOT NULL DEFAULT '',
            apply_member_friend BIGINT NOT NULL DEFAULT 0,
            look_member_info BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE group_members (
            group_id TEXT COLLATE "C" NOT NULL,
            user_id TEXT COLLATE "C" NOT NULL,
            nickname TEXT NOT NULL DEFAULT '',
            face_url TEXT NOT NULL DEFAULT '',
            role_level BIGINT NOT NULL DEFAULT 20,
            mute_end_time BIGINT NOT NULL DEFAULT 0,
            join_time BIGINT NOT NULL,
            join_source BIGINT NOT NULL DEFAULT 0,
            inviter_user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            operator_user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            ex TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (group_id, user_id)
        );
        CREATE INDEX group_members_by_user ON group_members (user_id);
        CREATE TABLE group_applications (
            group_id TEXT COLLATE "C" NOT NULL,
            user_id TEXT COLLATE "C" NOT NULL,
            req_msg TEXT NOT NULL DEFAULT '',
            req_time BIGINT NOT NULL,
            join_source BIGINT NOT NULL DEFAULT 0,
            inviter_user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            handle_result BIGINT NOT NULL DEFAULT 0,
            handled_msg TEXT NOT NULL DEFAULT '',
            handle_user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            handled_time BIGINT NOT NULL DEFAULT 0,
            ex TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (group_id, user_id)
        );
        CREATE INDEX group_applications_by_user ON group_applications (user_id)
        """,
    ))

    async def create_group(self, group: GroupRecord, members: Sequence[MemberRecord]) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            [created] = await insert_new(conn, "groups", GROUP_FIELDS, ("group_id",), [group])
            if not created:
                raise DuplicateKeyError(f"group {group.group_id!r} exists already")
            await _insert_members(conn, members)

        await self._write(op, _group(group.group_id))

    async def get_groups(self, group_ids: Sequence[str]) -> dict[str, GroupRecord]:
        if not group_ids:
            return {}
        rows = await self._fetch(f"{GROUP_SELECT} WHERE g.group_id = ANY($1)",
                                 list(group_ids))
        return {row[0]: GroupRecord(*row) for row in rows}

    async def update_group(self, group_id: str, changes: Mapping[str, Any]) -> None:
        if not changes:
            return
        checked = checked_changes(GroupRecord, changes, GROUP_UPDATABLE, "group")
        p = Params(group_id)
        sql = f"UPDATE groups SET {assignments(checked, p)} WHERE group_id = $1"
        await self._write(lambda conn: conn.execute(sql, *p.values), _group(group_id))

    async def get_joined_groups(self, user_id: str) -> list[GroupRecord]:
        rows = await self._fetch(
            f"{GROUP_SELECT} JOIN group_members j ON j.group_id = g.group_id"
            " WHERE j.user_id = $1 AND g.status <> $2 ORDER BY j.join_time",
            user_id, GROUP_STATUS_DISMISSED)
        return [GroupRecord(*row) for row in rows]

    async def get_members(
        self, group_id: str, user_ids: Sequence[str] | None = None
    ) -> list[MemberRecord]:
        if user_ids is None:
            rows = await self._fetch(f"{MEMBER_SELECT} WHERE group_id = $1{MEMBER_ORDER}",
                                     group_id)
        elif not user_ids:
            return []
        else:
            rows = await self._fetch(
                f"{MEMBER_SELECT} WHERE group_id = $1 AND user_id = ANY($2){MEMBER_ORDER}",
                group_id, list(user_ids))
        return [MemberRecord(*row) for row in rows]

    async def get_member_ids(self, group_id: str) -> list[str]:
        rows = await self._fetch("SELECT user_id FROM group_members WHERE group_id = $1",
                                 group_id)
        return [row[0] for row in rows]

    async def add_members(self, members: Sequence[MemberRecord]) -> list[str]:
        if not members:
            return []
        added: list[str] = await self._write(
            lambda conn: _insert_members(conn, members), _group(members[0].group_id))
        return added

    async def remove_members(self, group_id: str, user_ids: Sequence[str]) -> list[str]:
        async def op(conn: asyncpg.Connection) -> list[str]:
            rows = await conn.fetch("DELETE FROM group_members WHERE group_id = $1"
                                    " AND user_id = ANY($2) RETURNING user_id",
                                    group_id, list(user_ids))
            removed = {row[0] for row in rows}
            return [user_id for user_id in dict.fromkeys(user_ids) if user_id in removed]

        removed: list[str] = await self._write(op, _group(group_id))
        return removed

    async def update_member(
        self, group_id: str, user_id: str, changes: Mapping[str, Any]
    ) -> None:
        if not changes:
            return
        checked = checked_changes(MemberRecord, changes, MEMBER_UPDATABLE, "member")
        p = Params(group_id, user_id)
        sql = (f"UPDATE group_members SET {assignments(checked, p)}"
               " WHERE group_id = $1 AND user_id = $2")
        await self._write(lambda conn: conn.execute(sql, *p.values), _group(group_id))

    async def transfer_owner(self, group_id: str, old_owner: str, new_owner: str) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute("UPDATE group_members SET role_level = $3 WHERE group_id = $1"
                               " AND user_id = $2", group_id, old_owner, ROLE_MEMBER)
            promoted = await conn.fetchval(
                "UPDATE group_members SET role_level = $3 WHERE group_id = $1"
                " AND user_id = $2 RETURNING user_id", group_id, new_owner, ROLE_OWNER)
            if promoted is None:  # raising rolls the demotion back too
                raise StoreError(f"{new_owner!r} is not a member of {group_id!r}")
            await conn.execute("UPDATE groups SET owner_user_id = $2 WHERE group_id = $1",
                               group_id, new_owner)

        await self._write(op, _group(group_id))

    async def save_application(self, application: GroupApplicationRecord) -> None:
        await self._write(
            lambda conn: upsert(conn, "group_applications", APPLICATION_FIELDS,
                                ("group_id", "user_id"), application),
            _group(application.group_id))

    async def get_application(
        self, group_id: str, user_id: str
    ) -> GroupApplicationRecord | None:
        row = await self._fetchrow(f"{APPLICATION_SELECT} WHERE group_id = $1"
                                   " AND user_id = $2", group_id, user_id)
        return GroupApplicationRecord(*row) if row else None

    async def handle_application(
        self, group_id: str, user_id: str, result: int, handler_id: str, message: str,
        member: MemberRecord | None,
    ) -> bool:
        handled_time = now_ms()

        async def op(conn: asyncpg.Connection) -> bool:
            # Only an unhandled application changes: a second handler, on this node or
            # another, waits for the first one's row lock and then finds it handled.
            settled = await conn.fetchval(
                "UPDATE group_applications SET handle_result = $3, handle_user_id = $4,"
                " handled_msg = $5, handled_time = $6 WHERE group_id = $1 AND user_id = $2"
                " AND handle_result = $7 RETURNING 1",
                group_id, user_id, result, handler_id, message, handled_time,
                APPLICATION_UNHANDLED)
            if settled is None:
                return False
            if member is not None:
                await _insert_members(conn, [member])
            return True

        settled: bool = await self._write(op, _group(group_id))
        return settled

    async def get_applications_to(
        self, group_ids: Sequence[str]
    ) -> list[GroupApplicationRecord]:
        if not group_ids:
            return []
        rows = await self._fetch(
            f"{APPLICATION_SELECT} WHERE group_id = ANY($1) ORDER BY req_time DESC",
            list(group_ids))
        return [GroupApplicationRecord(*row) for row in rows]

    async def get_applications_of(self, user_id: str) -> list[GroupApplicationRecord]:
        rows = await self._fetch(
            f"{APPLICATION_SELECT} WHERE user_id = $1 ORDER BY req_time DESC", user_id)
        return [GroupApplicationRecord(*row) for row in rows]
