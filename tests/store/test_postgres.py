"""What only the cluster backend has: several nodes (stores with pools of their own) on one
PostgreSQL database at once, and the database's failures."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from oimws.store import DuplicateClientMsgIDError, StoreError, UserRecord
from oimws.store.friends import FriendRequestRecord
from oimws.store.groups import (
    APPLICATION_ACCEPTED,
    ROLE_OWNER,
    GroupApplicationRecord,
    GroupRecord,
    MemberRecord,
)
from oimws.store.postgres import PostgresStore
from tests.store.helpers import CONV, admin_sql, client_ids, message
from tests.support.postgres import PostgresServer

NODES = 4


@pytest.fixture
async def nodes(postgres_dsn: str) -> AsyncIterator[list[PostgresStore]]:
    """Stores standing for nodes of one cluster: same database, pools of their own."""
    stores = [PostgresStore(postgres_dsn) for _ in range(NODES)]
    await asyncio.gather(*(store.open() for store in stores))  # migrating together, too
    await stores[0].register_users([UserRecord("alice"), UserRecord("bob")])
    yield stores
    await asyncio.gather(*(store.close() for store in stores))


async def test_nodes_appending_to_one_conversation_never_share_or_skip_a_seq(
        nodes: list[PostgresStore]):
    per_node = 50

    async def send_all(node: int, store: PostgresStore) -> list[int]:
        results = await asyncio.gather(*(
            store.append_message(CONV, message(f"n{node}-{i}"), ["alice", "bob"])
            for i in range(per_node)))
        return [r.message["seq"] for r in results]

    seqs_by_node = await asyncio.gather(*(send_all(n, s) for n, s in enumerate(nodes)))
    every_seq = sorted(seq for seqs in seqs_by_node for seq in seqs)
    assert every_seq == list(range(1, NODES * per_node + 1))
    for seqs in seqs_by_node:  # each node's sends keep the order they were made in
        assert seqs == sorted(seqs)
    history = await nodes[0].get_history(CONV, 0, 1000)
    assert [m["seq"] for m in history] == every_seq
    assert len(set(client_ids(history))) == NODES * per_node
    bob = await nodes[1].get_conversation("bob", CONV)
    assert bob is not None and (bob.max_seq, bob.unread_count) == (200, 200)
    assert bob.latest_msg == history[-1]


async def test_a_resend_racing_on_two_nodes_is_stored_once(nodes: list[PostgresStore]):
    results = await asyncio.gather(*(
        node.append_message(CONV, message("twice"), ["alice", "bob"]) for node in nodes))
    assert sorted(r.created for r in results) == [False] * (NODES - 1) + [True]
    assert all(r.message == results[0].message for r in results)
    assert client_ids(await nodes[0].get_history(CONV, 0, 10)) == ["twice"]


async def test_a_client_msg_id_racing_into_two_conversations_is_refused_once(
        nodes: list[PostgresStore]):
    conversations = [f"si_alice_u{i}" for i in range(NODES)]
    outcomes = await asyncio.gather(*(
        node.append_message(conversation, message("contested", recv=f"u{i}"),
                            ["alice", f"u{i}"])
        for i, (node, conversation) in enumerate(zip(nodes, conversations, strict=True))),
        return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, DuplicateClientMsgIDError)]
    assert len(refused) == NODES - 1
    [winner] = [i for i, o in enumerate(outcomes) if not isinstance(o, BaseException)]
    for i, conversation in enumerate(conversations):  # no refused append kept a seq
        after = await nodes[i].append_message(conversation, message(f"after{i}",
                                                                    recv=f"u{i}"),
                                              ["alice", f"u{i}"])
        assert after.message["seq"] == (2 if i == winner else 1)


async def test_what_one_node_wrote_the_next_reads_at_once(nodes: list[PostgresStore]):
    for i in range(10):
        writer, reader = nodes[i % NODES], nodes[(i + 1) % NODES]
        sent = await writer.append_message(CONV, message(f"r{i}"), ["alice", "bob"])
        assert await reader.get_message(CONV, f"r{i}") == sent.message


async def test_an_application_is_settled_by_one_node_only(nodes: list[PostgresStore]):
    await nodes[0].create_group(GroupRecord("g1", owner_user_id="alice",
                                            creator_user_id="alice", create_time=1),
                                [MemberRecord("g1", "alice", role_level=ROLE_OWNER)])
    await nodes[0].save_application(GroupApplicationRecord("g1", "bob", "hi", 1))
    settled = await asyncio.gather(*(
        node.handle_application("g1", "bob", APPLICATION_ACCEPTED, "alice", "",
                                MemberRecord("g1", "bob", join_time=i))
        for i, node in enumerate(nodes)))
    assert sorted(settled) == [False] * (NODES - 1) + [True]
    assert sorted(await nodes[0].get_member_ids("g1")) == ["alice", "bob"]


async def test_crossing_friend_accepts_on_two_nodes_make_one_friendship(
        nodes: list[PostgresStore]):
    for _ in range(5):  # crossing accepts may deadlock in the database; it must not show
        await nodes[0].save_friend_request(FriendRequestRecord("alice", "bob"))
        await nodes[0].save_friend_request(FriendRequestRecord("bob", "alice"))
        results = await asyncio.gather(
            nodes[0].accept_friend_request("alice", "bob", "", 1),
            nodes[1].accept_friend_request("bob", "alice", "", 1))
        assert [r is not None for r in results].count(True) == 1
        assert [f.friend_user_id for f in await nodes[2].get_friends("alice")] == ["bob"]
        assert [f.friend_user_id for f in await nodes[2].get_friends("bob")] == ["alice"]
        await nodes[0].delete_friend("alice", "bob")
        await nodes[0].delete_friend("bob", "alice")


async def test_an_unreachable_database_fails_to_open_with_a_store_error(
        postgres_server: PostgresServer):
    closed_port = postgres_server.port + 1 if postgres_server.port < 65535 else 1
    store = PostgresStore(f"postgresql://oimws:secret@127.0.0.1:{closed_port}/nowhere")
    with pytest.raises(StoreError) as raised:
        await store.open()
    assert "secret" not in str(raised.value)
    missing = PostgresStore(postgres_server.dsn("no_such_database"))
    with pytest.raises(StoreError):
        await missing.open()


async def test_a_read_only_database_is_not_writable(postgres_dsn: str):
    store = PostgresStore(postgres_dsn)
    await store.open()
    await store.register_users([UserRecord("alice")])
    await store.close()
    database = postgres_dsn.rsplit("/", 1)[1]
    await admin_sql(postgres_dsn, f"ALTER DATABASE {database} SET default_transaction_read_only"
                 " = on")
    read_only = PostgresStore(postgres_dsn)
    try:
        await read_only.open()  # up to date: opens, and serves reads
        assert list(await read_only.get_users(["alice"])) == ["alice"]
        with pytest.raises(StoreError, match="only reads"):
            await read_only.check_writable()
        with pytest.raises(StoreError, match="read-only"):
            await read_only.append_message(CONV, message("no"), ["alice", "bob"])
        await read_only.close()
    finally:
        await admin_sql(postgres_dsn, f"ALTER DATABASE {database} RESET"
                     " default_transaction_read_only")


