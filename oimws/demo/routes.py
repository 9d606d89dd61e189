"""Routes of the web demo on the admin port.

``GET /demo/``
    The chat page (``static/index.html``) and its files: ``app.css``, ``app.js`` and the
    vendored ``vendor/open-im-sdk.umd.js`` (``scripts/vendor_jssdk.sh``). Only the files
    shipped in ``static/`` are served, each with ``Cache-Control: no-cache``.
``GET /demo/api/config``
    ``{registration, wsAddr, apiAddr, platformID}``: what the page needs to log in. The
    addresses are the ones this browser reached the server by: the admin API it talks to and
    the WebSocket port on the same host (behind the repo's ``nginx.conf``, recognised by its
    ``X-Forwarded-Prefix``, the API under the prefix and the sockets on ``/ws``).
``POST /demo/api/login`` ``{userID, nickname?}``
    Registers the user if new and answers a Web (platform 5) token in OpenIM's envelope:
    ``{errCode: 0, data: {userID, nickname, token, created, wsAddr, apiAddr, platformID}}``.
``GET /demo/api/users``
    ``{errCode: 0, data: {users: [{userID, nickname, faceURL}]}}``: who can be picked.

The two ``/demo/api`` endpoints that reveal or create accounts answer HTTP 404 unless
``registration_enabled`` (``oimws serve --demo``): anyone who can reach the admin port could
otherwise mint a token for any user. They use only the store interface and the token service.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from oimws.context import AppContext
from oimws.protocol.errors import ErrCode
from oimws.store import StoreError, UserRecord

log = logging.getLogger("oimws.demo")

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEMO_PLATFORM_ID = 5  # Web, what the page logs in as
USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,31}")
MAX_NICKNAME = 32
MAX_LISTED_USERS = 200
NOT_ENABLED = "demo registration is off: start the server with --demo to enable it"

# The page builds its DOM from text only and loads nothing from elsewhere; the sockets and
# uploads may go to other ports (and, behind a proxy, other hosts).
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: blob: http: https:; connect-src 'self' ws: wss: http: https:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
}

# Set here rather than guessed from the host's MIME table, which differs between systems.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
}
DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8"  # e.g. the vendored LICENSE


def _reply(data: Any = None, code: int = 0, message: str = "", status: int = 200
           ) -> web.Response:
    body = {"errCode": code, "errMsg": message, "errDlt": "", "data": data}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                        headers={"Cache-Control": "no-store"})


def shipped_files(root: Path = STATIC_DIR) -> dict[str, Path]:
    """Every file under ``root`` by its URL path relative to ``/demo/`` (``vendor/x.js``)."""
    return {path.relative_to(root).as_posix(): path
            for path in sorted(root.rglob("*")) if path.is_file()}


def _bracketed(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname


def client_addresses(request: web.Request, ctx: AppContext) -> tuple[str, str]:
    """(wsAddr, apiAddr) as seen from the browser that sent ``request``."""
    config = ctx.config
    forwarded_proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
    scheme = (forwarded_proto or request.scheme).lower()
    secure = scheme == "https" or config.uses_tls
    host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip() or request.host
    prefix = request.headers.get("X-Forwarded-Prefix", "").strip().rstrip("/")
    ws_scheme = "wss" if secure else "ws"
    if prefix:
        api_addr = f"{scheme}://{host}{prefix}"
        ws_addr = f"{ws_scheme}://{host}/ws"
    else:
        api_addr = f"{scheme}://{host}"
        hostname = urlsplit(f"//{host}").hostname or config.host
        ws_addr = f"{ws_scheme}://{_bracketed(hostname)}:{config.ws_port}"
    if config.public_api_url:
        api_addr = config.public_api_url.rstrip("/")
    return ws_addr, api_addr


class DemoRoutes:
    def __init__(self, ctx: AppContext, registration_enabled: bool) -> None:
        self.ctx = ctx
        self.registration_enabled = registration_enabled
        self.files = shipped_files()

    @staticmethod
    def _file(path: Path) -> web.FileResponse:
        content_type = CONTENT_TYPES.get(path.suffix, DEFAULT_CONTENT_TYPE)
        return web.FileResponse(path, headers={**PAGE_HEADERS, "Content-Type": content_type})

    async def index(self, request: web.Request) -> web.StreamResponse:
        return self._file(self.files["index.html"])

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect(location="demo/")

    async def static(self, request: web.Request) -> web.StreamResponse:
        path = self.files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound(text="no such file in the demo")
        return self._file(path)

    async def config(self, request: web.Request) -> web.Response:
        ws_addr, api_addr = client_addresses(request, self.ctx)
        return _reply({"registration": self.registration_enabled, "wsAddr": ws_addr,
                       "apiAddr": api_addr, "platformID": DEMO_PLATFORM_ID})

    def _not_enabled(self) -> web.Response:
        return _reply(code=ErrCode.RECORD_NOT_FOUND, message=NOT_ENABLED, status=404)

    async def users(self, request: web.Request) -> web.Response:
        if not self.registration_enabled:
            return self._not_enabled()
        try:
            _total, users = await self.ctx.store.find_users(0, MAX_LISTED_USERS)
        except StoreError as exc:
            log.error("demo: listing users failed: %s", exc)
            return _reply(code=ErrCode.SERVER_INTERNAL, message="storage failure", status=500)
        admins = set(self.ctx.config.admin_user_ids)
        return _reply({"users": [
            {"userID": u.user_id, "nickname": u.nickname or u.user_id, "faceURL": u.face_url}
            for u in users if u.user_id not in admins]})

    async def login(self, request: web.Request) -> web.Response:
        if not self.registration_enabled:
            return self._not_enabled()
        try:
            body = await request.json(loads=orjson.loads)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _reply(code=ErrCode.ARGS, message="the body must be a JSON object")
        user_id, nickname = body.get("userID"), body.get("nickname") or ""
        if not isinstance(user_id, str) or USER_ID.fullmatch(user_id) is None:
            return _reply(code=ErrCode.ARGS, message=(
                "userID: 1-32 letters, digits or _.@- (starting with a letter or digit)"))
        if not isinstance(nickname, str) or len(nickname.strip()) > MAX_NICKNAME:
            return _reply(code=ErrCode.ARGS,
                          message=f"nickname: text of at most {MAX_NICKNAME} characters")
        if user_id in self.ctx.config.admin_user_ids:
            return _reply(code=ErrCode.ARGS, message=f"{user_id!r} is reserved for admins")
        try:
            existing = await self.ctx.store.register_users(
                [UserRecord(user_id=user_id, nickname=nickname.strip() or user_id)])
            stored = (await self.ctx.store.get_users([user_id]))[user_id]
        except (StoreError, KeyError) as exc:
            log.error("demo: registering %s failed: %r", user_id, exc)
            return _reply(code=ErrCode.SERVER_INTERNAL, message="storage failure", status=500)
        created = user_id not in existing
        if created:
            log.info("demo: registered user %s", user_id)
        ws_addr, api_addr = client_addresses(request, self.ctx)
        return _reply({
            "userID": user_id,
            "nickname": stored.nickname or user_id,
            "token": self.ctx.tokens.issue(user_id, DEMO_PLATFORM_ID),
            "created": created,
            "platformID": DEMO_PLATFORM_ID,
            "wsAddr": ws_addr,
            "apiAddr": api_addr,
        })


def add_demo_routes(app: web.Application, ctx: AppContext, *,
                    registration_enabled: bool) -> None:
    """Serve the demo page under ``/demo/`` of ``app`` (the admin server's application);
    ``registration_enabled`` turns on ``POST /demo/api/login`` and ``GET /demo/api/users``
    (otherwise they answer 404)."""
    if registration_enabled and ctx.config.listens_beyond_loopback():
        log.warning("demo sign-up is on while listening on %s: anyone who reaches the admin "
                    "port can get a token for any user (POST /demo/api/login)",
                    ctx.config.host or "all interfaces")
    routes = DemoRoutes(ctx, registration_enabled)
    router = app.router
    router.add_get("/demo", routes.redirect)
    router.add_get("/demo/", routes.index)
    router.add_get("/demo/api/config", routes.config)
    router.add_get("/demo/api/users", routes.users)
    router.add_post("/demo/api/login", routes.login)
    router.add_get("/demo/{name:(?!api/).+}", routes.static)
