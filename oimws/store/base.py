"""The storage interface every backend implements: one ABC per domain, combined here."""

from __future__ import annotations

import abc

from oimws.store.errors import DuplicateClientMsgIDError, DuplicateKeyError, StoreError
from oimws.store.friends import FriendStore
from oimws.store.groups import GroupStore
from oimws.store.messages import MessageStore
from oimws.store.users import UserStore

__all__ = ["DuplicateClientMsgIDError", "DuplicateKeyError", "Store", "StoreError"]


class Store(UserStore, FriendStore, GroupStore, MessageStore):
    """Every method is a coroutine; writes resolve only once they are durable."""

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush pending writes and release resources."""

    @abc.abstractmethod
    async def check_writable(self) -> None:
        """Raise ``StoreError`` unless a write can be made durable right now."""
