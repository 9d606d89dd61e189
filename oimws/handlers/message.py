"""Messages: building ``MessageItem``s and sending them one-to-one."""

from __future__ import annotations

import uuid
from typing import Any

from oimws._speedups.ids import server_msg_id
from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.handlers.conversation import push_conversation_updates
from oimws.protocol import events
from oimws.protocol.args import Bool, JsonObject, Str
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode, no_permission
from oimws.session import Session
from oimws.store import DuplicateClientMsgIDError, Message
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_SINGLE, single_conversation_id

MSG_FROM_USER = 100
STATUS_SENDING = 1
STATUS_SUCCEEDED = 2
MAX_CLIENT_MSG_ID = 64

# contentType -> the one element a message of that type carries
ELEMENT_OF_CONTENT_TYPE = {
    101: "textElem",
    102: "pictureElem",
    103: "soundElem",
    104: "videoElem",
    105: "fileElem",
    106: "atTextElem",
    107: "mergeElem",
    108: "cardElem",
    109: "locationElem",
    110: "customElem",
    114: "quoteElem",
    115: "faceElem",
}
ELEMENT_KEYS = frozenset(ELEMENT_OF_CONTENT_TYPE.values())

# The MessageItem fields a client may set; everything the server owns is overwritten.
CLIENT_FIELDS = frozenset({
    "clientMsgID", "createTime", "contentType", "content", "offlinePush", "attachedInfo",
    "ex", "isReact", "isExternalExtensions",
})


async def new_message(
    ctx: AppContext, session: Session, content_type: int, element: dict[str, Any]
) -> Message:
    """A fresh, unsent ``MessageItem`` from this session's user with one element."""
    users = await ctx.store.get_users([session.user_id])
    sender = users.get(session.user_id)
    return {
        "clientMsgID": uuid.uuid4().hex,
        "serverMsgID": "",
        "createTime": now_ms(),
        "sendTime": 0,
        "sessionType": 0,
        "sendID": session.user_id,
        "recvID": "",
        "msgFrom": MSG_FROM_USER,
        "contentType": content_type,
        "senderPlatformID": session.platform_id,
        "senderNickname": sender.nickname if sender else "",
        "senderFaceUrl": sender.face_url if sender else "",
        "groupID": "",
        "content": "",
        "seq": 0,
        "isRead": False,
        "status": STATUS_SENDING,
        "isReact": False,
        "isExternalExtensions": False,
        "attachedInfo": "",
        "ex": "",
        "localEx": "",
        ELEMENT_OF_CONTENT_TYPE[content_type]: element,
    }


@handler("CreateTextMessage", Str("text"))
async def create_text_message(ctx: AppContext, session: Session, text: str) -> Message:
    return await new_message(ctx, session, 101, {"content": text})


@handler("CreateCustomMessage", Str("data"), Str("extension", default=""),
         Str("description", default=""))
async def create_custom_message(
    ctx: AppContext, session: Session, data: str, extension: str, description: str
) -> Message:
    element = {"data": data, "extension": extension, "description": description}
    return await new_message(ctx, session, 110, element)


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
    if element_key is None:
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


async def _send_single(
    ctx: AppContext, session: Session, message: dict[str, Any], recv_id: str,
    offline_push: dict[str, Any] | None, online_only: bool,
) -> Message:
    outgoing = _validated_outgoing(message, session)
    users = await ctx.store.get_users(list({session.user_id, recv_id}))
    if recv_id not in users:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"recipient {recv_id!r} is not registered")
    sender = users.get(session.user_id)
    outgoing.update({
        "sendID": session.user_id,
        "recvID": recv_id,
        "groupID": "",
        "sessionType": SESSION_SINGLE,
        "msgFrom": MSG_FROM_USER,
        "senderPlatformID": session.platform_id,
        "senderNickname": sender.nickname if sender else "",
        "senderFaceUrl": sender.face_url if sender else "",
        "isRead": False,
        "localEx": "",
    })
    if offline_push is not None:
        outgoing["offlinePush"] = offline_push
    conversation_id = single_conversation_id(session.user_id, recv_id)
    # A note to oneself has one participant, who must hear of it once.
    participants = list(dict.fromkeys((session.user_id, recv_id)))

    if online_only:
        send_time = now_ms()
        outgoing.update(seq=0, sendTime=send_time, status=STATUS_SUCCEEDED,
                        serverMsgID=server_msg_id(conversation_id, 0, send_time))
        ctx.delivery.push(participants, events.ON_RECV_NEW_MESSAGES, [outgoing], exclude=session)
        return outgoing

    try:
        result = await ctx.store.append_message(conversation_id, outgoing, participants)
    except DuplicateClientMsgIDError as exc:
        raise ApiError(ErrCode.DUPLICATE_KEY, str(exc)) from None
    if result.created:
        ctx.delivery.push(participants, events.ON_RECV_NEW_MESSAGES, [result.message],
                          exclude=session)
        await push_conversation_updates(ctx, participants, conversation_id,
                                        result.new_conversation_owners)
    return result.message


_SEND_ARGS = (
    JsonObject("message"),
    Str("recvID", default="", max_length=64),
    Str("groupID", default="", max_length=64),
    JsonObject("offlinePushInfo", default=None),
    Bool("isOnlineOnly", default=False),
)


async def _send(
    ctx: AppContext, session: Session, message: dict[str, Any], recv_id: str, group_id: str,
    offline_push: dict[str, Any] | None, online_only: bool,
) -> Message:
    if group_id:
        raise ApiError(ErrCode.NOT_SUPPORT_OPT, "group messages are not available yet")
    if not recv_id:
        raise ArgumentError("recvID or groupID must be given")
    return await _send_single(ctx, session, message, recv_id, offline_push, online_only)


@handler("SendMessage", *_SEND_ARGS)
async def send_message(
    ctx: AppContext, session: Session, message: dict[str, Any], recv_id: str, group_id: str,
    offline_push: dict[str, Any] | None, online_only: bool,
) -> Message:
    """Store (unless online-only) and deliver a message; answers with the stored message."""
    return await _send(ctx, session, message, recv_id, group_id, offline_push, online_only)


@handler("SendMessageNotOss", *_SEND_ARGS)
async def send_message_not_oss(
    ctx: AppContext, session: Session, message: dict[str, Any], recv_id: str, group_id: str,
    offline_push: dict[str, Any] | None, online_only: bool,
) -> Message:
    """The same as SendMessage: media were uploaded already, by URL."""
    return await _send(ctx, session, message, recv_id, group_id, offline_push, online_only)
