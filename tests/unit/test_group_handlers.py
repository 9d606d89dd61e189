"""Group functions over the real dispatcher and store: rules, callbacks, notifications."""

from __future__ import annotations

from pathlib import Path

import pytest

from oimws.store.groups import GROUP_STATUS_DISMISSED, GROUP_STATUS_MUTED
from tests.unit.harness import Harness, forget, pushes

GROUP = "g1"


@pytest.fixture
async def h(tmp_path: Path):
    harness = await Harness.start(tmp_path, "owner", "admin", "alice", "bob", "carol", "dave")
    yield harness
    await harness.stop()


@pytest.fixture
async def people(h: Harness):
    return {u: await h.login(u) for u in ("owner", "admin", "alice", "bob", "carol", "dave")}


async def create(h: Harness, people, verification: int = 2, look: int = 0, **extra):
    info = {"groupID": GROUP, "groupName": "Hikers", "needVerification": verification,
            "lookMemberInfo": look, **extra}
    group = await h.call(people["owner"], "CreateGroup", {
        "groupInfo": info, "memberUserIDs": ["alice", "bob"], "adminUserIDs": ["admin"]})
    forget(*people.values())
    return group


async def member_roles(h: Harness, session) -> dict[str, int]:
    members = await h.call(session, "GetGroupMemberList", GROUP, 0, 0, 100)
    return {m["userID"]: m["roleLevel"] for m in members}


async def history_types(h: Harness, session) -> list[int]:
    page = await h.call(session, "GetAdvancedHistoryMessageList", {
        "conversationID": f"sg_{GROUP}", "count": 50, "startClientMsgID": "", "lastMinSeq": 0})
    return [m["contentType"] for m in page["messageList"]]


async def test_create_group_tells_exactly_the_members(h: Harness, people):
    group = await h.call(people["owner"], "CreateGroup", {
        "groupInfo": {"groupID": GROUP, "groupName": "Hikers"},
        "memberUserIDs": ["alice", "bob"], "adminUserIDs": ["admin"]})
    assert (group["groupID"], group["ownerUserID"], group["memberCount"]) == (GROUP, "owner", 4)
    for user in ("owner", "admin", "alice", "bob"):
        assert [g["groupID"] for g in pushes(people[user], "OnJoinedGroupAdded")] == [GROUP]
        [messages] = pushes(people[user], "OnRecvNewMessages") or [[]]
        assert [m["contentType"] for m in messages] == [1501] or user == "owner"
    assert pushes(people["carol"], "OnJoinedGroupAdded") == []
    assert pushes(people["carol"], "OnRecvNewMessages") == []
    assert await member_roles(h, people["alice"]) == {
        "owner": 100, "admin": 60, "alice": 20, "bob": 20}
    assert await history_types(h, people["bob"]) == [1501]
    [conversation] = await h.call(people["bob"], "GetAllConversationList")
    assert (conversation["conversationID"], conversation["showName"]) == (f"sg_{GROUP}",
                                                                          "Hikers")
    assert conversation["unreadCount"] == 0  # notifications are not news
    assert [g["groupID"] for g in await h.call(people["bob"], "GetJoinedGroupList")] == [GROUP]


async def test_create_group_refusals(h: Harness, people):
    owner = people["owner"]
    await create(h, people)
    assert await h.refused(owner, "CreateGroup", {"groupInfo": {"groupID": GROUP}}) == 1202
    assert await h.refused(owner, "CreateGroup", {
        "groupInfo": {"groupID": "g2"}, "memberUserIDs": ["ghost"]}) == 1101
    assert await h.refused(owner, "CreateGroup", {
        "groupInfo": {"groupID": "g3"}, "ownerUserID": "alice"}) == 1002
    assert await h.refused(owner, "CreateGroup", {
        "groupInfo": {"groupID": "g4", "needVerification": 7}}) == 10002
    assert await h.call(owner, "GetSpecifiedGroupsInfo", ["g2", "g3", "g4"]) == []


async def test_generated_group_id(h: Harness, people):
    group = await h.call(people["owner"], "CreateGroup", {"groupInfo": {"groupName": "x"}})
    assert group["groupID"].isdigit() and len(group["groupID"]) == 10


async def test_join_directly_when_the_group_allows(h: Harness, people):
    await create(h, people, verification=2)
    await h.call(people["carol"], "JoinGroup", GROUP, "hi", 3, "")
    assert [g["groupID"] for g in pushes(people["carol"], "OnJoinedGroupAdded")] == [GROUP]
    for user in ("owner", "admin", "alice", "bob"):
        assert [m["userID"] for m in pushes(people[user], "OnGroupMemberAdded")] == ["carol"]
    assert pushes(people["carol"], "OnGroupMemberAdded") == []
    assert pushes(people["dave"], "OnGroupMemberAdded") == []
    assert (await history_types(h, people["carol"]))[-1] == 1510
    assert await h.refused(people["carol"], "JoinGroup", GROUP, "again", 3, "") == 1001


async def test_join_by_application_accept_and_refuse(h: Harness, people):
    await create(h, people, verification=0)
    await h.call(people["carol"], "JoinGroup", GROUP, "let me in", 3, "")
    await h.call(people["dave"], "JoinGroup", GROUP, "me too", 3, "")
    for user in ("owner", "admin"):
        applicants = [a["userID"] for a in pushes(people[user], "OnGroupApplicationAdded")]
        assert applicants == ["carol", "dave"]
    assert pushes(people["alice"], "OnGroupApplicationAdded") == []
    assert [a["reqMsg"] for a in pushes(people["carol"], "OnGroupApplicationAdded")] == [
        "let me in"]
    assert await h.call(people["carol"], "IsJoinGroup", GROUP) is False
    recipients = await h.call(people["admin"], "GetGroupApplicationListAsRecipient")
    assert {a["userID"] for a in recipients} == {"carol", "dave"}
    assert await h.call(people["alice"], "GetGroupApplicationListAsRecipient") == []

    assert await h.refused(people["alice"], "AcceptGroupApplication", GROUP, "carol", "") == 1002
    await h.call(people["admin"], "AcceptGroupApplication", GROUP, "carol", "welcome")
    assert await h.refused(people["owner"], "AcceptGroupApplication", GROUP, "carol", "") == 1206
    assert await h.call(people["carol"], "IsJoinGroup", GROUP) is True
    [accepted] = pushes(people["carol"], "OnGroupApplicationAccepted")
    assert (accepted["handleResult"], accepted["handledMsg"]) == (1, "welcome")
    assert pushes(people["owner"], "OnGroupApplicationAccepted")
    assert [g["groupID"] for g in pushes(people["carol"], "OnJoinedGroupAdded")] == [GROUP]

    await h.call(people["owner"], "RefuseGroupApplication", GROUP, "dave", "no")
    [refused] = pushes(people["dave"], "OnGroupApplicationRejected")
    assert refused["handleResult"] == -1
    assert await h.call(people["dave"], "IsJoinGroup", GROUP) is False
    mine = await h.call(people["dave"], "GetGroupApplicationListAsApplicant")
    assert [(a["groupID"], a["handleResult"]) for a in mine] == [(GROUP, -1)]
    assert await h.refused(people["owner"], "AcceptGroupApplication", GROUP, "bob", "") == 1004


async def test_invitations(h: Harness, people):
    await create(h, people, verification=1)
    # A plain member's invitation needs approval in a group where everything does.
    await h.call(people["alice"], "InviteUserToGroup", GROUP, "friend", ["carol"])
    assert await h.call(people["carol"], "IsJoinGroup", GROUP) is False
    assert [a["inviterUserID"] for a in pushes(people["owner"], "OnGroupApplicationAdded")
            ] == ["alice"]
    # A manager's invitation is direct.
    await h.call(people["admin"], "InviteUserToGroup", GROUP, "", ["dave"])
    assert await h.call(people["dave"], "IsJoinGroup", GROUP) is True
    assert (await history_types(h, people["dave"]))[-1] == 1509
    assert await h.refused(people["admin"], "InviteUserToGroup", GROUP, "", ["dave"]) == 1001
    assert await h.refused(people["admin"], "InviteUserToGroup", GROUP, "", ["ghost"]) == 1101
    assert await h.refused(people["carol"], "InviteUserToGroup", GROUP, "", ["bob"]) == 1203


async def test_kick_rules_and_who_hears_of_it(h: Harness, people):
    await create(h, people)
    assert await h.refused(people["alice"], "KickGroupMember", GROUP, "", ["bob"]) == 1002
    assert await h.refused(people["admin"], "KickGroupMember", GROUP, "", ["owner"]) == 1002
    assert await h.refused(people["owner"], "KickGroupMember", GROUP, "", ["owner"]) == 1002
    assert await h.refused(people["admin"], "KickGroupMember", GROUP, "", ["carol"]) == 1203
    assert len(await member_roles(h, people["owner"])) == 4
    await h.call(people["admin"], "KickGroupMember", GROUP, "spam", ["bob"])
    assert [g["groupID"] for g in pushes(people["bob"], "OnJoinedGroupDeleted")] == [GROUP]
    for user in ("owner", "admin", "alice"):
        assert [m["userID"] for m in pushes(people[user], "OnGroupMemberDeleted")] == ["bob"]
    assert pushes(people["bob"], "OnGroupMemberDeleted") == []
    assert pushes(people["carol"], "OnGroupMemberDeleted") == []
    [[kicked_notice]] = pushes(people["bob"], "OnRecvNewMessages")
    assert kicked_notice["contentType"] == 1508
    assert await h.refused(people["bob"], "GetAdvancedHistoryMessageList", {
        "conversationID": f"sg_{GROUP}", "count": 10}) == 1203
    await h.call(people["owner"], "KickGroupMember", GROUP, "", ["admin"])
    assert set(await member_roles(h, people["owner"])) == {"owner", "alice"}


async def test_quit(h: Harness, people):
    await create(h, people)
    assert await h.refused(people["owner"], "QuitGroup", GROUP) == 1002
    assert await h.refused(people["carol"], "QuitGroup", GROUP) == 1203
    await h.call(people["bob"], "QuitGroup", GROUP)
    assert pushes(people["bob"], "OnJoinedGroupDeleted")
    assert [m["userID"] for m in pushes(people["alice"], "OnGroupMemberDeleted")] == ["bob"]
    assert (await history_types(h, people["alice"]))[-1] == 1504


async def test_dismiss_then_everything_refuses(h: Harness, people):
    await create(h, people)
    assert await h.refused(people["admin"], "DismissGroup", GROUP) == 1002
    await h.call(people["owner"], "DismissGroup", GROUP)
    for user in ("owner", "admin", "alice", "bob"):
        [group] = pushes(people[user], "OnGroupDismissed")
        assert group["status"] == GROUP_STATUS_DISMISSED
    assert pushes(people["carol"], "OnGroupDismissed") == []
    for call in (("JoinGroup", GROUP, "", 3, ""), ("QuitGroup", GROUP),
                 ("GetGroupMemberList", GROUP, 0, 0, 10),
                 ("SetGroupInfo", {"groupID": GROUP, "groupName": "x"}),
                 ("InviteUserToGroup", GROUP, "", ["carol"]), ("DismissGroup", GROUP)):
        session = people["carol"] if call[0] == "JoinGroup" else people["owner"]
        assert await h.refused(session, *call) == 1204, call
    assert await h.call(people["alice"], "GetJoinedGroupList") == []


async def test_transfer_ownership(h: Harness, people):
    await create(h, people)
    assert await h.refused(people["admin"], "TransferGroupOwner", GROUP, "alice") == 1002
    assert await h.refused(people["owner"], "TransferGroupOwner", GROUP, "carol") == 1203
    await h.call(people["owner"], "TransferGroupOwner", GROUP, "alice")
    roles = await member_roles(h, people["bob"])
    assert (roles["alice"], roles["owner"]) == (100, 20)
    changed = {m["userID"]: m["roleLevel"]
               for m in pushes(people["bob"], "OnGroupMemberInfoChanged")}
    assert changed == {"alice": 100, "owner": 20}
    [info] = pushes(people["bob"], "OnGroupInfoChanged")
    assert info["ownerUserID"] == "alice"
    assert (await history_types(h, people["bob"]))[-1] == 1507
    # the old owner may now quit, the new one may not
    await h.call(people["owner"], "QuitGroup", GROUP)
    assert await h.refused(people["alice"], "QuitGroup", GROUP) == 1002


async def test_mutes(h: Harness, people):
    await create(h, people)
    assert await h.refused(people["alice"], "ChangeGroupMemberMute", GROUP, "bob", 60) == 1002
    assert await h.refused(people["admin"], "ChangeGroupMemberMute", GROUP, "owner", 60) == 1002
    await h.call(people["admin"], "ChangeGroupMemberMute", GROUP, "bob", 60)
    [muted] = pushes(people["alice"], "OnGroupMemberInfoChanged")
    assert muted["userID"] == "bob" and muted["muteEndTime"] > 0
    await h.call(people["admin"], "ChangeGroupMemberMute", GROUP, "bob", 0)
    [bob] = await h.call(people["alice"], "GetSpecifiedGroupMembersInfo", GROUP, ["bob"])
    assert bob["muteEndTime"] == 0
    assert (await history_types(h, people["alice"]))[-2:] == [1512, 1513]

    assert await h.refused(people["bob"], "ChangeGroupMute", GROUP, True) == 1002
    await h.call(people["owner"], "ChangeGroupMute", GROUP, True)
    [group] = await h.call(people["bob"], "GetSpecifiedGroupsInfo", [GROUP])
    assert group["status"] == GROUP_STATUS_MUTED
    await h.call(people["owner"], "ChangeGroupMute", GROUP, False)
    assert (await history_types(h, people["alice"]))[-2:] == [1514, 1515]


async def test_group_info_changes(h: Harness, people):
    await create(h, people)
    assert await h.refused(people["alice"], "SetGroupInfo",
                           {"groupID": GROUP, "groupName": "Mine"}) == 1002
    assert await h.refused(people["admin"], "SetGroupInfo",
                           {"groupID": GROUP, "groupName": 5}) == 10002
    [group] = await h.call(people["alice"], "GetSpecifiedGroupsInfo", [GROUP])
    assert group["groupName"] == "Hikers"
    await h.call(people["admin"], "SetGroupInfo",
                 {"groupID": GROUP, "groupName": "Climbers", "notification": "Sunday 9am"})
    [changed] = pushes(people["bob"], "OnGroupInfoChanged")
    assert (changed["groupName"], changed["notification"], changed["notificationUserID"]) == (
        "Climbers", "Sunday 9am", "admin")
    assert pushes(people["carol"], "OnGroupInfoChanged") == []
    assert (await history_types(h, people["bob"]))[-2:] == [1520, 1519]
    await h.call(people["owner"], "SetGroupVerification", GROUP, 1)
    await h.call(people["owner"], "SetGroupLookMemberInfo", GROUP, 1)
    await h.call(people["owner"], "SetGroupApplyMemberFriend", GROUP, 1)
    [group] = await h.call(people["alice"], "GetSpecifiedGroupsInfo", [GROUP])
    assert (group["needVerification"], group["lookMemberInfo"],
            group["applyMemberFriend"]) == (1, 1, 1)
    assert await h.refused(people["owner"], "SetGroupVerification", GROUP, 3) == 10002


async def test_member_info_and_roles(h: Harness, people):
    await create(h, people)
    await h.call(people["alice"], "SetGroupMemberInfo",
                 {"groupID": GROUP, "userID": "alice", "nickname": "Ali"})
    [changed] = pushes(people["bob"], "OnGroupMemberInfoChanged")
    assert (changed["userID"], changed["nickname"]) == ("alice", "Ali")
    assert await h.refused(people["alice"], "SetGroupMemberNickname", GROUP, "bob", "B") == 1002
    assert await h.refused(people["alice"], "SetGroupMemberInfo",
                           {"groupID": GROUP, "userID": "alice", "roleLevel": 60}) == 1002
    assert await h.refused(people["admin"], "SetGroupMemberRoleLevel", GROUP, "bob", 60) == 1002
    assert await h.refused(people["owner"], "SetGroupMemberRoleLevel", GROUP, "bob", 100
                           ) == 10002
    await h.call(people["admin"], "SetGroupMemberNickname", GROUP, "bob", "Bobby")
    await h.call(people["owner"], "SetGroupMemberRoleLevel", GROUP, "bob", 60)
    roles = await member_roles(h, people["alice"])
    assert roles["bob"] == 60
    assert (await history_types(h, people["alice"]))[-3:] == [1516, 1516, 1517]
    assert await h.refused(people["admin"], "SetGroupMemberNickname", GROUP, "bob", "x") == 1002


async def test_member_visibility(h: Harness, people):
    await create(h, people, look=0)
    assert len(await h.call(people["carol"], "GetGroupMemberList", GROUP, 0, 0, 10)) == 4
    await h.call(people["owner"], "SetGroupLookMemberInfo", GROUP, 1)
    for call in (("GetGroupMemberList", GROUP, 0, 0, 10),
                 ("GetSpecifiedGroupMembersInfo", GROUP, ["alice"]),
                 ("GetGroupMemberOwnerAndAdmin", GROUP),
                 ("SearchGroupMembers", {"groupID": GROUP, "keywordList": ["a"],
                                         "isSearchUserID": True})):
        assert await h.refused(people["carol"], *call) == 1203, call
    assert len(await h.call(people["alice"], "GetGroupMemberList", GROUP, 0, 0, 10)) == 4


async def test_member_queries(h: Harness, people):
    await create(h, people)
    alice = people["alice"]
    owners = await h.call(alice, "GetGroupMemberList", GROUP, 1, 0, 10)
    assert [m["userID"] for m in owners] == ["owner"]
    page = await h.call(alice, "GetGroupMemberList", GROUP, 0, 1, 2)
    assert [m["userID"] for m in page] == ["admin", "alice"]
    managers = await h.call(alice, "GetGroupMemberOwnerAndAdmin", GROUP)
    assert [m["userID"] for m in managers] == ["owner", "admin"]
    found = await h.call(alice, "SearchGroupMembers", {
        "groupID": GROUP, "keywordList": ["BO"], "isSearchUserID": True,
        "isSearchMemberNickname": False, "offset": 0, "count": 10})
    assert [m["userID"] for m in found] == ["bob"]
    by_time = await h.call(alice, "GetGroupMemberListByJoinTimeFilter", GROUP, 0, 10, 0, 0,
                           ["owner"])
    assert {m["userID"] for m in by_time} == {"admin", "alice", "bob"}
    groups = await h.call(alice, "SearchGroups", {
        "keywordList": ["hike"], "isSearchGroupName": True, "isSearchGroupID": False})
    assert [g["groupID"] for g in groups] == [GROUP]
    assert await h.refused(alice, "SearchGroups", {"keywordList": ["x"]}) == 10002
    assert await h.refused(alice, "GetGroupMemberList", "nope", 0, 0, 10) == 1201
