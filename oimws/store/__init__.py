"""Persistence behind one interface (``Store``); backends know nothing of connections."""

from oimws.store.base import DuplicateClientMsgIDError, DuplicateKeyError, Store, StoreError
from oimws.store.messages import AppendResult, ConversationRecord, Message, ReadResult
from oimws.store.users import UserRecord

__all__ = [
    "AppendResult",
    "ConversationRecord",
    "DuplicateClientMsgIDError",
    "DuplicateKeyError",
    "Message",
    "ReadResult",
    "Store",
    "StoreError",
    "UserRecord",
]
