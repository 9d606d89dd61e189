"""SIGTERM under load: a clean exit, then nothing acknowledged is lost and nothing doubles.

Senders keep ``IN_FLIGHT`` ``SendMessage`` requests pipelined each, to one recipient and to a
group, when the server gets SIGTERM. It must exit by itself with code 0, having told its
clients it is going away (1001) and logged no error. Requests in flight at that moment are
finished and answered, or not taken at all: restarted on the same data directory, history
holds every acknowledged message exactly once with dense seqs, and no message whose send went
unanswered (the server never leaves a client unsure whether it stored one). Then the senders
resend what was never acknowledged with the same clientMsgID (what a client does with a send
that failed), and every message is there exactly once. Twice, so seqs must also go on
densely across restarts.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from typing import Any

from oimws.client import JssdkClient
from tests.support.history import history
from tests.support.server import RunningServer

RECIPIENT = "dave"
GROUP = "G-restart"
# (sender, recvID, groupID): two one-to-one conversations and one group with two posters
ROUTES = (("alice", RECIPIENT, ""), ("bob", RECIPIENT, ""),
          ("carol", "", GROUP), ("erin", "", GROUP))
IN_FLIGHT = 8  # requests each sender keeps pipelined
ACKS_BEFORE_SIGTERM = 300  # in each round
ROUNDS = 2
# A liveness bound, far above what a graceful stop takes, so a noisy machine cannot fail it.
EXIT_WITHIN = 20.0


def conversation_of(sender: str, recv_id: str, group_id: str) -> str:
    if group_id:
        return f"sg_{group_id}"
    return f"si_{'_'.join(sorted((sender, recv_id)))}"


@dataclass
class SendLog:
    """What one sender sent and what became of each request."""

    conversation_id: str
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # clientMsgID -> message
    acked: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)  # clientMsgID -> errCode

    @property
    def unanswered(self) -> set[str]:
        return set(self.sent) - self.acked - set(self.refused)


async def logged_in(server: RunningServer, user: str) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user, server.user_token(user), 5)
    await client.login()
    return client


async def send_or_lose(client: JssdkClient, message: dict[str, Any], recv_id: str,
                       group_id: str) -> dict[str, Any] | None:
    """One SendMessage: its answer frame, or None if the connection ended without one."""
    operation_id = uuid.uuid4().hex

    def is_answer(frame: dict[str, Any]) -> bool:
        return frame.get("operationID") == operation_id

    answer = client.wait_for(is_answer, timeout=60)
    data = json.dumps([json.dumps(message), recv_id, group_id, "{}", False])
    client.send_raw(json.dumps({"reqFuncName": "SendMessage", "operationID": operation_id,
                                "userID": client.user_id, "data": data}))
    gone = asyncio.ensure_future(client.disconnected.wait())
    await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
    gone.cancel()
    answer.cancel()
    # What the client received decides (an answer and the close may come in one read).
    return next((frame for frame in reversed(client.frames) if is_answer(frame)), None)


async def keep_sending(client: JssdkClient, log: SendLog, recv_id: str, group_id: str) -> None:
    template = await client.call("CreateTextMessage", "load")

    async def one_slot() -> None:
        while not client.disconnected.is_set():
            message = dict(template, clientMsgID=uuid.uuid4().hex)
            log.sent[message["clientMsgID"]] = message
            frame = await send_or_lose(client, message, recv_id, group_id)
            if frame is None:
                return
            if frame["errCode"]:
                log.refused[message["clientMsgID"]] = frame["errCode"]
            else:
                log.acked.add(message["clientMsgID"])

    await asyncio.gather(*(one_slot() for _ in range(IN_FLIGHT)))


async def check_histories(reader: JssdkClient, logs: list[SendLog], *, resent: bool) -> None:
    """Dense seqs per conversation; ours stored at most once; every acknowledged one stored
    and no unanswered one (after the resends: every one sent)."""
    for conversation_id in sorted({log.conversation_id for log in logs}):
        stored = await history(reader, conversation_id)
        seqs = [m["seq"] for m in stored]
        assert seqs == list(range(1, len(seqs) + 1)), (conversation_id, seqs[:30])
        ids = [m["clientMsgID"] for m in stored]
        ours = [log for log in logs if log.conversation_id == conversation_id]
        sent = set().union(*(log.sent for log in ours))
        acked = set().union(*(log.acked for log in ours))
        stored_ours = [i for i in ids if i in sent]
        assert len(stored_ours) == len(set(stored_ours)), f"a message doubled in {conversation_id}"
        missing = (sent if resent else acked) - set(stored_ours)
        assert not missing, (f"{len(missing)} {'sent' if resent else 'acknowledged'} messages "
                             f"missing from {conversation_id}")
        unanswered = set().union(*(log.unanswered for log in ours))
        stored_unanswered = unanswered & set(stored_ours)
        assert not stored_unanswered, (f"{len(stored_unanswered)} messages stored in "
                                       f"{conversation_id} but their senders never told so")


def error_lines(log_text: str) -> list[str]:
    return [line for line in log_text.splitlines()
            if '"level":"error"' in line or '"level":"critical"' in line
            or line.startswith("Traceback")]


async def sigterm_under_load(server: RunningServer, logs: list[SendLog]) -> None:
    """Load, SIGTERM once ``ACKS_BEFORE_SIGTERM`` more sends are acknowledged, and check the
    exit and what the senders saw of it."""
    senders = [await logged_in(server, user) for user, _, _ in ROUTES]
    load = [asyncio.ensure_future(keep_sending(client, log, recv, group))
            for client, log, (_, recv, group) in zip(senders, logs, ROUTES, strict=True)]
    target = sum(len(log.acked) for log in logs) + ACKS_BEFORE_SIGTERM
    async with asyncio.timeout(60):
        while sum(len(log.acked) for log in logs) < target:
            await asyncio.sleep(0.005)

    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    try:
        exit_code = await asyncio.to_thread(server.process.wait, EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no exit within {EXIT_WITHIN:.0f} s of SIGTERM\n"
                             + server.log_tail(20)) from None
    async with asyncio.timeout(EXIT_WITHIN):
        await asyncio.gather(*load)
    stopped_log = server.log_text()

    assert exit_code == 0, server.log_tail(20)
    assert not error_lines(stopped_log), "\n".join(error_lines(stopped_log)[:10])
    assert '"msg":"bye"' in stopped_log
    # Every client was told the server is going away, rather than finding its socket gone.
    assert [client.close_code for client in senders] == [1001] * len(senders)
    # Requests in flight were either answered or not at all: never refused for the shutdown.
    assert not any(log.refused for log in logs), [log.refused for log in logs]


async def resend_unanswered(server: RunningServer, logs: list[SendLog]) -> None:
    """The senders come back and resend what was never acknowledged, with the same IDs."""
    for (user, recv_id, group_id), log in zip(ROUTES, logs, strict=True):
        client = await logged_in(server, user)
        for client_msg_id in sorted(log.unanswered):
            frame = await send_or_lose(client, log.sent[client_msg_id], recv_id, group_id)
            assert frame is not None and frame["errCode"] == 0, frame
            assert json.loads(frame["data"])["clientMsgID"] == client_msg_id
            log.acked.add(client_msg_id)
        await client.close()


async def test_sigterm_under_load_exits_cleanly_and_loses_no_acknowledged_message(
        server: RunningServer):
    server.register(*{user for user, _, _ in ROUTES}, RECIPIENT)
    owner = await logged_in(server, "carol")
    await owner.call("CreateGroup", {
        "memberUserIDs": [RECIPIENT, "erin"], "adminUserIDs": [],
        "groupInfo": {"groupID": GROUP, "groupName": "restart", "groupType": 2}})
    await owner.close()
    logs = [SendLog(conversation_of(*route)) for route in ROUTES]

    for _ in range(ROUNDS):
        await sigterm_under_load(server, logs)
        server.restart()
        reader = await logged_in(server, RECIPIENT)
        await check_histories(reader, logs, resent=False)
        await resend_unanswered(server, logs)
        await check_histories(reader, logs, resent=True)
        await reader.close()
