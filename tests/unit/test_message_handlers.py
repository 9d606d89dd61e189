"""Messages: every Create*, group sending with its sender rules, revoke, typing, history
both ways, search, read state, per-user deletion."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.harness import Harness, forget, pushes

GROUP = "g1"
GCONV = f"sg_{GROUP}"
CONV = "si_alice_bob"


@pytest.fixture
async def h(tmp_path: Path):
    harness = await Harness.start(tmp_path, "owner", "alice", "bob", "carol",
                                  revoke_window_seconds=60)
    yield harness
    await harness.stop()


@pytest.fixture
async def people(h: Harness):
    people = {u: await h.login(u) for u in ("owner", "alice", "bob", "carol")}
    await h.call(people["owner"], "CreateGroup", {
        "groupInfo": {"groupID": GROUP, "groupName": "G"}, "memberUserIDs": ["alice", "bob"]})
    forget(*people.values())
    return people


async def text(h: Harness, session, content: str) -> dict:
    return await h.call(session, "CreateTextMessage", content)


async def send(h: Harness, session, message: dict, recv: str = "", group: str = "") -> dict:
    return await h.call(session, "SendMessage", message, recv, group, {}, False)


async def history(h: Harness, session, conversation_id: str, count: int = 50,
                  start: str = "", reverse: bool = False) -> dict:
    name = "GetAdvancedHistoryMessageListReverse" if reverse else "GetAdvancedHistoryMessageList"
    return await h.call(session, name, {"conversationID": conversation_id, "count": count,
                                        "startClientMsgID": start, "lastMinSeq": 0})


async def test_every_create_function_builds_its_element(h: Harness, people):
    alice = people["alice"]
    picture = {"uuid": "u", "type": "png", "size": 3, "width": 1, "height": 1, "url": "http://x"}
    cases = [
        (("CreateTextMessage", "hi"), 101, "textElem"),
        (("CreateAdvancedTextMessage", "hi", []), 117, "advancedTextElem"),
        (("CreateTextAtMessage", "@bob hi", ["bob"], [], ""), 106, "atTextElem"),
        (("CreateImageMessageByURL", "/p.png", picture, picture, picture), 102, "pictureElem"),
        (("CreateSoundMessageByURL", {"uuid": "s", "sourceUrl": "http://s", "dataSize": 9,
                                      "duration": 2}), 103, "soundElem"),
        (("CreateVideoMessageByURL", {"videoUrl": "http://v", "duration": 5,
                                      "snapshotUrl": "http://i"}), 104, "videoElem"),
        (("CreateFileMessageByURL", {"sourceUrl": "http://f", "fileName": "f.txt",
                                     "fileSize": 10}), 105, "fileElem"),
        (("CreateLocationMessage", "home", 13.4, 52.5), 109, "locationElem"),
        (("CreateCardMessage", {"userID": "bob", "nickname": "Bob"}), 108, "cardElem"),
        (("CreateCustomMessage", "{}", "", ""), 110, "customElem"),
        (("CreateFaceMessage", 3, "smile"), 115, "faceElem"),
    ]
    for call, content_type, element in cases:
        message = await h.call(alice, *call)
        assert message["contentType"] == content_type, call
        assert isinstance(message[element], dict), call
        assert message["sendID"] == "alice" and message["clientMsgID"], call
        assert message["senderNickname"] == "Alice"
    base = await text(h, alice, "quoted")
    quote = await h.call(alice, "CreateQuoteMessage", "re", base)
    assert quote["quoteElem"]["quoteMessage"]["clientMsgID"] == base["clientMsgID"]
    merger = await h.call(alice, "CreateMergerMessage", [base], "chat", ["alice: quoted"])
    assert merger["mergeElem"]["multiMessage"][0]["clientMsgID"] == base["clientMsgID"]
    forward = await h.call(alice, "CreateForwardMessage", base)
    assert forward["textElem"] == base["textElem"]
    assert forward["clientMsgID"] != base["clientMsgID"]
    assert await h.refused(alice, "CreateLocationMessage", "x", 200, 0) == 10002
    assert await h.refused(alice, "CreateImageMessageByFile", {}) == 10301
    assert await h.refused(alice, "CreateSoundMessageByURL", {"duration": "long"}) == 10002


async def test_group_message_stored_once_and_delivered_to_each_member_once(h: Harness,
                                                                           people):
    phone = await h.login("bob", 1)
    sent = await send(h, people["alice"], await text(h, people["alice"], "hello group"),
                      group=GROUP)
    assert sent["sessionType"] == 3 and sent["groupID"] == GROUP and sent["seq"] == 2
    for receiver in (people["owner"], people["bob"], phone):
        [[message]] = pushes(receiver, "OnRecvNewMessages")
        assert message["clientMsgID"] == sent["clientMsgID"]
    assert pushes(people["alice"], "OnRecvNewMessages") == []  # the sender has the answer
    assert pushes(people["carol"], "OnRecvNewMessages") == []
    page = await history(h, people["bob"], GCONV)
    assert [m["contentType"] for m in page["messageList"]] == [1501, 101]
    [bobs] = await h.call(people["bob"], "GetMultipleConversation", [GCONV])
    assert bobs["unreadCount"] == 1


async def test_group_sender_rules(h: Harness, people):
    owner, alice, bob, carol = (people[u] for u in ("owner", "alice", "bob", "carol"))
    assert await h.refused(carol, "SendMessage", await text(h, carol, "x"), "", GROUP, {},
                           False) == 1203
    await h.call(owner, "ChangeGroupMemberMute", GROUP, "bob", 600)
    assert await h.refused(bob, "SendMessage", await text(h, bob, "x"), "", GROUP, {},
                           False) == 1402
    await h.call(owner, "ChangeGroupMute", GROUP, True)
    assert await h.refused(alice, "SendMessage", await text(h, alice, "x"), "", GROUP, {},
                           False) == 1403
    await send(h, owner, await text(h, owner, "owners may"), group=GROUP)
    await h.call(owner, "DismissGroup", GROUP)
    assert await h.refused(owner, "SendMessage", await text(h, owner, "x"), "", GROUP, {},
                           False) == 1204
    stored = [m["contentType"] for m in (await history(h, owner, GCONV))["messageList"]]
    assert stored.count(101) == 1


async def test_mentions_set_group_at_type_and_is_at_self(h: Harness, people):
    alice, bob, owner = people["alice"], people["bob"], people["owner"]
    at_bob = await h.call(alice, "CreateTextAtMessage", "@bob look", ["bob"], [], "")
    await send(h, alice, at_bob, group=GROUP)
    [[for_bob]] = pushes(bob, "OnRecvNewMessages")
    [[for_owner]] = pushes(owner, "OnRecvNewMessages")
    assert for_bob["atTextElem"]["isAtSelf"] is True
    assert for_owner["atTextElem"]["isAtSelf"] is False
    [bobs] = await h.call(bob, "GetMultipleConversation", [GCONV])
    [owners] = await h.call(owner, "GetMultipleConversation", [GCONV])
    assert (bobs["groupAtType"], owners["groupAtType"]) == (1, 0)
    everyone = await h.call(alice, "CreateTextAtMessage", "@all", ["AtAllTag", "bob"], [], "")
    await send(h, alice, everyone, group=GROUP)
    [bobs] = await h.call(bob, "GetMultipleConversation", [GCONV])
    [owners] = await h.call(owner, "GetMultipleConversation", [GCONV])
    assert (bobs["groupAtType"], owners["groupAtType"]) == (3, 2)
    page = await history(h, bob, GCONV)
    assert page["messageList"][-1]["atTextElem"]["isAtSelf"] is True
    await h.call(bob, "ResetConversationGroupAtType", GCONV)
    [bobs] = await h.call(bob, "GetMultipleConversation", [GCONV])
    assert bobs["groupAtType"] == 0


async def test_revoke_rules(h: Harness, people):
    owner, alice, bob = people["owner"], people["alice"], people["bob"]
    mine = await send(h, alice, await text(h, alice, "oops"), group=GROUP)
    assert await h.refused(bob, "RevokeMessage", GCONV, mine["clientMsgID"]) == 1002
    await h.call(alice, "RevokeMessage", GCONV, mine["clientMsgID"])
    for member in (owner, bob):
        [info] = pushes(member, "OnNewRecvMessageRevoked")
        assert (info["clientMsgID"], info["revokerID"]) == (mine["clientMsgID"], "alice")
    assert pushes(people["carol"], "OnNewRecvMessageRevoked") == []
    assert await h.refused(alice, "RevokeMessage", GCONV, mine["clientMsgID"]) == 1404
    last = (await history(h, bob, GCONV))["messageList"][-1]
    assert (last["contentType"], last["clientMsgID"], last["seq"]) == (2101, mine["clientMsgID"],
                                                                       mine["seq"])
    assert "textElem" not in last
    # the owner revokes anyone's message, any time
    bobs = await send(h, bob, await text(h, bob, "rude"), group=GROUP)
    await h.call(owner, "RevokeMessage", GCONV, bobs["clientMsgID"])
    # a one-to-one message only by its sender, and only within the window
    direct = await send(h, alice, await text(h, alice, "hey"), recv="bob")
    assert await h.refused(bob, "RevokeMessage", CONV, direct["clientMsgID"]) == 1002
    assert await h.refused(alice, "RevokeMessage", CONV, "no-such-id") == 1004
    h.ctx.store._read().execute("UPDATE messages SET body = json_set(body, '$.sendTime', 1)"
                                " WHERE client_msg_id = ?", (direct["clientMsgID"],))
    assert await h.refused(alice, "RevokeMessage", CONV, direct["clientMsgID"]) == 1002


async def test_typing_is_delivered_and_not_stored(h: Harness, people):
    await h.call(people["alice"], "TypingStatusUpdate", "bob", "typing...")
    [[typing]] = pushes(people["bob"], "OnRecvNewMessages")
    assert (typing["contentType"], typing["typingElem"]["msgTips"]) == (113, "typing...")
    assert await h.call(people["bob"], "GetAllConversationList") != []  # the group only
    assert all(c["conversationID"] != CONV
               for c in await h.call(people["bob"], "GetAllConversationList"))


async def test_history_pages_both_ways(h: Harness, people):
    alice = people["alice"]
    sent = [await send(h, alice, await text(h, alice, f"m{i}"), recv="bob") for i in range(7)]
    ids = [m["clientMsgID"] for m in sent]
    newest = await history(h, alice, CONV, 3)
    assert [m["clientMsgID"] for m in newest["messageList"]] == ids[4:]
    assert newest["isEnd"] is False
    older = await history(h, alice, CONV, 3, start=ids[4])
    assert [m["clientMsgID"] for m in older["messageList"]] == ids[1:4]
    oldest = await history(h, alice, CONV, 3, start=ids[1])
    assert [m["clientMsgID"] for m in oldest["messageList"]] == ids[:1]
    assert oldest["isEnd"] is True
    forward = await history(h, alice, CONV, 3, start=ids[0], reverse=True)
    assert [m["clientMsgID"] for m in forward["messageList"]] == ids[1:4]
    assert forward["isEnd"] is False
    end = await history(h, alice, CONV, 3, start=ids[3], reverse=True)
    assert [m["clientMsgID"] for m in end["messageList"]] == ids[4:]
    assert end["isEnd"] is True


async def test_find_and_search(h: Harness, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    hello = await send(h, alice, await text(h, alice, "Hello world"), recv="bob")
    await send(h, bob, await text(h, bob, "goodbye"), recv="alice")
    custom = await send(h, alice, await h.call(alice, "CreateCustomMessage", "world data", "",
                                               ""), group=GROUP)
    found = await h.call(alice, "FindMessageList", [
        {"conversationID": CONV, "clientMsgIDList": [hello["clientMsgID"], "missing"]}])
    assert found["totalCount"] == 1
    assert found["findResultItems"][0]["messageList"][0]["clientMsgID"] == hello["clientMsgID"]
    assert await h.refused(carol, "FindMessageList", [
        {"conversationID": CONV, "clientMsgIDList": [hello["clientMsgID"]]}]) == 1002

    result = await h.call(alice, "SearchLocalMessages", {
        "conversationID": "", "keywordList": ["WORLD"], "count": 10, "pageIndex": 1})
    got = {m["clientMsgID"] for item in result["searchResultItems"]
           for m in item["messageList"]}
    assert result["totalCount"] == 2 and got == {hello["clientMsgID"], custom["clientMsgID"]}
    only_text = await h.call(alice, "SearchLocalMessages", {
        "conversationID": "", "keywordList": ["world"], "messageTypeList": [101]})
    assert only_text["totalCount"] == 1
    by_sender = await h.call(alice, "SearchLocalMessages", {
        "conversationID": CONV, "keywordList": [], "senderUserIDList": ["bob"]})
    assert by_sender["totalCount"] == 1
    both = await h.call(alice, "SearchLocalMessages", {
        "conversationID": "", "keywordList": ["hello", "world"], "keywordListMatchType": 1})
    assert both["totalCount"] == 1
    assert (await h.call(carol, "SearchLocalMessages", {
        "conversationID": "", "keywordList": ["world"]}))["totalCount"] == 0
    assert await h.refused(carol, "SearchLocalMessages", {
        "conversationID": CONV, "keywordList": ["world"]}) == 1002
    assert await h.refused(alice, "SearchLocalMessages", {"conversationID": ""}) == 10002


async def test_mark_by_id_and_group_read_receipts(h: Harness, people):
    alice, bob, owner = people["alice"], people["bob"], people["owner"]
    sent = [await send(h, alice, await text(h, alice, f"g{i}"), group=GROUP) for i in range(3)]
    await h.call(bob, "MarkMessagesAsReadByMsgID", GCONV, [sent[1]["clientMsgID"]])
    [bobs] = await h.call(bob, "GetMultipleConversation", [GCONV])
    assert bobs["unreadCount"] == 1
    [receipt] = pushes(alice, "OnRecvGroupReadReceipt")
    assert [i["clientMsgID"] for i in receipt["groupMessageReadInfo"]] == [
        m["clientMsgID"] for m in sent[:2]]
    assert receipt["groupMessageReadInfo"][0]["hasReadCount"] == 1
    await h.call(owner, "MarkConversationMessageAsRead", GCONV)
    page = await history(h, alice, GCONV)
    read_info = {m["clientMsgID"]: m["attachedInfoElem"]["groupHasReadInfo"]
                 for m in page["messageList"] if m["sendID"] == "alice"}
    assert read_info[sent[0]["clientMsgID"]]["hasReadCount"] == 2
    assert read_info[sent[2]["clientMsgID"]]["hasReadCount"] == 1
    assert read_info[sent[2]["clientMsgID"]]["unreadCount"] == 1
    assert await h.refused(bob, "MarkMessagesAsReadByMsgID", GCONV, ["nope"]) == 10002


async def test_deleting_and_local_additions_are_per_user(h: Harness, people):
    alice, bob = people["alice"], people["bob"]
    first = await send(h, alice, await text(h, alice, "one"), recv="bob")
    second = await send(h, alice, await text(h, alice, "two"), recv="bob")
    await h.call(bob, "DeleteMessage", CONV, second["clientMsgID"])
    bobs = [m["clientMsgID"] for m in (await history(h, bob, CONV))["messageList"]]
    assert bobs == [first["clientMsgID"]]
    [conversation] = await h.call(bob, "GetMultipleConversation", [CONV])
    assert conversation["latestMsg"] and first["clientMsgID"] in conversation["latestMsg"]
    assert len((await history(h, alice, CONV))["messageList"]) == 2
    assert await h.refused(bob, "DeleteMessage", CONV, second["clientMsgID"]) == 1004

    await h.call(bob, "SetMessageLocalEx", CONV, first["clientMsgID"], "starred")
    assert (await history(h, bob, CONV))["messageList"][0]["localEx"] == "starred"
    assert (await history(h, alice, CONV))["messageList"][0]["localEx"] == ""

    note = await text(h, bob, "a note only bob sees")
    inserted = await h.call(bob, "InsertSingleMessageToLocalStorage", note, "alice", "bob")
    assert inserted["seq"] > second["seq"]
    assert pushes(alice, "OnRecvNewMessages") == []
    assert note["clientMsgID"] in [m["clientMsgID"] for m in
                                   (await history(h, bob, CONV))["messageList"]]
    assert note["clientMsgID"] not in [m["clientMsgID"] for m in
                                       (await history(h, alice, CONV))["messageList"]]
    assert await h.refused(people["carol"], "InsertSingleMessageToLocalStorage",
                           await text(h, people["carol"], "x"), "alice", "bob") == 1002
