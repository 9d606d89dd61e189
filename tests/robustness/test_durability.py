"""SIGKILL under load: every acknowledged message survives exactly once, seqs stay dense.

Three senders pipeline messages to one recipient; the server is SIGKILLed at a few points
(right after the first acknowledgements, mid-load, deep into the load), restarted on the
same data directory, and the recipient's history is read back. Between kills the load goes
on, so seqs must also continue without gaps or repeats across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from pathlib import Path
from typing import Any

from oimws.client import JssdkClient, ResponseError
from tests.support.server import RunningServer

SENDERS = ("alice", "bob", "carol")
RECIPIENT = "dave"
IN_FLIGHT = 8  # requests each sender keeps pipelined


async def logged_in(server: RunningServer, user: str) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user, server.user_token(user), 5)
    await client.login()
    return client


async def _sender(client: JssdkClient, acked: set[str], stop: asyncio.Event) -> None:
    template = await client.call("CreateTextMessage", "load")

    async def one() -> None:
        while not stop.is_set():
            message = dict(template, clientMsgID=uuid.uuid4().hex)
            try:
                result = await client.call("SendMessage", message, RECIPIENT, "", {}, False,
                                           timeout=5)
            except (ResponseError, TimeoutError, OSError):
                return
            acked.add(result["clientMsgID"])

    await asyncio.gather(*(one() for _ in range(IN_FLIGHT)), return_exceptions=True)


async def _history(client: JssdkClient, conversation_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    start = ""
    while True:
        page = await client.call("GetAdvancedHistoryMessageList", {
            "conversationID": conversation_id, "count": 100, "startClientMsgID": start,
            "lastMinSeq": 0})
        batch = page["messageList"]
        messages = batch + messages
        if page["isEnd"] or not batch:
            return messages
        start = batch[0]["clientMsgID"]


def _kill(server: RunningServer) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)


async def test_acknowledged_messages_survive_sigkill_exactly_once(server_factory,
                                                                  tmp_path: Path):
    server: RunningServer = server_factory(tmp_path=tmp_path)
    secret = server.secret
    server.register(*SENDERS, RECIPIENT)
    acked: set[str] = set()
    for kill_after in (1, 150, 600):
        clients = [await logged_in(server, user) for user in SENDERS]
        stop = asyncio.Event()
        load = [asyncio.ensure_future(_sender(c, acked, stop)) for c in clients]
        target = len(acked) + kill_after
        async with asyncio.timeout(60):
            while len(acked) < target:
                await asyncio.sleep(0.001)
        _kill(server)  # mid-flight: more requests are pipelined than acknowledged
        stop.set()
        await asyncio.gather(*load, return_exceptions=True)
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()

        server = server_factory(tmp_path=tmp_path, secret=secret)
        dave = await logged_in(server, RECIPIENT)
        stored: list[str] = []
        for sender in SENDERS:
            history = await _history(dave, f"si_{sender}_{RECIPIENT}")
            seqs = [m["seq"] for m in history]
            assert seqs == list(range(1, len(seqs) + 1)), (sender, seqs[:20])
            stored += [m["clientMsgID"] for m in history]
        assert len(stored) == len(set(stored)), "a message is stored twice"
        missing = acked - set(stored)
        assert not missing, f"{len(missing)} acknowledged messages lost after SIGKILL"
        await dave.close()
