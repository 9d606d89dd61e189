"""Groups: the read-only functions (lists, lookups, searches, applications)."""

from __future__ import annotations

from typing import Any

from oimws.context import AppContext
from oimws.dispatch import handler
from oimws.handlers.group_view import (
    application_item,
    group_item,
    is_manager,
    load_group,
    load_member,
    member_item,
    require_member_view,
)
from oimws.protocol import fields
from oimws.protocol.args import Int, JsonArray, JsonObject, Str
from oimws.protocol.errors import ArgumentError
from oimws.protocol.fields import MAX_ID_LENGTH
from oimws.session import Session
from oimws.store.groups import ROLE_ADMIN, ROLE_MEMBER, ROLE_OWNER, MemberRecord
from oimws.util.clock import now_ms

MAX_PAGE = 1000

# GroupMemberFilter -> the roles it selects
MEMBER_FILTERS: dict[int, frozenset[int]] = {
    0: frozenset({ROLE_OWNER, ROLE_ADMIN, ROLE_MEMBER}),
    1: frozenset({ROLE_OWNER}),
    2: frozenset({ROLE_ADMIN}),
    3: frozenset({ROLE_MEMBER}),
    4: frozenset({ROLE_ADMIN, ROLE_MEMBER}),
    5: frozenset({ROLE_ADMIN, ROLE_OWNER}),
}


def _page(members: list[MemberRecord], offset: int, count: int) -> list[dict[str, Any]]:
    return [member_item(m) for m in members[offset:offset + count]]


@handler("GetJoinedGroupList")
async def get_joined_group_list(ctx: AppContext, session: Session) -> list[dict[str, Any]]:
    return [group_item(g) for g in await ctx.store.get_joined_groups(session.user_id)]


@handler("GetSpecifiedGroupsInfo", JsonArray("groupIDList", item=Str("groupID")))
async def get_specified_groups_info(ctx: AppContext, session: Session, group_ids: list[str]
                                    ) -> list[dict[str, Any]]:
    """Public information of the groups that exist among those asked for."""
    if len(group_ids) > MAX_PAGE:
        raise ArgumentError(f"groupIDList has more than {MAX_PAGE} IDs")
    groups = await ctx.store.get_groups(group_ids)
    return [group_item(groups[g]) for g in dict.fromkeys(group_ids) if g in groups]


@handler("SearchGroups", JsonObject("params"))
async def search_groups(ctx: AppContext, session: Session, params: dict[str, Any]
                        ) -> list[dict[str, Any]]:
    """Search the caller's groups by ID and/or name."""
    keywords = fields.keywords(params)
    by_id, by_name = fields.search_flags(params, "isSearchGroupID", "isSearchGroupName")
    found = []
    for group in await ctx.store.get_joined_groups(session.user_id):
        searched = ([group.group_id] if by_id else []) + ([group.group_name] if by_name else [])
        if fields.matches(keywords, *searched):
            found.append(group_item(group))
    return found


@handler("IsJoinGroup", Str("groupID", max_length=MAX_ID_LENGTH))
async def is_join_group(ctx: AppContext, session: Session, group_id: str) -> bool:
    group = await load_group(ctx, group_id, allow_dismissed=True)
    return await load_member(ctx, group.group_id, session.user_id) is not None


@handler("GetGroupMemberList", Str("groupID", max_length=MAX_ID_LENGTH),
         Int("filter", default=0, minimum=0, maximum=5), Int("offset", default=0, minimum=0),
         Int("count", default=100, minimum=0, maximum=MAX_PAGE))
async def get_group_member_list(ctx: AppContext, session: Session, group_id: str, filter_: int,
                                offset: int, count: int) -> list[dict[str, Any]]:
    group = await load_group(ctx, group_id)
    await require_member_view(ctx, group, session.user_id)
    roles = MEMBER_FILTERS[filter_]
    members = [m for m in await ctx.store.get_members(group_id) if m.role_level in roles]
    return _page(members, offset, count)


@handler("GetSpecifiedGroupMembersInfo", Str("groupID", max_length=MAX_ID_LENGTH),
         JsonArray("userIDList", item=Str("userID")))
async def get_specified_group_members_info(ctx: AppContext, session: Session, group_id: str,
                                           user_ids: list[str]) -> list[dict[str, Any]]:
    if len(user_ids) > MAX_PAGE:
        raise ArgumentError(f"userIDList has more than {MAX_PAGE} IDs")
    group = await load_group(ctx, group_id)
    await require_member_view(ctx, group, session.user_id)
    return [member_item(m) for m in await ctx.store.get_members(group_id, user_ids)]


@handler("SearchGroupMembers", JsonObject("params"))
async def search_group_members(ctx: AppContext, session: Session, params: dict[str, Any]
                               ) -> list[dict[str, Any]]:
    group_id = fields.non_empty_text(params, "groupID")
    keywords = fields.keywords(params)
    by_id, by_nickname = fields.search_flags(params, "isSearchUserID", "isSearchMemberNickname")
    offset = fields.integer(params, "offset", default=0, minimum=0, maximum=2**31)
    count = fields.integer(params, "count", default=100, minimum=0, maximum=MAX_PAGE)
    group = await load_group(ctx, group_id)
    await require_member_view(ctx, group, session.user_id)
    found = [m for m in await ctx.store.get_members(group_id) if fields.matches(
        keywords, *([m.user_id] if by_id else []), *([m.nickname] if by_nickname else []))]
    return _page(found, offset, count)


@handler("GetGroupMemberOwnerAndAdmin", Str("groupID", max_length=MAX_ID_LENGTH))
async def get_group_member_owner_and_admin(ctx: AppContext, session: Session, group_id: str
                                           ) -> list[dict[str, Any]]:
    group = await load_group(ctx, group_id)
    await require_member_view(ctx, group, session.user_id)
    return [member_item(m) for m in await ctx.store.get_members(group_id) if is_manager(m)]


@handler("GetGroupMemberListByJoinTimeFilter", Str("groupID", max_length=MAX_ID_LENGTH),
         Int("offset", minimum=0), Int("count", minimum=0, maximum=MAX_PAGE),
         Int("joinTimeBegin", minimum=0), Int("joinTimeEnd", minimum=0),
         JsonArray("filterUserIDList", item=Str("userID"), default=None))
async def get_group_member_list_by_join_time_filter(
    ctx: AppContext, session: Session, group_id: str, offset: int, count: int,
    join_time_begin: int, join_time_end: int, excluded: list[str] | None,
) -> list[dict[str, Any]]:
    """Members who joined between the two times (ms; an end of 0 means now)."""
    group = await load_group(ctx, group_id)
    await require_member_view(ctx, group, session.user_id)
    end = join_time_end or now_ms()
    skip = set(excluded or ())
    members = [m for m in await ctx.store.get_members(group_id)
               if join_time_begin <= m.join_time <= end and m.user_id not in skip]
    return _page(members, offset, count)


@handler("GetGroupApplicationListAsRecipient")
async def get_group_application_list_as_recipient(ctx: AppContext, session: Session
                                                  ) -> list[dict[str, Any]]:
    """Applications to the groups the caller owns or administers."""
    managed = {}
    for group in await ctx.store.get_joined_groups(session.user_id):
        if is_manager(await load_member(ctx, group.group_id, session.user_id)):
            managed[group.group_id] = group
    applications = await ctx.store.get_applications_to(list(managed))
    users = await ctx.store.get_users([a.user_id for a in applications])
    return [application_item(a, managed[a.group_id], users.get(a.user_id))
            for a in applications]


@handler("GetGroupApplicationListAsApplicant")
async def get_group_application_list_as_applicant(ctx: AppContext, session: Session
                                                  ) -> list[dict[str, Any]]:
    applications = await ctx.store.get_applications_of(session.user_id)
    groups = await ctx.store.get_groups([a.group_id for a in applications])
    users = await ctx.store.get_users([session.user_id])
    return [application_item(a, groups[a.group_id], users.get(session.user_id))
            for a in applications if a.group_id in groups]
