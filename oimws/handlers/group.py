"""Groups: creating them and changing who is in them, their roles, mutes and settings.

Every rule is checked before anything is stored, so a refusal changes nothing. Each change
then tells exactly the users concerned (callbacks) and records a notification message in the
group conversation.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.handlers.conversation import push_conversation_updates
from oimws.handlers.group_notice import (
    GroupNotice,
    managers_of,
    post_notice,
    tell,
    tell_group_changed,
    tell_member_changed,
)
from oimws.handlers.group_view import (
    application_item,
    group_item,
    load_group,
    load_member,
    member_item,
    require_manager,
    require_member,
    require_outranks,
)
from oimws.protocol import events, fields
from oimws.protocol.args import Bool, Int, JsonArray, JsonObject, Str
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode, no_permission
from oimws.protocol.fields import MAX_ID_LENGTH
from oimws.session import Session
from oimws.store import DuplicateKeyError
from oimws.store.groups import (
    APPLICATION_ACCEPTED,
    APPLICATION_REFUSED,
    GROUP_STATUS_DISMISSED,
    GROUP_STATUS_MUTED,
    GROUP_STATUS_NORMAL,
    ROLE_ADMIN,
    ROLE_MEMBER,
    ROLE_OWNER,
    GroupApplicationRecord,
    GroupRecord,
    MemberRecord,
)
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP, group_conversation_id

JOIN_SOURCE_INVITATION = 2
VERIFY_APPLICATIONS_ONLY = 0  # joining needs approval, invitations do not
VERIFY_ALL = 1  # both need approval (unless a manager invites)
VERIFY_NONE = 2  # anyone may join directly

# SetGroupInfo fields: wire name -> (record attribute, expected type, allowed values)
GROUP_SETTINGS: dict[str, tuple[str, type, tuple[int, ...] | None]] = {
    "groupName": ("group_name", str, None),
    "notification": ("notification", str, None),
    "introduction": ("introduction", str, None),
    "faceURL": ("face_url", str, None),
    "ex": ("ex", str, None),
    "needVerification": ("need_verification", int, (0, 1, 2)),
    "lookMemberInfo": ("look_member_info", int, (0, 1)),
    "applyMemberFriend": ("apply_member_friend", int, (0, 1)),
}
MAX_SETTING_LENGTH = 4096


# helpers ------------------------------------------------------------------------------------

async def _require_registered(ctx: AppContext, user_ids: Sequence[str]) -> dict[str, Any]:
    users = await ctx.store.get_users(list(user_ids))
    missing = [u for u in user_ids if u not in users]
    if missing:
        raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"not registered: {', '.join(missing)}")
    return users


async def _new_members(
    ctx: AppContext, group_id: str, user_ids: Sequence[str], *, role: int, operator: str,
    inviter: str, join_source: int,
) -> list[MemberRecord]:
    users = await _require_registered(ctx, user_ids)
    now = now_ms()
    return [MemberRecord(group_id=group_id, user_id=user_id, nickname=users[user_id].nickname,
                         face_url=users[user_id].face_url, role_level=role, join_time=now,
                         join_source=join_source, inviter_user_id=inviter,
                         operator_user_id=operator) for user_id in user_ids]


async def _open_conversation(ctx: AppContext, group_id: str, user_ids: Iterable[str]) -> None:
    """Members have the group conversation from the moment they join (so a group message
    need not write a row per member)."""
    conversation_id = group_conversation_id(group_id)
    opened = await ctx.store.ensure_conversations(list(user_ids), conversation_id,
                                                  SESSION_GROUP, group_id=group_id)
    await push_conversation_updates(ctx, opened, conversation_id, opened)


async def _refreshed(ctx: AppContext, group_id: str) -> GroupRecord:
    return await load_group(ctx, group_id, allow_dismissed=True)


async def _welcome(
    ctx: AppContext, group_id: str, joined: Sequence[MemberRecord], operator: MemberRecord | None,
    notice: GroupNotice, detail_key: str,
) -> None:
    """Tell the newcomers they joined, the others who is new, and record it."""
    group = await _refreshed(ctx, group_id)
    member_ids = await ctx.store.get_member_ids(group_id)
    newcomer_ids = {m.user_id for m in joined}
    await _open_conversation(ctx, group_id, newcomer_ids)
    others = [u for u in member_ids if u not in newcomer_ids]
    tell(ctx, newcomer_ids, events.ON_JOINED_GROUP_ADDED, group_item(group))
    for member in joined:
        tell(ctx, others, events.ON_GROUP_MEMBER_ADDED, member_item(member))
    if notice == GroupNotice.MEMBER_ENTERED:
        detail: dict[str, Any] = {detail_key: member_item(joined[0])}
    else:
        detail = {detail_key: [member_item(m) for m in joined]}
    await post_notice(ctx, group, notice, operator, member_ids, detail)


async def _farewell(
    ctx: AppContext, group: GroupRecord, removed: Sequence[MemberRecord],
    operator: MemberRecord | None, notice: GroupNotice, detail: dict[str, Any],
) -> None:
    """Tell the removed they left, the rest who left, and record it (the removed see it too)."""
    remaining = await ctx.store.get_member_ids(group.group_id)
    group = await _refreshed(ctx, group.group_id)
    removed_ids = [m.user_id for m in removed]
    tell(ctx, removed_ids, events.ON_JOINED_GROUP_DELETED, group_item(group))
    for member in removed:
        tell(ctx, remaining, events.ON_GROUP_MEMBER_DELETED, member_item(member))
    await post_notice(ctx, group, notice, operator, [*remaining, *removed_ids], detail)


# creating and joining -----------------------------------------------------------------------

async def _unused_group_id(ctx: AppContext) -> str:
    while True:
        group_id = str(secrets.randbelow(9_000_000_000) + 1_000_000_000)
        if not await ctx.store.get_groups([group_id]):
            return group_id


def _group_settings(info: dict[str, Any], where: str = "") -> dict[str, Any]:
    """Validated SetGroupInfo/CreateGroup fields (those given, not null) as record
    attributes."""
    settings: dict[str, Any] = {}
    for wire_name, (attribute, kind, allowed) in GROUP_SETTINGS.items():
        value = info.get(wire_name)
        if value is None:
            continue
        if kind is str:
            settings[attribute] = fields.string(value, where + wire_name,
                                                max_length=MAX_SETTING_LENGTH)
        elif allowed is not None:
            settings[attribute] = fields.choice(value, where + wire_name, allowed)
        else:
            settings[attribute] = fields.integer(info, wire_name, where=where)
    return settings


@handler("CreateGroup", JsonObject("params"))
async def create_group(ctx: AppContext, session: Session, params: dict[str, Any]
                       ) -> dict[str, Any]:
    """Create a group owned by the caller, with members and admins from the params."""
    info = params.get("groupInfo") or {}
    if not isinstance(info, dict):
        raise ArgumentError("groupInfo must be an object")
    owner_id = params.get("ownerUserID") or session.user_id
    if owner_id != session.user_id:
        raise no_permission("the creator of a group is its owner")
    member_ids = [u for u in fields.user_ids(params.get("memberUserIDs"), "memberUserIDs",
                                             optional=True) if u != owner_id]
    admin_ids = [u for u in fields.user_ids(params.get("adminUserIDs"), "adminUserIDs",
                                            optional=True) if u != owner_id]
    member_ids += [u for u in admin_ids if u not in member_ids]
    settings = _group_settings(info, "groupInfo.")
    group_id = fields.text(info, "groupID", max_length=MAX_ID_LENGTH, where="groupInfo.")
    if group_id and await ctx.store.get_groups([group_id]):
        raise ApiError(ErrCode.GROUP_ID_EXISTED, f"group {group_id!r} exists already")
    group_id = group_id or await _unused_group_id(ctx)
    now = now_ms()
    group = GroupRecord(group_id=group_id, owner_user_id=owner_id, creator_user_id=owner_id,
                        create_time=now, **settings)
    owner = await _new_members(ctx, group_id, [owner_id], role=ROLE_OWNER, operator=owner_id,
                               inviter="", join_source=JOIN_SOURCE_INVITATION)
    admins = set(admin_ids)
    members = await _new_members(ctx, group_id, member_ids, role=ROLE_MEMBER,
                                 operator=owner_id, inviter=owner_id,
                                 join_source=JOIN_SOURCE_INVITATION)
    for member in members:
        if member.user_id in admins:
            member.role_level = ROLE_ADMIN
    everyone = owner + members
    try:
        await ctx.store.create_group(group, everyone)
    except DuplicateKeyError:
        raise ApiError(ErrCode.GROUP_ID_EXISTED, f"group {group_id!r} exists already") from None
    group = await _refreshed(ctx, group_id)
    all_ids = [m.user_id for m in everyone]
    await _open_conversation(ctx, group_id, all_ids)
    tell(ctx, all_ids, events.ON_JOINED_GROUP_ADDED, group_item(group))
    await post_notice(ctx, group, GroupNotice.CREATED, owner[0], all_ids, {
        "memberList": [member_item(m) for m in everyone],
        "groupOwnerUser": member_item(owner[0]),
    })
    return group_item(group)


@handler("JoinGroup", Str("groupID", max_length=MAX_ID_LENGTH), Str("reqMsg", default=""),
         Int("joinSource", default=3), Str("ex", default=""))
async def join_group(ctx: AppContext, session: Session, group_id: str, req_msg: str,
                     join_source: int, ex: str) -> None:
    """Join directly when the group allows it, otherwise apply to its owner and admins."""
    group = await load_group(ctx, group_id)
    if await load_member(ctx, group_id, session.user_id) is not None:
        raise ApiError(ErrCode.ARGS, f"{session.user_id} is already in group {group_id!r}")
    if group.need_verification == VERIFY_NONE:
        joined = await _new_members(ctx, group_id, [session.user_id], role=ROLE_MEMBER,
                                    operator=session.user_id, inviter="",
                                    join_source=join_source)
        await ctx.store.add_members(joined)
        await _welcome(ctx, group_id, joined, None, GroupNotice.MEMBER_ENTERED, "entrantUser")
        return None
    application = GroupApplicationRecord(group_id=group_id, user_id=session.user_id,
                                         req_msg=req_msg, req_time=now_ms(),
                                         join_source=join_source, ex=ex)
    await ctx.store.save_application(application)
    await _announce_application(ctx, group, application)
    return None


async def _announce_application(
    ctx: AppContext, group: GroupRecord, application: GroupApplicationRecord
) -> None:
    managers = managers_of(await ctx.store.get_members(group.group_id))
    applicant = (await ctx.store.get_users([application.user_id])).get(application.user_id)
    tell(ctx, [*managers, application.user_id], events.ON_GROUP_APPLICATION_ADDED,
         application_item(application, group, applicant))


async def _settle_application(
    ctx: AppContext, session: Session, group_id: str, applicant_id: str, handle_msg: str,
    accept: bool,
) -> None:
    group = await load_group(ctx, group_id)
    manager = await require_manager(ctx, group, session.user_id)
    application = await ctx.store.get_application(group_id, applicant_id)
    if application is None:
        raise ApiError(ErrCode.RECORD_NOT_FOUND,
                       f"{applicant_id} has not applied to group {group_id!r}")
    already_member = await load_member(ctx, group_id, applicant_id) is not None
    joined = [] if not accept or already_member else await _new_members(
        ctx, group_id, [applicant_id], role=ROLE_MEMBER, operator=session.user_id,
        inviter=application.inviter_user_id, join_source=application.join_source)
    settled = await ctx.store.handle_application(
        group_id, applicant_id, APPLICATION_ACCEPTED if accept else APPLICATION_REFUSED,
        session.user_id, handle_msg, joined[0] if joined else None)
    if not settled:
        raise ApiError(ErrCode.GROUP_REQUEST_HANDLED,
                       f"the application of {applicant_id} was handled already")
    handled = await ctx.store.get_application(group_id, applicant_id)
    assert handled is not None
    applicant = (await ctx.store.get_users([applicant_id])).get(applicant_id)
    managers = managers_of(await ctx.store.get_members(group_id))
    event = (events.ON_GROUP_APPLICATION_ACCEPTED if accept
             else events.ON_GROUP_APPLICATION_REJECTED)
    tell(ctx, dict.fromkeys([applicant_id, *managers]), event,
         application_item(handled, group, applicant))
    if joined:
        await _welcome(ctx, group_id, joined, manager, GroupNotice.MEMBER_ENTERED,
                       "entrantUser")


@handler("AcceptGroupApplication", Str("groupID", max_length=MAX_ID_LENGTH),
         Str("fromUserID", max_length=MAX_ID_LENGTH), Str("handleMsg", default=""))
async def accept_group_application(ctx: AppContext, session: Session, group_id: str,
                                   from_user_id: str, handle_msg: str) -> None:
    await _settle_application(ctx, session, group_id, from_user_id, handle_msg, accept=True)


@handler("RefuseGroupApplication", Str("groupID", max_length=MAX_ID_LENGTH),
         Str("fromUserID", max_length=MAX_ID_LENGTH), Str("handleMsg", default=""))
async def refuse_group_application(ctx: AppContext, session: Session, group_id: str,
                                   from_user_id: str, handle_msg: str) -> None:
    await _settle_application(ctx, session, group_id, from_user_id, handle_msg, accept=False)


@handler("InviteUserToGroup", Str("groupID", max_length=MAX_ID_LENGTH),
         Str("reason", default=""), JsonArray("userIDList", item=Str("userID")))
async def invite_user_to_group(ctx: AppContext, session: Session, group_id: str, reason: str,
                               user_ids: list[str]) -> None:
    """Members invite; in a group where everything needs approval, a plain member's
    invitations become applications for the owner and admins."""
    group = await load_group(ctx, group_id)
    inviter = await require_member(ctx, group, session.user_id)
    invitees = fields.user_ids(user_ids, "userIDList")
    await _require_registered(ctx, invitees)
    present = {m.user_id for m in await ctx.store.get_members(group_id, invitees)}
    invitees = [u for u in invitees if u not in present]
    if not invitees:
        raise ApiError(ErrCode.ARGS, "everyone invited is in the group already")
    if group.need_verification == VERIFY_ALL and inviter.role_level < ROLE_ADMIN:
        for invitee in invitees:
            application = GroupApplicationRecord(
                group_id=group_id, user_id=invitee, req_msg=reason, req_time=now_ms(),
                join_source=JOIN_SOURCE_INVITATION, inviter_user_id=session.user_id)
            await ctx.store.save_application(application)
            await _announce_application(ctx, group, application)
        return None
    joined = await _new_members(ctx, group_id, invitees, role=ROLE_MEMBER,
                                operator=session.user_id, inviter=session.user_id,
                                join_source=JOIN_SOURCE_INVITATION)
    added = set(await ctx.store.add_members(joined))
    joined = [m for m in joined if m.user_id in added]
    if joined:
        await _welcome(ctx, group_id, joined, inviter, GroupNotice.MEMBER_INVITED,
                       "invitedUserList")
    return None


# leaving ------------------------------------------------------------------------------------

@handler("KickGroupMember", Str("groupID", max_length=MAX_ID_LENGTH),
         Str("reason", default=""), JsonArray("userIDList", item=Str("userID")))
async def kick_group_member(ctx: AppContext, session: Session, group_id: str, reason: str,
                            user_ids: list[str]) -> None:
    group = await load_group(ctx, group_id)
    actor = await require_manager(ctx, group, session.user_id)
    targets_ids = fields.user_ids(user_ids, "userIDList")
    targets = await ctx.store.get_members(group_id, targets_ids)
    missing = set(targets_ids) - {t.user_id for t in targets}
    if missing:
        raise ApiError(ErrCode.NOT_IN_GROUP_YET,
                       f"not members of {group_id!r}: {', '.join(sorted(missing))}")
    for target in targets:
        require_outranks(actor, target)
    removed = set(await ctx.store.remove_members(group_id, targets_ids))
    gone = [t for t in targets if t.user_id in removed]
    await _farewell(ctx, group, gone, actor, GroupNotice.MEMBER_KICKED,
                    {"kickedUserList": [member_item(m) for m in gone], "reason": reason})


@handler("QuitGroup", Str("groupID", max_length=MAX_ID_LENGTH))
async def quit_group(ctx: AppContext, session: Session, group_id: str) -> None:
    group = await load_group(ctx, group_id)
    member = await require_member(ctx, group, session.user_id)
    if member.role_level == ROLE_OWNER:
        raise no_permission("the owner cannot quit; transfer ownership or dismiss the group")
    await ctx.store.remove_members(group_id, [session.user_id])
    await _farewell(ctx, group, [member], None, GroupNotice.MEMBER_QUIT,
                    {"quitUser": member_item(member)})


@handler("DismissGroup", Str("groupID", max_length=MAX_ID_LENGTH))
async def dismiss_group(ctx: AppContext, session: Session, group_id: str) -> None:
    group = await load_group(ctx, group_id)
    owner = await require_member(ctx, group, session.user_id)
    if owner.role_level != ROLE_OWNER:
        raise no_permission("only the owner may dismiss the group")
    await ctx.store.update_group(group_id, {"status": GROUP_STATUS_DISMISSED})
    group = await _refreshed(ctx, group_id)
    member_ids = await ctx.store.get_member_ids(group_id)
    await post_notice(ctx, group, GroupNotice.DISMISSED, owner, member_ids, {})
    tell(ctx, member_ids, events.ON_GROUP_DISMISSED, group_item(group))


# ownership, mutes, settings -----------------------------------------------------------------

@handler("TransferGroupOwner", Str("groupID", max_length=MAX_ID_LENGTH),
         Str("newOwnerUserID", max_length=MAX_ID_LENGTH))
async def transfer_group_owner(ctx: AppContext, session: Session, group_id: str,
                               new_owner_id: str) -> None:
    group = await load_group(ctx, group_id)
    owner = await require_member(ctx, group, session.user_id)
    if owner.role_level != ROLE_OWNER:
        raise no_permission("only the owner may transfer the group")
    if new_owner_id == session.user_id:
        raise ArgumentError("newOwnerUserID is the owner already")
    await require_member(ctx, group, new_owner_id)
    await ctx.store.transfer_owner(group_id, session.user_id, new_owner_id)
    group = await _refreshed(ctx, group_id)
    members = await ctx.store.get_members(group_id)
    member_ids = [m.user_id for m in members]
    changed = {m.user_id: m for m in members if m.user_id in (session.user_id, new_owner_id)}
    for member in changed.values():
        tell_member_changed(ctx, member, member_ids)
    tell_group_changed(ctx, group, member_ids)
    await post_notice(ctx, group, GroupNotice.OWNER_TRANSFERRED, changed[session.user_id],
                      member_ids, {"newGroupOwner": member_item(changed[new_owner_id])})


@handler("ChangeGroupMute", Str("groupID", max_length=MAX_ID_LENGTH), Bool("isMute"))
async def change_group_mute(ctx: AppContext, session: Session, group_id: str,
                            is_mute: bool) -> None:
    group = await load_group(ctx, group_id)
    actor = await require_manager(ctx, group, session.user_id)
    status = GROUP_STATUS_MUTED if is_mute else GROUP_STATUS_NORMAL
    await ctx.store.update_group(group_id, {"status": status})
    group = await _refreshed(ctx, group_id)
    member_ids = await ctx.store.get_member_ids(group_id)
    tell_group_changed(ctx, group, member_ids)
    notice = GroupNotice.GROUP_MUTED if is_mute else GroupNotice.GROUP_UNMUTED
    await post_notice(ctx, group, notice, actor, member_ids, {})


@handler("ChangeGroupMemberMute", Str("groupID", max_length=MAX_ID_LENGTH),
         Str("userID", max_length=MAX_ID_LENGTH), Int("mutedSeconds", minimum=0,
                                                       maximum=10 * 365 * 24 * 3600))
async def change_group_member_mute(ctx: AppContext, session: Session, group_id: str,
                                   user_id: str, muted_seconds: int) -> None:
    """Mute a member for ``mutedSeconds`` (0 lifts the mute)."""
    group = await load_group(ctx, group_id)
    actor = await require_manager(ctx, group, session.user_id)
    target = await require_member(ctx, group, user_id)
    require_outranks(actor, target)
    mute_end = now_ms() + muted_seconds * 1000 if muted_seconds else 0
    await ctx.store.update_member(group_id, user_id, {"mute_end_time": mute_end})
    target.mute_end_time = mute_end
    member_ids = await ctx.store.get_member_ids(group_id)
    tell_member_changed(ctx, target, member_ids)
    if muted_seconds:
        await post_notice(ctx, group, GroupNotice.MEMBER_MUTED, actor, member_ids,
                          {"mutedUser": member_item(target), "mutedSeconds": muted_seconds})
    else:
        await post_notice(ctx, group, GroupNotice.MEMBER_UNMUTED, actor, member_ids,
                          {"mutedUser": member_item(target)})


async def _set_group_settings(ctx: AppContext, session: Session, group_id: str,
                              settings: dict[str, Any]) -> None:
    group = await load_group(ctx, group_id)
    actor = await require_manager(ctx, group, session.user_id)
    if not settings:
        raise ArgumentError("nothing to change")
    if "notification" in settings:
        settings["notification_user_id"] = session.user_id
        settings["notification_update_time"] = now_ms()
    await ctx.store.update_group(group_id, settings)
    group = await _refreshed(ctx, group_id)
    member_ids = await ctx.store.get_member_ids(group_id)
    tell_group_changed(ctx, group, member_ids)
    notices = []
    if "group_name" in settings:
        notices.append(GroupNotice.NAME_SET)
    if "notification" in settings:
        notices.append(GroupNotice.ANNOUNCEMENT_SET)
    if set(settings) - {"group_name", "notification", "notification_user_id",
                        "notification_update_time"}:
        notices.append(GroupNotice.INFO_SET)
    for notice in notices:
        await post_notice(ctx, group, notice, actor, member_ids, {})


@handler("SetGroupInfo", JsonObject("params"))
async def set_group_info(ctx: AppContext, session: Session, params: dict[str, Any]) -> None:
    group_id = fields.non_empty_text(params, "groupID")
    await _set_group_settings(ctx, session, group_id, _group_settings(params))


def _setting_handler(name: str, wire_name: str, allowed: tuple[int, ...]) -> None:
    async def set_one(ctx: AppContext, session: Session, group_id: str, value: int) -> None:
        await _set_group_settings(ctx, session, group_id, _group_settings({wire_name: value}))

    set_one.__doc__ = f"Set the group's {wire_name} ({' / '.join(map(str, allowed))})."
    handler(name, Str("groupID", max_length=MAX_ID_LENGTH),
            Int(wire_name, minimum=min(allowed), maximum=max(allowed)))(set_one)


_setting_handler("SetGroupVerification", "needVerification", (0, 1, 2))
_setting_handler("SetGroupLookMemberInfo", "lookMemberInfo", (0, 1))
_setting_handler("SetGroupApplyMemberFriend", "applyMemberFriend", (0, 1))


async def _set_member_info(ctx: AppContext, session: Session, group_id: str, user_id: str,
                           changes: dict[str, Any]) -> None:
    group = await load_group(ctx, group_id)
    actor = await require_member(ctx, group, session.user_id)
    target = await require_member(ctx, group, user_id)
    if not changes:
        raise ArgumentError("nothing to change")
    if "role_level" in changes:
        if actor.role_level != ROLE_OWNER:
            raise no_permission("only the owner may change roles")
        if changes["role_level"] not in (ROLE_MEMBER, ROLE_ADMIN):
            raise ArgumentError("roleLevel must be 20 (member) or 60 (admin)")
        require_outranks(actor, target)
    elif actor.user_id != target.user_id:
        if actor.role_level < ROLE_ADMIN:
            raise no_permission("only the owner or an admin may change another member")
        require_outranks(actor, target)
    await ctx.store.update_member(group_id, user_id, changes)
    [target] = await ctx.store.get_members(group_id, [user_id])
    member_ids = await ctx.store.get_member_ids(group_id)
    tell_member_changed(ctx, target, member_ids)
    notice = GroupNotice.MEMBER_INFO_SET
    if changes.get("role_level") == ROLE_ADMIN:
        notice = GroupNotice.MEMBER_SET_TO_ADMIN
    elif changes.get("role_level") == ROLE_MEMBER:
        notice = GroupNotice.MEMBER_SET_TO_ORDINARY
    await post_notice(ctx, group, notice, actor, member_ids, {"changedUser": member_item(target)})


MEMBER_SETTINGS = {"nickname": "nickname", "faceURL": "face_url", "ex": "ex",
                   "roleLevel": "role_level"}


@handler("SetGroupMemberInfo", JsonObject("params"))
async def set_group_member_info(ctx: AppContext, session: Session, params: dict[str, Any]
                                ) -> None:
    """Members change their own nickname/face/ex; managers others'; the owner roles."""
    group_id = fields.non_empty_text(params, "groupID")
    user_id = fields.non_empty_text(params, "userID")
    changes: dict[str, Any] = {}
    for wire_name, attribute in MEMBER_SETTINGS.items():
        if params.get(wire_name) is None:
            continue
        if wire_name == "roleLevel":
            changes[attribute] = fields.integer(params, wire_name)
        else:
            changes[attribute] = fields.text(params, wire_name, max_length=MAX_SETTING_LENGTH)
    await _set_member_info(ctx, session, group_id, user_id, changes)


@handler("SetGroupMemberRoleLevel", Str("groupID", max_length=MAX_ID_LENGTH),
         Str("userID", max_length=MAX_ID_LENGTH), Int("roleLevel"))
async def set_group_member_role_level(ctx: AppContext, session: Session, group_id: str,
                                      user_id: str, role_level: int) -> None:
    await _set_member_info(ctx, session, group_id, user_id, {"role_level": role_level})


@handler("SetGroupMemberNickname", Str("groupID", max_length=MAX_ID_LENGTH),
         Str("userID", max_length=MAX_ID_LENGTH), Str("groupMemberNickname", max_length=255))
async def set_group_member_nickname(ctx: AppContext, session: Session, group_id: str,
                                    user_id: str, nickname: str) -> None:
    await _set_member_info(ctx, session, group_id, user_id, {"nickname": nickname})
