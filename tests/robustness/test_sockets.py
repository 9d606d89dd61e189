"""Protocol abuse on real sockets (what tests/integration/test_gateway.py does not cover
already: binary and fragmented frames, 1009, 1601, protocol errors and 10004 are there).

Each abuse is aimed at one connection while a bystander keeps being served.
"""

from __future__ import annotations

import asyncio
import json
import socket

from picows import WSMsgType

from oimws.client import JssdkClient
from tests.support.server import HOST, RunningServer


async def logged_in(server: RunningServer, user: str, platform: int = 5) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user, server.user_token(user, platform),
                                       platform)
    await client.login()
    return client


async def is_served(client: JssdkClient) -> bool:
    """The client gets an answer (within a generous bound: a behaviour, not a timing)."""
    return bool(await client.call("GetLoginStatus", timeout=30) == 3)


def raw_socket(server: RunningServer) -> socket.socket:
    sock = socket.create_connection((HOST, server.ws_port), timeout=10)
    sock.setblocking(False)
    return sock


async def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True if the server closes (EOF or reset) the socket within ``within`` seconds."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(within):
            while True:
                data = await loop.sock_recv(sock, 4096)
                if not data:
                    return True
    except ConnectionError:
        return True
    except TimeoutError:
        return False


async def test_a_ping_flood_is_answered_and_starves_nobody(server: RunningServer):
    server.register("alice", "bob")
    flooder, bystander = await logged_in(server, "alice"), await logged_in(server, "bob")
    assert flooder.transport is not None
    for index in range(20_000):
        flooder.transport.send(WSMsgType.PING, str(index).encode())
    assert await is_served(bystander)
    # The flooder's own requests are still answered, in order, after its pings.
    assert await flooder.call("GetLoginUserID") == "alice"
    await flooder.close()
    await bystander.close()


async def test_an_upgrade_never_completed_is_closed_by_the_handshake_timeout(server_factory):
    server = server_factory(env={"OIMWS_HANDSHAKE_TIMEOUT": "1"})
    silent = raw_socket(server)
    partial = raw_socket(server)
    await asyncio.get_running_loop().sock_sendall(
        partial, b"GET /?sendID=alice HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
    assert await closed_by_server(silent, within=5)
    assert await closed_by_server(partial, within=5)
    silent.close()
    partial.close()


async def test_many_half_open_connections_neither_block_others_nor_leak(server_factory):
    server = server_factory(env={"OIMWS_HANDSHAKE_TIMEOUT": "1", "OIMWS_MAX_CONNECTIONS": "50"})
    server.register("alice")
    half_open = [raw_socket(server) for _ in range(300)]
    # Upgraded clients are still served while 300 sockets sit before the upgrade.
    client = await logged_in(server, "alice")
    assert await is_served(client)
    await client.close()
    closed = await asyncio.gather(*(closed_by_server(s, within=6) for s in half_open))
    assert all(closed), f"{closed.count(False)} half-open sockets were never closed"
    for sock in half_open:
        sock.close()
    # Nothing was counted against the connection limit for good.
    clients = [await logged_in(server, "alice", platform) for platform in range(1, 10)]
    for c in clients:
        await c.close()


async def test_a_request_flood_is_answered_with_1601_beyond_the_budget(server_factory):
    # A small budget so the flood passes it for sure: 20 at once, 50 a second after that.
    server = server_factory(env={"OIMWS_REQUEST_RATE": "50", "OIMWS_REQUEST_BURST": "20"})
    server.register("alice", "bob")
    flooder, bystander = await logged_in(server, "alice"), await logged_in(server, "bob")
    count = 2_000
    last = flooder.wait_for(lambda f: f.get("operationID") == f"flood-{count - 1}", timeout=60)
    for index in range(count):
        flooder.send_raw(json.dumps({"reqFuncName": "GetAllConversationList",
                                     "operationID": f"flood-{index}", "data": "[]"}))
    # Another connection is served meanwhile, with its own budget.
    assert await is_served(bystander)
    await last
    answers = {f["operationID"]: f for f in flooder.frames
               if f.get("operationID", "").startswith("flood-")}
    # Every request is answered exactly once: served within the budget, refused beyond it
    # (a refusal is immediate, so it may overtake an earlier request still being served).
    assert len(answers) == count == len([f for f in flooder.frames
                                         if f.get("operationID", "").startswith("flood-")])
    codes = [answers[f"flood-{i}"]["errCode"] for i in range(count)]
    assert codes[:19] == [0] * 19  # the burst of 20, less the Login
    assert codes.count(1601) > count // 2
    assert set(codes) == {0, 1601}
    assert "too many requests" in next(f["errMsg"] for f in answers.values() if f["errCode"])
    # The connection stays open, and the budget refills.
    await asyncio.sleep(0.5)
    assert await flooder.call("GetLoginUserID") == "alice"
    await flooder.close()
    await bystander.close()


async def test_frames_over_the_limit_are_refused_but_one_at_it_is_served(server_factory):
    server = server_factory(env={"OIMWS_MAX_MESSAGE_SIZE": "4096"})
    server.register("alice", "bob")
    client = await logged_in(server, "alice")
    operation = "at-limit"
    head = json.dumps({"reqFuncName": "GetLoginUserID", "operationID": operation,
                       "data": "[]", "pad": ""})[:-2]
    exact = head + "p" * (4096 - len(head) - 2) + '"}'
    assert len(exact) == 4096
    answer = client.wait_for(lambda f: f.get("operationID") == operation)
    client.send_raw(exact)
    assert json.loads((await answer)["data"]) == "alice"
    client.send_raw(exact + " ")
    await asyncio.wait_for(client.disconnected.wait(), 10)
    assert client.close_code == 1009
    other = await logged_in(server, "bob")
    assert await other.call("GetLoginUserID") == "bob"
    await other.close()


async def test_a_client_that_never_answers_pings_is_closed(server_factory):
    server = server_factory(env={"OIMWS_PING_INTERVAL": "0.5", "OIMWS_IDLE_TIMEOUT": "1"})
    server.register("alice", "bob")
    mute = await JssdkClient.connect(server.ws_url, "alice", server.user_token("alice"), 5,
                                     enable_auto_pong=False)
    polite = await logged_in(server, "bob")
    await asyncio.wait_for(mute.disconnected.wait(), 10)
    # The one answering pings (picows' auto-pong) is kept although it says nothing either.
    assert not polite.disconnected.is_set()
    assert await polite.call("GetLoginUserID") == "bob"
    await polite.close()


async def test_a_client_that_stops_reading_is_cut_off_and_others_are_served(server_factory):
    server = server_factory(env={"OIMWS_WRITE_BUFFER_LIMIT": "65536"})
    server.register("alice", "bob", "carol")
    stalled = await logged_in(server, "alice")
    sender, bystander = await logged_in(server, "bob"), await logged_in(server, "carol")
    assert stalled.transport is not None
    # A small receive buffer (no autotuning) so the server's backlog grows soon.
    stalled.transport.underlying_transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.transport.underlying_transport.pause_reading()
    template = await sender.call("CreateTextMessage", "z" * 8000)

    async def send(index: int) -> None:
        message = dict(template, clientMsgID=f"slow-{index}")
        await sender.call("SendMessage", message, "alice", "", {}, False, timeout=30)

    cut_off = False
    async with asyncio.timeout(60):
        for batch in range(40):
            await asyncio.gather(*(send(batch * 50 + i) for i in range(50)))
            status = await bystander.call("GetUserStatus", ["alice"])
            if not status[0]["platformIDs"]:
                cut_off = True  # the server dropped the stalled socket
                break
    assert cut_off, "the stalled socket was never cut off\n" + server.log_tail(15)
    assert await is_served(bystander)
    for client in (sender, bystander):
        await client.close()
