"""Conversations: each user's view, derived unread counts, read marks, settings, clearing."""

import asyncio

import pytest

from oimws.store import Store, StoreError
from oimws.store.messages import GROUP_AT_ME, GROUP_AT_NONE
from tests.store.helpers import CONV, GROUP, SINGLE, chat, group_message, message, register


@pytest.fixture
async def store(store: Store) -> Store:
    await register(store, "alice", "bob", "carol")
    return store


async def test_unread_counts_latest_message_and_mark_read(store: Store):
    for i in range(3):
        await store.append_message(CONV, message(f"a{i}"), ["alice", "bob"])
    await store.append_message(CONV, message("b0", sender="bob", recv="alice"), ["bob", "alice"])
    bob = await store.get_conversation("bob", CONV)
    alice = await store.get_conversation("alice", CONV)
    assert bob is not None and alice is not None
    assert (bob.unread_count, alice.unread_count) == (3, 1)
    assert bob.latest_msg is not None and bob.latest_msg["clientMsgID"] == "b0"
    assert bob.user_id == "alice" and alice.user_id == "bob"

    read = await store.mark_conversation_read("bob", CONV)
    assert read.read_client_msg_ids == ("a0", "a1", "a2")
    assert read.conversation.unread_count == 0 and read.conversation.has_read_seq == 4
    again = await store.mark_conversation_read("bob", CONV)
    assert again.read_client_msg_ids == ()


async def test_a_conversation_view_holds_its_state(store: Store):
    [_, last] = await chat(store, ("alice", "v1"), ("alice", "v2"))
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None
    assert (bob.owner_id, bob.conversation_id, bob.conversation_type, bob.group_id) == (
        "bob", CONV, SINGLE, "")
    assert (bob.max_seq, bob.min_seq, bob.has_read_seq) == (2, 0, 0)
    assert bob.latest_msg == last and bob.latest_msg_send_time == last["sendTime"]
    assert (bob.is_pinned, bob.is_hidden, bob.burn_duration, bob.msg_destruct_time) == (
        False, False, 30, 604800)
    assert await store.get_conversation("carol", CONV) is None
    assert await store.get_conversation("bob", "si_nope") is None


async def test_what_one_sends_oneself_is_read_if_all_before_it_was(store: Store):
    await chat(store, ("alice", "x1"), ("bob", "x2"), ("alice", "x3"))
    alice = await store.get_conversation("alice", CONV)
    assert alice is not None and (alice.has_read_seq, alice.unread_count) == (1, 1)
    await store.mark_conversation_read("alice", CONV)
    await chat(store, ("alice", "x4"))
    alice = await store.get_conversation("alice", CONV)
    assert alice is not None and alice.has_read_seq == 4


async def test_marking_messages_read_goes_up_to_the_newest_given(store: Store):
    await chat(store, ("alice", "m1"), ("bob", "m2"), ("alice", "m3"), ("alice", "m4"))
    read = await store.mark_messages_read("bob", CONV, ["m1", "m3"])
    assert read.read_client_msg_ids == ("m1", "m3")  # not bob's own m2
    assert (read.conversation.has_read_seq, read.conversation.unread_count) == (3, 1)
    unchanged = await store.mark_messages_read("bob", CONV, ["m1", "nope"])
    assert unchanged.read_client_msg_ids == () and unchanged.conversation.has_read_seq == 3
    nothing = await store.mark_messages_read("bob", CONV, [])
    assert nothing.conversation.has_read_seq == 3
    with pytest.raises(StoreError):
        await store.mark_messages_read("carol", CONV, ["m4"])
    with pytest.raises(StoreError):
        await store.mark_conversation_read("carol", CONV)


async def test_unread_counts_leave_out_what_the_user_deleted(store: Store):
    await chat(store, ("alice", "u1"), ("alice", "u2"), ("alice", "u3"))
    await store.delete_messages_for("bob", CONV, [1, 3])
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and bob.unread_count == 1
    # the latest message is the newest one bob can still see
    assert bob.latest_msg is not None and bob.latest_msg["clientMsgID"] == "u2"
    read = await store.mark_conversation_read("bob", CONV)
    assert read.read_client_msg_ids == ("u2",)
    alice = await store.get_conversation("alice", CONV)
    assert alice is not None and alice.latest_msg["clientMsgID"] == "u3"


async def test_the_latest_message_shows_the_viewers_note(store: Store):
    await chat(store, ("alice", "l1"), ("alice", "l2"))
    await store.set_local_ex("bob", CONV, 2, "mine")
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and bob.latest_msg["localEx"] == "mine"
    alice = await store.get_conversation("alice", CONV)
    assert alice is not None and "localEx" not in alice.latest_msg
    await store.set_local_ex("bob", CONV, 1, "older")
    await store.delete_messages_for("bob", CONV, [2])
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and bob.latest_msg["localEx"] == "older"


async def test_clearing_hides_everything_so_far_from_one_user(store: Store):
    await chat(store, ("alice", "c1"), ("alice", "c2"))
    await store.append_message("sg_g1", group_message("g1m", "g1", "alice"),
                               ["alice", "bob"], mentions={"bob": GROUP_AT_ME})
    cleared = await store.clear_conversation("bob", CONV)
    assert cleared is not None
    assert (cleared.min_seq, cleared.has_read_seq, cleared.unread_count) == (2, 2, 0)
    assert (cleared.latest_msg, cleared.latest_msg_send_time, cleared.is_hidden) == (
        None, 0, False)
    await chat(store, ("alice", "c3"))
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and (bob.unread_count, bob.latest_msg["clientMsgID"]) == (1, "c3")
    alice = await store.get_conversation("alice", CONV)
    assert alice is not None and alice.min_seq == 0

    group = await store.clear_conversation("bob", "sg_g1", hide=True)
    assert group is not None and (group.is_hidden, group.group_at_type) == (True, GROUP_AT_NONE)
    assert [c.conversation_id for c in await store.get_conversations("bob")] == [CONV]
    assert await store.clear_conversation("carol", CONV) is None


async def test_clearing_an_empty_conversation(store: Store):
    await store.ensure_conversations(["alice"], "si_alice_carol", SINGLE,
                                     peer_of={"alice": "carol"})
    cleared = await store.clear_conversation("alice", "si_alice_carol")
    assert cleared is not None and (cleared.min_seq, cleared.max_seq) == (0, 0)


async def test_conversations_list_pinned_first_then_newest(store: Store):
    await chat(store, ("alice", "p1"))
    await asyncio.sleep(0.002)
    await store.append_message("si_alice_carol", message("p2", recv="carol"),
                               ["alice", "carol"])
    await asyncio.sleep(0.002)
    await store.append_message("sg_g1", group_message("p3", "g1", "bob"),
                               ["alice", "bob", "carol"])
    await store.ensure_conversations(["alice"], "si_alice_dave", SINGLE,
                                     peer_of={"alice": "dave"})
    listed = [c.conversation_id for c in await store.get_conversations("alice")]
    assert listed == ["sg_g1", "si_alice_carol", CONV, "si_alice_dave"]
    await store.update_conversation("alice", CONV, {"is_pinned": True})
    listed = [c.conversation_id for c in await store.get_conversations("alice")]
    assert listed == [CONV, "sg_g1", "si_alice_carol", "si_alice_dave"]
    assert await store.get_conversations("nobody") == []


async def test_settings_change_one_users_view(store: Store):
    await chat(store, ("alice", "s1"))
    updated = await store.update_conversation("bob", CONV, {
        "recv_msg_opt": 2, "is_pinned": 1, "draft_text": "draft", "draft_text_time": 77,
        "is_private_chat": True, "burn_duration": 5, "ex": "e", "attached_info": "a",
        "msg_destruct_time": 9, "is_msg_destruct": 1})
    assert updated is not None
    assert (updated.recv_msg_opt, updated.is_pinned, updated.draft_text,
            updated.draft_text_time, updated.is_private_chat, updated.burn_duration,
            updated.ex, updated.attached_info, updated.msg_destruct_time,
            updated.is_msg_destruct) == (2, True, "draft", 77, True, 5, "e", "a", 9, True)
    assert updated == await store.get_conversation("bob", CONV)
    alice = await store.get_conversation("alice", CONV)
    assert alice is not None and (alice.recv_msg_opt, alice.is_pinned) == (0, False)
    assert await store.update_conversation("bob", CONV, {}) == updated
    assert await store.update_conversation("carol", CONV, {"is_pinned": True}) is None
    with pytest.raises(StoreError):
        await store.update_conversation("bob", CONV, {"max_seq": 0})


async def test_hidden_conversations_come_back_with_their_next_message(store: Store):
    await chat(store, ("alice", "h1"))
    await store.append_message("si_bob_carol", message("h2", "carol", "bob"), ["carol", "bob"])
    assert await store.hide_all_conversations("bob") == [CONV, "si_bob_carol"]
    assert await store.hide_all_conversations("bob") == []
    assert await store.get_conversations("bob") == []
    assert len(await store.get_conversations("bob", include_hidden=True)) == 2
    await store.update_conversation("alice", CONV, {"is_hidden": 1})
    await chat(store, ("alice", "h3"))
    assert [c.conversation_id for c in await store.get_conversations("bob")] == [CONV]
    assert [c.conversation_id for c in await store.get_conversations("alice")] == [CONV]


async def test_ensure_gives_a_conversation_to_those_who_lack_it(store: Store):
    created = await store.ensure_conversations(
        ["bob", "alice", "bob"], CONV, SINGLE, peer_of={"alice": "bob", "bob": "alice"})
    assert created == ["bob", "alice"]
    assert await store.ensure_conversations(["alice", "carol"], CONV, SINGLE) == ["carol"]
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and (bob.user_id, bob.max_seq, bob.latest_msg) == ("alice", 0, None)
    group = await store.ensure_conversations(["alice", "bob"], "sg_g2", GROUP, group_id="g2")
    assert group == ["alice", "bob"]
    view = await store.get_conversation("alice", "sg_g2")
    assert view is not None and (view.group_id, view.conversation_type) == ("g2", GROUP)
    result = await store.append_message(CONV, message("e1"), ["alice", "bob"])
    assert result.new_conversation_owners == ()


async def test_every_users_view_of_one_conversation(store: Store):
    await store.append_message("sg_g1", group_message("gm1", "g1", "alice"),
                               ["alice", "bob", "carol"])
    await store.mark_conversation_read("bob", "sg_g1")
    members = await store.get_conversation_members("sg_g1")
    assert sorted((m.owner_id, m.has_read_seq, m.unread_count) for m in members) == [
        ("alice", 1, 0), ("bob", 1, 0), ("carol", 0, 1)]
    assert await store.get_conversation_members("sg_nope") == []
