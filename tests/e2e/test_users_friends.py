"""Users and friends with the real ``open-im-sdk@3.5.2`` client against a real server.

Each scenario logs in the users involved plus a bystander and records every callback each
client got; the assertions check that each push reached exactly the users it concerns, and
that each refusal carries OpenIM's code and changed nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_jssdk import IOS, WEB, account, accounts

ARGS, NO_PERMISSION, DUPLICATE, NOT_FOUND, NO_USER = 1001, 1002, 1003, 1004, 1101
CANNOT_ADD_SELF, BLOCKED, NOT_FRIEND, ALREADY_FRIENDS = 1301, 1302, 1303, 1304
SDK_ARGS = 10002
ACCEPTED, REFUSED = 1, -1
RELATIONSHIP_FRIEND = 1


def only(events: list[str], *allowed: str) -> list[str]:
    """The events outside ``allowed`` (so an assertion shows the unexpected ones)."""
    return [e for e in events if e not in allowed]


# -- friend applications ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def friends(tmp_path_factory, jssdk) -> dict[str, Any]:
    """One run of the application flow (apply, accept, remark, delete; a refusal)."""
    from tests.support.server import start_server

    with start_server(tmp_path_factory.mktemp("oimws-friends")) as running:
        return jssdk.run(running, "friends", accounts(running, "alice", "bob", "carol"))


def test_an_application_reaches_applicant_and_recipient(friends):
    for side in ("alice", "bob"):
        added = friends["applied"][side]
        assert (added["fromUserID"], added["toUserID"], added["reqMsg"], added["ex"],
                added["handleResult"]) == ("alice", "bob", "hello bob", "ex-1", 0), added
        assert added["createTime"] > 0
    [received] = friends["lists"]["bobReceived"]
    [sent] = friends["lists"]["aliceSent"]
    assert received["fromUserID"] == sent["fromUserID"] == "alice"
    assert received["toUserID"] == sent["toUserID"] == "bob"


def test_accepting_makes_both_friends_and_tells_both(friends):
    for side, peer in (("alice", "bob"), ("bob", "alice")):
        accepted = friends["accepted"][side]
        assert (accepted["handleResult"], accepted["handleMsg"], accepted["handlerUserID"]) == (
            ACCEPTED, "welcome", "bob"), accepted
        added = friends["added"][side]
        assert (added["ownerUserID"], added["userID"]) == (side, peer), added
        [entry] = friends["friendLists"][side]
        assert entry["friendInfo"]["userID"] == peer and entry["blackInfo"] is None, entry
    assert friends["friendLists"]["carol"] == []
    assert friends["checked"] == [{"userID": "bob", "result": 1},
                                  {"userID": "carol", "result": 0}]
    assert [e["friendInfo"]["userID"] for e in friends["specified"]] == ["bob"]


def test_the_bystander_hears_nothing_of_the_friendship(friends):
    assert friends["carolAfterFriendship"] == []


def test_remark_search_and_delete_concern_only_the_owner(friends):
    remarked = friends["remarked"]
    assert (remarked["ownerUserID"], remarked["userID"], remarked["remark"]) == (
        "alice", "bob", "Bobby")
    assert [(s["userID"], s["relationship"]) for s in friends["searched"]] == [
        ("bob", RELATIONSHIP_FRIEND)]
    deleted = friends["deleted"]
    assert (deleted["ownerUserID"], deleted["userID"]) == ("alice", "bob")
    assert friends["afterDelete"]["alice"] == []
    [still] = friends["afterDelete"]["bob"]  # deleting is one-directional
    assert still["friendInfo"]["userID"] == "alice"
    assert friends["bobAfterRemarkAndDelete"] == []


def test_a_refusal_tells_both_and_not_the_bystander(friends):
    for side in ("carol", "bob"):
        rejected = friends["rejected"][side]
        assert (rejected["fromUserID"], rejected["handleResult"], rejected["handleMsg"]) == (
            "carol", REFUSED, "no thanks"), rejected
    assert friends["carolFriends"] == []
    assert friends["aliceDuringRefusal"] == []


def test_each_client_got_exactly_the_friend_callbacks_meant_for_it(friends):
    events = friends["events"]
    assert events["alice"] == [
        "OnFriendApplicationAdded", "OnFriendApplicationAccepted", "OnFriendAdded",
        "OnFriendInfoChanged", "OnFriendDeleted"], events["alice"]
    assert events["bob"] == [
        "OnFriendApplicationAdded", "OnFriendApplicationAccepted", "OnFriendAdded",
        "OnFriendApplicationAdded", "OnFriendApplicationRejected"], events["bob"]
    assert events["carol"] == ["OnFriendApplicationAdded", "OnFriendApplicationRejected"]


def test_friend_refusals_carry_openims_codes_and_change_nothing(server, jssdk):
    result = jssdk.run(server, "friends_refusals", accounts(server, "alice", "bob", "carol"))
    codes = {name: refusal["errCode"] for name, refusal in result["refusals"].items()}
    assert codes == {
        "addSelf": CANNOT_ADD_SELF,
        "addUnknown": NO_USER,
        "addFriendAgain": ALREADY_FRIENDS,
        "addBlockedBy": BLOCKED,
        "addWithoutTarget": SDK_ARGS,
        "acceptMissing": NOT_FOUND,
        "refuseMissing": NOT_FOUND,
        "remarkStranger": NOT_FOUND,
        "deleteStranger": NOT_FOUND,
        "blockSelf": CANNOT_ADD_SELF,
        "blockUnknown": NO_USER,
        "blockAgain": DUPLICATE,
        "unblockStranger": NOT_FOUND,
        "searchWithoutFields": SDK_ARGS,
    }
    assert "toUserID" in result["refusals"]["addWithoutTarget"]["errMsg"]
    after = result["after"]
    [friend] = after["aliceFriends"]
    assert friend["friendInfo"]["remark"] == ""
    assert [(a["fromUserID"], a["handleResult"]) for a in after["bobReceived"]] == [
        ("alice", ACCEPTED)]
    assert after["carolReceived"] == [] and after["aliceBlacks"] == []
    assert [b["userID"] for b in after["carolBlacks"]] == ["alice"]
    assert result["events"] == {"alice": [], "bob": [], "carol": []}


# -- blacklist --------------------------------------------------------------------------------


def test_a_blocked_user_cannot_message_the_blocker(server, jssdk):
    result = jssdk.run(server, "friends_blacklist", accounts(server, "alice", "bob", "carol"))
    assert (result["blackAdded"]["ownerUserID"], result["blackAdded"]["userID"],
            result["blackAdded"]["ex"]) == ("bob", "alice", "spam")
    assert [b["userID"] for b in result["blackList"]] == ["alice"]
    assert result["refused"]["errCode"] == BLOCKED, result["refused"]
    # the conversation holds only bob's message; alice's refused one is nowhere
    assert [m["clientMsgID"] for m in result["history"]["messageList"]] == [
        result["fromBlockerClientMsgID"]]
    [conversation] = result["bobConversations"]
    assert conversation["conversationID"] == "si_alice_bob"
    assert conversation["unreadCount"] == 0
    assert result["blockedClientMsgID"] not in result["bobReceivedWhileBlocked"]
    assert result["blackDeleted"]["userID"] == "alice"
    assert result["blackListAfter"] == []
    assert result["received"]["textElem"]["content"] == "thanks"
    events = result["events"]
    assert only(events["bob"], "OnConversationChanged", "OnNewConversation",
                "OnTotalUnreadMessageCountChanged", "OnRecvNewMessages") == [
        "OnBlackAdded", "OnBlackDeleted"]
    assert "OnBlackAdded" not in events["alice"] and "OnBlackDeleted" not in events["alice"]
    assert events["carol"] == []


def test_friendship_can_be_required_for_chat(server_factory, jssdk):
    server = server_factory(env={"OIMWS_FRIEND_REQUIRED_FOR_CHAT": "true"})
    result = jssdk.run(server, "friends_required", accounts(server, "alice", "bob"))
    assert result["asStranger"]["errCode"] == NOT_FRIEND, result["asStranger"]
    assert result["asFriend"]["seq"] >= 1
    assert result["afterDeletion"]["errCode"] == NOT_FRIEND, result["afterDeletion"]


# -- users ------------------------------------------------------------------------------------


def test_profile_changes_reach_own_devices_and_friends_only(server, jssdk):
    server.register("alice", "bob", "carol")
    config = {
        "alice": account(server, "alice", WEB),
        "alice_phone": account(server, "alice", IOS),
        "bob": account(server, "bob"),
        "carol": account(server, "carol"),
    }
    result = jssdk.run(server, "users", config)

    for device in ("web", "phone"):
        info = result["selfUpdated"][device]
        assert (info["userID"], info["nickname"], info["faceURL"]) == (
            "alice", "Alicia", "https://face/new"), info
    changed = result["friendChanged"]
    assert (changed["ownerUserID"], changed["userID"], changed["nickname"],
            changed["faceURL"]) == ("bob", "alice", "Alicia", "https://face/new")
    assert result["after"]["nickname"] == "Alicia"
    assert result["after"]["createTime"] == result["before"]["createTime"]
    assert result["profileEvents"] == {"phone": ["OnSelfInfoUpdated"],
                                       "bob": ["OnFriendInfoChanged"], "carol": []}

    [as_bob] = result["asBob"]
    assert as_bob["publicInfo"]["nickname"] == "Alicia"
    assert as_bob["friendInfo"]["userID"] == "alice" and as_bob["blackInfo"] is None
    assert as_bob["groupMemberInfo"] is None
    [as_carol] = result["asCarol"]
    assert as_carol["publicInfo"]["nickname"] == "Alicia" and as_carol["friendInfo"] is None
    [bob_friend] = result["bobFriends"]
    assert bob_friend["friendInfo"]["nickname"] == "Alicia"

    assert result["optUpdated"]["globalRecvMsgOpt"] == 2
    assert result["bobEventsAfterOpt"] == []  # not something friends see
    assert result["badOpt"]["errCode"] == SDK_ARGS
    assert result["badNickname"]["errCode"] == SDK_ARGS
    assert "nickname" in result["badNickname"]["errMsg"]
    assert (result["final"]["nickname"], result["final"]["globalRecvMsgOpt"]) == ("Alicia", 2)


def test_status_subscribers_hear_each_platform_come_and_go(server, jssdk):
    server.register("alice", "bob", "carol")
    config = {
        "alice_web": account(server, "alice", WEB),
        "alice_phone": account(server, "alice", IOS),
        "bob": account(server, "bob"),
        "carol": account(server, "carol"),
    }
    result = jssdk.run(server, "users_status", config)

    assert result["subscribed"] == [{"userID": "alice", "status": 0, "platformIDs": []}]
    assert [(c["userID"], c["status"], c["platformIDs"]) for c in result["changes"]] == [
        ("alice", 1, [WEB]),
        ("alice", 1, [IOS, WEB]),
        ("alice", 1, [WEB]),
        ("alice", 0, []),
        ("alice", 1, [WEB]),
        ("alice", 0, []),
    ]
    assert result["whileOnline"] == [{"userID": "alice", "status": 1, "platformIDs": [IOS, WEB]}]
    assert result["afterUnsubscribe"] == []
    assert result["carolAfterUnsubscribe"] == []
    assert result["bobEvents"] == []
