"""Prints, after pytest-benchmark's tables, each compiled path's speed-up over its plain-Python
twins in the same run (median against median, and min against min: the
min is the steadier number on a shared machine): the number these suites exist for."""

from __future__ import annotations

from typing import Any


def _speedups(benchmarks: list[Any]) -> list[str]:
    groups: dict[str, dict[str, tuple[float, float]]] = {}
    for bench in benchmarks:
        if bench.stats and bench.group:
            groups.setdefault(bench.group, {})[bench.name] = (bench.stats.median,
                                                              bench.stats.min)
    lines = []
    for group, medians in sorted(groups.items()):
        compiled = [name for name in medians if "compiled" in name]
        if len(compiled) != 1:
            continue
        base, base_min = medians[compiled[0]]
        for name, (median, fastest) in sorted(medians.items()):
            if name != compiled[0] and base > 0 and base_min > 0:
                lines.append(f"{group:<40} {name:<36} median {median / base:5.2f}x "
                             f"min {fastest / base_min:5.2f}x  ({median * 1e6:9.2f} us vs "
                             f"{base * 1e6:9.2f} us)")
    return lines


def pytest_terminal_summary(terminalreporter: Any) -> None:
    session = getattr(terminalreporter.config, "_benchmarksession", None)
    if session is None or session.disabled:
        return
    lines = _speedups(session.benchmarks)
    if lines:
        terminalreporter.write_sep("-", "compiled speed-up over the plain-Python twin")
        for line in lines:
            terminalreporter.write_line(line)
