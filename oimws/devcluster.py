"""A local cluster on loopback for trying oimws by hand and for the cluster tests:
redis-server, the repo's nginx.conf rendered for the nodes, and N oimws nodes, each started
from Debian's binaries / this checkout in a directory of its own.

``python -m oimws.devcluster up [--nodes 3] [--dir run/cluster]`` and ``... down``
(``make cluster-up`` / ``make cluster-down``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[1]
NGINX_TEMPLATE = REPO_ROOT / "nginx.conf"
HOST = "127.0.0.1"
START_TIMEOUT = 30.0


class ClusterError(RuntimeError):
    """A part of the cluster did not start or stop as it should."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(check: Callable[[], bool], what: str,
          process: subprocess.Popen[bytes] | None = None, log: Path | None = None,
          timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise ClusterError(f"{what} did not come up\n{tail}")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _healthy(api_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{api_port}/healthz", timeout=1) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def _find(binary: str, *extra_dirs: str) -> str:
    found = shutil.which(binary) or next(
        (str(Path(d) / binary) for d in extra_dirs if (Path(d) / binary).exists()), None)
    if found is None:
        raise ClusterError(f"{binary} is not installed (apt-get install "
                           f"{'redis-server' if 'redis' in binary else binary})")
    return found


@dataclasses.dataclass
class Service:
    """One process of the cluster, with its log."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        return self.process.returncode


def _spawn(name: str, argv: Sequence[str], directory: Path,
           env: dict[str, str] | None = None) -> Service:
    log_path = directory / f"{name}.log"
    log_file = log_path.open("ab")
    process = subprocess.Popen(list(argv), stdout=log_file, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, cwd=REPO_ROOT,
                               env={**os.environ, **(env or {})})
    return Service(name, process, log_path, log_file)


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.service: Service | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.service = _spawn("redis", [
            _find("redis-server"), "--bind", HOST, "--port", str(self.port),
            "--dir", str(self.directory), "--save", "", "--appendonly", "no",
            "--protected-mode", "yes"], self.directory)
        _wait(lambda: _accepts(self.port), "redis-server", self.service.process,
              self.service.log_path)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None


@dataclasses.dataclass
class NodeAddress:
    ws_port: int
    api_port: int


class Nginx:
    def __init__(self, directory: Path, nodes: Sequence[NodeAddress],
                 port: int | None = None) -> None:
        self.directory = directory
        self.nodes = list(nodes)
        self.port = port or free_port()
        self.service: Service | None = None

    def render(self) -> Path:
        """The repo's nginx.conf with this cluster's ports and paths."""
        def servers(ports: list[int]) -> str:
            return "\n".join(f"        server {HOST}:{p} max_fails=1 fail_timeout=5s;"
                             for p in ports)

        text = NGINX_TEMPLATE.read_text()
        replacements = {
            "@USER_LINE@": "user root;" if os.geteuid() == 0 else "",
            "@RUN_DIR@": str(self.directory),
            "@LISTEN@": f"{HOST}:{self.port}",
            "@WS_SERVERS@": servers([n.ws_port for n in self.nodes]),
            "@API_SERVERS@": servers([n.api_port for n in self.nodes]),
        }
        for placeholder, value in replacements.items():
            text = text.replace(placeholder, value)
        path = self.directory / "nginx.conf"
        path.write_text(text)
        return path

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.render()
        self.service = _spawn("nginx", [
            _find("nginx", "/usr/sbin"), "-c", str(config), "-p", str(self.directory),
            "-g", "daemon off;"], self.directory)
        _wait(lambda: _accepts(self.port), "nginx", self.service.process,
              self.directory / "nginx-error.log")

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(signal.SIGQUIT)
            self.service = None


class OimwsNode:
    def __init__(self, directory: Path, node_id: str, secret: str, redis_url: str,
                 store_args: Sequence[str], log_level: str = "info") -> None:
        self.directory = directory
        self.node_id = node_id
        self.address = NodeAddress(free_port(), free_port())
        self._argv = [sys.executable, "-m", "oimws", "serve", "--host", HOST,
                      "--ws-port", str(self.address.ws_port),
                      "--api-port", str(self.address.api_port),
                      "--secret", secret, "--redis-url", redis_url, "--node-id", node_id,
                      "--log-level", log_level, *store_args]
        self.service: Service | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.address.ws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.address.api_port}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("OIMWS_")}
        self.service = _spawn(self.node_id, self._argv, self.directory, env)
        _wait(lambda: _healthy(self.address.api_port), f"node {self.node_id}",
              self.service.process, self.service.log_path)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.service is None:
            return None
        code = self.service.stop(sig)
        self.service = None
        return code

    def kill(self) -> None:
        """SIGKILL: the node dies without any goodbye."""
        if self.service is not None:
            self.service.process.kill()
            self.service.process.wait()
            self.service.log_file.close()
            self.service = None

    def health(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.api_url}/healthz", timeout=2) as reply:
            health: dict[str, object] = json.load(reply)
            return health


class LocalCluster:
    """Redis + N nodes (+ nginx in front). ``store_args`` picks the shared store: e.g.
    ``["--postgres-dsn", dsn]``, or ``["--data-dir", path]`` for SQLite shared on one host."""

    def __init__(self, directory: Path, nodes: int, secret: str, store_args: Sequence[str],
                 log_level: str = "info") -> None:
        self.directory = directory
        self.redis = RedisServer(directory / "redis")
        self.nodes = [OimwsNode(directory / f"node{i}", f"node{i}", secret, self.redis.url,
                                store_args, log_level) for i in range(nodes)]
        self.nginx = Nginx(directory / "nginx", [n.address for n in self.nodes])
        self.secret = secret

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.nginx.port}/ws"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.nginx.port}/api"

    def start(self) -> None:
        self.redis.start()
        for node in self.nodes:
            node.start()
        self.nginx.start()

    def stop(self) -> None:
        self.nginx.stop()
        for node in self.nodes:
            node.stop()
        self.redis.stop()

    def logs(self) -> str:
        parts = []
        for path in sorted(self.directory.rglob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
        return "\n".join(parts)


# the command line: make cluster-up / cluster-down -------------------------------------------

def _up(args: argparse.Namespace) -> int:
    directory = Path(args.dir).resolve()
    state = directory / "cluster.json"
    if state.exists():
        print(f"a cluster is already up (see {state}); run `make cluster-down` first")
        return 1
    store = ["--postgres-dsn", args.postgres_dsn] if args.postgres_dsn else [
        "--data-dir", str(directory / "data")]
    cluster = LocalCluster(directory, args.nodes, args.secret, store)
    try:
        cluster.start()
    except ClusterError as exc:
        cluster.stop()
        print(exc, file=sys.stderr)
        return 1
    services = {"redis": cluster.redis.service, "nginx": cluster.nginx.service,
                **{n.node_id: n.service for n in cluster.nodes}}
    pids = {name: service.process.pid for name, service in services.items() if service}
    state.write_text(json.dumps({"pids": pids, "ws": cluster.ws_url, "api": cluster.api_url},
                                indent=2))
    print(f"cluster up: {args.nodes} nodes behind nginx\n  jssdk:  {cluster.ws_url}\n"
          f"  admin:  {cluster.api_url}\n  state:  {state}")
    return 0


def _down(args: argparse.Namespace) -> int:
    state = Path(args.dir).resolve() / "cluster.json"
    if not state.exists():
        print("no cluster is up")
        return 0
    pids = json.loads(state.read_text())["pids"]
    for name in ("nginx", *[k for k in pids if k.startswith("node")], "redis"):
        pid = pids.get(name)
        if pid is None:
            continue
        try:
            os.kill(pid, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
    state.unlink()
    print("cluster down")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oimws.devcluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start redis, N nodes and nginx in the background")
    up.add_argument("--nodes", type=int, default=3)
    up.add_argument("--secret", default="openIM123")
    up.add_argument("--postgres-dsn", default=os.environ.get("OIMWS_POSTGRES_DSN", ""),
                    help="shared PostgreSQL (default: SQLite shared on this host)")
    down = commands.add_parser("down", help="stop what `up` started")
    for command in (up, down):
        command.add_argument("--dir", default="run/cluster")
    args = parser.parse_args(argv)
    return _up(args) if args.command == "up" else _down(args)


if __name__ == "__main__":
    sys.exit(main())
