"""``oimws serve --workers N``: processes sharing the ports on one host, one SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from oimws.client import JssdkClient, decode_data
from oimws.devcluster import REPO_ROOT, RedisServer, _healthy, _wait, free_port
from oimws.tokens import TokenService


@pytest.fixture
def redis(tmp_path: Path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def test_workers_need_redis(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "oimws", "serve", "--workers", "2",
                           "--data-dir", str(tmp_path)], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=30)
    assert done.returncode == 2
    assert "needs 'redis_url'" in done.stderr


async def test_workers_share_the_ports_and_deliver_to_each_other(tmp_path: Path, redis):
    ws_port, api_port = free_port(), free_port()
    secret = "worker-test-secret"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OIMWS_")}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "oimws", "serve", "--workers", "2", "--host", "127.0.0.1",
         "--ws-port", str(ws_port), "--api-port", str(api_port), "--secret", secret,
         "--data-dir", str(tmp_path / "data"), "--redis-url", redis.url],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _healthy(api_port), "the workers", process, tmp_path / "serve.log")
        await asyncio.sleep(1.0)  # let the second worker bind too
        server_api = f"http://127.0.0.1:{api_port}"
        tokens = TokenService(secret, 3600)

        def post(path: str, body: dict, token: str = "") -> dict:
            request = urllib.request.Request(server_api + path, json.dumps(body).encode(),
                                             {"token": token, "operationID": "w"})
            with urllib.request.urlopen(request, timeout=10) as reply:
                answer = json.load(reply)
            assert answer["errCode"] == 0, answer
            return answer

        admin_token = tokens.issue("imAdmin", 10)
        users = [f"w{i}" for i in range(8)]
        post("/user/user_register", {"users": [{"userID": u} for u in users]}, admin_token)
        clients = []
        for user in users:
            client = await JssdkClient.connect(f"ws://127.0.0.1:{ws_port}", user,
                                               tokens.issue(user, 5), 5)
            await client.login()
            clients.append(client)
        # whichever worker each landed on, everyone gets the group message once
        await clients[0].call("CreateGroup", {"groupInfo": {"groupID": "wg"},
                                              "memberUserIDs": users[1:]})
        message = await clients[0].call("CreateTextMessage", "hello workers")
        waits = [c.wait_for(lambda f: f["event"] == "OnRecvNewMessages" and any(
            m["clientMsgID"] == message["clientMsgID"] for m in decode_data(f)), 15)
            for c in clients[1:]]
        await clients[0].call("SendMessage", message, "", "wg", {}, False)
        await asyncio.gather(*waits)
        for client in clients:
            await client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        log.close()
    assert code == 0, (tmp_path / "serve.log").read_text()[-4000:]
