"""Counting what arrived: latency histograms and the exactly-once check.

Both are built in the generator processes and merged in the harness; a histogram is a flat
list of bucket counts so it crosses a process boundary as one small pickle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

FINE_US = 50            # 50 us buckets up to FINE_LIMIT_US
FINE_LIMIT_US = 100_000
COARSE_US = 1000        # then 1 ms buckets up to COARSE_LIMIT_US (and one overflow bucket)
COARSE_LIMIT_US = 60_000_000
_FINE = FINE_LIMIT_US // FINE_US
_BUCKETS = _FINE + (COARSE_LIMIT_US - FINE_LIMIT_US) // COARSE_US + 1


class Histogram:
    """Latencies in microseconds: 50 us resolution below 100 ms, 1 ms above, exact max."""

    __slots__ = ("buckets", "count", "max_us", "total_us")

    def __init__(self) -> None:
        self.buckets = [0] * _BUCKETS
        self.count = 0
        self.total_us = 0
        self.max_us = 0

    def add(self, us: int) -> None:
        if us < 0:
            us = 0
        if us < FINE_LIMIT_US:
            self.buckets[us // FINE_US] += 1
        elif us < COARSE_LIMIT_US:
            self.buckets[_FINE + (us - FINE_LIMIT_US) // COARSE_US] += 1
        else:
            self.buckets[-1] += 1
        self.count += 1
        self.total_us += us
        if us > self.max_us:
            self.max_us = us

    def merge(self, other: Histogram) -> Histogram:
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self.count += other.count
        self.total_us += other.total_us
        self.max_us = max(self.max_us, other.max_us)
        return self

    @staticmethod
    def _upper_edge_us(index: int) -> int:
        if index < _FINE:
            return (index + 1) * FINE_US
        return FINE_LIMIT_US + (index - _FINE + 1) * COARSE_US

    def percentile_ms(self, fraction: float) -> float:
        """The upper edge of the bucket holding this fraction of samples (conservative)."""
        if not self.count:
            return 0.0
        wanted = max(1, round(fraction * self.count))
        seen = 0
        for index, n in enumerate(self.buckets):
            seen += n
            if seen >= wanted:
                return min(self._upper_edge_us(index), self.max_us) / 1000
        return self.max_us / 1000

    def summary(self) -> dict[str, float]:
        return {
            "count": self.count,
            "mean_ms": round(self.total_us / self.count / 1000, 3) if self.count else 0.0,
            "p50_ms": self.percentile_ms(0.50),
            "p95_ms": self.percentile_ms(0.95),
            "p99_ms": self.percentile_ms(0.99),
            "max_ms": self.max_us / 1000,
        }

    def to_wire(self) -> tuple[dict[int, int], int, int, int]:
        # sparse: most buckets are empty
        used = {i: n for i, n in enumerate(self.buckets) if n}
        return used, self.count, self.total_us, self.max_us

    @classmethod
    def from_wire(cls, wire: tuple[dict[int, int], int, int, int]) -> Histogram:
        used, count, total_us, max_us = wire
        histogram = cls()
        for index, n in used.items():
            histogram.buckets[index] = n
        histogram.count, histogram.total_us, histogram.max_us = count, total_us, max_us
        return histogram


@dataclasses.dataclass
class Delivery:
    """The exactly-once verdict over one scenario's messages."""

    expected: int = 0
    delivered: int = 0      # expected (recipient, message) pairs that arrived at least once
    lost: int = 0           # expected pairs that never arrived
    duplicated: int = 0     # pairs that arrived more than once
    unexpected: int = 0     # arrivals at a client that should not have had the message
    send_errors: int = 0    # SendMessage answered with errCode != 0
    unanswered: int = 0     # SendMessage with no answer at all (oimws only)
    error_sample: str = ""

    @property
    def ok(self) -> bool:
        return (self.expected > 0 and not (self.lost or self.duplicated or self.unexpected
                                           or self.send_errors or self.unanswered))

    def merge(self, other: Delivery) -> Delivery:
        for field in dataclasses.fields(self):
            if field.name != "error_sample":
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        self.error_sample = self.error_sample or other.error_sample
        return self

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "exactly_once": self.ok}


class ArrivalCounter:
    """Per (local client, message) arrival counts in one flat ``bytearray`` (saturating at
    255), checked against who should have had each message."""

    def __init__(self, clients: int, messages: int) -> None:
        if clients * messages > 400_000_000:
            raise ValueError("too many clients x messages for one generator process")
        self.messages = messages
        self.counts = bytearray(clients * messages)

    def arrived(self, client: int, mid: int) -> None:
        if 0 <= mid < self.messages:
            slot = client * self.messages + mid
            if self.counts[slot] < 255:
                self.counts[slot] += 1

    def verdict_group(self, sent_by: Mapping[int, Iterable[int]], clients: int) -> Delivery:
        """Every client should get every message except its own (``sent_by``: client ->
        mids)."""
        m = self.messages
        result = Delivery()
        for client in range(clients):
            row = self.counts[client * m:(client + 1) * m]
            own = list(sent_by.get(client, ()))
            own_arrived = sum(1 for mid in own if row[mid])
            zeros = row.count(0) - (len(own) - own_arrived)
            result.expected += m - len(own)
            result.lost += zeros
            result.delivered += m - len(own) - zeros
            result.duplicated += m - row.count(0) - row.count(1)
            result.unexpected += own_arrived
        return result

    def verdict_direct(self, recipient_of: list[int]) -> Delivery:
        """Message ``mid`` should reach exactly local client ``recipient_of[mid]`` (or no
        local client when it is -1)."""
        m = self.messages
        result = Delivery()
        arrived_expected = 0
        for mid, client in enumerate(recipient_of):
            if client < 0:
                continue
            n = self.counts[client * m + mid]
            result.expected += 1
            arrived_expected += n
            if n == 0:
                result.lost += 1
            else:
                result.delivered += 1
                if n > 1:
                    result.duplicated += 1
        result.unexpected = max(0, sum(self.counts) - arrived_expected)
        return result
