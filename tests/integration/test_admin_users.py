"""/user/*: profiles changed by an admin reach the user's devices; lookups, pages, online
status."""

from __future__ import annotations

import pytest

from oimws.client import decode_data
from tests.integration.test_admin_api import logged_in, refusal
from tests.support.server import RunningServer


async def test_update_user_info_changes_the_profile_and_tells_the_devices(server: RunningServer):
    server.register("alice")
    alice = await logged_in(server, "alice")
    told = alice.wait_event("OnSelfInfoUpdated")
    server.call("/user/update_user_info", {"userInfo": {
        "userID": "alice", "nickname": "Alice A.", "faceURL": "", "ex": "vip"}},
        token=server.admin_token())
    pushed = decode_data(await told)
    assert (pushed["nickname"], pushed["ex"]) == ("Alice A.", "vip")
    me = await alice.call("GetSelfUserInfo")
    assert (me["nickname"], me["ex"]) == ("Alice A.", "vip")
    await alice.close()


def test_update_user_info_refusals_change_nothing(shared_server: RunningServer):
    server = shared_server
    admin = server.admin_token()
    server.register("upd", nickname="Upd")
    assert refusal(server, "/user/update_user_info",
                   {"userInfo": {"userID": "ghost", "nickname": "x"}}, admin)[0] == 1101
    code, message = refusal(server, "/user/update_user_info",
                            {"userInfo": {"userID": "upd", "nickname": "n" * 65}}, admin)
    assert code == 1001 and "userInfo.nickname" in message
    code, message = refusal(server, "/user/update_user_info",
                            {"userInfo": {"userID": "upd", "globalRecvMsgOpt": 7}}, admin)
    assert code == 1001 and "globalRecvMsgOpt" in message
    [info] = server.call("/user/get_users_info", {"userIDs": ["upd"]}, token=admin)["usersInfo"]
    assert (info["nickname"], info["globalRecvMsgOpt"]) == ("Upd", 0)


def test_get_users_info_and_account_check(shared_server: RunningServer):
    server = shared_server
    admin = server.admin_token()
    server.register("look-a", "look-b")
    data = server.call("/user/get_users_info", {"userIDs": ["look-b", "nobody", "look-a"]},
                       token=admin)
    assert [u["userID"] for u in data["usersInfo"]] == ["look-b", "look-a"]
    assert set(data["usersInfo"][0]) >= {"nickname", "faceURL", "ex", "createTime",
                                         "globalRecvMsgOpt"}
    checked = server.call("/user/account_check", {"checkUserIDs": ["look-a", "nobody"]},
                          token=admin)
    assert checked["results"] == [{"userID": "look-a", "accountStatus": 1},
                                  {"userID": "nobody", "accountStatus": 0}]


def test_get_users_pages_and_filters(server: RunningServer):
    admin = server.admin_token()
    server.register(*[f"pager-{i}" for i in range(5)])
    server.register("other", nickname="Zed")
    first = server.call("/user/get_users", {"pagination": {"pageNumber": 1, "showNumber": 2}},
                        token=admin)
    second = server.call("/user/get_users", {"pagination": {"pageNumber": 2, "showNumber": 2}},
                         token=admin)
    assert first["total"] == second["total"] == 6
    assert len(first["users"]) == len(second["users"]) == 2
    assert not {u["userID"] for u in first["users"]} & {u["userID"] for u in second["users"]}
    by_id = server.call("/user/get_users", {"pagination": {"pageNumber": 1, "showNumber": 10},
                                            "userID": "PAGER"}, token=admin)
    assert by_id["total"] == 5
    by_name = server.call("/user/get_users", {"pagination": {"pageNumber": 1, "showNumber": 10},
                                              "nickName": "zed"}, token=admin)
    assert [u["userID"] for u in by_name["users"]] == ["other"]
    code, message = refusal(server, "/user/get_users",
                            {"pagination": {"pageNumber": 0, "showNumber": 10}}, admin)
    assert code == 1001 and "pagination.pageNumber" in message


async def test_online_status_lists_the_platforms(server: RunningServer):
    server.register("alice", "bob")
    web = await logged_in(server, "alice", 5)
    phone = await logged_in(server, "alice", 1)
    statuses = server.call("/user/get_users_online_status", {"userIDs": ["alice", "bob"]},
                           token=server.admin_token())
    alice, bob = statuses
    assert (alice["userID"], alice["status"]) == ("alice", 1)
    assert sorted(d["platformID"] for d in alice["detailPlatformStatus"]) == [1, 5]
    assert {d["platform"] for d in alice["detailPlatformStatus"]} == {"iOS", "Web"}
    assert all(d["token"] == "" for d in alice["detailPlatformStatus"])  # never handed out
    assert (bob["status"], bob["detailPlatformStatus"]) == (0, [])
    for client in (web, phone):
        await client.close()


@pytest.mark.parametrize(("body", "field"), [
    ({"userIDs": "alice"}, "userIDs"),
    ({"userIDs": [1]}, "userIDs[0]"),
    ({"userIDs": []}, "userIDs"),
])
def test_lookups_validate_their_lists(shared_server: RunningServer, body, field):
    server = shared_server
    code, message = refusal(server, "/user/get_users_info", body, server.admin_token())
    assert code == 1001 and repr(field) in message
