"""Operations on a running server: probes, the OpenAPI document, structured logs, TLS, and the
``oimws admin`` / healthcheck commands."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from oimws.client import JssdkClient
from tests.integration.test_admin_api import logged_in
from tests.support.server import REPO_ROOT, RunningServer, free_ports

DOCS_OPENAPI = REPO_ROOT / "docs" / "openapi.json"


def get_json(url: str, context: ssl.SSLContext | None = None) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)


# probes ---------------------------------------------------------------------------------------


async def test_healthz_counts_connections_and_readyz_checks_the_store(server: RunningServer):
    server.register("alice")
    alice = await logged_in(server, "alice")
    status, health = get_json(server.api_url + "/healthz")
    assert status == 200 and health["status"] == "ok"
    assert (health["connections"], health["onlineUsers"]) == (1, 1)
    assert health["uptimeSeconds"] >= 0 and health["version"]
    status, ready = get_json(server.api_url + "/readyz")
    assert (status, ready) == (200, {"status": "ready", "checks": {"store": "ok"}})
    await alice.close()


def test_readyz_fails_when_the_store_cannot_write(server: RunningServer):
    database = server.data_dir / "oimws.sqlite3"
    # Another connection holding the write lock keeps the gateway's writer from committing.
    import sqlite3

    blocker = sqlite3.connect(database, timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        status, ready = get_json(server.api_url + "/readyz")
    finally:
        blocker.rollback()
        blocker.close()
    assert status == 503 and ready["status"] == "not ready"
    assert ready["checks"]["store"] != "ok"


def test_healthcheck_command_prints_connections_and_uptime(shared_server: RunningServer):
    done = run("oimws.healthcheck", shared_server.api_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is UP" in done.stdout and "connections" in done.stdout and "up " in done.stdout
    [port] = free_ports(1)
    down = run("oimws.healthcheck", f"http://127.0.0.1:{port}")
    assert down.returncode == 1 and "DOWN" in down.stdout


# the OpenAPI document -------------------------------------------------------------------------


def test_openapi_is_served_and_the_repository_copy_is_current(shared_server: RunningServer):
    status, served = get_json(shared_server.api_url + "/openapi.json")
    assert status == 200
    assert served == json.loads(DOCS_OPENAPI.read_text()), \
        "docs/openapi.json is stale: run `oimws openapi > docs/openapi.json`"
    generated = run("oimws", "openapi")
    assert json.loads(generated.stdout) == served


def test_openapi_documents_every_route_the_server_has():
    from oimws.admin.server import AdminServer
    from oimws.config import Config

    class Context:  # what building the routes reads
        config = Config()

    document = json.loads(DOCS_OPENAPI.read_text())
    admin = AdminServer(Context(), None, None)  # type: ignore[arg-type]
    routes = set()
    for resource in admin.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        for route in resource:
            if route.method not in ("HEAD", "OPTIONS"):
                routes.add((path.replace("{key:[0-9a-f]{32}/.+}", "{key}"), route.method))
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item}
    # The sample chat page is no part of the OpenIM API (see tests/browser).
    assert {r for r in routes if not r[0].startswith("/demo")} == documented


def test_openapi_declares_bodies_access_and_the_envelope():
    document = json.loads(DOCS_OPENAPI.read_text())
    send = document["paths"]["/msg/send_msg"]["post"]
    schema = send["requestBody"]["content"]["application/json"]["schema"]
    assert {"sendID", "sessionType", "contentType", "content"} <= set(schema["required"])
    assert send["security"] == [{"token": []}]
    assert document["paths"]["/auth/get_admin_token"]["post"]["security"] == []
    assert set(document["components"]["schemas"]["Envelope"]["properties"]) == {
        "errCode", "errMsg", "errDlt", "data"}


# structured logs ------------------------------------------------------------------------------


def json_lines(server: RunningServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.log_text().splitlines()
            if line.startswith("{")]


async def test_log_lines_are_json_with_the_request_context_and_no_tokens(server: RunningServer):
    server.register("alice", "bob")
    user_token = server.user_token("alice")
    operation_id = uuid.uuid4().hex
    server.post("/user/get_users_info", {"userIDs": ["alice"]}, token=server.admin_token(),
                operation_id=operation_id)
    alice = await JssdkClient.connect(server.ws_url, "alice", user_token)
    await alice.login()
    await alice.send_text("bob", "logged?")
    await alice.close()
    server.stop()

    lines = json_lines(server)
    assert lines and all({"time", "level", "logger", "msg"} <= set(line) for line in lines)
    [admin_line] = [line for line in lines if line.get("operationID") == operation_id]
    assert admin_line["userID"] == "imAdmin" and "/user/get_users_info" in admin_line["msg"]
    login_lines = [line for line in lines if "logged in" in line["msg"]]
    assert login_lines and all(line["userID"] == "alice" and line["operationID"]
                               for line in login_lines)
    text = server.log_text()
    for secret in (user_token, server.admin_token(), server.secret):
        assert secret not in text


# the admin command ----------------------------------------------------------------------------


async def test_the_admin_command_registers_issues_sends_and_logs_out(server: RunningServer):
    admin = ("oimws", "admin", "--api", server.api_url, "--secret", server.secret)
    done = run(*admin, "register", "carol", "dave", "--nickname", "Someone")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"registered": ["carol", "dave"]}
    token = run(*admin, "token", "carol").stdout.strip()
    carol = await JssdkClient.connect(server.ws_url, "carol", token)
    await carol.login()
    got = carol.wait_event("OnRecvNewMessages")
    sent = run(*admin, "send", "--from", "dave", "--to", "carol", "hi from a script")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["clientMsgID"] in (await got)["data"]
    kicked = carol.wait_event("OnKickedOffline")
    assert run(*admin, "force-logout", "carol", "--platform", "5").returncode == 0
    await kicked
    called = run(*admin, "call", "/user/account_check", '{"checkUserIDs": ["dave"]}')
    assert json.loads(called.stdout)["results"][0]["accountStatus"] == 1
    refused = run(*admin, "register", "dave")
    assert refused.returncode == 1 and "errCode 1102" in refused.stderr
    wrong_secret = run("oimws", "admin", "--api", server.api_url, "--secret", "nope",
                       "token", "dave")
    assert wrong_secret.returncode == 1 and "errCode 1002" in wrong_secret.stderr


# TLS ------------------------------------------------------------------------------------------


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the TLS test needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


async def test_tls_serves_wss_and_https(tmp_path: Path, tls_files: tuple[Path, Path]):
    cert, key = tls_files
    ws_port, api_port = free_ports(2)
    secret = uuid.uuid4().hex
    log = (tmp_path / "tls.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "oimws", "serve", "--ws-port", str(ws_port), "--api-port",
         str(api_port), "--data-dir", str(tmp_path / "data"), "--secret", secret,
         "--tls-cert", str(cert), "--tls-key", str(key)],
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    trusted = ssl.create_default_context(cafile=str(cert))
    api = f"https://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if get_json(api + "/healthz", trusted)[0] == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            assert process.poll() is None, (tmp_path / "tls.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "tls.log").read_text()
            time.sleep(0.1)
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # no plain http
            urllib.request.urlopen(f"http://127.0.0.1:{api_port}/healthz", timeout=5)

        def admin_call(path: str, body: dict[str, Any], token: str = "") -> Any:
            request = urllib.request.Request(api + path, data=json.dumps(body).encode(),
                                             method="POST", headers={"token": token})
            with urllib.request.urlopen(request, timeout=10, context=trusted) as response:
                return json.load(response)["data"]

        admin = admin_call("/auth/get_admin_token", {"secret": secret, "userID": "imAdmin"})
        admin_call("/user/user_register", {"users": [{"userID": "tls-user"}]}, admin["token"])
        token = admin_call("/auth/get_user_token", {"userID": "tls-user", "platformID": 5},
                           admin["token"])["token"]
        client = await JssdkClient.connect(f"wss://127.0.0.1:{ws_port}", "tls-user", token,
                                           ssl_context=trusted)
        await client.login()
        assert await client.call("GetLoginUserID") == "tls-user"
        await client.close()
        with socket.create_connection(("127.0.0.1", ws_port), timeout=5) as plain:
            plain.sendall(b"GET /?sendID=x HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                answer = plain.recv(100)
            except OSError:
                answer = b""
            assert not answer.startswith(b"HTTP/")  # no plain ws:// on a TLS port
        checked = run("oimws.healthcheck", api, "--insecure")
        assert checked.returncode == 0, checked.stdout
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
    assert process.returncode == 0, (tmp_path / "tls.log").read_text()
