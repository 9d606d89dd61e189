"""The consistent-hash ring (``oimws._speedups.ids.HashRing``): placement spreads keys evenly,
does not depend on the order nodes are given in, and adding a node moves only its share."""

from __future__ import annotations

from collections import Counter

import pytest

from oimws._speedups.ids import HashRing

KEYS = [f"user{i:06d}" for i in range(20_000)]


def test_keys_are_spread_evenly_over_nodes():
    ring = HashRing([f"node-{i}" for i in range(5)], 160)
    counts = Counter(ring.node_for(key) for key in KEYS)
    assert set(counts) == set(ring.nodes)
    share = len(KEYS) / 5
    for count in counts.values():
        assert 0.75 * share < count < 1.25 * share


def test_placement_is_stable_and_independent_of_node_order():
    nodes = ["b", "a", "c", "d"]
    one, other = HashRing(nodes), HashRing(list(reversed(nodes)))
    assert [one.node_for(k) for k in KEYS[:2000]] == [other.node_for(k) for k in KEYS[:2000]]
    assert one.nodes == ("a", "b", "c", "d")


def test_adding_a_node_moves_about_its_share_and_only_to_it():
    before = HashRing([f"node-{i}" for i in range(4)], 160)
    after = HashRing([f"node-{i}" for i in range(5)], 160)
    moved = [k for k in KEYS if before.node_for(k) != after.node_for(k)]
    assert all(after.node_for(k) == "node-4" for k in moved)
    assert 0.12 < len(moved) / len(KEYS) < 0.28  # ideally 1/5


def test_removing_a_node_moves_only_its_keys():
    before = HashRing(["a", "b", "c"])
    after = HashRing(["a", "c"])
    for key in KEYS[:5000]:
        if before.node_for(key) != "b":
            assert after.node_for(key) == before.node_for(key)


def test_nodes_for_groups_a_batch_like_node_for():
    ring = HashRing(["x", "y", "z"], 64)
    placed = ring.nodes_for(KEYS[:500])
    assert sorted(k for keys in placed.values() for k in keys) == sorted(KEYS[:500])
    for node, keys in placed.items():
        assert all(ring.node_for(k) == node for k in keys)


def test_a_single_node_owns_everything():
    ring = HashRing(["only"], 1)
    assert {ring.node_for(k) for k in KEYS[:100]} == {"only"}
    assert len(ring) == 1


def test_bad_rings_are_refused():
    with pytest.raises(ValueError):
        HashRing([])
    with pytest.raises(ValueError):
        HashRing(["a"], 0)
    with pytest.raises(TypeError):
        HashRing(["a", 1])  # type: ignore[list-item]
