"""Closing a socket whose peer stopped reading is bounded in time.

A graceful close sends what is queued first, and a peer that stopped reading never takes it:
without a bound the socket and its session would linger until the auto-ping gave up on it
(``idle_timeout``, 56 s by default), or for good if the peer kept sending. The server cuts a
socket it closes off after ``close_timeout``, and lets the kernel drop a connection whose data
stays unacknowledged for ``idle_timeout`` (TCP_USER_TIMEOUT).

Each test gives the stalled peer a backlog that outgrows the kernel's buffers (so it sits in
the server's own write buffer), keeps it under ``write_buffer_limit`` (so the slow-consumer
bound does not cut it off first) and leaves the ping settings at their defaults (so the
auto-ping does not close it within the test's bound either).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from picows import WSMsgType

from oimws.client import JssdkClient
from tests.support.server import RunningServer

CLOSE_TIMEOUT = 1.0
# Liveness, not timing: generous for a noisy machine, far below the 56 s the auto-ping takes.
CLOSED_WITHIN = 15.0
MAX_MESSAGE_SIZE = 1 << 20
# Every frame a reading client gets stays under 8 KiB: picows (with use_aiofastnet=False, as
# oimws runs it) frames a larger payload with a header it may overwrite before uvloop writes
# it, which garbles the stream of a client with queued writes (reported separately).
BACKLOG_TEXT_SIZE = 4000
# The stalled peer's backlog must be big, not the sender's request rate limited.
SERVER_ENV = {
    "OIMWS_CLOSE_TIMEOUT": str(CLOSE_TIMEOUT),
    "OIMWS_WRITE_BUFFER_LIMIT": str(64 << 20),
    "OIMWS_MAX_MESSAGE_SIZE": str(MAX_MESSAGE_SIZE),
    "OIMWS_REQUEST_RATE": "100000",
    "OIMWS_REQUEST_BURST": "100000",
}


def kernel_send_buffer_max() -> int:
    """The most a socket's kernel send buffer grows to; beyond it, data waits in userspace."""
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 << 20


async def logged_in(server: RunningServer, user: str, platform: int = 5) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user, server.user_token(user, platform),
                                       platform)
    await client.login()
    return client


def stop_reading(client: JssdkClient) -> None:
    """A small receive buffer (no autotuning) and no reads: the peer's window closes soon."""
    assert client.transport is not None
    transport = client.transport.underlying_transport
    transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    transport.pause_reading()


def resume_reading(client: JssdkClient) -> None:
    assert client.transport is not None
    client.transport.underlying_transport.resume_reading()


async def open_connections(server: RunningServer) -> int:
    def get() -> int:
        with urllib.request.urlopen(server.api_url + "/healthz", timeout=5) as response:
            return int(json.loads(response.read())["connections"])

    return await asyncio.to_thread(get)


async def connections_drop_to(server: RunningServer, expected: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await open_connections(server) == expected:
            return True
        await asyncio.sleep(0.1)
    return False


async def pile_up_backlog(sender: JssdkClient, stalled: JssdkClient) -> None:
    """Send the stalled peer more than its and the server's kernel buffers can hold."""
    template = await sender.call("CreateTextMessage", "b" * BACKLOG_TEXT_SIZE)
    count = 2 * kernel_send_buffer_max() // BACKLOG_TEXT_SIZE + 100
    for first in range(0, count, 100):
        await asyncio.gather(*(
            sender.call("SendMessage", dict(template, clientMsgID=f"backlog-{index}"),
                        stalled.user_id, "", {}, False, timeout=30)
            for index in range(first, first + 100)))


async def kicked_by_a_second_login(server: RunningServer, stalled: JssdkClient) -> JssdkClient:
    return await logged_in(server, stalled.user_id, stalled.platform_id)


async def logs_out(server: RunningServer, stalled: JssdkClient) -> None:
    stalled.send_raw(json.dumps({"reqFuncName": "Logout", "operationID": "logout",
                                 "userID": stalled.user_id, "data": "[]"}))


async def sends_a_fragmented_message_too_big(server: RunningServer,
                                             stalled: JssdkClient) -> None:
    # Fragments are reassembled by oimws (1009 from ClientConnection.close); a single frame
    # over the size is refused by picows itself, which the kernel backstop below covers.
    assert stalled.transport is not None
    half = b"x" * (MAX_MESSAGE_SIZE // 2 + 1)
    stalled.transport.send(WSMsgType.TEXT, half, fin=False)
    stalled.transport.send(WSMsgType.CONTINUATION, half, fin=True)


CloseCause = Callable[[RunningServer, JssdkClient], Awaitable[object]]


@pytest.mark.parametrize("close_cause", [
    kicked_by_a_second_login, logs_out, sends_a_fragmented_message_too_big,
], ids=["kicked", "logout", "too-big"])
async def test_a_socket_closed_under_a_peer_that_stopped_reading_is_cut_off(
        server_factory, close_cause: CloseCause):
    server = server_factory(env=SERVER_ENV)
    server.register("alice", "bob")
    stalled, sender = await logged_in(server, "alice"), await logged_in(server, "bob")
    stop_reading(stalled)
    await pile_up_backlog(sender, stalled)
    assert await open_connections(server) == 2

    successor = await close_cause(server, stalled)

    # Only the sender (and alice's new session, when she was kicked) may remain.
    remaining = 2 if successor is not None else 1
    assert await connections_drop_to(server, remaining, within=CLOSED_WITHIN), (
        "the server never closed the socket of a peer that stopped reading\n"
        + server.log_tail(10))
    # The peer finds its socket reset once it reads and writes again. (The server's reset
    # itself fell outside the shut receive window and was dropped; the answer to the peer's
    # next segment is another reset, which lands.)
    resume_reading(stalled)
    stalled.send_raw(json.dumps({"reqFuncName": "GetLoginStatus", "operationID": "after",
                                 "userID": stalled.user_id, "data": "[]"}))
    await asyncio.wait_for(stalled.disconnected.wait(), CLOSED_WITHIN)
    # The old session is gone, not merely hidden: alice is online only if she logged in again.
    status = await sender.call("GetUserStatus", ["alice"])
    assert status[0]["platformIDs"] == ([stalled.platform_id] if successor else [])
    if isinstance(successor, JssdkClient):
        assert await successor.call("GetLoginUserID") == "alice"
        await successor.close()
    await sender.close()


async def test_a_peer_that_never_reads_but_keeps_sending_is_dropped_by_the_kernel(
        server_factory):
    # A client whose heartbeat goes on while nothing reads its socket: its pongs keep the
    # auto-ping from ever finding it idle (and would answer a ping if one came), and nothing
    # of oimws closes it, so only the kernel can: once its window has stayed shut for
    # idle_timeout (TCP_USER_TIMEOUT). Without that it would stay connected for good.
    server = server_factory(env={**SERVER_ENV, "OIMWS_PING_INTERVAL": "1",
                                 "OIMWS_IDLE_TIMEOUT": "2"})
    server.register("alice", "bob")
    stalled, sender = await logged_in(server, "alice"), await logged_in(server, "bob")
    stop_reading(stalled)

    async def heartbeat() -> None:
        assert stalled.transport is not None
        while not stalled.disconnected.is_set():
            stalled.transport.send(WSMsgType.PONG, b"")
            await asyncio.sleep(0.05)

    # Beating from the start: otherwise the auto-ping would close it while the backlog grows.
    beating = asyncio.ensure_future(heartbeat())
    try:
        await pile_up_backlog(sender, stalled)
        assert await connections_drop_to(server, 1, within=CLOSED_WITHIN), (
            "a peer that never reads but keeps sending was never dropped\n"
            + server.log_tail(10))
        # Its next segment is answered with a reset: the connection is gone for the peer too.
        await asyncio.wait_for(stalled.disconnected.wait(), CLOSED_WITHIN)
    finally:
        beating.cancel()
    await sender.close()
