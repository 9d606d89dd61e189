"""The admin REST API on a running server: OpenIM's envelope, auth rules and validation."""

from __future__ import annotations

import urllib.request

import pytest

from tests.support.server import AdminAPIError, RunningServer


def post_raw(server: RunningServer, path: str, body: bytes, token: str | None = None) -> bytes:
    request = urllib.request.Request(server.api_url + path, data=body, method="POST",
                                     headers={"operationID": "t", **({"token": token} if token
                                                                      else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.read()


def err_code(server: RunningServer, path: str, body: object, token: str | None = None) -> int:
    with pytest.raises(AdminAPIError) as raised:
        server.call(path, body, token=token)
    assert raised.value.err_msg
    return int(raised.value.err_code)


def test_admin_token_needs_the_secret_and_an_admin_id(shared_server: RunningServer):
    server = shared_server
    assert err_code(server, "/auth/get_admin_token",
                    {"secret": "wrong", "userID": "imAdmin"}) == 1002
    assert err_code(server, "/auth/get_admin_token",
                    {"secret": server.secret, "userID": "alice"}) == 1002
    data = server.call("/auth/get_admin_token", {"secret": server.secret, "userID": "imAdmin"})
    assert data["token"] and data["expireTimeSeconds"] > 0


def test_admin_endpoints_refuse_missing_and_user_tokens(shared_server: RunningServer):
    server = shared_server
    server.register("adm-user")
    body = {"users": [{"userID": "someone"}]}
    assert err_code(server, "/user/user_register", body) == 1507
    user_token = server.user_token("adm-user")
    assert err_code(server, "/user/user_register", body, token=user_token) == 1002
    assert err_code(server, "/auth/get_user_token", {"platformID": 5, "userID": "adm-user"},
                    token="not-a-token") == 1503


def test_tokens_only_for_registered_users(shared_server: RunningServer):
    server = shared_server
    admin = server.admin_token()
    assert err_code(server, "/auth/get_user_token", {"platformID": 5, "userID": "ghost"},
                    token=admin) == 1101
    assert err_code(server, "/auth/user_token",
                    {"secret": server.secret, "platformID": 5, "userID": "ghost"}) == 1101
    server.register("real-user")
    data = server.call("/auth/user_token",
                       {"secret": server.secret, "platformID": 5, "userID": "real-user"})
    assert data["token"]


def test_registering_twice_is_refused_and_changes_nothing(shared_server: RunningServer):
    server = shared_server
    admin = server.admin_token()
    server.call("/user/user_register",
                {"users": [{"userID": "dup-a", "nickname": "A"}]}, token=admin)
    code = err_code(server, "/user/user_register",
                    {"users": [{"userID": "dup-b"}, {"userID": "dup-a", "nickname": "B"}]},
                    token=admin)
    assert code == 1102
    # dup-b was not half-registered by the refused batch
    assert err_code(server, "/auth/get_user_token", {"platformID": 5, "userID": "dup-b"},
                    token=admin) == 1101


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "users"),
        ({"users": "alice"}, "users"),
        ({"users": [{"nickname": "x"}]}, "userID"),
        ({"users": [{"userID": 5}]}, "userID"),
        ({"users": [{"userID": "ok", "nickname": 5}]}, "nickname"),
        ({"users": [{"userID": "x" * 65}]}, "userID"),
    ],
)
def test_register_validation_names_the_field(shared_server: RunningServer, body, field):
    server = shared_server
    with pytest.raises(AdminAPIError) as raised:
        server.call("/user/user_register", body, token=server.admin_token())
    assert raised.value.err_code == 1001
    assert field in raised.value.err_msg


def test_bodies_that_are_not_json_objects(shared_server: RunningServer):
    import json

    server = shared_server
    for raw in (b"{not json", b"[1, 2]"):
        reply = json.loads(post_raw(server, "/auth/get_admin_token", raw))
        assert reply["errCode"] == 1001 and reply["errMsg"]
    reply = json.loads(post_raw(server, "/auth/get_user_token", b'{"platformID": "5"}',
                                token=server.admin_token()))
    assert reply["errCode"] == 1001 and "platformID" in reply["errMsg"]
