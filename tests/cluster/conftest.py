"""Cluster tests: real redis-server, nginx (the repo's nginx.conf) and oimws nodes on
loopback, sharing one PostgreSQL (tests/support/postgres.py)."""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oimws.devcluster import LocalCluster
from tests.support.postgres import PostgresServer


def _post(url: str, body: dict[str, Any], token: str = "") -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"operationID": "cluster-test",
                                              "Content-Type": "application/json",
                                              **({"token": token} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as reply:
        envelope = json.load(reply)
    assert envelope["errCode"] == 0, envelope
    return envelope["data"]


class ClusterAdmin:
    """The admin API through nginx, as a business backend would use it."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.api = cluster.api_url
        self.secret = cluster.secret

    def admin_token(self) -> str:
        data = _post(f"{self.api}/auth/get_admin_token",
                     {"secret": self.secret, "userID": "imAdmin"})
        return str(data["token"])

    def register(self, *user_ids: str) -> None:
        _post(f"{self.api}/user/user_register",
              {"users": [{"userID": u, "nickname": u.capitalize()} for u in user_ids]},
              self.admin_token())

    def token(self, user_id: str, platform_id: int = 5) -> str:
        data = _post(f"{self.api}/auth/get_user_token",
                     {"platformID": platform_id, "userID": user_id}, self.admin_token())
        return str(data["token"])

    def has_session_on(self, node_api_url: str, user_id: str) -> bool:
        """Whether that node holds a session of the user (a node's online status is its
        own sessions'; asked of the node directly, not through nginx)."""
        [status] = _post(f"{node_api_url}/user/get_users_online_status",
                         {"userIDs": [user_id]}, self.admin_token())
        return bool(status["detailPlatformStatus"])


def start_cluster(tmp_path: Path, nodes: int, store_args: list[str]) -> LocalCluster:
    cluster = LocalCluster(tmp_path / "cluster", nodes, secrets.token_hex(8), store_args,
                           log_level="debug")
    try:
        cluster.start()
    except Exception:
        print(cluster.logs())
        cluster.stop()
        raise
    return cluster


@pytest.fixture
def cluster_factory(tmp_path: Path, request: pytest.FixtureRequest,
                    postgres_server: PostgresServer) -> Iterator[Any]:
    """Start clusters of N nodes sharing a fresh PostgreSQL database and a Redis."""
    started: list[LocalCluster] = []

    def factory(nodes: int = 3) -> LocalCluster:
        dsn = postgres_server.dsn(postgres_server.create_database())
        cluster = start_cluster(tmp_path, nodes, ["--postgres-dsn", dsn])
        started.append(cluster)
        return cluster

    yield factory
    for cluster in started:
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(cluster.logs())
        cluster.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
