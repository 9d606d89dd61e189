"""Persistence behind one interface (``Store``); backends know nothing of connections."""

from oimws.store.base import (
    AppendResult,
    ConversationRecord,
    DuplicateClientMsgIDError,
    ReadResult,
    Store,
    StoreError,
    UserRecord,
)

__all__ = [
    "AppendResult",
    "ConversationRecord",
    "DuplicateClientMsgIDError",
    "ReadResult",
    "Store",
    "StoreError",
    "UserRecord",
]
