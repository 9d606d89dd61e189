"""Unread counts from running counters, checked against counting the messages one by one,
and the batch reads the pushes after a group message use (every member's view at once)."""

import random

import pytest

from oimws.store import ConversationRecord, Store
from tests.store.helpers import GROUP, RunSql, StoreFactory, group_message, register

USERS = ("alice", "bob", "carol", "dave")
GROUP_CONV = "sg_g1"


def _comparable(record: ConversationRecord) -> tuple[object, ...]:
    return (record.owner_id, record.conversation_id, record.unread_count, record.has_read_seq,
            record.min_seq, record.max_seq, record.latest_msg, record.latest_msg_send_time,
            record.recv_msg_opt, record.is_hidden)


async def _counted_one_by_one(store: Store, owner: str, counting: set[str]) -> int:
    """The unread count by definition: the messages from others after the owner's read and
    cleared marks that count as unread and that the owner can still see."""
    view = await store.get_conversation(owner, GROUP_CONV)
    assert view is not None
    visible = await store.get_history_after(GROUP_CONV, max(view.has_read_seq, view.min_seq),
                                            10_000, viewer_id=owner)
    return sum(1 for m in visible if m["sendID"] != owner and m["clientMsgID"] in counting)


@pytest.fixture
async def store(store: Store) -> Store:
    await register(store, *USERS)
    await store.ensure_conversations(list(USERS), GROUP_CONV, GROUP, group_id="g1")
    return store


async def test_unread_counts_match_counting_after_any_mix_of_operations(store: Store):
    """Sends (counting and not), reads up to a message or to the end, deletions, clears and
    notes, in a seeded random order: after every step each member's count, their view in the
    batch read and their total equal what counting the messages one by one gives."""
    rng = random.Random(7)
    counting: set[str] = set()
    sent: list[str] = []
    for step in range(120):
        owner = rng.choice(USERS)
        action = rng.random()
        if action < 0.55 or not sent:
            counts = rng.random() < 0.8
            client_msg_id = f"m{step}"
            await store.append_message(GROUP_CONV, group_message(client_msg_id, "g1", owner),
                                       list(USERS), counts_as_unread=counts)
            sent.append(client_msg_id)
            if counts:
                counting.add(client_msg_id)
        elif action < 0.7:
            await store.mark_messages_read(owner, GROUP_CONV, [rng.choice(sent)])
        elif action < 0.78:
            await store.mark_conversation_read(owner, GROUP_CONV)
        elif action < 0.9:  # some of anyone's, and the newest few (often one's own)
            seqs = rng.sample(range(1, len(sent) + 1), k=min(2, len(sent)))
            seqs += range(max(1, len(sent) - 2), len(sent) + 1)
            await store.delete_messages_for(owner, GROUP_CONV, seqs)
        elif action < 0.95:
            await store.set_local_ex(owner, GROUP_CONV, len(sent), f"note {step}")
        else:
            await store.clear_conversation(owner, GROUP_CONV)

        views = await store.get_conversation_views(list(USERS), [GROUP_CONV])
        totals = await store.get_unread_totals(list(USERS))
        assert [v.owner_id for v in views] == sorted(USERS)
        for view in views:
            single = await store.get_conversation(view.owner_id, GROUP_CONV)
            assert single is not None
            assert _comparable(view) == _comparable(single), step
            expected = await _counted_one_by_one(store, view.owner_id, counting)
            assert view.unread_count == expected, (step, view.owner_id)
            assert totals[view.owner_id] == expected


async def test_batch_views_cover_only_existing_views_and_keep_notes_per_viewer(store: Store):
    await store.append_message(GROUP_CONV, group_message("n1", "g1", "alice"), list(USERS))
    await store.set_local_ex("bob", GROUP_CONV, 1, "bob's note")
    views = await store.get_conversation_views(["bob", "carol", "nobody"],
                                               [GROUP_CONV, "sg_none"])
    assert [v.owner_id for v in views] == ["bob", "carol"]
    bob, carol = views
    assert bob.latest_msg is not None and bob.latest_msg["localEx"] == "bob's note"
    assert carol.latest_msg is not None and "localEx" not in carol.latest_msg
    assert await store.get_conversation_views([], [GROUP_CONV]) == []


async def test_deleting_or_noting_a_message_not_sent_yet_changes_nothing(store: Store):
    """Only stored messages can be deleted or noted: a seq that comes later arrives unread
    and without a note."""
    await store.append_message(GROUP_CONV, group_message("x1", "g1", "alice"), list(USERS))
    await store.delete_messages_for("bob", GROUP_CONV, [2])
    await store.set_local_ex("bob", GROUP_CONV, 2, "too early")
    await store.append_message(GROUP_CONV, group_message("x2", "g1", "alice"), list(USERS))
    (view,) = await store.get_conversation_views(["bob"], [GROUP_CONV])
    assert view.unread_count == 2
    assert view.latest_msg is not None and view.latest_msg["clientMsgID"] == "x2"
    assert "localEx" not in view.latest_msg
    assert [m["clientMsgID"] for m in await store.get_history_after(
        GROUP_CONV, 0, 10, viewer_id="bob")] == ["x1", "x2"]


async def test_totals_leave_out_hidden_and_muted_conversations(store: Store):
    await store.ensure_conversations(["bob"], "sg_g2", GROUP, group_id="g2")
    await store.append_message(GROUP_CONV, group_message("t1", "g1", "alice"), list(USERS))
    await store.append_message("sg_g2", group_message("t2", "g2", "alice"), ["alice", "bob"])
    assert (await store.get_unread_totals(["bob", "alice", "nobody"])) == {
        "bob": 2, "alice": 0, "nobody": 0}
    await store.update_conversation("bob", "sg_g2", {"recv_msg_opt": 2})
    assert (await store.get_unread_totals(["bob"])) == {"bob": 1}
    await store.update_conversation("bob", GROUP_CONV, {"is_hidden": True})
    assert (await store.get_unread_totals(["bob"])) == {"bob": 0}
    assert (await store.get_unread_totals([])) == {}
    assert (await store.get_unread_totals(["bob", "alice"], excluding=["sg_g2", "sg_x"])) == {
        "bob": 0, "alice": 0}
    await store.update_conversation("bob", GROUP_CONV, {"is_hidden": False})
    assert (await store.get_unread_totals(["bob"], excluding=["sg_g2"])) == {"bob": 1}
    assert (await store.get_unread_totals(["bob"], excluding=[GROUP_CONV])) == {"bob": 0}


async def test_counters_are_rebuilt_for_messages_stored_before_them(
        new_store: StoreFactory, run_sql: RunSql):
    """A database made before the counters existed (messages schema version 1) gets them
    at open, and counts as before."""
    store = new_store()
    await store.open()
    await register(store, *USERS)
    for i, (sender, counts) in enumerate([("alice", True), ("bob", False), ("alice", True),
                                          ("carol", True), ("alice", True)]):
        await store.append_message(GROUP_CONV, group_message(f"o{i}", "g1", sender),
                                   list(USERS), counts_as_unread=counts)
    await store.mark_messages_read("dave", GROUP_CONV, ["o1"])
    before = await store.get_conversation_views(list(USERS), [GROUP_CONV])
    await store.close()
    await run_sql(
        "DROP INDEX messages_by_sender;"
        " ALTER TABLE messages DROP COLUMN unread_ordinal;"
        " ALTER TABLE conversation_state DROP COLUMN unread_ordinal;"
        " UPDATE schema_versions SET version = 1 WHERE domain = 'messages';")

    reopened = new_store()
    await reopened.open()
    try:
        after = await reopened.get_conversation_views(list(USERS), [GROUP_CONV])
        assert [_comparable(v) for v in after] == [_comparable(v) for v in before]
        assert [v.unread_count for v in after] == [1, 4, 3, 3]  # alice, bob, carol, dave
        await reopened.append_message(GROUP_CONV, group_message("o5", "g1", "bob"),
                                      list(USERS))
        assert (await reopened.get_unread_totals(["alice", "dave"])) == {"alice": 2, "dave": 4}
    finally:
        await reopened.close()
