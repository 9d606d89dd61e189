"""One-to-one messaging over real sockets: storage, delivery, conversations, receipts."""

from __future__ import annotations

import asyncio
import json

import pytest

from oimws.client import JssdkClient, ResponseError, decode_data
from tests.support.server import RunningServer


async def logged_in(server: RunningServer, user: str, platform: int = 5) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user, server.user_token(user, platform),
                                       platform)
    await client.login()
    return client


def history_params(conversation_id: str, count: int, start: str = "") -> dict:
    return {"conversationID": conversation_id, "count": count, "startClientMsgID": start,
            "lastMinSeq": 0}


async def test_delivery_to_every_device_but_the_sending_one(server: RunningServer):
    server.register("alice", "bob")
    alice_web = await logged_in(server, "alice", 5)
    alice_phone = await logged_in(server, "alice", 1)
    bob = await logged_in(server, "bob")
    at_bob = bob.wait_event("OnRecvNewMessages")
    at_phone = alice_phone.wait_event("OnRecvNewMessages")
    sent = await alice_web.send_text("bob", "hello")
    for frame in (await at_bob, await at_phone):
        [message] = decode_data(frame)
        assert message["clientMsgID"] == sent["clientMsgID"]
        assert message["seq"] == sent["seq"] == 1
    await asyncio.sleep(0.2)
    assert not [f for f in alice_web.frames if f["event"] == "OnRecvNewMessages"]
    for client in (alice_web, alice_phone, bob):
        await client.close()


async def test_offline_user_finds_unread_and_latest_on_login(server: RunningServer):
    server.register("alice", "bob")
    alice = await logged_in(server, "alice")
    sent = [await alice.send_text("bob", f"m{i}") for i in range(3)]
    bob = await logged_in(server, "bob")
    [conversation] = await bob.call("GetAllConversationList")
    assert conversation["conversationID"] == "si_alice_bob"
    assert conversation["unreadCount"] == 3
    assert json.loads(conversation["latestMsg"])["clientMsgID"] == sent[-1]["clientMsgID"]
    assert await bob.call("GetTotalUnreadMsgCount") == 3
    page = await bob.call("GetAdvancedHistoryMessageList", history_params("si_alice_bob", 10))
    assert [m["textElem"]["content"] for m in page["messageList"]] == ["m0", "m1", "m2"]
    assert page["isEnd"] is True
    await alice.close()
    await bob.close()


async def test_resend_with_the_same_client_msg_id_stores_once(server: RunningServer):
    server.register("alice", "bob")
    alice = await logged_in(server, "alice")
    message = await alice.call("CreateTextMessage", "once")
    first = await alice.call("SendMessage", message, "bob", "", {}, False)
    second = await alice.call("SendMessageNotOss", message, "bob", "", {}, False)
    assert (first["seq"], first["serverMsgID"]) == (second["seq"], second["serverMsgID"])
    page = await alice.call("GetAdvancedHistoryMessageList", history_params("si_alice_bob", 10))
    assert len(page["messageList"]) == 1

    server.register("carol")
    carol = await logged_in(server, "carol")
    stolen = dict(message, sendID="carol")
    with pytest.raises(ResponseError) as raised:
        await carol.call("SendMessage", stolen, "bob", "", {}, False)
    assert raised.value.code == 1003
    for client in (alice, carol):
        await client.close()


async def test_online_only_messages_are_delivered_not_stored(server: RunningServer):
    server.register("alice", "bob")
    alice = await logged_in(server, "alice")
    bob = await logged_in(server, "bob")
    arrived = bob.wait_event("OnRecvNewMessages")
    message = await alice.call("CreateCustomMessage", "typing...", "", "")
    await alice.call("SendMessage", message, "bob", "", {}, True)
    [delivered] = decode_data(await arrived)
    assert delivered["customElem"]["data"] == "typing..."
    assert await bob.call("GetAllConversationList") == []
    await alice.close()
    await bob.close()


async def test_read_receipt_reaches_the_sender(server: RunningServer):
    server.register("alice", "bob")
    alice = await logged_in(server, "alice")
    bob = await logged_in(server, "bob")
    sent = [await alice.send_text("bob", f"r{i}") for i in range(2)]
    receipt = alice.wait_event("OnRecvC2CReadReceipt")
    total = bob.wait_for(lambda f: f["event"] == "OnTotalUnreadMessageCountChanged"
                         and f["data"] == "0")
    await bob.call("MarkConversationMessageAsRead", "si_alice_bob")
    [info] = decode_data(await receipt)
    assert info["userID"] == "bob" and info["sessionType"] == 1
    assert info["msgIDList"] == [m["clientMsgID"] for m in sent]
    await total
    page = await alice.call("GetAdvancedHistoryMessageList", history_params("si_alice_bob", 10))
    assert all(m["isRead"] for m in page["messageList"])
    await alice.close()
    await bob.close()


async def test_bad_sends_are_refused_and_store_nothing(server: RunningServer):
    server.register("alice", "bob")
    alice = await logged_in(server, "alice")
    message = await alice.call("CreateTextMessage", "x")
    cases = [
        (("SendMessage", message, "nobody", "", {}, False), 1101),
        (("SendMessage", message, "", "", {}, False), 10002),
        (("SendMessage", dict(message, contentType=9999), "bob", "", {}, False), 10205),
        (("SendMessage", dict(message, textElem=None), "bob", "", {}, False), 10002),
        (("SendMessage", dict(message, clientMsgID=""), "bob", "", {}, False), 10002),
    ]
    for args, code in cases:
        with pytest.raises(ResponseError) as raised:
            await alice.call(*args)
        assert raised.value.code == code, args
    assert await alice.call("GetAllConversationList") == []
    await alice.close()
