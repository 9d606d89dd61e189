"""Users: the logged-in user's own profile."""

from __future__ import annotations

from typing import Any

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.protocol.errors import ApiError, ErrCode
from oimws.session import Session
from oimws.store import UserRecord


def self_user_info(user: UserRecord) -> dict[str, Any]:
    """The client's ``SelfUserInfo``."""
    return {
        "userID": user.user_id,
        "nickname": user.nickname,
        "faceURL": user.face_url,
        "ex": user.ex,
        "createTime": user.create_time,
        "globalRecvMsgOpt": user.global_recv_msg_opt,
        "appMangerLevel": 0,  # OpenIM's spelling
    }


@handler("GetSelfUserInfo")
async def get_self_user_info(ctx: AppContext, session: Session) -> dict[str, Any]:
    users = await ctx.store.get_users([session.user_id])
    user = users.get(session.user_id)
    if user is None:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {session.user_id!r} no longer exists")
    return self_user_info(user)
