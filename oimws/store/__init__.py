"""Persistence behind one interface (``Store``); backends know nothing of connections."""

from oimws.store.base import DuplicateClientMsgIDError, Store, StoreError
from oimws.store.messages import AppendResult, ConversationRecord, Message, ReadResult
from oimws.store.users import UserRecord

__all__ = [
    "AppendResult",
    "ConversationRecord",
    "DuplicateClientMsgIDError",
    "Message",
    "ReadResult",
    "Store",
    "StoreError",
    "UserRecord",
]
