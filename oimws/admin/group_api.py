"""/group/*: an admin creating and running groups.

Every change calls the group function a member would call, acting as the group's owner (the
one member allowed everything), so permissions, callbacks and notification messages are the
group handlers' own.
"""

from __future__ import annotations

from typing import Any

from oimws.admin.acting import call_as
from oimws.admin.endpoint import Access, ApiModule, Call, post
from oimws.admin.replies import GROUP_INFO, GROUP_MEMBER, INTEGER, array, obj
from oimws.admin.validation import (
    Boolean,
    Field,
    Integer,
    Struct,
    Text,
    TextList,
    body,
    page_slice,
    pagination,
)
from oimws.handlers.group import GROUP_SETTINGS, MAX_SETTING_LENGTH
from oimws.handlers.group_query import MAX_PAGE, MEMBER_FILTERS
from oimws.handlers.group_view import load_group

MAX_MEMBERS_PER_CALL = 1000


def _group_info() -> Struct:
    """``groupInfo``: the settings CreateGroup takes (and its limits), plus the group ID."""
    fields: list[Field] = [Text("groupID", doc="chosen by the server when empty"),
                           Integer("groupType", minimum=0, maximum=2, default=2,
                                   doc="accepted for OpenIM's shape; every group is type 2")]
    for wire_name, (_, kind, allowed) in GROUP_SETTINGS.items():
        if kind is int and allowed is not None:
            fields.append(Integer(wire_name, minimum=min(allowed), maximum=max(allowed)))
        else:
            fields.append(Text(wire_name, max_length=MAX_SETTING_LENGTH))
    return Struct("groupInfo", fields, required=True)


def _group_id() -> Text:
    return Text("groupID", required=True)


def _user_ids(name: str, *, required: bool = False) -> TextList:
    return TextList(name, max_items=MAX_MEMBERS_PER_CALL, required=required)


class GroupApi(ApiModule):
    async def _owner_of(self, group_id: str) -> str:
        return (await load_group(self.ctx, group_id)).owner_user_id

    @post("/group/create_group",
          body(Text("ownerUserID", required=True), _user_ids("memberUserIDs"),
               _user_ids("adminUserIDs"), _group_info()),
          access=Access.ADMIN, summary="Create a group owned by ownerUserID (CreateGroup)",
          reply=obj(groupInfo=GROUP_INFO))
    async def create_group(self, call: Call) -> Any:
        owner = call.body["ownerUserID"]
        info = {k: v for k, v in call.body["groupInfo"].items() if v is not None}
        group = await call_as(self.ctx, owner, "CreateGroup", {
            "ownerUserID": owner, "memberUserIDs": call.body["memberUserIDs"],
            "adminUserIDs": call.body["adminUserIDs"], "groupInfo": info})
        return {"groupInfo": group}

    @post("/group/invite_user_to_group",
          body(_group_id(), Text("reason", max_length=1024),
               _user_ids("invitedUserIDs", required=True)),
          access=Access.ADMIN, summary="Add users to a group, invited by its owner")
    async def invite_user_to_group(self, call: Call) -> None:
        group_id = call.body["groupID"]
        await call_as(self.ctx, await self._owner_of(group_id), "InviteUserToGroup", group_id,
                      call.body["reason"], call.body["invitedUserIDs"])
        return None

    @post("/group/kick_group",
          body(_group_id(), _user_ids("kickedUserIDs", required=True),
               Text("reason", max_length=1024)),
          access=Access.ADMIN, summary="Remove members, kicked by the group's owner")
    async def kick_group(self, call: Call) -> None:
        group_id = call.body["groupID"]
        await call_as(self.ctx, await self._owner_of(group_id), "KickGroupMember", group_id,
                      call.body["reason"], call.body["kickedUserIDs"])
        return None

    @post("/group/dismiss_group",
          body(_group_id(), Boolean("deleteMember", doc="accepted; members are kept as the "
                                                         "dismissed group's history")),
          access=Access.ADMIN, summary="Dismiss a group, as its owner")
    async def dismiss_group(self, call: Call) -> None:
        group_id = call.body["groupID"]
        await call_as(self.ctx, await self._owner_of(group_id), "DismissGroup", group_id)
        return None

    @post("/group/get_groups_info", body(TextList("groupIDs", max_items=MAX_PAGE,
                                                  required=True)),
          access=Access.ADMIN, summary="The groups that exist among those asked for",
          reply=obj(groupInfos=array(GROUP_INFO)))
    async def get_groups_info(self, call: Call) -> Any:
        groups = await call_as(self.ctx, call.caller_id, "GetSpecifiedGroupsInfo",
                               call.body["groupIDs"])
        return {"groupInfos": groups}

    @post("/group/get_group_member_list",
          body(_group_id(), pagination(max_show=MAX_PAGE),
               Integer("filter", minimum=0, maximum=5, default=0,
                       doc="0 all, 1 owner, 2 admins, 3 plain members, 4 admins and plain "
                           "members, 5 owner and admins"),
               Text("keyword", max_length=255, doc="part of the user ID or group nickname")),
          access=Access.ADMIN, summary="One page of a group's members",
          reply=obj(total=INTEGER, members=array(GROUP_MEMBER)))
    async def get_group_member_list(self, call: Call) -> Any:
        group_id = call.body["groupID"]
        owner = await self._owner_of(group_id)
        members = await self._members(owner, group_id, call.body["filter"], call.body["keyword"])
        return {"total": len(members),
                "members": members[page_slice(call.body["pagination"])]}

    async def _members(self, owner: str, group_id: str, filter_: int, keyword: str
                       ) -> list[dict[str, Any]]:
        """Every member that matches, read page by page through the members' own functions."""
        members: list[dict[str, Any]] = []
        while True:
            if keyword:
                page = await call_as(self.ctx, owner, "SearchGroupMembers", {
                    "groupID": group_id, "keywordList": [keyword], "isSearchUserID": True,
                    "isSearchMemberNickname": True, "offset": len(members), "count": MAX_PAGE})
            else:
                page = await call_as(self.ctx, owner, "GetGroupMemberList", group_id, filter_,
                                     len(members), MAX_PAGE)
            members.extend(page)
            if len(page) < MAX_PAGE:
                break
        if keyword:  # the search has no role filter; apply the same table
            roles = MEMBER_FILTERS[filter_]
            members = [m for m in members if m["roleLevel"] in roles]
        return members
