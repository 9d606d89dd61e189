"""One typed configuration, built once at startup and passed down.

Precedence, lowest first: field defaults < TOML file < ``OIMWS_*`` environment < CLI flags.
Nothing else in oimws reads the environment or files for settings.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_SECRET = "openIM123"  # OpenIM's shipped default, so its tools work out of the box


class ConfigError(ValueError):
    """A setting has a wrong name, type or value."""


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    ws_port: int = 10003
    api_port: int = 10002
    data_dir: Path = Path("./data")
    secret: str = DEFAULT_SECRET
    log_level: str = "info"
    log_format: str = "auto"  # json, text, or auto: text on a terminal, JSON lines otherwise

    # TLS: with both set, the WebSocket port serves wss:// and the admin port https://
    tls_cert: str = ""
    tls_key: str = ""

    # Tokens
    token_expire_seconds: int = 90 * 24 * 3600
    admin_user_ids: tuple[str, ...] = ("imAdmin",)

    # Per-connection limits
    max_message_size: int = 10 * 1024 * 1024
    max_connections: int = 100_000
    write_buffer_limit: int = 4 * 1024 * 1024
    ping_interval: float = 28.0
    # A silent connection is pinged after ping_interval and closed when no pong came by
    # idle_timeout; picows allows at most one ping interval of waiting for the pong.
    idle_timeout: float = 56.0
    handshake_timeout: float = 10.0
    # A socket the server closes (kick, Logout, 1009, shutdown) stays open this long for the
    # client to take what is queued and answer with its close frame; then it is cut off (a
    # peer that stopped reading never answers, and a graceful close would wait for it forever)
    close_timeout: float = 5.0
    # Requests one connection may send: this many a second on average, request_burst at once
    # (beyond: each request is answered with 1601 until the budget refills)
    request_rate: float = 200.0
    request_burst: int = 400

    # Store
    sqlite_synchronous: str = "FULL"
    # Users whose conversation views the embedded store keeps in memory between the pushes
    # that read them (those read from the database longest ago dropped first; 0: none). Only
    # a store that is its database's only writer may: ignored in a cluster (redis_url,
    # workers above 1).
    conversation_cache_users: int = 20_000

    # Scaling out: several processes on this host, and nodes sharing Redis and PostgreSQL
    workers: int = 1  # processes sharing the ports (SO_REUSEPORT); more than 1 needs redis_url
    redis_url: str = ""  # presence and delivery between nodes, e.g. redis://127.0.0.1:6379/0
    postgres_dsn: str = ""  # the shared store instead of SQLite, e.g. postgresql://u@h/db
    node_id: str = ""  # this node's name in the cluster; default: host name and process ID

    # Uploaded files (the jssdk's uploadFile), kept under data_dir/objects
    upload_max_bytes: int = 100 * 1024 * 1024
    upload_part_bytes: int = 5 * 1024 * 1024  # the jssdk PUTs every part at once
    upload_allowed_types: tuple[str, ...] = (
        "image/*", "audio/*", "video/*", "text/plain", "application/*")
    # Base of the URLs handed out for uploads and objects (e.g. https://im.example.com/api
    # behind a proxy); empty: the scheme and host the client used to reach the admin API.
    public_api_url: str = ""

    # The sample chat page at /demo/ on the admin port; ``demo`` also opens its sign-up
    # endpoint (anyone reaching the admin port may then act as any user: loopback only)
    demo_page: bool = True
    demo: bool = False

    # Messaging rules
    history_page_max: int = 1000
    revoke_window_seconds: int = 120  # senders revoke within this; group managers any time
    friend_required_for_chat: bool = False  # one-to-one messages only between friends (1303)

    def uses_default_secret(self) -> bool:
        return self.secret == DEFAULT_SECRET

    def listens_beyond_loopback(self) -> bool:
        if self.host in ("localhost", ""):
            return self.host == ""
        try:
            return not ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return True  # a host name: assume it is reachable from outside

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "oimws.sqlite3"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_cert)


_FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def _coerce(name: str, value: Any) -> Any:
    """Turn a TOML/env/flag value into the field's type, or say precisely what is wrong."""
    field_type = _FIELDS[name].type
    try:
        if field_type == "bool":
            return _coerce_bool(value)
        if field_type == "int":
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        if field_type == "float":
            return float(value)
        if field_type == "Path":
            return Path(value)
        if field_type == "tuple[str, ...]":
            if isinstance(value, str):
                return tuple(part.strip() for part in value.split(",") if part.strip())
            return tuple(str(part) for part in value)
        if field_type == "str":
            if not isinstance(value, str):
                raise TypeError
            return value
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name!r}: cannot use {value!r} as {field_type}") from None
    raise ConfigError(f"setting {name!r} has an unsupported type {field_type}")


_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _coerce_bool(value: Any) -> bool:
    """TOML gives a boolean; the environment and flags give words like true/false, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise ValueError


def _from_mapping(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    result = {}
    for raw_key, value in values.items():
        name = raw_key.replace("-", "_")
        if name not in _FIELDS:
            raise ConfigError(f"{source}: unknown setting {raw_key!r}")
        result[name] = _coerce(name, value)
    return result


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    result = {}
    for name in _FIELDS:
        env_name = "OIMWS_" + name.upper()
        if env_name in environ:
            result[name] = _coerce(name, environ[env_name])
    return result


def load_config(
    flags: Mapping[str, Any] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the one Config. ``flags`` holds only the CLI flags the user actually gave."""
    environ = os.environ if environ is None else environ
    config_file = config_file or environ.get("OIMWS_CONFIG")
    merged: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        try:
            with path.open("rb") as fh:
                document = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        merged.update(_from_mapping(document, str(path)))
    merged.update(_from_env(environ))
    if flags:
        merged.update(_from_mapping({k: v for k, v in flags.items() if v is not None}, "flag"))
    config = Config(**merged)
    _validate(config)
    return config


def _validate(config: Config) -> None:
    for name in ("ws_port", "api_port"):
        port = getattr(config, name)
        if not 0 <= port <= 65535:
            raise ConfigError(f"setting {name!r}: {port} is not a TCP port")
    for name in ("max_message_size", "max_connections", "write_buffer_limit", "request_burst"):
        if getattr(config, name) <= 0:
            raise ConfigError(f"setting {name!r} must be positive")
    if config.log_level.lower() not in ("debug", "info", "warning", "error", "critical"):
        raise ConfigError(f"setting 'log_level': unknown level {config.log_level!r}")
    if config.sqlite_synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ConfigError("setting 'sqlite_synchronous' must be OFF, NORMAL, FULL or EXTRA")
    if not config.ping_interval < config.idle_timeout <= 2 * config.ping_interval:
        raise ConfigError("setting 'idle_timeout' must be above ping_interval and at most twice it")
    if not config.request_rate > 0:
        raise ConfigError("setting 'request_rate' must be positive")
    if config.conversation_cache_users < 0:
        raise ConfigError("setting 'conversation_cache_users' must not be negative")
    if not config.close_timeout > 0:
        raise ConfigError("setting 'close_timeout' must be positive")
    if config.workers < 1:
        raise ConfigError("setting 'workers' must be at least 1")
    if config.workers > 1 and not config.redis_url:
        raise ConfigError("setting 'workers' above 1 needs 'redis_url': workers deliver to "
                          "each other's users through Redis")
    if not config.secret:
        raise ConfigError("setting 'secret' must not be empty")
    if config.log_format not in ("auto", "json", "text"):
        raise ConfigError(f"setting 'log_format': {config.log_format!r} is not auto, json or text")
    if bool(config.tls_cert) != bool(config.tls_key):
        raise ConfigError("settings 'tls_cert' and 'tls_key' go together: give both or neither")
    for name in ("upload_max_bytes", "upload_part_bytes"):
        if getattr(config, name) <= 0:
            raise ConfigError(f"setting {name!r} must be positive")
    if config.public_api_url and not config.public_api_url.startswith(("http://", "https://")):
        raise ConfigError("setting 'public_api_url' must start with http:// or https://")
