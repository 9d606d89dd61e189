"""The coverage-guided fuzz target for the codec (fuzz/fuzz_codec.py), run for a bounded time.

The target runs as a subprocess exactly as ``make fuzz`` runs it, on a copy of the seed corpus
(libFuzzer writes the inputs it finds into its first corpus directory; the repository's seeds
stay untouched). One test proves a short run is clean and really fuzzed; the other proves the
target would catch a bug: with a decoder bug planted, it must report a crash and save the input.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris (dev extra) is not installed on this platform")

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "fuzz" / "fuzz_codec.py"
SEEDS = REPO / "fuzz" / "corpus" / "codec"
DICTIONARY = REPO / "fuzz" / "codec.dict"
FUZZ_SECONDS = 20
# The target does 25 000-45 000 inputs a second on one core; a run that executed fewer than
# this in 20 s was not fuzzing (or the machine is absurdly overloaded).
MIN_EXECUTED_INPUTS = 20_000
# Edges covered in oimws.protocol and the target: about 107 after the seeds alone, 135-141
# after 20 s; far fewer means atheris' instrumentation of the Python layers is not in effect.
MIN_COVERAGE = 80
ATHERIS_UNCAUGHT_EXCEPTION_EXIT = 77  # libFuzzer's -error_exitcode default


def run_target(tmp_path: Path, replay: Path | None = None, planted_bug: str = "",
               seconds: int = FUZZ_SECONDS) -> subprocess.CompletedProcess[str]:
    """Fuzz a copy of the seeds for ``seconds`` (or run the one input ``replay``); libFuzzer's
    artifacts (crash-*, timeout-*) land in ``tmp_path``."""
    corpus = tmp_path / "corpus"
    if not corpus.exists():
        shutil.copytree(SEEDS, corpus)
    env = {k: v for k, v in os.environ.items() if k != "OIMWS_FUZZ_PLANTED_BUG"}
    if planted_bug:
        env["OIMWS_FUZZ_PLANTED_BUG"] = planted_bug
    command = [sys.executable, str(TARGET), f"-max_total_time={seconds}", "-timeout=10",
               "-print_final_stats=1", f"-dict={DICTIONARY}",
               f"-artifact_prefix={tmp_path}/", str(replay or corpus)]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=seconds + 120)


def stat(output: str, name: str) -> int:
    found = re.search(rf"^stat::{name}:\s+(\d+)$", output, re.MULTILINE)
    assert found, f"no stat::{name} in libFuzzer's output:\n{output[-3000:]}"
    return int(found.group(1))


def crash_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("crash-*"))


def test_a_bounded_run_of_the_codec_target_is_clean_and_really_fuzzes(tmp_path: Path) -> None:
    result = run_target(tmp_path)
    output = result.stderr + result.stdout
    assert result.returncode == 0, output[-5000:]
    assert not crash_files(tmp_path), output[-5000:]
    assert "Instrumenting oimws.protocol.args" in output, output[:2000]
    executed = stat(output, "number_of_executed_units")
    coverage = [int(n) for n in re.findall(r"\bcov: (\d+)", output)]
    print(f"fuzz_codec: {executed} inputs in {FUZZ_SECONDS} s, coverage {max(coverage or [0])}"
          f" edges, {stat(output, 'new_units_added')} new inputs kept")
    assert executed >= MIN_EXECUTED_INPUTS, output[-3000:]
    assert coverage and max(coverage) >= MIN_COVERAGE, output[-3000:]


def test_the_target_reports_a_planted_decoder_bug_as_a_crash(tmp_path: Path) -> None:
    # The bug: a required argument read without checking the request has that many. No seed
    # triggers it (every seed runs clean first: INITED), so the crash is found by mutation.
    result = run_target(tmp_path, planted_bug="missing-argument", seconds=120)
    output = result.stderr + result.stdout
    assert result.returncode == ATHERIS_UNCAUGHT_EXCEPTION_EXIT, output[-5000:]
    assert "INITED" in output, output[-5000:]
    assert "Uncaught Python exception" in output and "IndexError" in output, output[-5000:]
    assert "the planted bug" in output, output[-5000:]
    crashes = crash_files(tmp_path)
    assert len(crashes) == 1, output[-5000:]

    # The saved input is the reproducer: it crashes the planted decoder again, and the real
    # decoder answers it with a documented error.
    replayed = run_target(tmp_path, replay=crashes[0], planted_bug="missing-argument")
    assert replayed.returncode == ATHERIS_UNCAUGHT_EXCEPTION_EXIT, replayed.stderr[-3000:]
    real = run_target(tmp_path, replay=crashes[0])
    assert real.returncode == 0, real.stderr[-3000:]
