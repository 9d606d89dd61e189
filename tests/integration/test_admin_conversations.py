"""/conversation/*: a user's conversations in OpenIM's REST shape."""

from __future__ import annotations

from tests.integration.test_admin_api import err_code
from tests.support.server import RunningServer


def test_get_conversations_shows_the_owners_view(server: RunningServer):
    admin = server.admin_token()
    server.register("alice", "bob", "carol")
    for body in ("one", "two"):
        server.call("/msg/send_msg", {"sendID": "alice", "recvID": "bob", "sessionType": 1,
                                      "contentType": 101, "content": {"content": body}},
                    token=admin)
    data = server.call("/conversation/get_conversations", {
        "ownerUserID": "bob", "conversationIDs": ["si_alice_bob", "si_bob_carol"]}, token=admin)
    [conversation] = data["conversations"]  # bob has no conversation with carol
    assert conversation["ownerUserID"] == "bob"
    assert conversation["conversationID"] == "si_alice_bob"
    assert (conversation["conversationType"], conversation["userID"]) == (1, "alice")
    assert conversation["maxSeq"] == 2
    assert "unreadCount" not in conversation and "latestMsg" not in conversation  # OpenIM's
    everything = server.call("/conversation/get_all_conversations", {"ownerUserID": "alice"},
                             token=admin)["conversations"]
    assert [c["conversationID"] for c in everything] == ["si_alice_bob"]
    assert err_code(server, "/conversation/get_conversations",
                    {"ownerUserID": "ghost", "conversationIDs": ["si_a_b"]}, admin) == 1101
    assert err_code(server, "/conversation/get_conversations",
                    {"ownerUserID": "bob", "conversationIDs": []}, admin) == 1001
