"""The workloads: connections, direct, group, storm. Each one starts from a fresh server,
drives it through the generator pool, checks that every expected message arrived exactly
once, and returns plain numbers (``report.py`` prints and saves them).

Server cost is read from /proc (user+sys CPU, RSS, open descriptors of the server's process
tree) over each measured window; the generator's own CPU is reported next to it, so a run in
which the generator, not the server, was the limit is visible as such.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

from oimws.bench import procstat
from oimws.bench.accounting import Delivery, Histogram
from oimws.bench.generator import GeneratorPool
from oimws.bench.targets import Target


@dataclasses.dataclass
class Settings:
    workers: int = 2
    connections: int = 10_000
    connect_concurrency: int = 200  # in flight per generator process (not a storm)
    group_sizes: tuple[int, ...] = (1000, 5000)
    group_online_only: bool = True  # also run oimws with isOnlineOnly messages
    group_rates: tuple[float, ...] = (5.0, 1.0)  # messages/s per group size
    group_duration_s: float = 8.0
    group_senders: int = 10
    direct_pairs: int = 500
    direct_rates: tuple[float, ...] = (250.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0)
    direct_duration_s: float = 4.0
    storm_clients: int = 5000
    probe_rate: float = 2000.0  # messages/s of the connection check
    drain_s: float = 30.0
    settle_s: float = 0.5       # after logins, before measuring
    start_lead_s: float = 0.5   # between handing out a schedule and its first send
    idle_settle_s: float = 1.0  # connections: before reading the server's RSS
    grace_s: float = 0.3        # after the last expected arrival: a duplicate comes now
    p99_budget_ms: float = 50.0

    def group_rate(self, size: int) -> float:
        index = self.group_sizes.index(size)
        return self.group_rates[min(index, len(self.group_rates) - 1)]


def _users(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:06d}" for i in range(count)]


def _merge_latency(results: list[dict[str, Any]], key: str = "latency") -> Histogram:
    merged = Histogram()
    for result in results:
        merged.merge(Histogram.from_wire(result[key]))
    return merged


def _generator_load(results: list[dict[str, Any]]) -> dict[str, Any]:
    busy = [round(r.get("busy", 0.0), 3) for r in results]
    return {"cpu_s": round(sum(r["cpu_s"] for r in results), 3), "busy_per_process": busy,
            "saturated": any(b >= 0.9 for b in busy)}


class Session:
    """A target with users logged in through the pool."""

    def __init__(self, target: Target, pool: GeneratorPool, settings: Settings) -> None:
        self.target = target
        self.pool = pool
        self.settings = settings
        self.users: list[str] = []
        self.by_worker: list[list[str]] = []

    def connect(self, users: list[str], concurrency: int, register: bool = False
                ) -> dict[str, Any]:
        if register:
            self.target.register(users)
        tokens = self.target.tokens_for(users)
        self.users = users
        self.by_worker = self.pool.split(users)
        shares = self.pool.split(tokens)
        started = time.monotonic()
        cpu0 = procstat.cpu_seconds(self.target.pids())
        results = self.pool.call_all("connect", [
            {"url": self.target.ws_url, "users": share, "concurrency": concurrency}
            for share in shares])
        finished = max(r["finished_at"] for r in results)
        cpu = procstat.cpu_seconds(self.target.pids()) - cpu0
        connected = sum(r["connected"] for r in results)
        elapsed = max(finished - started, 1e-9)
        latency = _merge_latency(results).summary()
        return {
            "clients": len(users), "connected": connected,
            "failed": sum(r["failed"] for r in results),
            "failure_sample": [f for r in results for f in r["failure_sample"]][:3],
            "elapsed_s": round(elapsed, 3), "logins_per_s": round(connected / elapsed, 1),
            "connect_login_ms": {k: latency[k] for k in ("p50_ms", "p99_ms", "max_ms")},
            "server_cpu_us_per_login": round(cpu / max(connected, 1) * 1e6, 1),
            "generator": _generator_load([{**r, "busy": r["cpu_s"] / elapsed}
                                          for r in results]),
        }

    @property
    def _position(self) -> dict[str, int]:
        cached: dict[str, int] | None = getattr(self, "_positions", None)
        if cached is None:
            cached = {u: i % self.pool.size for i, u in enumerate(self.users)}
            self._positions = cached
        return cached

    def run(self, sends: list[tuple[float, int, str, str, str]], recipients: dict[str, Any],
            messages: int, online_only: bool = False) -> dict[str, Any]:
        """Send on schedule from the senders' own processes; measure the server meanwhile."""
        per_worker: list[list[tuple[float, int, str, str, str]]] = [[] for _ in
                                                                    range(self.pool.size)]
        for send in sends:
            per_worker[self._position[send[2]]].append(send)
        run_id = uuid.uuid4().hex[:10]
        pids = self.target.pids()
        start_at = time.monotonic() + self.settings.start_lead_s
        cpu0 = procstat.cpu_seconds(pids)
        results = self.pool.call_all("run", [
            {"run_id": run_id, "messages": messages, "sends": share, "start_at": start_at,
             "recipients": recipients, "drain_s": self.settings.drain_s,
             "online_only": online_only, "grace_s": self.settings.grace_s}
            for share in per_worker], timeout=600)
        server_cpu = procstat.cpu_seconds(pids) - cpu0
        window = max(time.monotonic() - start_at, 1e-9)
        delivery = Delivery()
        for result in results:
            delivery.merge(Delivery(**{k: v for k, v in result["delivery"].items()
                                       if k != "exactly_once"}))
        last_arrival = max(r["done_at"] for r in results)
        active = max(last_arrival - start_at, 1e-9)
        latency = _merge_latency(results).summary()
        delivered = delivery.delivered
        other = sum(r["other_frames"] for r in results)
        return {
            "messages": messages, "delivery": delivery.as_dict(),
            "deliveries": delivered,
            "deliveries_per_s": round(delivered / active, 1),
            "latency_ms": latency,
            "server_cpu_s": round(server_cpu, 3),
            "server_cpu_busy": round(server_cpu / window, 3),
            "server_cpu_us_per_delivery": round(server_cpu / max(delivered, 1) * 1e6, 2),
            "other_frames_per_delivery": round(other / max(delivered, 1), 3),
            "arrival_frame_bytes": round(sum(r["arrival_bytes"] for r in results)
                                         / max(delivered, 1)),
            "late_sends": sum(r["late_sends"] for r in results),
            "generator": _generator_load(results),
        }

    def probe(self) -> dict[str, Any]:
        """Every connection delivers: a ring of one-to-one messages (oimws) or one broadcast
        to everyone (a peer, which has only the one group)."""
        users = self.users
        if self.target.stores_messages:
            rate = self.settings.probe_rate
            sends = [(i / rate, i, users[i], users[(i + 1) % len(users)], "")
                     for i in range(len(users))]
            result = self.run(sends, {"kind": "direct", "to": [s[3] for s in sends]},
                              len(sends))
        else:
            result = self.run([(0.0, 0, users[0], "", "benchgroup")], {"kind": "group"}, 1)
        return {"delivery": result["delivery"], "deliveries": result["deliveries"]}

    def disconnect(self) -> dict[str, Any]:
        results = self.pool.call_all("disconnect", [{} for _ in range(self.pool.size)])
        return {"disconnected": sum(r["disconnected"] for r in results),
                "elapsed_s": round(max(r["elapsed_s"] for r in results), 3)}


def _wait_fds(target: Target, at_most: int, timeout: float) -> tuple[bool, float, int]:
    started = time.monotonic()
    count = procstat.open_fds(target.pids())
    while count > at_most and time.monotonic() - started < timeout:
        time.sleep(0.05)
        count = procstat.open_fds(target.pids())
    return count <= at_most, time.monotonic() - started, count


def connections(target: Target, pool: GeneratorPool, settings: Settings) -> dict[str, Any]:
    """N logged-in idle clients: server memory per connection and the login rate."""
    session = Session(target, pool, settings)
    users = _users("c", settings.connections)
    target.register(users)  # before the baseline: user rows are not connection cost
    time.sleep(settings.settle_s)
    pids = target.pids()
    rss_before, fds_before = procstat.rss_bytes(pids), procstat.open_fds(pids)
    result = session.connect(users, settings.connect_concurrency)
    time.sleep(settings.idle_settle_s)
    rss_after, fds_after = procstat.rss_bytes(pids), procstat.open_fds(pids)
    n = max(result["connected"], 1)
    probe = session.probe()
    result.update({
        "server_rss_before_bytes": rss_before, "server_rss_after_bytes": rss_after,
        "server_rss_per_connection_bytes": round((rss_after - rss_before) / n),
        "server_sockets_open": fds_after - fds_before,
        "delivery": probe["delivery"],
    })
    result["ok"] = bool(result["failed"] == 0 and probe["delivery"]["exactly_once"])
    session.disconnect()
    return result


def group(target: Target, pool: GeneratorPool, settings: Settings, size: int,
          online_only: bool = False) -> dict[str, Any]:
    """One group of ``size`` members, all online, senders posting at a fixed rate.

    ``online_only``: the messages are sent with isOnlineOnly (oimws neither stores them nor
    updates conversations): the gateway's own path, for locating the cost; not a headline."""
    session = Session(target, pool, settings)
    users = _users("g", size)
    target.register(users)
    group_id = target.create_group(users[0], users)
    login = session.connect(users, settings.connect_concurrency)
    time.sleep(settings.settle_s)
    rate = settings.group_rate(size)
    count = max(1, round(rate * settings.group_duration_s))
    senders = users[:max(1, min(settings.group_senders, size))]
    sends = [(k / rate, k, senders[k % len(senders)], "", group_id) for k in range(count)]
    result = session.run(sends, {"kind": "group"}, count, online_only)
    result.update({"group_size": size, "online_only": online_only, "rate_msgs_per_s": rate,
                   "senders": len(senders),
                   "login": {k: login[k] for k in ("connected", "failed", "logins_per_s")}})
    result["ok"] = bool(login["failed"] == 0 and result["delivery"]["exactly_once"])
    session.disconnect()
    return result


def direct(target: Target, pool: GeneratorPool, settings: Settings) -> dict[str, Any]:
    """M pairs chatting one-to-one at rising total rates, durably stored; the highest rate
    whose p99 stays within budget."""
    session = Session(target, pool, settings)
    users = _users("d", 2 * settings.direct_pairs)
    login = session.connect(users, settings.connect_concurrency, register=True)
    time.sleep(settings.settle_s)
    steps = []
    best: float | None = None
    for rate in settings.direct_rates:
        count = max(1, round(rate * settings.direct_duration_s))
        sends = []
        for k in range(count):
            sender = k % len(users)
            partner = sender ^ 1  # pairs (0, 1), (2, 3), ...
            sends.append((k / rate, k, users[sender], users[partner], ""))
        step = session.run(sends, {"kind": "direct", "to": [s[3] for s in sends]}, count)
        step["rate_msgs_per_s"] = rate
        step["ok"] = bool(step["delivery"]["exactly_once"])
        step["within_budget"] = bool(step["ok"]
                                     and step["latency_ms"]["p99_ms"] < settings.p99_budget_ms
                                     and not step["late_sends"])
        steps.append(step)
        if not step["within_budget"]:
            break
        best = rate
    session.disconnect()
    return {"pairs": settings.direct_pairs, "steps": steps,
            "highest_rate_within_budget": best, "p99_budget_ms": settings.p99_budget_ms,
            "login": {k: login[k] for k in ("connected", "failed", "logins_per_s")},
            "ok": bool(login["failed"] == 0 and all(s["ok"] for s in steps))}


def storm(target: Target, pool: GeneratorPool, settings: Settings) -> dict[str, Any]:
    """Everyone connects and logs in at once, then everyone disconnects at once."""
    session = Session(target, pool, settings)
    users = _users("s", settings.storm_clients)
    target.register(users)
    time.sleep(settings.settle_s)
    pids = target.pids()
    fds_before = procstat.open_fds(pids)
    rss_before = procstat.rss_bytes(pids)
    login = session.connect(users, concurrency=len(users))  # no pacing: all at once
    rss_peak = procstat.rss_bytes(pids)
    probe = session.probe()
    cpu0 = procstat.cpu_seconds(pids)
    started = time.monotonic()
    gone = session.disconnect()
    closed, waited, left = _wait_fds(target, fds_before, 60)
    cpu = procstat.cpu_seconds(pids) - cpu0
    return {
        "clients": len(users), "login": login, "delivery": probe["delivery"],
        "server_rss_growth_bytes": rss_peak - rss_before,
        "disconnect": {**gone, "server_closed_all": closed,
                       "server_closed_within_s": round(time.monotonic() - started, 3),
                       "server_fds_left_over_baseline": max(0, left - fds_before),
                       "server_cpu_us_per_disconnect": round(cpu / max(len(users), 1) * 1e6,
                                                             1)},
        "ok": bool(login["failed"] == 0 and closed and probe["delivery"]["exactly_once"]),
        "waited_s": round(waited, 3),
    }
