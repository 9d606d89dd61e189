"""Groups as the client sees them (GroupItem, GroupMemberItem, GroupApplicationItem), and
the checks every group function starts with."""

from __future__ import annotations

from typing import Any

from oimws.context import AppContext
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode, no_permission
from oimws.store.groups import (
    GROUP_STATUS_DISMISSED,
    GROUP_STATUS_MUTED,
    ROLE_ADMIN,
    ROLE_OWNER,
    GroupApplicationRecord,
    GroupRecord,
    MemberRecord,
)
from oimws.store.users import UserRecord
from oimws.util.clock import now_ms

ALLOWED = 0  # AllowType.Allowed; 1 is NotAllowed


def group_item(group: GroupRecord) -> dict[str, Any]:
    return {
        "groupID": group.group_id,
        "groupName": group.group_name,
        "notification": group.notification,
        "notificationUserID": group.notification_user_id,
        "notificationUpdateTime": group.notification_update_time,
        "introduction": group.introduction,
        "faceURL": group.face_url,
        "ownerUserID": group.owner_user_id,
        "createTime": group.create_time,
        "memberCount": group.member_count,
        "status": group.status,
        "creatorUserID": group.creator_user_id,
        "groupType": group.group_type,
        "needVerification": group.need_verification,
        "ex": group.ex,
        "applyMemberFriend": group.apply_member_friend,
        "lookMemberInfo": group.look_member_info,
    }


def member_item(member: MemberRecord) -> dict[str, Any]:
    return {
        "groupID": member.group_id,
        "userID": member.user_id,
        "nickname": member.nickname,
        "faceURL": member.face_url,
        "roleLevel": member.role_level,
        "muteEndTime": member.mute_end_time,
        "joinTime": member.join_time,
        "joinSource": member.join_source,
        "inviterUserID": member.inviter_user_id,
        "operatorUserID": member.operator_user_id,
        "ex": member.ex,
    }


def application_item(
    application: GroupApplicationRecord, group: GroupRecord, applicant: UserRecord | None
) -> dict[str, Any]:
    return {
        "groupID": group.group_id,
        "groupName": group.group_name,
        "groupFaceURL": group.face_url,
        "groupType": group.group_type,
        "notification": group.notification,
        "introduction": group.introduction,
        "memberCount": group.member_count,
        "ownerUserID": group.owner_user_id,
        "creatorUserID": group.creator_user_id,
        "createTime": group.create_time,
        "status": group.status,
        "userID": application.user_id,
        "nickname": applicant.nickname if applicant else "",
        "userFaceURL": applicant.face_url if applicant else "",
        "reqMsg": application.req_msg,
        "reqTime": application.req_time,
        "joinSource": application.join_source,
        "inviterUserID": application.inviter_user_id,
        "handleResult": application.handle_result,
        "handleUserID": application.handle_user_id,
        "handledMsg": application.handled_msg,
        "handledTime": application.handled_time,
        "ex": application.ex,
    }


def is_manager(member: MemberRecord | None) -> bool:
    return member is not None and member.role_level >= ROLE_ADMIN


def is_muted(member: MemberRecord) -> bool:
    return member.mute_end_time > now_ms()


async def load_group(ctx: AppContext, group_id: str, *, allow_dismissed: bool = False
                     ) -> GroupRecord:
    """The group, or 1201 when there is none and 1204 when it was dismissed."""
    if not group_id:
        raise ArgumentError("groupID must not be empty")
    group = (await ctx.store.get_groups([group_id])).get(group_id)
    if group is None:
        raise ApiError(ErrCode.GROUP_ID_NOT_FOUND, f"group {group_id!r} does not exist")
    if group.status == GROUP_STATUS_DISMISSED and not allow_dismissed:
        raise ApiError(ErrCode.DISMISSED_ALREADY, f"group {group_id!r} was dismissed")
    return group


async def load_member(ctx: AppContext, group_id: str, user_id: str) -> MemberRecord | None:
    found = await ctx.store.get_members(group_id, [user_id])
    return found[0] if found else None


async def require_member(ctx: AppContext, group: GroupRecord, user_id: str) -> MemberRecord:
    member = await load_member(ctx, group.group_id, user_id)
    if member is None:
        raise ApiError(ErrCode.NOT_IN_GROUP_YET,
                       f"{user_id} is not a member of group {group.group_id!r}")
    return member


async def require_manager(ctx: AppContext, group: GroupRecord, user_id: str) -> MemberRecord:
    """The acting member, who must be the owner or an admin."""
    member = await require_member(ctx, group, user_id)
    if not is_manager(member):
        raise no_permission(f"only the owner or an admin of {group.group_id!r} may do this")
    return member


def require_outranks(actor: MemberRecord, target: MemberRecord) -> None:
    """Owners act on anyone else; admins only on plain members."""
    if actor.user_id == target.user_id:
        raise no_permission("this cannot be done to oneself")
    if actor.role_level != ROLE_OWNER and target.role_level >= ROLE_ADMIN:
        raise no_permission(f"an admin cannot do this to {target.user_id} "
                            "(the owner or another admin)")


async def require_member_view(ctx: AppContext, group: GroupRecord, user_id: str) -> None:
    """Members always see the member list; others only when ``lookMemberInfo`` allows it."""
    if group.look_member_info != ALLOWED and await load_member(
            ctx, group.group_id, user_id) is None:
        raise ApiError(ErrCode.NOT_IN_GROUP_YET,
                       f"members of group {group.group_id!r} are visible to members only")


def check_can_post(group: GroupRecord, member: MemberRecord | None) -> None:
    """The sender rules for a group message: 1204, 1203, 1402, 1403 in that order."""
    if group.status == GROUP_STATUS_DISMISSED:
        raise ApiError(ErrCode.DISMISSED_ALREADY, f"group {group.group_id!r} was dismissed")
    if member is None:
        raise ApiError(ErrCode.NOT_IN_GROUP_YET, f"not a member of group {group.group_id!r}")
    if is_muted(member):
        raise ApiError(ErrCode.MUTED_IN_GROUP, "you are muted in this group")
    if group.status == GROUP_STATUS_MUTED and not is_manager(member):
        raise ApiError(ErrCode.MUTED_GROUP, "the group is muted")
