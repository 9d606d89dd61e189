"""The dispatcher over the real handlers and a real store; the socket is a recorder."""

import json
from pathlib import Path
from typing import Any

import pytest

from oimws.config import Config
from oimws.context import AppContext
from oimws.delivery import SessionRegistry
from oimws.dispatch import Dispatcher, registered_functions
from oimws.protocol.codec import JsonEnvelopeCodec
from oimws.session import Session
from oimws.store import UserRecord
from oimws.store.sqlite import SqliteStore
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


@pytest.fixture
async def env(tmp_path: Path):
    config = Config(data_dir=tmp_path, secret="test-secret")
    store = SqliteStore(config.sqlite_path)
    await store.open()
    await store.register_users([UserRecord("alice", "Alice"), UserRecord("bob", "Bob")])
    codec = JsonEnvelopeCodec()
    ctx = AppContext(config=config, store=store,
                     delivery=SessionRegistry(codec, config.write_buffer_limit),
                     tokens=TokenService(config.secret, 3600), codec=codec)
    yield ctx, Dispatcher(ctx)
    await store.close()


async def request(dispatcher: Dispatcher, session: Session, payload: bytes | str,
                  ) -> dict[str, Any]:
    connection = session.connection
    assert isinstance(connection, RecordingConnection)
    count = len(connection.frames)
    dispatcher.handle_payload(session, payload.encode() if isinstance(payload, str) else payload)
    await dispatcher.drain()
    answers = [f for f in connection.frames[count:]
               if f["operationID"] or f["event"] == "Protocol Error"]
    assert answers, "no answer"
    return answers[-1]


def call(func: str, data: str = "[]", op: str = "op-1") -> str:
    return json.dumps({"reqFuncName": func, "operationID": op, "userID": "alice", "data": data})


def new_session(user: str = "alice") -> Session:
    return Session(user, 5, RecordingConnection())


async def login(ctx: AppContext, dispatcher: Dispatcher, session: Session) -> None:
    token = ctx.tokens.issue(session.user_id, session.platform_id)
    reply = await request(dispatcher, session,
                          call("Login", json.dumps([session.user_id, token])))
    assert reply["errCode"] == 0, reply


async def test_malformed_json_is_a_protocol_error(env):
    _, dispatcher = env
    reply = await request(dispatcher, new_session(), b"{not json")
    assert (reply["event"], reply["errCode"]) == ("Protocol Error", 20000)


async def test_unknown_function_is_named(env):
    ctx, dispatcher = env
    session = new_session()
    await login(ctx, dispatcher, session)
    reply = await request(dispatcher, session, call("NoSuchThing", op="op-7"))
    assert (reply["event"], reply["operationID"], reply["errCode"]) == (
        "NoSuchThing", "op-7", 10301)
    assert "NoSuchThing" in reply["errMsg"]


async def test_requests_before_login_get_10004(env):
    _, dispatcher = env
    reply = await request(dispatcher, new_session(), call("GetAllConversationList"))
    assert reply["errCode"] == 10004


async def test_bad_arguments_name_the_problem_and_the_session_keeps_working(env):
    ctx, dispatcher = env
    session = new_session()
    await login(ctx, dispatcher, session)
    reply = await request(dispatcher, session, call("CreateTextMessage", "[123]", op="op-3"))
    assert reply["errCode"] == 10002 and reply["operationID"] == "op-3"
    assert "argument 0 (text) must be a string" in reply["errMsg"]
    reply = await request(dispatcher, session, call("CreateTextMessage", "not json"))
    assert reply["errCode"] == 10002
    reply = await request(dispatcher, session, call("GetLoginStatus"))
    assert (reply["errCode"], json.loads(reply["data"])) == (0, 3)


async def test_login_pushes_connecting_then_success_then_answers(env):
    ctx, dispatcher = env
    session = new_session()
    await login(ctx, dispatcher, session)
    frames = session.connection.frames  # type: ignore[attr-defined]
    assert [f["event"] for f in frames] == ["OnConnecting", "OnConnectSuccess", "Login"]


async def test_login_with_a_token_of_someone_else_is_refused(env):
    ctx, dispatcher = env
    session = new_session("alice")
    token = ctx.tokens.issue("bob", 5)
    reply = await request(dispatcher, session, call("Login", json.dumps(["alice", token])))
    assert reply["errCode"] == 1502 and not session.logged_in


async def test_second_login_on_the_same_platform_kicks_the_first(env):
    ctx, dispatcher = env
    first, second, other_platform = new_session(), new_session(), Session(
        "alice", 1, RecordingConnection())
    for session in (first, other_platform, second):
        await login(ctx, dispatcher, session)
    assert first.connection.frames[-1]["event"] == "OnKickedOffline"  # type: ignore[attr-defined]
    assert first.connection.closed is not None  # type: ignore[attr-defined]
    assert other_platform.connection.closed is None  # type: ignore[attr-defined]
    assert set(ctx.delivery.sessions_of("alice")) == {second, other_platform}


async def test_a_stranger_cannot_read_a_conversation(env):
    ctx, dispatcher = env
    await ctx.store.register_users([UserRecord("carol")])
    alice = new_session("alice")
    await login(ctx, dispatcher, alice)
    text = await request(dispatcher, alice, call("CreateTextMessage", '["hi"]'))
    data = json.dumps([text["data"], "bob", "", "{}", False])
    assert (await request(dispatcher, alice, call("SendMessage", data)))["errCode"] == 0
    carol = new_session("carol")
    await login(ctx, dispatcher, carol)
    params = json.dumps({"conversationID": "si_alice_bob", "count": 10, "startClientMsgID": "",
                         "lastMinSeq": 0})
    reply = await request(dispatcher, carol,
                          call("GetAdvancedHistoryMessageList", json.dumps([params])))
    assert reply["errCode"] == 1002
    reply = await request(dispatcher, carol,
                          call("MarkConversationMessageAsRead", '["si_alice_bob"]'))
    assert reply["errCode"] == 1002
    bob = await ctx.store.get_conversation("bob", "si_alice_bob")
    assert bob is not None and bob.unread_count == 1


async def test_sending_as_someone_else_is_refused(env):
    ctx, dispatcher = env
    alice = new_session("alice")
    await login(ctx, dispatcher, alice)
    forged = {"clientMsgID": "x1", "sendID": "bob", "contentType": 101,
              "textElem": {"content": "hi"}}
    data = json.dumps([json.dumps(forged), "bob", "", "{}", False])
    reply = await request(dispatcher, alice, call("SendMessage", data))
    assert reply["errCode"] == 1002
    assert await ctx.store.get_history("si_alice_bob", 0, 10) == []


def test_every_function_declares_its_schema():
    names = {spec.name for spec in registered_functions()}
    assert {"Login", "Logout", "GetLoginStatus", "GetLoginUserID", "InitSDK",
            "SetAppBackgroundStatus", "NetworkStatusChanged", "CreateTextMessage",
            "CreateCustomMessage", "SendMessage", "SendMessageNotOss",
            "GetAllConversationList", "GetOneConversation", "GetTotalUnreadMsgCount",
            "MarkConversationMessageAsRead", "GetAdvancedHistoryMessageList"} <= names


async def test_a_note_to_oneself_is_announced_once(env):
    ctx, dispatcher = env
    alice = new_session("alice")
    await login(ctx, dispatcher, alice)
    text = await request(dispatcher, alice, call("CreateTextMessage", '["note"]'))
    reply = await request(dispatcher, alice, call(
        "SendMessage", json.dumps([text["data"], "alice", "", "{}", False])))
    assert reply["errCode"] == 0
    events = [f["event"] for f in alice.connection.frames]  # type: ignore[attr-defined]
    assert events.count("OnNewConversation") == 1
    assert events.count("OnTotalUnreadMessageCountChanged") == 1
    own = await ctx.store.get_conversation("alice", "si_alice_alice")
    assert own is not None and own.unread_count == 0


async def test_conversation_ids_must_have_a_known_prefix(env):
    ctx, dispatcher = env
    alice = new_session("alice")
    await login(ctx, dispatcher, alice)
    params = json.dumps({"conversationID": "garbage", "count": 5})
    reply = await request(dispatcher, alice,
                          call("GetAdvancedHistoryMessageList", json.dumps([params])))
    assert reply["errCode"] == 10002 and "garbage" in reply["errMsg"]


async def test_self_user_info(env):
    ctx, dispatcher = env
    alice = new_session("alice")
    await login(ctx, dispatcher, alice)
    reply = await request(dispatcher, alice, call("GetSelfUserInfo"))
    info = json.loads(reply["data"])
    assert (info["userID"], info["nickname"], info["globalRecvMsgOpt"]) == ("alice", "Alice", 0)
    assert info["createTime"] > 0
