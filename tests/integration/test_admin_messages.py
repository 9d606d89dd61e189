"""/msg/*: an admin's message is stored and delivered exactly like a client's send."""

from __future__ import annotations

import asyncio

import pytest

from oimws.client import decode_data
from tests.integration.test_admin_api import err_code, logged_in, refusal
from tests.support.server import RunningServer


def text(send_id: str, body: str, **fields: object) -> dict[str, object]:
    return {"sendID": send_id, "sessionType": 1, "contentType": 101,
            "content": {"content": body}, **fields}


def history(conversation_id: str) -> dict[str, object]:
    return {"conversationID": conversation_id, "count": 50, "startClientMsgID": "",
            "lastMinSeq": 0}


async def test_send_msg_is_delivered_stored_and_synced_to_the_sender(server: RunningServer):
    server.register("alice", "bob")
    alice = await logged_in(server, "alice")
    bob = await logged_in(server, "bob")
    at_bob = bob.wait_event("OnRecvNewMessages")
    at_alice = alice.wait_event("OnRecvNewMessages")
    sent = server.call("/msg/send_msg", text("alice", "from the back office", recvID="bob",
                                             senderPlatformID=3), token=server.admin_token())
    assert set(sent) == {"serverMsgID", "clientMsgID", "sendTime"}
    for frame in (await at_bob, await at_alice):  # alice's own device hears of it too
        [message] = decode_data(frame)
        assert message["clientMsgID"] == sent["clientMsgID"]
        assert message["serverMsgID"] == sent["serverMsgID"]
        assert (message["sendID"], message["recvID"]) == ("alice", "bob")
        assert message["textElem"]["content"] == "from the back office"
        assert (message["seq"], message["senderPlatformID"]) == (1, 3)
    page = await bob.call("GetAdvancedHistoryMessageList", history("si_alice_bob"))
    assert [m["clientMsgID"] for m in page["messageList"]] == [sent["clientMsgID"]]
    [conversation] = await bob.call("GetAllConversationList")
    assert conversation["unreadCount"] == 1
    for client in (alice, bob):
        await client.close()


async def test_online_only_and_group_sends(server: RunningServer):
    server.register("alice", "bob")
    admin = server.admin_token()
    server.call("/group/create_group", {"ownerUserID": "alice", "memberUserIDs": ["bob"],
                                        "groupInfo": {"groupID": "g-msg"}}, token=admin)
    bob = await logged_in(server, "bob")
    at_bob = bob.wait_for(lambda f: f["event"] == "OnRecvNewMessages"
                          and decode_data(f)[0]["contentType"] == 101)
    sent = server.call("/msg/send_msg", {**text("alice", "to the group"), "sessionType": 3,
                                         "groupID": "g-msg"}, token=admin)
    [message] = decode_data(await at_bob)
    assert (message["clientMsgID"], message["groupID"]) == (sent["clientMsgID"], "g-msg")

    at_bob = bob.wait_for(lambda f: f["event"] == "OnRecvNewMessages"
                          and decode_data(f)[0]["textElem"]["content"] == "now only")
    server.call("/msg/send_msg", text("alice", "now only", recvID="bob", isOnlineOnly=True),
                token=admin)
    [message] = decode_data(await at_bob)
    assert message["seq"] == 0  # not stored
    page = await bob.call("GetAdvancedHistoryMessageList", history("si_alice_bob"))
    assert page["messageList"] == []
    await bob.close()


def test_send_msg_refusals_store_nothing(shared_server: RunningServer):
    server = shared_server
    admin = server.admin_token()
    server.register("ref-a", "ref-b")
    assert err_code(server, "/msg/send_msg", text("ref-a", "x", recvID="ghost"), admin) == 1101
    assert err_code(server, "/msg/send_msg", text("ghost", "x", recvID="ref-b"), admin) == 1101
    cases = [
        (text("ref-a", "x"), "recvID"),
        ({**text("ref-a", "x", recvID="ref-b"), "sessionType": 4}, "sessionType"),
        ({**text("ref-a", "x", recvID="ref-b"), "contentType": 2101}, "contentType"),
        ({**text("ref-a", "x", recvID="ref-b"), "content": "hi"}, "content"),
        ({**text("ref-a", "x"), "sessionType": 3}, "groupID"),
    ]
    for body, field in cases:
        code, message = refusal(server, "/msg/send_msg", body, admin)
        assert code == 1001 and field in message, (body, message)
    conversations = server.call("/conversation/get_all_conversations", {"ownerUserID": "ref-b"},
                                token=admin)["conversations"]
    assert conversations == []


async def test_batch_send_reaches_each_recipient_and_lists_failures(server: RunningServer):
    server.register("sys", "u1", "u2")
    u1 = await logged_in(server, "u1")
    got = u1.wait_event("OnRecvNewMessages")
    result = server.call("/msg/batch_send_msg", {**text("sys", "maintenance tonight"),
                                                 "recvIDs": ["u1", "nobody", "u2"]},
                         token=server.admin_token())
    assert [r["recvID"] for r in result["results"]] == ["u1", "u2"]
    assert result["failedUserIDs"] == ["nobody"]
    assert len({r["clientMsgID"] for r in result["results"]}) == 2  # one message each
    [message] = decode_data(await got)
    assert message["clientMsgID"] == result["results"][0]["clientMsgID"]
    await u1.close()


def test_batch_send_to_everyone_and_its_refusals(server: RunningServer):
    admin = server.admin_token()
    server.register("sys", "e1", "e2", "e3")
    result = server.call("/msg/batch_send_msg", {**text("sys", "hello all"), "isSendAll": True},
                         token=admin)
    assert sorted(r["recvID"] for r in result["results"]) == ["e1", "e2", "e3"]
    code, message = refusal(server, "/msg/batch_send_msg", text("sys", "x"), admin)
    assert code == 1001 and "recvIDs" in message
    code, _ = refusal(server, "/msg/batch_send_msg",
                      {**text("sys", "x"), "contentType": 5000, "recvIDs": ["e1"]}, admin)
    assert code == 1001


async def test_revoke_msg_by_seq_tells_both_sides(server: RunningServer):
    server.register("alice", "bob")
    admin = server.admin_token()
    bob = await logged_in(server, "bob")
    sent = server.call("/msg/send_msg", text("alice", "oops", recvID="bob"), token=admin)
    revoked = bob.wait_event("OnNewRecvMessageRevoked")
    server.call("/msg/revoke_msg", {"conversationID": "si_alice_bob", "seq": 1,
                                    "userID": "alice"}, token=admin)
    notice = decode_data(await revoked)
    assert (notice["clientMsgID"], notice["revokerID"]) == (sent["clientMsgID"], "alice")
    page = await bob.call("GetAdvancedHistoryMessageList", history("si_alice_bob"))
    assert page["messageList"][0]["contentType"] == 2101
    assert err_code(server, "/msg/revoke_msg", {"conversationID": "si_alice_bob", "seq": 1,
                                                "userID": "alice"}, admin) == 1404
    assert err_code(server, "/msg/revoke_msg", {"conversationID": "si_alice_bob", "seq": 9,
                                                "userID": "alice"}, admin) == 1004
    # bob did not send it: the handler's rule stands for the admin too
    sent = server.call("/msg/send_msg", text("alice", "mine", recvID="bob"), token=admin)
    assert err_code(server, "/msg/revoke_msg", {"conversationID": "si_alice_bob", "seq": 2,
                                                "userID": "bob"}, admin) == 1002
    await asyncio.sleep(0)
    await bob.close()


@pytest.mark.parametrize(("body", "field"), [
    ({"conversationID": "si_a_b", "seq": 0, "userID": "a"}, "seq"),
    ({"conversationID": "si_a_b", "seq": "1", "userID": "a"}, "seq"),
    ({"seq": 1, "userID": "a"}, "conversationID"),
])
def test_revoke_msg_validates_its_body(shared_server: RunningServer, body, field):
    server = shared_server
    code, message = refusal(server, "/msg/revoke_msg", body, server.admin_token())
    assert code == 1001 and field in message
