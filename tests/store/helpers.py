"""Building blocks of the store contract tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from oimws.store import Message, Store, UserRecord

StoreFactory = Callable[[], Store]  # a new, unopened store on the test's database
RunSql = Callable[[str], Awaitable[None]]  # SQL run on that database behind the store's back

CONV = "si_alice_bob"  # alice and bob's one-to-one chat
SINGLE = 1
GROUP = 3
TEXT = 101


def message(client_msg_id: str, sender: str = "alice", recv: str = "bob", text: str = "hi",
            **fields: Any) -> Message:
    """A one-to-one text message as a handler hands it to the store."""
    return {"clientMsgID": client_msg_id, "sendID": sender, "recvID": recv, "groupID": "",
            "sessionType": SINGLE, "contentType": TEXT, "textElem": {"content": text},
            **fields}


def group_message(client_msg_id: str, group_id: str, sender: str, text: str = "hi",
                  **fields: Any) -> Message:
    return {"clientMsgID": client_msg_id, "sendID": sender, "recvID": "", "groupID": group_id,
            "sessionType": GROUP, "contentType": TEXT, "textElem": {"content": text},
            **fields}


async def register(store: Store, *user_ids: str) -> None:
    await store.register_users([UserRecord(u, u.title()) for u in user_ids])


async def chat(store: Store, *texts_by_sender: tuple[str, str]) -> list[Message]:
    """Append (sender, clientMsgID) messages to alice and bob's chat, in order."""
    stored = []
    for sender, client_msg_id in texts_by_sender:
        recv = "bob" if sender == "alice" else "alice"
        result = await store.append_message(CONV, message(client_msg_id, sender, recv),
                                            [sender, recv])
        stored.append(result.message)
    return stored


def client_ids(messages: list[Message]) -> list[str]:
    return [m["clientMsgID"] for m in messages]


async def admin_sql(dsn: str, sql: str) -> None:
    """Run SQL on a PostgreSQL database as its administrator would, on a connection of its
    own that writes even where the database defaults to read-only."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET default_transaction_read_only = off")
        await conn.execute(sql)
    finally:
        await conn.close()
