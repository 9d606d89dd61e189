"""Every example in ``examples/`` run the way its README says, against a real server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oimws.client import JssdkClient, decode_data
from tests.examples.conftest import EXAMPLES, NodeJs
from tests.support.server import RunningServer

RUN_TIMEOUT = 90


def run(command: Sequence[str], cwd: Path = EXAMPLES, timeout: float = RUN_TIMEOUT
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def last_json_line(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def server_args(server: RunningServer) -> list[str]:
    return ["--api", server.api_url, "--ws", server.ws_url, "--secret", server.secret]


async def logged_in(server: RunningServer, user_id: str) -> JssdkClient:
    client = await JssdkClient.connect(server.ws_url, user_id, server.user_token(user_id), 5)
    await client.login()
    return client


def history(client: JssdkClient, conversation_id: str) -> Any:
    return client.call("GetAdvancedHistoryMessageList", {
        "conversationID": conversation_id, "startClientMsgID": "", "count": 20,
        "lastMinSeq": 0})


# -- python_client.py ---------------------------------------------------------------------

async def test_python_client_logs_in_and_sends_a_message(shared_server):
    done = await asyncio.to_thread(run, [
        sys.executable, "python_client.py", *server_args(shared_server),
        "--user", "py-alice", "--to", "py-bob", "--text", "hello from the example"])
    sent = last_json_line(done)
    assert sent["sendID"] == "py-alice" and sent["recvID"] == "py-bob"
    assert sent["text"] == "hello from the example" and sent["seq"] == 1

    bob = await logged_in(shared_server, "py-bob")
    try:
        stored = await history(bob, "si_py-alice_py-bob")
    finally:
        await bob.close()
    assert [m["clientMsgID"] for m in stored["messageList"]] == [sent["clientMsgID"]]


async def test_python_client_runs_again_with_the_users_registered(shared_server):
    args = [sys.executable, "python_client.py", *server_args(shared_server),
            "--user", "py-carol", "--to", "py-dave"]
    first = last_json_line(await asyncio.to_thread(run, args))
    again = last_json_line(await asyncio.to_thread(run, [*args, "--no-register"]))
    assert (first["seq"], again["seq"]) == (1, 2)


# -- node_client.mjs ----------------------------------------------------------------------

def test_node_client_logs_in_sends_and_receives(shared_server, nodejs: NodeJs):
    done = run([nodejs.binary, *nodejs.flags, "node_client.mjs", *server_args(shared_server)])
    result = last_json_line(done)
    assert result["received"]["clientMsgID"] == result["sent"]["clientMsgID"]
    assert result["received"]["from"] == "alice"
    assert result["received"]["text"] == "hello from the jssdk in Node.js"


# -- echo_bot.py --------------------------------------------------------------------------

class Bot:
    """``examples/echo_bot.py`` as a background process, its output lines collected."""

    def __init__(self, server: RunningServer) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-u", "echo_bot.py", *server_args(server), "--retry", "0.3"],
            cwd=EXAMPLES, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, part: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if part in line:
                return line
        raise AssertionError(f"the bot never printed {part!r}; it printed:\n"
                             + "\n".join(self.seen))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


async def echoed(client: JssdkClient, text: str) -> dict[str, Any]:
    """Send ``text`` to the bot and wait for its push answering it."""
    def is_echo(frame: dict[str, Any]) -> bool:
        if frame.get("event") != "OnRecvNewMessages":
            return False
        return any(m.get("sendID") == "echo-bot"
                   and m.get("textElem", {}).get("content") == f"echo: {text}"
                   for m in decode_data(frame))

    answer = client.wait_for(is_echo, timeout=15, include_past=True)
    await client.send_text("echo-bot", text)
    frame = await answer
    message: dict[str, Any] = next(m for m in decode_data(frame)
                                   if m["textElem"]["content"] == f"echo: {text}")
    return message


async def test_echo_bot_answers_pushes_and_survives_a_restart(server):
    bot = Bot(server)
    try:
        bot.wait_line("is online")
        server.register("fan")
        fan = await logged_in(server, "fan")
        try:
            reply = await echoed(fan, "ping")
            assert reply["recvID"] == "fan" and reply["sessionType"] == 1
            # the bot read the conversation: the sender gets a read receipt
            receipt = await fan.wait_event("OnRecvC2CReadReceipt", timeout=10,
                                           include_past=True)
            assert decode_data(receipt)[0]["userID"] == "echo-bot"
            bot.wait_line("fan: echo: ping")
        finally:
            await fan.close()

        server.restart()  # the bot's connection drops; it reconnects by itself
        bot.wait_line("is online")
        fan = await logged_in(server, "fan")
        try:
            await echoed(fan, "still there?")
        finally:
            await fan.close()
    finally:
        code = bot.stop()
    assert code == 0, "\n".join(bot.seen)
    with contextlib.suppress(AssertionError):
        bot.wait_line("stopped", timeout=2)
    assert any("stopped" in line for line in bot.seen), bot.seen


# -- examples/cluster ---------------------------------------------------------------------

def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie nobody has reaped yet is gone too
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def test_cluster_readme_three_nodes_behind_nginx(tmp_path):
    directory = tmp_path / "cluster"
    devcluster = [sys.executable, "-m", "oimws.devcluster"]
    up = run([*devcluster, "up", "--nodes", "3", "--dir", str(directory)],
             cwd=EXAMPLES.parent, timeout=120)
    state_file = directory / "cluster.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {"pids": {}}
    try:
        assert up.returncode == 0, f"{up.stdout}\n{up.stderr}"
        assert sorted(state["pids"]) == ["nginx", "node0", "node1", "node2", "redis"]
        with urllib.request.urlopen(f"{state['api']}/healthz", timeout=10) as reply:
            assert reply.status == 200
            assert json.load(reply)["status"] == "ok"
        # the README's client run through nginx: /api to any node, /ws hashed onto one
        sent = last_json_line(run([sys.executable, "python_client.py", "--api", state["api"],
                                   "--ws", state["ws"], "--text", "through nginx"]))
        assert sent["text"] == "through nginx"
    finally:
        down = run([*devcluster, "down", "--dir", str(directory)], cwd=EXAMPLES.parent,
                   timeout=120)
    assert down.returncode == 0, f"{down.stdout}\n{down.stderr}"
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in state["pids"].values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in state["pids"].values()), state["pids"]
