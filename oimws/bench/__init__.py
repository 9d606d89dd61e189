"""The load harness: ``python -m oimws.bench [scenario ...] [--peers]`` (``oimws bench``).

Starts the server under test (and with ``--peers`` the servers it is compared with) on free
loopback ports, drives them from several generator processes speaking the jssdk protocol over
picows, and prints a table and writes a JSON file (commit, machine, settings, every number).
A scenario whose messages were lost or duplicated reports failure, and the exit status is 1.

Modules: ``worker`` (a generator process), ``generator`` (the pool of them), ``targets``
(oimws and the peers), ``scenarios`` (the workloads), ``accounting`` (exactly-once and
latency histograms), ``report`` (table, JSON, ratios, plot), ``procstat`` (/proc).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCENARIOS = ("connections", "direct", "group", "storm")
PRESETS: dict[str, dict[str, Any]] = {
    # make bench: a few minutes
    "short": {},
    # the numbers in BENCHMARKS.md: about ten minutes with --peers
    "full": {"group_sizes": (250, 1000, 5000), "group_rates": (20.0, 5.0, 1.0),
             "group_duration_s": 8.0, "direct_duration_s": 5.0, "storm_clients": 8000},
    # the smoke test: seconds
    "smoke": {"connections": 40, "group_sizes": (30,), "group_rates": (20.0,),
              "group_duration_s": 0.3, "group_senders": 3, "direct_pairs": 10,
              "direct_rates": (50.0,), "direct_duration_s": 0.3, "storm_clients": 40,
              "drain_s": 10.0, "connect_concurrency": 20, "probe_rate": 400.0,
              "settle_s": 0.05, "start_lead_s": 0.1, "idle_settle_s": 0.1, "grace_s": 0.1},
}


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oimws bench", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--peers", action="store_true",
                        help="also run connections and group against bare picows, "
                             "websockets and Node ws, and report oimws as ratios to them")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="short",
                        help="sizes and durations (default short: a few minutes)")
    parser.add_argument("--workers", type=int, help="generator processes (default 2)")
    parser.add_argument("--clients", type=int,
                        help="connections scenario: idle clients (default 10000)")
    parser.add_argument("--group-sizes", type=_ints, help="e.g. 1000,5000")
    parser.add_argument("--group-rates", type=_floats,
                        help="messages/s for each group size, e.g. 20,4")
    parser.add_argument("--duration", type=float, help="seconds of sending per group run")
    parser.add_argument("--pairs", type=int, help="direct: one-to-one pairs (default 500)")
    parser.add_argument("--direct-rates", type=_floats,
                        help="direct: total messages/s to try, rising, e.g. 500,1000,2000")
    parser.add_argument("--storm", type=int, dest="storm_clients",
                        help="storm: clients (default 5000)")
    parser.add_argument("--only", default="",
                        help="comma-separated servers to run (oimws,picows,websockets,node-ws)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file (default benchmarks/results/bench-<time>.json)")
    parser.add_argument("--plot", type=Path, default=None,
                        help="PNG of deliveries/s and p99 against group size "
                             "(default: next to the JSON file)")
    return parser


def settings_from(args: argparse.Namespace) -> Any:
    from oimws.bench.scenarios import Settings

    values = dict(PRESETS[args.preset])
    for field, value in (("workers", args.workers), ("connections", args.clients),
                         ("group_sizes", args.group_sizes), ("group_rates", args.group_rates),
                         ("group_duration_s", args.duration), ("direct_pairs", args.pairs),
                         ("direct_rates", args.direct_rates),
                         ("storm_clients", args.storm_clients)):
        if value is not None:
            values[field] = value
    return Settings(**values)


def _results_dir() -> Path:
    from oimws.bench.targets import REPO

    bench_dir = REPO / "benchmarks"
    return (bench_dir / "results") if bench_dir.is_dir() else Path("bench-results")


def run(scenarios: list[str], peers: bool, settings: Any, only: set[str] | None = None,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the scenarios; returns the whole document (see ``report``)."""
    from oimws.bench import procstat, report
    from oimws.bench import scenarios as workloads
    from oimws.bench.generator import GeneratorPool
    from oimws.bench.targets import PEERS, OimwsTarget, Target, TargetError
    from oimws.bench.worker import raise_fd_limit

    biggest = max(settings.connections, settings.storm_clients, *settings.group_sizes,
                  2 * settings.direct_pairs)
    limit = raise_fd_limit(biggest + 1024)
    if limit < biggest + 256:
        raise SystemExit(f"oimws bench: {biggest} connections need more than this machine's "
                         f"{limit} open files per process (RLIMIT_NOFILE hard limit); "
                         f"use fewer clients")
    servers: list[type[Target]] = [OimwsTarget] + (list(PEERS.values()) if peers else [])
    if only:
        servers = [s for s in servers if s.name in only]
    doc: dict[str, Any] = {
        "commit": procstat.git_commit(Path(__file__).resolve().parents[2]),
        "machine": procstat.machine(), "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "settings": {**dataclasses.asdict(settings), "scenarios": scenarios, "peers": peers},
        "servers": {s.name: s.description for s in servers}, "results": {},
    }
    results = doc["results"]

    def attempt(what: str, server: type[Target], body: Callable[[Target], dict[str, Any]]
                ) -> dict[str, Any]:
        log(f"[{time.strftime('%H:%M:%S')}] {what} on {server.name} ...")
        try:
            with server() as target:
                result = body(target)
        except (TargetError, Exception) as exc:
            log(traceback.format_exc())
            return {"error": f"{type(exc).__name__}: {exc}"}
        status = "ok" if result.get("ok") else "FAILED (lost, duplicated or refused)"
        log(f"           {status}")
        return result

    with GeneratorPool(settings.workers) as pool:

        def group_body(size: int, online_only: bool = False
                       ) -> Callable[[Target], dict[str, Any]]:
            def body(target: Target) -> dict[str, Any]:
                return workloads.group(target, pool, settings, size, online_only)
            return body

        if "connections" in scenarios:
            results["connections"] = {
                s.name: attempt(f"connections x{settings.connections}", s,
                                lambda t: workloads.connections(t, pool, settings))
                for s in servers}
        if "group" in scenarios:
            results["group"] = {}
            for server in servers:
                results["group"][server.name] = {
                    str(size): attempt(f"group of {size}", server, group_body(size))
                    for size in settings.group_sizes}
            if settings.group_online_only and OimwsTarget in servers:
                results["group"]["oimws-online-only"] = {
                    str(size): attempt(f"group of {size} (isOnlineOnly)", OimwsTarget,
                                       group_body(size, online_only=True))
                    for size in settings.group_sizes}
        oimws_only = [s for s in servers if s is OimwsTarget]
        if "direct" in scenarios and oimws_only:
            results["direct"] = {"oimws": attempt(
                f"direct x{settings.direct_pairs} pairs", OimwsTarget,
                lambda t: workloads.direct(t, pool, settings))}
        if "storm" in scenarios and oimws_only:
            results["storm"] = {"oimws": attempt(
                f"storm x{settings.storm_clients}", OimwsTarget,
                lambda t: workloads.storm(t, pool, settings))}
    doc["comparisons"] = report.comparisons(results)
    doc["ok"] = all(r.get("ok") for r in _leaves(results))
    return doc


def _leaves(results: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for by_server in results.values():
        for value in by_server.values():
            if "ok" in value or "error" in value:
                found.append(value)
            else:
                found += list(value.values())
    return found


def main(argv: list[str]) -> int:
    """``oimws bench ...``: 0 when every scenario delivered exactly once, else 1."""
    from oimws.bench import report

    args = _parser().parse_args(argv)
    scenarios = args.scenarios or list(SCENARIOS)
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        _parser().error(f"unknown scenario(s) {', '.join(sorted(unknown))}; "
                        f"choose from {', '.join(SCENARIOS)}")
    settings = settings_from(args)
    only = {name for name in args.only.split(",") if name} or None
    doc = run(scenarios, args.peers, settings, only)
    out = args.out or _results_dir() / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    report.save_json(doc, out)
    print()
    print(report.render(doc))
    print(f"results: {out}")
    plot_path = args.plot or out.with_suffix(".png")
    if "group" in scenarios and report.plot(doc, plot_path):
        print(f"plot: {plot_path}")
    return 0 if doc["ok"] else 1
