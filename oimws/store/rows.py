"""Records as table rows, and the rules every backend applies to them the same way.

Both backends name their columns after the record fields and select them in field order, so
one mapping turns a row (a tuple or a driver's record) into a record for either of them.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import orjson

from oimws._speedups.ids import server_msg_id
from oimws.store.errors import StoreError
from oimws.store.friends import BlackRecord, FriendRecord, FriendRequestRecord
from oimws.store.groups import GroupApplicationRecord, GroupRecord, MemberRecord
from oimws.store.messages import ConversationRecord, Message
from oimws.store.users import UserRecord
from oimws.util.text import searchable_text


def field_names(record_class: type) -> list[str]:
    return [f.name for f in dataclasses.fields(record_class)]


USER_FIELDS = field_names(UserRecord)
USER_UPDATABLE = ("nickname", "face_url", "ex", "global_recv_msg_opt")
FRIEND_FIELDS = field_names(FriendRecord)
FRIEND_REQUEST_FIELDS = field_names(FriendRequestRecord)
BLACK_FIELDS = field_names(BlackRecord)
# member_count is derived on read (the last column of a group select), not stored
GROUP_FIELDS = [name for name in field_names(GroupRecord) if name != "member_count"]
GROUP_UPDATABLE = GROUP_FIELDS[1:]
MEMBER_FIELDS = field_names(MemberRecord)
MEMBER_UPDATABLE = MEMBER_FIELDS[2:]
APPLICATION_FIELDS = field_names(GroupApplicationRecord)


def checked_changes(record_class: type, changes: Mapping[str, Any],
                    allowed: Collection[str], what: str) -> dict[str, Any]:
    """The changes to a record, with flags as the record holds them (callers may give 0/1).

    Names outside ``allowed`` are refused: they become column names in SQL, so this is also
    what keeps anything but known columns out of a query."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise StoreError(f"{what} fields {sorted(unknown)} cannot be changed")
    flags = _flag_fields(record_class)
    return {name: bool(value) if name in flags else value for name, value in changes.items()}


@functools.cache
def _flag_fields(record_class: type) -> frozenset[str]:
    return frozenset(name for name, hint in typing.get_type_hints(record_class).items()
                     if hint is bool)


def friend_record(row: Sequence[Any]) -> FriendRecord:
    record = FriendRecord(*row)
    record.is_pinned = bool(record.is_pinned)
    return record


# The columns of a conversation row, in this order (``conversation_record`` reads them):
# owner_id, conversation_id, conversation_type, user_id, group_id, has_read_seq, max_seq,
# min_seq, latest_msg (JSON bytes or NULL), latest_msg_send_time, recv_msg_opt, is_pinned,
# draft_text, draft_text_time, is_private_chat, burn_duration, group_at_type, is_hidden,
# msg_destruct_time, is_msg_destruct, ex, attached_info. A backend may append more columns.
CONVERSATION_COLUMN_COUNT = 22


def conversation_record(row: Sequence[Any], latest: Message | None = None
                        ) -> ConversationRecord:
    """The stored part of a user's conversation; the backend fills in ``unread_count``.
    ``latest``: the latest message, when the caller parsed it already (it may be shared
    between records, so nothing changes it in place: see ``with_note``)."""
    if latest is None and row[8]:
        latest = orjson.loads(row[8])
    return ConversationRecord(
        owner_id=row[0], conversation_id=row[1], conversation_type=row[2], user_id=row[3],
        group_id=row[4], has_read_seq=row[5], max_seq=row[6], min_seq=row[7],
        latest_msg=latest, latest_msg_send_time=row[9],
        recv_msg_opt=row[10], is_pinned=bool(row[11]), draft_text=row[12],
        draft_text_time=row[13], is_private_chat=bool(row[14]), burn_duration=row[15],
        group_at_type=row[16], is_hidden=bool(row[17]), msg_destruct_time=row[18],
        is_msg_destruct=bool(row[19]), ex=row[20], attached_info=row[21],
    )


MESSAGE_STATUS_SUCCEEDED = 2


def stamped_message(message: Message, conversation_id: str, seq: int, send_time: int
                    ) -> Message:
    """The message as stored and sent: with its seq, server ID, send time and status."""
    stored = dict(message)
    stored["seq"] = seq
    stored["serverMsgID"] = server_msg_id(conversation_id, seq, send_time)
    stored["sendTime"] = send_time
    stored["status"] = MESSAGE_STATUS_SUCCEEDED
    return stored


def with_note(message: Message, local_ex: str | None) -> Message:
    """The message as a viewer sees it: with their private note (``localEx``) when they
    wrote one, on a copy (the message may be shared with other viewers)."""
    if local_ex is not None:
        return {**message, "localEx": local_ex}
    return message


def single_chat_peers(owners: Sequence[str]) -> dict[str, str]:
    """Each participant's peer in a one-to-one chat (oneself, in a chat with oneself)."""
    return {owner: next((p for p in owners if p != owner), owner) for owner in owners}


def search_column(message: Message) -> str:
    """What keyword searches look at, as stored. Without NUL: SQLite's LIKE stops at one
    (hiding the words after it) and PostgreSQL's text cannot hold one; the body keeps it."""
    return searchable_text(message).replace("\x00", "")


def like_pattern(keyword: str) -> str:
    """A LIKE pattern matching ``keyword`` anywhere, its wildcards taken literally (the
    query says ``ESCAPE '\\'``)."""
    escaped = keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
