"""Authorization, systematically: one table row per function that takes someone else's
conversation, group or message, and every admin endpoint against every kind of bad token.

A refusal must change nothing: the whole store is compared before and after.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from oimws.admin.endpoint import Access
from oimws.admin.server import all_endpoints
from oimws.protocol.errors import ErrCode
from tests.support.server import RunningServer, make_token
from tests.unit.harness import Harness

SI = "si_alice_bob"
SG = "sg_G1"


def snapshot(h: Harness) -> list[Any]:
    with sqlite3.connect(h.ctx.config.sqlite_path) as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return [(t, db.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    """alice and bob are friends and talked (msg-1); alice owns group G1 with bob (msg-g),
    whose member list only members see (lookMemberInfo 1); carol and dave are strangers."""
    async with Harness.running(tmp_path, "alice", "bob", "carol", "dave") as harness:
        alice, bob = await harness.login("alice"), await harness.login("bob")
        await harness.befriend(alice, bob)
        await harness.call(alice, "CreateGroup", {
            "memberUserIDs": ["bob"], "adminUserIDs": [],
            "groupInfo": {"groupID": "G1", "groupName": "g", "groupType": 2}})
        await harness.call(alice, "SetGroupLookMemberInfo", "G1", 1)
        for to, group, msg_id in (("bob", "", "msg-1"), ("", "G1", "msg-g")):
            text = await harness.call(alice, "CreateTextMessage", "secret")
            text["clientMsgID"] = msg_id
            await harness.call(alice, "SendMessage", text, to, group, {}, False)
        yield harness


# (function, arguments) a stranger (carol) must be refused. Arguments aim at alice's and
# bob's one-to-one conversation, alice's group G1 (carol is no member) and their messages.
STRANGER: list[tuple[str, tuple[Any, ...]]] = [
    ("ClearConversationAndDeleteAllMsg", (SI,)),
    ("ClearConversationAndDeleteAllMsg", (SG,)),
    ("DeleteConversationAndDeleteAllMsg", (SI,)),
    ("DeleteMessage", (SI, "msg-1")),
    ("DeleteMessage", (SG, "msg-g")),
    ("DeleteMessageFromLocalStorage", (SI, "msg-1")),
    ("RevokeMessage", (SI, "msg-1")),
    ("RevokeMessage", (SG, "msg-g")),
    ("SetMessageLocalEx", (SI, "msg-1", "mine")),
    ("MarkConversationMessageAsRead", (SI,)),
    ("MarkConversationMessageAsRead", (SG,)),
    ("MarkMessagesAsReadByMsgID", (SI, ["msg-1"])),
    ("MarkMessagesAsReadByMsgID", (SG, ["msg-g"])),
    ("PinConversation", (SI, True)),
    ("HideConversation", (SI,)),
    ("ResetConversationGroupAtType", (SG,)),
    ("SetConversationDraft", (SI, "draft")),
    ("SetConversationBurnDuration", (SI, 30)),
    ("SetConversationIsMsgDestruct", (SI, True)),
    ("SetConversationMsgDestructTime", (SI, 3600)),
    ("SetConversationPrivateChat", (SI, True)),
    ("SetConversationRecvMessageOpt", (SI, 2)),
    ("SetOneConversationEx", (SI, "ex")),
    ("GetAdvancedHistoryMessageList", ({"conversationID": SI, "count": 10,
                                        "startClientMsgID": "", "lastMinSeq": 0},)),
    ("GetAdvancedHistoryMessageListReverse", ({"conversationID": SG, "count": 10,
                                               "startClientMsgID": "", "lastMinSeq": 0},)),
    ("SearchLocalMessages", ({"conversationID": SI, "keywordList": ["secret"], "count": 10,
                              "pageIndex": 1},)),
    ("SendMessage", ({"clientMsgID": "x"}, "", "G1", {}, False)),
    ("InsertGroupMessageToLocalStorage", ({"clientMsgID": "ins"}, "G1", "carol")),
    ("InsertSingleMessageToLocalStorage", ({"clientMsgID": "ins"}, "bob", "alice")),
    ("GetGroupMemberList", ("G1", 0, 0, 10)),
    ("GetSpecifiedGroupMembersInfo", ("G1", ["alice"])),
    ("GetGroupMemberOwnerAndAdmin", ("G1",)),
    ("GetGroupMemberListByJoinTimeFilter", ("G1", 0, 10, 0, 0, [])),
    ("SearchGroupMembers", ({"groupID": "G1", "keywordList": ["a"], "isSearchUserID": True,
                             "isSearchMemberNickname": True, "offset": 0, "count": 10},)),
    ("InviteUserToGroup", ("G1", "", ["dave"])),
    ("KickGroupMember", ("G1", "", ["bob"])),
    ("QuitGroup", ("G1",)),
    ("DismissGroup", ("G1",)),
    ("TransferGroupOwner", ("G1", "carol")),
    ("ChangeGroupMute", ("G1", True)),
    ("ChangeGroupMemberMute", ("G1", "bob", 60)),
    ("SetGroupInfo", ({"groupID": "G1", "groupName": "mine"},)),
    ("SetGroupMemberInfo", ({"groupID": "G1", "userID": "bob", "nickname": "x"},)),
    ("SetGroupMemberNickname", ("G1", "bob", "x")),
    ("SetGroupMemberRoleLevel", ("G1", "bob", 60)),
    ("SetGroupVerification", ("G1", 2)),
    ("SetGroupLookMemberInfo", ("G1", 1)),
    ("SetGroupApplyMemberFriend", ("G1", 1)),
    ("AcceptGroupApplication", ("G1", "dave", "ok")),
    ("RefuseGroupApplication", ("G1", "dave", "no")),
]

# What a plain member (bob) of alice's group must be refused.
MEMBER: list[tuple[str, tuple[Any, ...]]] = [
    ("DismissGroup", ("G1",)),
    ("TransferGroupOwner", ("G1", "bob")),
    ("KickGroupMember", ("G1", "", ["alice"])),
    ("ChangeGroupMute", ("G1", True)),
    ("ChangeGroupMemberMute", ("G1", "alice", 60)),
    ("SetGroupInfo", ({"groupID": "G1", "groupName": "mine"},)),
    ("SetGroupMemberRoleLevel", ("G1", "bob", 100)),
    ("SetGroupMemberNickname", ("G1", "alice", "x")),
    ("SetGroupVerification", ("G1", 2)),
    ("SetGroupLookMemberInfo", ("G1", 1)),
    ("SetGroupApplyMemberFriend", ("G1", 1)),
    ("RevokeMessage", (SG, "msg-g")),
    ("InsertGroupMessageToLocalStorage", ({"clientMsgID": "ins"}, "G1", "alice")),
]


def _ids(table: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    return [f"{name}-{index}" for index, (name, _) in enumerate(table)]


async def _refused_and_unchanged(h: Harness, user: str, func: str, args: tuple[Any, ...]
                                 ) -> None:
    session = await h.login(user)
    before = snapshot(h)
    reply = await h.send(session, func, *args)
    assert reply["errCode"] not in (0, ErrCode.SERVER_INTERNAL), reply
    assert "secret" not in (reply["data"] or ""), reply
    assert snapshot(h) == before, f"{func} was refused but changed the store"


@pytest.mark.parametrize(("func", "args"), STRANGER, ids=_ids(STRANGER))
async def test_a_stranger_is_refused_and_changes_nothing(h: Harness, func: str,
                                                        args: tuple[Any, ...]):
    await _refused_and_unchanged(h, "carol", func, args)


@pytest.mark.parametrize(("func", "args"), MEMBER, ids=_ids(MEMBER))
async def test_a_plain_member_is_refused_manager_functions(h: Harness, func: str,
                                                          args: tuple[Any, ...]):
    await _refused_and_unchanged(h, "bob", func, args)


async def test_reads_of_others_conversations_leak_nothing(h: Harness):
    carol = await h.login("carol")
    for func, args in [("GetMultipleConversation", ([SI, SG],)),
                       ("GetConversationRecvMessageOpt", ([SI, SG],)),
                       ("FindMessageList", ([{"conversationID": SI, "clientMsgIDList":
                                              ["msg-1"]}],))]:
        reply = await h.send(carol, func, *args)
        assert reply["errCode"] != ErrCode.SERVER_INTERNAL, reply
        assert "secret" not in (reply["data"] or "") and "msg-1" not in (reply["data"] or ""), (
            func, reply)


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_in_band_login_refuses_every_bad_token(h: Harness):
    """The upgrade checks tokens (tests/e2e); Login checks again, on its own argument."""
    secret, now = h.ctx.config.secret, int(time.time())
    bad = {
        "forged": make_token("other-secret", "alice"),
        "alg-none": _unsigned({"UserID": "alice", "PlatformID": 5, "exp": now + 3600,
                               "nbf": now, "iat": now}),
        "expired": make_token(secret, "alice", expires_in=-60, not_before=now - 120,
                              issued_at=now - 120),
        "not-yet-valid": make_token(secret, "alice", not_before=now + 600),
        "other-platform": make_token(secret, "alice", 1),
        "other-user": make_token(secret, "bob"),
        "garbage": "a.b.c",
    }
    for name, token in bad.items():
        session = h.session("alice")
        reply = await h.send(session, "Login", "alice", token)
        assert 1501 <= reply["errCode"] <= 1507, (name, reply)
        assert not session.logged_in, name
        assert (await h.send(session, "GetAllConversationList"))["errCode"] == 10004, name


ADMIN_ENDPOINTS = [e.path for e in all_endpoints() if e.access is Access.ADMIN]


def test_every_admin_endpoint_refuses_user_and_bad_tokens(shared_server: RunningServer):
    server = shared_server
    server.register("authz-user")
    now = int(time.time())
    tokens = {
        "user": (server.user_token("authz-user"), {1002}),
        "forged": (make_token("other-secret", "imAdmin"), {1502}),
        "alg-none": (_unsigned({"UserID": "imAdmin", "PlatformID": 10, "exp": now + 3600,
                                "nbf": now, "iat": now}), {1502, 1503}),
        "expired": (make_token(server.secret, "imAdmin", 10, expires_in=-60,
                               not_before=now - 120, issued_at=now - 120), {1501}),
        "missing": (None, {1507}),
    }
    assert ADMIN_ENDPOINTS
    failures = []
    for path in ADMIN_ENDPOINTS:
        for name, (token, codes) in tokens.items():
            status, envelope = server.post(path, {}, token=token)
            if status != 200 or envelope.get("errCode") not in codes:
                failures.append((path, name, status, envelope))
    assert not failures, failures
