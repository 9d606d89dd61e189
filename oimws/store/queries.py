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
