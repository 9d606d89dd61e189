"""Lookups several admin endpoints start with."""

from __future__ import annotations

from collections.abc import Sequence

from oimws.context import AppContext
from oimws.protocol.errors import ApiError, ErrCode
from oimws.store import UserRecord


async def require_registered(ctx: AppContext, user_ids: Sequence[str]) -> dict[str, UserRecord]:
    """The users, or 1101 naming those that are not registered."""
    users = await ctx.store.get_users(list(user_ids))
    missing = [u for u in user_ids if u not in users]
    if missing:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"not registered: {', '.join(missing)}")
    return users
