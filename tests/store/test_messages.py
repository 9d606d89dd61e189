"""Messages: seqs, idempotent appends, history, search, per-user visibility and notes."""

import asyncio

import pytest

from oimws.store import DuplicateClientMsgIDError, Store, StoreError
from oimws.store.messages import GROUP_AT_ALL, GROUP_AT_ME, GROUP_AT_NONE, MessageQuery
from tests.store.helpers import CONV, chat, client_ids, group_message, message, register


@pytest.fixture
async def store(store: Store) -> Store:
    await register(store, "alice", "bob")
    return store


async def test_seqs_are_consecutive_and_ids_assigned(store: Store):
    results = [await store.append_message(CONV, message(f"c{i}"), ["alice", "bob"])
               for i in range(5)]
    assert [r.message["seq"] for r in results] == [1, 2, 3, 4, 5]
    assert len({r.message["serverMsgID"] for r in results}) == 5
    assert all(r.message["status"] == 2 and r.message["sendTime"] > 0 for r in results)
    assert results[0].new_conversation_owners == ("alice", "bob")
    assert results[1].new_conversation_owners == ()
    assert results[0].message["textElem"] == {"content": "hi"}


async def test_concurrent_writes_keep_their_order(store: Store):
    results = await asyncio.gather(*(
        store.append_message(CONV, message(f"g{i}"), ["alice", "bob"]) for i in range(50)))
    assert [r.message["seq"] for r in results] == list(range(1, 51))
    assert client_ids(await store.get_history(CONV, 0, 100)) == [f"g{i}" for i in range(50)]


async def test_seqs_count_per_conversation(store: Store):
    await store.append_message(CONV, message("a"), ["alice", "bob"])
    other = await store.append_message("si_alice_carol", message("b", recv="carol"),
                                       ["alice", "carol"])
    assert other.message["seq"] == 1


async def test_resend_is_idempotent(store: Store):
    first = await store.append_message(CONV, message("same"), ["alice", "bob"])
    again = await store.append_message(CONV, message("same", text="changed"), ["alice", "bob"])
    assert again.created is False
    assert again.message == first.message
    assert len(await store.get_history(CONV, 0, 10)) == 1
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and bob.unread_count == 1


async def test_client_msg_id_of_another_sender_is_refused(store: Store):
    await store.append_message(CONV, message("taken"), ["alice", "bob"])
    with pytest.raises(DuplicateClientMsgIDError):
        await store.append_message(CONV, message("taken", sender="bob", recv="alice"),
                                   ["bob", "alice"])
    assert len(await store.get_history(CONV, 0, 10)) == 1


async def test_client_msg_id_of_another_conversation_is_refused(store: Store):
    await store.append_message(CONV, message("taken"), ["alice", "bob"])
    with pytest.raises(DuplicateClientMsgIDError):
        await store.append_message("si_alice_carol", message("taken", recv="carol"),
                                   ["alice", "carol"])
    assert await store.get_conversation("alice", "si_alice_carol") is None
    later = await store.append_message("si_alice_carol", message("fresh", recv="carol"),
                                       ["alice", "carol"])
    assert later.message["seq"] == 1  # the refused append took no seq


async def test_one_failing_write_does_not_sink_its_batch(store: Store):
    await store.append_message(CONV, message("dup"), ["alice", "bob"])
    outcomes = await asyncio.gather(
        store.append_message(CONV, message("ok1"), ["alice", "bob"]),
        store.append_message("si_x_y", message("dup", sender="x", recv="y"), ["x", "y"]),
        store.append_message(CONV, message("ok2"), ["alice", "bob"]),
        return_exceptions=True)
    assert isinstance(outcomes[1], DuplicateClientMsgIDError)
    assert [m["clientMsgID"] for m in await store.get_history(CONV, 0, 10)] == [
        "dup", "ok1", "ok2"]


async def test_history_pages_backwards(store: Store):
    for i in range(7):
        await store.append_message(CONV, message(f"h{i}"), ["alice", "bob"])
    newest = await store.get_history(CONV, 0, 3)
    assert [m["seq"] for m in newest] == [5, 6, 7]
    older = await store.get_history(CONV, newest[0]["seq"], 3)
    assert [m["seq"] for m in older] == [2, 3, 4]
    oldest = await store.get_history(CONV, older[0]["seq"], 3)
    assert [m["seq"] for m in oldest] == [1]
    assert await store.get_message(CONV, "h3") == older[2]
    assert await store.get_message(CONV, "nope") is None
    assert await store.get_message("si_other", "h3") is None
    assert await store.get_history("si_other", 0, 3) == []


async def test_history_pages_forwards(store: Store):
    await chat(store, *(("alice", f"f{i}") for i in range(6)))
    assert [m["seq"] for m in await store.get_history_after(CONV, 0, 4)] == [1, 2, 3, 4]
    assert [m["seq"] for m in await store.get_history_after(CONV, 4, 4)] == [5, 6]
    assert await store.get_history_after(CONV, 6, 4) == []


async def test_messages_by_client_id_come_in_seq_order(store: Store):
    await chat(store, ("alice", "m1"), ("bob", "m2"), ("alice", "m3"))
    found = await store.get_messages(CONV, ["m3", "nope", "m1", "m1"])
    assert client_ids(found) == ["m1", "m3"]
    assert await store.get_messages(CONV, []) == []
    assert await store.get_messages("si_other", ["m1"]) == []


async def test_deleted_messages_vanish_for_one_user_only(store: Store):
    await chat(store, *(("alice", f"d{i}") for i in range(1, 6)))
    await store.delete_messages_for("bob", CONV, [2, 4])
    await store.delete_messages_for("bob", CONV, [2])  # again: no harm
    await store.delete_messages_for("bob", CONV, [])
    assert client_ids(await store.get_history(CONV, 0, 10, viewer_id="bob")) == [
        "d1", "d3", "d5"]
    assert client_ids(await store.get_history(CONV, 0, 2, viewer_id="bob")) == ["d3", "d5"]
    assert client_ids(await store.get_history(CONV, 5, 10, viewer_id="bob")) == ["d1", "d3"]
    assert client_ids(await store.get_history_after(CONV, 1, 2, viewer_id="bob")) == [
        "d3", "d5"]
    assert client_ids(await store.get_messages(CONV, ["d1", "d2"], viewer_id="bob")) == ["d1"]
    assert len(await store.get_history(CONV, 0, 10, viewer_id="alice")) == 5
    assert len(await store.get_history(CONV, 0, 10)) == 5


async def test_cleared_messages_vanish_for_one_user_only(store: Store):
    await chat(store, ("alice", "old1"), ("bob", "old2"))
    await store.clear_conversation("bob", CONV)
    await chat(store, ("alice", "new"))
    assert client_ids(await store.get_history(CONV, 0, 10, viewer_id="bob")) == ["new"]
    assert client_ids(await store.get_history_after(CONV, 0, 10, viewer_id="bob")) == ["new"]
    assert await store.get_messages(CONV, ["old1"], viewer_id="bob") == []
    assert len(await store.get_history(CONV, 0, 10, viewer_id="alice")) == 3


async def test_private_notes_show_to_their_writer_only(store: Store):
    await chat(store, ("alice", "n1"), ("bob", "n2"))
    await store.set_local_ex("bob", CONV, 1, "remember")
    await store.set_local_ex("bob", CONV, 1, "remember this")
    [note] = [m.get("localEx") for m in await store.get_history(CONV, 0, 1, viewer_id="bob")
              if m["seq"] == 1] or [None]
    assert note is None  # the newest page holds seq 2 only
    bob_view = await store.get_history(CONV, 0, 10, viewer_id="bob")
    assert [m.get("localEx") for m in bob_view] == ["remember this", None]
    after = await store.get_history_after(CONV, 0, 10, viewer_id="bob")
    assert after[0]["localEx"] == "remember this"
    assert (await store.get_messages(CONV, ["n1"], viewer_id="bob"))[0]["localEx"] == (
        "remember this")
    assert all("localEx" not in m for m in await store.get_history(CONV, 0, 10,
                                                                    viewer_id="alice"))
    assert all("localEx" not in m for m in await store.get_history(CONV, 0, 10))


async def test_replacing_a_message_keeps_its_place(store: Store):
    [first, last] = await chat(store, ("alice", "r1"), ("alice", "r2"))
    revoked = {**first, "contentType": 2101, "textElem": None,
               "notificationElem": {"detail": "revoked"}}
    await store.replace_message(CONV, 1, revoked)
    assert await store.get_message(CONV, "r1") == revoked
    assert (await store.get_conversation("bob", CONV)).latest_msg == last
    revoked_last = {**last, "contentType": 2101, "textElem": None}
    await store.replace_message(CONV, 2, revoked_last)
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and bob.latest_msg == revoked_last
    with pytest.raises(StoreError):
        await store.replace_message(CONV, 9, revoked)


async def test_search_filters_and_pages_newest_first(store: Store):
    for conversation, sent in (
            (CONV, message("s1", text="Hello World")),
            (CONV, message("s2", sender="bob", recv="alice", text="hello there")),
            (CONV, message("s3", text="100% sure_thing")),
            ("si_alice_carol", message("s4", recv="carol", text="hello c"))):
        await store.append_message(conversation, sent, [sent["sendID"], sent["recvID"]])
        await asyncio.sleep(0.002)  # newest first goes by send time (in milliseconds)
    both = [CONV, "si_alice_carol"]

    async def search(**query) -> tuple[int, list[str]]:
        total, page = await store.search_messages(MessageQuery(**{
            "conversation_ids": both, "viewer_id": "alice", **query}))
        return total, [m["clientMsgID"] for _, m in page]

    assert await search(keywords=["HELLO"]) == (3, ["s4", "s2", "s1"])
    assert await search(keywords=["hello", "world"], match_all_keywords=True) == (1, ["s1"])
    assert await search(keywords=["world", "there"]) == (2, ["s2", "s1"])
    assert await search(keywords=["%"]) == (1, ["s3"])
    assert await search(keywords=["o_w"]) == (0, [])  # _ is a character, not a wildcard
    assert await search(sender_ids=["bob"]) == (1, ["s2"])
    assert await search(content_types=[101], limit=2) == (4, ["s4", "s3"])
    assert await search(content_types=[101], limit=2, offset=2) == (4, ["s2", "s1"])
    assert await search(content_types=[999]) == (0, [])
    assert await search(conversation_ids=[]) == (0, [])
    total, page = await store.search_messages(MessageQuery([CONV], "alice", ["hello"]))
    assert total == 2 and all(conversation == CONV for conversation, _ in page)

    s2_time = (await store.get_message(CONV, "s2"))["sendTime"]
    total, at_s2_time = await search(start_time=s2_time, end_time=s2_time)  # bounds included
    assert "s2" in at_s2_time and total == len(at_s2_time) <= 4
    assert (await search(start_time=1))[0] == 4
    assert await search(end_time=1) == (0, [])
    assert await search(start_time=s2_time + 3_600_000) == (0, [])

    await store.delete_messages_for("alice", CONV, [2])
    assert await search(keywords=["hello"]) == (2, ["s4", "s1"])
    assert (await store.search_messages(MessageQuery([CONV], "bob", ["hello"])))[0] == 2


async def test_group_messages_create_conversations_and_mark_mentions(store: Store):
    await register(store, "carol")
    group_conv = "sg_g1"
    result = await store.append_message(
        group_conv, group_message("gm1", "g1", "alice"), ["alice", "bob", "carol"],
        mentions={"bob": GROUP_AT_ME, "carol": GROUP_AT_ALL})
    assert result.new_conversation_owners == ("alice", "bob", "carol")
    bob = await store.get_conversation("bob", group_conv)
    assert bob is not None
    assert (bob.conversation_type, bob.group_id, bob.user_id, bob.group_at_type) == (
        3, "g1", "", GROUP_AT_ME)
    assert (await store.get_conversation("carol", group_conv)).group_at_type == GROUP_AT_ALL
    assert (await store.get_conversation("alice", group_conv)).group_at_type == GROUP_AT_NONE
    read = await store.mark_conversation_read("bob", group_conv)
    assert read.conversation.group_at_type == GROUP_AT_NONE


async def test_messages_that_do_not_count_leave_unread_counts_alone(store: Store):
    await store.append_message(CONV, message("note"), ["alice", "bob"],
                               counts_as_unread=False)
    await store.append_message(CONV, message("text"), ["alice", "bob"])
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and (bob.unread_count, bob.max_seq) == (1, 2)
    read = await store.mark_conversation_read("bob", CONV)
    assert read.read_client_msg_ids == ("note", "text")  # both are read now, though


async def test_any_text_is_stored_as_sent(store: Store):
    text = "nul\x00 emoji \U0001f600 quote' backslash\\ percent% 中文"
    sent = await store.append_message(CONV, message("odd", text=text), ["alice", "bob"])
    assert (await store.get_message(CONV, "odd"))["textElem"]["content"] == text
    assert sent.message["textElem"]["content"] == text
    total, [(_, found)] = await store.search_messages(MessageQuery([CONV], "bob", ["中文"]))
    assert total == 1 and found == sent.message
