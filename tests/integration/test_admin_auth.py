"""/auth/force_logout: the session on that platform is kicked and every token issued for it so
far stops working (at the upgrade, at Login, and after a restart); other platforms and new
tokens are unaffected."""

from __future__ import annotations

import asyncio

import pytest

from oimws.client import JssdkClient, ResponseError
from tests.integration.test_admin_api import err_code, logged_in, refusal
from tests.support.server import RunningServer

WEB, IOS = 5, 1
TOKEN_KICKED = 1506


def upgrade(server: RunningServer, user: str, token: str, platform: int = WEB):
    return server.ws_handshake({"sendID": user, "token": token, "platformID": platform})


async def test_force_logout_kicks_that_platform_only(server: RunningServer):
    server.register("alice", "bob")
    web = await logged_in(server, "alice", WEB)
    phone = await logged_in(server, "alice", IOS)
    kicked = web.wait_event("OnKickedOffline")
    server.call("/auth/force_logout", {"userID": "alice", "platformID": WEB},
                token=server.admin_token())
    await kicked
    await asyncio.wait_for(web.disconnected.wait(), 5)
    assert web.close_code == 1008
    # the phone is still logged in and served
    assert await phone.call("GetLoginUserID") == "alice"
    await phone.send_text("bob", "still here")
    await phone.close()


async def test_tokens_issued_before_are_refused_and_new_ones_work(server: RunningServer):
    server.register("alice")
    old_token = server.user_token("alice", WEB)
    other_platform = server.user_token("alice", IOS)
    server.call("/auth/force_logout", {"userID": "alice", "platformID": WEB},
                token=server.admin_token())

    refused = upgrade(server, "alice", old_token)
    assert refused.status == 401 and refused.json()["errCode"] == TOKEN_KICKED
    assert err_code(server, "/auth/parse_token", {"token": old_token}) == TOKEN_KICKED
    assert upgrade(server, "alice", other_platform, IOS).upgraded

    fresh = server.user_token("alice", WEB)  # issued in the same second as the logout
    assert upgrade(server, "alice", fresh).upgraded
    client = await JssdkClient.connect(server.ws_url, "alice", fresh, WEB)
    with pytest.raises(ResponseError) as raised:  # Login cannot bring the old token back
        await client.call("Login", "alice", old_token)
    assert raised.value.code == TOKEN_KICKED
    await client.login()
    await client.close()


def test_the_revocation_survives_a_restart(server: RunningServer):
    server.register("alice")
    old_token = server.user_token("alice", WEB)
    server.call("/auth/force_logout", {"userID": "alice", "platformID": WEB},
                token=server.admin_token())
    assert server.restart() == 0
    refused = upgrade(server, "alice", old_token)
    assert refused.status == 401 and refused.json()["errCode"] == TOKEN_KICKED
    assert upgrade(server, "alice", server.user_token("alice", WEB)).upgraded


def test_an_admin_token_can_be_revoked_too(server: RunningServer):
    admin = server.admin_token()
    server.call("/auth/force_logout", {"userID": "imAdmin", "platformID": 10}, token=admin)
    assert err_code(server, "/user/get_users_info", {"userIDs": ["x"]}, token=admin) == 1506


@pytest.mark.parametrize(("body", "field"), [
    ({"userID": "alice"}, "platformID"),
    ({"userID": "alice", "platformID": 11}, "platformID"),
    ({"userID": "alice", "platformID": "5"}, "platformID"),
    ({"platformID": 5}, "userID"),
])
def test_force_logout_validates_its_body(shared_server: RunningServer, body, field):
    server = shared_server
    code, message = refusal(server, "/auth/force_logout", body, server.admin_token())
    assert code == 1001 and field in message
