"""Conversation functions: per-user settings kept on the server, lists, hiding, clearing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.harness import Harness, forget, pushes

CONV = "si_alice_bob"


@pytest.fixture
async def h(tmp_path: Path):
    harness = await Harness.start(tmp_path, "alice", "bob", "carol")
    yield harness
    await harness.stop()


async def send_text(h: Harness, session, recv_id: str, text: str) -> dict:
    message = await h.call(session, "CreateTextMessage", text)
    return await h.call(session, "SendMessage", message, recv_id, "", {}, False)


async def conversation(h: Harness, session, conversation_id: str = CONV) -> dict:
    [item] = await h.call(session, "GetMultipleConversation", [conversation_id])
    return item


async def test_settings_are_per_user_and_shared_by_devices(h: Harness):
    alice, bob = await h.login("alice"), await h.login("bob")
    alice_phone = await h.login("alice", 1)
    await send_text(h, alice, "bob", "hi")
    forget(alice_phone)
    await h.call(alice, "PinConversation", CONV, True)
    await h.call(alice, "SetConversationDraft", CONV, "half a thought")
    await h.call(alice, "SetConversationRecvMessageOpt", CONV, 2)
    await h.call(alice, "SetConversationPrivateChat", CONV, True)
    await h.call(alice, "SetConversationBurnDuration", CONV, 60)
    await h.call(alice, "SetOneConversationEx", CONV, "x")
    await h.call(alice, "SetConversationMsgDestructTime", CONV, 3600)
    await h.call(alice, "SetConversationIsMsgDestruct", CONV, True)
    mine = await conversation(h, alice_phone)  # another device sees the same state
    assert (mine["isPinned"], mine["draftText"], mine["recvMsgOpt"], mine["isPrivateChat"],
            mine["burnDuration"], mine["ex"], mine["msgDestructTime"],
            mine["isMsgDestruct"]) == (True, "half a thought", 2, True, 60, "x", 3600, True)
    assert mine["draftTextTime"] > 0
    assert pushes(alice_phone, "OnConversationChanged")
    theirs = await conversation(h, bob)
    assert (theirs["isPinned"], theirs["draftText"], theirs["recvMsgOpt"]) == (False, "", 0)
    assert await h.call(alice, "GetConversationRecvMessageOpt", [CONV, "si_x_y"]) == [
        {"conversationID": CONV, "result": 2}]


async def test_pinned_first_and_recv_opt_2_left_out_of_the_total(h: Harness):
    alice, bob, carol = await h.login("alice"), await h.login("bob"), await h.login("carol")
    await send_text(h, bob, "alice", "from bob")
    await send_text(h, carol, "alice", "from carol")
    order = [c["conversationID"] for c in await h.call(alice, "GetAllConversationList")]
    assert order == ["si_alice_carol", CONV]  # newest first
    await h.call(alice, "PinConversation", CONV, True)
    order = [c["conversationID"] for c in await h.call(alice, "GetAllConversationList")]
    assert order == [CONV, "si_alice_carol"]
    assert await h.call(alice, "GetTotalUnreadMsgCount") == 2
    await h.call(alice, "SetConversationRecvMessageOpt", CONV, 2)
    assert await h.call(alice, "GetTotalUnreadMsgCount") == 1
    assert await h.refused(alice, "SetConversationRecvMessageOpt", CONV, 3) == 10002


async def test_hide_until_the_next_message(h: Harness):
    alice, bob = await h.login("alice"), await h.login("bob")
    await send_text(h, alice, "bob", "one")
    await h.call(bob, "HideConversation", CONV)
    assert await h.call(bob, "GetAllConversationList") == []
    await send_text(h, alice, "bob", "two")
    [back] = await h.call(bob, "GetAllConversationList")
    assert back["conversationID"] == CONV and back["unreadCount"] == 2
    await h.call(bob, "HideAllConversation")
    assert await h.call(bob, "GetAllConversationList") == []


async def test_clear_and_delete_are_for_the_caller_only(h: Harness):
    alice, bob = await h.login("alice"), await h.login("bob")
    for text in ("a", "b"):
        await send_text(h, alice, "bob", text)
    await h.call(bob, "ClearConversationAndDeleteAllMsg", CONV)
    cleared = await conversation(h, bob)
    assert (cleared["unreadCount"], cleared["latestMsg"]) == (0, "")
    page = await h.call(bob, "GetAdvancedHistoryMessageList",
                        {"conversationID": CONV, "count": 10})
    assert page["messageList"] == [] and page["isEnd"] is True
    kept = await h.call(alice, "GetAdvancedHistoryMessageList",
                        {"conversationID": CONV, "count": 10})
    assert len(kept["messageList"]) == 2
    await send_text(h, alice, "bob", "c")
    page = await h.call(bob, "GetAdvancedHistoryMessageList",
                        {"conversationID": CONV, "count": 10})
    assert [m["textElem"]["content"] for m in page["messageList"]] == ["c"]
    await h.call(bob, "DeleteConversationAndDeleteAllMsg", CONV)
    assert await h.call(bob, "GetAllConversationList") == []
    await h.call(alice, "DeleteAllMsgFromLocalAndSvr")
    page = await h.call(alice, "GetAdvancedHistoryMessageList",
                        {"conversationID": CONV, "count": 10})
    assert page["messageList"] == []


async def test_settings_need_a_conversation_of_ones_own(h: Harness):
    alice, bob, carol = await h.login("alice"), await h.login("bob"), await h.login("carol")
    await send_text(h, alice, "bob", "private")
    assert await h.refused(carol, "PinConversation", CONV, True) == 1002
    assert await h.refused(carol, "ClearConversationAndDeleteAllMsg", CONV) == 1002
    assert await h.refused(carol, "PinConversation", "si_carol_nobody", True) == 1004
    assert await h.refused(carol, "PinConversation", "bogus", True) == 10002
    assert (await conversation(h, bob))["isPinned"] is False
    # opening a conversation creates it, so settings work before the first message
    opened = await h.call(carol, "GetOneConversation", 1, "alice")
    assert opened["conversationID"] == "si_alice_carol"
    await h.call(carol, "SetConversationDraft", "si_alice_carol", "hello?")
    assert (await conversation(h, carol, "si_alice_carol"))["draftText"] == "hello?"


async def test_search_conversation_and_at_all_tag(h: Harness):
    alice = await h.login("alice")
    await send_text(h, alice, "bob", "x")
    found = await h.call(alice, "SearchConversation", "BO")
    assert [c["conversationID"] for c in found] == [CONV]
    assert await h.call(alice, "SearchConversation", "zzz") == []
    assert await h.call(alice, "GetAtAllTag") == "AtAllTag"


async def test_one_push_per_user_per_tick(h: Harness):
    import asyncio

    alice, bob = await h.login("alice"), await h.login("bob")
    forget(bob)
    messages = [await h.call(alice, "CreateTextMessage", f"m{i}") for i in range(5)]
    # five sends handled in one go: bob's conversation pushes are coalesced
    sends = [h.send(alice, "SendMessage", m, "bob", "", {}, False) for m in messages]
    await asyncio.gather(*sends)
    assert len(pushes(bob, "OnRecvNewMessages")) == 5
    changes = pushes(bob, "OnNewConversation") + pushes(bob, "OnConversationChanged")
    assert len(changes) < 5
    assert pushes(bob, "OnTotalUnreadMessageCountChanged")[-1] == 5


async def test_group_pushes_show_each_member_their_own_view(h: Harness):
    """After a group message every member is told their own item and total (shared
    encodings for members who see the same, not one member's view for all): the pushes
    equal what each member then reads."""
    alice, bob, carol = await h.login("alice"), await h.login("bob"), await h.login("carol")
    await h.call(alice, "CreateGroup", {"groupInfo": {"groupID": "g1", "groupName": "Hikers"},
                                        "memberUserIDs": ["bob", "carol"]})
    await h.call(bob, "PinConversation", "sg_g1", True)
    await send_text(h, carol, "bob", "carol to bob")
    forget(alice, bob, carol)
    message = await h.call(alice, "CreateTextMessage", "to the group")
    await h.call(alice, "SendMessage", message, "", "g1", {}, False)
    for session, pinned, unread, total in ((alice, False, 0, 0), (bob, True, 1, 2),
                                           (carol, False, 1, 1)):
        [[pushed]] = pushes(session, "OnConversationChanged")
        assert (pushed["isPinned"], pushed["unreadCount"]) == (pinned, unread)
        assert pushed == await conversation(h, session, "sg_g1")
        assert pushes(session, "OnTotalUnreadMessageCountChanged")[-1] == total
