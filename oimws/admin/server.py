"""OpenIM's REST shapes on the admin port: POST + JSON, ``operationID`` header, admin
``token`` header, and replies ``{"errCode","errMsg","errDlt","data"}`` (HTTP 200 even for
refusals, as OpenIM does)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from oimws import __version__
from oimws.admin.validation import (
    args_error,
    optional_str,
    require_int,
    require_list,
    require_str,
)
from oimws.context import AppContext
from oimws.protocol.errors import ApiError, ErrCode
from oimws.store import StoreError, UserRecord
from oimws.tokens import ADMIN_PLATFORM_ID

log = logging.getLogger("oimws.admin")

MAX_BODY_BYTES = 1024 * 1024
MAX_REGISTER_BATCH = 1000
PLATFORM_IDS = (1, 10)

Endpoint = Callable[[dict[str, Any], web.Request], Awaitable[Any]]


def _reply(data: Any = None, code: int = 0, message: str = "") -> web.Response:
    body = {"errCode": code, "errMsg": message, "errDlt": "", "data": data}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


class AdminServer:
    def __init__(self, ctx: AppContext, connection_count: Callable[[], int]) -> None:
        self._ctx = ctx
        self._connection_count = connection_count
        self._started_at = time.monotonic()
        self._runner: web.AppRunner | None = None
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_get("/healthz", self.healthz)
        routes: dict[str, Endpoint] = {
            "/auth/get_admin_token": self.get_admin_token,
            "/auth/get_user_token": self.get_user_token,
            "/auth/user_token": self.user_token,
            "/user/user_register": self.user_register,
        }
        for path, endpoint in routes.items():
            app.router.add_post(path, self._wrap(endpoint))
        self.app = app

    async def start(self) -> int:
        config = self._ctx.config
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.api_port, reuse_port=True)
        await site.start()
        port: int = self._runner.addresses[0][1]
        log.info("admin API listening on %s:%d", config.host, port)
        return port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _wrap(self, endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                raw = await request.read()
                try:
                    body = orjson.loads(raw) if raw else {}
                except orjson.JSONDecodeError:
                    raise args_error("request body is not valid JSON") from None
                if not isinstance(body, dict):
                    raise args_error("request body must be a JSON object")
                return _reply(await endpoint(body, request))
            except ApiError as exc:
                return _reply(code=exc.code, message=exc.message)
            except StoreError as exc:
                log.error("%s failed in the store: %s", request.path, exc)
                return _reply(code=ErrCode.SERVER_INTERNAL, message="storage failure")
            except web.HTTPRequestEntityTooLarge:
                return _reply(code=ErrCode.ARGS, message="request body is too large")

        return handle

    # auth helpers
    def _require_admin(self, request: web.Request) -> str:
        token = request.headers.get("token", "")
        if not token:
            raise ApiError(ErrCode.TOKEN_NOT_EXIST, "header 'token' with an admin token is missing")
        claims = self._ctx.tokens.verify(token)
        if claims.user_id not in self._ctx.config.admin_user_ids:
            raise ApiError(ErrCode.NO_PERMISSION, "this endpoint needs an admin token")
        return claims.user_id

    def _check_secret(self, body: dict[str, Any]) -> None:
        secret = require_str(body, "secret", max_length=1024)
        if secret != self._ctx.config.secret:
            raise ApiError(ErrCode.NO_PERMISSION, "secret is wrong")

    def _token_reply(self, user_id: str, platform_id: int) -> dict[str, Any]:
        tokens = self._ctx.tokens
        return {"token": tokens.issue(user_id, platform_id),
                "expireTimeSeconds": tokens.expire_seconds}

    async def _require_registered(self, user_id: str) -> None:
        if user_id not in await self._ctx.store.get_users([user_id]):
            raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {user_id!r} is not registered")

    # endpoints
    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({
            "status": "ok",
            "version": __version__,
            "uptimeSeconds": round(time.monotonic() - self._started_at, 1),
            "connections": self._connection_count(),
            "onlineUsers": self._ctx.delivery.online_user_count,
        })

    async def get_admin_token(self, body: dict[str, Any], request: web.Request) -> Any:
        self._check_secret(body)
        user_id = require_str(body, "userID")
        if user_id not in self._ctx.config.admin_user_ids:
            raise ApiError(ErrCode.NO_PERMISSION, f"{user_id!r} is not an admin user")
        return self._token_reply(user_id, ADMIN_PLATFORM_ID)

    async def get_user_token(self, body: dict[str, Any], request: web.Request) -> Any:
        self._require_admin(request)
        platform_id = require_int(body, "platformID", minimum=PLATFORM_IDS[0],
                                  maximum=PLATFORM_IDS[1])
        user_id = require_str(body, "userID")
        await self._require_registered(user_id)
        return self._token_reply(user_id, platform_id)

    async def user_token(self, body: dict[str, Any], request: web.Request) -> Any:
        self._check_secret(body)
        platform_id = require_int(body, "platformID", minimum=PLATFORM_IDS[0],
                                  maximum=PLATFORM_IDS[1])
        user_id = require_str(body, "userID")
        await self._require_registered(user_id)
        return self._token_reply(user_id, platform_id)

    async def user_register(self, body: dict[str, Any], request: web.Request) -> Any:
        self._require_admin(request)
        entries = require_list(body, "users", max_items=MAX_REGISTER_BATCH)
        users = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise args_error(f"users[{index}] must be an object")
            user_id = require_str(entry, "userID")
            if user_id in self._ctx.config.admin_user_ids:
                raise args_error(f"users[{index}].userID {user_id!r} is reserved for admins")
            users.append(UserRecord(
                user_id=user_id,
                nickname=optional_str(entry, "nickname", max_length=255),
                face_url=optional_str(entry, "faceURL", max_length=1024),
                ex=optional_str(entry, "ex", max_length=4096),
            ))
        ids = [u.user_id for u in users]
        if len(set(ids)) != len(ids):
            raise args_error("users has the same userID twice")
        existing = await self._ctx.store.get_users(ids)
        if existing:
            raise ApiError(ErrCode.REGISTERED_ALREADY,
                           f"already registered: {', '.join(sorted(existing))}")
        already = await self._ctx.store.register_users(users)
        if already:
            raise ApiError(ErrCode.REGISTERED_ALREADY,
                           f"already registered: {', '.join(sorted(already))}")
        return None
