"""Messages and conversations: the store interface.

Messages are the wire's ``MessageItem`` dicts: the store keeps them as they will be sent, plus
the columns it indexes. A message is acknowledged only after the backend made it durable.
Unread counts are derived (messages from others after the user's read position that count as
unread), so a message to a big group writes one row, not one per member; each message keeps
the running count of unread-counting messages up to it, so deriving a count costs a few index
lookups, not a scan of the unread messages.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

Message = dict[str, Any]

RECV_OPT_NORMAL = 0  # 1: not received, 2: received without counting towards the total

GROUP_AT_NONE = 0
GROUP_AT_ME = 1
GROUP_AT_ALL = 2
GROUP_AT_ALL_AT_ME = 3


@dataclasses.dataclass(slots=True)
class ConversationRecord:
    """One user's view of one conversation."""

    owner_id: str
    conversation_id: str
    conversation_type: int
    user_id: str  # the peer, for single chats
    group_id: str
    unread_count: int = 0  # derived on read
    has_read_seq: int = 0
    max_seq: int = 0
    min_seq: int = 0  # messages up to here were cleared for this user
    latest_msg: Message | None = None  # the newest message this user can see
    latest_msg_send_time: int = 0
    recv_msg_opt: int = 0
    is_pinned: bool = False
    draft_text: str = ""
    draft_text_time: int = 0
    is_private_chat: bool = False
    burn_duration: int = 30
    group_at_type: int = GROUP_AT_NONE
    is_hidden: bool = False
    msg_destruct_time: int = 604800
    is_msg_destruct: bool = False
    ex: str = ""
    attached_info: str = ""


class ListedView(Protocol):
    """What decides whether a view's unread count is in its owner's total (a record, or
    the view cache's part of a total)."""

    is_hidden: bool
    recv_msg_opt: int


def counts_towards_total(view: ListedView) -> bool:
    """Whether a conversation's unread count is part of its owner's unread total: listed
    (not hidden), and with recvMsgOpt 0."""
    return not view.is_hidden and view.recv_msg_opt == RECV_OPT_NORMAL


# What a user may change on their view of a conversation (record attribute names).
CONVERSATION_SETTINGS = frozenset({
    "recv_msg_opt", "is_pinned", "draft_text", "draft_text_time", "is_private_chat",
    "burn_duration", "group_at_type", "is_hidden", "msg_destruct_time", "is_msg_destruct",
    "ex", "attached_info",
})


@dataclasses.dataclass(frozen=True, slots=True)
class AppendResult:
    message: Message
    created: bool  # False: the clientMsgID was already stored; ``message`` is that copy
    new_conversation_owners: tuple[str, ...] = ()  # users for whom the conversation is new


@dataclasses.dataclass(frozen=True, slots=True)
class ReadResult:
    conversation: ConversationRecord
    read_messages: tuple[Message, ...]  # messages from others that this call marked read

    @property
    def read_client_msg_ids(self) -> tuple[str, ...]:
        return tuple(m["clientMsgID"] for m in self.read_messages)


@dataclasses.dataclass(frozen=True, slots=True)
class MessageQuery:
    """A search over some conversations' messages (every given filter must match)."""

    conversation_ids: Sequence[str]
    viewer_id: str
    keywords: Sequence[str] = ()
    match_all_keywords: bool = False
    content_types: Sequence[int] = ()
    sender_ids: Sequence[str] = ()
    start_time: int = 0
    end_time: int = 0
    offset: int = 0
    limit: int = 100


class MessageStore(abc.ABC):
    # messages
    @abc.abstractmethod
    async def append_message(
        self,
        conversation_id: str,
        message: Message,
        participants: Sequence[str],
        *,
        counts_as_unread: bool = True,
        mentions: Mapping[str, int] | None = None,
    ) -> AppendResult:
        """Assign the next seq and a server message ID and persist. Each participant gets
        the conversation if they had none (hidden ones reappear); ``mentions`` sets users'
        groupAtType. Messages that count as unread raise the others' unread counts (most
        notifications do not). Idempotent on ``clientMsgID``: a repeat by the same sender in
        the same conversation returns the stored message and changes nothing; anyone else's
        use of the ID raises ``DuplicateClientMsgIDError``."""

    @abc.abstractmethod
    async def replace_message(self, conversation_id: str, seq: int, message: Message) -> None:
        """Overwrite a stored message in place (a revoke keeps seq and clientMsgID)."""

    @abc.abstractmethod
    async def get_history(
        self, conversation_id: str, before_seq: int, count: int, viewer_id: str | None = None
    ) -> list[Message]:
        """Up to ``count`` messages with seq < ``before_seq`` (0: from the newest), ascending;
        with ``viewer_id``, only those that user has not deleted or cleared."""

    @abc.abstractmethod
    async def get_history_after(
        self, conversation_id: str, after_seq: int, count: int, viewer_id: str | None = None
    ) -> list[Message]:
        """Up to ``count`` messages with seq > ``after_seq``, ascending."""

    @abc.abstractmethod
    async def get_message(self, conversation_id: str, client_msg_id: str) -> Message | None: ...

    @abc.abstractmethod
    async def get_messages(
        self, conversation_id: str, client_msg_ids: Sequence[str], viewer_id: str | None = None
    ) -> list[Message]:
        """The given messages that exist (and the viewer can see), in seq order."""

    @abc.abstractmethod
    async def search_messages(
        self, query: MessageQuery
    ) -> tuple[int, list[tuple[str, Message]]]:
        """(total matches, one page of (conversationID, message), newest first)."""

    @abc.abstractmethod
    async def set_local_ex(
        self, owner_id: str, conversation_id: str, seq: int, local_ex: str
    ) -> None:
        """A private note on a message, shown as ``localEx`` to this user only."""

    @abc.abstractmethod
    async def delete_messages_for(
        self, owner_id: str, conversation_id: str, seqs: Sequence[int]
    ) -> None:
        """Hide messages from one user's view only."""

    # conversations
    @abc.abstractmethod
    async def get_conversations(
        self, owner_id: str, include_hidden: bool = False
    ) -> list[ConversationRecord]:
        """Pinned first, then by latest message."""

    @abc.abstractmethod
    async def get_conversation(
        self, owner_id: str, conversation_id: str
    ) -> ConversationRecord | None: ...

    @abc.abstractmethod
    async def get_conversation_views(
        self, owner_ids: Sequence[str], conversation_ids: Sequence[str]
    ) -> list[ConversationRecord]:
        """These users' views of these conversations (those that exist, hidden ones too) in
        one read, by owner, then pinned first and by latest message: what the pushes after a
        group message need for every member at once."""

    @abc.abstractmethod
    async def get_unread_totals(
        self, owner_ids: Sequence[str], excluding: Sequence[str] = ()
    ) -> dict[str, int]:
        """Each user's unread total: the sum over their conversations that count towards it
        (``counts_towards_total``), leaving out the ``excluding`` conversation IDs (a caller
        that has those views already adds them itself). Every given user is in the
        answer (0 when nothing is unread)."""

    @abc.abstractmethod
    async def get_conversation_members(self, conversation_id: str) -> list[ConversationRecord]:
        """Every user's view of one conversation (who takes part, how far each has read)."""

    @abc.abstractmethod
    async def ensure_conversations(
        self, owner_ids: Sequence[str], conversation_id: str, conversation_type: int,
        group_id: str = "", peer_of: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Give these users the conversation if they lack it; returns who got it now."""

    @abc.abstractmethod
    async def update_conversation(
        self, owner_id: str, conversation_id: str, changes: Mapping[str, Any]
    ) -> ConversationRecord | None:
        """Change ``CONVERSATION_SETTINGS`` fields; None when the user has no such
        conversation."""

    @abc.abstractmethod
    async def hide_all_conversations(self, owner_id: str) -> list[str]:
        """Hide every conversation of the user; returns their IDs."""

    @abc.abstractmethod
    async def clear_conversation(
        self, owner_id: str, conversation_id: str, hide: bool = False
    ) -> ConversationRecord | None:
        """Remove every message so far from this user's view (and maybe the list)."""

    @abc.abstractmethod
    async def mark_conversation_read(self, owner_id: str, conversation_id: str) -> ReadResult:
        """Mark everything in the conversation read for ``owner_id``."""

    @abc.abstractmethod
    async def mark_messages_read(
        self, owner_id: str, conversation_id: str, client_msg_ids: Sequence[str]
    ) -> ReadResult:
        """Mark read up to the newest of these messages."""
