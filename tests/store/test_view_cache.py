"""The embedded store's in-memory conversation views (``ConversationViewCache``): after any
mix of writes, reads through the cache equal reads of the database itself, including reads
made while writes are in flight and after callers stopped waiting for a write."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from oimws.store import ConversationRecord
from oimws.store.sqlite import SqliteStore
from oimws.store.sqlite import messages as sqlite_messages
from oimws.store.view_cache import ConversationViewCache, TotalPart
from tests.store.helpers import GROUP, group_message, message, register

USERS = ("alice", "bob", "carol", "dave", "erin")
GROUPS = {"sg_g1": "g1", "sg_g2": "g2"}
DIRECT = "si_alice_bob"
CONVERSATIONS = (*GROUPS, DIRECT)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """The store under test (with the cache) and a second one on the same file without it:
    the database's own answer."""
    path = tmp_path / "db.sqlite3"
    cached, plain = SqliteStore(path, view_cache_users=3), SqliteStore(path, view_cache_users=0)
    await cached.open()
    await plain.open()
    assert cached.view_cache is not None and plain.view_cache is None
    await register(cached, *USERS)
    # dave joins the first group later (``ensure_conversations``), erin has only g2
    await cached.ensure_conversations(["alice", "bob", "carol"], "sg_g1", GROUP, group_id="g1")
    await cached.ensure_conversations(["alice", "carol", "erin"], "sg_g2", GROUP, group_id="g2")
    yield cached, plain
    await cached.close()
    await plain.close()


def _rows(records: list[ConversationRecord]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(record) for record in records]


async def _same_answers(cached: SqliteStore, plain: SqliteStore, rng: random.Random,
                        step: int) -> None:
    owners = rng.sample(USERS, k=rng.randint(1, len(USERS)))
    conversations = rng.sample(CONVERSATIONS, k=rng.randint(1, len(CONVERSATIONS)))
    excluding = rng.sample(CONVERSATIONS, k=rng.randint(0, 2))
    assert _rows(await cached.get_conversation_views(owners, conversations)) == _rows(
        await plain.get_conversation_views(owners, conversations)), step
    assert await cached.get_unread_totals(owners, excluding) == \
        await plain.get_unread_totals(owners, excluding), step


async def _random_write(store: SqliteStore, rng: random.Random, step: int,
                        sent: dict[str, list[str]]) -> None:
    owner = rng.choice(USERS)
    conversation = rng.choice(CONVERSATIONS)
    action = rng.random()
    if action < 0.45 or not sent[conversation]:
        client_msg_id = f"m{step}"
        if conversation == DIRECT:
            sender = rng.choice(("alice", "bob"))
            await store.append_message(
                DIRECT, message(client_msg_id, sender, "bob" if sender == "alice" else "alice"),
                ["alice", "bob"], counts_as_unread=rng.random() < 0.8)
        else:
            members = [u for u in USERS if await store.get_conversation(u, conversation)]
            if conversation == "sg_g1" and "dave" not in members and rng.random() < 0.1:
                members.append("dave")  # his first message of the group makes his view
            sender = rng.choice(members)
            mentions = {rng.choice(members): rng.choice((1, 2, 3))} if rng.random() < 0.2 \
                else None
            await store.append_message(
                conversation, group_message(client_msg_id, GROUPS[conversation], sender),
                members, counts_as_unread=rng.random() < 0.8, mentions=mentions)
        sent[conversation].append(client_msg_id)
        return
    if await store.get_conversation(owner, conversation) is None:
        if conversation == "sg_g1" and owner == "dave":  # dave joins: a view new to him
            await store.ensure_conversations(["dave"], "sg_g1", GROUP, group_id="g1")
        return
    ids, last_seq = sent[conversation], len(sent[conversation])
    if action < 0.55:
        await store.mark_messages_read(owner, conversation, [rng.choice(ids)])
    elif action < 0.6:
        await store.mark_conversation_read(owner, conversation)
    elif action < 0.67:
        await store.delete_messages_for(owner, conversation, [last_seq, rng.randint(1, last_seq),
                                                              last_seq + 1])
    elif action < 0.72:
        await store.set_local_ex(owner, conversation, rng.choice((last_seq, last_seq + 1)),
                                 f"note {step}")
    elif action < 0.76:
        await store.clear_conversation(owner, conversation, hide=rng.random() < 0.5)
    elif action < 0.88:
        setting = rng.choice([("recv_msg_opt", rng.choice((0, 1, 2))),
                              ("is_hidden", rng.random() < 0.5),
                              ("is_pinned", rng.random() < 0.5),
                              ("group_at_type", 0), ("draft_text", f"draft {step}")])
        await store.update_conversation(owner, conversation, dict([setting]))
    elif action < 0.9:
        await store.hide_all_conversations(owner)
    else:
        latest = await store.get_messages(conversation, [ids[-1]])
        edited = {**latest[0], "textElem": {"content": f"edited {step}"}}
        await store.replace_message(conversation, last_seq, edited)


async def test_cached_reads_equal_the_database_after_any_mix_of_writes(stores):
    """Every kind of write the messages store has, in a seeded random order over two groups
    and a one-to-one chat; the cache holds fewer users than there are, so some are dropped
    and read again. After each write, random batches of views and totals (some excluding
    conversations) read through the cache equal the database's."""
    cached, plain = stores
    rng = random.Random(11)
    sent: dict[str, list[str]] = {c: [] for c in CONVERSATIONS}
    for step in range(400):
        await _random_write(cached, rng, step, sent)
        for _ in range(2):
            await _same_answers(cached, plain, rng, step)
    assert cached.view_cache is not None and cached.view_cache.hits > 200


async def test_reads_while_writes_are_in_flight_or_abandoned(stores):
    """Writes started and not awaited (a read in the same tick sees the database before
    them, or after, depending on the writer thread), and writes whose caller was cancelled
    while the write went on: once they settle, the cache agrees with the database."""
    cached, plain = stores
    rng = random.Random(5)
    sent: dict[str, list[str]] = {c: [] for c in CONVERSATIONS}
    for step in range(150):
        writes = [asyncio.ensure_future(_random_write(cached, rng, step * 10 + i, sent))
                  for i in range(rng.randint(1, 3))]
        await asyncio.sleep(0)
        await cached.get_conversation_views(list(USERS), list(CONVERSATIONS))
        await cached.get_unread_totals(list(USERS))
        if rng.random() < 0.3:
            writes[-1].cancel()
        await asyncio.gather(*writes, return_exceptions=True)
        await cached.check_writable()  # every write of those ticks has settled
        await _same_answers(cached, plain, rng, step)


async def test_a_conversation_new_to_a_user_shows_in_their_cached_totals(stores):
    """dave's totals are known (he has no conversations); then a message makes him a view
    of one group, and joining the other gives him a second one: each counts at once."""
    cached, plain = stores

    async def daves(total: int, unread: list[tuple[str, int]]) -> None:
        for store in (cached, plain):
            assert await store.get_unread_totals(["dave"]) == {"dave": total}
            views = await store.get_conversation_views(["dave"], list(CONVERSATIONS))
            assert [(v.conversation_id, v.unread_count) for v in views] == unread

    await daves(0, [])
    await cached.append_message("sg_g1", group_message("j1", "g1", "alice"),
                                ["alice", "bob", "carol", "dave"])
    await daves(1, [("sg_g1", 1)])
    await cached.append_message("sg_g2", group_message("j2", "g2", "alice"),
                                ["alice", "carol", "erin"])
    await cached.ensure_conversations(["dave"], "sg_g2", GROUP, group_id="g2")
    await daves(2, [("sg_g2", 1), ("sg_g1", 1)])


def test_the_cache_keeps_at_most_its_users():
    """The least recently filled go first, and nothing of theirs stays behind (the index
    of who has a conversation included, after their totals were dropped)."""
    cache = ConversationViewCache(max_users=2)
    for owner in ("a", "b", "c"):
        cache.fill_view(1, ConversationRecord(owner, "sg_g", GROUP, "", "g"))
        cache.fill_parts(owner, {f"sg_{owner}": TotalPart(1, 1, 0, False)})
        cache.forget_totals(owner)
    assert len(cache) == 2
    found, missing = cache.views(["a", "b", "c"], ["sg_g"])
    assert [v.record.owner_id for v in found] == ["b", "c"] and missing == ["a"]
    listed = dict(cache._users_of.items())
    assert listed == {"sg_g": {"b", "c"}, "sg_b": {"b"}, "sg_c": {"c"}}


def test_every_messages_write_reports_to_the_cache():
    """A write that bypassed ``_write_reported`` could leave a cached view stale."""
    source = Path(sqlite_messages.__file__).read_text()
    assert re.findall(r"self\._write\(", source) == ["self._write("] * 2  # inside the helper
