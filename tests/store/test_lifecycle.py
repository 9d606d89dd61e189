"""Opening, reopening, closing; versioned schemas; writes that outlive their callers."""

import asyncio
from pathlib import Path

import pytest

from oimws.store import Store, StoreError, UserRecord
from oimws.store.friends import BlackRecord, FriendRequestRecord
from oimws.store.sqlite import SqliteStore
from tests.store.helpers import CONV, RunSql, StoreFactory, client_ids, message


async def test_data_survives_reopen(new_store: StoreFactory):
    store = new_store()
    await store.open()
    await store.register_users([UserRecord("alice"), UserRecord("bob")])
    await store.append_message(CONV, message("keep"), ["alice", "bob"])
    await store.save_friend_request(FriendRequestRecord("alice", "bob"))
    assert await store.accept_friend_request("alice", "bob", "ok", 1000) is not None
    await store.add_black(BlackRecord("bob", "alice"))
    await store.close()
    reopened = new_store()
    await reopened.open()
    try:
        history = await reopened.get_history(CONV, 0, 10)
        assert [m["clientMsgID"] for m in history] == ["keep"]
        result = await reopened.append_message(CONV, message("next"), ["alice", "bob"])
        assert result.message["seq"] == 2
        assert [(f.owner_user_id, f.friend_user_id) for f in await reopened.get_friends("bob")
                ] == [("bob", "alice")]
        assert [b.block_user_id for b in await reopened.get_blacks("bob")] == ["alice"]
    finally:
        await reopened.close()


async def test_writes_after_close_fail_clearly(new_store: StoreFactory):
    store = new_store()
    await store.open()
    await store.close()
    await store.close()  # closing twice is harmless
    with pytest.raises(StoreError, match="closed"):
        await store.append_message(CONV, message("late"), ["alice", "bob"])
    with pytest.raises(StoreError, match="closed"):
        await store.check_writable()


async def test_close_finishes_the_writes_already_issued(new_store: StoreFactory):
    store = new_store()
    await store.open()
    sends = [asyncio.create_task(store.append_message(CONV, message(f"w{i}"),
                                                      ["alice", "bob"])) for i in range(10)]
    await asyncio.sleep(0)  # each send has reached the store
    await store.close()
    assert [s.result().message["seq"] for s in sends] == list(range(1, 11))
    reopened = new_store()
    await reopened.open()
    try:
        assert len(await reopened.get_history(CONV, 0, 20)) == 10
    finally:
        await reopened.close()


async def test_a_write_outlives_a_caller_who_stops_waiting(store: Store):
    send = asyncio.create_task(store.append_message(CONV, message("gone"), ["alice", "bob"]))
    await asyncio.sleep(0)
    send.cancel()
    with pytest.raises(asyncio.CancelledError):
        await send
    after = await store.append_message(CONV, message("next"), ["alice", "bob"])
    assert after.message["seq"] == 2
    assert client_ids(await store.get_history(CONV, 0, 10)) == ["gone", "next"]


async def test_an_open_store_is_writable(store: Store):
    await store.check_writable()


async def test_a_schema_newer_than_this_oimws_is_refused(new_store: StoreFactory,
                                                        run_sql: RunSql):
    store = new_store()
    await store.open()
    await store.close()
    await run_sql("UPDATE schema_versions SET version = 99 WHERE domain = 'messages'")
    newer = new_store()
    with pytest.raises(StoreError, match="newer than this oimws knows"):
        await newer.open()


async def test_concurrent_writes_share_one_sqlite_commit(tmp_path: Path):
    store = SqliteStore(tmp_path / "db.sqlite3")
    await store.open()
    try:
        before = store.commit_count
        results = await asyncio.gather(*(
            store.append_message(CONV, message(f"g{i}"), ["alice", "bob"]) for i in range(50)))
        assert [r.message["seq"] for r in results] == list(range(1, 51))
        assert store.commit_count - before < 50  # group commit: batches, not one per message
    finally:
        await store.close()
