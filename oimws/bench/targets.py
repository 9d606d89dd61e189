"""The servers under test, each started by the harness on free loopback ports: oimws itself
(``python -m oimws serve`` on a fresh data directory, durable SQLite store) and the peers it
is compared with (``benchmarks/peers/``: bare picows, websockets, Node.js ws)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from oimws.bench import procstat

REPO = Path(__file__).resolve().parents[2]
PEERS_DIR = REPO / "benchmarks" / "peers"
SECRET = "oimws-bench-secret"
ADMIN_USER = "imAdmin"
REGISTER_BATCH = 1000  # /user/user_register and the group calls take up to 1000 IDs


class TargetError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(check: object, what: str, process: subprocess.Popen[bytes], log: Path,
              timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TargetError(f"{what} exited with {process.returncode}:\n{_tail(log)}")
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TargetError(f"{what} did not come up within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


class Target:
    """One server process on a free port."""

    name = ""
    description = ""
    stores_messages = False
    # tokens are only checked by oimws; the peers accept anything
    issues_tokens = False

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"oimws-bench-{self.name}-"))
        self.log = self.workdir / "server.log"
        self.ws_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return _port_open(self.ws_port)

    def start(self) -> Target:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.workdir, start_new_session=True)
        _wait_for(self.ready, f"{self.name} server", self.process, self.log)
        return self

    def pids(self) -> list[int]:
        return procstat.process_tree(self.process.pid) if self.process else []

    def tokens_for(self, user_ids: list[str]) -> list[tuple[str, str]]:
        return [(u, "bench") for u in user_ids]

    def register(self, user_ids: list[str]) -> None:
        """Peers have no users: anyone who connects is in the one group."""

    def create_group(self, owner: str, members: list[str]) -> str:
        return "benchgroup"

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Target:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OimwsTarget(Target):
    name = "oimws"
    description = "oimws (IM logic, SQLite durable store, synchronous=FULL)"
    stores_messages = True
    issues_tokens = True

    def __init__(self) -> None:
        super().__init__()
        self.api_port = free_port()
        from oimws.admin.client import AdminClient
        from oimws.tokens import TokenService

        self.admin = AdminClient(f"http://127.0.0.1:{self.api_port}", SECRET, ADMIN_USER,
                                 timeout=120)
        self._tokens = TokenService(SECRET, 24 * 3600)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "oimws", "serve", "--host", "127.0.0.1",
                "--ws-port", str(self.ws_port), "--api-port", str(self.api_port),
                "--data-dir", str(self.workdir / "data"), "--secret", SECRET,
                "--log-level", "warning", "--log-format", "text"]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/readyz",
                                        timeout=1) as response:
                return bool(response.status == 200) and _port_open(self.ws_port)
        except OSError:
            return False

    def register(self, user_ids: list[str]) -> None:
        for start in range(0, len(user_ids), REGISTER_BATCH):
            self.admin.register(user_ids[start:start + REGISTER_BATCH])

    def tokens_for(self, user_ids: list[str]) -> list[tuple[str, str]]:
        # minted locally with the shared secret, as OpenIM's own backends do
        return [(u, self._tokens.issue(u, 5)) for u in user_ids]

    def create_group(self, owner: str, members: list[str]) -> str:
        others = [m for m in members if m != owner]
        first, rest = others[:REGISTER_BATCH], others[REGISTER_BATCH:]
        info = self.admin.admin_call("/group/create_group", {
            "ownerUserID": owner, "memberUserIDs": first, "adminUserIDs": [],
            "groupInfo": {"groupName": "bench", "groupType": 2}})
        group_id = str(info["groupInfo"]["groupID"])
        for start in range(0, len(rest), REGISTER_BATCH):
            self.admin.admin_call("/group/invite_user_to_group", {
                "groupID": group_id, "reason": "bench",
                "invitedUserIDs": rest[start:start + REGISTER_BATCH]})
        return group_id


class PythonPeer(Target):
    script = ""

    def command(self) -> list[str]:
        path = PEERS_DIR / self.script
        if not path.exists():
            raise TargetError(f"{path} is missing: the peers need a source checkout of oimws")
        return [sys.executable, str(path), "--port", str(self.ws_port)]


class PicowsPeer(PythonPeer):
    name = "picows"
    description = "bare picows + uvloop broadcast (no IM logic): the floor for this stack"
    script = "picows_broadcast.py"


class WebsocketsPeer(PythonPeer):
    name = "websockets"
    description = "websockets (asyncio, uvloop) with websockets.broadcast()"
    script = "websockets_broadcast.py"


class NodeWsPeer(Target):
    name = "node-ws"
    description = "Node.js ws, the broadcast loop from its README"

    def command(self) -> list[str]:
        node_dir = PEERS_DIR / "node"
        node = shutil.which("node")
        if node is None:
            raise TargetError("node is not installed: the Node ws peer needs Node.js")
        if not (node_dir / "node_modules" / "ws").exists():
            npm = shutil.which("npm")
            if npm is None:
                raise TargetError("npm is not installed: cannot install the ws package")
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=node_dir, check=True, timeout=300)
        return [node, str(node_dir / "server.js"), "--port", str(self.ws_port)]


PEERS: dict[str, type[Target]] = {"picows": PicowsPeer, "websockets": WebsocketsPeer,
                                  "node-ws": NodeWsPeer}
