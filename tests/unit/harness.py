"""Running handlers for real (real Dispatcher, real SqliteStore) without sockets: each
session's connection records the frames it would have been sent."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from oimws.config import Config
from oimws.context import AppContext
from oimws.delivery import SessionRegistry
from oimws.dispatch import Dispatcher
from oimws.protocol.codec import JsonEnvelopeCodec
from oimws.session import Session
from oimws.store.sqlite import SqliteStore
from oimws.store.users import UserRecord
from oimws.tokens import TokenService


class RecordingConnection:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None

    def send_frame(self, frame: bytes) -> None:
        self.frames.append(json.loads(frame))

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    @property
    def raw_transport(self) -> Any:
        return None


class Harness:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.dispatcher = Dispatcher(ctx)

    @classmethod
    async def start(cls, tmp_path: Path, *users: str | UserRecord, **settings: Any) -> Harness:
        """A store with these users registered (a bare ID gets its capitalised form as
        nickname) and a dispatcher over it; ``settings`` are ``Config`` fields."""
        config = Config(data_dir=tmp_path, secret="test-secret", **settings)
        store = SqliteStore(config.sqlite_path)
        await store.open()
        await store.register_users([u if isinstance(u, UserRecord) else
                                    UserRecord(u, u.capitalize()) for u in users])
        codec = JsonEnvelopeCodec()
        ctx = AppContext(config=config, store=store,
                         delivery=SessionRegistry(codec, config.write_buffer_limit),
                         tokens=TokenService(config.secret, 3600), codec=codec)
        return cls(ctx)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, tmp_path: Path, *users: str | UserRecord, **settings: Any
                      ) -> AsyncIterator[Harness]:
        """``start``, then ``stop`` however the block ends."""
        harness = await cls.start(tmp_path, *users, **settings)
        try:
            yield harness
        finally:
            await harness.stop()

    async def stop(self) -> None:
        await self.ctx.store.close()

    def session(self, user_id: str, platform_id: int = 5) -> Session:
        """A connected session, not logged in yet."""
        return Session(user_id, platform_id, RecordingConnection())

    async def login(self, user_id: str, platform_id: int = 5) -> Session:
        """A logged-in session that has recorded nothing yet (what Login sent it is
        forgotten)."""
        session = self.session(user_id, platform_id)
        token = self.ctx.tokens.issue(user_id, platform_id)
        reply = await self.send(session, "Login", user_id, token)
        assert reply["errCode"] == 0, reply
        forget(session)
        return session

    async def send_payload(self, session: Session, payload: bytes | str) -> dict[str, Any]:
        connection = frames_of(session)
        count = len(connection)
        self.dispatcher.handle_payload(
            session, payload.encode() if isinstance(payload, str) else payload)
        await self.dispatcher.drain()
        answers = [f for f in connection[count:] if f.get("operationID")
                   or f.get("event") == "Protocol Error"]
        assert answers, "no answer"
        return answers[-1]

    async def send(self, session: Session, func: str, *args: Any, raw: bool = False,
                   operation_id: str = "") -> dict[str, Any]:
        """Call like the jssdk: objects and arrays double-encoded (unless ``raw``); returns
        the reply frame."""
        encoded = [a if raw or not isinstance(a, dict | list) else json.dumps(a) for a in args]
        reply = await self.send_payload(session, envelope(
            session.user_id, func, json.dumps(encoded), operation_id or f"op-{func}"))
        assert reply["event"] == func, reply
        return reply

    async def call(self, session: Session, func: str, *args: Any) -> Any:
        """Call and expect success; returns the decoded data."""
        reply = await self.send(session, func, *args)
        assert reply["errCode"] == 0, reply
        return json.loads(reply["data"]) if reply["data"] else None

    async def refusal(self, session: Session, func: str, *args: Any) -> dict[str, Any]:
        """Call and expect a refusal with a message; returns the reply frame."""
        reply = await self.send(session, func, *args)
        assert reply["errCode"] != 0, reply
        assert reply["errMsg"]
        return reply

    async def refused(self, session: Session, func: str, *args: Any) -> int:
        """Call and expect a refusal; returns its code."""
        return int((await self.refusal(session, func, *args))["errCode"])

    async def befriend(self, applicant: Session, recipient: Session) -> None:
        """Make two users friends (application, acceptance), forgetting the pushes."""
        await self.call(applicant, "AddFriend", {"toUserID": recipient.user_id, "reqMsg": "hi"})
        await self.call(recipient, "AcceptFriendApplication",
                        {"toUserID": applicant.user_id, "handleMsg": "ok"})
        forget(applicant, recipient)


def envelope(user_id: str, func: str, data: str = "[]", operation_id: str = "op-1") -> str:
    """A request frame as the jssdk sends it; ``data`` is the JSON of the argument array."""
    return json.dumps({"reqFuncName": func, "operationID": operation_id, "userID": user_id,
                       "data": data})


def frames_of(session: Session) -> list[dict[str, Any]]:
    connection = session.connection
    assert isinstance(connection, RecordingConnection)
    return connection.frames


def pushes(session: Session, event: str) -> list[Any]:
    """The decoded data of every push of ``event`` this session received so far."""
    return [json.loads(f["data"]) if f["data"] else None
            for f in frames_of(session) if f["event"] == event and not f["operationID"]]


def push_events(session: Session) -> list[str]:
    """The events of every push this session received so far, in order."""
    return [f["event"] for f in frames_of(session) if not f["operationID"]]


def forget(*sessions: Session) -> None:
    """Drop what the sessions received so far (to look at what comes next)."""
    for session in sessions:
        frames_of(session).clear()
