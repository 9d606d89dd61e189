"""``oimws serve --workers N``: N node processes sharing the ports on one host.

Each worker is a full node (``--workers 1`` with its own node ID) bound with SO_REUSEPORT, so
the kernel spreads connections over them; they reach each other's users through Redis. The
supervisor restarts a worker that dies and passes SIGTERM/SIGINT on for a graceful stop.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger("oimws.supervisor")

RESTART_DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 20.0


def worker_argv(argv: Sequence[str]) -> list[str]:
    """The serve command line without ``--workers``: each worker runs one node."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        if arg.startswith("--workers="):
            continue
        out.append(arg)
    return out


class Supervisor:
    def __init__(self, workers: int, serve_argv: Sequence[str], node_id: str) -> None:
        self._count = workers
        self._argv = [sys.executable, "-m", "oimws", *worker_argv(serve_argv)]
        self._node_id = node_id
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def _start(self, index: int) -> None:
        env = dict(os.environ, OIMWS_WORKERS="1", OIMWS_NODE_ID=f"{self._node_id}-w{index}")
        self._processes[index] = subprocess.Popen(self._argv, env=env)
        log.info("worker %d started (pid %d)", index, self._processes[index].pid)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True
        for process in self._processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for index in range(self._count):
            self._start(index)
        while not self._stopping:
            time.sleep(0.2)
            for index, process in list(self._processes.items()):
                code = process.poll()
                if code is not None and not self._stopping:
                    log.error("worker %d exited with %s; restarting", index, code)
                    time.sleep(RESTART_DELAY_SECONDS)
                    self._start(index)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        codes = []
        for process in self._processes.values():
            try:
                codes.append(process.wait(max(0.1, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return 0 if all(code == 0 for code in codes) else 1
