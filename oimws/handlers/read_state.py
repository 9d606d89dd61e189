"""Read state: marking read, read receipts, and the isRead / group read counts on messages."""

from __future__ import annotations

from collections import defaultdict

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.handlers.conversation import (
    AT_ALL_TAG,
    push_conversation_updates,
    require_conversation,
)
from oimws.protocol import events
from oimws.protocol.args import JsonArray, Str
from oimws.protocol.errors import ArgumentError
from oimws.session import Session
from oimws.store import ConversationRecord, Message, ReadResult
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP, SESSION_SINGLE

CONTENT_TYPE_HAS_READ_RECEIPT = 2200
MSG_FROM_USER = 100


async def with_read_flags(
    ctx: AppContext, viewer: ConversationRecord, messages: list[Message]
) -> list[Message]:
    """Show messages as this viewer sees them: ``isRead`` (and, on their own group messages,
    how many members have read them) from every member's read position, and ``isAtSelf``."""
    if not messages:
        return messages
    others: list[ConversationRecord] = []
    if any(m["sendID"] == viewer.owner_id for m in messages):
        # Only one's own messages show who read them: a page of others' messages in a big
        # group does not read every member's view.
        others = [m for m in await ctx.store.get_conversation_members(viewer.conversation_id)
                  if m.owner_id != viewer.owner_id]
    for message in messages:
        seq = message["seq"]
        at_text = message.get("atTextElem")
        if isinstance(at_text, dict):
            mentioned = at_text.get("atUserList") or []
            message["atTextElem"] = {**at_text, "isAtSelf": viewer.owner_id in mentioned
                                     or AT_ALL_TAG in mentioned}
        if message["sendID"] != viewer.owner_id:
            message["isRead"] = seq <= viewer.has_read_seq
            continue
        readers = [o.owner_id for o in others if o.has_read_seq >= seq]
        if viewer.conversation_type == SESSION_GROUP:
            readers = [r for r in readers if r != message["sendID"]]
            attached = dict(message.get("attachedInfoElem") or {})
            attached["groupHasReadInfo"] = {
                "hasReadCount": len(readers),
                "unreadCount": max(0, len(others) - len(readers)),
                "hasReadUserIDList": readers,
                "groupMemberCount": len(others) + 1,
            }
            message["attachedInfoElem"] = attached
        message["isRead"] = bool(readers)
    return messages


async def _send_receipts(ctx: AppContext, reader: str, record: ConversationRecord,
                         result: ReadResult) -> None:
    if not result.read_messages:
        return
    read_time = now_ms()
    if record.conversation_type == SESSION_SINGLE:
        ctx.delivery.push([record.user_id], events.ON_RECV_C2C_READ_RECEIPT, [{
            "userID": reader,
            "groupID": "",
            "msgIDList": list(result.read_client_msg_ids),
            "readTime": read_time,
            "msgFrom": MSG_FROM_USER,
            "contentType": CONTENT_TYPE_HAS_READ_RECEIPT,
            "sessionType": SESSION_SINGLE,
        }])
        return
    # In a group, each sender hears, per message of theirs, how many members have read it.
    members = await ctx.store.get_conversation_members(record.conversation_id)
    by_sender: dict[str, list[Message]] = defaultdict(list)
    for message in result.read_messages:
        by_sender[message["sendID"]].append(message)
    for sender, messages in by_sender.items():
        others = [m for m in members if m.owner_id != sender]
        read_info = []
        for message in messages:
            readers = [m.owner_id for m in others if m.has_read_seq >= message["seq"]]
            read_info.append({"clientMsgID": message["clientMsgID"],
                              "hasReadCount": len(readers),
                              "unreadCount": max(0, len(others) - len(readers)),
                              "readMembers": readers})
        # Both shapes 3.5.2-era clients know: GroupMessageReceiptInfo and ReceiptInfo.
        ctx.delivery.push([sender], events.ON_RECV_GROUP_READ_RECEIPT, {
            "conversationID": record.conversation_id,
            "groupMessageReadInfo": read_info,
            "userID": reader,
            "groupID": record.group_id,
            "msgIDList": [m["clientMsgID"] for m in messages],
            "readTime": read_time,
            "msgFrom": MSG_FROM_USER,
            "contentType": CONTENT_TYPE_HAS_READ_RECEIPT,
            "sessionType": SESSION_GROUP,
        })


async def _after_read(ctx: AppContext, session: Session, record: ConversationRecord,
                      result: ReadResult) -> None:
    await _send_receipts(ctx, session.user_id, record, result)
    await push_conversation_updates(ctx, [session.user_id], record.conversation_id)


@handler("MarkConversationMessageAsRead", Str("conversationID"))
async def mark_conversation_message_as_read(
    ctx: AppContext, session: Session, conversation_id: str
) -> None:
    """Clear the unread count; the senders get a read receipt for what was read."""
    record = await require_conversation(ctx, session, conversation_id)
    result = await ctx.store.mark_conversation_read(session.user_id, conversation_id)
    await _after_read(ctx, session, record, result)


@handler("MarkMessagesAsReadByMsgID", Str("conversationID"),
         JsonArray("clientMsgIDList", item=Str("clientMsgID")))
async def mark_messages_as_read_by_msg_id(
    ctx: AppContext, session: Session, conversation_id: str, client_msg_ids: list[str]
) -> None:
    """Mark read up to the newest of the given messages."""
    if not client_msg_ids:
        raise ArgumentError("clientMsgIDList must not be empty")
    record = await require_conversation(ctx, session, conversation_id)
    known = await ctx.store.get_messages(conversation_id, client_msg_ids, session.user_id)
    if len(known) != len(set(client_msg_ids)):
        missing = set(client_msg_ids) - {m["clientMsgID"] for m in known}
        raise ArgumentError(f"not messages of {conversation_id}: {', '.join(sorted(missing))}")
    result = await ctx.store.mark_messages_read(session.user_id, conversation_id,
                                                client_msg_ids)
    await _after_read(ctx, session, record, result)
