"""Building messages: every ``Create*Message`` returns the full, unsent ``MessageItem``.

Nothing is stored here; the client sends what it was given with SendMessage.
"""

from __future__ import annotations

import uuid
from typing import Any

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.protocol.args import Anything, Int, JsonArray, JsonObject, Number, Str
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode
from oimws.session import Session
from oimws.store import Message
from oimws.util.clock import now_ms

MSG_FROM_USER = 100
STATUS_SENDING = 1

TEXT = 101
PICTURE = 102
SOUND = 103
VIDEO = 104
FILE = 105
AT_TEXT = 106
MERGER = 107
CARD = 108
LOCATION = 109
CUSTOM = 110
TYPING = 113
QUOTE = 114
FACE = 115
ADVANCED_TEXT = 117

# contentType -> the one element a message of that type carries
ELEMENT_OF_CONTENT_TYPE = {
    TEXT: "textElem",
    PICTURE: "pictureElem",
    SOUND: "soundElem",
    VIDEO: "videoElem",
    FILE: "fileElem",
    AT_TEXT: "atTextElem",
    MERGER: "mergeElem",
    CARD: "cardElem",
    LOCATION: "locationElem",
    CUSTOM: "customElem",
    TYPING: "typingElem",
    QUOTE: "quoteElem",
    FACE: "faceElem",
    ADVANCED_TEXT: "advancedTextElem",
}

# the fields of each element a client may fill, with their JSON types
_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "soundElem": {"uuid": str, "soundPath": str, "sourceUrl": str, "dataSize": int,
                  "duration": int, "soundType": str},
    "videoElem": {"videoPath": str, "videoUUID": str, "videoUrl": str, "videoType": str,
                  "videoSize": int, "duration": int, "snapshotPath": str,
                  "snapshotUUID": str, "snapshotSize": int, "snapshotUrl": str,
                  "snapshotWidth": int, "snapshotHeight": int},
    "fileElem": {"filePath": str, "uuid": str, "sourceUrl": str, "fileName": str,
                 "fileSize": int, "fileType": str},
    "cardElem": {"userID": str, "nickname": str, "faceURL": str, "ex": str},
    "picture": {"uuid": str, "type": str, "size": int, "width": int, "height": int,
                "url": str},
}


def checked_fields(kind: str, value: dict[str, Any], where: str) -> dict[str, Any]:
    """Copy the known fields of an element object, refusing wrong types."""
    element = {}
    for name, expected in _FIELDS[kind].items():
        if name not in value or value[name] is None:
            continue
        field = value[name]
        if isinstance(field, bool) or not isinstance(field, expected):
            raise ArgumentError(f"{where}.{name} has the wrong type")
        element[name] = field
    return element


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


def _quoted(message: Any, where: str) -> Message:
    if not isinstance(message, dict) or not isinstance(message.get("clientMsgID"), str):
        raise ArgumentError(f"{where} must be a message (an object with a clientMsgID)")
    return message


@handler("CreateTextMessage", Str("text"))
async def create_text_message(ctx: AppContext, session: Session, text: str) -> Message:
    return await new_message(ctx, session, TEXT, {"content": text})


@handler("CreateAdvancedTextMessage", Str("text"), JsonArray("messageEntityList", default=None))
async def create_advanced_text_message(ctx: AppContext, session: Session, text: str,
                                       entities: list[Any] | None) -> Message:
    return await new_message(ctx, session, ADVANCED_TEXT,
                             {"text": text, "messageEntityList": entities or []})


@handler("CreateTextAtMessage", Str("text"), JsonArray("atUserIDList", item=Str("userID")),
         JsonArray("atUsersInfo", default=None), Anything("message", default=None))
async def create_text_at_message(ctx: AppContext, session: Session, text: str,
                                 at_user_ids: list[str], at_users_info: list[Any] | None,
                                 quote: Any) -> Message:
    """An @ message; ``AtAllTag`` among the IDs mentions everyone."""
    element: dict[str, Any] = {"text": text, "atUserList": at_user_ids,
                               "atUsersInfo": at_users_info or [], "isAtSelf": False}
    if isinstance(quote, str) and quote:
        quote = JsonObject("message").decode(3, quote)
    if quote:
        element["quoteMessage"] = _quoted(quote, "message")
    return await new_message(ctx, session, AT_TEXT, element)


@handler("CreateImageMessageByURL", Str("sourcePath"), JsonObject("sourcePicture"),
         JsonObject("bigPicture"), JsonObject("snapshotPicture"))
async def create_image_message_by_url(ctx: AppContext, session: Session, source_path: str,
                                      source: dict[str, Any], big: dict[str, Any],
                                      snapshot: dict[str, Any]) -> Message:
    return await new_message(ctx, session, PICTURE, {
        "sourcePath": source_path,
        "sourcePicture": checked_fields("picture", source, "sourcePicture"),
        "bigPicture": checked_fields("picture", big, "bigPicture"),
        "snapshotPicture": checked_fields("picture", snapshot, "snapshotPicture"),
    })


@handler("CreateSoundMessageByURL", JsonObject("params"))
async def create_sound_message_by_url(ctx: AppContext, session: Session,
                                      params: dict[str, Any]) -> Message:
    return await new_message(ctx, session, SOUND, checked_fields("soundElem", params, "params"))


@handler("CreateVideoMessageByURL", JsonObject("params"))
async def create_video_message_by_url(ctx: AppContext, session: Session,
                                      params: dict[str, Any]) -> Message:
    return await new_message(ctx, session, VIDEO, checked_fields("videoElem", params, "params"))


@handler("CreateFileMessageByURL", JsonObject("params"))
async def create_file_message_by_url(ctx: AppContext, session: Session,
                                     params: dict[str, Any]) -> Message:
    return await new_message(ctx, session, FILE, checked_fields("fileElem", params, "params"))


def _by_file(name: str) -> None:
    def refuse(ctx: AppContext, session: Session, *args: Any) -> None:
        raise ApiError(ErrCode.NOT_SUPPORT_OPT,
                       f"{name} runs in the client: upload the file with the object API "
                       "(the jssdk's uploadFile does), then create the message by URL")

    refuse.__doc__ = "Client-side in the jssdk; answered with how to do it instead."
    handler(name, Anything("params", default=None), Anything("file", default=None),
            Anything("extra", default=None))(refuse)


for _name in ("CreateImageMessageByFile", "CreateSoundMessageByFile",
              "CreateVideoMessageByFile", "CreateFileMessageByFile", "UploadFile"):
    _by_file(_name)


@handler("CreateMergerMessage", JsonArray("messageList"), Str("title"),
         JsonArray("summaryList", item=Str("summary")))
async def create_merger_message(ctx: AppContext, session: Session, messages: list[Any],
                                title: str, summaries: list[str]) -> Message:
    multi = [_quoted(m, f"messageList[{i}]") for i, m in enumerate(messages)]
    return await new_message(ctx, session, MERGER, {
        "title": title, "abstractList": summaries, "multiMessage": multi,
        "messageEntityList": []})


@handler("CreateForwardMessage", JsonObject("message"))
async def create_forward_message(ctx: AppContext, session: Session, message: dict[str, Any]
                                 ) -> Message:
    """A new message from the caller with the forwarded message's content."""
    content_type = message.get("contentType")
    if (isinstance(content_type, bool) or not isinstance(content_type, int)
            or content_type not in ELEMENT_OF_CONTENT_TYPE or content_type == TYPING):
        raise ApiError(ErrCode.MSG_CONTENT_TYPE_NOT_SUPPORT,
                       f"contentType {content_type!r} cannot be forwarded")
    element_key = ELEMENT_OF_CONTENT_TYPE[content_type]
    element = message.get(element_key)
    if not isinstance(element, dict):
        raise ArgumentError(f"message.{element_key} must be an object")
    return await new_message(ctx, session, content_type, element)


@handler("CreateLocationMessage", Str("description"), Number("longitude"), Number("latitude"))
async def create_location_message(ctx: AppContext, session: Session, description: str,
                                  longitude: float, latitude: float) -> Message:
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise ArgumentError("longitude must be within ±180 and latitude within ±90")
    return await new_message(ctx, session, LOCATION, {
        "description": description, "longitude": longitude, "latitude": latitude})


@handler("CreateQuoteMessage", Str("text"), JsonObject("message"))
async def create_quote_message(ctx: AppContext, session: Session, text: str,
                               quote: dict[str, Any]) -> Message:
    return await new_message(ctx, session, QUOTE, {
        "text": text, "quoteMessage": _quoted(quote, "message")})


@handler("CreateAdvancedQuoteMessage", Str("text"), JsonObject("message"),
         JsonArray("messageEntityList", default=None))
async def create_advanced_quote_message(ctx: AppContext, session: Session, text: str,
                                        quote: dict[str, Any], entities: list[Any] | None
                                        ) -> Message:
    return await new_message(ctx, session, QUOTE, {
        "text": text, "quoteMessage": _quoted(quote, "message"),
        "messageEntityList": entities or []})


@handler("CreateCardMessage", JsonObject("card"))
async def create_card_message(ctx: AppContext, session: Session, card: dict[str, Any]
                              ) -> Message:
    element = checked_fields("cardElem", card, "card")
    if not element.get("userID"):
        raise ArgumentError("card.userID must be a non-empty string")
    return await new_message(ctx, session, CARD, element)


@handler("CreateCustomMessage", Str("data"), Str("extension", default=""),
         Str("description", default=""))
async def create_custom_message(ctx: AppContext, session: Session, data: str, extension: str,
                                description: str) -> Message:
    return await new_message(ctx, session, CUSTOM, {
        "data": data, "extension": extension, "description": description})


@handler("CreateFaceMessage", Int("index"), Str("data"))
async def create_face_message(ctx: AppContext, session: Session, index: int, data: str
                              ) -> Message:
    return await new_message(ctx, session, FACE, {"index": index, "data": data})
