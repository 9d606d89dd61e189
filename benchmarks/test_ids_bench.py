"""Server message IDs and the consistent-hash ring: compiled against plain Python."""

from __future__ import annotations

import pytest

from benchmarks import plain_python
from oimws._speedups import ids

NODES = [f"node-{i}" for i in range(8)]
KEYS = [f"user{i:06d}" for i in range(1000)]
COMPILED_RING = ids.HashRing(NODES, 160)
PLAIN_RING = plain_python.HashRing(NODES, 160)


@pytest.mark.benchmark(group="server message ID")
def test_msg_id_compiled(benchmark):
    benchmark(ids.server_msg_id, "sg_1234567890", 123456, 1_700_000_000_000)


@pytest.mark.benchmark(group="server message ID")
def test_msg_id_plain_python(benchmark):
    benchmark(plain_python.server_msg_id, "sg_1234567890", 123456, 1_700_000_000_000)


def _lookup_all(ring: object) -> None:
    node_for = ring.node_for  # type: ignore[attr-defined]
    for key in KEYS:
        node_for(key)


@pytest.mark.benchmark(group="hash ring: 1,000 lookups, 8 nodes x 160")
def test_ring_compiled(benchmark):
    benchmark(_lookup_all, COMPILED_RING)


@pytest.mark.benchmark(group="hash ring: 1,000 lookups, 8 nodes x 160")
def test_ring_plain_python(benchmark):
    benchmark(_lookup_all, PLAIN_RING)


@pytest.mark.benchmark(group="hash ring: build 8 nodes x 160")
def test_ring_build_compiled(benchmark):
    benchmark(ids.HashRing, NODES, 160)


@pytest.mark.benchmark(group="hash ring: build 8 nodes x 160")
def test_ring_build_plain_python(benchmark):
    benchmark(plain_python.HashRing, NODES, 160)
