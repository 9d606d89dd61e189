"""Friend applications, the friend list and the blacklist through the real dispatcher and
store; every session is a recorder, so each test sees exactly which pushes reached whom."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from oimws.session import Session
from oimws.store import UserRecord
from tests.unit.harness import Harness, forget, push_events, pushes

WEB, IOS = 5, 1
USERS = tuple(UserRecord(u, u.title(), f"https://face/{u}") for u in ("alice", "bob", "carol"))
ARGS, NO_PERMISSION, DUPLICATE, NOT_FOUND, NO_USER = 1001, 1002, 1003, 1004, 1101
CANNOT_ADD_SELF, BLOCKED, NOT_FRIEND, ALREADY_FRIENDS = 1301, 1302, 1303, 1304
SDK_ARGS = 10002


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness.running(tmp_path, *USERS) as harness:
        yield harness


@pytest.fixture
async def trio(world: Harness) -> tuple[Session, Session, Session]:
    return (await world.login("alice"), await world.login("bob"), await world.login("carol"))


# applications -------------------------------------------------------------------------------


async def test_an_accepted_application_reaches_exactly_the_two_users(world: Harness, trio):
    alice, bob, carol = trio
    assert await world.call(alice, "AddFriend",
                            {"toUserID": "bob", "reqMsg": "hello", "ex": "x"}) is None
    for session in (alice, bob):
        [added] = pushes(session, "OnFriendApplicationAdded")
        assert (added["fromUserID"], added["fromNickname"], added["toUserID"],
                added["toNickname"], added["reqMsg"], added["handleResult"], added["ex"]) == (
            "alice", "Alice", "bob", "Bob", "hello", 0, "x")
        assert added["fromFaceURL"] == "https://face/alice" and added["createTime"] > 0
    [received] = await world.call(bob, "GetFriendApplicationListAsRecipient")
    assert (received["fromUserID"], received["reqMsg"]) == ("alice", "hello")
    [sent] = await world.call(alice, "GetFriendApplicationListAsApplicant")
    assert sent == received
    assert await world.call(carol, "GetFriendApplicationListAsRecipient") == []

    await world.call(bob, "AcceptFriendApplication", {"toUserID": "alice", "handleMsg": "sure"})
    for session, peer in ((alice, "bob"), (bob, "alice")):
        [accepted] = pushes(session, "OnFriendApplicationAccepted")
        assert (accepted["fromUserID"], accepted["handleResult"], accepted["handleMsg"],
                accepted["handlerUserID"]) == ("alice", 1, "sure", "bob")
        [friend] = pushes(session, "OnFriendAdded")
        assert (friend["ownerUserID"], friend["userID"], friend["nickname"],
                friend["addSource"]) == (session.user_id, peer, peer.title(), 2)
        [entry] = await world.call(session, "GetFriendList")
        assert entry["friendInfo"]["userID"] == peer and entry["blackInfo"] is None
        assert entry["publicInfo"]["nickname"] == peer.title()
    assert push_events(carol) == []
    assert await world.call(alice, "CheckFriend", ["bob", "carol"]) == [
        {"userID": "bob", "result": 1}, {"userID": "carol", "result": 0}]


async def test_a_refused_application_tells_both_and_makes_no_friends(world: Harness, trio):
    alice, bob, carol = trio
    await world.call(alice, "AddFriend", {"toUserID": "bob", "reqMsg": "hello"})
    await world.call(bob, "RefuseFriendApplication", {"toUserID": "alice", "handleMsg": "no"})
    for session in (alice, bob):
        [rejected] = pushes(session, "OnFriendApplicationRejected")
        assert (rejected["handleResult"], rejected["handleMsg"]) == (-1, "no")
        assert pushes(session, "OnFriendAdded") == []
        assert await world.call(session, "GetFriendList") == []
    assert push_events(carol) == []


async def test_every_device_of_both_users_hears_of_the_application(world: Harness, trio):
    alice, bob, _ = trio
    alice_phone = await world.login("alice", IOS)
    await world.call(alice, "AddFriend", {"toUserID": "bob"})
    assert len(pushes(alice_phone, "OnFriendApplicationAdded")) == 1
    assert len(pushes(bob, "OnFriendApplicationAdded")) == 1


async def test_mutual_applications_are_both_settled_by_one_accept(world: Harness, trio):
    alice, bob, _ = trio
    await world.call(alice, "AddFriend", {"toUserID": "bob"})
    await world.call(bob, "AddFriend", {"toUserID": "alice"})
    await world.call(bob, "AcceptFriendApplication", {"toUserID": "alice"})
    [mine] = await world.call(bob, "GetFriendApplicationListAsApplicant")
    assert mine["handleResult"] == 1
    assert (await world.refusal(alice, "AcceptFriendApplication", {"toUserID": "bob"})
            )["errCode"] == ARGS


@pytest.mark.parametrize(("params", "code", "named"), [
    ({"toUserID": "alice"}, CANNOT_ADD_SELF, ""),
    ({"toUserID": "nobody"}, NO_USER, "nobody"),
    ({}, SDK_ARGS, "toUserID"),
    ({"toUserID": 7}, SDK_ARGS, "toUserID"),
    ({"toUserID": "bob", "reqMsg": 5}, SDK_ARGS, "reqMsg"),
    ({"toUserID": "bob", "reqMsg": "x" * 256}, SDK_ARGS, "reqMsg"),
    ({"toUserID": "bob", "fromUserID": "carol"}, NO_PERMISSION, "carol"),
])
async def test_refused_applications_change_nothing(world: Harness, trio, params, code, named):
    alice, bob, _ = trio
    reply = await world.refusal(alice, "AddFriend", params)
    assert reply["errCode"] == code and named in reply["errMsg"]
    assert await world.call(bob, "GetFriendApplicationListAsRecipient") == []
    assert push_events(alice) == push_events(bob) == []


async def test_applying_to_a_friend_is_refused(world: Harness, trio):
    alice, bob, _ = trio
    await world.befriend(alice, bob)
    for applicant, recipient in ((alice, "bob"), (bob, "alice")):
        reply = await world.refusal(applicant, "AddFriend", {"toUserID": recipient})
        assert reply["errCode"] == ALREADY_FRIENDS
    assert push_events(alice) == push_events(bob) == []


async def test_a_blocked_user_cannot_apply(world: Harness, trio):
    alice, bob, _ = trio
    await world.call(bob, "AddBlack", "alice", "")
    assert (await world.refusal(alice, "AddFriend", {"toUserID": "bob"}))["errCode"] == BLOCKED
    assert await world.call(bob, "GetFriendApplicationListAsRecipient") == []
    assert pushes(bob, "OnFriendApplicationAdded") == []
    # the blocker may still apply to the one they blocked
    await world.call(bob, "AddFriend", {"toUserID": "alice"})


@pytest.mark.parametrize("func", ["AcceptFriendApplication", "RefuseFriendApplication"])
async def test_answering_a_missing_or_handled_application_is_refused(world: Harness, trio, func):
    alice, bob, carol = trio
    assert (await world.refusal(bob, func, {"toUserID": "alice"}))["errCode"] == NOT_FOUND
    await world.call(alice, "AddFriend", {"toUserID": "bob"})
    # only the recipient can answer: carol has no application from alice
    assert (await world.refusal(carol, func, {"toUserID": "alice"}))["errCode"] == NOT_FOUND
    await world.call(bob, "RefuseFriendApplication", {"toUserID": "alice"})
    for session in (alice, bob):
        forget(session)
    assert (await world.refusal(bob, func, {"toUserID": "alice"}))["errCode"] == ARGS
    assert await world.call(bob, "GetFriendList") == []
    assert push_events(alice) == push_events(bob) == []
    reply = await world.refusal(bob, func, {"handleMsg": "x"})
    assert reply["errCode"] == SDK_ARGS and "toUserID" in reply["errMsg"]


# the friend list ----------------------------------------------------------------------------


async def test_deleting_a_friend_is_one_directional(world: Harness, trio):
    alice, bob, carol = trio
    await world.befriend(alice, bob)
    await world.call(alice, "DeleteFriend", "bob")
    [deleted] = pushes(alice, "OnFriendDeleted")
    assert (deleted["ownerUserID"], deleted["userID"]) == ("alice", "bob")
    assert push_events(bob) == push_events(carol) == []
    assert await world.call(alice, "GetFriendList") == []
    [still] = await world.call(bob, "GetFriendList")
    assert still["friendInfo"]["userID"] == "alice"
    assert (await world.refusal(alice, "DeleteFriend", "bob"))["errCode"] == NOT_FOUND
    # alice may apply again: bob's side still lists her, hers does not
    await world.call(alice, "AddFriend", {"toUserID": "bob"})
    await world.call(bob, "AcceptFriendApplication", {"toUserID": "alice"})
    [re_added] = pushes(alice, "OnFriendAdded")
    assert re_added["userID"] == "bob"
    assert pushes(bob, "OnFriendAdded") == []  # bob's entry existed already


async def test_remark_pin_and_ex_tell_only_the_owners_devices(world: Harness, trio):
    alice, bob, carol = trio
    alice_phone = await world.login("alice", IOS)
    await world.befriend(alice, bob)
    await world.befriend(alice, carol)
    for session in (alice_phone, bob, carol):
        forget(session)

    await world.call(alice, "SetFriendRemark", {"toUserID": "carol", "remark": "Caz"})
    await world.call(alice, "PinFriends", {"toUserIDs": ["carol"], "isPinned": True})
    await world.call(alice, "SetFriendsEx", ["bob", "carol"], "tag")
    for session in (alice, alice_phone):
        changes = pushes(session, "OnFriendInfoChanged")
        assert [(c["userID"], c["remark"], c["isPinned"], c["ex"]) for c in changes] == [
            ("carol", "Caz", False, ""), ("carol", "Caz", True, ""),
            ("carol", "Caz", True, "tag"), ("bob", "", False, "tag")]  # list order
    assert push_events(bob) == push_events(carol) == []
    listed = await world.call(alice, "GetFriendList")
    assert [e["friendInfo"]["userID"] for e in listed] == ["carol", "bob"]  # pinned first
    assert [e["friendInfo"]["userID"] for e in await world.call(
        alice, "GetFriendListPage", 1, 10)] == ["bob"]
    [carol_entry] = await world.call(alice, "GetSpecifiedFriendsInfo", ["carol", "nobody"])
    assert carol_entry["friendInfo"]["remark"] == "Caz"


@pytest.mark.parametrize(("func", "args"), [
    ("SetFriendRemark", ({"toUserID": "carol", "remark": "x"},)),
    ("PinFriends", ({"toUserIDs": ["bob", "carol"], "isPinned": True},)),
    ("SetFriendsEx", (["bob", "carol"], "x")),
])
async def test_changing_a_non_friend_is_refused_and_changes_nothing(world: Harness, trio, func,
                                                                    args):
    alice, bob, _ = trio
    await world.befriend(alice, bob)
    assert (await world.refusal(alice, func, *args))["errCode"] == NOT_FOUND
    [entry] = await world.call(alice, "GetFriendList")
    assert (entry["friendInfo"]["remark"], entry["friendInfo"]["isPinned"],
            entry["friendInfo"]["ex"]) == ("", False, "")
    assert push_events(alice) == []


@pytest.mark.parametrize(("func", "args", "named"), [
    ("PinFriends", ({"toUserIDs": [], "isPinned": True},), "toUserIDs"),
    ("PinFriends", ({"toUserIDs": ["bob"], "isPinned": "yes"},), "isPinned"),
    ("SetFriendRemark", ({"toUserID": "bob", "remark": 3},), "remark"),
    ("SetFriendsEx", ("bob", "x"), "friendIDs"),
    ("CheckFriend", ([1, 2],), "userIDList"),
    ("GetFriendListPage", (-1, 10), "offset"),
    ("DeleteFriend", ("",), "friendUserID"),
    ("SearchFriends", ({"keywordList": [], "isSearchNickname": True},), "keywordList"),
    ("SearchFriends", ({"keywordList": ["b"]},), "isSearch"),
])
async def test_bad_arguments_are_named(world: Harness, trio, func, args, named):
    alice, _, _ = trio
    reply = await world.refusal(alice, func, *args)
    assert reply["errCode"] == SDK_ARGS and named in reply["errMsg"], reply


async def test_search_friends_by_id_nickname_or_remark(world: Harness, trio):
    alice, bob, carol = trio
    await world.befriend(alice, bob)
    await world.befriend(alice, carol)
    await world.call(alice, "SetFriendRemark", {"toUserID": "carol", "remark": "Neighbour"})
    await world.call(alice, "AddBlack", "bob", "")

    async def search(keyword: str, **fields: bool) -> list[tuple[str, int]]:
        found = await world.call(alice, "SearchFriends", {"keywordList": [keyword], **fields})
        return [(f["userID"], f["relationship"]) for f in found]

    assert await search("BO", isSearchNickname=True) == [("bob", 0)]  # blocked: 0
    assert await search("neigh", isSearchRemark=True) == [("carol", 1)]
    assert await search("neigh", isSearchNickname=True, isSearchUserID=True) == []
    assert await search("o", isSearchUserID=True) == [("bob", 0), ("carol", 1)]


# the blacklist ------------------------------------------------------------------------------


async def test_blocking_tells_only_the_blocker(world: Harness, trio):
    alice, bob, carol = trio
    await world.befriend(alice, bob)
    await world.call(alice, "AddBlack", "bob", "spam")
    [added] = pushes(alice, "OnBlackAdded")
    assert (added["ownerUserID"], added["userID"], added["nickname"], added["ex"]) == (
        "alice", "bob", "Bob", "spam")
    assert push_events(bob) == push_events(carol) == []
    [black] = await world.call(alice, "GetBlackList")
    assert black == added
    [entry] = await world.call(alice, "GetFriendList")  # still a friend, now with blackInfo
    assert entry["blackInfo"]["userID"] == "bob"
    assert await world.call(alice, "CheckFriend", ["bob"]) == [{"userID": "bob", "result": 0}]

    await world.call(alice, "RemoveBlack", "bob")
    [deleted] = pushes(alice, "OnBlackDeleted")
    assert deleted["userID"] == "bob"
    assert await world.call(alice, "GetBlackList") == []
    assert push_events(bob) == []


@pytest.mark.parametrize(("func", "args", "code"), [
    ("AddBlack", ("alice", ""), CANNOT_ADD_SELF),
    ("AddBlack", ("nobody", ""), NO_USER),
    ("AddBlack", ("carol", ""), DUPLICATE),
    ("RemoveBlack", ("bob",), NOT_FOUND),
    ("AddBlack", (42, ""), SDK_ARGS),
])
async def test_blacklist_refusals(world: Harness, trio, func, args, code):
    alice, _, _ = trio
    await world.call(alice, "AddBlack", "carol", "")
    forget(alice)
    assert (await world.refusal(alice, func, *args))["errCode"] == code
    assert [b["userID"] for b in await world.call(alice, "GetBlackList")] == ["carol"]
    assert push_events(alice) == []


# who may message whom -----------------------------------------------------------------------


async def send_text(world: Harness, sender: Session, recv_id: str, text: str,
                    online_only: bool = False) -> dict[str, Any]:
    created = await world.call(sender, "CreateTextMessage", text)
    return await world.send(sender, "SendMessage", created, recv_id, "", {}, online_only)


@pytest.mark.parametrize("online_only", [False, True])
async def test_a_blocked_senders_message_is_refused_and_not_stored(world: Harness, trio,
                                                                   online_only):
    alice, bob, _ = trio
    await world.befriend(alice, bob)
    await world.call(bob, "AddBlack", "alice", "")
    forget(bob)
    reply = await send_text(world, alice, "bob", "hi", online_only)
    assert reply["errCode"] == BLOCKED
    assert await world.ctx.store.get_history("si_alice_bob", 0, 10) == []
    assert await world.ctx.store.get_conversation("bob", "si_alice_bob") is None
    assert push_events(bob) == []
    # the blocker is not blocked: bob may still write to alice
    assert (await send_text(world, bob, "alice", "hello"))["errCode"] == 0
    await world.call(bob, "RemoveBlack", "alice")
    assert (await send_text(world, alice, "bob", "again"))["errCode"] == 0


async def test_strangers_chat_freely_by_default(world: Harness, trio):
    alice, _, _ = trio
    assert (await send_text(world, alice, "carol", "hi"))["errCode"] == 0


async def test_friendship_can_be_required_for_chat(tmp_path: Path):
    async with Harness.running(tmp_path, *USERS, friend_required_for_chat=True) as world:
        alice, bob = await world.login("alice"), await world.login("bob")
        assert (await send_text(world, alice, "bob", "hi"))["errCode"] == NOT_FRIEND
        assert await world.ctx.store.get_history("si_alice_bob", 0, 10) == []
        assert (await send_text(world, alice, "alice", "note"))["errCode"] == 0
        await world.befriend(alice, bob)
        assert (await send_text(world, alice, "bob", "hi"))["errCode"] == 0
        await world.call(bob, "DeleteFriend", "alice")  # bob no longer lists alice
        assert (await send_text(world, alice, "bob", "still?"))["errCode"] == NOT_FRIEND
        assert (await send_text(world, bob, "alice", "yes"))["errCode"] == 0
