"""One client connection as the rest of oimws sees it: who, on which platform, logged in or not.

The transport creates it and gives it a way to send and close; handlers and delivery use only
that, never the socket itself.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any, Protocol

_connection_ids = itertools.count(1)


class Connection(Protocol):
    """What the transport lends a session."""

    def send_frame(self, frame: bytes) -> None: ...

    def close(self, code: int, reason: str) -> None: ...

    @property
    def raw_transport(self) -> Any:
        """The picows ``WSTransport`` the compiled fan-out writes to directly, or None for a
        connection of another kind (then ``send_frame`` is used)."""


class RequestBudget:
    """A token bucket: ``rate`` requests a second on average, ``burst`` at once."""

    __slots__ = ("_burst", "_clock", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._stamp = clock()

    def take(self) -> bool:
        """Spend one request; False when the connection is over its budget."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


UNLIMITED = RequestBudget(float("inf"), 1)


class Session:
    __slots__ = ("budget", "conn_id", "connection", "logged_in", "platform_id", "user_id")

    def __init__(self, user_id: str, platform_id: int, connection: Connection,
                 budget: RequestBudget = UNLIMITED) -> None:
        self.conn_id = next(_connection_ids)
        self.user_id = user_id
        self.platform_id = platform_id
        self.connection = connection
        self.logged_in = False
        self.budget = budget  # requests this connection may send (see Config.request_rate)

    def send(self, frame: bytes) -> None:
        self.connection.send_frame(frame)

    def close(self, code: int, reason: str) -> None:
        self.connection.close(code, reason)

    def __repr__(self) -> str:
        state = "logged in" if self.logged_in else "connected"
        return f"<Session #{self.conn_id} {self.user_id}@{self.platform_id} {state}>"
