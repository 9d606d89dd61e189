"""History: paging through a conversation both ways, finding and searching messages."""

from __future__ import annotations

from typing import Any

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.handlers.conversation import (
    check_conversation_id,
    conversation_items,
    require_conversation,
    require_membership,
)
from oimws.handlers.read_state import with_read_flags
from oimws.protocol.args import JsonArray, JsonObject
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode
from oimws.session import Session
from oimws.store import ConversationRecord, Message
from oimws.store.messages import MessageQuery
from oimws.util.clock import now_ms

MAX_FIND = 1000


def _int(params: dict[str, Any], name: str, default: int, minimum: int = 0) -> int:
    value = params.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArgumentError(f"params.{name} must be an integer of at least {minimum}")
    return value


def _str_list(params: dict[str, Any], name: str) -> list[str]:
    value = params.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArgumentError(f"params.{name} must be an array of strings")
    return value


async def _page_params(ctx: AppContext, session: Session, params: dict[str, Any]
                       ) -> tuple[ConversationRecord | None, int, int]:
    """(the viewer's conversation, the seq to page from, page size)."""
    conversation_id = params.get("conversationID")
    if not isinstance(conversation_id, str) or not conversation_id:
        raise ArgumentError("params.conversationID must be a non-empty string")
    count = min(_int(params, "count", 0, minimum=1), ctx.config.history_page_max)
    start_client_msg_id = params.get("startClientMsgID") or ""
    if not isinstance(start_client_msg_id, str):
        raise ArgumentError("params.startClientMsgID must be a string")
    from_seq = _int(params, "lastMinSeq", 0)
    record = await require_membership(ctx, session, conversation_id)
    if start_client_msg_id and record is not None:
        start = await ctx.store.get_message(conversation_id, start_client_msg_id)
        if start is None:
            raise ApiError(ErrCode.RECORD_NOT_FOUND,
                           f"message {start_client_msg_id!r} is not in {conversation_id}")
        from_seq = start["seq"]
    return record, from_seq, count


def _page_result(messages: list[Message], is_end: bool, edge_seq: int) -> dict[str, Any]:
    return {"isEnd": is_end, "lastMinSeq": edge_seq, "errCode": 0, "errMsg": "",
            "messageList": messages}


@handler("GetAdvancedHistoryMessageList", JsonObject("params"))
async def get_advanced_history_message_list(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> dict[str, Any]:
    """Older messages: the ``count`` before ``startClientMsgID`` (or ``lastMinSeq``; from the
    newest when neither is given), ascending; ``isEnd`` when nothing older remains."""
    record, before_seq, count = await _page_params(ctx, session, params)
    if record is None:
        return _page_result([], True, 0)
    messages = await ctx.store.get_history(record.conversation_id, before_seq, count + 1,
                                           session.user_id)
    is_end = len(messages) <= count
    messages = messages[-count:]
    await with_read_flags(ctx, record, messages)
    return _page_result(messages, is_end, messages[0]["seq"] if messages else 0)


@handler("GetAdvancedHistoryMessageListReverse", JsonObject("params"))
async def get_advanced_history_message_list_reverse(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> dict[str, Any]:
    """Newer messages: the ``count`` after ``startClientMsgID`` (or ``lastMinSeq``; from the
    oldest when neither is given), ascending; ``isEnd`` when nothing newer remains."""
    record, after_seq, count = await _page_params(ctx, session, params)
    if record is None:
        return _page_result([], True, 0)
    messages = await ctx.store.get_history_after(record.conversation_id, after_seq, count + 1,
                                                 session.user_id)
    is_end = len(messages) <= count
    messages = messages[:count]
    await with_read_flags(ctx, record, messages)
    return _page_result(messages, is_end, messages[-1]["seq"] if messages else 0)


async def _result_items(ctx: AppContext, found: dict[str, list[Message]],
                        records: dict[str, ConversationRecord]) -> list[dict[str, Any]]:
    items = {i["conversationID"]: i for i in await conversation_items(
        ctx, [records[c] for c in found])}
    return [{"conversationID": conversation_id,
             "messageCount": len(messages),
             "conversationType": items[conversation_id]["conversationType"],
             "showName": items[conversation_id]["showName"],
             "faceURL": items[conversation_id]["faceURL"],
             "messageList": messages} for conversation_id, messages in found.items()]


@handler("FindMessageList", JsonArray("params"))
async def find_message_list(ctx: AppContext, session: Session, params: list[Any]
                            ) -> dict[str, Any]:
    """Messages by clientMsgID, per conversation (only the caller's conversations)."""
    found: dict[str, list[Message]] = {}
    records: dict[str, ConversationRecord] = {}
    total = 0
    for index, entry in enumerate(params):
        if not isinstance(entry, dict):
            raise ArgumentError(f"params[{index}] must be an object")
        conversation_id = entry.get("conversationID")
        if not isinstance(conversation_id, str):
            raise ArgumentError(f"params[{index}].conversationID must be a string")
        ids = _str_list(entry, "clientMsgIDList")
        total += len(ids)
        if total > MAX_FIND:
            raise ArgumentError(f"at most {MAX_FIND} messages at once")
        record = await require_conversation(ctx, session, conversation_id)
        messages = await ctx.store.get_messages(conversation_id, ids, session.user_id)
        if messages:
            records[conversation_id] = record
            found[conversation_id] = await with_read_flags(ctx, record, messages)
    return {"totalCount": sum(len(m) for m in found.values()),
            "findResultItems": await _result_items(ctx, found, records)}


@handler("SearchLocalMessages", JsonObject("params"))
async def search_local_messages(ctx: AppContext, session: Session, params: dict[str, Any]
                                ) -> dict[str, Any]:
    """Search the caller's conversations (one, or all when conversationID is empty) by
    keywords, content types, senders and a time window (seconds, as the SDK sends them)."""
    conversation_id = params.get("conversationID") or ""
    if not isinstance(conversation_id, str):
        raise ArgumentError("params.conversationID must be a string")
    keywords = [k for k in _str_list(params, "keywordList") if k]
    match_type = _int(params, "keywordListMatchType", 0)
    if match_type not in (0, 1):
        raise ArgumentError("params.keywordListMatchType must be 0 (any) or 1 (all)")
    content_types = params.get("messageTypeList") or []
    if not isinstance(content_types, list) or not all(
            isinstance(t, int) and not isinstance(t, bool) for t in content_types):
        raise ArgumentError("params.messageTypeList must be an array of integers")
    senders = _str_list(params, "senderUserIDList")
    if not keywords and not content_types and not senders:
        raise ArgumentError("give keywordList, messageTypeList or senderUserIDList")
    position = _int(params, "searchTimePosition", 0)
    period = _int(params, "searchTimePeriod", 0)
    page_index = _int(params, "pageIndex", 1, minimum=1)
    count = min(_int(params, "count", 20, minimum=1), ctx.config.history_page_max)

    if conversation_id:
        check_conversation_id(conversation_id)
        records = {conversation_id: await require_conversation(ctx, session, conversation_id)}
    else:
        records = {r.conversation_id: r for r in await ctx.store.get_conversations(
            session.user_id, include_hidden=True)}
    end_time = position * 1000 if position else now_ms()
    start_time = end_time - period * 1000 if period else 0
    total, messages = await ctx.store.search_messages(MessageQuery(
        conversation_ids=list(records), viewer_id=session.user_id, keywords=keywords,
        match_all_keywords=match_type == 1, content_types=content_types, sender_ids=senders,
        start_time=start_time, end_time=end_time, offset=(page_index - 1) * count,
        limit=count))
    found: dict[str, list[Message]] = {}
    for found_in, message in messages:
        found.setdefault(found_in, []).append(message)
    return {"totalCount": total, "searchResultItems": await _result_items(ctx, found, records)}

