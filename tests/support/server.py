"""Run the real ``oimws serve`` as a subprocess and talk to it the way clients do.

The server runs as ``python -m oimws serve`` from the repository root on two free loopback
ports, with its data directory and its log file under a caller-given temporary directory.
Only the standard library is used for HTTP (``urllib``) and for raw WebSocket handshakes
(``socket``), so these helpers do not depend on the code under test.

Typical use::

    with start_server(tmp_path) as server:
        server.register("alice", "bob")
        token = server.user_token("alice", platform_id=5)
        ...  # connect to server.ws_url with ?sendID=alice&token=...&platformID=5

``start_server`` returns only once ``GET /healthz`` answers 200 and the WebSocket port accepts
TCP connections; if the process dies or never gets there it raises :class:`ServerStartError`
whose message ends with the tail of the server log.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout whose ``oimws`` package is started (``python -m oimws`` runs from here)."""

HOST = "127.0.0.1"
ADMIN_USER_ID = "imAdmin"
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3


class ServerStartError(RuntimeError):
    """The server process exited or did not become healthy in time."""


class AdminAPIError(RuntimeError):
    """An admin REST call failed: an HTTP error status or a non-zero ``errCode``."""

    def __init__(self, path: str, status: int, envelope: Any, raw: bytes = b"") -> None:
        self.path = path
        self.status = status
        self.envelope = envelope
        self.err_code = envelope.get("errCode") if isinstance(envelope, dict) else None
        self.err_msg = envelope.get("errMsg") if isinstance(envelope, dict) else None
        shown = envelope if envelope is not None else raw[:500]
        super().__init__(f"POST {path} -> HTTP {status}: {shown!r}")


@dataclass(frozen=True)
class Handshake:
    """The server's answer to a raw WebSocket upgrade request (see ``ws_handshake``)."""

    status: int
    reason: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    key: str = field(repr=False)  # the Sec-WebSocket-Key we sent

    @property
    def upgraded(self) -> bool:
        """True for ``101 Switching Protocols`` with a correct ``Sec-WebSocket-Accept``."""
        expected = base64.b64encode(hashlib.sha1((self.key + _WS_GUID).encode()).digest())
        return self.status == 101 and self.headers.get("sec-websocket-accept") == expected.decode()

    def json(self) -> Any:
        """The body decoded as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body.decode("utf-8"))


def free_ports(count: int = 1) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago.

    All sockets are held open together so the ports differ; another process may still grab
    one before the server binds it, which ``start_server`` handles by retrying.
    """
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def make_token(
    secret: str,
    user_id: str,
    platform_id: int = 5,
    *,
    expires_in: float = 3600,
    not_before: float | None = None,
    issued_at: float | None = None,
) -> str:
    """An OpenIM-shaped HS256 JWT (claims ``UserID``, ``PlatformID``, ``exp``, ``nbf``, ``iat``).

    ``expires_in`` is relative to now and may be negative to make an expired token;
    ``not_before`` and ``issued_at`` are absolute UNIX times (default: now).
    """
    import jwt  # PyJWT; imported here so the rest of this module works without it

    now = int(time.time())
    claims = {
        "UserID": user_id,
        "PlatformID": platform_id,
        "exp": int(now + expires_in),
        "nbf": int(now if not_before is None else not_before),
        "iat": int(now if issued_at is None else issued_at),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass(frozen=True)
class _Launch:
    """Everything needed to (re)start the same server."""

    data_dir: Path
    log_path: Path
    secret: str
    extra_args: tuple[str, ...]
    env: dict[str, str | None]
    log_level: str
    startup_timeout: float

    def command(self, ws_port: int, api_port: int) -> list[str]:
        return [
            sys.executable, "-m", "oimws", "serve",
            "--host", HOST,
            "--ws-port", str(ws_port),
            "--api-port", str(api_port),
            "--data-dir", str(self.data_dir),
            "--secret", self.secret,
            "--log-level", self.log_level,
            *self.extra_args,
        ]  # fmt: skip


class RunningServer:
    """A started ``oimws serve`` process. Use as a context manager or call :meth:`stop`.

    Create it with :func:`start_server`, not directly.
    """

    def __init__(self, launch: _Launch, ws_port: int, api_port: int) -> None:
        self._launch = launch
        self.ws_port = ws_port
        self.api_port = api_port
        self.secret = launch.secret
        self.data_dir = launch.data_dir
        self.log_path = launch.log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._log_offset = 0  # where the current run's output starts in log_path
        self._admin_token: str | None = None
        self._exit_code: int | None = None

    # -- addresses -------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT`` (no path, no query: clients add their own)."""
        return f"ws://{HOST}:{self.ws_port}"

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT``, the admin REST API."""
        return f"http://{HOST}:{self.api_port}"

    # -- process ---------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Everything the current run has written to the log so far (stdout and stderr)."""
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(self._log_offset)
                return fh.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"<cannot read {self.log_path}: {exc}>"

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the current run's log, for assertion messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM the server, wait up to ``timeout`` s (then SIGKILL), return its exit code.

        Safe to call more than once; later calls return the same exit code.
        """
        if self._exit_code is None and self.process is not None:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=timeout)
            self._exit_code = self.process.returncode
            if self._log_file is not None:
                self._log_file.close()
        return -1 if self._exit_code is None else self._exit_code

    def restart(self, timeout: float = 10.0) -> int:
        """Stop the server and start it again on the same ports, secret and data directory.

        Returns the old process's exit code. Tokens issued before stay valid; clients see
        their connection drop and may reconnect to the same ``ws_url``. Raises
        :class:`ServerStartError` if the new process does not become healthy.
        """
        exit_code = self.stop(timeout)
        self._spawn()
        return exit_code

    def _spawn(self) -> None:
        launch = self._launch
        command = launch.command(self.ws_port, self.api_port)
        log_file = launch.log_path.open("ab")
        log_file.write(f"\n===== {' '.join(command[1:])}\n".encode())
        log_file.flush()
        self._log_offset = log_file.tell()
        self._log_file = log_file
        self._exit_code = None
        try:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=_child_env(launch.env),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            log_file.close()
            raise
        try:
            self._wait_until_healthy(command)
        except BaseException:
            self.stop(timeout=5)
            raise

    def _wait_until_healthy(self, command: list[str]) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self._launch.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise ServerStartError(
                    f"oimws exited with code {self.process.returncode} during startup "
                    f"({' '.join(command[1:])}); log tail:\n{self.log_tail()}"
                )
            if _healthy(self.api_url) and _accepts_tcp(self.ws_port):
                return
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"oimws did not answer GET {self.api_url}/healthz with 200 within "
                    f"{self._launch.startup_timeout:.0f}s; log tail:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        if self.process is None:
            state = "not started"
        elif self.is_running():
            state = "running"
        else:
            state = f"exited {self.process.returncode}"
        return f"<RunningServer pid={self.pid} ws={self.ws_url} api={self.api_url} {state}>"

    # -- admin REST API --------------------------------------------------------------------

    def post(
        self,
        path: str,
        body: Any,
        *,
        token: str | None = None,
        operation_id: str | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, Any]:
        """POST ``body`` as JSON to ``api_url + path``; return ``(http_status, decoded_json)``.

        Never raises for HTTP error statuses; a body that is not JSON comes back as ``bytes``.
        """
        headers = {
            "Content-Type": "application/json",
            "operationID": operation_id or uuid.uuid4().hex,
        }
        if token is not None:
            headers["token"] = token
        request = urllib.request.Request(
            self.api_url + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw

    def call(self, path: str, body: Any, *, token: str | None = None) -> Any:
        """POST and return the envelope's ``data``; raise :class:`AdminAPIError` on failure."""
        status, envelope = self.post(path, body, token=token)
        if status != 200 or not isinstance(envelope, dict) or envelope.get("errCode") != 0:
            raw = envelope if isinstance(envelope, bytes) else b""
            parsed = None if isinstance(envelope, bytes) else envelope
            raise AdminAPIError(path, status, parsed, raw)
        return envelope.get("data")

    def admin_token(self) -> str:
        """A token for ``imAdmin`` from ``/auth/get_admin_token`` (fetched once, then cached)."""
        if self._admin_token is None:
            data = self.call(
                "/auth/get_admin_token", {"secret": self.secret, "userID": ADMIN_USER_ID}
            )
            self._admin_token = data["token"]
        return self._admin_token

    def register(self, *user_ids: str, nickname: str | None = None) -> None:
        """Register users through ``/user/user_register``; nickname defaults to the user ID."""
        users = [
            {"userID": user_id, "nickname": nickname or user_id, "faceURL": ""}
            for user_id in user_ids
        ]
        self.call("/user/user_register", {"users": users}, token=self.admin_token())

    def user_token(self, user_id: str, platform_id: int = 5) -> str:
        """A user token from ``/auth/get_user_token`` (platform 5 is Web)."""
        data = self.call(
            "/auth/get_user_token",
            {"platformID": platform_id, "userID": user_id},
            token=self.admin_token(),
        )
        return data["token"]

    # -- raw WebSocket handshake -----------------------------------------------------------

    def ws_handshake(
        self,
        params: Mapping[str, str | int] | None = None,
        *,
        path: str = "/",
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
    ) -> Handshake:
        """Send one WebSocket upgrade request with query ``params`` and return the answer.

        A ``101`` answer is not used further: the socket is closed right away. For any other
        status the body is read (by ``Content-Length``, chunked, or up to EOF).
        """
        key = base64.b64encode(os.urandom(16)).decode()
        target = path + ("?" + urllib.parse.urlencode(params) if params else "")
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {HOST}:{self.ws_port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        with socket.create_connection((HOST, self.ws_port), timeout=timeout) as sock:
            sock.sendall(request)
            reader = sock.makefile("rb")
            status_line = reader.readline(65536).decode("latin-1").rstrip("\r\n")
            if not status_line:
                raise ConnectionError("server closed the connection without an HTTP answer")
            _version, status, *reason = status_line.split(" ", 2)
            answer_headers: dict[str, str] = {}
            while True:
                line = reader.readline(65536).decode("latin-1").rstrip("\r\n")
                if not line:
                    break
                name, _, value = line.partition(":")
                answer_headers[name.strip().lower()] = value.strip()
            body = b"" if status == "101" else _read_body(reader, answer_headers)
        return Handshake(int(status), reason[0] if reason else "", answer_headers, body, key)


def _read_body(reader: IO[bytes], headers: Mapping[str, str]) -> bytes:
    if "content-length" in headers:
        return reader.read(int(headers["content-length"]))
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while True:
            size = int(reader.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                reader.readline(1024)
                return b"".join(chunks)
            chunks.append(reader.read(size))
            reader.readline(1024)
    try:
        return reader.read()
    except TimeoutError:
        return b""


# -- starting ------------------------------------------------------------------------------


def _child_env(overrides: Mapping[str, str | None] | None) -> dict[str, str]:
    # OIMWS_* settings from the developer's shell must not leak into a test server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OIMWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(api_url + "/healthz", timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


_PORT_CLASH_MARKERS = ("address already in use", "errno 98", "eaddrinuse")


def start_server(
    tmp_path: Path,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
    *,
    secret: str | None = None,
    data_dir: Path | None = None,
    ws_port: int | None = None,
    api_port: int | None = None,
    log_level: str = "debug",
    startup_timeout: float = 20.0,
    attempts: int = 3,
) -> RunningServer:
    """Start ``python -m oimws serve`` on loopback and wait until it is healthy.

    ``tmp_path``: directory for the log (``server.log``, appended to across restarts) and,
    unless ``data_dir`` is given, the data directory ``tmp_path/"data"``; starting again with
    the same ``tmp_path`` therefore reopens the same data. ``extra_args`` are appended to the
    command line; ``env`` adds (or, with ``None`` values, removes) environment variables
    (``OIMWS_*`` variables of the calling environment are never passed on). ``secret``
    defaults to a fresh random one. Ports default to free ones; a start that fails because
    a port was taken in the meantime is then retried on new ports, up to ``attempts`` times.
    """
    tmp_path = Path(tmp_path)
    data_dir = Path(data_dir) if data_dir is not None else tmp_path / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    launch = _Launch(
        data_dir=data_dir,
        log_path=tmp_path / "server.log",
        secret=secret or secrets.token_hex(16),
        extra_args=tuple(extra_args),
        env=dict(env or {}),
        log_level=log_level,
        startup_timeout=startup_timeout,
    )
    fixed_ports = ws_port is not None or api_port is not None
    for attempt in range(1, attempts + 1):
        free_ws, free_api = free_ports(2)
        server = RunningServer(
            launch,
            ws_port if ws_port is not None else free_ws,
            api_port if api_port is not None else free_api,
        )
        try:
            server._spawn()
            return server
        except ServerStartError as exc:
            port_clash = any(marker in str(exc).lower() for marker in _PORT_CLASH_MARKERS)
            if fixed_ports or not port_clash or attempt == attempts:
                raise
    raise AssertionError("unreachable")
