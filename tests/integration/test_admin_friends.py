"""/friend/import_friend: friendships an admin makes, as the friend handlers make them."""

from __future__ import annotations

from oimws.client import decode_data
from tests.integration.test_admin_api import err_code, logged_in, refusal
from tests.support.server import RunningServer


async def test_import_makes_friends_both_ways_and_tells_them(server: RunningServer):
    server.register("owner", "ann", "ben")
    admin = server.admin_token()
    owner = await logged_in(server, "owner")
    ann = await logged_in(server, "ann")
    at_ann = ann.wait_event("OnFriendAdded")
    server.call("/friend/import_friend", {"ownerUserID": "owner",
                                          "friendUserIDs": ["ann", "ben"]}, token=admin)
    added = decode_data(await at_ann)
    assert (added["ownerUserID"], added["userID"]) == ("ann", "owner")
    mine = await owner.call("GetFriendList")
    assert sorted(item["friendInfo"]["userID"] for item in mine) == ["ann", "ben"]
    [theirs] = await ann.call("GetFriendList")
    assert theirs["friendInfo"]["userID"] == "owner"
    # importing again leaves the friendships as they are
    server.call("/friend/import_friend", {"ownerUserID": "owner",
                                          "friendUserIDs": ["ann"]}, token=admin)
    assert len(await owner.call("GetFriendList")) == 2
    for client in (owner, ann):
        await client.close()


async def test_import_refusals(server: RunningServer):
    server.register("owner", "ann", "blocker")
    admin = server.admin_token()
    assert err_code(server, "/friend/import_friend",
                    {"ownerUserID": "owner", "friendUserIDs": ["owner"]}, admin) == 1301
    assert err_code(server, "/friend/import_friend",
                    {"ownerUserID": "owner", "friendUserIDs": ["ann", "ghost"]}, admin) == 1101
    code, message = refusal(server, "/friend/import_friend",
                            {"ownerUserID": "owner", "friendUserIDs": "ann"}, admin)
    assert code == 1001 and "friendUserIDs" in message
    blocker = await logged_in(server, "blocker")
    await blocker.call("AddBlack", "owner", "")
    assert err_code(server, "/friend/import_friend",
                    {"ownerUserID": "owner", "friendUserIDs": ["blocker"]}, admin) == 1302
    ann = await logged_in(server, "ann")
    assert await ann.call("GetFriendList") == []  # the refusals made no friends
    for client in (blocker, ann):
        await client.close()
