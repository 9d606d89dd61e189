"""Query text both backends share: whole-record SELECTs and their orders, written once so
SQLite and PostgreSQL return the same records in the same order."""

from __future__ import annotations

from oimws.store.rows import (
    APPLICATION_FIELDS,
    BLACK_FIELDS,
    FRIEND_FIELDS,
    FRIEND_REQUEST_FIELDS,
    GROUP_FIELDS,
    MEMBER_FIELDS,
)

FRIEND_SELECT = f"SELECT {', '.join(FRIEND_FIELDS)} FROM friends"
FRIEND_ORDER = " ORDER BY is_pinned DESC, create_time, friend_user_id"
REQUEST_SELECT = f"SELECT {', '.join(FRIEND_REQUEST_FIELDS)} FROM friend_requests"
REQUEST_ORDER = " ORDER BY create_time DESC"
BLACK_SELECT = f"SELECT {', '.join(BLACK_FIELDS)} FROM blacks"
BLACK_ORDER = " ORDER BY create_time, block_user_id"

# A group with its member count (the record's last field).
GROUP_SELECT = (
    f"SELECT {', '.join('g.' + name for name in GROUP_FIELDS)},"
    " (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.group_id) FROM groups g"
)
MEMBER_SELECT = f"SELECT {', '.join(MEMBER_FIELDS)} FROM group_members"
MEMBER_ORDER = " ORDER BY role_level DESC, join_time, user_id"
APPLICATION_SELECT = f"SELECT {', '.join(APPLICATION_FIELDS)} FROM group_applications"

# Users' views of conversations (``uc``) with each conversation's shared state (``cs``); a
# user's list is ordered pinned first, then by latest message; reads of many users' views
# are ordered by user first.
CONVERSATION_FROM = """
    FROM user_conversations uc
    LEFT JOIN conversation_state cs ON cs.conversation_id = uc.conversation_id
"""
_BY_LIST_POSITION = ("uc.is_pinned DESC, COALESCE(cs.latest_msg_send_time, 0) DESC,"
                     " uc.conversation_id")
CONVERSATION_ORDER = f" ORDER BY {_BY_LIST_POSITION}"
CONVERSATIONS_BY_OWNER_ORDER = f" ORDER BY uc.owner_id, {_BY_LIST_POSITION}"


def unread_count_sql(read_mark: str, own_messages: str = "messages o") -> str:
    """How many messages of conversation ``uc``/``cs`` its owner has not read: messages from
    others after ``read_mark`` (an SQL expression: the later of the read and cleared marks)
    that count as unread and that the owner did not delete.

    Every message carries ``unread_ordinal``, the number of messages counting as unread in
    its conversation up to and including it (``conversation_state`` holds the newest), so
    the count is a difference of two stored counters, less the owner's own messages and
    deletions after the mark (usually none): a few index lookups however long the unread
    backlog, where counting the backlog made a big group's message cost O(members x unread).
    ``own_messages`` names the table for the owner's own messages, aliased ``o``: SQLite's
    planner, without statistics, would walk the backlog by primary key unless told to use
    ``messages_by_sender``.
    """
    return f"""CASE WHEN {read_mark} >= COALESCE(cs.max_seq, 0) THEN 0 ELSE
        COALESCE(cs.unread_ordinal, 0)
        - COALESCE((SELECT r.unread_ordinal FROM messages r
                    WHERE r.conversation_id = uc.conversation_id AND r.seq = {read_mark}), 0)
        - (SELECT COUNT(*) FROM {own_messages} WHERE o.conversation_id = uc.conversation_id
           AND o.send_id = uc.owner_id AND o.seq > {read_mark} AND o.counts_unread)
        - (SELECT COUNT(*) FROM deleted_messages d JOIN messages dm
           ON dm.conversation_id = d.conversation_id AND dm.seq = d.seq
           WHERE d.owner_id = uc.owner_id AND d.conversation_id = uc.conversation_id
           AND d.seq > {read_mark} AND dm.send_id <> uc.owner_id AND dm.counts_unread)
    END"""
