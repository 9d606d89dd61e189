"""The dispatcher over the real handlers and a real store; the socket is a recorder."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oimws.dispatch import registered_functions
from oimws.store import UserRecord
from tests.unit.harness import Harness, envelope, frames_of


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness.running(tmp_path, "alice", "bob") as harness:
        yield harness


async def test_malformed_json_is_a_protocol_error(h: Harness):
    reply = await h.send_payload(h.session("alice"), b"{not json")
    assert (reply["event"], reply["errCode"]) == ("Protocol Error", 20000)


async def test_unknown_function_is_named(h: Harness):
    session = await h.login("alice")
    reply = await h.send(session, "NoSuchThing", operation_id="op-7")
    assert (reply["event"], reply["operationID"], reply["errCode"]) == (
        "NoSuchThing", "op-7", 10301)
    assert "NoSuchThing" in reply["errMsg"]


async def test_requests_before_login_get_10004(h: Harness):
    reply = await h.send(h.session("alice"), "GetAllConversationList")
    assert reply["errCode"] == 10004


async def test_bad_arguments_name_the_problem_and_the_session_keeps_working(h: Harness):
    session = await h.login("alice")
    reply = await h.send(session, "CreateTextMessage", 123, operation_id="op-3")
    assert reply["errCode"] == 10002 and reply["operationID"] == "op-3"
    assert "argument 0 (text) must be a string" in reply["errMsg"]
    reply = await h.send_payload(session, envelope("alice", "CreateTextMessage", "not json"))
    assert reply["errCode"] == 10002
    reply = await h.send(session, "GetLoginStatus")
    assert (reply["errCode"], json.loads(reply["data"])) == (0, 3)


async def test_login_pushes_connecting_then_success_then_answers(h: Harness):
    session = h.session("alice")
    token = h.ctx.tokens.issue("alice", session.platform_id)
    assert (await h.send(session, "Login", "alice", token))["errCode"] == 0
    assert [f["event"] for f in frames_of(session)] == [
        "OnConnecting", "OnConnectSuccess", "Login"]


async def test_login_with_a_token_of_someone_else_is_refused(h: Harness):
    session = h.session("alice")
    token = h.ctx.tokens.issue("bob", 5)
    reply = await h.send(session, "Login", "alice", token)
    assert reply["errCode"] == 1502 and not session.logged_in


async def test_second_login_on_the_same_platform_kicks_the_first(h: Harness):
    first, other_platform, second = (
        await h.login("alice"), await h.login("alice", 1), await h.login("alice"))
    assert frames_of(first)[-1]["event"] == "OnKickedOffline"
    assert first.connection.closed is not None  # type: ignore[attr-defined]
    assert other_platform.connection.closed is None  # type: ignore[attr-defined]
    assert set(h.ctx.delivery.sessions_of("alice")) == {second, other_platform}


async def test_a_stranger_cannot_read_a_conversation(h: Harness):
    await h.ctx.store.register_users([UserRecord("carol")])
    alice = await h.login("alice")
    text = await h.send(alice, "CreateTextMessage", "hi")
    assert (await h.send(alice, "SendMessage", text["data"], "bob", "", "{}", False)
            )["errCode"] == 0
    carol = await h.login("carol")
    params = {"conversationID": "si_alice_bob", "count": 10, "startClientMsgID": "",
              "lastMinSeq": 0}
    reply = await h.send(carol, "GetAdvancedHistoryMessageList", params)
    assert reply["errCode"] == 1002
    reply = await h.send(carol, "MarkConversationMessageAsRead", "si_alice_bob")
    assert reply["errCode"] == 1002
    bob = await h.ctx.store.get_conversation("bob", "si_alice_bob")
    assert bob is not None and bob.unread_count == 1


async def test_sending_as_someone_else_is_refused(h: Harness):
    alice = await h.login("alice")
    forged = {"clientMsgID": "x1", "sendID": "bob", "contentType": 101,
              "textElem": {"content": "hi"}}
    reply = await h.send(alice, "SendMessage", forged, "bob", "", "{}", False)
    assert reply["errCode"] == 1002
    assert await h.ctx.store.get_history("si_alice_bob", 0, 10) == []


def test_every_function_declares_its_schema():
    names = {spec.name for spec in registered_functions()}
    assert {"Login", "Logout", "GetLoginStatus", "GetLoginUserID", "InitSDK",
            "SetAppBackgroundStatus", "NetworkStatusChanged", "CreateTextMessage",
            "CreateCustomMessage", "SendMessage", "SendMessageNotOss",
            "GetAllConversationList", "GetOneConversation", "GetTotalUnreadMsgCount",
            "MarkConversationMessageAsRead", "GetAdvancedHistoryMessageList"} <= names


async def test_a_note_to_oneself_is_announced_once(h: Harness):
    alice = await h.login("alice")
    text = await h.send(alice, "CreateTextMessage", "note")
    reply = await h.send(alice, "SendMessage", text["data"], "alice", "", "{}", False)
    assert reply["errCode"] == 0
    events = [f["event"] for f in frames_of(alice)]
    assert events.count("OnNewConversation") == 1
    assert events.count("OnTotalUnreadMessageCountChanged") == 1
    own = await h.ctx.store.get_conversation("alice", "si_alice_alice")
    assert own is not None and own.unread_count == 0


async def test_conversation_ids_must_have_a_known_prefix(h: Harness):
    alice = await h.login("alice")
    reply = await h.send(alice, "GetAdvancedHistoryMessageList",
                         {"conversationID": "garbage", "count": 5})
    assert reply["errCode"] == 10002 and "garbage" in reply["errMsg"]


async def test_self_user_info(h: Harness):
    alice = await h.login("alice")
    reply = await h.send(alice, "GetSelfUserInfo")
    info = json.loads(reply["data"])
    assert (info["userID"], info["nickname"], info["globalRecvMsgOpt"]) == ("alice", "Alice", 0)
    assert info["createTime"] > 0


async def test_arguments_nested_too_deep_are_refused_not_left_unanswered(h: Harness):
    """A 300-level entity list was once accepted, then its answer could not be encoded
    (the JSON encoder stops at 254 levels) and the client heard nothing."""
    session = await h.login("alice")
    deep: object = 1
    for _ in range(300):
        deep = [deep]
    reply = await h.send(session, "CreateAdvancedTextMessage", "hi", json.dumps(deep),
                         operation_id="op-deep")
    assert (reply["errCode"], reply["operationID"]) == (10002, "op-deep")
    assert "nested deeper than" in reply["errMsg"]
    reply = await h.send(session, "GetLoginStatus")
    assert reply["errCode"] == 0
