"""The examples in ``examples/``, each run as a user would run it, against a real server."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
SDK_VERSION = "3.5.2"
NPM_TIMEOUT = 600


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tests.support.fixtures"):
        config.pluginmanager.import_plugin("tests.support.fixtures")


@dataclass(frozen=True)
class NodeJs:
    binary: str
    flags: tuple[str, ...]  # ("--experimental-websocket",) on Node 20


def _installed_sdk() -> str | None:
    try:
        manifest = EXAMPLES / "node_modules" / "open-im-sdk" / "package.json"
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="session")
def nodejs() -> NodeJs:
    """Node.js >= 20 with ``examples/node_modules`` installed (``npm ci`` when missing)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("examples/node_client.mjs needs Node.js >= 20 on PATH", pytrace=False)
    version = subprocess.run([node, "--version"], capture_output=True, text=True,
                             check=True, timeout=30).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"examples/node_client.mjs needs Node.js >= 20, found {version}",
                    pytrace=False)
    has_websocket = subprocess.run(
        [node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"], timeout=30)
    flags = () if has_websocket.returncode == 0 else ("--experimental-websocket",)
    if _installed_sdk() != SDK_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("examples/node_modules is missing and npm is not on PATH",
                        pytrace=False)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=EXAMPLES, capture_output=True, text=True,
                              timeout=NPM_TIMEOUT)
        if done.returncode != 0 or _installed_sdk() != SDK_VERSION:
            pytest.fail(f"`npm ci` in examples/ failed (exit {done.returncode}):\n"
                        f"{done.stdout}\n{done.stderr}", pytrace=False)
    return NodeJs(node, flags)
