"""Friends: applications, the friend list, remarks, pins and the blacklist.

OpenIM's rules: a friendship is one entry per direction; accepting an application creates
both, deleting a friend removes only the deleter's entry. Every refusal is decided before
anything is stored, and every change is pushed to exactly the users whose view it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.protocol import events, fields
from oimws.protocol.args import Int, JsonArray, JsonObject, Str
from oimws.protocol.errors import ApiError, ErrCode, no_permission, not_found
from oimws.protocol.fields import MAX_ID_LENGTH, MAX_IDS_PER_CALL
from oimws.session import Session
from oimws.store import UserRecord
from oimws.store.friends import (
    REQUEST_UNHANDLED,
    BlackRecord,
    FriendRecord,
    FriendRequestRecord,
)
from oimws.util.clock import now_ms

RELATIONSHIP_BLACK = 0  # SearchedFriendsInfo.relationship
RELATIONSHIP_FRIEND = 1
MAX_MESSAGE_LENGTH = 255  # reqMsg, handleMsg, remark
MAX_EX_LENGTH = 1024


# what the client sees -----------------------------------------------------------------------

def public_user_item(user: UserRecord) -> dict[str, Any]:
    """``PublicUserItem``: what anyone may see of a user."""
    return {"userID": user.user_id, "nickname": user.nickname, "faceURL": user.face_url,
            "ex": user.ex, "createTime": user.create_time}


def friend_user_item(friend: FriendRecord, user: UserRecord | None) -> dict[str, Any]:
    """``FriendUserItem``: one entry of ``friend.owner_user_id``'s friend list."""
    return {
        "ownerUserID": friend.owner_user_id,
        "userID": friend.friend_user_id,
        "remark": friend.remark,
        "createTime": friend.create_time,
        "addSource": friend.add_source,
        "operatorUserID": friend.operator_user_id,
        "nickname": user.nickname if user else "",
        "faceURL": user.face_url if user else "",
        "ex": friend.ex,
        "attachedInfo": "",
        "isPinned": friend.is_pinned,
    }


def black_user_item(black: BlackRecord, user: UserRecord | None) -> dict[str, Any]:
    """``BlackUserItem``: one entry of ``black.owner_user_id``'s blacklist."""
    return {
        "ownerUserID": black.owner_user_id,
        "userID": black.block_user_id,
        "nickname": user.nickname if user else "",
        "faceURL": user.face_url if user else "",
        "createTime": black.create_time,
        "addSource": black.add_source,
        "operatorUserID": black.operator_user_id,
        "ex": black.ex,
        "attachedInfo": "",
    }


def friend_application_item(
    request: FriendRequestRecord, users: Mapping[str, UserRecord]
) -> dict[str, Any]:
    """``FriendApplicationItem``."""
    sender, recipient = users.get(request.from_user_id), users.get(request.to_user_id)
    return {
        "fromUserID": request.from_user_id,
        "fromNickname": sender.nickname if sender else "",
        "fromFaceURL": sender.face_url if sender else "",
        "toUserID": request.to_user_id,
        "toNickname": recipient.nickname if recipient else "",
        "toFaceURL": recipient.face_url if recipient else "",
        "handleResult": request.handle_result,
        "reqMsg": request.req_msg,
        "createTime": request.create_time,
        "handlerUserID": request.handler_user_id,
        "handleMsg": request.handle_msg,
        "handleTime": request.handle_time,
        "ex": request.ex,
        "attachedInfo": "",
    }


async def friend_items(ctx: AppContext, friends: Sequence[FriendRecord]) -> list[dict[str, Any]]:
    users = await ctx.store.get_users([f.friend_user_id for f in friends])
    return [friend_user_item(f, users.get(f.friend_user_id)) for f in friends]


async def full_user_items(
    ctx: AppContext, owner_id: str, user_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """``FullUserItem``s (public, friend and blacklist views) of the users that exist, in the
    order asked, as ``owner_id`` sees them."""
    wanted = list(dict.fromkeys(user_ids))
    users = await ctx.store.get_users(wanted)
    friends = {f.friend_user_id: f for f in await ctx.store.get_friends(owner_id, wanted)}
    blacks = {b.block_user_id: b for b in await ctx.store.get_blacks(owner_id, wanted)}
    items = []
    for user_id in wanted:
        user = users.get(user_id)
        if user is None:
            continue
        friend, black = friends.get(user_id), blacks.get(user_id)
        items.append({
            "publicInfo": public_user_item(user),
            "friendInfo": friend_user_item(friend, user) if friend else None,
            "blackInfo": black_user_item(black, user) if black else None,
        })
    return items


async def _application_item(ctx: AppContext, request: FriendRequestRecord) -> dict[str, Any]:
    users = await ctx.store.get_users([request.from_user_id, request.to_user_id])
    return friend_application_item(request, users)


async def _application_items(
    ctx: AppContext, requests: Sequence[FriendRequestRecord]
) -> list[dict[str, Any]]:
    user_ids = {u for r in requests for u in (r.from_user_id, r.to_user_id)}
    users = await ctx.store.get_users(list(user_ids))
    return [friend_application_item(r, users) for r in requests]


async def _tell_owner_of_changes(
    ctx: AppContext, owner_id: str, friends: Iterable[FriendRecord]
) -> None:
    """Push ``OnFriendInfoChanged`` for these entries to the owner's devices."""
    if ctx.delivery.is_online(owner_id):
        for item in await friend_items(ctx, list(friends)):
            ctx.delivery.push([owner_id], events.ON_FRIEND_INFO_CHANGED, item)


# checks other domains use -------------------------------------------------------------------

async def check_may_message(ctx: AppContext, sender_id: str, recipient_id: str) -> None:
    """Refuse a one-to-one message the recipient does not take: they blocked the sender
    (1302), or friendship is required and the sender is not in their list (1303)."""
    if sender_id == recipient_id:
        return  # a note to oneself
    if await ctx.store.get_blacks(recipient_id, [sender_id]):
        raise ApiError(ErrCode.BLOCKED_BY_PEER, f"{recipient_id} has blocked {sender_id}")
    if ctx.config.friend_required_for_chat and not await ctx.store.get_friends(
            recipient_id, [sender_id]):
        raise ApiError(ErrCode.NOT_PEERS_FRIEND,
                       f"{sender_id} is not a friend of {recipient_id}")


# lookups that refuse -----------------------------------------------------------------------

async def _require_user(ctx: AppContext, user_id: str) -> UserRecord:
    user = (await ctx.store.get_users([user_id])).get(user_id)
    if user is None:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {user_id!r} is not registered")
    return user


async def _require_friends(
    ctx: AppContext, owner_id: str, friend_ids: Sequence[str], **changes: Any
) -> list[FriendRecord]:
    """Apply ``changes`` to these friends of the owner; 1004 unless all are friends."""
    updated = await ctx.store.update_friends(owner_id, friend_ids, **changes)
    if updated is None:
        raise not_found(f"not all of {', '.join(friend_ids)} are friends of {owner_id}")
    return updated


# applications -------------------------------------------------------------------------------

@handler("AddFriend", JsonObject("params"))
async def add_friend(ctx: AppContext, session: Session, params: dict[str, Any]) -> None:
    """Apply to become ``toUserID``'s friend; both users' devices hear of the application."""
    me = session.user_id
    to_user_id = fields.user_id(params.get("toUserID"), "toUserID")
    req_msg = fields.text(params, "reqMsg", max_length=MAX_MESSAGE_LENGTH)
    ex = fields.text(params, "ex", max_length=MAX_EX_LENGTH)
    if params.get("fromUserID") not in (None, "", me):
        raise no_permission(f"{me} cannot apply on behalf of {params['fromUserID']!r}")
    if to_user_id == me:
        raise ApiError(ErrCode.CAN_NOT_ADD_YOURSELF, "you cannot add yourself as a friend")
    await _require_user(ctx, to_user_id)
    # OpenIM lets a blocked user apply; here the blocker is spared the application.
    if await ctx.store.get_blacks(to_user_id, [me]):
        raise ApiError(ErrCode.BLOCKED_BY_PEER, f"{to_user_id} has blocked {me}")
    mine = await ctx.store.get_friends(me, [to_user_id])
    theirs = await ctx.store.get_friends(to_user_id, [me])
    if mine and theirs:
        raise ApiError(ErrCode.RELATIONSHIP_ALREADY, f"{to_user_id} is your friend already")
    request = await ctx.store.save_friend_request(
        FriendRequestRecord(me, to_user_id, req_msg=req_msg, ex=ex))
    ctx.delivery.push([me, to_user_id], events.ON_FRIEND_APPLICATION_ADDED,
                      await _application_item(ctx, request))
    return None


_RESPONSE_ARGS = JsonObject("params")


async def _pending_answer(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> tuple[str, str]:
    """(applicant, handleMsg) of an Accept/RefuseFriendApplication call, whose application
    to the caller must be waiting for an answer."""
    applicant = fields.user_id(params.get("toUserID"), "toUserID")
    handle_msg = fields.text(params, "handleMsg", max_length=MAX_MESSAGE_LENGTH)
    request = await ctx.store.get_friend_request(applicant, session.user_id)
    if request is None:
        raise not_found(f"there is no friend application from {applicant} to "
                        f"{session.user_id}")
    if request.handle_result != REQUEST_UNHANDLED:
        raise _handled_already(applicant)
    return applicant, handle_msg


def _handled_already(applicant: str) -> ApiError:
    return ApiError(ErrCode.ARGS, f"the application from {applicant} was handled already")


@handler("AcceptFriendApplication", _RESPONSE_ARGS)
async def accept_friend_application(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> None:
    """Accept ``toUserID``'s application: both become each other's friends."""
    me = session.user_id
    applicant, handle_msg = await _pending_answer(ctx, session, params)
    result = await ctx.store.accept_friend_request(applicant, me, handle_msg, now_ms())
    if result is None:
        raise _handled_already(applicant)  # handled on another device meanwhile
    ctx.delivery.push([applicant, me], events.ON_FRIEND_APPLICATION_ACCEPTED,
                      await _application_item(ctx, result.request))
    for friend in result.new_friends:
        item = (await friend_items(ctx, [friend]))[0]
        ctx.delivery.push([friend.owner_user_id], events.ON_FRIEND_ADDED, item)
    return None


@handler("RefuseFriendApplication", _RESPONSE_ARGS)
async def refuse_friend_application(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> None:
    me = session.user_id
    applicant, handle_msg = await _pending_answer(ctx, session, params)
    request = await ctx.store.refuse_friend_request(applicant, me, handle_msg, now_ms())
    if request is None:
        raise _handled_already(applicant)
    ctx.delivery.push([applicant, me], events.ON_FRIEND_APPLICATION_REJECTED,
                      await _application_item(ctx, request))
    return None


@handler("GetFriendApplicationListAsRecipient")
async def get_friend_application_list_as_recipient(
    ctx: AppContext, session: Session
) -> list[dict[str, Any]]:
    """Applications to me, newest first."""
    return await _application_items(ctx, await ctx.store.get_friend_requests_to(session.user_id))


@handler("GetFriendApplicationListAsApplicant")
async def get_friend_application_list_as_applicant(
    ctx: AppContext, session: Session
) -> list[dict[str, Any]]:
    """My applications, newest first."""
    return await _application_items(
        ctx, await ctx.store.get_friend_requests_from(session.user_id))


# the friend list ----------------------------------------------------------------------------

@handler("GetFriendList")
async def get_friend_list(ctx: AppContext, session: Session) -> list[dict[str, Any]]:
    """``FullUserItem``s of all my friends (pinned first), blocked ones included."""
    friends = await ctx.store.get_friends(session.user_id)
    return await full_user_items(ctx, session.user_id, [f.friend_user_id for f in friends])


@handler("GetFriendListPage", Int("offset", minimum=0), Int("count", minimum=0,
                                                              maximum=MAX_IDS_PER_CALL))
async def get_friend_list_page(
    ctx: AppContext, session: Session, offset: int, count: int
) -> list[dict[str, Any]]:
    friends = await ctx.store.get_friend_page(session.user_id, offset, count)
    return await full_user_items(ctx, session.user_id, [f.friend_user_id for f in friends])


_USER_IDS = JsonArray("userIDList")


@handler("GetSpecifiedFriendsInfo", _USER_IDS)
async def get_specified_friends_info(
    ctx: AppContext, session: Session, user_ids: list[Any]
) -> list[dict[str, Any]]:
    """``FullUserItem``s of those of the given users who are my friends."""
    wanted = fields.user_ids(user_ids, "userIDList")
    friends = {f.friend_user_id for f in await ctx.store.get_friends(session.user_id, wanted)}
    return await full_user_items(ctx, session.user_id, [u for u in wanted if u in friends])


@handler("CheckFriend", _USER_IDS)
async def check_friend(
    ctx: AppContext, session: Session, user_ids: list[Any]
) -> list[dict[str, Any]]:
    """``FriendshipInfo`` per user: result 1 if in my friend list and not blocked by me."""
    wanted = fields.user_ids(user_ids, "userIDList")
    friends = {f.friend_user_id for f in await ctx.store.get_friends(session.user_id, wanted)}
    blocked = {b.block_user_id for b in await ctx.store.get_blacks(session.user_id, wanted)}
    return [{"userID": u, "result": int(u in friends and u not in blocked)} for u in wanted]


@handler("SearchFriends", JsonObject("params"))
async def search_friends(
    ctx: AppContext, session: Session, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """My friends whose ID, nickname or remark (as asked) contains any keyword, ignoring case;
    each with ``relationship`` 0 if I blocked them, else 1."""
    keywords = fields.keywords(params)
    looked_in = fields.search_flags(params, "isSearchUserID", "isSearchNickname",
                                    "isSearchRemark")
    items = await friend_items(ctx, await ctx.store.get_friends(session.user_id))
    blocked = {b.block_user_id for b in await ctx.store.get_blacks(session.user_id)}
    found = []
    for item in items:
        searched = [value for value, on in zip(
            (item["userID"], item["nickname"], item["remark"]), looked_in, strict=True) if on]
        if fields.matches(keywords, *searched):
            relationship = RELATIONSHIP_BLACK if item["userID"] in blocked else RELATIONSHIP_FRIEND
            found.append({**item, "relationship": relationship})
    return found


@handler("SetFriendRemark", JsonObject("params"))
async def set_friend_remark(ctx: AppContext, session: Session, params: dict[str, Any]) -> None:
    friend_id = fields.user_id(params.get("toUserID"), "toUserID")
    remark = fields.text(params, "remark", max_length=MAX_MESSAGE_LENGTH)
    updated = await _require_friends(ctx, session.user_id, [friend_id], remark=remark)
    await _tell_owner_of_changes(ctx, session.user_id, updated)
    return None


@handler("PinFriends", JsonObject("params"))
async def pin_friends(ctx: AppContext, session: Session, params: dict[str, Any]) -> None:
    """Pin (or unpin) friends to the top of my friend list."""
    friend_ids = fields.user_ids(params.get("toUserIDs"), "toUserIDs")
    is_pinned = fields.boolean(fields.unwrap(params.get("isPinned")), "isPinned")
    updated = await _require_friends(ctx, session.user_id, friend_ids, is_pinned=is_pinned)
    await _tell_owner_of_changes(ctx, session.user_id, updated)
    return None


@handler("SetFriendsEx", JsonArray("friendIDs"), Str("ex", max_length=MAX_EX_LENGTH))
async def set_friends_ex(
    ctx: AppContext, session: Session, friend_ids: list[Any], ex: str
) -> None:
    wanted = fields.user_ids(friend_ids, "friendIDs")
    updated = await _require_friends(ctx, session.user_id, wanted, ex=ex)
    await _tell_owner_of_changes(ctx, session.user_id, updated)
    return None


@handler("DeleteFriend", Str("friendUserID", max_length=MAX_ID_LENGTH))
async def delete_friend(ctx: AppContext, session: Session, friend_id: str) -> None:
    """Remove a friend from my list only; they keep me in theirs until they delete me too."""
    removed = await ctx.store.delete_friend(session.user_id,
                                            fields.user_id(friend_id, "friendUserID"))
    if removed is None:
        raise not_found(f"{friend_id} is not a friend of {session.user_id}")
    item = (await friend_items(ctx, [removed]))[0]
    ctx.delivery.push([session.user_id], events.ON_FRIEND_DELETED, item)
    return None


# the blacklist ------------------------------------------------------------------------------

@handler("AddBlack", Str("blackUserID", max_length=MAX_ID_LENGTH),
         Str("ex", default="", max_length=MAX_EX_LENGTH))
async def add_black(ctx: AppContext, session: Session, black_id: str, ex: str) -> None:
    """Block a user: their one-to-one messages and friend applications are refused (1302)."""
    me = session.user_id
    fields.user_id(black_id, "blackUserID")
    if black_id == me:
        raise ApiError(ErrCode.CAN_NOT_ADD_YOURSELF, "you cannot block yourself")
    user = await _require_user(ctx, black_id)
    black = BlackRecord(me, black_id, create_time=now_ms(), operator_user_id=me, ex=ex)
    if not await ctx.store.add_black(black):
        raise ApiError(ErrCode.DUPLICATE_KEY, f"{black_id} is in your blacklist already")
    ctx.delivery.push([me], events.ON_BLACK_ADDED, black_user_item(black, user))
    return None


@handler("RemoveBlack", Str("removeUserID", max_length=MAX_ID_LENGTH))
async def remove_black(ctx: AppContext, session: Session, user_id: str) -> None:
    removed = await ctx.store.remove_black(session.user_id,
                                           fields.user_id(user_id, "removeUserID"))
    if removed is None:
        raise not_found(f"{user_id} is not in your blacklist")
    user = (await ctx.store.get_users([user_id])).get(user_id)
    ctx.delivery.push([session.user_id], events.ON_BLACK_DELETED,
                      black_user_item(removed, user))
    return None


@handler("GetBlackList")
async def get_black_list(ctx: AppContext, session: Session) -> list[dict[str, Any]]:
    blacks = await ctx.store.get_blacks(session.user_id)
    users = await ctx.store.get_users([b.block_user_id for b in blacks])
    return [black_user_item(b, users.get(b.block_user_id)) for b in blacks]
