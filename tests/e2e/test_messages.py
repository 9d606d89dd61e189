"""Messages and conversations through the real open-im-sdk client: group fan-out exactly once,
@mentions, revoke, typing, server-kept conversation state, and catching up after a drop."""

from __future__ import annotations

import json

from tests.e2e.test_jssdk import account, accounts


def test_group_message_reaches_each_member_once(server, jssdk):
    people = accounts(server, "owner", "alice", "bob", "carol", "dave")
    people["bobPhone"] = account(server, "bob", platform_id=1)
    result = jssdk.run(server, "group_chat", people)

    assert result["helloCounts"] == {"owner": 1, "alice": 0, "bob": 1, "carol": 1,
                                     "bobPhone": 1}, result["helloCounts"]
    assert result["daveGot"] == 0, "a non-member received group messages"
    assert result["atForBob"]["atTextElem"]["isAtSelf"] is True
    assert result["atForCarol"]["atTextElem"]["isAtSelf"] is False
    assert result["bobConversation"]["groupAtType"] == 1
    assert result["revoked"]["revokerID"] == "alice"
    assert result["revokeTwice"] == 1404
    types = [m["contentType"] for m in result["history"]["messageList"]]
    assert types == [1501, 2101, 101, 106], types
    assert result["typing"][0]["typingElem"]["msgTips"] == "typing"
    assert all(c["conversationID"] != "si_alice_dave" for c in result["daveConversations"])
    assert result["outsider"] == 1203


def test_conversation_state_is_the_same_on_a_new_device(server, jssdk):
    people = accounts(server, "alice", "bob")
    people["alicePhone"] = account(server, "alice", platform_id=1)
    result = jssdk.run(server, "conversation_settings", people)

    [seen] = result["seenByPhone"]
    assert (seen["isPinned"], seen["draftText"], seen["recvMsgOpt"], seen["unreadCount"]) == (
        True, "unsent words", 2, 2)
    assert result["totalOnPhone"] == 0  # recvMsgOpt 2 keeps it out of the total
    assert result["afterHide"] == []
    [back] = result["afterNewMessage"]
    assert back["unreadCount"] == 3
    assert json.loads(back["latestMsg"])["textElem"]["content"] == "three"
    assert result["cleared"]["messageList"] == []
    assert len(result["bobStillHas"]["messageList"]) == 3


def test_catching_up_after_a_dropped_connection(server, jssdk):
    result = jssdk.run(server, "catch_up", accounts(server, "alice", "bob"), messageCount=30)

    assert result["dropped"] and result["connectSuccesses"] >= 2
    sent = [m["clientMsgID"] for m in result["sent"]]
    got = [m["clientMsgID"] for m in result["history"]]
    assert got == sent, "history is missing, repeating or reordering messages"
    seqs = [m["seq"] for m in result["history"]]
    assert seqs == sorted(set(seqs)) and seqs == list(range(1, 31))
    assert result["conversation"]["unreadCount"] == 30
