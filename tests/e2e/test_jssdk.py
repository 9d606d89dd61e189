"""The real ``open-im-sdk@3.5.2`` client against a real oimws server.

Each test starts its own server (the ``server`` fixture), registers users through the admin
API, fetches their tokens, runs one Node.js scenario from ``scenarios/`` (the ``jssdk``
fixture) and asserts on what the client saw. Scenario scripts wait for every event with a
timeout; assertions never depend on timing.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import pytest

from tests.support.server import RunningServer, make_token, start_server

SINGLE_CHAT = 1
TEXT, CUSTOM = 101, 110
MSG_SUCCEEDED = 2
LOGGED_IN = 3
WEB, IOS = 5, 1
CONVERSATION = "si_alice_bob"

# Error codes (PROTOCOL.md and the server contract)
NO_PERMISSION = 1002
TOKEN_EXPIRED, TOKEN_NOT_VALID_YET = 1501, 1504
TOKEN_ERRORS = range(1501, 1508)
SDK_CONNECTION_FAILED = 10000  # what the client's login() rejects with when the upgrade fails
ARGS_ERROR, NOT_LOGGED_IN, UNKNOWN_FUNCTION = 10002, 10004, 10301
PROTOCOL_ERROR = 20000


# -- helpers ----------------------------------------------------------------------------------


def account(server: RunningServer, user_id: str, platform_id: int = WEB) -> dict[str, Any]:
    """A login identity for the scenario config, with a fresh token from the admin API."""
    return {
        "userID": user_id,
        "platformID": platform_id,
        "token": server.user_token(user_id, platform_id),
    }


def accounts(server: RunningServer, *user_ids: str) -> dict[str, dict[str, Any]]:
    """Register ``user_ids`` and return a Web account for each, keyed by user ID."""
    server.register(*user_ids)
    return {user_id: account(server, user_id) for user_id in user_ids}


def ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["clientMsgID"] for m in messages]


def seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in messages]


def find_conversation(conversations: list[dict[str, Any]], conversation_id: str) -> dict[str, Any]:
    found = [c for c in conversations if c.get("conversationID") == conversation_id]
    assert len(found) == 1, f"expected one {conversation_id} in {conversations!r}"
    return found[0]


def latest_msg(conversation: dict[str, Any]) -> dict[str, Any]:
    """``latestMsg`` is a JSON string holding a MessageItem."""
    raw = conversation.get("latestMsg")
    assert isinstance(raw, str) and raw, f"latestMsg is not a JSON string: {conversation!r}"
    return json.loads(raw)


def assert_stored(message: dict[str, Any], *, send_id: str, recv_id: str) -> None:
    """What ``sendMessage`` resolves with: the message as the server stored it."""
    assert isinstance(message["seq"], int) and message["seq"] >= 1, message
    assert isinstance(message["serverMsgID"], str) and message["serverMsgID"], message
    assert message["status"] == MSG_SUCCEEDED, message
    assert message["sendTime"] > 0, message
    assert message["sendID"] == send_id, message
    assert message["recvID"] == recv_id, message
    assert message["sessionType"] == SINGLE_CHAT, message


def flatten_pages(pages: list[dict[str, Any]]) -> list[list[str]]:
    return [ids(page["messageList"]) for page in pages]


# -- login ------------------------------------------------------------------------------------


def test_login_pushes_connecting_then_success_before_login_resolves(server, jssdk):
    result = jssdk.run(server, "login", accounts(server, "alice", "bob"))

    for user_id in ("alice", "bob"):
        events = result[user_id]["eventsUntilLoginResolved"]
        assert "OnConnecting" in events and "OnConnectSuccess" in events, events
        assert (
            events.index("OnConnecting")
            < events.index("OnConnectSuccess")
            < events.index("@LoginResolved")
        ), f"{user_id}: OnConnecting, OnConnectSuccess must precede the Login answer: {events}"
        assert result[user_id]["loginStatus"] == LOGGED_IN
        assert result[user_id]["loginUserID"] == user_id


def test_sigterm_stops_the_server_cleanly_with_clients_connected(server, jssdk):
    jssdk.run(server, "login", accounts(server, "alice", "bob"))
    assert server.stop() == 0, server.log_tail()


# -- messaging --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat(tmp_path_factory, jssdk) -> dict[str, Any]:
    """One run of the messaging scenario (7 messages, both ways), shared by several tests."""
    with start_server(tmp_path_factory.mktemp("oimws-chat")) as running:
        return jssdk.run(running, "messaging", accounts(running, "alice", "bob"))


def test_created_text_message_is_a_message_item(chat):
    created = chat["exchanged"][0]["created"]
    assert created["contentType"] == TEXT, created
    assert created["textElem"]["content"] == "hi", created
    assert isinstance(created["clientMsgID"], str) and created["clientMsgID"], created
    assert created["sendID"] == "alice", created


def test_text_messages_are_stored_and_delivered_both_ways(chat):
    texts = [e for e in chat["exchanged"] if e["kind"] == "text"]
    assert [(e["from"], e["to"]) for e in texts][:2] == [("alice", "bob"), ("bob", "alice")]
    for exchange in texts:
        created, sent, received = exchange["created"], exchange["sent"], exchange["received"]
        assert sent["clientMsgID"] == created["clientMsgID"], sent
        assert sent["contentType"] == TEXT
        assert sent["textElem"]["content"] == created["textElem"]["content"]
        assert_stored(sent, send_id=exchange["from"], recv_id=exchange["to"])

        assert received["clientMsgID"] == created["clientMsgID"], received
        assert received["seq"] == sent["seq"], (sent, received)
        assert received["serverMsgID"] == sent["serverMsgID"], (sent, received)
        assert received["sendID"] == exchange["from"], received
        assert received["recvID"] == exchange["to"], received
        assert received["contentType"] == TEXT, received
        assert received["textElem"]["content"] == created["textElem"]["content"], received


def test_custom_messages_are_stored_and_delivered(chat):
    customs = [e for e in chat["exchanged"] if e["kind"] == "custom"]
    assert len(customs) == 2
    for exchange in customs:
        created, sent, received = exchange["created"], exchange["sent"], exchange["received"]
        expected = {
            "data": chat["custom"]["data"],
            "description": chat["custom"]["description"],
            "extension": "ext-1" if exchange["from"] == "alice" else "ext-2",
        }
        for message in (created, sent, received):
            assert message["contentType"] == CUSTOM, message
            elem = message.get("customElem") or {}
            assert {k: elem.get(k) for k in expected} == expected, message
        assert_stored(sent, send_id=exchange["from"], recv_id=exchange["to"])
        assert received["clientMsgID"] == created["clientMsgID"] == sent["clientMsgID"]
        assert received["seq"] == sent["seq"]


def test_unusual_text_survives_the_round_trip(chat):
    tricky = chat["exchanged"][-1]
    content = tricky["created"]["textElem"]["content"]
    assert "👋" in content and "\u2028" in content and len(content) > 65536
    assert tricky["sent"]["textElem"]["content"] == content
    assert tricky["received"]["textElem"]["content"] == content


def test_seqs_strictly_increase_within_the_conversation(chat):
    # Both directions share one conversation, si_alice_bob, so one sequence.
    sent = [e["sent"] for e in chat["exchanged"]]
    received = [e["received"] for e in chat["exchanged"]]
    assert all(b > a for a, b in zip(seqs(sent), seqs(sent)[1:], strict=False)), seqs(sent)
    assert seqs(received) == seqs(sent)


# -- conversations and unread counts ------------------------------------------------------------


def test_conversation_list_unread_counts_and_pushes(server, jssdk):
    result = jssdk.run(server, "conversations", accounts(server, "alice", "bob"))
    assert result["conversationID"] == CONVERSATION
    first, second = result["messages"]
    bob, alice, pushes = result["bob"], result["alice"], result["pushes"]

    mine = find_conversation(bob["conversationList"], CONVERSATION)
    assert mine["conversationType"] == SINGLE_CHAT, mine
    assert mine["userID"] == "alice", mine
    assert mine["unreadCount"] == 2, mine
    assert latest_msg(mine)["clientMsgID"] == second["clientMsgID"], mine
    assert bob["oneConversation"]["conversationID"] == CONVERSATION, bob["oneConversation"]
    assert bob["oneConversation"]["unreadCount"] == 2, bob["oneConversation"]
    assert bob["totalUnread"] == 2

    theirs = find_conversation(alice["conversationList"], CONVERSATION)
    assert theirs["userID"] == "bob", theirs
    assert theirs["unreadCount"] == 0, theirs
    assert latest_msg(theirs)["clientMsgID"] == second["clientMsgID"], theirs
    assert alice["oneConversation"]["conversationID"] == CONVERSATION, alice["oneConversation"]
    assert alice["totalUnread"] == 0

    # Pushes on the recipient (the scenario waited for each one by predicate).
    assert find_conversation(pushes["newConversation"], CONVERSATION)
    assert pushes["unreadAfterFirst"] == 1
    changed = find_conversation(pushes["changed"], CONVERSATION)
    assert changed["unreadCount"] == 2, changed
    assert pushes["unreadAfterSecond"] == 2
    assert bob["eventNames"].count("OnNewConversation") == 1, (
        f"the second message must change the conversation, not create it again: {bob['eventNames']}"
    )
    assert first["seq"] < second["seq"]


def test_mark_as_read_clears_unread_and_sends_a_c2c_read_receipt(server, jssdk):
    result = jssdk.run(server, "read_receipt", accounts(server, "alice", "bob"))
    sent_ids = set(ids(result["sent"]))

    assert result["before"]["conversation"]["unreadCount"] == 3, result["before"]
    assert result["before"]["totalUnread"] == 3
    after = result["after"]
    assert after["conversation"]["unreadCount"] == 0, after["conversation"]
    assert find_conversation(after["conversationList"], CONVERSATION)["unreadCount"] == 0
    assert after["totalUnread"] == 0

    receipts = [entry for push in result["receipts"] for entry in push]
    assert receipts, result["receipts"]
    for receipt in receipts:
        assert receipt["userID"] == "bob", receipt
        assert receipt["sessionType"] == SINGLE_CHAT, receipt
        assert isinstance(receipt["msgIDList"], list), receipt
    read = {msg_id for receipt in receipts for msg_id in receipt["msgIDList"]}
    assert read == sent_ids, f"receipts name {read}, bob read {sent_ids}"

    history = result["aliceHistory"]["messageList"]
    assert ids(history) == ids(result["sent"])
    assert all(m["isRead"] is True for m in history), [(m["seq"], m["isRead"]) for m in history]


# -- history ------------------------------------------------------------------------------------


def test_history_pages_newest_first_in_ascending_order(server, jssdk):
    result = jssdk.run(
        server, "history", accounts(server, "alice", "bob"), messageCount=7, pageSize=3
    )
    sent = result["sent"]
    assert all(b > a for a, b in zip(seqs(sent), seqs(sent)[1:], strict=False)), seqs(sent)
    expected_pages = [ids(sent[4:7]), ids(sent[1:4]), ids(sent[0:1])]

    for side in ("alice", "bob"):
        pages = result["pages"][side]
        assert flatten_pages(pages) == expected_pages, (
            f"{side}: pages {flatten_pages(pages)}, expected {expected_pages}"
        )
        for page in pages:
            assert seqs(page["messageList"]) == sorted(seqs(page["messageList"])), page
        assert [page["isEnd"] for page in pages] == [False, False, True], (
            f"{side}: isEnd per page {[page['isEnd'] for page in pages]}"
        )
        newest = pages[0]["messageList"][-1]
        assert newest["textElem"]["content"] == "history 7", newest
        assert newest["seq"] == sent[-1]["seq"]


def test_concurrent_sends_get_distinct_gapless_seqs_delivered_in_order(server, jssdk):
    per_side = 20
    result = jssdk.run(server, "concurrent", accounts(server, "alice", "bob"), perSide=per_side)
    sent_seqs = sorted(m["seq"] for m in result["sent"])
    assert len(set(sent_seqs)) == 2 * per_side, f"duplicate seqs: {sent_seqs}"
    assert sent_seqs == list(range(sent_seqs[0], sent_seqs[0] + 2 * per_side)), sent_seqs
    by_id = {m["clientMsgID"]: m["seq"] for m in result["sent"]}
    assert {m["clientMsgID"]: m["seq"] for m in result["history"]} == by_id
    assert seqs(result["history"]) == sent_seqs
    for side, sender in (("receivedByAlice", "bob"), ("receivedByBob", "alice")):
        received = result[side]
        expected = sorted(by_id[m["clientMsgID"]] for m in result["sent"] if m["sendID"] == sender)
        assert seqs(received) == expected, f"{side}: pushes not in seq order: {seqs(received)}"


def test_clients_reconnect_and_data_survive_a_server_restart(server, jssdk):
    exit_codes = []

    def on_step(name: str) -> None:
        assert name == "restart"
        exit_codes.append(server.restart())

    result = jssdk.run(server, "restart", accounts(server, "alice", "bob"), on_step=on_step)
    assert exit_codes == [0], server.log_tail()
    before, after = result["before"], result["after"]
    assert_stored(after, send_id="alice", recv_id="bob")
    assert after["seq"] == before[-1]["seq"] + 1, "seqs must continue after a restart"
    assert result["received"]["seq"] == after["seq"]
    history = result["history"]["messageList"]
    assert ids(history) == [*ids(before), after["clientMsgID"]]
    assert seqs(history) == [*seqs(before), after["seq"]]
    assert result["bobConversation"]["unreadCount"] == 3, result["bobConversation"]
    assert result["loginStatus"] == {"alice": LOGGED_IN, "bob": LOGGED_IN}


# -- offline delivery ---------------------------------------------------------------------------


def test_offline_messages_wait_for_the_recipient(server, jssdk):
    result = jssdk.run(server, "offline", accounts(server, "alice", "bob"))
    assert result["logout"]["errCode"] == 0, result["logout"]

    everything: list[dict[str, Any]] = []
    for phase, unread in (("phase1", 3), ("phase2", 5)):
        sent, view = result[phase]["sent"], result[phase]["view"]
        everything += sent
        conversation = find_conversation(view["conversationList"], CONVERSATION)
        assert conversation["unreadCount"] == unread, (phase, conversation)
        assert latest_msg(conversation)["clientMsgID"] == sent[-1]["clientMsgID"], (
            phase,
            conversation,
        )
        assert view["totalUnread"] == unread, phase
        assert ids(view["history"]["messageList"]) == ids(everything), (phase, view["history"])
        assert view["history"]["isEnd"] is True, (phase, view["history"])


# -- idempotent resend --------------------------------------------------------------------------


def test_resending_the_same_client_msg_id_stores_it_once(server, jssdk):
    result = jssdk.run(server, "resend", accounts(server, "alice", "bob"))
    created, first, second = result["created"], result["firstSend"], result["secondSend"]

    assert first["clientMsgID"] == second["clientMsgID"] == created["clientMsgID"]
    assert second["seq"] == first["seq"], (first, second)
    assert second["serverMsgID"] == first["serverMsgID"], (first, second)
    assert second["status"] == MSG_SUCCEEDED
    assert result["after"]["seq"] == first["seq"] + 1, (
        "a resend must not use up a seq (the client treats a seq gap as missing messages)"
    )
    for side in ("bobHistory", "aliceHistory"):
        history = ids(result[side]["messageList"])
        assert history.count(created["clientMsgID"]) == 1, (side, history)
        assert history == [created["clientMsgID"], result["after"]["clientMsgID"]], side


# -- multiple devices and kicks -------------------------------------------------------------------


def test_own_message_reaches_the_senders_other_device(server, jssdk):
    server.register("alice", "bob")
    config = {
        "alice_web": account(server, "alice", WEB),
        "alice_phone": account(server, "alice", IOS),
        "bob": account(server, "bob", WEB),
    }
    result = jssdk.run(server, "multidevice", config)

    own = result["own"]
    assert_stored(own["sent"], send_id="alice", recv_id="bob")
    for copy in (own["onPhone"], own["onBob"]):
        assert copy["clientMsgID"] == own["sent"]["clientMsgID"], copy
        assert copy["seq"] == own["sent"]["seq"], copy
        assert copy["sendID"] == "alice" and copy["recvID"] == "bob", copy
    reply = result["reply"]
    for copy in (reply["onWeb"], reply["onPhone"]):
        assert copy["clientMsgID"] == reply["sent"]["clientMsgID"], copy
        assert copy["seq"] == reply["sent"]["seq"], copy
    # The sending device has the message from sendMessage's answer; a push as well would
    # show it twice in the client.
    assert result["ownEchoOnSendingDevice"] == 0


def test_second_login_on_same_platform_kicks_the_first_only(server, jssdk):
    server.register("alice", "bob")
    config = {
        "alice": account(server, "alice"),
        "bob_web": account(server, "bob", WEB),
        "bob_phone": account(server, "bob", IOS),
    }
    result = jssdk.run(server, "kick", config)

    raw = result["raw"]
    assert raw["login"]["errCode"] == 0, raw["login"]
    assert raw["kick"]["event"] == "OnKickedOffline", raw["kick"]
    assert raw["closed"] is not None, "the server must close the kicked connection"
    assert "OnKickedOffline" in result["bobA"]["events"], result["bobA"]
    for name in ("bobB", "bobPhone"):
        device = result[name]
        assert "OnKickedOffline" not in device["events"], (name, device["events"])
        assert device["loginStatus"] == LOGGED_IN, (name, device)
        assert device["received"], (name, device)


# -- tokens -------------------------------------------------------------------------------------


def unsigned_token(claims: dict[str, Any]) -> str:
    """A JWT with ``"alg": "none"`` and no signature (must never be accepted)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def bad_tokens(server: RunningServer) -> dict[str, dict[str, Any]]:
    """Login identities for alice on Web that must all be refused, by what is wrong."""
    now = int(time.time())
    other_secret = secrets.token_hex(16)
    return {
        "forged": {"userID": "alice", "platformID": WEB,
                   "token": make_token(other_secret, "alice", WEB)},
        "other_user": {"userID": "alice", "platformID": WEB,
                       "token": server.user_token("bob", WEB)},
        "other_platform": {"userID": "alice", "platformID": WEB,
                           "token": server.user_token("alice", IOS)},
        "expired": {"userID": "alice", "platformID": WEB,
                    "token": make_token(server.secret, "alice", WEB, expires_in=-3600,
                                        not_before=now - 7200, issued_at=now - 7200)},
        "not_yet_valid": {"userID": "alice", "platformID": WEB,
                          "token": make_token(server.secret, "alice", WEB, expires_in=7200,
                                              not_before=now + 3600)},
        "unsigned": {"userID": "alice", "platformID": WEB,
                     "token": unsigned_token({"UserID": "alice", "PlatformID": WEB,
                                              "exp": now + 3600, "nbf": now, "iat": now})},
        "garbage": {"userID": "alice", "platformID": WEB, "token": "not-a-jwt"},
    }  # fmt: skip


def test_client_login_fails_with_bad_tokens(server, jssdk):
    server.register("alice", "bob")
    cases = {"good": account(server, "alice"), **bad_tokens(server)}
    outcomes = jssdk.run(server, "tokens", {}, cases=cases)

    assert outcomes["good"]["loggedIn"] is True, outcomes["good"]
    assert outcomes["good"]["loginStatus"] == LOGGED_IN
    for name in cases.keys() - {"good"}:
        assert outcomes[name]["loggedIn"] is False, (name, outcomes[name])
        assert outcomes[name]["errCode"] == SDK_CONNECTION_FAILED, (
            f"{name}: login() should fail because the upgrade is refused: {outcomes[name]}"
        )


def query(identity: dict[str, Any]) -> dict[str, Any]:
    return {
        "sendID": identity["userID"],
        "token": identity["token"],
        "platformID": identity["platformID"],
        "operationID": "e2e-handshake",
    }


def test_upgrade_is_refused_with_401_and_a_token_error(server):
    server.register("alice", "bob")
    cases = bad_tokens(server)
    for name, identity in cases.items():
        answer = server.ws_handshake(query(identity))
        assert answer.status == 401, (name, answer)
        body = answer.json()
        assert body["errCode"] in TOKEN_ERRORS, (name, body)
        if name == "expired":
            assert body["errCode"] == TOKEN_EXPIRED, body
        if name == "not_yet_valid":
            assert body["errCode"] == TOKEN_NOT_VALID_YET, body

    missing = server.ws_handshake({"sendID": "alice", "platformID": WEB})
    assert not missing.upgraded and missing.status in (400, 401), missing
    assert missing.json()["errCode"] != 0, missing
    no_platform = dict(query(account(server, "alice")), platformID="")
    answer = server.ws_handshake(no_platform)
    assert not answer.upgraded and answer.status in (400, 401), answer


def test_upgrade_accepts_good_tokens_on_any_path_and_as_bearer(server):
    server.register("alice")
    good = account(server, "alice")
    for path in ("/", "/ws", "/any/path"):
        answer = server.ws_handshake(query(good), path=path)
        assert answer.upgraded, (path, answer)
    bearer = server.ws_handshake(
        {"sendID": "alice", "platformID": WEB, "operationID": "e2e-bearer"},
        headers={"Authorization": f"Bearer {good['token']}"},
    )
    assert bearer.upgraded, bearer


# -- protocol errors on a raw socket --------------------------------------------------------------


def test_protocol_errors_are_answered_and_the_socket_survives(server, jssdk):
    result = jssdk.run(server, "protocol_errors", accounts(server, "alice"))
    steps = {step["name"]: step for step in result["steps"]}

    def frame(name: str) -> dict[str, Any]:
        return steps[name]["frame"]

    def assert_answer(name: str, err_code: int | None = None) -> dict[str, Any]:
        sent, got = steps[name]["sent"], frame(name)
        assert got["event"] == sent["reqFuncName"], (name, got)
        assert got["operationID"] == sent["operationID"], (name, got)
        if err_code is None:
            assert got["errCode"] == 0, (name, got)
        else:
            assert got["errCode"] == err_code, (name, got)
            assert got["errMsg"], (name, got)
        assert isinstance(got["data"], str), (name, got)  # always a JSON string
        return got

    assert_answer("beforeLogin:GetAllConversationList", NOT_LOGGED_IN)
    assert_answer("beforeLogin:CreateTextMessage", NOT_LOGGED_IN)
    for name in ("beforeLogin:malformed", "malformed"):
        assert frame(name)["event"] == "Protocol Error", frame(name)
        assert frame(name)["errCode"] == PROTOCOL_ERROR, frame(name)

    assert_answer("login")
    for name in (
        "status:afterLogin",
        "status:afterMalformed",
        "status:afterUnknown",
        "status:afterBadArgs",
    ):
        assert json.loads(assert_answer(name)["data"]) == LOGGED_IN, frame(name)
    assert json.loads(assert_answer("userID:afterBadArgs")["data"]) == "alice"

    unknown = assert_answer("unknownFunction", UNKNOWN_FUNCTION)
    assert "NoSuchFunction" in unknown["errMsg"], unknown
    for name in (
        "badArgs:numberForText",
        "badArgs:notJson",
        "badArgs:objectNotArray",
        "badArgs:history",
    ):
        assert_answer(name, ARGS_ERROR)

    good = json.loads(assert_answer("good:CreateTextMessage")["data"])
    assert good["textElem"]["content"] == "still fine", good
    assert result["binaryFrames"] == 0, "the client can only read text frames"
    assert result["closed"] is None, f"the server closed the socket: {result['closed']}"


# -- permissions ----------------------------------------------------------------------------------


def test_outsider_cannot_read_or_mark_a_conversation(server, jssdk):
    result = jssdk.run(server, "permissions", accounts(server, "alice", "bob", "carol"))
    assert result["conversationID"] == CONVERSATION
    assert result["history"]["errCode"] == NO_PERMISSION, result["history"]
    assert result["markRead"]["errCode"] != 0, result["markRead"]
    assert result["bobConversation"]["unreadCount"] == 1, result["bobConversation"]
    assert CONVERSATION not in [c["conversationID"] for c in result["carolConversations"]]
