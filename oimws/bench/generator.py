"""The harness side of the load generator: a pool of worker processes (``worker.py``).

Calls are synchronous: the harness sends one command to every worker and waits for all the
answers (with a timeout), so a scenario reads top to bottom.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any

from oimws.bench.worker import worker_main


class GeneratorError(RuntimeError):
    pass


class GeneratorPool:
    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.size = workers
        self._conns: list[Connection] = []
        self._processes: list[Any] = []
        for worker_id in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(theirs, worker_id),
                                      name=f"oimws-bench-gen-{worker_id}", daemon=True)
            process.start()
            theirs.close()
            self._conns.append(ours)
            self._processes.append(process)
        self.pids = [p.pid for p in self._processes]
        self.call_all("ping", [{} for _ in range(workers)], timeout=60)

    def call_all(self, command: str, args: list[dict[str, Any]],
                 timeout: float = 600) -> list[Any]:
        """Send ``command`` with ``args[i]`` to worker i; the answers in worker order."""
        for conn, kwargs in zip(self._conns, args, strict=True):
            conn.send((command, kwargs))
        deadline = time.monotonic() + timeout
        results = []
        for worker_id, conn in enumerate(self._conns):
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise GeneratorError(f"generator {worker_id} did not answer {command!r} "
                                     f"within {timeout:.0f} s")
            status, value = conn.recv()
            if status != "ok":
                raise GeneratorError(f"generator {worker_id} failed {command!r}:\n{value}")
            results.append(value)
        return results

    def split(self, items: list[Any]) -> list[list[Any]]:
        """Round-robin shares, one per worker."""
        return [items[i::self.size] for i in range(self.size)]

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(("stop", {}))
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)
        for conn in self._conns:
            conn.close()

    def __enter__(self) -> GeneratorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
