"""Friend applications, friendships and blacklists in the cluster store."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

import asyncpg

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
from oimws.store.postgres.engine import OrderKey, Params, PostgresEngine, insert_new, upsert
from oimws.store.queries import (
    BLACK_ORDER,
    BLACK_SELECT,
    FRIEND_ORDER,
    FRIEND_SELECT,
    REQUEST_ORDER,
    REQUEST_SELECT,
)
from oimws.store.rows import BLACK_FIELDS, FRIEND_FIELDS, FRIEND_REQUEST_FIELDS, friend_record
from oimws.store.schema import Schema
from oimws.util.clock import now_ms

_REQUEST_KEY = ("from_user_id", "to_user_id")


def _pair(first: str, second: str) -> OrderKey:
    """The order key of what two users share (the same either way round)."""
    return ("friends", *sorted((first, second)))


def _owner(owner_user_id: str) -> OrderKey:
    """The order key of changes to one user's entries for many friends at once."""
    return ("friends", owner_user_id)


async def _settle_request(
    conn: asyncpg.Connection, from_user_id: str, to_user_id: str, result: int,
    handler_user_id: str, handle_msg: str, handle_time: int,
) -> FriendRequestRecord | None:
    """Mark an unhandled application handled; None if it was not unhandled."""
    row = await conn.fetchrow(
        f"UPDATE friend_requests SET handle_result = $3, handle_msg = $4,"
        f" handler_user_id = $5, handle_time = $6 WHERE from_user_id = $1 AND to_user_id = $2"
        f" AND handle_result = $7 RETURNING {', '.join(FRIEND_REQUEST_FIELDS)}",
        from_user_id, to_user_id, result, handle_msg, handler_user_id, handle_time,
        REQUEST_UNHANDLED)
    return FriendRequestRecord(*row) if row else None


async def _select_friends(
    conn: asyncpg.Connection, owner_user_id: str, friend_user_ids: Sequence[str] | None,
    lock: bool = False,
) -> list[FriendRecord]:
    p = Params(owner_user_id)
    among = "" if friend_user_ids is None else f" AND friend_user_id = ANY({p(friend_user_ids)})"
    rows = await conn.fetch(
        f"{FRIEND_SELECT} WHERE owner_user_id = $1{among}{FRIEND_ORDER}"
        f"{' FOR UPDATE' if lock else ''}", *p.values)
    return [friend_record(row) for row in rows]


class PostgresFriends(PostgresEngine, FriendStore):
    SCHEMA: ClassVar[Schema | None] = ("friends", (
        """
        CREATE TABLE friend_requests (
            from_user_id TEXT COLLATE "C" NOT NULL,
            to_user_id TEXT COLLATE "C" NOT NULL,
            req_msg TEXT NOT NULL DEFAULT '',
            create_time BIGINT NOT NULL,
            handle_result BIGINT NOT NULL DEFAULT 0,
            handle_msg TEXT NOT NULL DEFAULT '',
            handler_user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            handle_time BIGINT NOT NULL DEFAULT 0,
            ex TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (from_user_id, to_user_id)
        );
        CREATE INDEX friend_requests_by_recipient ON friend_requests (to_user_id);
        CREATE TABLE friends (
            owner_user_id TEXT COLLATE "C" NOT NULL,
            friend_user_id TEXT COLLATE "C" NOT NULL,
            remark TEXT NOT NULL DEFAULT '',
            create_time BIGINT NOT NULL,
            add_source BIGINT NOT NULL DEFAULT 0,
            operator_user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            ex TEXT NOT NULL DEFAULT '',
            is_pinned BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (owner_user_id, friend_user_id)
        );
        CREATE INDEX friends_by_friend ON friends (friend_user_id);
        CREATE TABLE blacks (
            owner_user_id TEXT COLLATE "C" NOT NULL,
            block_user_id TEXT COLLATE "C" NOT NULL,
            create_time BIGINT NOT NULL,
            add_source BIGINT NOT NULL DEFAULT 0,
            operator_user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            ex TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (owner_user_id, block_user_id)
        )
        """,
    ))

    # applications
    async def save_friend_request(self, request: FriendRequestRecord) -> FriendRequestRecord:
        record = dataclasses.replace(request, create_time=request.create_time or now_ms())
        await self._write(
            lambda conn: upsert(conn, "friend_requests", FRIEND_REQUEST_FIELDS, _REQUEST_KEY,
                                record),
            _pair(record.from_user_id, record.to_user_id))
        return record

    async def get_friend_request(
        self, from_user_id: str, to_user_id: str
    ) -> FriendRequestRecord | None:
        row = await self._fetchrow(f"{REQUEST_SELECT} WHERE from_user_id = $1"
                                   " AND to_user_id = $2", from_user_id, to_user_id)
        return FriendRequestRecord(*row) if row else None

    async def get_friend_requests_to(self, user_id: str) -> list[FriendRequestRecord]:
        rows = await self._fetch(f"{REQUEST_SELECT} WHERE to_user_id = $1{REQUEST_ORDER}",
                                 user_id)
        return [FriendRequestRecord(*row) for row in rows]

    async def get_friend_requests_from(self, user_id: str) -> list[FriendRequestRecord]:
        rows = await self._fetch(f"{REQUEST_SELECT} WHERE from_user_id = $1{REQUEST_ORDER}",
                                 user_id)
        return [FriendRequestRecord(*row) for row in rows]

    async def accept_friend_request(
        self, from_user_id: str, to_user_id: str, handle_msg: str, handle_time: int
    ) -> AcceptResult | None:
        async def op(conn: asyncpg.Connection) -> AcceptResult | None:
            # Both directions' applications are locked first, in one order everywhere: two
            # crossing accepts (each settling the other's application too) then queue
            # instead of deadlocking.
            await conn.execute(
                "SELECT 1 FROM friend_requests WHERE (from_user_id, to_user_id) IN"
                " (($1, $2), ($2, $1)) ORDER BY from_user_id, to_user_id FOR UPDATE",
                from_user_id, to_user_id)
            request = await _settle_request(conn, from_user_id, to_user_id, REQUEST_ACCEPTED,
                                            to_user_id, handle_msg, handle_time)
            if request is None:
                return None
            # Both had applied to each other: the reverse application is settled as well.
            await _settle_request(conn, to_user_id, from_user_id, REQUEST_ACCEPTED, to_user_id,
                                  handle_msg, handle_time)
            rows = [FriendRecord(owner, friend, create_time=handle_time,
                                 operator_user_id=from_user_id)
                    for owner, friend in ((to_user_id, from_user_id),
                                          (from_user_id, to_user_id))]
            inserted = await insert_new(conn, "friends", FRIEND_FIELDS,
                                        ("owner_user_id", "friend_user_id"), rows)
            return AcceptResult(request, tuple(
                row for row, new in zip(rows, inserted, strict=True) if new))

        result: AcceptResult | None = await self._write(op, _pair(from_user_id, to_user_id))
        return result

    async def refuse_friend_request(
        self, from_user_id: str, to_user_id: str, handle_msg: str, handle_time: int
    ) -> FriendRequestRecord | None:
        result: FriendRequestRecord | None = await self._write(
            lambda conn: _settle_request(conn, from_user_id, to_user_id, REQUEST_REFUSED,
                                         to_user_id, handle_msg, handle_time),
            _pair(from_user_id, to_user_id))
        return result

    # friends
    async def get_friends(
        self, owner_user_id: str, friend_user_ids: Sequence[str] | None = None
    ) -> list[FriendRecord]:
        if friend_user_ids is not None and not friend_user_ids:
            return []
        ids = None if friend_user_ids is None else list(friend_user_ids)
        return await self._read(lambda conn: _select_friends(conn, owner_user_id, ids))

    async def get_friend_page(
        self, owner_user_id: str, offset: int, count: int
    ) -> list[FriendRecord]:
        rows = await self._fetch(
            f"{FRIEND_SELECT} WHERE owner_user_id = $1{FRIEND_ORDER} LIMIT $2 OFFSET $3",
            owner_user_id, count, offset)
        return [friend_record(row) for row in rows]

    async def get_friend_entries_of(self, friend_user_id: str) -> list[FriendRecord]:
        rows = await self._fetch(f"{FRIEND_SELECT} WHERE friend_user_id = $1", friend_user_id)
        return [friend_record(row) for row in rows]

    async def update_friends(
        self, owner_user_id: str, friend_user_ids: Sequence[str], *,
        remark: str | None = None, is_pinned: bool | None = None, ex: str | None = None,
    ) -> list[FriendRecord] | None:
        changes = {name: value for name, value in
                   (("remark", remark), ("is_pinned", None if is_pinned is None
                                         else bool(is_pinned)), ("ex", ex))
                   if value is not None}
        wanted = list(dict.fromkeys(friend_user_ids))

        async def op(conn: asyncpg.Connection) -> list[FriendRecord] | None:
            # Locked, so that a friend deleted meanwhile cannot slip between check and update.
            if len(await _select_friends(conn, owner_user_id, wanted, lock=True)) != len(wanted):
                return None
            if changes:
                p = Params(owner_user_id, wanted)
                await conn.execute(
                    f"UPDATE friends SET {', '.join(f'{k} = {p(v)}' for k, v in changes.items())}"
                    " WHERE owner_user_id = $1 AND friend_user_id = ANY($2)", *p.values)
            return await _select_friends(conn, owner_user_id, wanted)

        result: list[FriendRecord] | None = await self._write(op, _owner(owner_user_id))
        return result

    async def delete_friend(self, owner_user_id: str, friend_user_id: str) -> FriendRecord | None:
        async def op(conn: asyncpg.Connection) -> FriendRecord | None:
            row = await conn.fetchrow(
                f"DELETE FROM friends WHERE owner_user_id = $1 AND friend_user_id = $2"
                f" RETURNING {', '.join(FRIEND_FIELDS)}", owner_user_id, friend_user_id)
            return friend_record(row) if row else None

        result: FriendRecord | None = await self._write(op, _pair(owner_user_id,
                                                                  friend_user_id))
        return result

    # blacklists
    async def add_black(self, black: BlackRecord) -> bool:
        record = dataclasses.replace(black, create_time=black.create_time or now_ms())

        async def op(conn: asyncpg.Connection) -> bool:
            [added] = await insert_new(conn, "blacks", BLACK_FIELDS,
                                       ("owner_user_id", "block_user_id"), [record])
            return added

        added: bool = await self._write(op, _pair(record.owner_user_id, record.block_user_id))
        return added

    async def remove_black(self, owner_user_id: str, block_user_id: str) -> BlackRecord | None:
        async def op(conn: asyncpg.Connection) -> BlackRecord | None:
            row = await conn.fetchrow(
                f"DELETE FROM blacks WHERE owner_user_id = $1 AND block_user_id = $2"
                f" RETURNING {', '.join(BLACK_FIELDS)}", owner_user_id, block_user_id)
            return BlackRecord(*row) if row else None

        result: BlackRecord | None = await self._write(op, _pair(owner_user_id, block_user_id))
        return result

    async def get_blacks(
        self, owner_user_id: str, block_user_ids: Sequence[str] | None = None
    ) -> list[BlackRecord]:
        if block_user_ids is None:
            rows = await self._fetch(f"{BLACK_SELECT} WHERE owner_user_id = $1{BLACK_ORDER}",
                                     owner_user_id)
        elif not block_user_ids:
            return []
        else:
            rows = await self._fetch(
                f"{BLACK_SELECT} WHERE owner_user_id = $1 AND block_user_id = ANY($2)"
                f"{BLACK_ORDER}", owner_user_id, list(block_user_ids))
        return [BlackRecord(*row) for row in rows]
