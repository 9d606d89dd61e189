"""Messages and conversations in the embedded store."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, ClassVar

import orjson

from oimws._speedups.ids import server_msg_id
from oimws.store.base import DuplicateClientMsgIDError, StoreError
from oimws.store.messages import (
    AppendResult,
    ConversationRecord,
    Message,
    MessageStore,
    ReadResult,
)
from oimws.store.sqlite.engine import Schema, SqliteEngine
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP

MESSAGE_STATUS_SUCCEEDED = 2

_CONVERSATION_COLUMNS = """
    uc.owner_id, uc.conversation_id, uc.conversation_type, uc.user_id, uc.group_id,
    uc.unread_count, uc.has_read_seq, COALESCE(cs.max_seq, 0), cs.latest_msg,
    COALESCE(cs.latest_msg_send_time, 0), uc.recv_msg_opt, uc.is_pinned, uc.draft_text,
    uc.draft_text_time, uc.ex, uc.attached_info
"""
_CONVERSATION_FROM = """
    FROM user_conversations uc
    LEFT JOIN conversation_state cs ON cs.conversation_id = uc.conversation_id
"""


def _conversation_from_row(row: Sequence[Any]) -> ConversationRecord:
    latest = row[8]
    return ConversationRecord(
        owner_id=row[0],
        conversation_id=row[1],
        conversation_type=row[2],
        user_id=row[3],
        group_id=row[4],
        unread_count=row[5],
        has_read_seq=row[6],
        max_seq=row[7],
        latest_msg=orjson.loads(latest) if latest else None,
        latest_msg_send_time=row[9],
        recv_msg_opt=row[10],
        is_pinned=bool(row[11]),
        draft_text=row[12],
        draft_text_time=row[13],
        ex=row[14],
        attached_info=row[15],
    )



class SqliteMessages(SqliteEngine, MessageStore):
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
            unread_count INTEGER NOT NULL DEFAULT 0,
            has_read_seq INTEGER NOT NULL DEFAULT 0,
            recv_msg_opt INTEGER NOT NULL DEFAULT 0,
            is_pinned INTEGER NOT NULL DEFAULT 0,
            draft_text TEXT NOT NULL DEFAULT '',
            draft_text_time INTEGER NOT NULL DEFAULT 0,
            ex TEXT NOT NULL DEFAULT '',
            attached_info TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (owner_id, conversation_id)
        ) WITHOUT ROWID;
        CREATE INDEX user_conversations_by_conversation ON user_conversations (conversation_id);
        """,
    ))

    # messages
    async def append_message(
        self, conversation_id: str, message: Message, participants: Sequence[str], *,
        counts_as_unread: bool = True,
    ) -> AppendResult:
        client_msg_id = message["clientMsgID"]
        sender = message["sendID"]
        group_id = message.get("groupID") or ""
        conversation_type = message["sessionType"]
        owners = list(dict.fromkeys(participants))

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
                "SELECT max_seq FROM conversation_state WHERE conversation_id = ?",
                (conversation_id,)).fetchone()
            seq = (state[0] if state else 0) + 1
            send_time = now_ms()
            stored = dict(message)
            stored["seq"] = seq
            stored["serverMsgID"] = server_msg_id(conversation_id, seq, send_time)
            stored["sendTime"] = send_time
            stored["status"] = MESSAGE_STATUS_SUCCEEDED
            body = orjson.dumps(stored)
            conn.execute(
                "INSERT INTO messages (conversation_id, seq, client_msg_id, server_msg_id,"
                " send_id, send_time, content_type, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, seq, client_msg_id, stored["serverMsgID"], sender,
                 send_time, stored["contentType"], body))
            conn.execute(
                "INSERT INTO conversation_state (conversation_id, max_seq, latest_msg,"
                " latest_msg_send_time) VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id)"
                " DO UPDATE SET max_seq = excluded.max_seq, latest_msg = excluded.latest_msg,"
                " latest_msg_send_time = excluded.latest_msg_send_time",
                (conversation_id, seq, body, send_time))
            new_owners = []
            for owner in owners:
                peer = ""
                if conversation_type != SESSION_GROUP:
                    peer = next((p for p in owners if p != owner), owner)
                created = conn.execute(
                    "INSERT OR IGNORE INTO user_conversations (owner_id, conversation_id,"
                    " conversation_type, user_id, group_id) VALUES (?, ?, ?, ?, ?)",
                    (owner, conversation_id, conversation_type, peer, group_id)).rowcount
                if created:
                    new_owners.append(owner)
                if owner == sender:
                    # What one sends oneself is read; keeps the receipt list to others' messages.
                    conn.execute(
                        "UPDATE user_conversations SET has_read_seq = ? WHERE owner_id = ?"
                        " AND conversation_id = ? AND unread_count = 0",
                        (seq, owner, conversation_id))
                elif counts_as_unread:
                    conn.execute(
                        "UPDATE user_conversations SET unread_count = unread_count + 1"
                        " WHERE owner_id = ? AND conversation_id = ?", (owner, conversation_id))
            return AppendResult(stored, created=True, new_conversation_owners=tuple(new_owners))

        result: AppendResult = await self._write(op)
        return result

    async def get_history(
        self, conversation_id: str, before_seq: int, count: int
    ) -> list[Message]:
        if before_seq <= 0:
            before_seq = 2**62
        rows = self._read().execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND seq < ?"
            " ORDER BY seq DESC LIMIT ?", (conversation_id, before_seq, count)).fetchall()
        return [orjson.loads(row[0]) for row in reversed(rows)]

    async def get_message(self, conversation_id: str, client_msg_id: str) -> Message | None:
        row = self._read().execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND client_msg_id = ?",
            (conversation_id, client_msg_id)).fetchone()
        return orjson.loads(row[0]) if row else None

    # conversations
    async def get_conversations(self, owner_id: str) -> list[ConversationRecord]:
        rows = self._read().execute(
            f"SELECT {_CONVERSATION_COLUMNS} {_CONVERSATION_FROM} WHERE uc.owner_id = ?"
            " ORDER BY uc.is_pinned DESC, cs.latest_msg_send_time DESC", (owner_id,)).fetchall()
        return [_conversation_from_row(row) for row in rows]

    async def get_conversation(
        self, owner_id: str, conversation_id: str
    ) -> ConversationRecord | None:
        row = self._read().execute(
            f"SELECT {_CONVERSATION_COLUMNS} {_CONVERSATION_FROM}"
            " WHERE uc.owner_id = ? AND uc.conversation_id = ?",
            (owner_id, conversation_id)).fetchone()
        return _conversation_from_row(row) if row else None

    async def get_conversation_members(self, conversation_id: str) -> list[ConversationRecord]:
        rows = self._read().execute(
            f"SELECT {_CONVERSATION_COLUMNS} {_CONVERSATION_FROM}"
            " WHERE uc.conversation_id = ?", (conversation_id,)).fetchall()
        return [_conversation_from_row(row) for row in rows]

    async def mark_conversation_read(self, owner_id: str, conversation_id: str) -> ReadResult:
        def op(conn: sqlite3.Connection) -> ReadResult:
            row = conn.execute(
                f"SELECT {_CONVERSATION_COLUMNS} {_CONVERSATION_FROM}"
                " WHERE uc.owner_id = ? AND uc.conversation_id = ?",
                (owner_id, conversation_id)).fetchone()
            if row is None:
                raise StoreError(f"{owner_id} has no conversation {conversation_id}")
            conversation = _conversation_from_row(row)
            read_ids = tuple(r[0] for r in conn.execute(
                "SELECT client_msg_id FROM messages WHERE conversation_id = ? AND seq > ?"
                " AND send_id != ? ORDER BY seq",
                (conversation_id, conversation.has_read_seq, owner_id)))
            conn.execute(
                "UPDATE user_conversations SET unread_count = 0, has_read_seq = ?"
                " WHERE owner_id = ? AND conversation_id = ?",
                (conversation.max_seq, owner_id, conversation_id))
            conversation.unread_count = 0
            conversation.has_read_seq = conversation.max_seq
            return ReadResult(conversation, read_ids)

        result: ReadResult = await self._write(op)
        return result
