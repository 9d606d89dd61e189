"""GET /metrics: Prometheus text, and the numbers move when traffic flows."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from oimws.client import ResponseError
from tests.integration.test_admin_api import logged_in
from tests.support.server import RunningServer

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: RunningServer) -> Samples:
    with urllib.request.urlopen(server.api_url + "/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_move_with_traffic(server: RunningServer):
    server.register("alice", "bob", "carol")
    before = scrape(server)
    alice = await logged_in(server, "alice")
    bob = await logged_in(server, "bob", 1)
    carol = await logged_in(server, "carol")
    server.call("/group/create_group", {"ownerUserID": "alice",
                                        "memberUserIDs": ["bob", "carol"],
                                        "groupInfo": {"groupID": "g-metrics"}},
                token=server.admin_token())
    for i in range(3):
        await alice.send_text("bob", f"m{i}")
    group_message = await alice.call("CreateTextMessage", "to all")
    at_carol = carol.wait_event("OnRecvNewMessages")
    await alice.call("SendMessage", group_message, "", "g-metrics", {}, False)
    await at_carol
    with pytest.raises(ResponseError):  # a refusal, counted with its code
        await alice.call("SendMessage", group_message, "nobody", "", {}, False)
    await alice.call_raw("NoSuchFunction", "[]")
    await asyncio.sleep(0.6)  # the event-loop lag probe samples every 0.25 s
    after = scrape(server)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert value(after, "oimws_connections", platform="Web") == 2
    assert value(after, "oimws_connections", platform="iOS") == 1
    assert grew("oimws_logins_total", platform="Web") == 2
    assert grew("oimws_requests_total", function="SendMessage", code="0") == 4
    assert grew("oimws_requests_total", function="SendMessage", code="1101") == 1
    assert grew("oimws_requests_total", function="<unknown>", code="10301") == 1
    assert not any(labels and ("function", "NoSuchFunction") in labels for _, labels in after)
    assert grew("oimws_request_seconds_count", function="SendMessage") == 5
    # 3 texts + the group text + the group's creation notice
    assert grew("oimws_messages_stored_total") == 5
    assert grew("oimws_deliveries_total") >= 3 + 2
    assert grew("oimws_fanout_size_count") >= 5
    assert grew("oimws_store_commit_seconds_count") >= 1
    # the group message's pushes asked the view cache for bob and carol (hits or misses)
    assert grew("oimws_conversation_cache_reads_total", result="hit") + grew(
        "oimws_conversation_cache_reads_total", result="miss") >= 2
    assert value(after, "oimws_conversation_cache_users") >= 2
    assert value(after, "oimws_event_loop_lag_seconds_count") >= 1
    assert grew("oimws_admin_requests_total", path="/group/create_group", code="0") == 1
    for client in (alice, bob, carol):
        await client.close()
    await asyncio.sleep(0.2)
    final = scrape(server)
    assert value(final, "oimws_connections", platform="Web") == 0


def test_refused_upgrades_are_counted_by_code(server: RunningServer):
    server.register("alice")
    before = value(scrape(server), "oimws_upgrades_refused_total", code="1503")
    server.ws_handshake({"sendID": "alice", "token": "bad", "platformID": 5})
    assert value(scrape(server), "oimws_upgrades_refused_total", code="1503") == before + 1


def test_slow_consumers_counter_is_exposed(shared_server: RunningServer):
    samples = scrape(shared_server)
    assert ("oimws_slow_consumers_dropped_total", frozenset()) in samples
    assert any(name == "process_resident_memory_bytes" for name, _ in samples)
