"""The embedded store: SQLite in WAL mode with group commit.

One writer thread owns the write connection. Writes requested during one event-loop tick are
handed over together and committed in ONE transaction (one fsync), each inside its own
savepoint so a failing write does not take its neighbours down. Callers are answered only
after that commit. Reads use a second connection on the loop thread; WAL lets them proceed
while the writer commits, and they see only committed data.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from oimws._speedups.ids import server_msg_id
from oimws.store.base import (
    AppendResult,
    ConversationRecord,
    DuplicateClientMsgIDError,
    Message,
    ReadResult,
    Store,
    StoreError,
    UserRecord,
)
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP

log = logging.getLogger("oimws.store")

T = TypeVar("T")
WriteOp = Callable[[sqlite3.Connection], Any]

MESSAGE_STATUS_SUCCEEDED = 2

MIGRATIONS: tuple[str, ...] = (
    # 1: users, messages, per-conversation state, per-user conversations
    """
    CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        nickname TEXT NOT NULL DEFAULT '',
        face_url TEXT NOT NULL DEFAULT '',
        ex TEXT NOT NULL DEFAULT '',
        create_time INTEGER NOT NULL,
        global_recv_msg_opt INTEGER NOT NULL DEFAULT 0
    );
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
)


class _Batch:
    __slots__ = ("futures", "ops")

    def __init__(self) -> None:
        self.ops: list[WriteOp] = []
        self.futures: list[asyncio.Future[Any]] = []


_CLOSE = object()

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


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(
            f"database schema version {version} is newer than this oimws knows "
            f"({len(MIGRATIONS)}); upgrade oimws"
        )
    for number in range(version, len(MIGRATIONS)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("store schema migrated to version %d", number + 1)


class SqliteStore(Store):
    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self._path = path
        self._synchronous = synchronous.upper()
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: _Batch | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = True
        self.commit_count = 0  # transactions committed by the writer: one per batch

    # lifecycle
    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._loop = asyncio.get_running_loop()
        try:
            self._writer = _connect(self._path, self._synchronous)
            _migrate(self._writer)
            self._reader = _connect(self._path, self._synchronous)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store at {self._path}: {exc}") from exc
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="oimws-sqlite-writer",
                                        daemon=True)
        self._thread.start()
        log.info("store opened at %s (WAL, synchronous=%s)", self._path, self._synchronous)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._flush()
        self._queue.put(_CLOSE)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None
        log.info("store closed")

    # group commit
    def _write(self, op: WriteOp) -> asyncio.Future[Any]:
        if self._closed or self._loop is None:
            raise StoreError("store is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        if self._pending is None:
            self._pending = _Batch()
            self._loop.call_soon(self._flush)
        self._pending.ops.append(op)
        self._pending.futures.append(future)
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, None
        if batch is not None:
            self._queue.put(batch)

    def _write_loop(self) -> None:
        conn = self._writer
        assert conn is not None and self._loop is not None
        loop = self._loop
        while True:
            item = self._queue.get()
            if item is _CLOSE:
                return
            batch: _Batch = item
            outcomes = self._run_batch(conn, batch.ops)
            self.commit_count += 1
            loop.call_soon_threadsafe(_settle, batch.futures, outcomes)

    @staticmethod
    def _run_batch(conn: sqlite3.Connection, ops: list[WriteOp]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in ops:
                conn.execute("SAVEPOINT op")
                try:
                    outcomes.append((True, op(conn)))
                    conn.execute("RELEASE op")
                except Exception as exc:
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    outcomes.append((False, exc))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("store commit failed: %s", exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = StoreError(f"store write failed: {exc}")
            return [(False, failure)] * len(ops)
        return outcomes

    def _read(self) -> sqlite3.Connection:
        if self._reader is None:
            raise StoreError("store is closed")
        return self._reader

    async def check_writable(self) -> None:
        await self._write(lambda conn: conn.execute("PRAGMA user_version").fetchone())

    # users
    async def register_users(self, users: Sequence[UserRecord]) -> list[str]:
        rows = [(u.user_id, u.nickname, u.face_url, u.ex, u.create_time or now_ms(),
                 u.global_recv_msg_opt) for u in users]

        def op(conn: sqlite3.Connection) -> list[str]:
            existing = []
            for row in rows:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO users (user_id, nickname, face_url, ex, create_time,"
                    " global_recv_msg_opt) VALUES (?, ?, ?, ?, ?, ?)", row)
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
            "SELECT user_id, nickname, face_url, ex, create_time, global_recv_msg_opt"
            f" FROM users WHERE user_id IN ({marks})", list(user_ids)).fetchall()
        return {row[0]: UserRecord(*row) for row in rows}

    # messages
    async def append_message(
        self, conversation_id: str, message: Message, participants: Sequence[str]
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
                else:
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


def _settle(futures: list[asyncio.Future[Any]], outcomes: list[tuple[bool, Any]]) -> None:
    for future, (ok, value) in zip(futures, outcomes, strict=True):
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        elif isinstance(value, StoreError):
            future.set_exception(value)
        else:
            future.set_exception(StoreError(str(value)) if isinstance(value, sqlite3.Error)
                                 else value)
