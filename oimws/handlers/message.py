"""Messages: sending (one-to-one and to groups), revoking, typing, and per-user deletion."""

from __future__ import annotations

from typing import Any

import orjson

from oimws._speedups.ids import server_msg_id
from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.handlers.conversation import (
    AT_ALL_TAG,
    push_conversation_updates,
    require_conversation,
)
from oimws.handlers.friend import check_may_message
from oimws.handlers.group_view import check_can_post, is_manager, load_group, load_member
from oimws.handlers.message_create import (
    AT_TEXT,
    ELEMENT_OF_CONTENT_TYPE,
    MSG_FROM_USER,
    TYPING,
    new_message,
)
from oimws.handlers.posting import deliver, post_message
from oimws.protocol import events
from oimws.protocol.args import Bool, JsonObject, Str
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode, no_permission
from oimws.session import Session
from oimws.store import DuplicateClientMsgIDError, Message
from oimws.store.groups import ROLE_OWNER
from oimws.store.messages import GROUP_AT_ALL, GROUP_AT_ALL_AT_ME, GROUP_AT_ME
from oimws.util.clock import now_ms
from oimws.util.ids import (
    SESSION_GROUP,
    SESSION_SINGLE,
    group_conversation_id,
    single_conversation_id,
)

STATUS_SUCCEEDED = 2
MAX_CLIENT_MSG_ID = 64
REVOKED = 2101

# The MessageItem fields a client may set; everything the server owns is overwritten.
CLIENT_FIELDS = frozenset({
    "clientMsgID", "createTime", "contentType", "content", "offlinePush", "attachedInfo",
    "ex", "isReact", "isExternalExtensions",
})


def _validated_outgoing(message: dict[str, Any], session: Session) -> Message:
    """Keep what the client may set, check it, and fix what the server owns."""
    client_msg_id = message.get("clientMsgID")
    if not isinstance(client_msg_id, str) or not client_msg_id:
        raise ArgumentError("message.clientMsgID must be a non-empty string")
    if len(client_msg_id) > MAX_CLIENT_MSG_ID:
        raise ArgumentError(f"message.clientMsgID is longer than {MAX_CLIENT_MSG_ID} characters")
    send_id = message.get("sendID")
    if send_id not in (None, "", session.user_id):
        raise no_permission(f"{session.user_id} cannot send as {send_id!r}")
    content_type = message.get("contentType")
    if isinstance(content_type, bool) or not isinstance(content_type, int):
        raise ArgumentError("message.contentType must be an integer")
    element_key = ELEMENT_OF_CONTENT_TYPE.get(content_type)
    if element_key is None or content_type == TYPING:
        raise ApiError(ErrCode.MSG_CONTENT_TYPE_NOT_SUPPORT,
                       f"contentType {content_type} cannot be sent")
    element = message.get(element_key)
    if not isinstance(element, dict):
        raise ArgumentError(f"a contentType {content_type} message needs an object {element_key}")
    create_time = message.get("createTime")
    if isinstance(create_time, bool) or not isinstance(create_time, int) or create_time <= 0:
        create_time = now_ms()
    outgoing = {key: message[key] for key in CLIENT_FIELDS if key in message}
    outgoing[element_key] = element
    outgoing["createTime"] = create_time
    outgoing.setdefault("content", "")
    outgoing.setdefault("ex", "")
    outgoing.setdefault("attachedInfo", "")
    return outgoing


async def _stamp_sender(ctx: AppContext, session: Session, outgoing: Message) -> None:
    sender = (await ctx.store.get_users([session.user_id])).get(session.user_id)
    outgoing.update({
        "sendID": session.user_id,
        "msgFrom": MSG_FROM_USER,
        "senderPlatformID": session.platform_id,
        "senderNickname": sender.nickname if sender else "",
        "senderFaceUrl": sender.face_url if sender else "",
        "isRead": False,
        "localEx": "",
    })


def _online_only(conversation_id: str, outgoing: Message) -> Message:
    send_time = now_ms()
    outgoing.update(seq=0, sendTime=send_time, status=STATUS_SUCCEEDED,
                    serverMsgID=server_msg_id(conversation_id, 0, send_time))
    return outgoing


async def _post(ctx: AppContext, session: Session, conversation_id: str, outgoing: Message,
                recipients: list[str], mentions: dict[str, int] | None = None) -> Message:
    try:
        result = await post_message(ctx, conversation_id, outgoing, recipients,
                                    exclude=session, mentions=mentions)
    except DuplicateClientMsgIDError as exc:
        raise ApiError(ErrCode.DUPLICATE_KEY, str(exc)) from None
    return result.message


async def send_single(ctx: AppContext, session: Session, message: dict[str, Any],
                      recv_id: str, offline_push: dict[str, Any] | None,
                      online_only: bool) -> Message:
    outgoing = _validated_outgoing(message, session)
    if recv_id not in await ctx.store.get_users([recv_id]):
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"recipient {recv_id!r} is not registered")
    await check_may_message(ctx, session.user_id, recv_id)
    await _stamp_sender(ctx, session, outgoing)
    outgoing.update(recvID=recv_id, groupID="", sessionType=SESSION_SINGLE)
    if offline_push is not None:
        outgoing["offlinePush"] = offline_push
    conversation_id = single_conversation_id(session.user_id, recv_id)
    # A note to oneself has one participant, who must hear of it once.
    participants = list(dict.fromkeys((session.user_id, recv_id)))
    if online_only:
        deliver(ctx, _online_only(conversation_id, outgoing), participants, session)
        return outgoing
    return await _post(ctx, session, conversation_id, outgoing, participants)


def _mentions(outgoing: Message, member_ids: list[str], sender: str) -> dict[str, int]:
    """groupAtType per mentioned member of an @ message."""
    if outgoing["contentType"] != AT_TEXT:
        return {}
    at_list = outgoing["atTextElem"].get("atUserList") or []
    if not isinstance(at_list, list):
        raise ArgumentError("atTextElem.atUserList must be an array")
    members = set(member_ids) - {sender}
    named = {u for u in at_list if u in members}
    if AT_ALL_TAG in at_list:
        return {m: GROUP_AT_ALL_AT_ME if m in named else GROUP_AT_ALL for m in members}
    return dict.fromkeys(named, GROUP_AT_ME)


async def send_to_group(ctx: AppContext, session: Session, message: dict[str, Any],
                        group_id: str, offline_push: dict[str, Any] | None,
                        online_only: bool) -> Message:
    """Persist once (one seq in sg_<groupID>), encode once, fan out to every online device
    of every member."""
    outgoing = _validated_outgoing(message, session)
    group = await load_group(ctx, group_id, allow_dismissed=True)
    check_can_post(group, await load_member(ctx, group_id, session.user_id))
    await _stamp_sender(ctx, session, outgoing)
    outgoing.update(recvID="", groupID=group_id, sessionType=SESSION_GROUP)
    if offline_push is not None:
        outgoing["offlinePush"] = offline_push
    conversation_id = group_conversation_id(group_id)
    member_ids = await ctx.store.get_member_ids(group_id)
    if online_only:
        deliver(ctx, _online_only(conversation_id, outgoing), member_ids, session)
        return outgoing
    mentions = _mentions(outgoing, member_ids, session.user_id)
    return await _post(ctx, session, conversation_id, outgoing, member_ids, mentions)


_SEND_ARGS = (
    JsonObject("message"),
    Str("recvID", default="", max_length=64),
    Str("groupID", default="", max_length=64),
    JsonObject("offlinePushInfo", default=None),
    Bool("isOnlineOnly", default=False),
)


async def send(ctx: AppContext, session: Session, message: dict[str, Any], recv_id: str,
               group_id: str, offline_push: dict[str, Any] | None, online_only: bool
               ) -> Message:
    if group_id and recv_id:
        raise ArgumentError("give recvID or groupID, not both")
    if group_id:
        return await send_to_group(ctx, session, message, group_id, offline_push, online_only)
    if not recv_id:
        raise ArgumentError("recvID or groupID must be given")
    return await send_single(ctx, session, message, recv_id, offline_push, online_only)


@handler("SendMessage", *_SEND_ARGS)
async def send_message(
    ctx: AppContext, session: Session, message: dict[str, Any], recv_id: str, group_id: str,
    offline_push: dict[str, Any] | None, online_only: bool,
) -> Message:
    """Store (unless online-only) and deliver a message; answers with the stored message."""
    return await send(ctx, session, message, recv_id, group_id, offline_push, online_only)


@handler("SendMessageNotOss", *_SEND_ARGS)
async def send_message_not_oss(
    ctx: AppContext, session: Session, message: dict[str, Any], recv_id: str, group_id: str,
    offline_push: dict[str, Any] | None, online_only: bool,
) -> Message:
    """The same as SendMessage: media were uploaded already, by URL."""
    return await send(ctx, session, message, recv_id, group_id, offline_push, online_only)


@handler("TypingStatusUpdate", Str("recvID", max_length=64), Str("msgTip", max_length=1024))
async def typing_status_update(ctx: AppContext, session: Session, recv_id: str,
                               tip: str) -> None:
    """A typing message (113), delivered online-only to the peer's devices."""
    if recv_id not in await ctx.store.get_users([recv_id]):
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"recipient {recv_id!r} is not registered")
    await check_may_message(ctx, session.user_id, recv_id)
    typing = await new_message(ctx, session, TYPING, {"msgTips": tip})
    typing.update(recvID=recv_id, sessionType=SESSION_SINGLE)
    deliver(ctx, _online_only(single_conversation_id(session.user_id, recv_id), typing),
            [recv_id])


# revoking -----------------------------------------------------------------------------------

async def _revoker_role(ctx: AppContext, session: Session, message: Message) -> int:
    """The revoker's group role (0 in single chats); refuses those who may not revoke it."""
    is_sender = message["sendID"] == session.user_id
    if message["sessionType"] != SESSION_GROUP:
        if not is_sender:
            raise no_permission("only the sender may revoke a one-to-one message")
        _check_window(ctx, message)
        return 0
    group_id = message["groupID"]
    revoker = await load_member(ctx, group_id, session.user_id)
    role = revoker.role_level if revoker else 0
    if is_sender and not is_manager(revoker):
        _check_window(ctx, message)
    elif not is_sender:
        author = await load_member(ctx, group_id, message["sendID"])
        if not is_manager(revoker):
            raise no_permission("only the sender, the owner or an admin may revoke this")
        if role != ROLE_OWNER and author is not None and is_manager(author):
            raise no_permission("an admin cannot revoke the owner's or another admin's message")
    return role


def _check_window(ctx: AppContext, message: Message) -> None:
    window_ms = ctx.config.revoke_window_seconds * 1000
    if now_ms() - message["sendTime"] > window_ms:
        raise no_permission(f"messages can be revoked within {ctx.config.revoke_window_seconds}"
                            " seconds of sending")


@handler("RevokeMessage", Str("conversationID"), Str("clientMsgID", max_length=64))
async def revoke_message(ctx: AppContext, session: Session, conversation_id: str,
                         client_msg_id: str) -> None:
    """Replace a message by its revoke notice (2101) for everyone in the conversation."""
    await require_conversation(ctx, session, conversation_id)
    message = await ctx.store.get_message(conversation_id, client_msg_id)
    if message is None:
        raise ApiError(ErrCode.RECORD_NOT_FOUND, f"no message {client_msg_id!r} here")
    if message["contentType"] == REVOKED:
        raise ApiError(ErrCode.MSG_ALREADY_REVOKE, "the message was revoked already")
    role = await _revoker_role(ctx, session, message)
    revoker = (await ctx.store.get_users([session.user_id])).get(session.user_id)
    info = {
        "revokerID": session.user_id,
        "revokerRole": role,
        "clientMsgID": client_msg_id,
        "revokerNickname": revoker.nickname if revoker else "",
        "revokeTime": now_ms(),
        "sourceMessageSendTime": message["sendTime"],
        "sourceMessageSendID": message["sendID"],
        "sourceMessageSenderNickname": message.get("senderNickname", ""),
        "sessionType": message["sessionType"],
        "seq": message["seq"],
        "ex": "",
    }
    detail = orjson.dumps(info).decode()
    revoked = {key: value for key, value in message.items()
               if key not in ELEMENT_OF_CONTENT_TYPE.values()}
    revoked.update(contentType=REVOKED, content=detail, notificationElem={"detail": detail})
    await ctx.store.replace_message(conversation_id, message["seq"], revoked)
    if message["sessionType"] == SESSION_GROUP:
        everyone = await ctx.store.get_member_ids(message["groupID"])
    else:
        everyone = list(dict.fromkeys((message["sendID"], message["recvID"])))
    ctx.delivery.push(everyone, events.ON_NEW_RECV_MESSAGE_REVOKED, info)
    await push_conversation_updates(ctx, everyone, conversation_id)


# per-user deletion and local additions ------------------------------------------------------

async def _own_message(ctx: AppContext, session: Session, conversation_id: str,
                       client_msg_id: str) -> Message:
    await require_conversation(ctx, session, conversation_id)
    found = await ctx.store.get_messages(conversation_id, [client_msg_id], session.user_id)
    if not found:
        raise ApiError(ErrCode.RECORD_NOT_FOUND, f"no message {client_msg_id!r} here")
    return found[0]


async def _delete_for_self(ctx: AppContext, session: Session, conversation_id: str,
                           client_msg_id: str) -> None:
    message = await _own_message(ctx, session, conversation_id, client_msg_id)
    await ctx.store.delete_messages_for(session.user_id, conversation_id, [message["seq"]])
    await push_conversation_updates(ctx, [session.user_id], conversation_id)


@handler("DeleteMessage", Str("conversationID"), Str("clientMsgID", max_length=64))
async def delete_message(ctx: AppContext, session: Session, conversation_id: str,
                         client_msg_id: str) -> None:
    """Gone from this user's history on every device; the others keep it."""
    await _delete_for_self(ctx, session, conversation_id, client_msg_id)


@handler("DeleteMessageFromLocalStorage", Str("conversationID"),
         Str("clientMsgID", max_length=64))
async def delete_message_from_local_storage(ctx: AppContext, session: Session,
                                            conversation_id: str, client_msg_id: str) -> None:
    """The server is every device's storage: the same as DeleteMessage."""
    await _delete_for_self(ctx, session, conversation_id, client_msg_id)


@handler("SetMessageLocalEx", Str("conversationID"), Str("clientMsgID", max_length=64),
         Str("localEx", max_length=10_000))
async def set_message_local_ex(ctx: AppContext, session: Session, conversation_id: str,
                               client_msg_id: str, local_ex: str) -> None:
    """A private note on a message, seen only by this user."""
    message = await _own_message(ctx, session, conversation_id, client_msg_id)
    await ctx.store.set_local_ex(session.user_id, conversation_id, message["seq"], local_ex)


async def _insert_local(ctx: AppContext, session: Session, conversation_id: str,
                        message: dict[str, Any], send_id: str, others: list[str],
                        fields: dict[str, Any]) -> Message:
    """Store a message in the user's own view only: delivered to no one, hidden from the
    other participants, not counted as unread."""
    outgoing = _validated_outgoing(dict(message, sendID=session.user_id), session)
    sender = (await ctx.store.get_users([send_id])).get(send_id)
    if sender is None:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {send_id!r} is not registered")
    outgoing.update(fields, sendID=send_id, msgFrom=MSG_FROM_USER,
                    senderNickname=sender.nickname, senderFaceUrl=sender.face_url,
                    senderPlatformID=session.platform_id, isRead=True, localEx="")
    try:
        result = await ctx.store.append_message(
            conversation_id, outgoing, [session.user_id] if fields["sessionType"]
            == SESSION_GROUP else [session.user_id, *others], counts_as_unread=False)
    except DuplicateClientMsgIDError as exc:
        raise ApiError(ErrCode.DUPLICATE_KEY, str(exc)) from None
    if result.created:
        for other in others:
            await ctx.store.delete_messages_for(other, conversation_id,
                                                [result.message["seq"]])
    await push_conversation_updates(ctx, [session.user_id], conversation_id)
    return result.message


@handler("InsertSingleMessageToLocalStorage", JsonObject("message"),
         Str("recvID", max_length=64), Str("sendID", max_length=64))
async def insert_single_message_to_local_storage(
    ctx: AppContext, session: Session, message: dict[str, Any], recv_id: str, send_id: str
) -> Message:
    if session.user_id not in (recv_id, send_id):
        raise no_permission("one can only insert into one's own conversations")
    peer = send_id if recv_id == session.user_id else recv_id
    conversation_id = single_conversation_id(session.user_id, peer)
    others = [] if peer == session.user_id else [peer]
    return await _insert_local(ctx, session, conversation_id, message, send_id, others, {
        "recvID": recv_id, "groupID": "", "sessionType": SESSION_SINGLE})


@handler("InsertGroupMessageToLocalStorage", JsonObject("message"),
         Str("groupID", max_length=64), Str("sendID", max_length=64))
async def insert_group_message_to_local_storage(
    ctx: AppContext, session: Session, message: dict[str, Any], group_id: str, send_id: str
) -> Message:
    await load_group(ctx, group_id, allow_dismissed=True)
    member_ids = await ctx.store.get_member_ids(group_id)
    if session.user_id not in member_ids:
        raise ApiError(ErrCode.NOT_IN_GROUP_YET, f"not a member of group {group_id!r}")
    others = [m for m in member_ids if m != session.user_id]
    return await _insert_local(ctx, session, group_conversation_id(group_id), message,
                               send_id, others, {"recvID": "", "groupID": group_id,
                                                 "sessionType": SESSION_GROUP})
