"""Messages and conversations: the store interface.

Messages are the wire's ``MessageItem`` dicts: the store keeps them as they will be sent, plus
the columns it indexes. A message is acknowledged only after the backend made it durable.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from typing import Any

Message = dict[str, Any]


@dataclasses.dataclass(slots=True)
class ConversationRecord:
    """One user's view of one conversation."""

    owner_id: str
    conversation_id: str
    conversation_type: int
    user_id: str  # the peer, for single chats
    group_id: str
    unread_count: int = 0
    has_read_seq: int = 0
    max_seq: int = 0
    latest_msg: Message | None = None
    latest_msg_send_time: int = 0
    recv_msg_opt: int = 0
    is_pinned: bool = False
    draft_text: str = ""
    draft_text_time: int = 0
    ex: str = ""
    attached_info: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class AppendResult:
    message: Message
    created: bool  # False: the clientMsgID was already stored; ``message`` is that copy
    new_conversation_owners: tuple[str, ...] = ()  # users for whom the conversation is new


@dataclasses.dataclass(frozen=True, slots=True)
class ReadResult:
    conversation: ConversationRecord
    read_client_msg_ids: tuple[str, ...]  # messages from others that this call marked read


class MessageStore(abc.ABC):
    @abc.abstractmethod
    async def append_message(
        self,
        conversation_id: str,
        message: Message,
        participants: Sequence[str],
        *,
        counts_as_unread: bool = True,
    ) -> AppendResult:
        """Assign the next seq and a server message ID, persist, update each participant's
        conversation (latest message; unread +1 for everyone but the sender, unless
        ``counts_as_unread`` is off, as for most notifications). Idempotent on
        ``clientMsgID``: a repeat returns the stored message and changes nothing."""

    @abc.abstractmethod
    async def get_history(
        self, conversation_id: str, before_seq: int, count: int
    ) -> list[Message]:
        """Up to ``count`` messages with seq < ``before_seq`` (0: from the newest), ascending."""

    @abc.abstractmethod
    async def get_message(self, conversation_id: str, client_msg_id: str) -> Message | None: ...

    @abc.abstractmethod
    async def get_conversations(self, owner_id: str) -> list[ConversationRecord]: ...

    @abc.abstractmethod
    async def get_conversation(
        self, owner_id: str, conversation_id: str
    ) -> ConversationRecord | None: ...

    @abc.abstractmethod
    async def get_conversation_members(self, conversation_id: str) -> list[ConversationRecord]:
        """Every user's view of one conversation (who takes part, how far each has read)."""

    @abc.abstractmethod
    async def mark_conversation_read(self, owner_id: str, conversation_id: str) -> ReadResult:
        """Mark everything in the conversation read for ``owner_id``."""
