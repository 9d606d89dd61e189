"""The node's Prometheus metrics (``GET /metrics`` on the admin port).

One registry per process (a process is one node). Everything on the hot path is a counter
increment or one histogram observation on a label child resolved once and cached: no label
is ever made of a user, a conversation or a message, so the series stay few whatever the
traffic. Fan-out sizes are observed once per push, not once per recipient.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from oimws.store.messages import AppendResult, MessageStore
from oimws.store.view_cache import ConversationViewCache

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

# OpenIM's platform IDs (PROTOCOL.md); the upgrade refuses any other, so the label is bounded.
PLATFORM_NAMES = {1: "iOS", 2: "Android", 3: "Windows", 4: "macOS", 5: "Web", 6: "MiniWeb",
                  7: "Linux", 8: "AndroidPad", 9: "iPad", 10: "Admin"}
OTHER = "other"
UNKNOWN_FUNCTION = "<unknown>"  # requests naming no registered function share one label

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                    2.5, 5.0, 10.0)
_FANOUT_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000)

CONNECTIONS = Gauge("oimws_connections", "Open WebSocket connections", ["platform"],
                    registry=REGISTRY)
UPGRADES_REFUSED = Counter("oimws_upgrades_refused", "WebSocket upgrades answered with an "
                           "HTTP error, by OpenIM error code", ["code"], registry=REGISTRY)
LOGINS = Counter("oimws_logins", "Sessions that logged in", ["platform"], registry=REGISTRY)
REQUESTS = Counter("oimws_requests", "jssdk requests answered, by function and errCode",
                   ["function", "code"], registry=REGISTRY)
REQUEST_SECONDS = Histogram("oimws_request_seconds", "Time a function took to answer a decoded "
                            "request (store writes included)",
                            ["function"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)
MESSAGES_STORED = Counter("oimws_messages_stored", "Messages newly stored (resends of a "
                          "stored clientMsgID not counted)", registry=REGISTRY)
DELIVERIES = Counter("oimws_deliveries", "Push frames written to sockets", registry=REGISTRY)
FANOUT_SIZE = Histogram("oimws_fanout_size", "Sockets one push was written to",
                        buckets=_FANOUT_BUCKETS, registry=REGISTRY)
SLOW_CONSUMERS_DROPPED = Counter("oimws_slow_consumers_dropped", "Sockets disconnected because "
                                 "their write backlog passed the bound", registry=REGISTRY)
STORE_COMMIT_SECONDS = Histogram("oimws_store_commit_seconds", "Time to commit one group-commit "
                                 "batch (one transaction, one fsync)",
                                 buckets=_LATENCY_BUCKETS, registry=REGISTRY)
EVENT_LOOP_LAG_SECONDS = Histogram("oimws_event_loop_lag_seconds", "How late the event loop "
                                   "woke a timer (time spent in callbacks that did not yield)",
                                   buckets=_LATENCY_BUCKETS, registry=REGISTRY)
ADMIN_REQUESTS = Counter("oimws_admin_requests", "Admin API requests answered, by route and "
                         "errCode", ["path", "code"], registry=REGISTRY)
ADMIN_REQUEST_SECONDS = Histogram("oimws_admin_request_seconds", "Admin API request latency",
                                  ["path"], buckets=_LATENCY_BUCKETS, registry=REGISTRY)
UPLOADED_BYTES = Counter("oimws_uploaded_bytes", "Bytes of upload parts stored",
                         registry=REGISTRY)
OBJECTS_STORED = Counter("oimws_objects_stored", "Uploads completed into objects",
                         registry=REGISTRY)


def platform_name(platform_id: int) -> str:
    return PLATFORM_NAMES.get(platform_id, OTHER)


# cached label children: resolving one takes a lock and a dict lookup in prometheus_client
_connections = {pid: CONNECTIONS.labels(platform=name) for pid, name in PLATFORM_NAMES.items()}
_logins = {pid: LOGINS.labels(platform=name) for pid, name in PLATFORM_NAMES.items()}
_request_counts: dict[tuple[str, int], Counter] = {}
_request_latency: dict[str, Histogram] = {}


def connection_opened(platform_id: int) -> None:
    _connections.get(platform_id, CONNECTIONS.labels(platform=OTHER)).inc()


def connection_closed(platform_id: int) -> None:
    _connections.get(platform_id, CONNECTIONS.labels(platform=OTHER)).dec()


def logged_in(platform_id: int) -> None:
    _logins.get(platform_id, LOGINS.labels(platform=OTHER)).inc()


def request_answered(function: str, code: int, seconds: float | None = None) -> None:
    """Count one answered request; ``function`` must be a registered name or
    ``UNKNOWN_FUNCTION`` (the caller bounds the label)."""
    key = (function, code)
    counter = _request_counts.get(key)
    if counter is None:
        counter = _request_counts[key] = REQUESTS.labels(function=function, code=str(code))
    counter.inc()
    if seconds is not None:
        histogram = _request_latency.get(function)
        if histogram is None:
            histogram = _request_latency[function] = REQUEST_SECONDS.labels(function=function)
        histogram.observe(seconds)


def pushed(socket_count: int) -> None:
    """One push (one encoded frame) written to ``socket_count`` sockets."""
    DELIVERIES.inc(socket_count)
    FANOUT_SIZE.observe(socket_count)


def slow_consumers_dropped(count: int = 1) -> None:
    SLOW_CONSUMERS_DROPPED.inc(count)


def render() -> tuple[bytes, str]:
    """The text exposition format and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


async def watch_event_loop_lag(interval: float = 0.25) -> None:
    """Observe, every ``interval``, how much later than asked a timer fired (until cancelled).

    A lagging loop delays every socket of the node, so this is the first number to look at
    when latency grows.
    """
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(interval)
        EVENT_LOOP_LAG_SECONDS.observe(max(0.0, loop.time() - asked - interval))



def count_stored_messages(store: MessageStore) -> None:
    """Make ``store`` count every message it newly stores (``oimws_messages_stored``).

    Every message, whichever handler sent it and whichever backend keeps it, enters through
    ``append_message``; wrapping that one method of the node's store instance counts them all
    without the store or the handlers knowing about metrics.
    """
    append = store.append_message

    @functools.wraps(append)
    async def append_and_count(*args: Any, **kwargs: Any) -> AppendResult:
        result = await append(*args, **kwargs)
        if result.created:
            MESSAGES_STORED.inc()
        return result

    setattr(store, "append_message", append_and_count)  # noqa: B010 (an instance attribute)


class _ViewCacheCollector(Collector):
    """The embedded store's conversation view cache, read when scraped (nothing is counted
    on the hot path): how many users it holds and how often the pushes found them there."""

    def __init__(self, cache: ConversationViewCache) -> None:
        self._cache = cache

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        reads = CounterMetricFamily(
            "oimws_conversation_cache_reads", "Users whose conversation views the pushes "
            "asked of the embedded store, by whether its cache had them", labels=["result"])
        reads.add_metric(["hit"], self._cache.hits)
        reads.add_metric(["miss"], self._cache.misses)
        yield reads
        yield GaugeMetricFamily("oimws_conversation_cache_users",
                                "Users whose conversation views the cache holds",
                                value=len(self._cache))


_view_cache_collector: _ViewCacheCollector | None = None


def watch_view_cache(cache: ConversationViewCache) -> None:
    """Expose ``cache`` (the node's store's; one per process, a later one replaces it)."""
    global _view_cache_collector
    if _view_cache_collector is not None:
        REGISTRY.unregister(_view_cache_collector)
    _view_cache_collector = _ViewCacheCollector(cache)
    REGISTRY.register(_view_cache_collector)
