"""/msg/*: an admin sending (as any user) and revoking messages.

A message sent here goes through the same ``SendMessage`` function as a client's: it is
validated, stored, delivered and counted exactly alike, and the sender's other devices hear
of it too (the admin's call is no device of theirs).
"""

from __future__ import annotations

import uuid
from typing import Any

from oimws.admin.acting import call_as
from oimws.admin.checks import require_registered
from oimws.admin.endpoint import Access, ApiModule, Call, post
from oimws.admin.replies import INTEGER, SENT_MESSAGE, STRING, array, obj, strings
from oimws.admin.validation import (
    AnyObject,
    Boolean,
    Field,
    Integer,
    Text,
    TextList,
    args_error,
    body,
)
from oimws.handlers.message_create import ELEMENT_OF_CONTENT_TYPE
from oimws.protocol.errors import ApiError, ErrCode
from oimws.store import Message
from oimws.tokens import ADMIN_PLATFORM_ID
from oimws.util.clock import now_ms

SINGLE_CHAT, OLD_GROUP_CHAT, GROUP_CHAT, NOTIFICATION_CHAT = 1, 2, 3, 4
MAX_BATCH_RECIPIENTS = 10_000
USERS_PER_PAGE = 1000
# Refusals that concern the message itself: every recipient would get the same one.
MESSAGE_ERRORS = frozenset({ErrCode.SDK_ARGS, ErrCode.ARGS, ErrCode.MSG_CONTENT_TYPE_NOT_SUPPORT})


def _message_fields() -> list[Field]:
    """What OpenIM's ``SendMsg`` carries (senderNickname/FaceURL are accepted and ignored:
    the sender's profile is what clients see, as for any other message)."""
    return [
        Text("sendID", required=True, doc="who the message is from: a registered user (a "
                                          "notification account is one) or an admin user ID"),
        Text("senderNickname", max_length=255),
        Text("senderFaceURL", max_length=1024),
        Integer("senderPlatformID", minimum=0, maximum=10, default=0,
                doc="shown as the sending platform; 0 means admin (10)"),
        AnyObject("content", required=True,
                  doc="the element of the content type, e.g. {\"content\": \"hi\"} for text"),
        Integer("contentType", minimum=100, maximum=10_000, required=True,
                doc="101 text, 102 picture, 103 voice, 104 video, 105 file, 106 @text, "
                    "108 card, 109 location, 110 custom, 114 quote, 115 face"),
        Integer("sendTime", minimum=0, maximum=2**62, default=0,
                doc="ignored: the server stamps the time a message is stored"),
        Boolean("isOnlineOnly", doc="deliver to online devices only, store nothing"),
        Boolean("notOfflinePush"),
        AnyObject("offlinePushInfo"),
    ]


def _new_message(fields: dict[str, Any]) -> Message:
    """The message a client would hand to SendMessage: a fresh clientMsgID and the element."""
    content_type = fields["contentType"]
    element = ELEMENT_OF_CONTENT_TYPE.get(content_type)
    if element is None:
        raise args_error(f"field 'contentType': {content_type} is not a content type that "
                         "can be sent")
    return {"clientMsgID": uuid.uuid4().hex, "contentType": content_type,
            "createTime": now_ms(), element: fields["content"]}


def _sender_platform(fields: dict[str, Any]) -> int:
    return fields["senderPlatformID"] or ADMIN_PLATFORM_ID


class MsgApi(ApiModule):
    async def _check_sender(self, send_id: str) -> None:
        """A registered user (a notification account is one too), or an admin user ID."""
        if send_id not in self.ctx.config.admin_user_ids:
            await require_registered(self.ctx, [send_id])

    async def _send(self, fields: dict[str, Any], recv_id: str, group_id: str) -> Message:
        sent: Message = await call_as(
            self.ctx, fields["sendID"], "SendMessage", _new_message(fields), recv_id, group_id,
            fields["offlinePushInfo"], fields["isOnlineOnly"],
            platform_id=_sender_platform(fields))
        return sent

    @post("/msg/send_msg",
          body(Text("recvID", doc="for sessionType 1"), Text("groupID", doc="for sessionType 3"),
               Integer("sessionType", minimum=1, maximum=4, required=True,
                       doc="1 one-to-one, 3 group (2, the old group type, is taken as 3)"),
               *_message_fields()),
          access=Access.ADMIN, summary="Send a message as any user, stored and delivered like "
                                       "a client's send", reply=SENT_MESSAGE)
    async def send_msg(self, call: Call) -> Any:
        fields = call.body
        session_type = fields["sessionType"]
        await self._check_sender(fields["sendID"])
        if session_type == NOTIFICATION_CHAT:
            raise args_error("field 'sessionType': notification conversations (4) are not "
                             "supported; send from a notification account as a user (1)")
        if session_type == SINGLE_CHAT:
            if not fields["recvID"]:
                raise args_error("field 'recvID' is required for sessionType 1")
            sent = await self._send(fields, fields["recvID"], "")
        else:
            if not fields["groupID"]:
                raise args_error("field 'groupID' is required for sessionType 3")
            sent = await self._send(fields, "", fields["groupID"])
        return {"serverMsgID": sent["serverMsgID"], "clientMsgID": sent["clientMsgID"],
                "sendTime": sent["sendTime"]}

    @post("/msg/batch_send_msg",
          body(TextList("recvIDs", max_items=MAX_BATCH_RECIPIENTS),
               Boolean("isSendAll", doc="to every registered user instead of recvIDs"),
               Integer("sessionType", minimum=1, maximum=1, default=SINGLE_CHAT,
                       doc="one-to-one only"),
               *_message_fields()),
          access=Access.ADMIN,
          summary="The same message, one-to-one, to many users; those it cannot reach are "
                  "listed in failedUserIDs",
          reply=obj(results=array(obj(serverMsgID=STRING, clientMsgID=STRING, sendTime=INTEGER,
                                      recvID=STRING)),
                    failedUserIDs=strings()))
    async def batch_send_msg(self, call: Call) -> Any:
        fields = call.body
        await self._check_sender(fields["sendID"])
        if fields["isSendAll"]:
            recipients = await self._everyone_but(fields["sendID"])
        elif fields["recvIDs"]:
            recipients = fields["recvIDs"]
        else:
            raise args_error("field 'recvIDs' is required unless isSendAll is true")
        results, failed = [], []
        for recv_id in recipients:
            try:
                sent = await self._send(fields, recv_id, "")
            except ApiError as exc:
                if exc.code in MESSAGE_ERRORS:
                    raise  # the message is wrong, not the recipient: nothing was sent
                failed.append(recv_id)
                continue
            results.append({"serverMsgID": sent["serverMsgID"],
                            "clientMsgID": sent["clientMsgID"],
                            "sendTime": sent["sendTime"], "recvID": recv_id})
        return {"results": results, "failedUserIDs": failed}

    async def _everyone_but(self, sender: str) -> list[str]:
        everyone: list[str] = []
        while True:
            total, users = await self.ctx.store.find_users(len(everyone), USERS_PER_PAGE)
            everyone.extend(u.user_id for u in users)
            if not users or len(everyone) >= total:
                return [u for u in everyone if u != sender]

    @post("/msg/revoke_msg",
          body(Text("conversationID", max_length=200, required=True),
               Integer("seq", minimum=1, maximum=2**62, required=True),
               Text("userID", required=True,
                    doc="who revokes, with their rights: the sender within the revoke window, "
                        "a group's owner or admins")),
          access=Access.ADMIN, summary="Revoke a message (by seq) as RevokeMessage does")
    async def revoke_msg(self, call: Call) -> None:
        conversation_id, seq = call.body["conversationID"], call.body["seq"]
        found = await self.ctx.store.get_history(conversation_id, seq + 1, 1)
        if not found or found[-1]["seq"] != seq:
            raise ApiError(ErrCode.RECORD_NOT_FOUND,
                           f"no message with seq {seq} in {conversation_id}")
        await call_as(self.ctx, call.body["userID"], "RevokeMessage", conversation_id,
                      found[-1]["clientMsgID"])
        return None
