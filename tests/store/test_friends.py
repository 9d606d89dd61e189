"""Friend applications, friendships and blacklists."""

import pytest

from oimws.store import Store
from oimws.store.friends import (
    REQUEST_ACCEPTED,
    REQUEST_REFUSED,
    REQUEST_UNHANDLED,
    BlackRecord,
    FriendRequestRecord,
)
from tests.store.helpers import register


@pytest.fixture
async def store(store: Store) -> Store:
    await register(store, "alice", "bob", "carol")
    return store


async def befriend(store: Store, applicant: str, recipient: str) -> None:
    await store.save_friend_request(FriendRequestRecord(applicant, recipient, req_msg="hi"))
    assert await store.accept_friend_request(applicant, recipient, "ok", 1000) is not None


def pairs(friends) -> list[tuple[str, str]]:
    return [(f.owner_user_id, f.friend_user_id) for f in friends]


async def test_an_application_is_stored_and_renewed_not_duplicated(store: Store):
    first = await store.save_friend_request(
        FriendRequestRecord("alice", "bob", req_msg="hi", ex="e1"))
    assert first.create_time > 0
    await store.refuse_friend_request("alice", "bob", "no", 2000)
    await store.save_friend_request(FriendRequestRecord("alice", "bob", req_msg="again"))
    received = await store.get_friend_requests_to("bob")
    assert len(received) == 1
    renewed = received[0]
    assert (renewed.req_msg, renewed.handle_result, renewed.handle_msg, renewed.ex) == (
        "again", REQUEST_UNHANDLED, "", "")
    assert await store.get_friend_requests_from("alice") == received
    assert await store.get_friend_requests_to("alice") == []


async def test_accepting_makes_both_directions_friends_and_settles_the_reverse_application(
        store: Store):
    await store.save_friend_request(FriendRequestRecord("alice", "bob"))
    await store.save_friend_request(FriendRequestRecord("bob", "alice"))
    result = await store.accept_friend_request("alice", "bob", "welcome", 5000)
    assert result is not None
    assert (result.request.handle_result, result.request.handle_msg,
            result.request.handler_user_id, result.request.handle_time) == (
        REQUEST_ACCEPTED, "welcome", "bob", 5000)
    assert sorted(pairs(result.new_friends)) == [("alice", "bob"), ("bob", "alice")]
    assert all(f.operator_user_id == "alice" and f.add_source == 2 for f in result.new_friends)
    reverse = await store.get_friend_request("bob", "alice")
    assert reverse is not None and reverse.handle_result == REQUEST_ACCEPTED
    assert pairs(await store.get_friends("alice")) == [("alice", "bob")]
    assert pairs(await store.get_friends("bob")) == [("bob", "alice")]


async def test_a_handled_application_cannot_be_handled_again(store: Store):
    await store.save_friend_request(FriendRequestRecord("alice", "bob"))
    assert await store.refuse_friend_request("alice", "bob", "no", 1) is not None
    assert await store.accept_friend_request("alice", "bob", "yes", 2) is None
    assert await store.refuse_friend_request("alice", "bob", "again", 3) is None
    stored = await store.get_friend_request("alice", "bob")
    assert stored is not None and (stored.handle_result, stored.handle_msg) == (
        REQUEST_REFUSED, "no")
    assert await store.get_friends("bob") == []
    assert await store.accept_friend_request("carol", "bob", "x", 4) is None


async def test_accepting_keeps_an_existing_direction(store: Store):
    await befriend(store, "alice", "bob")
    await store.delete_friend("alice", "bob")
    await store.save_friend_request(FriendRequestRecord("alice", "bob"))
    result = await store.accept_friend_request("alice", "bob", "", 9)
    assert result is not None and pairs(result.new_friends) == [("alice", "bob")]


async def test_deleting_removes_only_the_owners_direction(store: Store):
    await befriend(store, "alice", "bob")
    removed = await store.delete_friend("alice", "bob")
    assert removed is not None and pairs([removed]) == [("alice", "bob")]
    assert await store.get_friends("alice") == []
    assert pairs(await store.get_friends("bob")) == [("bob", "alice")]
    assert await store.delete_friend("alice", "bob") is None


async def test_updates_apply_to_all_given_friends_or_to_none(store: Store):
    await befriend(store, "alice", "bob")
    await befriend(store, "alice", "carol")
    assert await store.update_friends("alice", ["bob", "dave"], remark="x") is None
    assert {f.remark for f in await store.get_friends("alice")} == {""}
    updated = await store.update_friends("alice", ["carol"], remark="C", is_pinned=True)
    assert updated is not None and [(f.remark, f.is_pinned) for f in updated] == [("C", True)]
    updated = await store.update_friends("alice", ["bob", "carol"], ex="x")
    assert updated is not None and [f.ex for f in updated] == ["x", "x"]
    # pinned first, and remark kept when only ex changed
    friends = await store.get_friends("alice")
    assert [(f.friend_user_id, f.remark, f.is_pinned) for f in friends] == [
        ("carol", "C", True), ("bob", "", False)]
    page = await store.get_friend_page("alice", 1, 5)
    assert pairs(page) == [("alice", "bob")]


async def test_entries_listing_a_user(store: Store):
    await befriend(store, "alice", "bob")
    await befriend(store, "carol", "bob")
    await store.delete_friend("carol", "bob")
    assert sorted(pairs(await store.get_friend_entries_of("bob"))) == [("alice", "bob")]


async def test_blacklist_entries_are_unique_and_removable(store: Store):
    assert await store.add_black(BlackRecord("alice", "bob", ex="spam"))
    assert not await store.add_black(BlackRecord("alice", "bob", ex="other"))
    blacks = await store.get_blacks("alice")
    assert [(b.block_user_id, b.ex) for b in blacks] == [("bob", "spam")]
    assert blacks[0].create_time > 0
    assert await store.get_blacks("alice", ["carol"]) == []
    assert await store.get_blacks("bob") == []
    removed = await store.remove_black("alice", "bob")
    assert removed is not None and removed.ex == "spam"
    assert await store.remove_black("alice", "bob") is None
    assert await store.get_blacks("alice") == []


async def test_applications_are_listed_newest_first(store: Store):
    await store.save_friend_request(FriendRequestRecord("alice", "carol", create_time=100))
    await store.save_friend_request(FriendRequestRecord("bob", "carol", create_time=300))
    await store.save_friend_request(FriendRequestRecord("alice", "bob", create_time=200))
    assert [r.from_user_id for r in await store.get_friend_requests_to("carol")] == [
        "bob", "alice"]
    assert [r.to_user_id for r in await store.get_friend_requests_from("alice")] == [
        "bob", "carol"]
    stored = await store.get_friend_request("alice", "carol")
    assert stored == FriendRequestRecord("alice", "carol", create_time=100)
    assert await store.get_friend_request("carol", "alice") is None
    assert await store.refuse_friend_request("carol", "alice", "no", 1) is None


async def test_friends_by_id_and_in_pages(store: Store):
    await befriend(store, "alice", "bob")
    await befriend(store, "alice", "carol")
    assert pairs(await store.get_friends("alice", ["carol", "dave"])) == [("alice", "carol")]
    assert await store.get_friends("alice", []) == []
    assert pairs(await store.get_friends("alice")) == [("alice", "bob"), ("alice", "carol")]
    assert pairs(await store.get_friend_page("alice", 0, 1)) == [("alice", "bob")]
    assert await store.get_friend_page("alice", 2, 5) == []
    friend = (await store.get_friends("bob"))[0]
    assert (friend.create_time, friend.operator_user_id, friend.is_pinned) == (
        1000, "alice", False)


async def test_flags_given_as_numbers_are_stored_as_flags(store: Store):
    await befriend(store, "alice", "bob")
    updated = await store.update_friends("alice", ["bob"], is_pinned=1)  # type: ignore[arg-type]
    assert updated is not None and updated[0].is_pinned is True
    unchanged = await store.update_friends("alice", ["bob", "bob"])
    assert unchanged is not None and [(f.friend_user_id, f.is_pinned) for f in unchanged] == [
        ("bob", True)]


async def test_blacklist_by_id_oldest_first(store: Store):
    assert await store.add_black(BlackRecord("alice", "carol", create_time=20, add_source=1,
                                             operator_user_id="alice"))
    assert await store.add_black(BlackRecord("alice", "bob", create_time=10))
    assert [b.block_user_id for b in await store.get_blacks("alice")] == ["bob", "carol"]
    assert await store.get_blacks("alice", ["carol"]) == [
        BlackRecord("alice", "carol", 20, 1, "alice")]
    assert await store.get_blacks("alice", []) == []
