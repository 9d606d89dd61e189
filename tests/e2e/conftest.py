"""End-to-end tests: the real npm client ``open-im-sdk@3.5.2`` (Node.js) against the real server.

Loads the ``tests.support.fixtures`` plugin (``server`` & co.) unless the root conftest already
did, makes sure Node.js >= 20 and ``node_modules`` are there (running ``npm ci`` in this
directory when they are not), and provides the ``jssdk`` fixture that runs one scenario
script from ``scenarios/`` and returns its JSON result.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
SCENARIO_DIR = E2E_DIR / "scenarios"
SDK_PACKAGE = "open-im-sdk"
SDK_VERSION = "3.5.2"
RESULT_MARKER = "@@E2E-RESULT@@ "  # these two must match lib.mjs
STEP_MARKER = "@@E2E-STEP@@ "
SCENARIO_TIMEOUT = float(os.environ.get("E2E_SCENARIO_TIMEOUT", "150"))  # seconds, per run
NPM_TIMEOUT = 600

if str(REPO_ROOT) not in sys.path:  # so ``tests.support`` imports however pytest is started
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.server import RunningServer  # noqa: E402


def _installed_sdk_version() -> str | None:
    manifest = E2E_DIR / "node_modules" / SDK_PACKAGE / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@dataclass(frozen=True)
class Node:
    """How to run Node.js scripts that use the SDK."""

    binary: str
    flags: tuple[str, ...]  # ("--experimental-websocket",) where WebSocket is not global yet


@pytest.fixture(scope="session")
def node() -> Node:
    """Node.js >= 20, with this directory's node_modules installed (``npm ci`` if missing)."""
    node_bin = shutil.which("node")
    if node_bin is None:
        pytest.fail("tests/e2e needs Node.js >= 20 (`node` is not on PATH)", pytrace=False)
    version = subprocess.run(
        [node_bin, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"tests/e2e needs Node.js >= 20, found {version}", pytrace=False)
    # Node 20 needs --experimental-websocket for a global WebSocket; later versions have it
    # by default (and may drop the flag), so pass it only when it is needed.
    has_websocket = subprocess.run(
        [node_bin, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"], timeout=30
    )
    flags = () if has_websocket.returncode == 0 else ("--experimental-websocket",)
    if _installed_sdk_version() != SDK_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                f"{E2E_DIR}/node_modules is missing and `npm` is not on PATH; "
                f"run `npm ci` in {E2E_DIR}",
                pytrace=False,
            )
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=E2E_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
        )
        if done.returncode != 0 or _installed_sdk_version() != SDK_VERSION:
            pytest.fail(
                f"`npm ci` in {E2E_DIR} failed (exit {done.returncode}); "
                f"{SDK_PACKAGE}@{SDK_VERSION} is needed.\n{done.stdout}\n{done.stderr}",
                pytrace=False,
            )
    return Node(node_bin, flags)


class ScenarioRunner:
    """Runs ``scenarios/NAME.mjs`` with Node.js (``node --experimental-websocket`` on 20)."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def run(
        self,
        server: RunningServer,
        scenario: str,
        accounts: dict[str, dict[str, Any]],
        *,
        on_step: Callable[[str], None] | None = None,
        timeout: float = SCENARIO_TIMEOUT,
        **extra: Any,
    ) -> Any:
        """Run one scenario against ``server`` and return its JSON result.

        ``accounts`` maps a name the scenario uses to ``{"userID", "token", "platformID"}``;
        ``extra`` keys are added to the scenario's config. When the scenario calls
        ``ctx.step(name)``, ``on_step(name)`` runs here and the scenario goes on once it
        returns; an exception it raises is re-raised after the scenario ends. Fails the test,
        with the scenario's output and the server log tail, when the script exits non-zero
        or runs longer than ``timeout`` seconds (it is killed then).
        """
        config = {"wsUrl": server.ws_url, "apiUrl": server.api_url, "accounts": accounts, **extra}
        command = [
            self.node.binary,
            *self.node.flags,
            str(SCENARIO_DIR / f"{scenario}.mjs"),
            json.dumps(config),
        ]
        step_errors: list[BaseException] = []

        def step(name: str) -> str:
            try:
                if on_step is None:
                    raise RuntimeError(f"scenario {scenario} asked for step {name!r}; no on_step")
                on_step(name)
            except Exception as exc:
                step_errors.append(exc)
                return "error " + repr(exc).replace("\n", " ")[:500]
            return "ok"

        with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
            returncode, stdout = _drive(command, stderr, step, timeout)
            stderr.seek(0)
            stderr_text = stderr.read()
        if step_errors:
            raise step_errors[0]
        if returncode is None:
            pytest.fail(
                f"scenario {scenario} did not finish within {timeout:.0f}s (killed)\n"
                + _outputs(stdout, stderr_text, server),
                pytrace=False,
            )
        results = [
            line[len(RESULT_MARKER) :]
            for line in stdout.split("\n")  # not splitlines(): it splits at U+2028
            if line.startswith(RESULT_MARKER)
        ]
        if returncode != 0 or not results:
            pytest.fail(
                f"scenario {scenario} failed (exit {returncode})\n"
                + _outputs(stdout, stderr_text, server),
                pytrace=False,
            )
        return json.loads(results[-1])


def _drive(
    command: list[str], stderr: IO[str], step: Callable[[str], str], timeout: float
) -> tuple[int | None, str]:
    """Run ``command``, answering its step requests; return (exit code or None, stdout)."""
    process = subprocess.Popen(
        command,
        cwd=E2E_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    stdout: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None, "".join(stdout)
            if line is None:
                break
            stdout.append(line)
            if line.startswith(STEP_MARKER):
                reply = step(line[len(STEP_MARKER) :].strip())
                assert process.stdin is not None
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.write(reply + "\n")
                    process.stdin.flush()
        try:
            return process.wait(timeout=max(1.0, deadline - time.monotonic())), "".join(stdout)
        except subprocess.TimeoutExpired:
            return None, "".join(stdout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()


def _outputs(stdout: str | bytes | None, stderr: str | bytes | None, server: RunningServer) -> str:
    def text(value: str | bytes | None) -> str:
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return value or ""

    return (
        f"--- node stderr ---\n{text(stderr)[-12000:]}\n"
        f"--- node stdout ---\n{text(stdout)[-4000:]}\n"
        f"--- server log tail ---\n{server.log_tail(25)}"
    )


@pytest.fixture(scope="session")
def jssdk(node: Node) -> ScenarioRunner:
    """Runs the Node.js scenario scripts: ``jssdk.run(server, "login", accounts)``."""
    return ScenarioRunner(node)
