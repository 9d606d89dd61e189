"""Messages and conversations in the cluster store.

A conversation's ``max_seq`` lives in its ``conversation_state`` row. An append takes the
next seq with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, which locks that row
until COMMIT: appends to one conversation from every node queue on the lock, each sees the
seq its predecessor committed, so no seq is handed out twice and none is skipped (a rolled
back append gives its seq back with its increment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import asyncpg
import orjson

from oimws.store.errors import DuplicateClientMsgIDError, StoreError
from oimws.store.messages import (
    CONVERSATION_SETTINGS,
    GROUP_AT_NONE,
    RECV_OPT_NORMAL,
    AppendResult,
    ConversationRecord,
    Message,
    MessageQuery,
    MessageStore,
    ReadResult,
)
from oimws.store.postgres.engine import (
    OrderKey,
    Params,
    PostgresEngine,
    RetryWrite,
    assignments,
)
from oimws.store.queries import (
    CONVERSATION_FROM,
    CONVERSATION_ORDER,
    CONVERSATIONS_BY_OWNER_ORDER,
    unread_count_sql,
)
from oimws.store.rows import (
    CONVERSATION_COLUMN_COUNT,
    checked_changes,
    conversation_record,
    like_pattern,
    search_column,
    single_chat_peers,
    stamped_message,
    with_note,
)
from oimws.store.schema import Schema
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP

_READ_MARK = "GREATEST(uc.has_read_seq, uc.min_seq)"
# Not deleted by the user who owns the row (uc) or views the messages (a parameter).
_NOT_DELETED_BY = """NOT EXISTS (SELECT 1 FROM deleted_messages d WHERE d.owner_id = {owner}
    AND d.conversation_id = m.conversation_id AND d.seq = m.seq)"""

# One user's view of a conversation in the column order of ``conversation_record``, then the
# viewer's note on the latest message, the unread count (see ``unread_count_sql``) and the
# latest message's seq. The latest message is the newest one this user can see (above their
# cleared mark, not deleted by them).
_CONVERSATION_SELECT_WITH = f"""
    SELECT uc.owner_id, uc.conversation_id, uc.conversation_type, uc.user_id, uc.group_id,
        uc.has_read_seq, COALESCE(cs.max_seq, 0), uc.min_seq, {{body}},
        COALESCE(latest.send_time, 0), uc.recv_msg_opt, uc.is_pinned, uc.draft_text,
        uc.draft_text_time, uc.is_private_chat, uc.burn_duration, uc.group_at_type,
        uc.is_hidden, uc.msg_destruct_time, uc.is_msg_destruct, uc.ex, uc.attached_info,
        latest.local_ex, {unread_count_sql(_READ_MARK)}, latest.seq
    {CONVERSATION_FROM}
    LEFT JOIN LATERAL (
        SELECT m.seq, m.body, m.send_time, n.local_ex FROM messages m
        LEFT JOIN message_local_ex n ON n.owner_id = uc.owner_id
            AND n.conversation_id = m.conversation_id AND n.seq = m.seq
        WHERE m.conversation_id = uc.conversation_id AND m.seq > uc.min_seq
            AND {_NOT_DELETED_BY.format(owner="uc.owner_id")}
        ORDER BY m.seq DESC LIMIT 1
    ) latest ON TRUE
"""
_CONVERSATION_SELECT = _CONVERSATION_SELECT_WITH.format(body="latest.body")
# Reads of many views leave the latest message's body out and read each one once.
_VIEW_SELECT = _CONVERSATION_SELECT_WITH.format(body="NULL::bytea")

# The next seq (see the module's docstring), unless the clientMsgID ($2) is stored already:
# then nothing changes and nothing is returned.
# ``unread_ordinal`` moves with it ($3: 1 when the message counts as unread, else 0).
_NEXT_SEQ = """
    INSERT INTO conversation_state AS cs (conversation_id, max_seq, unread_ordinal)
    SELECT $1, 1, $3::bigint WHERE NOT EXISTS (SELECT 1 FROM messages WHERE client_msg_id = $2)
    ON CONFLICT (conversation_id) DO UPDATE SET max_seq = cs.max_seq + 1,
        unread_ordinal = cs.unread_ordinal + $3::bigint
    RETURNING max_seq, unread_ordinal
"""
# Store the message and make it the conversation's latest; nothing when the clientMsgID
# was taken after _NEXT_SEQ looked.
_INSERT_MESSAGE = """
    WITH inserted AS (
        INSERT INTO messages (conversation_id, seq, client_msg_id, server_msg_id, send_id,
            send_time, content_type, counts_unread, text, body, unread_ordinal)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (client_msg_id) DO NOTHING RETURNING seq
    )
    UPDATE conversation_state SET latest_msg = $10, latest_msg_send_time = $6
    FROM inserted WHERE conversation_id = $1 RETURNING inserted.seq
"""
# Every view of the conversation shows it again (hidden ones reappear), and what one sends
# oneself is read, if one had read everything before it.
_SHOW_NEW_MESSAGE = """
    UPDATE user_conversations SET is_hidden = FALSE,
        has_read_seq = CASE WHEN owner_id = $2 AND has_read_seq = $3 - 1 THEN $3
                            ELSE has_read_seq END
    WHERE conversation_id = $1 AND (is_hidden OR (owner_id = $2 AND has_read_seq = $3 - 1))
"""


def _record(row: asyncpg.Record,
            bodies: Mapping[tuple[str, int], Message] | None = None) -> ConversationRecord:
    """A conversation row as a record. ``bodies``: the latest messages by (conversation,
    seq), read once for many rows (selected with ``_VIEW_SELECT``), shared between records."""
    latest = None
    if bodies is not None:
        latest = bodies.get((row[1], row[CONVERSATION_COLUMN_COUNT + 2]))
    record = conversation_record(row, latest)
    if record.latest_msg is not None:
        record.latest_msg = with_note(record.latest_msg, row[CONVERSATION_COLUMN_COUNT])
    record.unread_count = row[CONVERSATION_COLUMN_COUNT + 1]
    return record


async def _conversation(conn: asyncpg.Connection, owner_id: str, conversation_id: str
                        ) -> ConversationRecord | None:
    row = await conn.fetchrow(
        f"{_CONVERSATION_SELECT} WHERE uc.owner_id = $1 AND uc.conversation_id = $2",
        owner_id, conversation_id)
    return _record(row) if row else None


def _visible_to(viewer: str) -> str:
    """Conditions on messages ``m``: the viewer (a placeholder) has not cleared them from
    their view nor deleted them."""
    return (f" AND m.seq > COALESCE((SELECT min_seq FROM user_conversations"
            f" WHERE owner_id = {viewer} AND conversation_id = m.conversation_id), 0)"
            f" AND {_NOT_DELETED_BY.format(owner=viewer)}")


def _select_messages(p: Params, viewer_id: str | None, conditions: str) -> str:
    """A query for message bodies and, with a viewer, the viewer's notes on them (only the
    messages they can see)."""
    if viewer_id is None:
        return f"SELECT m.body, NULL::text FROM messages m WHERE {conditions}"
    viewer = p(viewer_id)
    return (f"SELECT m.body, n.local_ex FROM messages m LEFT JOIN message_local_ex n"
            f" ON n.owner_id = {viewer} AND n.conversation_id = m.conversation_id"
            f" AND n.seq = m.seq WHERE {conditions}{_visible_to(viewer)}")


def _messages(rows: Sequence[asyncpg.Record]) -> list[Message]:
    return [with_note(orjson.loads(row[0]), row[1]) for row in rows]


def _conversation_key(conversation_id: str) -> OrderKey:
    return ("conversation", conversation_id)


async def _ensure(
    conn: asyncpg.Connection, owner_ids: Sequence[str], conversation_id: str,
    conversation_type: int, group_id: str, peer_of: Mapping[str, str] | None,
) -> list[str]:
    """Give these users the conversation if they lack it; returns who got it, in order."""
    # Inserted in one order everywhere, so that two transactions giving the same users a
    # conversation lock their rows in the same order and cannot deadlock.
    owners = sorted(set(owner_ids))
    rows = await conn.fetch(
        "INSERT INTO user_conversations (owner_id, conversation_id, conversation_type,"
        " user_id, group_id) SELECT owner, $2, $3, peer, $4"
        " FROM unnest($1::text[], $5::text[]) AS new (owner, peer)"
        " ON CONFLICT DO NOTHING RETURNING owner_id",
        owners, conversation_id, conversation_type, group_id,
        [(peer_of or {}).get(owner, "") for owner in owners])
    created = {row[0] for row in rows}
    return [owner for owner in dict.fromkeys(owner_ids) if owner in created]


async def _locked_conversation(conn: asyncpg.Connection, owner_id: str, conversation_id: str
                               ) -> ConversationRecord:
    """The user's conversation, its row locked until COMMIT so that read marks of one user
    (on any node) apply one after the other."""
    await conn.execute("SELECT 1 FROM user_conversations WHERE owner_id = $1"
                       " AND conversation_id = $2 FOR UPDATE", owner_id, conversation_id)
    record = await _conversation(conn, owner_id, conversation_id)
    if record is None:
        raise StoreError(f"{owner_id} has no conversation {conversation_id}")
    return record


async def _read_up_to(conn: asyncpg.Connection, record: ConversationRecord, seq: int
                      ) -> ReadResult:
    """Move the user's read position to ``seq``; returns what that newly covered."""
    rows = await conn.fetch(
        "SELECT m.body FROM messages m WHERE m.conversation_id = $1 AND m.seq > $2"
        f" AND m.seq <= $3 AND m.send_id <> $4{_visible_to('$4')} ORDER BY m.seq",
        record.conversation_id, max(record.has_read_seq, record.min_seq), seq,
        record.owner_id)
    if seq > record.has_read_seq:
        await conn.execute("UPDATE user_conversations SET has_read_seq = $3, group_at_type = $4"
                           " WHERE owner_id = $1 AND conversation_id = $2",
                           record.owner_id, record.conversation_id, seq, GROUP_AT_NONE)
    updated = await _conversation(conn, record.owner_id, record.conversation_id)
    assert updated is not None
    return ReadResult(updated, tuple(orjson.loads(row[0]) for row in rows))


class PostgresMessages(PostgresEngine, MessageStore):
    SCHEMA: ClassVar[Schema | None] = ("messages", (
        """
        CREATE TABLE conversation_state (
            conversation_id TEXT COLLATE "C" PRIMARY KEY,
            max_seq BIGINT NOT NULL,
            latest_msg BYTEA,
            latest_msg_send_time BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE messages (
            conversation_id TEXT COLLATE "C" NOT NULL,
            seq BIGINT NOT NULL,
            client_msg_id TEXT COLLATE "C" NOT NULL,
            server_msg_id TEXT COLLATE "C" NOT NULL,
            send_id TEXT COLLATE "C" NOT NULL,
            send_time BIGINT NOT NULL,
            content_type BIGINT NOT NULL,
            counts_unread BOOLEAN NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            body BYTEA NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        );
        CREATE UNIQUE INDEX messages_by_client_msg_id ON messages (client_msg_id);
        CREATE TABLE user_conversations (
            owner_id TEXT COLLATE "C" NOT NULL,
            conversation_id TEXT COLLATE "C" NOT NULL,
            conversation_type BIGINT NOT NULL,
            user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            group_id TEXT COLLATE "C" NOT NULL DEFAULT '',
            has_read_seq BIGINT NOT NULL DEFAULT 0,
            min_seq BIGINT NOT NULL DEFAULT 0,
            recv_msg_opt BIGINT NOT NULL DEFAULT 0,
            is_pinned BOOLEAN NOT NULL DEFAULT FALSE,
            draft_text TEXT NOT NULL DEFAULT '',
            draft_text_time BIGINT NOT NULL DEFAULT 0,
            is_private_chat BOOLEAN NOT NULL DEFAULT FALSE,
            burn_duration BIGINT NOT NULL DEFAULT 30,
            group_at_type BIGINT NOT NULL DEFAULT 0,
            is_hidden BOOLEAN NOT NULL DEFAULT FALSE,
            msg_destruct_time BIGINT NOT NULL DEFAULT 604800,
            is_msg_destruct BOOLEAN NOT NULL DEFAULT FALSE,
            ex TEXT NOT NULL DEFAULT '',
            attached_info TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (owner_id, conversation_id)
        );
        CREATE INDEX user_conversations_by_conversation ON user_conversations (conversation_id);
        CREATE INDEX user_conversations_hidden ON user_conversations (conversation_id)
            WHERE is_hidden;
        CREATE TABLE deleted_messages (
            owner_id TEXT COLLATE "C" NOT NULL,
            conversation_id TEXT COLLATE "C" NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (owner_id, conversation_id, seq)
        );
        CREATE TABLE message_local_ex (
            owner_id TEXT COLLATE "C" NOT NULL,
            conversation_id TEXT COLLATE "C" NOT NULL,
            seq BIGINT NOT NULL,
            local_ex TEXT NOT NULL,
            PRIMARY KEY (owner_id, conversation_id, seq)
        )
        """,
        # unread counts from running counters (see ``unread_count_sql``)
        """
        ALTER TABLE messages ADD COLUMN unread_ordinal BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE conversation_state ADD COLUMN unread_ordinal BIGINT NOT NULL DEFAULT 0;
        UPDATE messages SET unread_ordinal = counted.ordinal FROM (
            SELECT conversation_id, seq, SUM(CASE WHEN counts_unread THEN 1 ELSE 0 END) OVER (
                PARTITION BY conversation_id ORDER BY seq) AS ordinal FROM messages
        ) AS counted
        WHERE messages.conversation_id = counted.conversation_id
            AND messages.seq = counted.seq;
        UPDATE conversation_state cs SET unread_ordinal = m.unread_ordinal FROM messages m
        WHERE m.conversation_id = cs.conversation_id AND m.seq = cs.max_seq;
        CREATE INDEX messages_by_sender ON messages (conversation_id, send_id, seq)
        """,
    ))

    # messages
    async def append_message(
        self, conversation_id: str, message: Message, participants: Sequence[str], *,
        counts_as_unread: bool = True, mentions: Mapping[str, int] | None = None,
    ) -> AppendResult:
        client_msg_id = message["clientMsgID"]
        sender = message["sendID"]
        group_id = message.get("groupID") or ""
        conversation_type = message["sessionType"]
        owners = list(dict.fromkeys(participants))
        peers = single_chat_peers(owners) if conversation_type != SESSION_GROUP else None
        text = search_column(message)

        async def op(conn: asyncpg.Connection) -> AppendResult:
            position = await conn.fetchrow(_NEXT_SEQ, conversation_id, client_msg_id,
                                           int(counts_as_unread))
            if position is None:
                existing = await conn.fetchrow("SELECT conversation_id, send_id, body"
                                               " FROM messages WHERE client_msg_id = $1",
                                               client_msg_id)
                if existing[0] != conversation_id or existing[1] != sender:
                    raise DuplicateClientMsgIDError(
                        f"clientMsgID {client_msg_id!r} is already used by another message")
                return AppendResult(orjson.loads(existing[2]), created=False)
            seq, ordinal = position
            send_time = now_ms()
            stored = stamped_message(message, conversation_id, seq, send_time)
            inserted = await conn.fetchval(
                _INSERT_MESSAGE, conversation_id, seq, client_msg_id, stored["serverMsgID"],
                sender, send_time, stored["contentType"], counts_as_unread, text,
                orjson.dumps(stored), ordinal)
            if inserted is None:
                # An append with this clientMsgID committed after _NEXT_SEQ looked: start
                # again (giving the seq back) to answer it as a repeat or refuse it.
                raise RetryWrite(f"clientMsgID {client_msg_id!r} was taken meanwhile")
            new_owners = await _ensure(conn, owners, conversation_id, conversation_type,
                                       group_id, peers)
            await conn.execute(_SHOW_NEW_MESSAGE, conversation_id, sender, seq)
            if mentions:
                await conn.execute(
                    "UPDATE user_conversations uc SET group_at_type = at.type"
                    " FROM unnest($2::text[], $3::bigint[]) AS at (owner_id, type)"
                    " WHERE uc.owner_id = at.owner_id AND uc.conversation_id = $1",
                    conversation_id, list(mentions), list(mentions.values()))
            return AppendResult(stored, created=True, new_conversation_owners=tuple(new_owners))

        result: AppendResult = await self._write(op, _conversation_key(conversation_id))
        return result

    async def replace_message(self, conversation_id: str, seq: int, message: Message) -> None:
        body = orjson.dumps(message)
        text = search_column(message)

        async def op(conn: asyncpg.Connection) -> None:
            replaced = await conn.fetchval(
                "UPDATE messages SET body = $3, content_type = $4, text = $5"
                " WHERE conversation_id = $1 AND seq = $2 RETURNING seq",
                conversation_id, seq, body, message["contentType"], text)
            if replaced is None:
                raise StoreError(f"no message {seq} in {conversation_id}")
            await conn.execute("UPDATE conversation_state SET latest_msg = $2"
                               " WHERE conversation_id = $1 AND max_seq = $3",
                               conversation_id, body, seq)

        await self._write(op, _conversation_key(conversation_id))

    async def get_history(
        self, conversation_id: str, before_seq: int, count: int, viewer_id: str | None = None
    ) -> list[Message]:
        p = Params(conversation_id)
        below = f" AND m.seq < {p(before_seq)}" if before_seq > 0 else ""
        sql = _select_messages(p, viewer_id, f"m.conversation_id = $1{below}")
        rows = await self._fetch(f"{sql} ORDER BY m.seq DESC LIMIT {p(count)}", *p.values)
        return _messages(list(reversed(rows)))

    async def get_history_after(
        self, conversation_id: str, after_seq: int, count: int, viewer_id: str | None = None
    ) -> list[Message]:
        p = Params(conversation_id, after_seq)
        sql = _select_messages(p, viewer_id, "m.conversation_id = $1 AND m.seq > $2")
        rows = await self._fetch(f"{sql} ORDER BY m.seq LIMIT {p(count)}", *p.values)
        return _messages(rows)

    async def get_message(self, conversation_id: str, client_msg_id: str) -> Message | None:
        row = await self._fetchrow(
            "SELECT body FROM messages WHERE conversation_id = $1 AND client_msg_id = $2",
            conversation_id, client_msg_id)
        return orjson.loads(row[0]) if row else None

    async def get_messages(
        self, conversation_id: str, client_msg_ids: Sequence[str], viewer_id: str | None = None
    ) -> list[Message]:
        if not client_msg_ids:
            return []
        p = Params(conversation_id, list(client_msg_ids))
        sql = _select_messages(p, viewer_id,
                               "m.conversation_id = $1 AND m.client_msg_id = ANY($2)")
        return _messages(await self._fetch(f"{sql} ORDER BY m.seq", *p.values))

    async def search_messages(
        self, query: MessageQuery
    ) -> tuple[int, list[tuple[str, Message]]]:
        if not query.conversation_ids:
            return 0, []
        p = Params()
        where = [f"m.conversation_id = ANY({p(list(query.conversation_ids))})"]
        if query.keywords:
            # ILIKE: a keyword matches whatever its case, like SQLite's LIKE does
            joiner = " AND " if query.match_all_keywords else " OR "
            where.append("(" + joiner.join(
                f"m.text ILIKE {p(like_pattern(keyword))} ESCAPE '\\'"
                for keyword in query.keywords) + ")")
        if query.content_types:
            where.append(f"m.content_type = ANY({p(list(query.content_types))})")
        if query.sender_ids:
            where.append(f"m.send_id = ANY({p(list(query.sender_ids))})")
        if query.start_time:
            where.append(f"m.send_time >= {p(query.start_time)}")
        if query.end_time:
            where.append(f"m.send_time <= {p(query.end_time)}")
        condition = " AND ".join(where) + _visible_to(p(query.viewer_id))
        page = Params(*p.values)
        page_sql = (f"SELECT m.conversation_id, m.body FROM messages m WHERE {condition}"
                    f" ORDER BY m.send_time DESC, m.seq DESC"
                    f" LIMIT {page(query.limit)} OFFSET {page(query.offset)}")

        async def read(conn: asyncpg.Connection) -> tuple[int, list[tuple[str, Message]]]:
            total = await conn.fetchval(f"SELECT count(*) FROM messages m WHERE {condition}",
                                        *p.values)
            rows = await conn.fetch(page_sql, *page.values)
            return total, [(row[0], orjson.loads(row[1])) for row in rows]

        return await self._read(read)

    async def set_local_ex(
        self, owner_id: str, conversation_id: str, seq: int, local_ex: str
    ) -> None:
        await self._write(lambda conn: conn.execute(
            "INSERT INTO message_local_ex (owner_id, conversation_id, seq, local_ex)"
            " SELECT $1, conversation_id, seq, $4 FROM messages"
            " WHERE conversation_id = $2 AND seq = $3"
            " ON CONFLICT (owner_id, conversation_id, seq)"
            " DO UPDATE SET local_ex = EXCLUDED.local_ex",
            owner_id, conversation_id, seq, local_ex), _conversation_key(conversation_id))

    async def delete_messages_for(
        self, owner_id: str, conversation_id: str, seqs: Sequence[int]
    ) -> None:
        await self._write(lambda conn: conn.execute(
            "INSERT INTO deleted_messages (owner_id, conversation_id, seq)"
            " SELECT $1, conversation_id, seq FROM messages"
            " WHERE conversation_id = $2 AND seq = ANY($3::bigint[])"
            " ON CONFLICT DO NOTHING", owner_id, conversation_id, list(seqs)),
            _conversation_key(conversation_id))

    # conversations
    async def get_conversations(
        self, owner_id: str, include_hidden: bool = False
    ) -> list[ConversationRecord]:
        hidden = "" if include_hidden else " AND NOT uc.is_hidden"
        rows = await self._fetch(
            f"{_CONVERSATION_SELECT} WHERE uc.owner_id = $1{hidden}{CONVERSATION_ORDER}",
            owner_id)
        return [_record(row) for row in rows]

    async def get_conversation_views(
        self, owner_ids: Sequence[str], conversation_ids: Sequence[str]
    ) -> list[ConversationRecord]:
        if not owner_ids or not conversation_ids:
            return []
        return await self._views(
            "uc.owner_id = ANY($1::text[]) AND uc.conversation_id = ANY($2::text[])"
            f"{CONVERSATIONS_BY_OWNER_ORDER}",
            list(owner_ids), list(conversation_ids))

    async def _views(self, condition: str, *params: Any) -> list[ConversationRecord]:
        """Many views (``condition`` on ``uc``), each latest message they show read and
        parsed once for all of them."""
        async def read(conn: asyncpg.Connection) -> list[ConversationRecord]:
            rows = await conn.fetch(f"{_VIEW_SELECT} WHERE {condition}", *params)
            latest = {(row[1], row[CONVERSATION_COLUMN_COUNT + 2]) for row in rows
                      if row[CONVERSATION_COLUMN_COUNT + 2] is not None}
            bodies = {(row[0], row[1]): orjson.loads(row[2]) for row in await conn.fetch(
                "SELECT m.conversation_id, m.seq, m.body FROM messages m"
                " JOIN unnest($1::text[], $2::bigint[]) AS wanted (conversation_id, seq)"
                " ON m.conversation_id = wanted.conversation_id AND m.seq = wanted.seq",
                [key[0] for key in latest], [key[1] for key in latest])}
            return [_record(row, bodies) for row in rows]

        return await self._read(read)

    async def get_unread_totals(
        self, owner_ids: Sequence[str], excluding: Sequence[str] = ()
    ) -> dict[str, int]:
        totals = dict.fromkeys(owner_ids, 0)
        if owner_ids:
            rows = await self._fetch(
                f"SELECT uc.owner_id, SUM({unread_count_sql(_READ_MARK)}) {CONVERSATION_FROM}"
                " WHERE uc.owner_id = ANY($1::text[])"
                " AND NOT uc.conversation_id = ANY($3::text[]) AND NOT uc.is_hidden"
                " AND uc.recv_msg_opt = $2 GROUP BY uc.owner_id",
                list(owner_ids), RECV_OPT_NORMAL, list(excluding))
            totals.update((row[0], int(row[1])) for row in rows)
        return totals

    async def get_conversation(
        self, owner_id: str, conversation_id: str
    ) -> ConversationRecord | None:
        return await self._read(lambda conn: _conversation(conn, owner_id, conversation_id))

    async def get_conversation_members(self, conversation_id: str) -> list[ConversationRecord]:
        return await self._views("uc.conversation_id = $1 ORDER BY uc.owner_id",
                                 conversation_id)

    async def ensure_conversations(
        self, owner_ids: Sequence[str], conversation_id: str, conversation_type: int,
        group_id: str = "", peer_of: Mapping[str, str] | None = None,
    ) -> list[str]:
        created: list[str] = await self._write(lambda conn: _ensure(
            conn, owner_ids, conversation_id, conversation_type, group_id, peer_of),
            _conversation_key(conversation_id))
        return created

    async def update_conversation(
        self, owner_id: str, conversation_id: str, changes: Mapping[str, Any]
    ) -> ConversationRecord | None:
        checked = checked_changes(ConversationRecord, changes, CONVERSATION_SETTINGS,
                                  "conversation")

        async def op(conn: asyncpg.Connection) -> ConversationRecord | None:
            if checked:
                p = Params(owner_id, conversation_id)
                await conn.execute(
                    f"UPDATE user_conversations SET {assignments(checked, p)}"
                    " WHERE owner_id = $1 AND conversation_id = $2", *p.values)
            return await _conversation(conn, owner_id, conversation_id)

        record: ConversationRecord | None = await self._write(
            op, _conversation_key(conversation_id))
        return record

    async def hide_all_conversations(self, owner_id: str) -> list[str]:
        async def op(conn: asyncpg.Connection) -> list[str]:
            rows = await conn.fetch(
                "UPDATE user_conversations SET is_hidden = TRUE WHERE owner_id = $1"
                " AND NOT is_hidden RETURNING conversation_id", owner_id)
            return sorted(row[0] for row in rows)

        hidden: list[str] = await self._write(op, ("conversations of", owner_id))
        return hidden

    async def clear_conversation(
        self, owner_id: str, conversation_id: str, hide: bool = False
    ) -> ConversationRecord | None:
        async def op(conn: asyncpg.Connection) -> ConversationRecord | None:
            await conn.execute(
                "UPDATE user_conversations uc SET min_seq = s.max_seq,"
                " has_read_seq = GREATEST(uc.has_read_seq, s.max_seq), group_at_type = $3,"
                " is_hidden = uc.is_hidden OR $4"
                " FROM (SELECT COALESCE((SELECT max_seq FROM conversation_state"
                "       WHERE conversation_id = $2), 0) AS max_seq) s"
                " WHERE uc.owner_id = $1 AND uc.conversation_id = $2",
                owner_id, conversation_id, GROUP_AT_NONE, hide)
            return await _conversation(conn, owner_id, conversation_id)

        record: ConversationRecord | None = await self._write(
            op, _conversation_key(conversation_id))
        return record

    async def mark_conversation_read(self, owner_id: str, conversation_id: str) -> ReadResult:
        async def op(conn: asyncpg.Connection) -> ReadResult:
            record = await _locked_conversation(conn, owner_id, conversation_id)
            return await _read_up_to(conn, record, record.max_seq)

        result: ReadResult = await self._write(op, _conversation_key(conversation_id))
        return result

    async def mark_messages_read(
        self, owner_id: str, conversation_id: str, client_msg_ids: Sequence[str]
    ) -> ReadResult:
        async def op(conn: asyncpg.Connection) -> ReadResult:
            record = await _locked_conversation(conn, owner_id, conversation_id)
            newest = await conn.fetchval(
                "SELECT max(seq) FROM messages WHERE conversation_id = $1"
                " AND client_msg_id = ANY($2)", conversation_id, list(client_msg_ids))
            return await _read_up_to(conn, record, newest or record.has_read_seq)

        result: ReadResult = await self._write(op, _conversation_key(conversation_id))
        return result
