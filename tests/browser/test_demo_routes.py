"""The demo's routes (``oimws.demo.add_demo_routes``) on an aiohttp app of their own, over a
real SQLite store: what the page is served with, and the demo-only sign-up endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from oimws.demo import STATIC_DIR, add_demo_routes
from tests.unit.harness import Harness

WS_PORT = 10003


@pytest.fixture
async def harness(tmp_path) -> AsyncIterator[Harness]:
    async with Harness.running(tmp_path, "alice", ws_port=WS_PORT) as running:
        yield running


async def _client(harness: Harness, registration: bool) -> TestClient[Any, Any]:
    app = web.Application()
    add_demo_routes(app, harness.ctx, registration_enabled=registration)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def demo(harness) -> AsyncIterator[TestClient[Any, Any]]:
    client = await _client(harness, registration=True)
    yield client
    await client.close()


@pytest.fixture
async def closed_demo(harness) -> AsyncIterator[TestClient[Any, Any]]:
    client = await _client(harness, registration=False)
    yield client
    await client.close()


async def login(client: TestClient[Any, Any], body: Any) -> tuple[int, dict[str, Any]]:
    reply = await client.post("/demo/api/login", json=body)
    return reply.status, await reply.json()


# -- the page -----------------------------------------------------------------------------

async def test_the_page_and_its_files_are_served_with_a_strict_policy(closed_demo):
    page = await closed_demo.get("/demo/")
    assert page.status == 200
    assert page.content_type == "text/html"
    assert "vendor/open-im-sdk.umd.js" in await page.text()
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert page.headers["Cache-Control"] == "no-cache"
    for name, content_type in [("app.js", "text/javascript"), ("app.css", "text/css"),
                               ("vendor/open-im-sdk.umd.js", "text/javascript"),
                               ("favicon.svg", "image/svg+xml")]:
        reply = await closed_demo.get(f"/demo/{name}")
        assert reply.status == 200, name
        assert reply.content_type == content_type, name
        assert await reply.read() == (STATIC_DIR / name).read_bytes()


async def test_demo_without_a_slash_redirects_to_the_page(closed_demo):
    reply = await closed_demo.get("/demo", allow_redirects=False)
    assert reply.status == 308
    assert reply.headers["Location"] == "demo/"


@pytest.mark.parametrize("path", [
    "/demo/nothing.js", "/demo/..%2f..%2fpyproject.toml", "/demo/vendor/",
    "/demo/%2e%2e/routes.py", "/demo/static/app.js"])
async def test_only_the_shipped_files_are_served(closed_demo, path):
    reply = await closed_demo.get(path)
    assert reply.status == 404, path


# -- config -------------------------------------------------------------------------------

async def test_config_gives_the_addresses_the_browser_used(demo):
    reply = await demo.get("/demo/api/config", headers={"Host": "chat.example:8080"})
    data = (await reply.json())["data"]
    assert data == {"registration": True, "platformID": 5,
                    "apiAddr": "http://chat.example:8080",
                    "wsAddr": f"ws://chat.example:{WS_PORT}"}


async def test_config_behind_the_repos_nginx(demo):
    reply = await demo.get("/demo/api/config", headers={
        "Host": "im.example", "X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/api"})
    data = (await reply.json())["data"]
    assert (data["apiAddr"], data["wsAddr"]) == ("https://im.example/api", "wss://im.example/ws")


async def test_config_with_an_ipv6_host(demo):
    reply = await demo.get("/demo/api/config", headers={"Host": "[::1]:10002"})
    assert (await reply.json())["data"]["wsAddr"] == f"ws://[::1]:{WS_PORT}"


# -- registration off (the default) ------------------------------------------------------

async def test_without_demo_mode_nobody_can_sign_up_or_list_users(closed_demo, harness):
    status, body = await login(closed_demo, {"userID": "mallory"})
    assert status == 404
    assert "--demo" in body["errMsg"]
    assert await harness.ctx.store.get_users(["mallory"]) == {}
    users = await closed_demo.get("/demo/api/users")
    assert users.status == 404
    config = await closed_demo.get("/demo/api/config")
    assert (await config.json())["data"]["registration"] is False


# -- registration on (--demo) --------------------------------------------------------------

async def test_login_registers_a_new_user_and_returns_a_web_token(demo, harness):
    status, body = await login(demo, {"userID": "bob", "nickname": "  Bob Builder "})
    assert status == 200 and body["errCode"] == 0, body
    data = body["data"]
    assert (data["userID"], data["nickname"], data["created"]) == ("bob", "Bob Builder", True)
    assert data["platformID"] == 5
    claims = harness.ctx.tokens.verify(data["token"])
    assert (claims.user_id, claims.platform_id) == ("bob", 5)
    stored = (await harness.ctx.store.get_users(["bob"]))["bob"]
    assert stored.nickname == "Bob Builder"


async def test_login_as_an_existing_user_keeps_the_profile(demo, harness):
    status, body = await login(demo, {"userID": "alice", "nickname": "Someone Else"})
    assert status == 200 and body["errCode"] == 0, body
    assert (body["data"]["created"], body["data"]["nickname"]) == (False, "Alice")
    assert (await harness.ctx.store.get_users(["alice"]))["alice"].nickname == "Alice"


async def test_a_new_user_without_a_nickname_is_called_by_the_id(demo):
    _, body = await login(demo, {"userID": "carol"})
    assert body["data"]["nickname"] == "carol"


@pytest.mark.parametrize(("body", "field"), [
    ({"userID": ""}, "userID"),
    ({"userID": "has space"}, "userID"),
    ({"userID": "_leading"}, "userID"),
    ({"userID": "x" * 33}, "userID"),
    ({"userID": 7}, "userID"),
    ({"userID": "dan", "nickname": "n" * 33}, "nickname"),
    ({"userID": "dan", "nickname": ["list"]}, "nickname"),
    ({"userID": "imAdmin"}, "reserved"),
    (["not", "an", "object"], "JSON object"),
])
async def test_bad_sign_ups_are_refused_and_change_nothing(demo, harness, body, field):
    status, reply = await login(demo, body)
    assert status == 200 and reply["errCode"] == 1001, reply
    assert field in reply["errMsg"]
    assert await harness.ctx.store.get_users(["dan", "imAdmin"]) == {}


async def test_a_body_that_is_not_json_is_refused(demo):
    reply = await demo.post("/demo/api/login", data=b"userID=alice")
    assert (await reply.json())["errCode"] == 1001


async def test_users_lists_who_can_be_picked_without_admins(demo):
    await login(demo, {"userID": "bob", "nickname": "Bob"})
    reply = await demo.get("/demo/api/users")
    users = (await reply.json())["data"]["users"]
    assert [(u["userID"], u["nickname"]) for u in users] == [("alice", "Alice"), ("bob", "Bob")]


async def test_sign_up_beyond_loopback_is_logged_loudly(tmp_path, caplog):
    async with Harness.running(tmp_path, host="0.0.0.0") as running:
        add_demo_routes(web.Application(), running.ctx, registration_enabled=True)
        add_demo_routes(web.Application(), running.ctx, registration_enabled=False)
    warnings = [r for r in caplog.records if r.name == "oimws.demo"]
    assert len(warnings) == 1 and "any user" in warnings[0].getMessage()
