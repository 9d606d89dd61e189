"""Users: one's own profile, other users' profiles, and online status subscriptions."""

from __future__ import annotations

from typing import Any

from oimws.context import AppContext
from oimws.delivery.presence import PresenceChange
from oimws.dispatch import handler
from oimws.handlers.friend import friend_user_item, full_user_items, public_user_item
from oimws.handlers.group_view import load_member, member_item
from oimws.protocol import events, fields
from oimws.protocol.args import Int, JsonArray, JsonObject, Str
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode, no_permission
from oimws.session import Session
from oimws.store import UserRecord

STATUS_OFFLINE = 0
STATUS_ONLINE = 1
MAX_WATCHED_USERS = 3000  # status subscriptions per session: bounded memory per connection
RECV_MSG_OPTS = (0, 1, 2)  # receive and notify, do not receive, receive without notifying

# SetSelfInfo fields: wire name -> (record attribute, longest allowed string or None for opts)
PROFILE_FIELDS: dict[str, tuple[str, int | None]] = {
    "nickname": ("nickname", 64),
    "faceURL": ("face_url", 1024),
    "ex": ("ex", 1024),
    "globalRecvMsgOpt": ("global_recv_msg_opt", None),
}
# What friends see of a user in their FriendUserItem: changing these tells them.
FRIEND_VISIBLE = frozenset({"nickname", "face_url"})


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


def user_status(user_id: str, platform_ids: tuple[int, ...]) -> dict[str, Any]:
    """``UserOnlineState``."""
    return {"userID": user_id, "status": STATUS_ONLINE if platform_ids else STATUS_OFFLINE,
            "platformIDs": list(platform_ids)}


@handler("GetSelfUserInfo")
async def get_self_user_info(ctx: AppContext, session: Session) -> dict[str, Any]:
    users = await ctx.store.get_users([session.user_id])
    user = users.get(session.user_id)
    if user is None:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {session.user_id!r} no longer exists")
    return self_user_info(user)


# changing one's profile ---------------------------------------------------------------------

def _profile_value(name: str, value: Any, max_length: int | None) -> Any:
    value = fields.unwrap(value)  # SetSelfInfoEx: protobuf wrappers, {"value": ...}
    if max_length is None:
        return fields.choice(value, name, RECV_MSG_OPTS)
    return fields.string(value, name, max_length=max_length)


def _profile_changes(session: Session, params: dict[str, Any]) -> dict[str, Any]:
    """The fields given (present and not null), checked; other SelfUserInfo keys are ignored."""
    if params.get("userID") not in (None, "", session.user_id):
        raise no_permission(f"{session.user_id} cannot change {params['userID']!r}")
    return {attribute: _profile_value(name, params[name], max_length)
            for name, (attribute, max_length) in PROFILE_FIELDS.items()
            if params.get(name) is not None}


async def update_profile(ctx: AppContext, session: Session, changes: dict[str, Any]) -> None:
    """Store the changes, then tell the user's devices and, when they can see the change,
    every online user who has them in their friend list."""
    user = await ctx.store.update_user(session.user_id, changes)
    if user is None:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {session.user_id!r} no longer exists")
    ctx.delivery.push([session.user_id], events.ON_SELF_INFO_UPDATED, self_user_info(user))
    if FRIEND_VISIBLE.isdisjoint(changes):
        return
    for entry in await ctx.store.get_friend_entries_of(session.user_id):
        if entry.owner_user_id != session.user_id:
            ctx.delivery.push([entry.owner_user_id], events.ON_FRIEND_INFO_CHANGED,
                              friend_user_item(entry, user))


@handler("SetSelfInfo", JsonObject("params"))
@handler("SetSelfInfoEx", JsonObject("params"))
async def set_self_info(ctx: AppContext, session: Session, params: dict[str, Any]) -> None:
    """Change the given fields of one's profile (nickname, faceURL, ex, globalRecvMsgOpt);
    values may come wrapped, ``{"value": ...}``, as newer SDKs send them."""
    changes = _profile_changes(session, params)
    if changes:
        await update_profile(ctx, session, changes)


@handler("SetGlobalRecvMessageOpt", Int("opt", minimum=0, maximum=2))
async def set_global_recv_message_opt(ctx: AppContext, session: Session, opt: int) -> None:
    await update_profile(ctx, session, {"global_recv_msg_opt": opt})


# other users --------------------------------------------------------------------------------

@handler("GetUsersInfo", JsonArray("userIDs"))
async def get_users_info(
    ctx: AppContext, session: Session, user_ids: list[Any]
) -> list[dict[str, Any]]:
    """``FullUserItem``s of the users that exist: public profile, and my friend and
    blacklist entries for them."""
    return await full_user_items(ctx, session.user_id, fields.user_ids(user_ids, "userIDs"))


@handler("GetUsersInfoWithCache", JsonArray("userIDs"), Str("groupID", default=""))
async def get_users_info_with_cache(
    ctx: AppContext, session: Session, user_ids: list[Any], group_id: str
) -> list[dict[str, Any]]:
    """``FullUserItemWithCache``s: GetUsersInfo plus each user's ``groupMemberInfo`` in
    ``groupID``, which only a member of that group gets to see (null otherwise)."""
    wanted = fields.user_ids(user_ids, "userIDs")
    items = await full_user_items(ctx, session.user_id, wanted)
    members: dict[str, dict[str, Any]] = {}
    if group_id and await load_member(ctx, group_id, session.user_id) is not None:
        in_group = await ctx.store.get_members(group_id, wanted)
        members = {m.user_id: member_item(m) for m in in_group}
    return [{**item, "groupMemberInfo": members.get(item["publicInfo"]["userID"])}
            for item in items]


@handler("GetUsersInfoFromSrv", JsonArray("userIDs"))
async def get_users_info_from_srv(
    ctx: AppContext, session: Session, user_ids: list[Any]
) -> list[dict[str, Any]]:
    """Public profiles of the users that exist, in the order asked."""
    wanted = fields.user_ids(user_ids, "userIDs")
    users = await ctx.store.get_users(wanted)
    return [public_user_item(users[u]) for u in wanted if u in users]


# online status ------------------------------------------------------------------------------

def _statuses(ctx: AppContext, user_ids: list[str]) -> list[dict[str, Any]]:
    return [user_status(u, ctx.delivery.platforms_of(u)) for u in user_ids]


@handler("SubscribeUsersStatus", JsonArray("userIDs"))
def subscribe_users_status(
    ctx: AppContext, session: Session, user_ids: list[Any]
) -> list[dict[str, Any]]:
    """Watch users' online status for as long as this session lives; answers their status
    now, and ``OnUserStatusChanged`` follows each change."""
    wanted = fields.user_ids(user_ids, "userIDs")
    watchers = ctx.delivery.status_watchers
    if len(set(watchers.watched_by(session)) | set(wanted)) > MAX_WATCHED_USERS:
        raise ArgumentError(f"a session may watch at most {MAX_WATCHED_USERS} users")
    watchers.watch(session, wanted)
    return _statuses(ctx, wanted)


@handler("UnsubscribeUsersStatus", JsonArray("userIDs"))
def unsubscribe_users_status(ctx: AppContext, session: Session, user_ids: list[Any]) -> None:
    ctx.delivery.status_watchers.unwatch(session, fields.user_ids(user_ids, "userIDs"))
    return None


@handler("GetSubscribeUsersStatus")
def get_subscribe_users_status(ctx: AppContext, session: Session) -> list[dict[str, Any]]:
    return _statuses(ctx, ctx.delivery.status_watchers.watched_by(session))


@handler("GetUserStatus", JsonArray("userIDs"))
def get_user_status(ctx: AppContext, session: Session, user_ids: list[Any]
                    ) -> list[dict[str, Any]]:
    return _statuses(ctx, fields.user_ids(user_ids, "userIDs"))


def watch_presence(ctx: AppContext) -> None:
    """Push ``OnUserStatusChanged`` to a user's watchers whenever their platforms change
    (called once per context, by ``oimws.handlers.install``)."""

    def on_change(change: PresenceChange) -> None:
        if not change.platforms_changed:
            return
        # The client ignores its own user's status; so does this.
        watchers = [s for s in ctx.delivery.status_watchers.watchers_of(change.user_id)
                    if s.user_id != change.user_id]
        ctx.delivery.push_to_sessions(watchers, events.ON_USER_STATUS_CHANGED,
                                      user_status(change.user_id, change.platforms_after))

    ctx.delivery.on_presence_change(on_change)
