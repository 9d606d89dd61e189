"""What the members of a group are told when it changes: callbacks to the users who should
see them, and the group notification message (content types 1501-1520) in ``sg_<groupID>``."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from oimws.context import AppContext
from oimws.handlers.group_view import group_item, member_item
from oimws.handlers.posting import post_message
from oimws.protocol import events
from oimws.session import Session
from oimws.store.groups import ROLE_ADMIN, GroupRecord, MemberRecord
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP, group_conversation_id

MSG_FROM_SYSTEM = 200


class GroupNotice(enum.IntEnum):
    CREATED = 1501
    INFO_SET = 1502
    JOIN_APPLICATION = 1503
    MEMBER_QUIT = 1504
    APPLICATION_ACCEPTED = 1505
    APPLICATION_REJECTED = 1506
    OWNER_TRANSFERRED = 1507
    MEMBER_KICKED = 1508
    MEMBER_INVITED = 1509
    MEMBER_ENTERED = 1510
    DISMISSED = 1511
    MEMBER_MUTED = 1512
    MEMBER_UNMUTED = 1513
    GROUP_MUTED = 1514
    GROUP_UNMUTED = 1515
    MEMBER_INFO_SET = 1516
    MEMBER_SET_TO_ADMIN = 1517
    MEMBER_SET_TO_ORDINARY = 1518
    ANNOUNCEMENT_SET = 1519
    NAME_SET = 1520


async def post_notice(
    ctx: AppContext, group: GroupRecord, notice: GroupNotice, operator: MemberRecord | None,
    recipients: Sequence[str], detail: dict[str, Any],
) -> None:
    """Store a notification message in the group conversation and deliver it.

    ``detail`` gets the group and operator added, as OpenIM's tips carry them. Notifications
    are history, not news: they do not raise unread counts.
    """
    now = now_ms()
    body = {"group": group_item(group), "operationTime": now, **detail}
    if operator is not None:
        body["opUser"] = member_item(operator)
    text = orjson.dumps(body).decode()
    message = {
        "clientMsgID": uuid.uuid4().hex,
        "serverMsgID": "",
        "createTime": now,
        "sendTime": now,
        "sessionType": SESSION_GROUP,
        "sendID": operator.user_id if operator else "",
        "recvID": "",
        "msgFrom": MSG_FROM_SYSTEM,
        "contentType": int(notice),
        "senderPlatformID": 0,
        "senderNickname": operator.nickname if operator else "",
        "senderFaceUrl": operator.face_url if operator else "",
        "groupID": group.group_id,
        "content": text,
        "seq": 0,
        "isRead": False,
        "status": 1,
        "isReact": False,
        "isExternalExtensions": False,
        "attachedInfo": "",
        "ex": "",
        "localEx": "",
        "notificationElem": {"detail": text},
    }
    await post_message(ctx, group_conversation_id(group.group_id), message, recipients,
                       counts_as_unread=False)


def tell(ctx: AppContext, user_ids: Iterable[str], event: str, data: Any,
         exclude: Session | None = None) -> None:
    ctx.delivery.push(user_ids, event, data, exclude=exclude)


def tell_group_changed(ctx: AppContext, group: GroupRecord, member_ids: Iterable[str]) -> None:
    tell(ctx, member_ids, events.ON_GROUP_INFO_CHANGED, group_item(group))


def tell_member_changed(ctx: AppContext, member: MemberRecord, member_ids: Iterable[str]) -> None:
    tell(ctx, member_ids, events.ON_GROUP_MEMBER_INFO_CHANGED, member_item(member))


def managers_of(members: Iterable[MemberRecord]) -> list[str]:
    return [m.user_id for m in members if m.role_level >= ROLE_ADMIN]
