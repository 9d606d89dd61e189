"""Groups, members and join applications in the embedded store."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

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
from oimws.store.sqlite.engine import SqliteEngine
from oimws.util.clock import now_ms


def _assignments(record_class: type, changes: Mapping[str, Any], allowed: Sequence[str],
                 what: str) -> tuple[str, list[Any]]:
    changes = checked_changes(record_class, changes, allowed, what)
    return ", ".join(f"{name} = ?" for name in changes), list(changes.values())


def _insert_member(conn: sqlite3.Connection, member: MemberRecord) -> bool:
    values = dataclasses.astuple(member)
    marks = ", ".join("?" * len(values))
    cursor = conn.execute(
        f"INSERT OR IGNORE INTO group_members ({', '.join(MEMBER_FIELDS)}) VALUES ({marks})",
        values)
    return cursor.rowcount == 1


class SqliteGroups(SqliteEngine, GroupStore):
    SCHEMA: ClassVar[Schema | None] = ("groups", (
        """
        CREATE TABLE groups (
            group_id TEXT PRIMARY KEY,
            group_name TEXT NOT NULL DEFAULT '',
            notification TEXT NOT NULL DEFAULT '',
            notification_user_id TEXT NOT NULL DEFAULT '',
            notification_update_time INTEGER NOT NULL DEFAULT 0,
            introduction TEXT NOT NULL DEFAULT '',
            face_url TEXT NOT NULL DEFAULT '',
            owner_user_id TEXT NOT NULL,
            create_time INTEGER NOT NULL,
            status INTEGER NOT NULL DEFAULT 0,
            creator_user_id TEXT NOT NULL,
            group_type INTEGER NOT NULL DEFAULT 2,
            need_verification INTEGER NOT NULL DEFAULT 0,
            ex TEXT NOT NULL DEFAULT '',
            apply_member_friend INTEGER NOT NULL DEFAULT 0,
            look_member_info INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE group_members (
            group_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            nickname TEXT NOT NULL DEFAULT '',
            face_url TEXT NOT NULL DEFAULT '',
            role_level INTEGER NOT NULL DEFAULT 20,
            mute_end_time INTEGER NOT NULL DEFAULT 0,
            join_time INTEGER NOT NULL,
            join_source INTEGER NOT NULL DEFAULT 0,
            inviter_user_id TEXT NOT NULL DEFAULT '',
            operator_user_id TEXT NOT NULL DEFAULT '',
            ex TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (group_id, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX group_members_by_user ON group_members (user_id);
        CREATE TABLE group_applications (
            group_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            req_msg TEXT NOT NULL DEFAULT '',
            req_time INTEGER NOT NULL,
            join_source INTEGER NOT NULL DEFAULT 0,
            inviter_user_id TEXT NOT NULL DEFAULT '',
            handle_result INTEGER NOT NULL DEFAULT 0,
            handled_msg TEXT NOT NULL DEFAULT '',
            handle_user_id TEXT NOT NULL DEFAULT '',
            handled_time INTEGER NOT NULL DEFAULT 0,
            ex TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (group_id, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX group_applications_by_user ON group_applications (user_id)
        """,
    ))

    async def create_group(self, group: GroupRecord, members: Sequence[MemberRecord]) -> None:
        values = [getattr(group, name) for name in GROUP_FIELDS]

        def op(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO groups ({', '.join(GROUP_FIELDS)})"
                    f" VALUES ({', '.join('?' * len(values))})", values)
            except sqlite3.IntegrityError:
                raise DuplicateKeyError(f"group {group.group_id!r} exists already") from None
            for member in members:
                _insert_member(conn, member)

        await self._write(op)

    async def get_groups(self, group_ids: Sequence[str]) -> dict[str, GroupRecord]:
        if not group_ids:
            return {}
        marks = ",".join("?" * len(group_ids))
        rows = self._read().execute(
            f"{GROUP_SELECT} WHERE g.group_id IN ({marks})", list(group_ids)).fetchall()
        return {row[0]: GroupRecord(*row) for row in rows}

    async def update_group(self, group_id: str, changes: Mapping[str, Any]) -> None:
        if not changes:
            return
        assignments, values = _assignments(GroupRecord, changes, GROUP_UPDATABLE, "group")
        await self._write(lambda conn: conn.execute(
            f"UPDATE groups SET {assignments} WHERE group_id = ?", [*values, group_id]))

    async def get_joined_groups(self, user_id: str) -> list[GroupRecord]:
        rows = self._read().execute(
            f"{GROUP_SELECT} JOIN group_members j ON j.group_id = g.group_id"
            " WHERE j.user_id = ? AND g.status != ? ORDER BY j.join_time",
            (user_id, GROUP_STATUS_DISMISSED)).fetchall()
        return [GroupRecord(*row) for row in rows]

    async def get_members(
        self, group_id: str, user_ids: Sequence[str] | None = None
    ) -> list[MemberRecord]:
        if user_ids is None:
            rows = self._read().execute(
                f"{MEMBER_SELECT} WHERE group_id = ?{MEMBER_ORDER}", (group_id,)).fetchall()
        elif not user_ids:
            return []
        else:
            marks = ",".join("?" * len(user_ids))
            rows = self._read().execute(
                f"{MEMBER_SELECT} WHERE group_id = ? AND user_id IN ({marks}){MEMBER_ORDER}",
                [group_id, *user_ids]).fetchall()
        return [MemberRecord(*row) for row in rows]

    async def get_member_ids(self, group_id: str) -> list[str]:
        rows = self._read().execute(
            "SELECT user_id FROM group_members WHERE group_id = ?", (group_id,)).fetchall()
        return [row[0] for row in rows]

    async def add_members(self, members: Sequence[MemberRecord]) -> list[str]:
        def op(conn: sqlite3.Connection) -> list[str]:
            return [m.user_id for m in members if _insert_member(conn, m)]

        added: list[str] = await self._write(op)
        return added

    async def remove_members(self, group_id: str, user_ids: Sequence[str]) -> list[str]:
        def op(conn: sqlite3.Connection) -> list[str]:
            removed = []
            for user_id in user_ids:
                cursor = conn.execute(
                    "DELETE FROM group_members WHERE group_id = ? AND user_id = ?",
                    (group_id, user_id))
                if cursor.rowcount:
                    removed.append(user_id)
            return removed

        removed: list[str] = await self._write(op)
        return removed

    async def update_member(
        self, group_id: str, user_id: str, changes: Mapping[str, Any]
    ) -> None:
        if not changes:
            return
        assignments, values = _assignments(MemberRecord, changes, MEMBER_UPDATABLE, "member")
        await self._write(lambda conn: conn.execute(
            f"UPDATE group_members SET {assignments} WHERE group_id = ? AND user_id = ?",
            [*values, group_id, user_id]))

    async def transfer_owner(self, group_id: str, old_owner: str, new_owner: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE group_members SET role_level = ? WHERE group_id = ?"
                         " AND user_id = ?", (ROLE_MEMBER, group_id, old_owner))
            cursor = conn.execute("UPDATE group_members SET role_level = ? WHERE group_id = ?"
                                  " AND user_id = ?", (ROLE_OWNER, group_id, new_owner))
            if cursor.rowcount != 1:
                raise StoreError(f"{new_owner!r} is not a member of {group_id!r}")
            conn.execute("UPDATE groups SET owner_user_id = ? WHERE group_id = ?",
                         (new_owner, group_id))

        await self._write(op)

    async def save_application(self, application: GroupApplicationRecord) -> None:
        values = dataclasses.astuple(application)
        columns = ", ".join(APPLICATION_FIELDS)
        updates = ", ".join(f"{name} = excluded.{name}" for name in APPLICATION_FIELDS[2:])
        await self._write(lambda conn: conn.execute(
            f"INSERT INTO group_applications ({columns}) VALUES ({', '.join('?' * len(values))})"
            f" ON CONFLICT (group_id, user_id) DO UPDATE SET {updates}", values))

    async def get_application(
        self, group_id: str, user_id: str
    ) -> GroupApplicationRecord | None:
        row = self._read().execute(
            f"{APPLICATION_SELECT} WHERE group_id = ? AND user_id = ?",
            (group_id, user_id)).fetchone()
        return GroupApplicationRecord(*row) if row else None

    async def handle_application(
        self, group_id: str, user_id: str, result: int, handler_id: str, message: str,
        member: MemberRecord | None,
    ) -> bool:
        handled_time = now_ms()

        def op(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE group_applications SET handle_result = ?, handle_user_id = ?,"
                " handled_msg = ?, handled_time = ? WHERE group_id = ? AND user_id = ?"
                " AND handle_result = ?",
                (result, handler_id, message, handled_time, group_id, user_id,
                 APPLICATION_UNHANDLED))
            if cursor.rowcount != 1:
                return False
            if member is not None:
                _insert_member(conn, member)
            return True

        settled: bool = await self._write(op)
        return settled

    async def get_applications_to(
        self, group_ids: Sequence[str]
    ) -> list[GroupApplicationRecord]:
        if not group_ids:
            return []
        marks = ",".join("?" * len(group_ids))
        rows = self._read().execute(
            f"{APPLICATION_SELECT} WHERE group_id IN ({marks}) ORDER BY req_time DESC",
            list(group_ids)).fetchall()
        return [GroupApplicationRecord(*row) for row in rows]

    async def get_applications_of(self, user_id: str) -> list[GroupApplicationRecord]:
        rows = self._read().execute(
            f"{APPLICATION_SELECT} WHERE user_id = ? ORDER BY req_time DESC",
            (user_id,)).fetchall()
        return [GroupApplicationRecord(*row) for row in rows]
