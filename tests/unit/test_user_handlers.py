"""Profiles, other users' information and online status subscriptions, through the real
dispatcher and store with recording sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oimws.delivery.presence import PresenceChange
from oimws.handlers import user as user_handlers
from oimws.session import Session
from oimws.store.groups import ROLE_OWNER, GroupRecord, MemberRecord
from tests.unit.harness import Harness, RecordingConnection, forget, frames_of, push_events, pushes
from tests.unit.test_friend_handlers import IOS, NO_PERMISSION, SDK_ARGS, USERS, WEB

ANDROID = 2


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness.running(tmp_path, *USERS) as harness:
        yield harness


# profiles -----------------------------------------------------------------------------------


async def test_set_self_info_tells_own_devices_and_friends_but_no_one_else(world: Harness):
    alice, alice_phone = await world.login("alice"), await world.login("alice", IOS)
    bob, carol = await world.login("bob"), await world.login("carol")
    await world.befriend(alice, bob)
    await world.call(bob, "SetFriendRemark", {"toUserID": "alice", "remark": "Al"})
    for session in (alice, alice_phone, bob, carol):
        forget(session)

    await world.call(alice, "SetSelfInfo", {"nickname": "Alicia", "faceURL": "https://new",
                                          "userID": "alice", "createTime": 1})
    for session in (alice, alice_phone):
        [info] = pushes(session, "OnSelfInfoUpdated")
        assert (info["userID"], info["nickname"], info["faceURL"], info["ex"]) == (
            "alice", "Alicia", "https://new", "")
    [changed] = pushes(bob, "OnFriendInfoChanged")
    assert (changed["ownerUserID"], changed["userID"], changed["nickname"],
            changed["faceURL"], changed["remark"]) == ("bob", "alice", "Alicia", "https://new",
                                                       "Al")
    assert push_events(bob) == ["OnFriendInfoChanged"]
    assert push_events(carol) == []
    info = await world.call(alice, "GetSelfUserInfo")
    assert (info["nickname"], info["faceURL"], info["createTime"] > 1) == (
        "Alicia", "https://new", True)
    [entry] = await world.call(bob, "GetFriendList")
    assert entry["friendInfo"]["nickname"] == "Alicia"


async def test_settings_friends_cannot_see_are_not_announced_to_them(world: Harness):
    alice, bob = await world.login("alice"), await world.login("bob")
    await world.befriend(alice, bob)
    await world.call(alice, "SetSelfInfo", {"ex": "private", "globalRecvMsgOpt": 2})
    [info] = pushes(alice, "OnSelfInfoUpdated")
    assert (info["ex"], info["globalRecvMsgOpt"], info["nickname"]) == ("private", 2, "Alice")
    assert push_events(bob) == []


async def test_set_self_info_ex_takes_wrapped_values(world: Harness):
    alice = await world.login("alice")
    await world.call(alice, "SetSelfInfoEx", {"nickname": {"value": "Wrapped"}, "ex": "plain"})
    info = await world.call(alice, "GetSelfUserInfo")
    assert (info["nickname"], info["ex"]) == ("Wrapped", "plain")


@pytest.mark.parametrize(("params", "code", "named"), [
    ({"nickname": 5}, SDK_ARGS, "nickname"),
    ({"nickname": "x" * 65}, SDK_ARGS, "nickname"),
    ({"faceURL": ["x"]}, SDK_ARGS, "faceURL"),
    ({"globalRecvMsgOpt": 3}, SDK_ARGS, "globalRecvMsgOpt"),
    ({"globalRecvMsgOpt": True}, SDK_ARGS, "globalRecvMsgOpt"),
    ({"userID": "bob", "nickname": "Bobby"}, NO_PERMISSION, "bob"),
])
async def test_refused_profile_changes_change_nothing(world: Harness, params, code, named):
    alice, bob = await world.login("alice"), await world.login("bob")
    reply = await world.refusal(alice, "SetSelfInfo", {"ex": "changed", **params})
    assert reply["errCode"] == code and named in reply["errMsg"], reply
    users = await world.ctx.store.get_users(["alice", "bob"])
    assert (users["alice"].ex, users["alice"].nickname, users["bob"].nickname) == (
        "", "Alice", "Bob")
    assert push_events(alice) == push_events(bob) == []


async def test_global_recv_message_opt(world: Harness):
    alice = await world.login("alice")
    await world.call(alice, "SetGlobalRecvMessageOpt", 1)
    assert (await world.call(alice, "GetSelfUserInfo"))["globalRecvMsgOpt"] == 1
    [info] = pushes(alice, "OnSelfInfoUpdated")
    assert info["globalRecvMsgOpt"] == 1
    reply = await world.refusal(alice, "SetGlobalRecvMessageOpt", 3)
    assert reply["errCode"] == SDK_ARGS and "opt" in reply["errMsg"]


# other users --------------------------------------------------------------------------------


async def test_users_info_shows_my_relation_to_each_existing_user(world: Harness):
    alice, bob = await world.login("alice"), await world.login("bob")
    await world.befriend(alice, bob)
    await world.call(alice, "AddBlack", "carol", "")
    items = await world.call(alice, "GetUsersInfoWithCache", ["carol", "nobody", "bob"], "")
    assert [i["publicInfo"]["userID"] for i in items] == ["carol", "bob"]
    carol_item, bob_item = items
    assert carol_item["friendInfo"] is None and carol_item["blackInfo"]["userID"] == "carol"
    assert bob_item["friendInfo"]["userID"] == "bob" and bob_item["blackInfo"] is None
    assert bob_item["publicInfo"] == {"userID": "bob", "nickname": "Bob",
                                      "faceURL": "https://face/bob", "ex": "",
                                      "createTime": bob_item["publicInfo"]["createTime"]}
    assert all(i["groupMemberInfo"] is None for i in items)
    # the same, as bob sees it: alice is his friend, carol a stranger
    plain = await world.call(bob, "GetUsersInfo", ["alice", "carol"])
    assert [(i["friendInfo"] is not None, i["blackInfo"] is not None) for i in plain] == [
        (True, False), (False, False)]
    from_server = await world.call(bob, "GetUsersInfoFromSrv", ["carol", "nobody"])
    assert [u["nickname"] for u in from_server] == ["Carol"]


async def test_group_member_info_is_shown_to_members_of_that_group(world: Harness):
    alice, carol = await world.login("alice"), await world.login("carol")
    await world.ctx.store.create_group(
        GroupRecord("g1", "G", owner_user_id="alice", creator_user_id="alice", create_time=1),
        [MemberRecord("g1", "alice", "Alice", role_level=ROLE_OWNER, join_time=1),
         MemberRecord("g1", "bob", "Bob", join_time=2)])
    items = await world.call(alice, "GetUsersInfoWithCache", ["bob", "carol"], "g1")
    assert [(i["groupMemberInfo"] or {}).get("roleLevel") for i in items] == [20, None]
    assert items[0]["groupMemberInfo"]["groupID"] == "g1"
    outsider = await world.call(carol, "GetUsersInfoWithCache", ["bob"], "g1")
    assert outsider[0]["groupMemberInfo"] is None


@pytest.mark.parametrize(("func", "args", "named"), [
    ("GetUsersInfo", ("alice",), "userIDs"),
    ("GetUsersInfo", ([],), "userIDs"),
    ("GetUsersInfoWithCache", (["alice"], 3), "groupID"),
    ("GetUsersInfoFromSrv", ([""],), "userIDs"),
    ("SubscribeUsersStatus", ([None],), "userIDs"),
    ("GetUserStatus", ({"userID": "bob"},), "userIDs"),
])
async def test_bad_user_id_lists_are_named(world: Harness, func, args, named):
    alice = await world.login("alice")
    reply = await world.refusal(alice, func, *args)
    assert reply["errCode"] == SDK_ARGS and named in reply["errMsg"], reply


# online status ------------------------------------------------------------------------------


def statuses(session: Session) -> list[tuple[str, int, list[int]]]:
    return [(s["userID"], s["status"], s["platformIDs"])
            for s in pushes(session, "OnUserStatusChanged")]


async def test_watchers_hear_each_platform_come_and_go(world: Harness):
    carol = await world.login("carol")
    assert await world.call(carol, "SubscribeUsersStatus", ["alice"]) == [
        {"userID": "alice", "status": 0, "platformIDs": []}]
    alice_web = await world.login("alice", WEB)
    alice_phone = await world.login("alice", IOS)
    await world.login("alice", WEB)  # displaces the first web session: platforms unchanged
    assert statuses(carol) == [("alice", 1, [WEB]), ("alice", 1, [IOS, WEB])]
    assert frames_of(alice_web)[-1]["event"] == "OnKickedOffline"
    assert await world.call(carol, "GetSubscribeUsersStatus") == [
        {"userID": "alice", "status": 1, "platformIDs": [IOS, WEB]}]

    forget(carol)
    await world.call(alice_phone, "Logout")
    world.ctx.delivery.remove(world.ctx.delivery.sessions_of("alice")[0])  # socket closed
    assert statuses(carol) == [("alice", 1, [WEB]), ("alice", 0, [])]
    assert await world.call(carol, "GetUserStatus", ["alice", "bob"]) == [
        {"userID": "alice", "status": 0, "platformIDs": []},
        {"userID": "bob", "status": 0, "platformIDs": []}]


async def test_only_the_subscribing_session_watches(world: Harness):
    carol_web, carol_phone = await world.login("carol"), await world.login("carol", IOS)
    bob = await world.login("bob")
    await world.call(carol_web, "SubscribeUsersStatus", ["alice"])
    await world.login("alice", ANDROID)
    assert statuses(carol_web) == [("alice", 1, [ANDROID])]
    assert statuses(carol_phone) == [] and push_events(bob) == []
    assert await world.call(carol_phone, "GetSubscribeUsersStatus") == []


async def test_unsubscribing_stops_the_pushes(world: Harness):
    carol = await world.login("carol")
    await world.call(carol, "SubscribeUsersStatus", ["alice", "bob"])
    await world.call(carol, "UnsubscribeUsersStatus", ["alice"])
    await world.login("alice")
    await world.login("bob")
    assert statuses(carol) == [("bob", 1, [WEB])]
    assert [s["userID"] for s in await world.call(carol, "GetSubscribeUsersStatus")] == ["bob"]


async def test_subscriptions_end_with_the_session(world: Harness):
    carol = await world.login("carol")
    await world.call(carol, "SubscribeUsersStatus", ["alice"])
    world.ctx.delivery.remove(carol)  # what closing the socket does
    assert world.ctx.delivery.status_watchers.watchers_of("alice") == []
    await world.login("alice")
    assert statuses(carol) == []
    again = await world.login("carol")
    assert await world.call(again, "GetSubscribeUsersStatus") == []


async def test_own_status_is_not_pushed_to_oneself(world: Harness):
    alice = await world.login("alice")
    await world.call(alice, "SubscribeUsersStatus", ["alice"])
    await world.login("alice", IOS)
    assert statuses(alice) == []


async def test_subscriptions_are_bounded_per_session(world: Harness, monkeypatch):
    monkeypatch.setattr(user_handlers, "MAX_WATCHED_USERS", 3)
    carol = await world.login("carol")
    await world.call(carol, "SubscribeUsersStatus", ["a", "b"])
    await world.call(carol, "SubscribeUsersStatus", ["a", "b", "c"])  # repeats are not counted
    reply = await world.refusal(carol, "SubscribeUsersStatus", ["d"])
    assert reply["errCode"] == SDK_ARGS and "3" in reply["errMsg"]
    assert len(await world.call(carol, "GetSubscribeUsersStatus")) == 3


async def test_registry_announces_changes_and_survives_a_failing_listener(world: Harness):
    registry = world.ctx.delivery
    seen: list[PresenceChange] = []

    def broken(change: PresenceChange) -> None:
        raise RuntimeError("listener bug")

    registry.on_presence_change(broken)
    registry.on_presence_change(seen.append)
    first = Session("dave", WEB, RecordingConnection())
    second = Session("dave", WEB, RecordingConnection())
    assert registry.add(first) == []
    assert registry.add(second) == [first]
    registry.remove(first)  # already displaced: nothing changes, nothing is announced
    registry.remove(second)
    assert [(c.platforms_before, c.platforms_after, c.gone) for c in seen] == [
        ((), (WEB,), ()), ((WEB,), (WEB,), (first,)), ((WEB,), (), (second,))]
    assert [c.platforms_changed for c in seen] == [True, False, True]
