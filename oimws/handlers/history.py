"""History: paging through a conversation both ways, finding and searching messages."""

from __future__ import annotations

import functools
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
from oimws.protocol import fields
from oimws.protocol.args import JsonArray, JsonObject
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode
from oimws.session import Session
from oimws.store import ConversationRecord, Message
from oimws.store.messages import MessageQuery
from oimws.util.clock import now_ms

MAX_FIND = 1000

# the integer fields of these functions' params: null means the default
_int = functools.partial(fields.integer, minimum=0, nullable=True, where="params.")


async def _page_params(ctx: AppContext, session: Session, params: dict[str, Any]
                       ) -> tuple[ConversationRecord | None, int, int]:
    """(the viewer's conversation, the seq to page from, page size)."""
    conversation_id = fields.non_empty_text(params, "conversationID", where="params.")
    count = min(_int(params, "count", minimum=1), ctx.config.history_page_max)
    start_client_msg_id = fields.text(params, "startClientMsgID", where="params.")
    from_seq = _int(params, "lastMinSeq", default=0)
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


async def _page(ctx: AppContext, session: Session, params: dict[str, Any], *, older: bool
                ) -> dict[str, Any]:
    """One page of history next to the starting point, ascending; ``lastMinSeq`` is the seq
    of the page's edge message furthest from it."""
    record, from_seq, count = await _page_params(ctx, session, params)
    if record is None:
        return _page_result([], True, 0)
    read = ctx.store.get_history if older else ctx.store.get_history_after
    messages = await read(record.conversation_id, from_seq, count + 1, session.user_id)
    is_end = len(messages) <= count
    messages = messages[-count:] if older else messages[:count]
    await with_read_flags(ctx, record, messages)
    edge = (messages[0] if older else messages[-1])["seq"] if messages else 0
    return _page_result(messages, is_end, edge)


@handler("GetAdvancedHistoryMessageList", JsonObject("params"))
async def get_advanced_history_message_list(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> dict[str, Any]:
    """Older messages: the ``count`` before ``startClientMsgID`` (or ``lastMinSeq``; from the
    newest when neither is given), ascending; ``isEnd`` when nothing older remains."""
    return await _page(ctx, session, params, older=True)


@handler("GetAdvancedHistoryMessageListReverse", JsonObject("params"))
async def get_advanced_history_message_list_reverse(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> dict[str, Any]:
    """Newer messages: the ``count`` after ``startClientMsgID`` (or ``lastMinSeq``; from the
    oldest when neither is given), ascending; ``isEnd`` when nothing newer remains."""
    return await _page(ctx, session, params, older=False)


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
        where = f"params[{index}]."
        conversation_id = fields.string(entry.get("conversationID"), f"{where}conversationID")
        ids = fields.strings(entry, "clientMsgIDList", where=where)
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
    conversation_id = fields.text(params, "conversationID", where="params.")
    keywords = [k for k in fields.strings(params, "keywordList", where="params.") if k]
    match_type = _int(params, "keywordListMatchType", default=0)
    if match_type not in (0, 1):
        raise ArgumentError("params.keywordListMatchType must be 0 (any) or 1 (all)")
    content_types = fields.integers(params, "messageTypeList", where="params.")
    senders = fields.strings(params, "senderUserIDList", where="params.")
    if not keywords and not content_types and not senders:
        raise ArgumentError("give keywordList, messageTypeList or senderUserIDList")
    position = _int(params, "searchTimePosition", default=0)
    period = _int(params, "searchTimePeriod", default=0)
    page_index = _int(params, "pageIndex", default=1, minimum=1)
    count = min(_int(params, "count", default=20, minimum=1), ctx.config.history_page_max)

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

