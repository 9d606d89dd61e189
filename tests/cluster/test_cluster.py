"""Several nodes behind nginx behave, to every client, like one server."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

from oimws.client import JssdkClient, decode_data
from oimws.devcluster import LocalCluster, OimwsNode
from tests.cluster.conftest import ClusterAdmin

WEB = 5


def ready(node: OimwsNode) -> bool:
    try:
        with urllib.request.urlopen(f"{node.api_url}/readyz", timeout=2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


async def connect_via_nginx(cluster: LocalCluster, admin: ClusterAdmin, user: str,
                            platform: int = WEB) -> tuple[JssdkClient, OimwsNode]:
    """Log in through nginx; returns the client and the node the hash put it on (the one
    holding the user's session: connection counts would race with other sockets closing)."""
    live = [n for n in cluster.nodes if n.service is not None]
    client = await JssdkClient.connect(cluster.ws_url, user, admin.token(user, platform),
                                       platform, path="")
    await client.login()
    holders = [n for n in live if admin.has_session_on(n.api_url, user)]
    assert len(holders) == 1, f"{user} has sessions on {len(holders)} nodes"
    return client, holders[0]


async def connect_to(node: OimwsNode, admin: ClusterAdmin, user: str,
                     platform: int = WEB) -> JssdkClient:
    client = await JssdkClient.connect(node.ws_url, user, admin.token(user, platform),
                                       platform)
    await client.login()
    return client


async def spread(cluster: LocalCluster, admin: ClusterAdmin, candidates: list[str],
                 wanted: int) -> dict[str, tuple[JssdkClient, OimwsNode]]:
    """Connect users through nginx until ``wanted`` of them sit on different nodes."""
    placed: dict[str, tuple[JssdkClient, OimwsNode]] = {}
    used: set[str] = set()
    for user in candidates:
        client, node = await connect_via_nginx(cluster, admin, user)
        if node.node_id in used:
            await client.close()
            continue
        used.add(node.node_id)
        placed[user] = (client, node)
        if len(placed) == wanted:
            return placed
    raise AssertionError(f"nginx put {candidates} on fewer than {wanted} nodes")


async def sentinel_then_count(sender: JssdkClient, receivers: list[JssdkClient],
                              recv_id: str, group_id: str, client_msg_id: str) -> list[int]:
    """Send a sentinel after a message; once it has arrived everywhere, count the copies
    of the message each receiver got (so 'exactly once' is checked, not 'at least once')."""
    sentinel = await sender.call("CreateTextMessage", "sentinel")
    waits = [r.wait_for(lambda f: f["event"] == "OnRecvNewMessages" and any(
        m["clientMsgID"] == sentinel["clientMsgID"] for m in decode_data(f)), 15)
        for r in receivers]
    await sender.call("SendMessage", sentinel, recv_id, group_id, {}, False)
    await asyncio.gather(*waits)
    return [sum(1 for f in r.frames if f["event"] == "OnRecvNewMessages"
                for m in decode_data(f) if m["clientMsgID"] == client_msg_id)
            for r in receivers]


async def test_users_on_different_nodes_chat_alone_and_in_a_group(cluster_factory):
    cluster = cluster_factory(3)
    admin = ClusterAdmin(cluster)
    candidates = [f"user{i}" for i in range(24)]
    admin.register(*candidates)
    placed = await spread(cluster, admin, candidates, 3)
    (a, (alice, node_a)), (b, (bob, node_b)), (c, (carol, node_c)) = placed.items()
    assert len({node_a.node_id, node_b.node_id, node_c.node_id}) == 3

    # one-to-one, both ways, across nodes
    to_bob = await alice.send_text(b, "hi from another node")
    assert await sentinel_then_count(alice, [bob], b, "", to_bob["clientMsgID"]) == [1]
    to_alice = await bob.send_text(a, "hello back")
    assert await sentinel_then_count(bob, [alice], a, "", to_alice["clientMsgID"]) == [1]

    # a group spanning three nodes: each member gets the message exactly once
    await alice.call("CreateGroup", {"groupInfo": {"groupID": "span", "groupName": "Span"},
                                     "memberUserIDs": [b, c]})
    message = await alice.call("CreateTextMessage", "to everyone")
    stored = await alice.call("SendMessage", message, "", "span", {}, False)
    counts = await sentinel_then_count(alice, [bob, carol], "", "span", stored["clientMsgID"])
    assert counts == [1, 1]

    # every node tells the same story: the conversation list from another node
    bob_elsewhere = await connect_to(node_c if node_b is not node_c else node_a, admin, b, 1)
    lists = [await client.call("GetAllConversationList") for client in (bob, bob_elsewhere)]
    summary = [sorted((c["conversationID"], c["unreadCount"], c["latestMsg"] != "")
                      for c in listing) for listing in lists]
    assert summary[0] == summary[1]
    for client in (alice, bob, carol, bob_elsewhere):
        await client.close()


async def test_second_login_kicks_across_nodes(cluster_factory):
    cluster = cluster_factory(2)
    admin = ClusterAdmin(cluster)
    admin.register("kim")
    first = await connect_to(cluster.nodes[0], admin, "kim")
    kicked = first.wait_event("OnKickedOffline", 15)
    other_platform = await connect_to(cluster.nodes[1], admin, "kim", platform=1)
    await asyncio.sleep(0.5)
    assert not kicked.done(), "a login on another platform kicked"
    second = await connect_to(cluster.nodes[1], admin, "kim")
    await kicked
    await asyncio.wait_for(first.disconnected.wait(), 10)
    assert await second.call("GetLoginStatus") == 3
    assert not other_platform.disconnected.is_set()
    for client in (second, other_platform):
        await client.close()


async def test_a_killed_node_loses_nothing(cluster_factory):
    cluster = cluster_factory(3)
    admin = ClusterAdmin(cluster)
    candidates = [f"k{i}" for i in range(24)]
    admin.register(*candidates)
    placed = await spread(cluster, admin, candidates, 2)
    (receiver_id, (receiver, doomed)), (sender_id, (sender, _)) = placed.items()
    before = [await sender.send_text(receiver_id, f"before {i}") for i in range(3)]

    doomed.kill()  # SIGKILL: no goodbye, its Redis presence expires by itself
    await asyncio.wait_for(receiver.disconnected.wait(), 10)
    during = [await sender.send_text(receiver_id, f"during {i}") for i in range(3)]

    # the client comes back through nginx, which now picks a live node, and catches up
    back, node = await connect_via_nginx(cluster, admin, receiver_id)
    assert node is not doomed
    # Its new node announces it through Redis; until the sender's node has heard, a
    # message reaches it through history only. Live delivery resumes within moments:
    after = []
    for _ in range(40):
        probe = await sender.send_text(receiver_id, "after")
        after.append(probe)
        arrived = back.wait_for(lambda f, probe=probe: f["event"] == "OnRecvNewMessages" and any(
            m["clientMsgID"] == probe["clientMsgID"] for m in decode_data(f)), 0.5)
        try:
            await arrived
            break
        except TimeoutError:
            continue
    else:
        raise AssertionError("live delivery did not resume after the reconnect")
    conversation = f"si_{min(receiver_id, sender_id)}_{max(receiver_id, sender_id)}"
    page = await back.call("GetAdvancedHistoryMessageList", {
        "conversationID": conversation, "count": 100, "startClientMsgID": "", "lastMinSeq": 0})
    got = [m["clientMsgID"] for m in page["messageList"]]
    wanted = [m["clientMsgID"] for m in (*before, *during, *after)]
    assert got == wanted, "history lost, repeated or reordered a message"
    seqs = [m["seq"] for m in page["messageList"]]
    assert seqs == list(range(1, len(seqs) + 1))
    for client in (back, sender):
        await client.close()


async def test_redis_restart(cluster_factory):
    cluster = cluster_factory(2)
    admin = ClusterAdmin(cluster)
    admin.register("ann", "ben")
    ann = await connect_to(cluster.nodes[0], admin, "ann")
    ben = await connect_to(cluster.nodes[1], admin, "ben")

    cluster.redis.stop()
    during = await ann.send_text("ben", "sent while redis is down")  # stored, acknowledged
    assert during["seq"] == 1
    cluster.redis.start()
    # the nodes reconnect and register again; then live delivery works across nodes
    for _ in range(150):
        if all(ready(n) for n in cluster.nodes):
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the nodes did not get ready again after Redis came back")
    after = await ann.send_text("ben", "sent after the restart")
    assert await sentinel_then_count(ann, [ben], "ben", "", after["clientMsgID"]) == [1]
    page = await ben.call("GetAdvancedHistoryMessageList", {
        "conversationID": "si_ann_ben", "count": 10, "startClientMsgID": "", "lastMinSeq": 0})
    got = [m["clientMsgID"] for m in page["messageList"]]
    assert got[:2] == [during["clientMsgID"], after["clientMsgID"]]
    for client in (ann, ben):
        await client.close()



async def test_force_logout_reaches_every_node(cluster_factory):
    cluster = cluster_factory(2)
    admin = ClusterAdmin(cluster)
    admin.register("liz")
    token = admin.token("liz")
    liz = await JssdkClient.connect(cluster.nodes[1].ws_url, "liz", token, WEB)
    await liz.login()
    kicked = liz.wait_event("OnKickedOffline", 15)
    request = urllib.request.Request(
        f"{cluster.nodes[0].api_url}/auth/force_logout",
        json.dumps({"userID": "liz", "platformID": WEB}).encode(),
        {"token": admin.admin_token(), "operationID": "fl"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert json.load(reply)["errCode"] == 0
    await kicked
    # the other node refuses the revoked token from now on
    for _ in range(50):
        try:
            await JssdkClient.connect(cluster.nodes[1].ws_url, "liz", token, WEB)
        except Exception:  # the upgrade is refused with 401
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("node1 still accepts a token revoked on node0")
    fresh = await JssdkClient.connect(cluster.nodes[1].ws_url, "liz", admin.token("liz"), WEB)
    await fresh.login()
    await fresh.close()
