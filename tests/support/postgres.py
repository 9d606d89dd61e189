"""A throwaway PostgreSQL server for tests, and pytest fixtures around it (a pytest plugin).

``start_postgres()`` runs ``initdb`` into a new temporary directory and ``pg_ctl start`` on a
free loopback port, with its unix socket in that directory too; ``PostgresServer.stop()``
stops it and removes the directory. Durability is switched off (``fsync=off``): the data is
thrown away anyway, and the tests run faster.

PostgreSQL refuses to run as root; as root, the server runs as the ``postgres`` OS user (which
Debian's ``postgresql`` package creates) in a directory that user owns.

The server binaries are looked up on PATH, then in Debian's ``/usr/lib/postgresql/<N>/bin``.
Without them the fixtures FAIL (they do not skip): CI installs PostgreSQL (``.ci/run``), so a
missing server is a broken machine, not a reason to test less.

Load the fixtures from a conftest with
``config.pluginmanager.import_plugin("tests.support.postgres")``:

``postgres_server``
    One server for the whole test session (``create_database()`` gives more databases).
``postgres_dsn``
    A DSN to an empty database for one test: the session's test database, emptied before
    each test.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HOST = "127.0.0.1"
SUPERUSER = "oimws"
SERVER_USER = "postgres"  # the OS user the server runs as when the tests run as root
START_TIMEOUT = 60  # seconds
START_ATTEMPTS = 3  # another process may take the free port before the server binds it
DEBIAN_BIN_DIRS = "/usr/lib/postgresql/*/bin"
SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed, or the server would not start."""


def find_bin_dir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl`` (the newest Debian version if several)."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent  # psql & co. lie beside the real pg_ctl
    candidates = sorted((Path(p).parent for p in glob.glob(DEBIAN_BIN_DIRS + "/initdb")),
                        key=lambda d: _version(d.parent.name))
    if candidates:
        return candidates[-1]
    raise PostgresUnavailable(
        "the PostgreSQL server binaries (initdb, pg_ctl) are not installed: they are looked "
        f"up on PATH and in {DEBIAN_BIN_DIRS}. Install them, e.g. "
        "`apt-get install -y postgresql` (as .ci/run does)")


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path  # the temporary directory: data/, the socket, the log
    port: int
    run_as: str | None  # the OS user of the server, when not the current one
    _database_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser; returns what psql printed."""
        result = subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", HOST, "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"test_{os.getpid()}_{next(self._database_numbers)}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def empty_database(self, name: str) -> None:
        """Make a database as new: cut its connections, drop everything in it. Much faster
        than creating a database (milliseconds, not a tenth of a second)."""
        self.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                  " WHERE datname = current_database() AND pid <> pg_backend_pid();"
                  " DROP SCHEMA public CASCADE; CREATE SCHEMA public", database=name)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        """Stop the server at once (its data is thrown away) and remove its directory, also
        when a test stopped the server already."""
        with contextlib.suppress(subprocess.SubprocessError, OSError, PostgresUnavailable):
            _run_as(self.run_as, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir),
                                  "-m", "immediate", "-w", "stop"], timeout=START_TIMEOUT)
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as(user: str | None, command: Sequence[str], timeout: float
            ) -> subprocess.CompletedProcess[str]:
    """Run a server command as ``user`` (None: as ourselves); raises on failure."""
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, cwd="/",
        user=user, group=None if user is None else pwd.getpwnam(user).pw_gid,
        extra_groups=None if user is None else [])
    if result.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(command)} exited with {result.returncode}:\n"
            f"{result.stdout}{result.stderr}")
    return result


def _server_user() -> str | None:
    """Who the server runs as: ourselves, or ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, PostgreSQL needs the {SERVER_USER!r} OS user to run as (the "
            "postgresql package creates it)") from None
    return SERVER_USER


def _temp_parent(user: str | None) -> Path:
    """Where the server's directory goes: the usual temporary directory, unless another
    server user could not reach it (as under pytest's tmp_path, private to root)."""
    base = Path(tempfile.gettempdir()).resolve()
    if user is None or all(d.stat().st_mode & stat.S_IXOTH for d in (base, *base.parents)):
        return base
    return Path("/tmp")


def start_postgres() -> PostgresServer:
    """initdb + pg_ctl start on a free loopback port; stop() it when done."""
    bin_dir = find_bin_dir()
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="oimws-postgres-", dir=_temp_parent(user)))
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(root, account.pw_uid, account.pw_gid)
    server = PostgresServer(bin_dir, root, 0, user)
    try:
        _run_as(user, [str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", SUPERUSER,
                       "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
                timeout=START_TIMEOUT)
        with (server.data_dir / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in SETTINGS.items())
            conf.write(f"unix_socket_directories = '{root}'\n")
        for attempt in range(1, START_ATTEMPTS + 1):
            server.port = _free_port()
            try:
                _run_as(user, [str(bin_dir / "pg_ctl"), "-D", str(server.data_dir),
                               "-l", str(server.log_file), "-o", f"-p {server.port}",
                               "-w", "-t", str(START_TIMEOUT), "start"],
                        timeout=START_TIMEOUT + 10)
                return server
            except PostgresUnavailable as exc:
                if attempt == START_ATTEMPTS:
                    raise PostgresUnavailable(f"{exc}\nserver log:\n{server.log_tail()}"
                                              ) from None
    except BaseException:
        server.stop()
        raise
    raise AssertionError("unreachable: the last attempt returns or raises")


# fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the test session."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:  # failed outside the except block, so the report shows just this message
        pytest.fail(f"cannot start a PostgreSQL server for the tests: {problem}",
                    pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _postgres_test_database(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer, _postgres_test_database: str) -> str:
    """A DSN to an empty database (emptied before the test, so one that failed leaves
    nothing behind for the next)."""
    postgres_server.empty_database(_postgres_test_database)
    return postgres_server.dsn(_postgres_test_database)
