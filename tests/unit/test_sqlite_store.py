import asyncio
from pathlib import Path

import pytest

from oimws.store import DuplicateClientMsgIDError, UserRecord
from oimws.store.sqlite import SqliteStore

CONV = "si_alice_bob"


def message(client_msg_id: str, sender: str = "alice", recv: str = "bob", text: str = "hi"):
    return {"clientMsgID": client_msg_id, "sendID": sender, "recvID": recv, "groupID": "",
            "sessionType": 1, "contentType": 101, "textElem": {"content": text}}


@pytest.fixture
async def store(tmp_path: Path):
    store = SqliteStore(tmp_path / "db.sqlite3")
    await store.open()
    await store.register_users([UserRecord("alice", "Alice"), UserRecord("bob", "Bob")])
    yield store
    await store.close()


async def test_register_reports_existing_users_and_keeps_them(store: SqliteStore):
    existing = await store.register_users([UserRecord("alice", "Changed"), UserRecord("carol")])
    assert existing == ["alice"]
    users = await store.get_users(["alice", "carol", "nobody"])
    assert users["alice"].nickname == "Alice"
    assert set(users) == {"alice", "carol"}


async def test_seqs_are_consecutive_and_ids_assigned(store: SqliteStore):
    results = [await store.append_message(CONV, message(f"c{i}"), ["alice", "bob"])
               for i in range(5)]
    assert [r.message["seq"] for r in results] == [1, 2, 3, 4, 5]
    assert len({r.message["serverMsgID"] for r in results}) == 5
    assert all(r.message["status"] == 2 and r.message["sendTime"] > 0 for r in results)
    assert results[0].new_conversation_owners == ("alice", "bob")
    assert results[1].new_conversation_owners == ()


async def test_concurrent_writes_share_one_commit_and_keep_order(store: SqliteStore):
    before = store.commit_count
    results = await asyncio.gather(*(
        store.append_message(CONV, message(f"g{i}"), ["alice", "bob"]) for i in range(50)))
    assert [r.message["seq"] for r in results] == list(range(1, 51))
    assert store.commit_count - before < 50  # group commit: batches, not one per message


async def test_resend_is_idempotent(store: SqliteStore):
    first = await store.append_message(CONV, message("same"), ["alice", "bob"])
    again = await store.append_message(CONV, message("same", text="changed"), ["alice", "bob"])
    assert again.created is False
    assert again.message == first.message
    assert len(await store.get_history(CONV, 0, 10)) == 1
    bob = await store.get_conversation("bob", CONV)
    assert bob is not None and bob.unread_count == 1


async def test_client_msg_id_of_another_sender_is_refused(store: SqliteStore):
    await store.append_message(CONV, message("taken"), ["alice", "bob"])
    with pytest.raises(DuplicateClientMsgIDError):
        await store.append_message(CONV, message("taken", sender="bob", recv="alice"),
                                   ["bob", "alice"])
    assert len(await store.get_history(CONV, 0, 10)) == 1


async def test_one_failing_write_does_not_sink_its_batch(store: SqliteStore):
    await store.append_message(CONV, message("dup"), ["alice", "bob"])
    outcomes = await asyncio.gather(
        store.append_message(CONV, message("ok1"), ["alice", "bob"]),
        store.append_message("si_x_y", message("dup", sender="x", recv="y"), ["x", "y"]),
        store.append_message(CONV, message("ok2"), ["alice", "bob"]),
        return_exceptions=True)
    assert isinstance(outcomes[1], DuplicateClientMsgIDError)
    assert [m["clientMsgID"] for m in await store.get_history(CONV, 0, 10)] == [
        "dup", "ok1", "ok2"]


async def test_unread_counts_latest_message_and_mark_read(store: SqliteStore):
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


async def test_history_pages_backwards(store: SqliteStore):
    for i in range(7):
        await store.append_message(CONV, message(f"h{i}"), ["alice", "bob"])
    newest = await store.get_history(CONV, 0, 3)
    assert [m["seq"] for m in newest] == [5, 6, 7]
    older = await store.get_history(CONV, newest[0]["seq"], 3)
    assert [m["seq"] for m in older] == [2, 3, 4]
    oldest = await store.get_history(CONV, older[0]["seq"], 3)
    assert [m["seq"] for m in oldest] == [1]
    assert await store.get_message(CONV, "h3") == older[2]


async def test_data_survives_reopen(tmp_path: Path):
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await store.register_users([UserRecord("alice"), UserRecord("bob")])
    await store.append_message(CONV, message("keep"), ["alice", "bob"])
    await store.close()
    reopened = SqliteStore(path)
    await reopened.open()
    try:
        history = await reopened.get_history(CONV, 0, 10)
        assert [m["clientMsgID"] for m in history] == ["keep"]
        result = await reopened.append_message(CONV, message("next"), ["alice", "bob"])
        assert result.message["seq"] == 2
    finally:
        await reopened.close()


async def test_writes_after_close_fail_clearly(tmp_path: Path):
    store = SqliteStore(tmp_path / "db.sqlite3")
    await store.open()
    await store.close()
    from oimws.store import StoreError

    with pytest.raises(StoreError, match="closed"):
        await store.append_message(CONV, message("late"), ["alice", "bob"])
