"""Friend applications, friendships and blacklists in the embedded store."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from typing import Any, ClassVar

from oimws.store.friends import (
    REQUEST_ACCEPTED,
    REQUEST_REFUSED,
    REQUEST_UNHANDLED,
    AcceptResult,
    BlackRecord,
    FriendRecord,
    FriendRequestRecord,
    FriendStore,
)
from oimws.store.queries import (
    BLACK_ORDER,
    BLACK_SELECT,
    FRIEND_ORDER,
    FRIEND_SELECT,
    REQUEST_ORDER,
    REQUEST_SELECT,
)
from oimws.store.rows import FRIEND_REQUEST_FIELDS, friend_record
from oimws.store.schema import Schema
from oimws.store.sqlite.engine import SqliteEngine
from oimws.util.clock import now_ms


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _insert(conn: sqlite3.Connection, table: str, record: Any) -> bool:
    """INSERT OR IGNORE one record whose dataclass fields are the table's columns."""
    values = dataclasses.astuple(record)
    columns = ", ".join(f.name for f in dataclasses.fields(record))
    cursor = conn.execute(
        f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({_marks(values)})", values)
    return cursor.rowcount == 1


def _select_request(
    conn: sqlite3.Connection, from_user_id: str, to_user_id: str
) -> FriendRequestRecord | None:
    row = conn.execute(f"{REQUEST_SELECT} WHERE from_user_id = ? AND to_user_id = ?",
                       (from_user_id, to_user_id)).fetchone()
    return FriendRequestRecord(*row) if row else None


def _settle_request(
    conn: sqlite3.Connection, from_user_id: str, to_user_id: str, result: int,
    handler_user_id: str, handle_msg: str, handle_time: int,
) -> FriendRequestRecord | None:
    """Mark an unhandled application handled; None if it was not unhandled."""
    cursor = conn.execute(
        "UPDATE friend_requests SET handle_result = ?, handle_msg = ?, handler_user_id = ?,"
        " handle_time = ? WHERE from_user_id = ? AND to_user_id = ? AND handle_result = ?",
        (result, handle_msg, handler_user_id, handle_time, from_user_id, to_user_id,
         REQUEST_UNHANDLED))
    if cursor.rowcount != 1:
        return None
    return _select_request(conn, from_user_id, to_user_id)


class SqliteFriends(SqliteEngine, FriendStore):
    SCHEMA: ClassVar[Schema | None] = ("friends", (
        """
        CREATE TABLE friend_requests (
            from_user_id TEXT NOT NULL,
            to_user_id TEXT NOT NULL,
            req_msg TEXT NOT NULL DEFAULT '',
            create_time INTEGER NOT NULL,
            handle_result INTEGER NOT NULL DEFAULT 0,
            handle_msg TEXT NOT NULL DEFAULT '',
            handler_user_id TEXT NOT NULL DEFAULT '',
            handle_time INTEGER NOT NULL DEFAULT 0,
            ex TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (from_user_id, to_user_id)
        ) WITHOUT ROWID;
        CREATE INDEX friend_requests_by_recipient ON friend_requests (to_user_id);
        CREATE TABLE friends (
            owner_user_id TEXT NOT NULL,
            friend_user_id TEXT NOT NULL,
            remark TEXT NOT NULL DEFAULT '',
            create_time INTEGER NOT NULL,
            add_source INTEGER NOT NULL DEFAULT 0,
            operator_user_id TEXT NOT NULL DEFAULT '',
            ex TEXT NOT NULL DEFAULT '',
            is_pinned INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (owner_user_id, friend_user_id)
        ) WITHOUT ROWID;
        CREATE INDEX friends_by_friend ON friends (friend_user_id);
        CREATE TABLE blacks (
            owner_user_id TEXT NOT NULL,
            block_user_id TEXT NOT NULL,
            create_time INTEGER NOT NULL,
            add_source INTEGER NOT NULL DEFAULT 0,
            operator_user_id TEXT NOT NULL DEFAULT '',
            ex TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (owner_user_id, block_user_id)
        ) WITHOUT ROWID
        """,
    ))

    # applications
    async def save_friend_request(self, request: FriendRequestRecord) -> FriendRequestRecord:
        record = dataclasses.replace(request, create_time=request.create_time or now_ms())
        values = dataclasses.astuple(record)
        updates = ", ".join(f"{name} = excluded.{name}" for name in FRIEND_REQUEST_FIELDS[2:])
        await self._write(lambda conn: conn.execute(
            f"INSERT INTO friend_requests ({', '.join(FRIEND_REQUEST_FIELDS)})"
            f" VALUES ({_marks(values)})"
            f" ON CONFLICT (from_user_id, to_user_id) DO UPDATE SET {updates}", values))
        return record

    async def get_friend_request(
        self, from_user_id: str, to_user_id: str
    ) -> FriendRequestRecord | None:
        return _select_request(self._read(), from_user_id, to_user_id)

    async def get_friend_requests_to(self, user_id: str) -> list[FriendRequestRecord]:
        rows = self._read().execute(
            f"{REQUEST_SELECT} WHERE to_user_id = ?{REQUEST_ORDER}", (user_id,)).fetchall()
        return [FriendRequestRecord(*row) for row in rows]

    async def get_friend_requests_from(self, user_id: str) -> list[FriendRequestRecord]:
        rows = self._read().execute(
            f"{REQUEST_SELECT} WHERE from_user_id = ?{REQUEST_ORDER}", (user_id,)).fetchall()
        return [FriendRequestRecord(*row) for row in rows]

    async def accept_friend_request(
        self, from_user_id: str, to_user_id: str, handle_msg: str, handle_time: int
    ) -> AcceptResult | None:
        def op(conn: sqlite3.Connection) -> AcceptResult | None:
            request = _settle_request(conn, from_user_id, to_user_id, REQUEST_ACCEPTED,
                                      to_user_id, handle_msg, handle_time)
            if request is None:
                return None
            # Both had applied to each other: the reverse application is settled as well.
            _settle_request(conn, to_user_id, from_user_id, REQUEST_ACCEPTED, to_user_id,
                            handle_msg, handle_time)
            rows = (FriendRecord(owner, friend, create_time=handle_time,
                                 operator_user_id=from_user_id)
                    for owner, friend in ((to_user_id, from_user_id),
                                          (from_user_id, to_user_id)))
            created = tuple(row for row in rows if _insert(conn, "friends", row))
            return AcceptResult(request, created)

        result: AcceptResult | None = await self._write(op)
        return result

    async def refuse_friend_request(
        self, from_user_id: str, to_user_id: str, handle_msg: str, handle_time: int
    ) -> FriendRequestRecord | None:
        result: FriendRequestRecord | None = await self._write(
            lambda conn: _settle_request(conn, from_user_id, to_user_id, REQUEST_REFUSED,
                                         to_user_id, handle_msg, handle_time))
        return result

    # friends
    async def get_friends(
        self, owner_user_id: str, friend_user_ids: Sequence[str] | None = None
    ) -> list[FriendRecord]:
        return [friend_record(row) for row in
                self._select_friends(self._read(), owner_user_id, friend_user_ids)]

    @staticmethod
    def _select_friends(
        conn: sqlite3.Connection, owner_user_id: str, friend_user_ids: Sequence[str] | None
    ) -> list[Any]:
        if friend_user_ids is None:
            return conn.execute(f"{FRIEND_SELECT} WHERE owner_user_id = ?{FRIEND_ORDER}",
                                (owner_user_id,)).fetchall()
        if not friend_user_ids:
            return []
        return conn.execute(
            f"{FRIEND_SELECT} WHERE owner_user_id = ? AND friend_user_id IN"
            f" ({_marks(friend_user_ids)}){FRIEND_ORDER}",
            [owner_user_id, *friend_user_ids]).fetchall()

    async def get_friend_page(
        self, owner_user_id: str, offset: int, count: int
    ) -> list[FriendRecord]:
        rows = self._read().execute(
            f"{FRIEND_SELECT} WHERE owner_user_id = ?{FRIEND_ORDER} LIMIT ? OFFSET ?",
            (owner_user_id, count, offset)).fetchall()
        return [friend_record(row) for row in rows]

    async def get_friend_entries_of(self, friend_user_id: str) -> list[FriendRecord]:
        rows = self._read().execute(f"{FRIEND_SELECT} WHERE friend_user_id = ?",
                                    (friend_user_id,)).fetchall()
        return [friend_record(row) for row in rows]

    async def update_friends(
        self, owner_user_id: str, friend_user_ids: Sequence[str], *,
        remark: str | None = None, is_pinned: bool | None = None, ex: str | None = None,
    ) -> list[FriendRecord] | None:
        changes = {name: value for name, value in
                   (("remark", remark), ("is_pinned", is_pinned), ("ex", ex))
                   if value is not None}
        wanted = list(dict.fromkeys(friend_user_ids))

        def op(conn: sqlite3.Connection) -> list[FriendRecord] | None:
            if len(self._select_friends(conn, owner_user_id, wanted)) != len(wanted):
                return None
            if changes:
                assignments = ", ".join(f"{name} = ?" for name in changes)
                conn.execute(
                    f"UPDATE friends SET {assignments} WHERE owner_user_id = ?"
                    f" AND friend_user_id IN ({_marks(wanted)})",
                    [*changes.values(), owner_user_id, *wanted])
            return [friend_record(row) for row in self._select_friends(conn, owner_user_id, wanted)]

        result: list[FriendRecord] | None = await self._write(op)
        return result

    async def delete_friend(self, owner_user_id: str, friend_user_id: str) -> FriendRecord | None:
        def op(conn: sqlite3.Connection) -> FriendRecord | None:
            rows = self._select_friends(conn, owner_user_id, [friend_user_id])
            if not rows:
                return None
            conn.execute("DELETE FROM friends WHERE owner_user_id = ? AND friend_user_id = ?",
                         (owner_user_id, friend_user_id))
            return friend_record(rows[0])

        result: FriendRecord | None = await self._write(op)
        return result

    # blacklists
    async def add_black(self, black: BlackRecord) -> bool:
        record = dataclasses.replace(black, create_time=black.create_time or now_ms())
        added: bool = await self._write(lambda conn: _insert(conn, "blacks", record))
        return added

    async def remove_black(self, owner_user_id: str, block_user_id: str) -> BlackRecord | None:
        def op(conn: sqlite3.Connection) -> BlackRecord | None:
            row = conn.execute(f"{BLACK_SELECT} WHERE owner_user_id = ? AND block_user_id = ?",
                               (owner_user_id, block_user_id)).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM blacks WHERE owner_user_id = ? AND block_user_id = ?",
                         (owner_user_id, block_user_id))
            return BlackRecord(*row)

        result: BlackRecord | None = await self._write(op)
        return result

    async def get_blacks(
        self, owner_user_id: str, block_user_ids: Sequence[str] | None = None
    ) -> list[BlackRecord]:
        if block_user_ids is None:
            rows = self._read().execute(
                f"{BLACK_SELECT} WHERE owner_user_id = ?{BLACK_ORDER}",
                (owner_user_id,)).fetchall()
        elif not block_user_ids:
            return []
        else:
            rows = self._read().execute(
                f"{BLACK_SELECT} WHERE owner_user_id = ? AND block_user_id IN"
                f" ({_marks(block_user_ids)}){BLACK_ORDER}",
                [owner_user_id, *block_user_ids]).fetchall()
        return [BlackRecord(*row) for row in rows]
