"""Fan-out of one frame to 1,000 and 10,000 real picows transports over loopback.

The compiled loop (``oimws._speedups.fanout.send_to_all``, ``WSTransport.send`` as a C call)
against the same loop in Python calling ``transport.send``. Every round writes one 200-byte
text frame to every transport; between rounds the clients read everything (``drained``), so
each write is a real socket write into an empty buffer, as in a live gateway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import uvloop

from benchmarks import plain_python
from benchmarks.fanout_rig import FanoutRig, drained, run_rig
from oimws._speedups.fanout import FrameBatcher, send_to_all

FRAME = b'{"event":"OnRecvNewMessages","errCode":0,"errMsg":"","data":"' + b"x" * 140 + b'"}'
LIMIT = 4 * 1024 * 1024
ROUNDS = {1000: 60, 10000: 12}


_LOOP: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = uvloop.new_event_loop()
    _LOOP[:] = [loop]  # the batcher schedules its (here redundant) tick flush on it
    yield loop
    loop.close()


@pytest.fixture(scope="module", params=[1000, 10000], ids=lambda n: f"{n}")
def rig(request, loop) -> Iterator[FanoutRig]:
    rig = run_rig(loop, request.param)
    yield rig
    loop.run_until_complete(rig.close())


def _bench(benchmark, loop, rig, fan_out) -> None:
    def once() -> None:
        fan_out(rig.transports, FRAME, LIMIT)
        rig.sent()

    benchmark.group = f"fan-out to {rig.size} transports"
    benchmark.extra_info["transports"] = rig.size
    benchmark.pedantic(once, setup=drained(loop, rig), rounds=ROUNDS[rig.size],
                       warmup_rounds=2)
    loop.run_until_complete(rig.drain())


def test_fanout_compiled(benchmark, loop, rig):
    _bench(benchmark, loop, rig, send_to_all)


def test_fanout_plain_python(benchmark, loop, rig):
    _bench(benchmark, loop, rig, plain_python.send_to_all)


def _three_frames_batched(transports: list, frame: bytes, limit: int) -> None:
    batcher = FrameBatcher(_LOOP[0])
    for _ in range(3):
        batcher.queue_all(transports, frame, limit, None)
    batcher.flush()  # what the loop does at the start of the next tick: one write each


def _three_frames_unbatched(transports: list, frame: bytes, limit: int) -> None:
    for _ in range(3):
        send_to_all(transports, frame, limit)


def _bench_three(benchmark, loop, rig, fan_out) -> None:
    """A message and the two conversation pushes it causes: three frames for every member
    in one loop tick."""

    def once() -> None:
        fan_out(rig.transports, FRAME, LIMIT)
        rig.sent(3)

    benchmark.group = f"3 frames in one tick to {rig.size} transports"
    benchmark.extra_info["transports"] = rig.size
    benchmark.pedantic(once, setup=drained(loop, rig), rounds=ROUNDS[rig.size],
                       warmup_rounds=2)
    loop.run_until_complete(rig.drain())


def test_three_frames_compiled_batched(benchmark, loop, rig):
    _bench_three(benchmark, loop, rig, _three_frames_batched)


def test_three_frames_unbatched(benchmark, loop, rig):
    _bench_three(benchmark, loop, rig, _three_frames_unbatched)
