"""A load-generator process: many jssdk clients on one uvloop, driven over a pipe.

The harness starts several of these (``GeneratorPool``) so the generator is not the
bottleneck, and each reports the CPU it used so a saturated one is visible. A worker
connects and logs in its share of the users, sends its share of a scenario's messages at
their scheduled times (open loop: a slow server does not slow the sender down), and counts
every arrival per (client, message) for the exactly-once check.

A benchmark message carries ``bm|<message number>|<send time, CLOCK_MONOTONIC ns>|`` in its
text, which every process on the machine reads on the same clock; a receiver finds it in the
raw frame without parsing JSON (``JssdkClient.raw_frame_hook``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

import orjson
from picows import WSCloseCode

from oimws.bench.accounting import ArrivalCounter, Delivery, Histogram
from oimws.client import JssdkClient

MARK = b"bm|"
# oimws pushes a message in OnRecvNewMessages; a peer forwards the sender's request as is
ARRIVAL_PREFIXES = (b'{"event":"OnRecvNewMessages"', b'{"reqFuncName":"SendMessage"')
SEND_ANSWER = b'{"event":"SendMessage"'
LOGIN_ANSWER = b'{"event":"Login"'
OK_CODE = b'"errCode":0,'
TEXT_PAD = "x" * 60  # a chat-sized text: frames of ~200 bytes (request) / ~700 (push)
CLIENT_OPTIONS: dict[str, Any] = {"use_aiofastnet": False, "read_buffer_init_size": 4096,
                                  "websocket_handshake_timeout": 60}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(wanted, soft), max(wanted, hard)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def send_frame(user_id: str, mid: int, run_id: str, recv_id: str, group_id: str,
               online_only: bool = False) -> bytes:
    """A SendMessage request as the jssdk sends it, the message built locally (no
    CreateTextMessage round trip), stamped with the send time."""
    message = orjson.dumps({
        "clientMsgID": f"{run_id}-{mid}", "createTime": time.time_ns() // 1_000_000,
        "contentType": 101,
        "textElem": {"content": f"bm|{mid}|{time.monotonic_ns()}|{TEXT_PAD}"},
    }).decode()
    data = orjson.dumps([message, recv_id, group_id, "{}", online_only]).decode()
    return orjson.dumps({"reqFuncName": "SendMessage", "operationID": f"{run_id}-{mid}",
                         "userID": user_id, "data": data})


class Worker:
    def __init__(self, conn: Connection, worker_id: int) -> None:
        self.conn = conn
        self.worker_id = worker_id
        self.clients: list[JssdkClient] = []
        self.index: dict[str, int] = {}
        self.counter: ArrivalCounter | None = None
        self.histogram = Histogram()
        self.arrivals = 0
        self.arrivals_wanted = -1
        self.all_arrived = asyncio.Event()
        self.answers = 0
        self.send_errors = 0
        self.error_sample = ""
        self.other_frames = 0
        self.other_bytes = 0
        self.arrival_bytes = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped = asyncio.Event()

    # the pipe ---------------------------------------------------------------------------
    async def serve(self) -> None:
        # A thread reads the pipe with blocking calls: the event loop would make the pipe
        # non-blocking, and a command bigger than the pipe buffer would then break apart.
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._read_commands, args=(loop,), daemon=True).start()
        await self._stopped.wait()

    def _read_commands(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                command, args = self.conn.recv()
            except (EOFError, OSError):  # the harness is gone
                loop.call_soon_threadsafe(self._stopped.set)
                return
            loop.call_soon_threadsafe(self._start, command, args)
            if command == "stop":
                return

    def _start(self, command: str, args: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(command, args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, command: str, args: dict[str, Any]) -> None:
        try:
            result = await getattr(self, f"cmd_{command}")(**args)
            self.conn.send(("ok", result))
        except Exception:
            self.conn.send(("error", traceback.format_exc()))

    # frames -----------------------------------------------------------------------------
    def _hook_for(self, client_index: int) -> Any:
        def hook(payload: bytes) -> bool:
            if payload.startswith(ARRIVAL_PREFIXES):
                at = payload.find(MARK)
                if at < 0:
                    self.other_frames += 1
                    return True
                end_mid = payload.find(b"|", at + 3)
                end_time = payload.find(b"|", end_mid + 1)
                now = time.monotonic_ns()
                if self.counter is not None:
                    self.counter.arrived(client_index, int(payload[at + 3:end_mid]))
                self.histogram.add((now - int(payload[end_mid + 1:end_time])) // 1000)
                self.arrival_bytes += len(payload)
                self.arrivals += 1
                if self.arrivals == self.arrivals_wanted:
                    self.all_arrived.set()
                return True
            if payload.startswith(SEND_ANSWER):
                self.answers += 1
                if OK_CODE not in payload:
                    self.send_errors += 1
                    self.error_sample = self.error_sample or payload[:300].decode("utf-8",
                                                                                   "replace")
                return True
            if payload.startswith(LOGIN_ANSWER):
                return False  # JssdkClient.call waits for it
            self.other_frames += 1
            self.other_bytes += len(payload)
            return True

        return hook

    # commands ---------------------------------------------------------------------------
    async def cmd_connect(self, url: str, users: list[tuple[str, str]], concurrency: int,
                          login: bool = True, platform_id: int = 5) -> dict[str, Any]:
        raise_fd_limit(len(self.clients) + len(users) + 256)
        gate = asyncio.Semaphore(max(1, concurrency))
        latency = Histogram()
        failures: list[str] = []
        cpu0, started = cpu_seconds(), time.monotonic()

        async def one(user_id: str, token: str) -> None:
            async with gate:
                t0 = time.monotonic_ns()
                try:
                    client = await JssdkClient.connect(url, user_id, token, platform_id,
                                                       **CLIENT_OPTIONS)
                    self.index[user_id] = len(self.clients)
                    client.raw_frame_hook = self._hook_for(len(self.clients))
                    self.clients.append(client)
                    if login:
                        await client.login()
                        client.frames.clear()
                except Exception as exc:
                    failures.append(f"{user_id}: {type(exc).__name__}: {exc}")
                    return
                latency.add((time.monotonic_ns() - t0) // 1000)

        await asyncio.gather(*(one(u, t) for u, t in users))
        elapsed = time.monotonic() - started
        return {"connected": latency.count, "failed": len(failures),
                "failure_sample": failures[:3], "elapsed_s": elapsed,
                "finished_at": time.monotonic(), "latency": latency.to_wire(),
                "cpu_s": cpu_seconds() - cpu0}

    async def cmd_run(self, run_id: str, messages: int, sends: list[tuple[float, int, str,
                                                                           str, str]],
                      start_at: float, recipients: dict[str, Any], drain_s: float,
                      online_only: bool = False, grace_s: float = 0.3) -> dict[str, Any]:
        """Send ``sends`` = (offset s, mid, sender, recvID, groupID) from ``start_at``
        (CLOCK_MONOTONIC s) and wait for every expected arrival here.

        ``recipients``: {"kind": "group"} - every local client gets every message but its own;
        {"kind": "direct", "to": [recvID per mid]}.
        """
        counter = self.counter = ArrivalCounter(len(self.clients), messages)
        self.histogram = Histogram()
        self.arrivals = 0
        self.all_arrived.clear()
        self.answers = self.send_errors = self.other_frames = self.other_bytes = 0
        self.arrival_bytes = 0
        self.error_sample = ""
        own: dict[int, list[int]] = {}
        if recipients["kind"] == "group":
            for _, mid, sender, _, _ in sends:
                own.setdefault(self.index[sender], []).append(mid)
            # the senders of other workers are not local: only own sends are excluded
            wanted = len(self.clients) * messages - len(sends)
            recipient_of: list[int] = []
        else:
            recipient_of = [self.index.get(to, -1) for to in recipients["to"]]
            wanted = sum(1 for r in recipient_of if r >= 0)
        self.arrivals_wanted = wanted
        if wanted == 0:
            self.all_arrived.set()
        cpu0 = cpu_seconds()
        wall0 = time.monotonic()
        late = 0
        for offset, mid, sender, recv_id, group_id in sends:
            delay = start_at + offset - time.monotonic()
            if delay > 0.0005:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                late += 1  # the generator could not keep the schedule
            self.clients[self.index[sender]].send_raw(
                send_frame(sender, mid, run_id, recv_id, group_id, online_only))
        last_send = time.monotonic()
        deadline = max(last_send, start_at + (sends[-1][0] if sends else 0)) + drain_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_arrived.wait(), max(0.0, deadline - time.monotonic()))
        while self.answers < len(sends) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        done_at = time.monotonic()
        await asyncio.sleep(grace_s)  # a duplicate would come right behind
        cpu = cpu_seconds() - cpu0
        wall = time.monotonic() - wall0
        if recipients["kind"] == "group":
            verdict = counter.verdict_group(own, len(self.clients))
        else:
            verdict = counter.verdict_direct(recipient_of)
        verdict.send_errors = self.send_errors
        verdict.unanswered = max(0, len(sends) - self.answers)
        verdict.error_sample = self.error_sample
        self.counter = None
        return {"delivery": verdict.as_dict(), "latency": self.histogram.to_wire(),
                "sent": len(sends), "late_sends": late, "first_send_at": wall0,
                "last_send_at": last_send, "done_at": done_at, "cpu_s": cpu,
                "busy": cpu / wall if wall > 0 else 0.0, "other_frames": self.other_frames,
                "other_bytes": self.other_bytes, "arrival_bytes": self.arrival_bytes}

    async def cmd_disconnect(self) -> dict[str, Any]:
        started = time.monotonic()
        for client in self.clients:
            if client.transport is not None and not client.disconnected.is_set():
                client.transport.send_close(WSCloseCode.OK)
                client.transport.disconnect()
        await asyncio.wait_for(asyncio.gather(*(c.disconnected.wait() for c in self.clients)),
                               60)
        count = len(self.clients)
        self.clients, self.index = [], {}
        return {"disconnected": count, "elapsed_s": time.monotonic() - started}

    async def cmd_ping(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "clients": len(self.clients)}

    async def cmd_stop(self) -> dict[str, Any]:
        self._stopped.set()
        return {}


def worker_main(conn: Connection, worker_id: int) -> None:
    import uvloop

    uvloop.run(Worker(conn, worker_id).serve())


__all__ = ["Delivery", "Worker", "send_frame", "worker_main"]
