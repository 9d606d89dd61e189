from pathlib import Path

import pytest

from oimws.app import build_store
from oimws.config import DEFAULT_SECRET, Config, ConfigError, load_config
from oimws.store.sqlite import SqliteStore


def test_defaults_without_any_source():
    config = load_config({}, None, environ={})
    assert config == Config()
    assert config.ws_port == 10003 and config.api_port == 10002
    assert config.secret == DEFAULT_SECRET


def test_precedence_file_then_env_then_flags(tmp_path: Path):
    toml = tmp_path / "oimws.toml"
    toml.write_text('ws_port = 1111\napi_port = 2222\nhost = "0.0.0.0"\nlog-level = "debug"\n')
    environ = {"OIMWS_API_PORT": "3333", "OIMWS_HOST": "127.0.0.2"}
    config = load_config({"host": "127.0.0.3", "ws_port": None}, toml, environ=environ)
    assert config.ws_port == 1111  # file (flag not given)
    assert config.api_port == 3333  # env beats file
    assert config.host == "127.0.0.3"  # flag beats env
    assert config.log_level == "debug"


def test_config_file_from_environment(tmp_path: Path):
    toml = tmp_path / "c.toml"
    toml.write_text("max_connections = 7\n")
    assert load_config({}, None, environ={"OIMWS_CONFIG": str(toml)}).max_connections == 7


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("no_such_key = 1\n", "unknown setting 'no_such_key'"),
        ('ws_port = "abc"\n', "cannot use 'abc'"),
        ("ws_port = 70000\n", "is not a TCP port"),
        ('log_level = "loud"\n', "unknown level"),
        ("ws_port = true\n", "cannot use True"),
        ("idle_timeout = 10.0\n", "idle_timeout"),
        ("this is = not toml", "not valid TOML"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, document: str, message: str):
    toml = tmp_path / "bad.toml"
    toml.write_text(document)
    with pytest.raises(ConfigError, match=message):
        load_config({}, toml, environ={})


def test_bad_environment_value_is_named():
    with pytest.raises(ConfigError, match="max_message_size"):
        load_config({}, None, environ={"OIMWS_MAX_MESSAGE_SIZE": "lots"})


def test_missing_config_file_is_reported(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config({}, tmp_path / "absent.toml", environ={})


@pytest.mark.parametrize(
    ("host", "beyond"),
    [("127.0.0.1", False), ("::1", False), ("0.0.0.0", True), ("10.1.2.3", True),
     ("localhost", False), ("example.org", True)],
)
def test_listens_beyond_loopback(host: str, beyond: bool):
    assert Config(host=host).listens_beyond_loopback() is beyond


@pytest.mark.parametrize(("settings", "cached_users"), [
    ({}, 20_000),
    ({"conversation_cache_users": 5}, 5),
    ({"conversation_cache_users": 0}, None),
    # nodes of a cluster do not see each other's writes to the shared file or database
    ({"workers": 2, "redis_url": "redis://127.0.0.1:6379/0"}, None),
    ({"redis_url": "redis://127.0.0.1:6379/0"}, None),
])
def test_the_view_cache_is_only_for_a_lone_node(tmp_path: Path, settings, cached_users):
    store = build_store(Config(data_dir=tmp_path, **settings))
    assert isinstance(store, SqliteStore)
    cache = store.view_cache
    assert (cache.max_users if cache is not None else None) == cached_users
    with pytest.raises(ConfigError, match="conversation_cache_users"):
        load_config({"conversation_cache_users": -1}, None, environ={})
