"""Conversations: lists, unread counts, read receipts and history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.protocol import events
from oimws.protocol.args import Int, JsonArray, JsonObject, Str
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode, no_permission
from oimws.session import Session
from oimws.store import ConversationRecord, Message
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP, SESSION_SINGLE, conversation_id_for

CONTENT_TYPE_HAS_READ_RECEIPT = 2200
MSG_FROM_USER = 100


def conversation_item(record: ConversationRecord, shown: dict[str, str] | None) -> dict[str, Any]:
    """The client's ``ConversationItem`` for one user's view of a conversation; ``shown`` is
    the peer's or the group's name and face."""
    latest = record.latest_msg
    return {
        "conversationID": record.conversation_id,
        "conversationType": record.conversation_type,
        "userID": record.user_id,
        "groupID": record.group_id,
        "showName": (shown or {}).get("nickname") or record.user_id or record.group_id,
        "faceURL": (shown or {}).get("faceURL", ""),
        "recvMsgOpt": record.recv_msg_opt,
        "unreadCount": record.unread_count,
        "groupAtType": 0,
        "latestMsg": orjson.dumps(latest).decode() if latest else "",
        "latestMsgSendTime": record.latest_msg_send_time,
        "draftText": record.draft_text,
        "draftTextTime": record.draft_text_time,
        "burnDuration": 0,
        "msgDestructTime": 0,
        "isPinned": record.is_pinned,
        "isNotInGroup": False,
        "isPrivateChat": False,
        "isMsgDestruct": False,
        "attachedInfo": record.attached_info,
        "ex": record.ex,
        "maxSeq": record.max_seq,
        "hasReadSeq": record.has_read_seq,
    }


async def conversation_items(
    ctx: AppContext, records: Iterable[ConversationRecord]
) -> list[dict[str, Any]]:
    records = list(records)
    users = await ctx.store.get_users([r.user_id for r in records if r.user_id])
    groups = await ctx.store.get_groups([r.group_id for r in records if r.group_id])
    items = []
    for record in records:
        user, group = users.get(record.user_id), groups.get(record.group_id)
        if user is not None:
            shown = {"nickname": user.nickname, "faceURL": user.face_url}
        elif group is not None:
            shown = {"nickname": group.group_name, "faceURL": group.face_url}
        else:
            shown = None
        items.append(conversation_item(record, shown))
    return items


async def total_unread(ctx: AppContext, owner_id: str) -> int:
    conversations = await ctx.store.get_conversations(owner_id)
    return sum(c.unread_count for c in conversations if c.recv_msg_opt == 0)


async def push_conversation_updates(
    ctx: AppContext, owners: Iterable[str], conversation_id: str, new_owners: Iterable[str] = ()
) -> None:
    """Tell each owner's devices how this conversation and their unread total now look."""
    new = set(new_owners)
    for owner in owners:
        if not ctx.delivery.is_online(owner):
            continue  # they read the current state when they next log in
        record = await ctx.store.get_conversation(owner, conversation_id)
        if record is None:
            continue
        items = await conversation_items(ctx, [record])
        event = events.ON_NEW_CONVERSATION if owner in new else events.ON_CONVERSATION_CHANGED
        ctx.delivery.push([owner], event, items)
        ctx.delivery.push([owner], events.ON_TOTAL_UNREAD_CHANGED, await total_unread(ctx, owner))


GROUP_PREFIX = "sg_"
CONVERSATION_ID_PREFIXES = ("si_", GROUP_PREFIX, "sn_")


async def require_membership(
    ctx: AppContext, session: Session, conversation_id: str
) -> ConversationRecord | None:
    """The user's view of the conversation; refuses conversations of other people.

    Returns None for a conversation that does not exist yet for anybody.
    """
    if not conversation_id.startswith(CONVERSATION_ID_PREFIXES):
        raise ArgumentError(f"{conversation_id!r} is not a conversation ID (si_, sg_ or sn_)")
    if conversation_id.startswith(GROUP_PREFIX):
        # Group history is for current members only: once kicked or gone, one reads no more.
        group_id = conversation_id[len(GROUP_PREFIX):]
        if not await ctx.store.get_members(group_id, [session.user_id]):
            raise ApiError(ErrCode.NOT_IN_GROUP_YET, f"not a member of group {group_id!r}")
    record = await ctx.store.get_conversation(session.user_id, conversation_id)
    if record is not None:
        return record
    if await ctx.store.get_conversation_members(conversation_id):
        raise no_permission(f"{session.user_id} is not part of conversation {conversation_id}")
    return None


def _empty_conversation(session: Session, session_type: int, source_id: str) -> ConversationRecord:
    return ConversationRecord(
        owner_id=session.user_id,
        conversation_id=conversation_id_for(session_type, session.user_id, source_id),
        conversation_type=session_type,
        user_id=source_id if session_type == SESSION_SINGLE else "",
        group_id="" if session_type == SESSION_SINGLE else source_id,
    )


@handler("GetAllConversationList")
async def get_all_conversation_list(ctx: AppContext, session: Session) -> list[dict[str, Any]]:
    return await conversation_items(ctx, await ctx.store.get_conversations(session.user_id))


@handler("GetConversationListSplit", Int("offset", minimum=0), Int("count", minimum=0))
async def get_conversation_list_split(
    ctx: AppContext, session: Session, offset: int, count: int
) -> list[dict[str, Any]]:
    records = await ctx.store.get_conversations(session.user_id)
    return await conversation_items(ctx, records[offset:offset + count])


@handler("GetOneConversation", Int("sessionType"), Str("sourceID", max_length=64))
async def get_one_conversation(
    ctx: AppContext, session: Session, session_type: int, source_id: str
) -> dict[str, Any]:
    """The conversation with a user or group; one without messages yet is answered empty."""
    if session_type not in (SESSION_SINGLE, SESSION_GROUP):
        raise ApiError(ErrCode.NOT_SUPPORT_OPT,
                       f"sessionType {session_type} conversations are not available")
    if not source_id:
        raise ArgumentError("argument 1 (sourceID) must not be empty")
    conversation_id = conversation_id_for(session_type, session.user_id, source_id)
    if session_type == SESSION_GROUP:
        record = await require_membership(ctx, session, conversation_id)
    else:
        record = await ctx.store.get_conversation(session.user_id, conversation_id)
        if record is None and source_id not in await ctx.store.get_users([source_id]):
            raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {source_id!r} is not registered")
    if record is None:
        record = _empty_conversation(session, session_type, source_id)
    return (await conversation_items(ctx, [record]))[0]


@handler("GetMultipleConversation", JsonArray("conversationIDList", item=Str("conversationID")))
async def get_multiple_conversation(
    ctx: AppContext, session: Session, conversation_ids: list[str]
) -> list[dict[str, Any]]:
    wanted = set(conversation_ids)
    records = [r for r in await ctx.store.get_conversations(session.user_id)
               if r.conversation_id in wanted]
    return await conversation_items(ctx, records)


@handler("GetConversationIDBySessionType", Str("sourceID", max_length=64), Int("sessionType"))
def get_conversation_id_by_session_type(
    ctx: AppContext, session: Session, source_id: str, session_type: int
) -> str:
    try:
        return conversation_id_for(session_type, session.user_id, source_id)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None


@handler("GetTotalUnreadMsgCount")
async def get_total_unread_msg_count(ctx: AppContext, session: Session) -> int:
    return await total_unread(ctx, session.user_id)


@handler("MarkConversationMessageAsRead", Str("conversationID"))
async def mark_conversation_message_as_read(
    ctx: AppContext, session: Session, conversation_id: str
) -> None:
    """Clear the unread count; the senders get a read receipt for what was read."""
    if await require_membership(ctx, session, conversation_id) is None:
        raise ApiError(ErrCode.RECORD_NOT_FOUND, f"conversation {conversation_id} does not exist")
    result = await ctx.store.mark_conversation_read(session.user_id, conversation_id)
    record = result.conversation
    if result.read_client_msg_ids and record.conversation_type == SESSION_SINGLE:
        receipt = [{
            "userID": session.user_id,
            "groupID": "",
            "msgIDList": list(result.read_client_msg_ids),
            "readTime": now_ms(),
            "msgFrom": MSG_FROM_USER,
            "contentType": CONTENT_TYPE_HAS_READ_RECEIPT,
            "sessionType": record.conversation_type,
        }]
        ctx.delivery.push([record.user_id], events.ON_RECV_C2C_READ_RECEIPT, receipt)
    await push_conversation_updates(ctx, [session.user_id], conversation_id)
    return None


def _with_read_flags(
    messages: list[Message], self_id: str, own_read_seq: int, peer_read_seq: int
) -> list[Message]:
    for message in messages:
        read_seq = peer_read_seq if message["sendID"] == self_id else own_read_seq
        message["isRead"] = message["seq"] <= read_seq
    return messages


@handler("GetAdvancedHistoryMessageList", JsonObject("params"))
async def get_advanced_history_message_list(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> dict[str, Any]:
    """Older messages, newest page first: before ``startClientMsgID`` (or ``lastMinSeq``)."""
    conversation_id = params.get("conversationID")
    if not isinstance(conversation_id, str) or not conversation_id:
        raise ArgumentError("params.conversationID must be a non-empty string")
    count = params.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise ArgumentError("params.count must be a positive integer")
    count = min(count, ctx.config.history_page_max)
    start_client_msg_id = params.get("startClientMsgID") or ""
    last_min_seq = params.get("lastMinSeq") or 0
    if not isinstance(start_client_msg_id, str):
        raise ArgumentError("params.startClientMsgID must be a string")
    if isinstance(last_min_seq, bool) or not isinstance(last_min_seq, int) or last_min_seq < 0:
        raise ArgumentError("params.lastMinSeq must be a non-negative integer")

    record = await require_membership(ctx, session, conversation_id)
    if record is None:
        return {"isEnd": True, "lastMinSeq": 0, "errCode": 0, "errMsg": "", "messageList": []}
    before_seq = last_min_seq
    if start_client_msg_id:
        start = await ctx.store.get_message(conversation_id, start_client_msg_id)
        if start is None:
            raise ApiError(ErrCode.RECORD_NOT_FOUND,
                           f"message {start_client_msg_id!r} is not in {conversation_id}")
        before_seq = start["seq"]
    messages = await ctx.store.get_history(conversation_id, before_seq, count)
    peer_read_seq = 0
    for member in await ctx.store.get_conversation_members(conversation_id):
        if member.owner_id != session.user_id:
            peer_read_seq = max(peer_read_seq, member.has_read_seq)
    _with_read_flags(messages, session.user_id, record.has_read_seq, peer_read_seq)
    min_seq = messages[0]["seq"] if messages else 0
    return {
        "isEnd": not messages or min_seq <= 1,
        "lastMinSeq": min_seq,
        "errCode": 0,
        "errMsg": "",
        "messageList": messages,
    }
