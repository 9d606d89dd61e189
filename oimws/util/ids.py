"""Conversation identifiers in OpenIM's format."""

from __future__ import annotations

SESSION_SINGLE = 1
SESSION_GROUP = 3
SESSION_NOTIFICATION = 4


def single_conversation_id(user_a: str, user_b: str) -> str:
    first, second = sorted((user_a, user_b))
    return f"si_{first}_{second}"


def group_conversation_id(group_id: str) -> str:
    return f"sg_{group_id}"


def conversation_id_for(session_type: int, self_id: str, source_id: str) -> str:
    if session_type == SESSION_SINGLE:
        return single_conversation_id(self_id, source_id)
    if session_type == SESSION_GROUP:
        return group_conversation_id(source_id)
    if session_type == SESSION_NOTIFICATION:
        return f"sn_{source_id}_{self_id}"
    raise ValueError(f"unknown sessionType {session_type}")
