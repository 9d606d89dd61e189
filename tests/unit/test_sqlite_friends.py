"""The embedded store's friends, applications, blacklists and profile updates."""

from pathlib import Path

import pytest

from oimws.store import StoreError, UserRecord
from oimws.store.friends import (
    REQUEST_ACCEPTED,
    REQUEST_REFUSED,
    REQUEST_UNHANDLED,
    BlackRecord,
    FriendRequestRecord,
)
from oimws.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path):
    store = SqliteStore(tmp_path / "db.sqlite3")
    await store.open()
    await store.register_users([UserRecord(u, u.title()) for u in ("alice", "bob", "carol")])
    yield store
    await store.close()


async def befriend(store: SqliteStore, applicant: str, recipient: str) -> None:
    await store.save_friend_request(FriendRequestRecord(applicant, recipient, req_msg="hi"))
    assert await store.accept_friend_request(applicant, recipient, "ok", 1000) is not None


def pairs(friends) -> list[tuple[str, str]]:
    return [(f.owner_user_id, f.friend_user_id) for f in friends]


async def test_an_application_is_stored_and_renewed_not_duplicated(store: SqliteStore):
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
        store: SqliteStore):
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


async def test_a_handled_application_cannot_be_handled_again(store: SqliteStore):
    await store.save_friend_request(FriendRequestRecord("alice", "bob"))
    assert await store.refuse_friend_request("alice", "bob", "no", 1) is not None
    assert await store.accept_friend_request("alice", "bob", "yes", 2) is None
    assert await store.refuse_friend_request("alice", "bob", "again", 3) is None
    stored = await store.get_friend_request("alice", "bob")
    assert stored is not None and (stored.handle_result, stored.handle_msg) == (
        REQUEST_REFUSED, "no")
    assert await store.get_friends("bob") == []
    assert await store.accept_friend_request("carol", "bob", "x", 4) is None


async def test_accepting_keeps_an_existing_direction(store: SqliteStore):
    await befriend(store, "alice", "bob")
    await store.delete_friend("alice", "bob")
    await store.save_friend_request(FriendRequestRecord("alice", "bob"))
    result = await store.accept_friend_request("alice", "bob", "", 9)
    assert result is not None and pairs(result.new_friends) == [("alice", "bob")]


async def test_deleting_removes_only_the_owners_direction(store: SqliteStore):
    await befriend(store, "alice", "bob")
    removed = await store.delete_friend("alice", "bob")
    assert removed is not None and pairs([removed]) == [("alice", "bob")]
    assert await store.get_friends("alice") == []
    assert pairs(await store.get_friends("bob")) == [("bob", "alice")]
    assert await store.delete_friend("alice", "bob") is None


async def test_updates_apply_to_all_given_friends_or_to_none(store: SqliteStore):
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


async def test_entries_listing_a_user(store: SqliteStore):
    await befriend(store, "alice", "bob")
    await befriend(store, "carol", "bob")
    await store.delete_friend("carol", "bob")
    assert sorted(pairs(await store.get_friend_entries_of("bob"))) == [("alice", "bob")]


async def test_blacklist_entries_are_unique_and_removable(store: SqliteStore):
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


async def test_update_user_changes_only_what_is_given(store: SqliteStore):
    updated = await store.update_user("alice", {"nickname": "Alicia", "global_recv_msg_opt": 2})
    assert updated is not None
    assert (updated.nickname, updated.face_url, updated.global_recv_msg_opt) == ("Alicia", "", 2)
    assert (await store.get_users(["alice"]))["alice"] == updated
    assert await store.update_user("nobody", {"nickname": "x"}) is None
    with pytest.raises(StoreError):
        await store.update_user("alice", {"user_id": "mallory"})


async def test_relations_survive_a_reopen(tmp_path: Path):
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await store.register_users([UserRecord("alice"), UserRecord("bob")])
    await befriend(store, "alice", "bob")
    await store.add_black(BlackRecord("bob", "alice"))
    await store.close()
    store = SqliteStore(path)
    await store.open()
    try:
        assert pairs(await store.get_friends("bob")) == [("bob", "alice")]
        assert [b.block_user_id for b in await store.get_blacks("bob")] == ["alice"]
    finally:
        await store.close()
