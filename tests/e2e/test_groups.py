"""Groups through the real open-im-sdk client: the whole life of a group, who hears what,
and every refusal with its OpenIM code."""

from __future__ import annotations

from tests.e2e.test_jssdk import accounts

USERS = ("owner", "admin", "alice", "bob", "carol")


def roles(members: list[dict]) -> dict[str, int]:
    return {m["userID"]: m["roleLevel"] for m in members}


def test_group_life_with_permissions_and_callbacks(server, jssdk):
    result = jssdk.run(server, "groups", accounts(server, *USERS))

    assert result["created"]["groupID"] == "g-e2e"
    assert result["created"]["memberCount"] == 3
    assert [a["userID"] for a in result["asRecipient"]] == ["bob"]
    assert roles(result["membersAfterJoin"]) == {"owner": 100, "admin": 60, "alice": 20,
                                                "bob": 20}
    assert result["refusals"] == {
        "memberAccepts": 1002,
        "acceptTwice": 1206,
        "memberKicks": 1002,
        "adminKicksOwner": 1002,
        "adminMutesOwner": 1002,
        "memberRenames": 1002,
        "adminDismisses": 1002,
        "ownerQuits": 1002,
        "outsiderQuits": 1203,
        "outsiderReadsHistory": 1203,
        "outsiderListsMembers": 1203,
        "kickedReadsMembers": 1203,
        "afterDismiss": 1204,
    }
    # the refusals changed nothing
    assert result["membersAfterRefusals"] == result["membersAfterJoin"]
    assert result["muted"]["muteEndTime"] > 0
    assert result["renamed"]["groupName"] == "Climbers"

    notices = [m["contentType"] for m in result["aliceHistory"]["messageList"]]
    assert notices == [1501, 1510, 1502, 1512, 1520, 1508, 1507, 1504], notices
    [conversation] = [c for c in result["conversations"] if c["conversationID"] == "sg_g-e2e"]
    assert conversation["conversationType"] == 3 and conversation["showName"] == "Climbers"
    assert result["joinedAfterDismiss"] == []

    events = result["groupEvents"]
    assert events["carol"] == [], "an outsider heard group events"
    assert result["carolMessages"] == 0
    assert events["bob"].count("OnJoinedGroupAdded") == 1
    assert events["bob"].count("OnJoinedGroupDeleted") == 1
    assert "OnGroupDismissed" not in events["bob"], "a kicked member heard of the dismissal"
    assert "OnGroupApplicationAdded" not in events["alice"], "a plain member saw an application"
    for name in ("owner", "admin"):
        assert events[name].count("OnGroupApplicationAdded") == 1
    assert events["alice"].count("OnGroupDismissed") == 1
    assert events["admin"].count("OnGroupDismissed") == 1
