"""/user/*: registering users, their profiles, and who is online."""

from __future__ import annotations

from typing import Any

from oimws.admin.acting import call_as
from oimws.admin.checks import require_registered
from oimws.admin.endpoint import Access, ApiModule, Call, post
from oimws.admin.replies import BOOLEAN, INTEGER, STRING, USER_INFO, array, obj
from oimws.admin.validation import (
    Field,
    Integer,
    Struct,
    StructList,
    Text,
    TextList,
    args_error,
    body,
    page_slice,
    pagination,
)
from oimws.handlers.user import PROFILE_FIELDS, RECV_MSG_OPTS, self_user_info
from oimws.metrics import platform_name
from oimws.protocol.errors import ApiError, ErrCode
from oimws.store import UserRecord

MAX_REGISTER_BATCH = 1000
ONLINE, OFFLINE = 1, 0
REGISTERED, UNREGISTERED = 1, 0  # OpenIM's accountStatus


def _profile_fields() -> list[Field]:
    """The profile fields a user may set (``SetSelfInfo``'s, with its limits)."""
    fields: list[Field] = []
    for name, (_, max_length) in PROFILE_FIELDS.items():
        if max_length is None:
            fields.append(Integer(name, minimum=min(RECV_MSG_OPTS), maximum=max(RECV_MSG_OPTS)))
        else:
            fields.append(Text(name, max_length=max_length))
    return fields


def _register_entry() -> Struct:
    return Struct("", [Text("userID", required=True),
                       *(f for f in _profile_fields() if isinstance(f, Text))])


class UserApi(ApiModule):
    @post("/user/user_register",
          body(StructList("users", _register_entry(), max_items=MAX_REGISTER_BATCH,
                          required=True)),
          access=Access.ADMIN,
          summary="Register users; all or none (1102 names those registered already)")
    async def user_register(self, call: Call) -> None:
        entries = call.body["users"]
        admins = self.ctx.config.admin_user_ids
        for index, entry in enumerate(entries):
            if entry["userID"] in admins:
                raise args_error(f"users[{index}].userID {entry['userID']!r} is reserved "
                                 "for admins")
        users = [UserRecord(user_id=e["userID"], nickname=e["nickname"], face_url=e["faceURL"],
                            ex=e["ex"]) for e in entries]
        ids = [u.user_id for u in users]
        if len(set(ids)) != len(ids):
            raise args_error("users has the same userID twice")
        existing = await self.ctx.store.get_users(ids)
        if existing:
            raise ApiError(ErrCode.REGISTERED_ALREADY,
                           f"already registered: {', '.join(sorted(existing))}")
        already = await self.ctx.store.register_users(users)
        if already:  # registered by a concurrent request in between
            raise ApiError(ErrCode.REGISTERED_ALREADY,
                           f"already registered: {', '.join(sorted(already))}")
        return None

    @post("/user/update_user_info",
          body(Struct("userInfo", [Text("userID", required=True), *_profile_fields()],
                      required=True)),
          access=Access.ADMIN,
          summary="Change a user's profile as SetSelfInfo does (their devices and friends are "
                  "told); as in OpenIM, empty fields are left unchanged")
    async def update_user_info(self, call: Call) -> None:
        info = call.body["userInfo"]
        user_id = info["userID"]
        await require_registered(self.ctx, [user_id])
        changes = {name: info[name] for name in PROFILE_FIELDS if info[name] not in (None, "")}
        if changes:
            await call_as(self.ctx, user_id, "SetSelfInfo", {"userID": user_id, **changes})
        return None

    @post("/user/get_users_info", body(TextList("userIDs", required=True)),
          access=Access.ADMIN, summary="Profiles of the given users that exist, in that order",
          reply=obj(usersInfo=array(USER_INFO)))
    async def get_users_info(self, call: Call) -> Any:
        wanted = call.body["userIDs"]
        users = await self.ctx.store.get_users(wanted)
        return {"usersInfo": [self_user_info(users[u]) for u in wanted if u in users]}

    @post("/user/get_users",
          body(pagination(), Text("userID", doc="part of the user ID"),
               Text("nickName", max_length=255, doc="part of the nickname")),
          access=Access.ADMIN, summary="Users page by page, oldest first, optionally filtered",
          reply=obj(total=INTEGER, users=array(USER_INFO)))
    async def get_users(self, call: Call) -> Any:
        page = page_slice(call.body["pagination"])
        total, users = await self.ctx.store.find_users(
            page.start, page.stop - page.start, call.body["userID"], call.body["nickName"])
        return {"total": total, "users": [self_user_info(u) for u in users]}

    @post("/user/account_check", body(TextList("checkUserIDs", required=True)),
          access=Access.ADMIN, summary="Which of the user IDs are registered",
          reply=obj(results=array(obj(userID=STRING, accountStatus={
              **INTEGER, "description": "1 registered, 0 not"}))))
    async def account_check(self, call: Call) -> Any:
        wanted = call.body["checkUserIDs"]
        users = await self.ctx.store.get_users(wanted)
        return {"results": [{"userID": u, "accountStatus": REGISTERED if u in users
                             else UNREGISTERED} for u in wanted]}

    @post("/user/get_users_online_status", body(TextList("userIDs", required=True)),
          access=Access.ADMIN, summary="Online status and the platforms each user is on",
          reply=array(obj(userID=STRING, status={**INTEGER, "description": "1 online, 0 not"},
                          detailPlatformStatus=array(obj(
                              platformID=INTEGER, platform=STRING, connID=STRING,
                              isBackground=BOOLEAN, token=STRING)))))
    async def get_users_online_status(self, call: Call) -> Any:
        statuses = []
        for user_id in call.body["userIDs"]:
            sessions = self.ctx.delivery.sessions_of(user_id)
            statuses.append({
                "userID": user_id,
                "status": ONLINE if sessions else OFFLINE,
                # tokens are never handed out again: the field stays for OpenIM's shape
                "detailPlatformStatus": [
                    {"platformID": s.platform_id, "platform": platform_name(s.platform_id),
                     "connID": str(s.conn_id), "isBackground": False, "token": ""}
                    for s in sessions],
            })
        return statuses
