"""Login, logout and the session-level functions of the jssdk."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.protocol import events
from oimws.protocol.args import Anything, Bool, Str
from oimws.protocol.errors import ApiError, ErrCode
from oimws.session import Session

log = logging.getLogger("oimws.auth")

LOGIN_STATUS_LOGGED = 3  # sdk-core: 1 logged out, 2 logging in, 3 logged in
CLOSE_NORMAL = 1000


@handler("InitSDK", Anything("config", default=None), Anything("extra", default=None),
         needs_login=False)
def init_sdk(ctx: AppContext, session: Session, config: Any, extra: Any) -> None:
    """Accepted for clients that send it; the gateway needs no client-side configuration."""
    return None


@handler("Login", Str("userID", max_length=64), Str("token"), needs_login=False)
async def login(ctx: AppContext, session: Session, user_id: str, token: str) -> None:
    """Log the connection in: pushes OnConnecting and OnConnectSuccess, then answers."""
    if user_id != session.user_id:
        raise ApiError(ErrCode.CONN_ARGS,
                       f"Login userID {user_id!r} is not the connection's sendID")
    # The upgrade already checked the connection's token; Login may carry a newer one.
    ctx.tokens.verify_for(token, session.user_id, session.platform_id)
    if session.logged_in:
        return None
    users = await ctx.store.get_users([user_id])
    if user_id not in users:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {user_id!r} is not registered")
    ctx.delivery.push_to_session(session, events.ON_CONNECTING, None)
    session.logged_in = True
    for displaced in ctx.delivery.add(session):
        log.info("%r displaced by a new login on the same platform", displaced)
        ctx.delivery.kick(displaced, "logged in elsewhere on the same platform")
    ctx.delivery.push_to_session(session, events.ON_CONNECT_SUCCESS, None)
    log.debug("%r logged in", session)
    return None


@handler("Logout")
def logout(ctx: AppContext, session: Session) -> None:
    """Answer, then close the connection."""
    ctx.delivery.remove(session)
    session.logged_in = False
    # The answer is written when this returns; the close must follow it, not precede it.
    asyncio.get_running_loop().call_soon(session.close, CLOSE_NORMAL, "logout")
    return None


@handler("GetLoginStatus")
def get_login_status(ctx: AppContext, session: Session) -> int:
    return LOGIN_STATUS_LOGGED


@handler("GetLoginUserID")
def get_login_user_id(ctx: AppContext, session: Session) -> str:
    return session.user_id


@handler("SetAppBackgroundStatus", Bool("isBackground"))
def set_app_background_status(ctx: AppContext, session: Session, is_background: bool) -> None:
    """Accepted; offline push is not part of oimws, so nothing changes server-side."""
    return None


@handler("NetworkStatusChanged")
def network_status_changed(ctx: AppContext, session: Session) -> None:
    return None
