"""The gateway over real sockets: protocol errors, limits, login rules, shutdown."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest
from picows import WSMsgType

from oimws.client import JssdkClient, ResponseError, decode_data
from tests.support.server import RunningServer


async def connect(server: RunningServer, user: str, platform: int = 5, **kw) -> JssdkClient:
    return await JssdkClient.connect(server.ws_url, user, server.user_token(user, platform),
                                     platform, **kw)


async def logged_in(server: RunningServer, user: str, platform: int = 5) -> JssdkClient:
    client = await connect(server, user, platform)
    await client.login()
    return client


async def test_protocol_errors_leave_the_connection_serving(server: RunningServer):
    server.register("alice")
    client = await connect(server, "alice")
    error = client.wait_event("Protocol Error")
    client.send_raw("{this is not json")
    frame = await error
    assert frame["errCode"] == 20000

    reply = await client.call_raw("GetAllConversationList", "[]")
    assert reply["errCode"] == 10004  # before login

    await client.login()
    reply = await client.call_raw("NoSuchFunction", "[]")
    assert reply["event"] == "NoSuchFunction" and reply["errCode"] == 10301
    assert "NoSuchFunction" in reply["errMsg"]
    reply = await client.call_raw("CreateTextMessage", "[123]")
    assert reply["errCode"] == 10002 and "text" in reply["errMsg"]
    assert await client.call("GetLoginStatus") == 3
    await client.close()


async def test_binary_and_fragmented_messages_are_requests_too(server: RunningServer):
    server.register("alice")
    client = await logged_in(server, "alice")
    request = json.dumps({"reqFuncName": "GetLoginUserID", "operationID": "bin", "data": "[]"})
    answer = client.wait_for(lambda f: f.get("operationID") == "bin")
    client.send_raw(request, WSMsgType.BINARY)
    assert decode_data(await answer) == "alice"

    request = json.dumps({"reqFuncName": "GetLoginUserID", "operationID": "frag", "data": "[]"})
    answer = client.wait_for(lambda f: f.get("operationID") == "frag")
    assert client.transport is not None
    client.transport.send(WSMsgType.TEXT, request[:10].encode(), fin=False)
    client.transport.send(WSMsgType.CONTINUATION, request[10:20].encode(), fin=False)
    client.transport.send(WSMsgType.CONTINUATION, request[20:].encode(), fin=True)
    assert decode_data(await answer) == "alice"
    await client.close()


async def test_oversized_messages_close_with_1009(server_factory):
    server = server_factory(env={"OIMWS_MAX_MESSAGE_SIZE": "4096"})
    server.register("alice", "bob")
    big = await logged_in(server, "alice")
    big.send_raw("x" * 5000)
    await asyncio.wait_for(big.disconnected.wait(), 10)
    assert big.close_code == 1009

    fragmented = await logged_in(server, "alice", platform=1)
    assert fragmented.transport is not None
    for _ in range(3):
        fragmented.transport.send(WSMsgType.TEXT if _ == 0 else WSMsgType.CONTINUATION,
                                  b"y" * 2000, fin=False)
    await asyncio.wait_for(fragmented.disconnected.wait(), 10)
    assert fragmented.close_code == 1009

    # Everyone else is unaffected.
    other = await logged_in(server, "bob")
    assert await other.call("GetLoginUserID") == "bob"
    await other.close()


async def test_connection_limit_refuses_with_1601(server_factory):
    server = server_factory(env={"OIMWS_MAX_CONNECTIONS": "2"})
    server.register("alice")
    first = await connect(server, "alice", 1)
    second = await connect(server, "alice", 2)
    refused = server.ws_handshake({"sendID": "alice", "platformID": 3,
                                   "token": server.user_token("alice", 3)})
    assert refused.status == 503 and refused.json()["errCode"] == 1601
    await first.close()
    await asyncio.sleep(0.2)
    third = await connect(server, "alice", 3)
    await third.login()
    await second.close()
    await third.close()


async def test_tokens_are_checked_during_the_upgrade(server: RunningServer):
    server.register("alice", "bob")
    cases = {
        "missing": {"sendID": "alice", "platformID": 5},
        "forged": {"sendID": "alice", "platformID": 5, "token": "a.b.c"},
        "other user": {"sendID": "alice", "platformID": 5, "token": server.user_token("bob")},
        "other platform": {"sendID": "alice", "platformID": 1,
                           "token": server.user_token("alice", 5)},
    }
    for name, params in cases.items():
        answer = server.ws_handshake(params)
        assert answer.status == 401, name
        assert 1501 <= answer.json()["errCode"] <= 1507, name
    bearer = server.ws_handshake({"sendID": "alice", "platformID": 5}, path="/ws", headers={
        "Authorization": f"Bearer {server.user_token('alice')}"})
    assert bearer.upgraded


async def test_login_of_an_unregistered_user_is_refused(server: RunningServer):
    # A valid signature is not enough: the user must exist.
    from tests.support.server import make_token

    client = await JssdkClient.connect(server.ws_url, "ghost", make_token(server.secret, "ghost"))
    with pytest.raises(ResponseError) as raised:
        await client.login()
    assert raised.value.code == 1101
    await client.close()


async def test_logout_answers_then_closes(server: RunningServer):
    server.register("alice")
    client = await logged_in(server, "alice")
    reply = await client.call_raw("Logout", "[]")
    assert reply["errCode"] == 0
    await asyncio.wait_for(client.disconnected.wait(), 10)


async def test_kick_on_second_login_same_platform_only(server: RunningServer):
    server.register("alice")
    web = await logged_in(server, "alice", 5)
    ios = await logged_in(server, "alice", 1)
    kicked = web.wait_event("OnKickedOffline")
    web_again = await logged_in(server, "alice", 5)
    await kicked
    await asyncio.wait_for(web.disconnected.wait(), 10)
    assert not ios.disconnected.is_set()
    assert await ios.call("GetLoginStatus") == 3
    assert await web_again.call("GetLoginStatus") == 3
    await ios.close()
    await web_again.close()


async def test_sigterm_closes_sockets_with_1001_and_keeps_messages(server: RunningServer,
                                                                  server_factory):
    server.register("alice", "bob")
    alice = await logged_in(server, "alice")
    sent = await alice.send_text("bob", "before shutdown")
    server.process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(alice.disconnected.wait(), 10)
    assert alice.close_code == 1001
    assert server.stop() == 0

    restarted = server_factory(tmp_path=server.data_dir.parent, secret=server.secret)
    bob = await logged_in(restarted, "bob")
    conversations = await bob.call("GetAllConversationList")
    assert conversations[0]["unreadCount"] == 1
    assert json.loads(conversations[0]["latestMsg"])["clientMsgID"] == sent["clientMsgID"]
    await bob.close()
