"""Real picows transports for the fan-out benchmarks: one server, N clients, one loopback.

``FanoutRig(n).open(loop)`` listens on a free loopback port with the gateway's own transport
settings, connects ``n`` picows clients to it (from a child process) and keeps the server
side's ``WSTransport`` of each. A benchmark writes frames through those transports (real
``send`` calls ending in real socket writes); ``drain()`` runs the loop until every client
has read everything sent, so each round starts with empty socket buffers and measures
writes, not buffer appends.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from typing import Any

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect, ws_create_server

from oimws.transport.server import READ_BUFFER_INIT_SIZE

CONNECT_BATCH = 500


def raise_fd_limit(wanted: int) -> int:
    """Raise RLIMIT_NOFILE to at least ``wanted`` if allowed; returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(wanted, soft), max(wanted, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class _ServerSide(WSListener):
    def __init__(self, rig: FanoutRig) -> None:
        super().__init__()
        self._rig = rig

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._rig.transports.append(transport)


class _ClientSide(WSListener):
    __slots__ = ("counter",)

    def __init__(self, counter: list[int]) -> None:
        super().__init__()
        self.counter = counter

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            self.counter[0] += 1


def _clients_main(url: str, size: int, received: Any, stop: Any) -> None:
    """The client process: ``size`` picows clients reading everything they are sent and
    publishing the running total in ``received`` (a shared integer)."""
    import uvloop

    async def run() -> None:
        raise_fd_limit(size + 256)
        counter = [0]
        transports = []
        for start in range(0, size, CONNECT_BATCH):
            batch = await asyncio.gather(*(
                ws_connect(lambda: _ClientSide(counter), url, use_aiofastnet=False)
                for _ in range(min(CONNECT_BATCH, size - start))))
            transports += [transport for transport, _ in batch]
        while not stop.is_set():
            received.value = counter[0]
            await asyncio.sleep(0.0002)
        for transport in transports:
            transport.disconnect()

    uvloop.run(run())


class FanoutRig:
    """The server side (fan-out targets) here, the clients in a child process: a process may
    hold fewer descriptors than both ends of 10,000 connections need."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.transports: list[WSTransport] = []  # server side, the fan-out targets
        self.expected = 0
        self._server: asyncio.Server | None = None
        self._process: Any = None
        self._received: Any = None
        self._stop: Any = None

    @property
    def received(self) -> int:
        return int(self._received.value) if self._received is not None else 0

    async def open(self) -> FanoutRig:
        raise_fd_limit(self.size + 256)
        self._server = await ws_create_server(
            lambda _request: _ServerSide(self), "127.0.0.1", 0,
            read_buffer_init_size=READ_BUFFER_INIT_SIZE, use_aiofastnet=False, backlog=4096)
        port = self._server.sockets[0].getsockname()[1]
        context = multiprocessing.get_context("spawn")
        self._received = context.Value("q", 0, lock=False)
        self._stop = context.Event()
        self._process = context.Process(
            target=_clients_main, args=(f"ws://127.0.0.1:{port}/", self.size,
                                        self._received, self._stop), daemon=True)
        self._process.start()
        deadline = time.monotonic() + 60
        while len(self.transports) < self.size and time.monotonic() < deadline:
            if not self._process.is_alive():
                break
            await asyncio.sleep(0.01)
        if len(self.transports) != self.size:
            await self.close()
            raise RuntimeError(f"only {len(self.transports)} of {self.size} connections came up")
        return self

    def sent(self, frames_per_transport: int = 1) -> None:
        self.expected += frames_per_transport * len(self.transports)

    async def drain(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.received < self.expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"clients read {self.received} of {self.expected} frames")
            await asyncio.sleep(0.0005)

    async def close(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._process is not None:
            await asyncio.to_thread(self._process.join, 10)
            if self._process.is_alive():
                self._process.kill()
        for transport in self.transports:
            transport.disconnect()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def run_rig(loop: asyncio.AbstractEventLoop, size: int) -> FanoutRig:
    return loop.run_until_complete(FanoutRig(size).open())


def drained(loop: asyncio.AbstractEventLoop, rig: FanoutRig) -> Any:
    """A pytest-benchmark ``setup``: empty every socket before the next round."""

    def setup() -> None:
        loop.run_until_complete(rig.drain())

    return setup
