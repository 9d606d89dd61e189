"""The admin port: OpenIM's REST API, uploads, and the operational endpoints, on aiohttp on
the node's event loop.

This module only wires: every declared endpoint becomes a POST route that checks the token,
validates the body, calls the endpoint, and answers OpenIM's envelope
``{"errCode","errMsg","errDlt","data"}`` (HTTP 200 even for refusals, as OpenIM does), with
the request's ``operationID`` and caller on every log line it causes.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from oimws import logs, metrics
from oimws.admin.auth_api import AuthApi
from oimws.admin.conversation_api import ConversationApi
from oimws.admin.endpoint import Access, ApiModule, Call, Endpoint
from oimws.admin.friend_api import FriendApi
from oimws.admin.group_api import GroupApi
from oimws.admin.msg_api import MsgApi
from oimws.admin.object_api import ObjectApi
from oimws.admin.openapi import build_document
from oimws.admin.ops import NodeStatus, OpsApi
from oimws.admin.user_api import UserApi
from oimws.admin.validation import args_error
from oimws.context import AppContext
from oimws.demo.routes import add_demo_routes
from oimws.objects import ObjectStore
from oimws.protocol.errors import ApiError, ErrCode
from oimws.store import StoreError
from oimws.tokens import TokenClaims

log = logging.getLogger("oimws.admin")

MAX_BODY_BYTES = 1024 * 1024
MAX_OPERATION_ID = 128
API_MODULES: tuple[type[ApiModule], ...] = (
    AuthApi, UserApi, MsgApi, GroupApi, FriendApi, ConversationApi, ObjectApi)
# Handler refusals the SDK numbers as its own argument errors are argument errors here.
AS_ARGS_ERROR = frozenset({ErrCode.SDK_ARGS, ErrCode.MSG_CONTENT_TYPE_NOT_SUPPORT})
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, OPTIONS",
    "Access-Control-Expose-Headers": "ETag",
    "Access-Control-Max-Age": "86400",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def all_endpoints() -> list[Endpoint]:
    return [endpoint for module in API_MODULES for endpoint in module.endpoints()]


def envelope(data: Any = None, code: int = 0, message: str = "") -> web.Response:
    body = {"errCode": code, "errMsg": message, "errDlt": "", "data": data}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Browsers call the admin port cross-origin (the jssdk's uploads): allow it, as OpenIM
    does. Preflights are answered here."""
    allowed = {
        "Access-Control-Allow-Origin": request.headers.get("Origin", "*"),
        "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers",
                                                            "*"),
        **CORS_HEADERS,
    }
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=204, headers=allowed)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(allowed)
        raise
    response.headers.update(allowed)
    return response


class AdminServer:
    def __init__(self, ctx: AppContext, status: NodeStatus, objects: ObjectStore,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._ctx = ctx
        self._ssl_context = ssl_context
        self._runner: web.AppRunner | None = None
        modules: list[ApiModule] = [
            module(ctx) for module in API_MODULES if module is not ObjectApi]
        modules.append(ObjectApi(ctx, objects))
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[cors])
        for module in modules:
            for endpoint in module.endpoints():
                app.router.add_post(endpoint.path, self._route(module, endpoint))
        for module in [*modules, OpsApi(ctx, status, build_document(all_endpoints()))]:
            module.add_raw_routes(app.router)
        if ctx.config.demo_page:
            add_demo_routes(app, ctx, registration_enabled=ctx.config.demo)
        self.app = app

    async def start(self) -> int:
        config = self._ctx.config
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.api_port, reuse_port=True,
                           ssl_context=self._ssl_context)
        await site.start()
        port: int = self._runner.addresses[0][1]
        scheme = "https" if self._ssl_context else "http"
        log.info("admin API listening on %s://%s:%d", scheme, config.host, port)
        return port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _route(self, module: ApiModule, endpoint: Endpoint) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            operation_id = request.headers.get("operationID", "")[:MAX_OPERATION_ID]
            with logs.request_scope(operation_id, ""):
                response, code = await self._answer(module, endpoint, request, operation_id)
                elapsed = time.perf_counter() - started
                metrics.ADMIN_REQUESTS.labels(path=endpoint.path, code=str(code)).inc()
                metrics.ADMIN_REQUEST_SECONDS.labels(path=endpoint.path).observe(elapsed)
                log.info("POST %s answered errCode %d in %.1f ms", endpoint.path, code,
                         elapsed * 1000)
            return response

        return handle

    async def _answer(self, module: ApiModule, endpoint: Endpoint, request: web.Request,
                      operation_id: str) -> tuple[web.Response, int]:
        try:
            caller = self._authorize(request, endpoint.access)
            if caller is not None:
                logs.user_id_var.set(caller.user_id)
            fields = endpoint.body.check(await self._json_body(request), "")
            data = await endpoint.func(module, Call(fields, caller, operation_id, request))
            return envelope(data), 0
        except ApiError as exc:
            code = ErrCode.ARGS if exc.code in AS_ARGS_ERROR else exc.code
            return envelope(code=int(code), message=exc.message), int(code)
        except StoreError as exc:
            log.error("%s failed in the store: %s", endpoint.path, exc)
            code = ErrCode.SERVER_INTERNAL
            return envelope(code=int(code), message=exc.public_message), int(code)
        except Exception:
            log.exception("%s raised", endpoint.path)
            code = ErrCode.SERVER_INTERNAL
            return envelope(code=int(code), message="internal server error"), int(code)

    def _authorize(self, request: web.Request, access: Access) -> TokenClaims | None:
        if access is Access.PUBLIC:
            return None
        token = request.headers.get("token", "")
        if not token:
            raise ApiError(ErrCode.TOKEN_NOT_EXIST, "header 'token' is missing")
        claims = self._ctx.tokens.verify(token)
        if access is Access.ADMIN and claims.user_id not in self._ctx.config.admin_user_ids:
            raise ApiError(ErrCode.NO_PERMISSION, "this endpoint needs an admin token")
        return claims

    @staticmethod
    async def _json_body(request: web.Request) -> Any:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise args_error(f"the request body is larger than {MAX_BODY_BYTES} bytes") from None
        try:
            return orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            raise args_error("the request body is not valid JSON") from None
