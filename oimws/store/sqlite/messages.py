"""Messages and conversations in the embedded store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

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
from oimws.store.sqlite.engine import SqliteEngine, WriteOp
from oimws.store.view_cache import Appended, CachedView, ConversationViewCache, TotalPart
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP

NO_LIMIT_SEQ = 2**62

_UNREAD = unread_count_sql("MAX(uc.has_read_seq, uc.min_seq)",
                           "messages o INDEXED BY messages_by_sender")
# One user's view of a conversation in the column order of ``conversation_record``, then the
# viewer's note on the conversation's latest message, the unread count, and whether the
# viewer deleted that latest message. Reads of many views leave the latest message out
# (``_VIEW_COLUMNS``) and read each conversation's once.
_CONVERSATION_COLUMNS_WITH = """
    uc.owner_id, uc.conversation_id, uc.conversation_type, uc.user_id, uc.group_id,
    uc.has_read_seq, COALESCE(cs.max_seq, 0), uc.min_seq, {latest},
    COALESCE(cs.latest_msg_send_time, 0), uc.recv_msg_opt, uc.is_pinned, uc.draft_text,
    uc.draft_text_time, uc.is_private_chat, uc.burn_duration, uc.group_at_type, uc.is_hidden,
    uc.msg_destruct_time, uc.is_msg_destruct, uc.ex, uc.attached_info,
    (SELECT n.local_ex FROM message_local_ex n WHERE n.owner_id = uc.owner_id
        AND n.conversation_id = uc.conversation_id AND n.seq = cs.max_seq),
    {unread},
    EXISTS (SELECT 1 FROM deleted_messages d WHERE d.owner_id = uc.owner_id
        AND d.conversation_id = uc.conversation_id AND d.seq = cs.max_seq)
"""
_CONVERSATION_COLUMNS = _CONVERSATION_COLUMNS_WITH.format(latest="cs.latest_msg", unread=_UNREAD)
_VIEW_COLUMNS = _CONVERSATION_COLUMNS_WITH.format(latest="NULL", unread=_UNREAD)
_ORDER_TIME_COLUMN = 9  # the conversation's latest send time, before any viewer's own view
# What each conversation of a user adds to their unread total (``TotalPart``).
_TOTAL_PARTS = f"""
    SELECT uc.owner_id, uc.conversation_id, COALESCE(cs.max_seq, 0), {_UNREAD},
        uc.recv_msg_opt, uc.is_hidden {CONVERSATION_FROM}
    WHERE uc.owner_id IN (SELECT value FROM json_each(?))"""
# Messages a viewer can see: above their cleared mark and not deleted by them.
_VISIBLE = """
    AND m.seq > COALESCE((SELECT min_seq FROM user_conversations
                          WHERE owner_id = :viewer AND conversation_id = m.conversation_id), 0)
    AND NOT EXISTS (SELECT 1 FROM deleted_messages d WHERE d.owner_id = :viewer
                    AND d.conversation_id = m.conversation_id AND d.seq = m.seq)
"""


def _record(conn: sqlite3.Connection, row: Sequence[Any],
            latest_of: Mapping[str, Message] | None = None) -> ConversationRecord:
    """A conversation row as a record. ``latest_of``: each conversation's latest message,
    read once for many rows (selected with ``_VIEW_COLUMNS``), shared between their records."""
    if latest_of is None:
        record = conversation_record(row)
    else:
        record = conversation_record(row, latest_of.get(row[1]))
    record.unread_count = row[CONVERSATION_COLUMN_COUNT + 1]
    if record.latest_msg is None:
        return record
    if record.max_seq > record.min_seq and not row[CONVERSATION_COLUMN_COUNT + 2]:
        # the user's own note shows on it, as on the same message in their history
        record.latest_msg = with_note(record.latest_msg, row[CONVERSATION_COLUMN_COUNT])
    else:  # cleared or deleted by this user: their latest is an older message
        newest = _page(conn, record.conversation_id, NO_LIMIT_SEQ, 1, record.owner_id)
        record.latest_msg = newest[0] if newest else None
        record.latest_msg_send_time = newest[0]["sendTime"] if newest else 0
    return record


def _page(conn: sqlite3.Connection, conversation_id: str, before_seq: int, count: int,
          viewer_id: str | None) -> list[Message]:
    """Up to ``count`` messages below ``before_seq``, ascending."""
    sql = "SELECT body FROM messages m WHERE m.conversation_id = :conversation AND m.seq < :seq"
    if viewer_id is not None:
        sql += _VISIBLE
    rows = conn.execute(sql + " ORDER BY m.seq DESC LIMIT :count", {
        "conversation": conversation_id, "seq": before_seq, "count": count,
        "viewer": viewer_id}).fetchall()
    return _for_viewer(conn, viewer_id, conversation_id,
                       [orjson.loads(row[0]) for row in reversed(rows)])


def _for_viewer(conn: sqlite3.Connection, viewer_id: str | None, conversation_id: str,
                messages: list[Message]) -> list[Message]:
    """Show the viewer's private notes (localEx) on their messages."""
    if viewer_id is None or not messages:
        return messages
    notes = dict(conn.execute(
        "SELECT seq, local_ex FROM message_local_ex WHERE owner_id = ? AND conversation_id = ?"
        " AND seq BETWEEN ? AND ?", (viewer_id, conversation_id, messages[0]["seq"],
                                     messages[-1]["seq"])).fetchall())
    for message in messages:
        if message["seq"] in notes:
            message["localEx"] = notes[message["seq"]]
    return messages


def _conversation_row(conn: sqlite3.Connection, owner_id: str, conversation_id: str
                      ) -> ConversationRecord | None:
    row = conn.execute(
        f"SELECT {_CONVERSATION_COLUMNS} {CONVERSATION_FROM}"
        " WHERE uc.owner_id = ? AND uc.conversation_id = ?",
        (owner_id, conversation_id)).fetchone()
    return _record(conn, row) if row else None


def _read_up_to(conn: sqlite3.Connection, record: ConversationRecord, seq: int) -> ReadResult:
    """Move the user's read position to ``seq``; returns what that newly covered."""
    start = max(record.has_read_seq, record.min_seq)
    rows = conn.execute(
        "SELECT body FROM messages m WHERE m.conversation_id = :conversation AND m.seq > :start"
        " AND m.seq <= :end AND m.send_id != :viewer" + _VISIBLE + " ORDER BY m.seq",
        {"conversation": record.conversation_id, "start": start, "end": seq,
         "viewer": record.owner_id}).fetchall()
    if seq > record.has_read_seq:
        conn.execute("UPDATE user_conversations SET has_read_seq = ?, group_at_type = ?"
                     " WHERE owner_id = ? AND conversation_id = ?",
                     (seq, GROUP_AT_NONE, record.owner_id, record.conversation_id))
    updated = _conversation_row(conn, record.owner_id, record.conversation_id)
    assert updated is not None
    return ReadResult(updated, tuple(orjson.loads(row[0]) for row in rows))


class SqliteMessages(SqliteEngine, MessageStore):
    """Messages and conversations. With ``view_cache`` set (this process is the database's
    only writer), the views and totals the pushes read are kept in memory between reads,
    and every write here reports how it settled to it (``_write_reported``)."""

    view_cache: ConversationViewCache | None = None

    SCHEMA: ClassVar[Schema | None] = ("messages", (
        """
        CREATE TABLE conversation_state (
            conversation_id TEXT PRIMARY KEY,
            max_seq INTEGER NOT NULL,
            latest_msg BLOB,
            latest_msg_send_time INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE messages (
            conversation_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            client_msg_id TEXT NOT NULL,
            server_msg_id TEXT NOT NULL,
            send_id TEXT NOT NULL,
            send_time INTEGER NOT NULL,
            content_type INTEGER NOT NULL,
            counts_unread INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            body BLOB NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX messages_by_client_msg_id ON messages (client_msg_id);
        CREATE TABLE user_conversations (
            owner_id TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            conversation_type INTEGER NOT NULL,
            user_id TEXT NOT NULL DEFAULT '',
            group_id TEXT NOT NULL DEFAULT '',
            has_read_seq INTEGER NOT NULL DEFAULT 0,
            min_seq INTEGER NOT NULL DEFAULT 0,
            recv_msg_opt INTEGER NOT NULL DEFAULT 0,
            is_pinned INTEGER NOT NULL DEFAULT 0,
            draft_text TEXT NOT NULL DEFAULT '',
            draft_text_time INTEGER NOT NULL DEFAULT 0,
            is_private_chat INTEGER NOT NULL DEFAULT 0,
            burn_duration INTEGER NOT NULL DEFAULT 30,
            group_at_type INTEGER NOT NULL DEFAULT 0,
            is_hidden INTEGER NOT NULL DEFAULT 0,
            msg_destruct_time INTEGER NOT NULL DEFAULT 604800,
            is_msg_destruct INTEGER NOT NULL DEFAULT 0,
            ex TEXT NOT NULL DEFAULT '',
            attached_info TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (owner_id, conversation_id)
        ) WITHOUT ROWID;
        CREATE INDEX user_conversations_by_conversation ON user_conversations (conversation_id);
        CREATE INDEX user_conversations_hidden ON user_conversations (conversation_id)
            WHERE is_hidden = 1;
        CREATE TABLE deleted_messages (
            owner_id TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (owner_id, conversation_id, seq)
        ) WITHOUT ROWID;
        CREATE TABLE message_local_ex (
            owner_id TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            local_ex TEXT NOT NULL,
            PRIMARY KEY (owner_id, conversation_id, seq)
        ) WITHOUT ROWID
        """,
        # Unread counts from running counters (see ``unread_count_sql``), and the two tables
        # that hold message bodies rebuilt as rowid tables with the bodies last: in a
        # WITHOUT ROWID table the whole row is the b-tree key, so every lookup that passed
        # a big message (a group's creation notice lists every member: half a megabyte for
        # a thousand) read all of it to compare keys.
        """
        CREATE TABLE messages_v2 (
            conversation_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            client_msg_id TEXT NOT NULL,
            server_msg_id TEXT NOT NULL,
            send_id TEXT NOT NULL,
            send_time INTEGER NOT NULL,
            content_type INTEGER NOT NULL,
            counts_unread INTEGER NOT NULL,
            unread_ordinal INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            body BLOB NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        );
        INSERT INTO messages_v2 (conversation_id, seq, client_msg_id, server_msg_id, send_id,
            send_time, content_type, counts_unread, unread_ordinal, text, body)
        SELECT conversation_id, seq, client_msg_id, server_msg_id, send_id, send_time,
            content_type, counts_unread, SUM(counts_unread) OVER (
                PARTITION BY conversation_id ORDER BY seq), text, body
        FROM messages;
        DROP TABLE messages;
        ALTER TABLE messages_v2 RENAME TO messages;
        CREATE UNIQUE INDEX messages_by_client_msg_id ON messages (client_msg_id);
        CREATE INDEX messages_by_sender ON messages (conversation_id, send_id, seq);
        CREATE TABLE conversation_state_v2 (
            conversation_id TEXT PRIMARY KEY,
            max_seq INTEGER NOT NULL,
            unread_ordinal INTEGER NOT NULL DEFAULT 0,
            latest_msg_send_time INTEGER NOT NULL DEFAULT 0,
            latest_msg BLOB
        );
        INSERT INTO conversation_state_v2 (conversation_id, max_seq, unread_ordinal,
            latest_msg_send_time, latest_msg)
        SELECT cs.conversation_id, cs.max_seq, COALESCE((SELECT m.unread_ordinal FROM messages m
            WHERE m.conversation_id = cs.conversation_id AND m.seq = cs.max_seq), 0),
            cs.latest_msg_send_time, cs.latest_msg
        FROM conversation_state cs;
        DROP TABLE conversation_state;
        ALTER TABLE conversation_state_v2 RENAME TO conversation_state
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
        text = search_column(message)
        written: dict[str, Any] = {}  # what the report needs: the body as stored

        def op(conn: sqlite3.Connection) -> AppendResult:
            existing = conn.execute(
                "SELECT conversation_id, send_id, body FROM messages WHERE client_msg_id = ?",
                (client_msg_id,)).fetchone()
            if existing is not None:
                if existing[0] != conversation_id or existing[1] != sender:
                    raise DuplicateClientMsgIDError(
                        f"clientMsgID {client_msg_id!r} is already used by another message")
                return AppendResult(orjson.loads(existing[2]), created=False)
            state = conn.execute(
                "SELECT max_seq, unread_ordinal FROM conversation_state"
                " WHERE conversation_id = ?", (conversation_id,)).fetchone()
            seq = (state[0] if state else 0) + 1
            ordinal = (state[1] if state else 0) + int(counts_as_unread)
            send_time = now_ms()
            stored = stamped_message(message, conversation_id, seq, send_time)
            body = written["body"] = orjson.dumps(stored)
            conn.execute(
                "INSERT INTO messages (conversation_id, seq, client_msg_id, server_msg_id,"
                " send_id, send_time, content_type, counts_unread, unread_ordinal, text,"
                " body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, seq, client_msg_id, stored["serverMsgID"], sender,
                 send_time, stored["contentType"], int(counts_as_unread), ordinal, text,
                 body))
            conn.execute(
                "INSERT INTO conversation_state (conversation_id, max_seq, unread_ordinal,"
                " latest_msg, latest_msg_send_time) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (conversation_id) DO UPDATE SET max_seq = excluded.max_seq,"
                " unread_ordinal = excluded.unread_ordinal, latest_msg = excluded.latest_msg,"
                " latest_msg_send_time = excluded.latest_msg_send_time",
                (conversation_id, seq, ordinal, body, send_time))
            new_owners = _ensure(conn, owners, conversation_id, conversation_type, group_id,
                                 single_chat_peers(owners) if conversation_type
                                 != SESSION_GROUP else None)
            conn.execute("UPDATE user_conversations SET is_hidden = 0"
                         " WHERE conversation_id = ? AND is_hidden = 1", (conversation_id,))
            # What one sends oneself is read, if one had read everything before it.
            conn.execute(
                "UPDATE user_conversations SET has_read_seq = ? WHERE owner_id = ?"
                " AND conversation_id = ? AND has_read_seq = ?",
                (seq, sender, conversation_id, seq - 1))
            for owner, at_type in (mentions or {}).items():
                conn.execute(
                    "UPDATE user_conversations SET group_at_type = ? WHERE owner_id = ?"
                    " AND conversation_id = ?", (at_type, owner, conversation_id))
            return AppendResult(stored, created=True, new_conversation_owners=tuple(new_owners))

        def report(cache: ConversationViewCache, ok: bool, result: Any) -> None:
            if not ok:  # it may have been stored all the same (the outcome is unknown)
                cache.forget_conversation(conversation_id)
                for owner in owners:
                    cache.forget_totals(owner)
            elif result.created:
                stored = orjson.loads(written["body"])  # not the caller's copy
                cache.message_appended(Appended(
                    conversation_id, stored["seq"], sender, counts_as_unread, stored,
                    stored["sendTime"], mentions or {}, result.new_conversation_owners))

        appended: AppendResult = await self._write_reported(op, report)
        return appended

    async def replace_message(self, conversation_id: str, seq: int, message: Message) -> None:
        body = orjson.dumps(message)
        text = search_column(message)

        def op(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE messages SET body = ?, content_type = ?, text = ?"
                " WHERE conversation_id = ? AND seq = ?",
                (body, message["contentType"], text, conversation_id, seq))
            if cursor.rowcount != 1:
                raise StoreError(f"no message {seq} in {conversation_id}")
            conn.execute("UPDATE conversation_state SET latest_msg = ?"
                         " WHERE conversation_id = ? AND max_seq = ?",
                         (body, conversation_id, seq))

        await self._write_reported(
            op, lambda cache, ok, result: cache.forget_conversation(conversation_id))

    async def get_history(
        self, conversation_id: str, before_seq: int, count: int, viewer_id: str | None = None
    ) -> list[Message]:
        return _page(self._read(), conversation_id, before_seq if before_seq > 0
                     else NO_LIMIT_SEQ, count, viewer_id)

    async def get_history_after(
        self, conversation_id: str, after_seq: int, count: int, viewer_id: str | None = None
    ) -> list[Message]:
        sql = ("SELECT body FROM messages m WHERE m.conversation_id = :conversation"
               " AND m.seq > :seq")
        if viewer_id is not None:
            sql += _VISIBLE
        conn = self._read()
        rows = conn.execute(sql + " ORDER BY m.seq LIMIT :count", {
            "conversation": conversation_id, "seq": after_seq, "count": count,
            "viewer": viewer_id}).fetchall()
        return _for_viewer(conn, viewer_id, conversation_id,
                           [orjson.loads(row[0]) for row in rows])

    async def get_message(self, conversation_id: str, client_msg_id: str) -> Message | None:
        row = self._read().execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND client_msg_id = ?",
            (conversation_id, client_msg_id)).fetchone()
        return orjson.loads(row[0]) if row else None

    async def get_messages(
        self, conversation_id: str, client_msg_ids: Sequence[str], viewer_id: str | None = None
    ) -> list[Message]:
        if not client_msg_ids:
            return []
        params: dict[str, Any] = {"conversation": conversation_id, "viewer": viewer_id}
        names = []
        for index, client_msg_id in enumerate(client_msg_ids):
            params[f"id{index}"] = client_msg_id
            names.append(f":id{index}")
        sql = (f"SELECT body FROM messages m WHERE m.conversation_id = :conversation"
               f" AND m.client_msg_id IN ({', '.join(names)})")
        if viewer_id is not None:
            sql += _VISIBLE
        conn = self._read()
        rows = conn.execute(sql + " ORDER BY m.seq", params).fetchall()
        return _for_viewer(conn, viewer_id, conversation_id,
                           [orjson.loads(row[0]) for row in rows])

    async def search_messages(
        self, query: MessageQuery
    ) -> tuple[int, list[tuple[str, Message]]]:
        if not query.conversation_ids:
            return 0, []
        params: dict[str, Any] = {"viewer": query.viewer_id}
        where = [_in_clause("m.conversation_id", "c", query.conversation_ids, params)]
        if query.keywords:
            joiner = " AND " if query.match_all_keywords else " OR "
            parts = []
            for index, keyword in enumerate(query.keywords):
                params[f"k{index}"] = like_pattern(keyword)
                parts.append(f"m.text LIKE :k{index} ESCAPE '\\'")
            where.append("(" + joiner.join(parts) + ")")
        if query.content_types:
            where.append(_in_clause("m.content_type", "t", query.content_types, params))
        if query.sender_ids:
            where.append(_in_clause("m.send_id", "s", query.sender_ids, params))
        if query.start_time:
            where.append("m.send_time >= :start")
            params["start"] = query.start_time
        if query.end_time:
            where.append("m.send_time <= :end")
            params["end"] = query.end_time
        condition = " AND ".join(where) + _VISIBLE
        conn = self._read()
        total = conn.execute(f"SELECT COUNT(*) FROM messages m WHERE {condition}",
                             params).fetchone()[0]
        params.update(limit=query.limit, offset=query.offset)
        rows = conn.execute(
            f"SELECT conversation_id, body FROM messages m WHERE {condition}"
            " ORDER BY m.send_time DESC, m.seq DESC LIMIT :limit OFFSET :offset",
            params).fetchall()
        return total, [(row[0], orjson.loads(row[1])) for row in rows]

    async def set_local_ex(
        self, owner_id: str, conversation_id: str, seq: int, local_ex: str
    ) -> None:
        await self._write_reported(lambda conn: conn.execute(
            "INSERT INTO message_local_ex (owner_id, conversation_id, seq, local_ex)"
            " SELECT ?, conversation_id, seq, ? FROM messages"
            " WHERE conversation_id = ? AND seq = ?"
            " ON CONFLICT (owner_id, conversation_id, seq)"
            " DO UPDATE SET local_ex = excluded.local_ex",
            (owner_id, local_ex, conversation_id, seq)), self._forgets(owner_id, conversation_id))

    async def delete_messages_for(
        self, owner_id: str, conversation_id: str, seqs: Sequence[int]
    ) -> None:
        wanted = orjson.dumps(list(seqs))
        await self._write_reported(lambda conn: conn.execute(
            "INSERT OR IGNORE INTO deleted_messages (owner_id, conversation_id, seq)"
            " SELECT ?, conversation_id, seq FROM messages WHERE conversation_id = ?"
            " AND seq IN (SELECT value FROM json_each(?))",
            (owner_id, conversation_id, wanted)), self._forgets(owner_id, conversation_id))

    # conversations
    async def get_conversations(
        self, owner_id: str, include_hidden: bool = False
    ) -> list[ConversationRecord]:
        conn = self._read()
        hidden = "" if include_hidden else " AND uc.is_hidden = 0"
        rows = conn.execute(
            f"SELECT {_CONVERSATION_COLUMNS} {CONVERSATION_FROM} WHERE uc.owner_id = ?{hidden}"
            f"{CONVERSATION_ORDER}", (owner_id,)).fetchall()
        return [_record(conn, row) for row in rows]

    async def get_conversation_views(
        self, owner_ids: Sequence[str], conversation_ids: Sequence[str]
    ) -> list[ConversationRecord]:
        if not owner_ids or not conversation_ids:
            return []
        cache = self.view_cache
        if cache is None:
            return [view.record for view in self._views_of_owners(owner_ids, conversation_ids)]
        conversation_ids = list(dict.fromkeys(conversation_ids))
        found, missing = cache.views(dict.fromkeys(owner_ids), conversation_ids)
        if missing:
            for view in self._views_of_owners(missing, conversation_ids):
                cache.fill_view(view.order_time, view.record)
                found.append(view)
        found.sort(key=_list_position)
        return [view.record for view in found]

    def _views_of_owners(self, owner_ids: Sequence[str], conversation_ids: Sequence[str]
                         ) -> list[CachedView]:
        return self._views(
            "uc.owner_id IN (SELECT value FROM json_each(?))"
            " AND uc.conversation_id IN (SELECT value FROM json_each(?))"
            f"{CONVERSATIONS_BY_OWNER_ORDER}",
            (orjson.dumps(list(owner_ids)),), conversation_ids)

    def _views(self, condition: str, params: tuple[Any, ...], conversation_ids: Sequence[str]
               ) -> list[CachedView]:
        """Many views of these conversations (``condition`` on ``uc``, its last parameter
        the conversation IDs as a JSON array), each conversation's latest message read and
        parsed once for all of them."""
        conn = self._read()
        wanted = orjson.dumps(list(conversation_ids))
        rows = conn.execute(f"SELECT {_VIEW_COLUMNS} {CONVERSATION_FROM} WHERE {condition}",
                            (*params, wanted)).fetchall()
        latest_of = {conversation_id: orjson.loads(body) for conversation_id, body in conn.execute(
            "SELECT conversation_id, latest_msg FROM conversation_state WHERE conversation_id"
            " IN (SELECT value FROM json_each(?)) AND latest_msg IS NOT NULL", (wanted,))}
        return [CachedView(row[_ORDER_TIME_COLUMN], _record(conn, row, latest_of))
                for row in rows]

    async def get_unread_totals(
        self, owner_ids: Sequence[str], excluding: Sequence[str] = ()
    ) -> dict[str, int]:
        totals = dict.fromkeys(owner_ids, 0)
        if not owner_ids:
            return totals
        cache = self.view_cache
        if cache is not None:
            found, missing = cache.totals(totals, excluding)
            totals.update(found)
            for owner, parts in (self._total_parts(missing) if missing else {}).items():
                totals[owner] = cache.fill_parts(owner, parts, excluding)
            return totals
        totals.update(self._read().execute(
            f"SELECT uc.owner_id, SUM({_UNREAD})"
            f" {CONVERSATION_FROM} WHERE uc.owner_id IN (SELECT value FROM json_each(?))"
            " AND uc.conversation_id NOT IN (SELECT value FROM json_each(?))"
            " AND uc.is_hidden = 0 AND uc.recv_msg_opt = ? GROUP BY uc.owner_id",
            (orjson.dumps(list(owner_ids)), orjson.dumps(list(excluding)),
             RECV_OPT_NORMAL)).fetchall())
        return totals

    async def get_conversation(
        self, owner_id: str, conversation_id: str
    ) -> ConversationRecord | None:
        return _conversation_row(self._read(), owner_id, conversation_id)

    def _total_parts(self, owner_ids: Sequence[str]) -> dict[str, dict[str, TotalPart]]:
        parts: dict[str, dict[str, TotalPart]] = {owner: {} for owner in owner_ids}
        for owner, conversation_id, max_seq, unread, recv_msg_opt, is_hidden in self._read(
                ).execute(_TOTAL_PARTS, (orjson.dumps(list(owner_ids)),)):
            parts[owner][conversation_id] = TotalPart(max_seq, unread, recv_msg_opt,
                                                      bool(is_hidden))
        return parts

    async def get_conversation_members(self, conversation_id: str) -> list[ConversationRecord]:
        return [view.record for view in self._views(
            "uc.conversation_id IN (SELECT value FROM json_each(?))", (), [conversation_id])]

    async def ensure_conversations(
        self, owner_ids: Sequence[str], conversation_id: str, conversation_type: int,
        group_id: str = "", peer_of: Mapping[str, str] | None = None,
    ) -> list[str]:
        def report(cache: ConversationViewCache, ok: bool, result: Any) -> None:
            for owner in result if ok else owner_ids:
                cache.forget_totals(owner)

        created: list[str] = await self._write_reported(lambda conn: _ensure(
            conn, owner_ids, conversation_id, conversation_type, group_id, peer_of), report)
        return created

    async def update_conversation(
        self, owner_id: str, conversation_id: str, changes: Mapping[str, Any]
    ) -> ConversationRecord | None:
        changes = checked_changes(ConversationRecord, changes, CONVERSATION_SETTINGS,
                                  "conversation")

        def op(conn: sqlite3.Connection) -> ConversationRecord | None:
            if changes:
                conn.execute(
                    f"UPDATE user_conversations SET {', '.join(f'{k} = ?' for k in changes)}"
                    " WHERE owner_id = ? AND conversation_id = ?",
                    [*changes.values(), owner_id, conversation_id])
            return _conversation_row(conn, owner_id, conversation_id)

        record: ConversationRecord | None = await self._write_reported(
            op, self._forgets(owner_id, conversation_id))
        return record

    async def hide_all_conversations(self, owner_id: str) -> list[str]:
        def op(conn: sqlite3.Connection) -> list[str]:
            ids = [row[0] for row in conn.execute(
                "SELECT conversation_id FROM user_conversations WHERE owner_id = ?"
                " AND is_hidden = 0", (owner_id,))]
            conn.execute("UPDATE user_conversations SET is_hidden = 1 WHERE owner_id = ?",
                         (owner_id,))
            return ids

        hidden: list[str] = await self._write_reported(
            op, lambda cache, ok, result: cache.forget_user(owner_id))
        return hidden

    async def clear_conversation(
        self, owner_id: str, conversation_id: str, hide: bool = False
    ) -> ConversationRecord | None:
        def op(conn: sqlite3.Connection) -> ConversationRecord | None:
            conn.execute(
                "UPDATE user_conversations SET min_seq = COALESCE((SELECT max_seq FROM"
                " conversation_state WHERE conversation_id = ?), 0), has_read_seq ="
                " MAX(has_read_seq, COALESCE((SELECT max_seq FROM conversation_state"
                " WHERE conversation_id = ?), 0)), group_at_type = 0,"
                " is_hidden = MAX(is_hidden, ?) WHERE owner_id = ? AND conversation_id = ?",
                (conversation_id, conversation_id, int(hide), owner_id, conversation_id))
            return _conversation_row(conn, owner_id, conversation_id)

        record: ConversationRecord | None = await self._write_reported(
            op, self._forgets(owner_id, conversation_id))
        return record

    async def mark_conversation_read(self, owner_id: str, conversation_id: str) -> ReadResult:
        def op(conn: sqlite3.Connection) -> ReadResult:
            record = _conversation_row(conn, owner_id, conversation_id)
            if record is None:
                raise StoreError(f"{owner_id} has no conversation {conversation_id}")
            return _read_up_to(conn, record, record.max_seq)

        result: ReadResult = await self._write_reported(
            op, self._forgets(owner_id, conversation_id))
        return result

    async def mark_messages_read(
        self, owner_id: str, conversation_id: str, client_msg_ids: Sequence[str]
    ) -> ReadResult:
        def op(conn: sqlite3.Connection) -> ReadResult:
            record = _conversation_row(conn, owner_id, conversation_id)
            if record is None:
                raise StoreError(f"{owner_id} has no conversation {conversation_id}")
            seqs = [row[0] for row in conn.execute(
                f"SELECT seq FROM messages WHERE conversation_id = ? AND client_msg_id IN"
                f" ({', '.join('?' * len(client_msg_ids))})",
                [conversation_id, *client_msg_ids])] if client_msg_ids else []
            return _read_up_to(conn, record, max(seqs, default=record.has_read_seq))

        result: ReadResult = await self._write_reported(
            op, self._forgets(owner_id, conversation_id))
        return result

    # the view cache ----------------------------------------------------------------------

    def _write_reported(
        self, op: WriteOp,
        report: Callable[[ConversationViewCache, bool, Any], None],
    ) -> Any:
        """A write whose settling ``report`` tells the view cache about (every write here
        goes through this: one that did not could leave a cached view stale)."""
        cache = self.view_cache
        if cache is None:
            return self._write(op)

        def settled(ok: bool, result: Any) -> None:
            try:
                report(cache, ok, result)
            except Exception:  # a report half done leaves the cache unknown: start over
                cache.clear()
                raise

        return self._write(op, settled)

    @staticmethod
    def _forgets(owner_id: str, conversation_id: str
                 ) -> Callable[[ConversationViewCache, bool, Any], None]:
        return lambda cache, ok, result: cache.forget(owner_id, conversation_id)


def _list_position(view: CachedView) -> tuple[str, bool, int, str]:
    """``CONVERSATIONS_BY_OWNER_ORDER`` of a cached view."""
    record = view.record
    return record.owner_id, not record.is_pinned, -view.order_time, record.conversation_id


def _ensure(
    conn: sqlite3.Connection, owner_ids: Sequence[str], conversation_id: str,
    conversation_type: int, group_id: str, peer_of: Mapping[str, str] | None,
) -> list[str]:
    """Give these users the conversation if they lack it; returns who got it, in order. One
    statement for all of them: a group message names every member."""
    peers = peer_of or {}
    pairs = orjson.dumps([(owner, peers.get(owner, "")) for owner in owner_ids])
    created = {row[0] for row in conn.execute(
        "INSERT OR IGNORE INTO user_conversations (owner_id, conversation_id,"
        " conversation_type, user_id, group_id)"
        " SELECT json_extract(p.value, '$[0]'), ?, ?, json_extract(p.value, '$[1]'), ?"
        " FROM json_each(?) p"
        " RETURNING owner_id", (conversation_id, conversation_type, group_id, pairs))}
    return [owner for owner in dict.fromkeys(owner_ids) if owner in created]


def _in_clause(column: str, prefix: str, values: Sequence[Any], params: dict[str, Any]) -> str:
    names = []
    for index, value in enumerate(values):
        params[f"{prefix}{index}"] = value
        names.append(f":{prefix}{index}")
    return f"{column} IN ({', '.join(names)})"

