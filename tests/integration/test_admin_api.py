"""The admin REST API on a running server: OpenIM's envelope, auth rules and validation.

The helpers here (``err_code``, ``refusal``, ``logged_in``) serve the other test_admin_*
modules too.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from oimws.admin.endpoint import Access
from oimws.admin.server import all_endpoints
from oimws.client import JssdkClient
from tests.support.server import AdminAPIError, RunningServer

ADMIN_ENDPOINTS = [e.path for e in all_endpoints() if e.access is Access.ADMIN]
USER_ENDPOINTS = [e.path for e in all_endpoints() if e.access is Access.USER]
# endpoints whose body has a required field (so that {} must be refused, naming one)
WITH_REQUIRED = [(e.path, e.access, [f.name for f in e.body.fields if f.required])
                 for e in all_endpoints() if any(f.required for f in e.body.fields)]


def post_raw(server: RunningServer, path: str, body: bytes, token: str | None = None) -> bytes:
    request = urllib.request.Request(server.api_url + path, data=body, method="POST",
                                     headers={"operationID": "t", **({"token": token} if token
                                                                      else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.read()


def err_code(server: RunningServer, path: str, body: object, token: str | None = None) -> int:
    return refusal(server, path, body, token)[0]


def refusal(server: RunningServer, path: str, body: object, token: str | None = None
            ) -> tuple[int, str]:
    """(errCode, errMsg) of a call that must be refused (HTTP 200, non-zero errCode)."""
    with pytest.raises(AdminAPIError) as raised:
        server.call(path, body, token=token)
    assert raised.value.status == 200, raised.value
    assert raised.value.err_msg
    return int(raised.value.err_code), str(raised.value.err_msg)


async def logged_in(server: RunningServer, user: str, platform: int = 5) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user, server.user_token(user, platform),
                                       platform)
    await client.login()
    return client


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


# every endpoint --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ADMIN_ENDPOINTS)
def test_every_admin_endpoint_refuses_no_token_and_a_user_token(shared_server, path):
    server = shared_server
    server.register(f"u-{len(path)}-{abs(hash(path)) % 10**6}")
    user_token = server.user_token(f"u-{len(path)}-{abs(hash(path)) % 10**6}")
    assert err_code(server, path, {}) == 1507
    assert err_code(server, path, {}, token=user_token) == 1002
    assert err_code(server, path, {}, token="garbage") == 1503


@pytest.mark.parametrize("path", USER_ENDPOINTS)
def test_upload_endpoints_need_a_token_but_any_users(shared_server, path):
    server = shared_server
    assert err_code(server, path, {}) == 1507
    server.register(f"up-{abs(hash(path)) % 10**6}")
    # a user token passes the door and meets body validation
    code, _ = refusal(server, path, {}, server.user_token(f"up-{abs(hash(path)) % 10**6}"))
    assert code == 1001


@pytest.mark.parametrize(("path", "access", "required"), WITH_REQUIRED,
                         ids=[path for path, _, _ in WITH_REQUIRED])
def test_an_empty_body_is_refused_naming_a_required_field(shared_server, path, access, required):
    server = shared_server
    token = None if access is Access.PUBLIC else server.admin_token()
    code, message = refusal(server, path, {}, token)
    assert code == 1001
    assert any(repr(name) in message for name in required), (message, required)


def test_parse_token_tells_who_a_token_is_for(shared_server: RunningServer):
    server = shared_server
    server.register("parsed")
    token = server.user_token("parsed", 2)
    data = server.call("/auth/parse_token", {"token": token})
    assert (data["userID"], data["platformID"]) == ("parsed", 2)
    assert data["expireTimeSeconds"] > 1_700_000_000  # a UNIX time, as OpenIM answers
    assert err_code(server, "/auth/parse_token", {"token": "abc"}) == 1503


def test_errors_of_handlers_use_the_rest_codes(shared_server: RunningServer):
    """An argument the jssdk function itself refuses (its 10002) is 1001 here."""
    server = shared_server
    admin = server.admin_token()
    server.register("coder", "coder2")
    server.call("/group/create_group", {"ownerUserID": "coder", "memberUserIDs": ["coder2"],
                                        "groupInfo": {"groupID": "g-coder"}}, token=admin)
    code, message = refusal(server, "/msg/send_msg", {
        "sendID": "coder", "groupID": "g-coder", "sessionType": 3, "contentType": 106,
        "content": {"text": "hi", "atUserList": "coder2"}}, admin)
    assert (code, message) == (1001, "atTextElem.atUserList must be an array")


def test_the_reply_envelope_has_openims_four_fields(shared_server: RunningServer):
    server = shared_server
    status, reply = server.post("/auth/get_admin_token",
                                {"secret": server.secret, "userID": "imAdmin"})
    assert status == 200 and set(reply) == {"errCode", "errMsg", "errDlt", "data"}
    status, reply = server.post("/auth/get_admin_token", {"secret": "no", "userID": "imAdmin"})
    assert status == 200 and reply["errCode"] == 1002 and reply["data"] is None


def test_a_body_over_the_size_limit_is_refused(shared_server: RunningServer):
    server = shared_server
    huge = json.dumps({"users": [{"userID": "x", "nickname": "y" * (2 * 1024 * 1024)}]})
    reply = json.loads(post_raw(server, "/user/user_register", huge.encode(),
                                token=server.admin_token()))
    assert reply["errCode"] == 1001 and "larger" in reply["errMsg"]
