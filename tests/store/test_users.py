"""Users: registration, profiles, search, forced logouts."""

import pytest

from oimws.store import Store, StoreError, UserRecord


@pytest.fixture
async def store(store: Store) -> Store:
    await store.register_users([UserRecord(u, u.title()) for u in ("alice", "bob", "carol")])
    return store


async def test_register_reports_existing_users_and_keeps_them(store: Store):
    existing = await store.register_users([UserRecord("alice", "Changed"), UserRecord("dave")])
    assert existing == ["alice"]
    users = await store.get_users(["alice", "dave", "nobody"])
    assert users["alice"].nickname == "Alice"
    assert set(users) == {"alice", "dave"}
    assert users["dave"].create_time > 0


async def test_registering_one_id_twice_in_a_batch_keeps_the_first(store: Store):
    existing = await store.register_users([UserRecord("erin", "First"),
                                           UserRecord("erin", "Second")])
    assert existing == ["erin"]
    assert (await store.get_users(["erin"]))["erin"].nickname == "First"
    assert await store.register_users([]) == []
    assert await store.get_users([]) == {}


async def test_a_user_is_stored_with_every_field(store: Store):
    user = UserRecord("frank", "Frank", "http://face", "extra", 1234, 2)
    await store.register_users([user])
    assert (await store.get_users(["frank"]))["frank"] == user


async def test_update_user_changes_only_what_is_given(store: Store):
    updated = await store.update_user("alice", {"nickname": "Alicia", "global_recv_msg_opt": 2})
    assert updated is not None
    assert (updated.nickname, updated.face_url, updated.global_recv_msg_opt) == ("Alicia", "", 2)
    assert (await store.get_users(["alice"]))["alice"] == updated
    assert await store.update_user("nobody", {"nickname": "x"}) is None
    with pytest.raises(StoreError):
        await store.update_user("alice", {"user_id": "mallory"})
    unchanged = await store.update_user("alice", {})
    assert unchanged == updated


async def test_find_users_filters_by_substring_ignoring_case_and_pages(store: Store):
    await store.register_users([UserRecord("dave", "Big Dave", create_time=1),
                                UserRecord("xdavex", "Other", create_time=2)])
    total, page = await store.find_users(0, 10, user_id="DAV")
    assert total == 2 and [u.user_id for u in page] == ["dave", "xdavex"]  # oldest first
    total, page = await store.find_users(0, 10, nickname="big")
    assert total == 1 and [u.user_id for u in page] == ["dave"]
    total, page = await store.find_users(0, 10, user_id="dav", nickname="other")
    assert total == 1 and [u.user_id for u in page] == ["xdavex"]
    total, page = await store.find_users(1, 2)
    assert total == 5 and [u.user_id for u in page] == ["xdavex", "alice"]
    total, page = await store.find_users(10, 2)
    assert (total, page) == (5, [])
    # wildcards are text, not patterns
    assert (await store.find_users(0, 10, nickname="%"))[0] == 0


async def test_token_revocations_are_raised_never_lowered(store: Store):
    assert await store.get_token_revocations() == {}
    await store.revoke_tokens("alice", 5, 1000)
    await store.revoke_tokens("alice", 5, 500)
    await store.revoke_tokens("alice", 1, 700)
    await store.revoke_tokens("bob", 5, 2000)
    await store.revoke_tokens("alice", 5, 1500)
    assert await store.get_token_revocations() == {
        ("alice", 5): 1500, ("alice", 1): 700, ("bob", 5): 2000}
