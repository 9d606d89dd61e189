"""/auth/*: issuing, parsing and revoking tokens (OpenIM's shapes)."""

from __future__ import annotations

import hmac
from typing import Any

from oimws.admin.checks import require_registered
from oimws.admin.endpoint import Access, ApiModule, Call, post
from oimws.admin.replies import INTEGER, STRING, obj
from oimws.admin.validation import Integer, Text, body
from oimws.protocol.errors import ApiError, ErrCode
from oimws.tokens import ADMIN_PLATFORM_ID
from oimws.util.clock import now_ms

PLATFORM_ID = {"minimum": 1, "maximum": 10}
TOKEN_REPLY = obj(token=STRING, expireTimeSeconds=INTEGER)
FORCED_LOGOUT_REASON = "forced logout"


def _platform_id() -> Integer:
    return Integer("platformID", **PLATFORM_ID, required=True,
                   doc="1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Web, 6 MiniWeb, 7 Linux, "
                       "8 AndroidPad, 9 iPad, 10 admin")


def _user_id() -> Text:
    return Text("userID", required=True)


def _secret() -> Text:
    return Text("secret", max_length=1024, required=True, doc="the server's token secret")


class AuthApi(ApiModule):
    def _check_secret(self, call: Call) -> None:
        given = call.body["secret"].encode()
        if not hmac.compare_digest(given, self.ctx.config.secret.encode()):
            raise ApiError(ErrCode.NO_PERMISSION, "secret is wrong")

    def _token_reply(self, user_id: str, platform_id: int) -> dict[str, Any]:
        tokens = self.ctx.tokens
        return {"token": tokens.issue(user_id, platform_id),
                "expireTimeSeconds": tokens.expire_seconds}

    @post("/auth/get_admin_token", body(_secret(), _user_id()), access=Access.PUBLIC,
          summary="A token for an admin user ID, given the secret", reply=TOKEN_REPLY)
    async def get_admin_token(self, call: Call) -> Any:
        self._check_secret(call)
        user_id = call.body["userID"]
        if user_id not in self.ctx.config.admin_user_ids:
            raise ApiError(ErrCode.NO_PERMISSION, f"{user_id!r} is not an admin user")
        return self._token_reply(user_id, ADMIN_PLATFORM_ID)

    @post("/auth/get_user_token", body(_platform_id(), _user_id()), access=Access.ADMIN,
          summary="A token for a registered user on a platform", reply=TOKEN_REPLY)
    async def get_user_token(self, call: Call) -> Any:
        await require_registered(self.ctx, [call.body["userID"]])
        return self._token_reply(call.body["userID"], call.body["platformID"])

    @post("/auth/user_token", body(_secret(), _platform_id(), _user_id()), access=Access.PUBLIC,
          summary="The older form of get_user_token: the secret instead of an admin token",
          reply=TOKEN_REPLY)
    async def user_token(self, call: Call) -> Any:
        self._check_secret(call)
        await require_registered(self.ctx, [call.body["userID"]])
        return self._token_reply(call.body["userID"], call.body["platformID"])

    @post("/auth/parse_token", body(Text("token", max_length=4096, required=True)),
          access=Access.PUBLIC, summary="Who a token is for, if it is valid and not revoked",
          reply=obj(userID=STRING, platformID=INTEGER, expireTimeSeconds=INTEGER))
    async def parse_token(self, call: Call) -> Any:
        claims = self.ctx.tokens.verify(call.body["token"])
        # OpenIM answers the expiry as a UNIX time here, not a lifetime.
        return {"userID": claims.user_id, "platformID": claims.platform_id,
                "expireTimeSeconds": claims.expires_at}

    @post("/auth/force_logout", body(_platform_id(), _user_id()), access=Access.ADMIN,
          summary="Kick the user's session on that platform (OnKickedOffline) and revoke every "
                  "token issued for it so far")
    async def force_logout(self, call: Call) -> None:
        user_id, platform_id = call.body["userID"], call.body["platformID"]
        before = now_ms()
        # Durable first: a restart must not bring the revoked tokens back.
        await self.ctx.store.revoke_tokens(user_id, platform_id, before)
        self.ctx.tokens.revoke(user_id, platform_id, before)
        for session in self.ctx.delivery.sessions_of(user_id):
            if session.platform_id == platform_id:
                self.ctx.delivery.kick(session, FORCED_LOGOUT_REASON)
        self.ctx.delivery.revoke_everywhere(user_id, platform_id, before)
        return None
