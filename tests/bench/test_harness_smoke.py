"""The load harness end to end at toy sizes: every scenario once against the real server (and
the bare picows peer), the exactly-once accounting, and the JSON document's shape. No timing
is asserted: this machine is shared and noisy; the numbers are the harness's business."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oimws.bench import PRESETS, SCENARIOS, main, run
from oimws.bench.accounting import ArrivalCounter, Histogram
from oimws.bench.scenarios import Settings


def test_histogram_percentiles_and_wire_round_trip():
    histogram = Histogram()
    for us in range(1, 1001):
        histogram.add(us * 100)  # 0.1 ms .. 100 ms
    summary = histogram.summary()
    assert summary["count"] == 1000
    assert 49.0 <= summary["p50_ms"] <= 50.1
    assert 98.0 <= summary["p99_ms"] <= 100.0
    assert summary["max_ms"] == 100.0
    assert Histogram.from_wire(histogram.to_wire()).summary() == summary


def test_exactly_once_accounting_finds_losses_duplicates_and_strays():
    counter = ArrivalCounter(clients=3, messages=4)
    # group: client 0 sent mids 0 and 1; everyone else should get everything
    for client in range(3):
        for mid in range(4):
            if not (client == 0 and mid < 2):
                counter.arrived(client, mid)
    assert counter.verdict_group({0: [0, 1]}, 3).ok
    counter.arrived(1, 2)      # duplicate
    counter.arrived(0, 0)      # own message came back
    counter.counts[2 * 4 + 3] = 0  # lost
    verdict = counter.verdict_group({0: [0, 1]}, 3)
    assert (verdict.duplicated, verdict.unexpected, verdict.lost) == (1, 1, 1)
    assert not verdict.ok
    direct = ArrivalCounter(clients=2, messages=3)
    direct.arrived(1, 0)
    direct.arrived(0, 1)
    direct.arrived(0, 1)
    result = direct.verdict_direct([1, 0, -1])
    assert (result.expected, result.lost, result.duplicated, result.unexpected) == (2, 0, 1, 0)


def test_every_scenario_once_against_the_real_server_and_the_picows_floor(tmp_path: Path):
    settings = Settings(**PRESETS["smoke"])
    doc = run(list(SCENARIOS), True, settings, only={"oimws", "picows"},
              log=lambda _line: None)
    results = doc["results"]
    assert set(results) == set(SCENARIOS)
    # every scenario delivered exactly once (a loss or duplicate fails the run)
    assert doc["ok"], json.dumps(results, indent=1)[:3000]
    for name in ("oimws", "picows"):
        conn = results["connections"][name]
        assert conn["connected"] == settings.connections and conn["failed"] == 0
        assert conn["delivery"]["exactly_once"]
        for size in settings.group_sizes:
            run_ = results["group"][name][str(size)]
            delivery = run_["delivery"]
            assert delivery["lost"] == delivery["duplicated"] == delivery["unexpected"] == 0
            assert delivery["delivered"] == delivery["expected"] == run_["messages"] * (size - 1)
            assert {"p50_ms", "p95_ms", "p99_ms", "max_ms"} <= set(run_["latency_ms"])
            assert run_["server_cpu_us_per_delivery"] >= 0
    for size in settings.group_sizes:
        assert results["group"]["oimws-online-only"][str(size)]["ok"]
    direct = results["direct"]["oimws"]
    assert direct["steps"][0]["rate_msgs_per_s"] == settings.direct_rates[0]
    assert all(s["delivery"]["exactly_once"] for s in direct["steps"])
    storm = results["storm"]["oimws"]
    assert storm["login"]["connected"] == settings.storm_clients
    assert storm["disconnect"]["server_closed_all"]
    ratios = doc["comparisons"]["ratios"]["picows"]
    assert set(ratios["group"]) == {str(s) for s in settings.group_sizes}
    assert ratios["memory_per_connection"] is not None
    assert "cpu_vs_picows" in doc["comparisons"]["targets"]
    assert doc["machine"]["cores"] and doc["commit"]


def test_main_writes_the_json_file_and_rejects_unknown_scenarios(tmp_path: Path, capsys):
    out = tmp_path / "bench.json"
    code = main(["storm", "--preset", "smoke", "--out", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["settings"]["scenarios"] == ["storm"] and doc["ok"]
    assert "storm" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["nonsense"])
