"""/group/*: groups an admin creates and runs behave as if their owner had done it."""

from __future__ import annotations

import pytest

from oimws.client import decode_data
from tests.integration.test_admin_api import err_code, logged_in, refusal
from tests.support.server import RunningServer

GROUP_CREATED, MEMBER_KICKED, MEMBER_INVITED, GROUP_DISMISSED = 1501, 1508, 1509, 1511
OWNER, ADMIN, MEMBER = 100, 60, 20


def page(number: int = 1, show: int = 100) -> dict[str, int]:
    return {"pageNumber": number, "showNumber": show}


async def test_a_groups_life_through_the_admin_api(server: RunningServer):
    server.register("owner", "ann", "ben", "cat")
    admin = server.admin_token()
    ann = await logged_in(server, "ann")
    joined = ann.wait_event("OnJoinedGroupAdded")
    created = server.call("/group/create_group", {
        "ownerUserID": "owner", "memberUserIDs": ["ann"], "adminUserIDs": ["ben"],
        "groupInfo": {"groupID": "g-life", "groupName": "Life", "groupType": 2,
                      "needVerification": 2}}, token=admin)["groupInfo"]
    assert (created["groupID"], created["ownerUserID"], created["memberCount"]) == (
        "g-life", "owner", 3)
    assert decode_data(await joined)["groupName"] == "Life"
    [info] = server.call("/group/get_groups_info", {"groupIDs": ["g-life", "nope"]},
                         token=admin)["groupInfos"]
    assert info["needVerification"] == 2

    added = ann.wait_event("OnGroupMemberAdded")
    server.call("/group/invite_user_to_group", {"groupID": "g-life",
                                                "invitedUserIDs": ["cat"]}, token=admin)
    assert decode_data(await added)["userID"] == "cat"
    members = server.call("/group/get_group_member_list", {"groupID": "g-life",
                                                           "pagination": page()}, token=admin)
    roles = {m["userID"]: m["roleLevel"] for m in members["members"]}
    assert roles == {"owner": OWNER, "ann": MEMBER, "ben": ADMIN, "cat": MEMBER}
    assert members["total"] == 4

    removed = ann.wait_event("OnGroupMemberDeleted")
    server.call("/group/kick_group", {"groupID": "g-life", "kickedUserIDs": ["cat"],
                                      "reason": "spam"}, token=admin)
    assert decode_data(await removed)["userID"] == "cat"

    dismissed = ann.wait_event("OnGroupDismissed")
    server.call("/group/dismiss_group", {"groupID": "g-life"}, token=admin)
    await dismissed
    history = await ann.call("GetAdvancedHistoryMessageList", {
        "conversationID": "sg_g-life", "count": 50, "startClientMsgID": "", "lastMinSeq": 0})
    notices = [m["contentType"] for m in history["messageList"]]
    assert notices == [GROUP_CREATED, MEMBER_INVITED, MEMBER_KICKED, GROUP_DISMISSED]
    assert err_code(server, "/group/invite_user_to_group", {
        "groupID": "g-life", "invitedUserIDs": ["cat"]}, admin) == 1204
    await ann.close()


def test_member_list_pages_filters_and_keywords(server: RunningServer):
    admin = server.admin_token()
    members = [f"m{i:02d}" for i in range(12)]
    server.register("boss", *members)
    server.call("/group/create_group", {"ownerUserID": "boss", "memberUserIDs": members,
                                        "adminUserIDs": ["m00", "m01"],
                                        "groupInfo": {"groupID": "g-big"}}, token=admin)
    first = server.call("/group/get_group_member_list",
                        {"groupID": "g-big", "pagination": page(1, 5)}, token=admin)
    third = server.call("/group/get_group_member_list",
                        {"groupID": "g-big", "pagination": page(3, 5)}, token=admin)
    assert first["total"] == third["total"] == 13
    assert (len(first["members"]), len(third["members"])) == (5, 3)
    admins = server.call("/group/get_group_member_list",
                         {"groupID": "g-big", "pagination": page(), "filter": 2}, token=admin)
    assert sorted(m["userID"] for m in admins["members"]) == ["m00", "m01"]
    found = server.call("/group/get_group_member_list",
                        {"groupID": "g-big", "pagination": page(), "keyword": "m1"},
                        token=admin)
    assert sorted(m["userID"] for m in found["members"]) == ["m10", "m11"]
    plain = server.call("/group/get_group_member_list", {
        "groupID": "g-big", "pagination": page(), "keyword": "m0", "filter": 3}, token=admin)
    assert "m00" not in {m["userID"] for m in plain["members"]}


def test_group_refusals_change_nothing(shared_server: RunningServer):
    server = shared_server
    admin = server.admin_token()
    server.register("g-owner", "g-member")
    assert err_code(server, "/group/create_group", {
        "ownerUserID": "g-owner", "memberUserIDs": ["ghost"],
        "groupInfo": {"groupID": "g-refused"}}, admin) == 1101
    code, message = refusal(server, "/group/create_group", {
        "ownerUserID": "g-owner", "groupInfo": {"groupID": "g-refused",
                                                "needVerification": "yes"}}, admin)
    assert code == 1001 and "groupInfo.needVerification" in message
    code, message = refusal(server, "/group/create_group",
                            {"ownerUserID": "g-owner", "memberUserIDs": "g-member",
                             "groupInfo": {}}, admin)
    assert code == 1001 and "memberUserIDs" in message
    assert server.call("/group/get_groups_info", {"groupIDs": ["g-refused"]},
                       token=admin)["groupInfos"] == []
    assert err_code(server, "/group/kick_group", {"groupID": "nope",
                                                  "kickedUserIDs": ["x"]}, admin) == 1201
    assert err_code(server, "/group/dismiss_group", {"groupID": "nope"}, admin) == 1201


def test_the_owner_cannot_be_kicked(shared_server: RunningServer):
    server = shared_server
    admin = server.admin_token()
    server.register("k-owner", "k-member")
    server.call("/group/create_group", {"ownerUserID": "k-owner", "memberUserIDs": ["k-member"],
                                        "groupInfo": {"groupID": "g-kick"}}, token=admin)
    assert err_code(server, "/group/kick_group", {"groupID": "g-kick",
                                                  "kickedUserIDs": ["k-owner"]}, admin) == 1002


@pytest.mark.parametrize(("body", "field"), [
    ({"groupID": "g", "pagination": {"pageNumber": 1}}, "pagination.showNumber"),
    ({"groupID": "g", "pagination": page(), "filter": 9}, "filter"),
    ({"pagination": page()}, "groupID"),
])
def test_member_list_validates_its_body(shared_server: RunningServer, body, field):
    server = shared_server
    code, message = refusal(server, "/group/get_group_member_list", body, server.admin_token())
    assert code == 1001 and field in message
