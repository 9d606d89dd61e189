"""Turning a run's numbers into the human table, the JSON file, the peer ratios with the
targets they are held to, and the plot of deliveries/s and p99 against group size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# (metric, lower is better?) oimws / peer ratios and the targets issue 7 sets for them:
# name -> (peer, metric, at most this oimws/peer ratio)
TARGETS: dict[str, tuple[str, str, float, str]] = {
    "cpu_vs_picows": ("picows", "cpu", 1.5, "CPU per group delivery within 1.5x of bare picows"),
    "cpu_vs_websockets": ("websockets", "cpu", 1 / 3,
                          "CPU per group delivery at least 3x lower than websockets"),
    "cpu_vs_node": ("node-ws", "cpu", 1 / 1.5,
                    "CPU per group delivery at least 1.5x lower than Node ws"),
    "memory_vs_picows": ("picows", "memory", 1.2,
                         "memory per idle connection at most 1.2x bare picows"),
    "memory_vs_websockets": ("websockets", "memory", 0.999999,
                             "memory per idle connection below websockets"),
    "memory_vs_node": ("node-ws", "memory", 0.999999, "memory per idle connection below Node ws"),
}


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs <= 0:
        return None
    return round(ours / theirs, 3)


def comparisons(results: dict[str, Any]) -> dict[str, Any]:
    """oimws / peer for each peer: CPU per delivery, deliveries/s and p99 per group size,
    memory per connection; and each target met or not."""
    out: dict[str, Any] = {"ratios": {}, "targets": {}}
    groups = results.get("group", {})
    ours_groups = groups.get("oimws", {})
    conns = results.get("connections", {})
    peers = sorted({name for name in (*groups, *conns) if not name.startswith("oimws")})
    for peer in peers:
        entry: dict[str, Any] = {"group": {}}
        for size, ours in ours_groups.items():
            theirs = groups.get(peer, {}).get(size)
            if not theirs or "error" in theirs or "error" in ours:
                continue
            entry["group"][size] = {
                "cpu_per_delivery": _ratio(ours["server_cpu_us_per_delivery"],
                                           theirs["server_cpu_us_per_delivery"]),
                "deliveries_per_s": _ratio(ours["deliveries_per_s"], theirs["deliveries_per_s"]),
                "p99": _ratio(ours["latency_ms"]["p99_ms"], theirs["latency_ms"]["p99_ms"]),
                "both_exactly_once": bool(ours["ok"] and theirs["ok"]),
            }
        ours_conn, theirs_conn = conns.get("oimws"), conns.get(peer)
        if ours_conn and theirs_conn and "error" not in ours_conn and "error" not in theirs_conn:
            entry["memory_per_connection"] = _ratio(
                ours_conn["server_rss_per_connection_bytes"],
                theirs_conn["server_rss_per_connection_bytes"])
        out["ratios"][peer] = entry
    for name, (peer, metric, limit, text) in TARGETS.items():
        entry = out["ratios"].get(peer)
        if entry is None:
            continue
        if metric == "cpu":
            values = [g["cpu_per_delivery"] for g in entry["group"].values()
                      if g["cpu_per_delivery"] is not None and g["both_exactly_once"]]
            worst = max(values) if values else None
        else:
            worst = entry.get("memory_per_connection")
        out["targets"][name] = {"target": text, "oimws_over_peer": worst,
                                "at_most": round(limit, 3),
                                "met": None if worst is None else worst <= limit}
    direct = results.get("direct", {}).get("oimws")
    if direct and "error" not in direct:
        best = direct["highest_rate_within_budget"]
        out["targets"]["direct_p99"] = {
            "target": f"direct: p99 under {direct['p99_budget_ms']:g} ms while storing durably",
            "highest_rate_within_budget": best, "met": best is not None}
    return out


# the table --------------------------------------------------------------------------------

def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in r]
                                           for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _short(error: str) -> str:
    return error.splitlines()[0][:70] if error else ""


def _ok(result: dict[str, Any]) -> str:
    if "error" in result:
        return "ERROR"
    return "yes" if result.get("ok") else "FAILED"


def render(doc: dict[str, Any]) -> str:
    results = doc["results"]
    parts = [f"oimws bench  commit {doc['commit']}  {doc['machine']['cores']} cores "
             f"{doc['machine']['cpu_model']}  generator processes {doc['settings']['workers']}"]
    conns = results.get("connections")
    if conns:
        rows = []
        for name, r in conns.items():
            if "error" in r:
                rows.append([name, "", "", "", "", "", _short(r["error"])])
                continue
            rows.append([name, r["connected"], r["logins_per_s"],
                         round(r["server_rss_per_connection_bytes"] / 1024, 2),
                         r["server_cpu_us_per_login"], r["connect_login_ms"]["p99_ms"], _ok(r)])
        parts.append("connections (idle, logged in)\n" + _table(
            ["server", "clients", "logins/s", "RSS KiB/conn", "CPU us/login",
             "login p99 ms", "exactly-once"], rows))
    groups = results.get("group")
    if groups:
        rows = []
        for name, sizes in groups.items():
            for size, r in sizes.items():
                if "error" in r:
                    rows.append([name, size, "", "", "", "", "", "", "", "", _short(r["error"])])
                    continue
                lat = r["latency_ms"]
                rows.append([name, size, r["rate_msgs_per_s"], r["deliveries_per_s"],
                             lat["p50_ms"], lat["p95_ms"], lat["p99_ms"], lat["max_ms"],
                             r["server_cpu_us_per_delivery"],
                             max(r["generator"]["busy_per_process"], default=0), _ok(r)])
        parts.append("group (all members online; latency = sender's send to member's receipt)\n"
                     + _table(["server", "members", "msgs/s", "deliveries/s", "p50 ms",
                               "p95 ms", "p99 ms", "max ms", "CPU us/delivery",
                               "gen busy", "exactly-once"], rows))
    direct = results.get("direct", {}).get("oimws")
    if direct:
        if "error" in direct:
            parts.append(f"direct: ERROR {direct['error']}")
        else:
            rows = [[s["rate_msgs_per_s"], s["deliveries_per_s"], s["latency_ms"]["p50_ms"],
                     s["latency_ms"]["p95_ms"], s["latency_ms"]["p99_ms"],
                     s["latency_ms"]["max_ms"], s["server_cpu_busy"],
                     s["server_cpu_us_per_delivery"],
                     max(s["generator"]["busy_per_process"], default=0), _ok(s),
                     "yes" if s["within_budget"] else "no"] for s in direct["steps"]]
            parts.append(
                f"direct ({direct['pairs']} pairs, durable store; highest rate with p99 < "
                f"{direct['p99_budget_ms']:g} ms: {direct['highest_rate_within_budget']})\n"
                + _table(["msgs/s", "delivered/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                          "server busy", "CPU us/msg", "gen busy", "exactly-once",
                          "p99 ok"], rows))
    storm = results.get("storm", {}).get("oimws")
    if storm:
        if "error" in storm:
            parts.append(f"storm: ERROR {storm['error']}")
        else:
            login, gone = storm["login"], storm["disconnect"]
            parts.append("storm (all connect + log in at once, then all disconnect)\n" + _table(
                ["clients", "all logged in s", "logins/s", "login p99 ms", "failed",
                 "all closed s", "CPU us/disconnect", "ok"],
                [[storm["clients"], login["elapsed_s"], login["logins_per_s"],
                  login["connect_login_ms"]["p99_ms"], login["failed"],
                  gone["server_closed_within_s"], gone["server_cpu_us_per_disconnect"],
                  _ok(storm)]]))
    comp = doc.get("comparisons")
    if comp and comp["ratios"]:
        rows = []
        for peer, entry in comp["ratios"].items():
            for size, g in entry["group"].items():
                rows.append([peer, f"group {size}", g["cpu_per_delivery"],
                             g["deliveries_per_s"], g["p99"], ""])
            if "memory_per_connection" in entry:
                rows.append([peer, "connections", "", "", "", entry["memory_per_connection"]])
        parts.append("oimws / peer (CPU, p99, memory: lower is better for oimws; "
                     "deliveries/s: higher)\n" + _table(
                         ["peer", "workload", "CPU/delivery", "deliveries/s", "p99",
                          "memory/conn"], rows))
    if comp and comp["targets"]:
        rows = [[t["target"], t.get("oimws_over_peer", t.get("highest_rate_within_budget")),
                 t.get("at_most", ""),
                 "not measured" if t["met"] is None else "MET" if t["met"] else "missed"]
                for t in comp["targets"].values()]
        parts.append("targets\n" + _table(["target", "measured", "at most", ""], rows))
    return "\n\n".join(parts) + "\n"


# files --------------------------------------------------------------------------------------

def save_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")


def plot(doc: dict[str, Any], path: Path) -> bool:
    """Deliveries/s and p99 against group size, one line per server; False without
    matplotlib (``pip install oimws[bench]``) or with fewer than two group sizes."""
    groups = doc["results"].get("group") or {}
    series = {name: sorted((int(size), r) for size, r in sizes.items() if "error" not in r)
              for name, sizes in groups.items()}
    if not any(len(points) >= 2 for points in series.values()):
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, points in series.items():
        sizes = [s for s, _ in points]
        left.plot(sizes, [r["deliveries_per_s"] for _, r in points], marker="o", label=name)
        right.plot(sizes, [r["latency_ms"]["p99_ms"] for _, r in points], marker="o",
                   label=name)
    left.set(xlabel="group members (all online)", ylabel="deliveries / s",
             title="deliveries/s at the offered rate")
    right.set(xlabel="group members (all online)", ylabel="p99 latency (ms)",
              title="p99 send -> receipt")
    right.set_yscale("log")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.legend()
    figure.suptitle(f"oimws bench, {doc['machine']['cores']} cores, commit "
                    f"{doc['commit'][:12]}", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
