"""Coalescing per-user work to once per event-loop tick.

A message to a big group changes every member's conversation; telling each member once per
tick, however many messages arrived in it, keeps a group message's cost dominated by the one
shared frame. Keys are opaque here (conversation IDs, in practice): delivery knows no IM rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

# user -> key -> flag (True wins: e.g. "this conversation is new to the user")
Pending = dict[str, dict[str, bool]]
FlushFunc = Callable[[Pending], Coroutine[Any, Any, None]]


class PerTickCoalescer:
    def __init__(self) -> None:
        self._pending: Pending = {}
        self._flush: FlushFunc | None = None
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    def bind(self, flush: FlushFunc) -> None:
        self._flush = flush

    def add(self, user_id: str, key: str, flag: bool = False) -> None:
        keys = self._pending.setdefault(user_id, {})
        keys[key] = keys.get(key, False) or flag
        if not self._scheduled:
            self._scheduled = True
            # The task's first step runs next tick, after everything this tick adds, and
            # before callbacks scheduled after this add: the per-tick frame batcher among
            # them, when the caller adds before it sends (a message and the conversation
            # changes it causes then leave in one socket write).
            task = asyncio.get_running_loop().create_task(self._flush_pending())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush_pending(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, {}
        if pending and self._flush is not None:
            await self._flush(pending)

    async def drain(self) -> None:
        """Wait until everything added so far was flushed."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
