"""Groups, members, roles, mutes and join applications."""

import asyncio

import pytest

from oimws.store import DuplicateKeyError, Store, StoreError
from oimws.store.groups import (
    APPLICATION_ACCEPTED,
    APPLICATION_REFUSED,
    APPLICATION_UNHANDLED,
    GROUP_STATUS_DISMISSED,
    ROLE_ADMIN,
    ROLE_MEMBER,
    ROLE_OWNER,
    GroupApplicationRecord,
    GroupRecord,
    MemberRecord,
)
from tests.store.helpers import register


def member(user_id: str, group_id: str = "g1", role: int = ROLE_MEMBER, join_time: int = 10,
           **fields) -> MemberRecord:
    return MemberRecord(group_id, user_id, role_level=role, join_time=join_time, **fields)


@pytest.fixture
async def store(store: Store) -> Store:
    await register(store, "alice", "bob", "carol", "dave")
    await store.create_group(
        GroupRecord("g1", "Team", owner_user_id="alice", creator_user_id="alice",
                    create_time=100, ex="x"),
        [member("alice", role=ROLE_OWNER, join_time=1), member("bob", join_time=3),
         member("carol", role=ROLE_ADMIN, join_time=2)])
    return store


async def test_a_group_is_stored_with_its_members_and_counted(store: Store):
    groups = await store.get_groups(["g1", "nope"])
    assert list(groups) == ["g1"]
    assert groups["g1"] == GroupRecord("g1", "Team", owner_user_id="alice",
                                       creator_user_id="alice", create_time=100, ex="x",
                                       member_count=3)
    assert await store.get_groups([]) == {}


async def test_a_taken_group_id_is_refused_and_nothing_changes(store: Store):
    with pytest.raises(DuplicateKeyError):
        await store.create_group(GroupRecord("g1", "Other", owner_user_id="dave",
                                             creator_user_id="dave", create_time=1),
                                 [member("dave", role=ROLE_OWNER)])
    assert (await store.get_groups(["g1"]))["g1"].group_name == "Team"
    assert sorted(await store.get_member_ids("g1")) == ["alice", "bob", "carol"]


async def test_members_come_by_role_then_join_time(store: Store):
    members = await store.get_members("g1")
    assert [(m.user_id, m.role_level) for m in members] == [
        ("alice", ROLE_OWNER), ("carol", ROLE_ADMIN), ("bob", ROLE_MEMBER)]
    assert [m.user_id for m in await store.get_members("g1", ["bob", "dave"])] == ["bob"]
    assert await store.get_members("g1", []) == []
    assert await store.get_members("nope") == []
    assert sorted(await store.get_member_ids("g1")) == ["alice", "bob", "carol"]


async def test_adding_skips_present_members_and_removing_reports_who_left(store: Store):
    added = await store.add_members([member("bob"), member("dave", join_time=50,
                                                           inviter_user_id="alice")])
    assert added == ["dave"]
    [dave] = await store.get_members("g1", ["dave"])
    assert (dave.inviter_user_id, dave.join_time) == ("alice", 50)
    assert await store.add_members([]) == []
    assert await store.remove_members("g1", ["dave", "nobody", "bob"]) == ["dave", "bob"]
    assert sorted(await store.get_member_ids("g1")) == ["alice", "carol"]
    assert (await store.get_groups(["g1"]))["g1"].member_count == 2


async def test_group_updates_change_the_given_fields_only(store: Store):
    await store.update_group("g1", {"group_name": "Renamed", "need_verification": 2,
                                    "notification": "read me"})
    await store.update_group("g1", {})
    group = (await store.get_groups(["g1"]))["g1"]
    assert (group.group_name, group.need_verification, group.notification, group.ex) == (
        "Renamed", 2, "read me", "x")
    with pytest.raises(StoreError):
        await store.update_group("g1", {"group_id": "g2"})
    with pytest.raises(StoreError):
        await store.update_group("g1", {"member_count": 9})


async def test_member_updates_and_mutes(store: Store):
    await store.update_member("g1", "bob", {"nickname": "B", "mute_end_time": 99_000})
    await store.update_member("g1", "bob", {})
    [bob] = await store.get_members("g1", ["bob"])
    assert (bob.nickname, bob.mute_end_time, bob.role_level) == ("B", 99_000, ROLE_MEMBER)
    with pytest.raises(StoreError):
        await store.update_member("g1", "bob", {"user_id": "x"})


async def test_joined_groups_leave_out_dismissed_ones(store: Store):
    await store.create_group(GroupRecord("g2", owner_user_id="bob", creator_user_id="bob",
                                         create_time=5),
                             [member("bob", "g2", ROLE_OWNER, join_time=1)])
    await store.create_group(GroupRecord("g3", owner_user_id="bob", creator_user_id="bob",
                                         create_time=6),
                             [member("bob", "g3", ROLE_OWNER, join_time=7)])
    assert [g.group_id for g in await store.get_joined_groups("bob")] == ["g2", "g1", "g3"]
    await store.update_group("g3", {"status": GROUP_STATUS_DISMISSED})
    joined = await store.get_joined_groups("bob")
    assert [(g.group_id, g.member_count) for g in joined] == [("g2", 1), ("g1", 3)]
    assert await store.get_joined_groups("nobody") == []


async def test_transferring_ownership_swaps_roles_at_once(store: Store):
    await store.transfer_owner("g1", "alice", "bob")
    roles = {m.user_id: m.role_level for m in await store.get_members("g1")}
    assert roles == {"alice": ROLE_MEMBER, "bob": ROLE_OWNER, "carol": ROLE_ADMIN}
    assert (await store.get_groups(["g1"]))["g1"].owner_user_id == "bob"


async def test_transferring_to_a_non_member_changes_nothing(store: Store):
    with pytest.raises(StoreError):
        await store.transfer_owner("g1", "alice", "dave")
    roles = {m.user_id: m.role_level for m in await store.get_members("g1")}
    assert roles["alice"] == ROLE_OWNER
    assert (await store.get_groups(["g1"]))["g1"].owner_user_id == "alice"


async def test_applications_are_saved_renewed_and_listed_newest_first(store: Store):
    await store.save_application(GroupApplicationRecord("g1", "dave", "let me in", 100,
                                                        join_source=3, ex="e"))
    await store.create_group(GroupRecord("g2", owner_user_id="bob", creator_user_id="bob",
                                         create_time=5), [member("bob", "g2", ROLE_OWNER)])
    await store.save_application(GroupApplicationRecord("g2", "dave", "me too", 200))
    await store.save_application(GroupApplicationRecord("g1", "carol", "hm", 150))
    assert [(a.group_id, a.user_id) for a in await store.get_applications_to(["g1", "g2"])] == [
        ("g2", "dave"), ("g1", "carol"), ("g1", "dave")]
    assert [a.group_id for a in await store.get_applications_of("dave")] == ["g2", "g1"]
    assert await store.get_applications_to([]) == []
    stored = await store.get_application("g1", "dave")
    assert stored == GroupApplicationRecord("g1", "dave", "let me in", 100, join_source=3,
                                            ex="e")
    assert await store.get_application("g1", "bob") is None

    assert await store.handle_application("g1", "dave", APPLICATION_REFUSED, "alice", "no",
                                          None)
    await store.save_application(GroupApplicationRecord("g1", "dave", "please", 300))
    renewed = await store.get_application("g1", "dave")
    assert renewed is not None
    assert (renewed.req_msg, renewed.handle_result, renewed.handled_msg, renewed.ex) == (
        "please", APPLICATION_UNHANDLED, "", "")


async def test_an_application_is_settled_once_and_adds_the_member(store: Store):
    await store.save_application(GroupApplicationRecord("g1", "dave", "hi", 100))
    assert await store.handle_application("g1", "dave", APPLICATION_ACCEPTED, "carol", "ok",
                                          member("dave", join_time=500))
    settled = await store.get_application("g1", "dave")
    assert settled is not None
    assert (settled.handle_result, settled.handle_user_id, settled.handled_msg) == (
        APPLICATION_ACCEPTED, "carol", "ok")
    assert settled.handled_time > 0
    assert "dave" in await store.get_member_ids("g1")
    assert not await store.handle_application("g1", "dave", APPLICATION_REFUSED, "alice",
                                              "late", None)
    assert (await store.get_application("g1", "dave")).handle_result == APPLICATION_ACCEPTED
    assert not await store.handle_application("g1", "nobody", APPLICATION_ACCEPTED, "alice",
                                              "", None)


async def test_concurrent_handlers_settle_an_application_once(store: Store):
    await store.save_application(GroupApplicationRecord("g1", "dave", "hi", 100))
    outcomes = await asyncio.gather(*(
        store.handle_application("g1", "dave", result, handler, "", member("dave"))
        for result, handler in ((APPLICATION_ACCEPTED, "alice"),
                                (APPLICATION_REFUSED, "carol"),
                                (APPLICATION_ACCEPTED, "carol"))))
    assert sorted(outcomes) == [False, False, True]
