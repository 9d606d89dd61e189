"""pytest fixtures that run a real oimws server (a pytest plugin).

Load it once, either from the root conftest::

    pytest_plugins = ["tests.support.fixtures"]

or from a sub-directory conftest (see ``tests/e2e/conftest.py``) with
``config.pluginmanager.import_plugin("tests.support.fixtures")``.

Fixtures:

``server``
    A fresh server per test (own ports, data directory and secret), stopped afterwards.
``shared_server``
    One server per test module, for tests that only need isolation through distinct user IDs.
``server_factory``
    ``server_factory(extra_args=(), env=None, **kwargs)`` starts servers with custom settings
    (same keywords as :func:`tests.support.server.start_server`); all are stopped afterwards.

When a test fails, the tail of the log of every server it used is added to its report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from tests.support.server import RunningServer, start_server

_SERVERS = pytest.StashKey[list[RunningServer]]()
_LOG_TAIL_LINES = 80


def _remember(node: pytest.Item | pytest.Collector, server: RunningServer) -> None:
    node.stash.setdefault(_SERVERS, []).append(server)


@pytest.fixture
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A running oimws server of its own for this test."""
    running = start_server(tmp_path_factory.mktemp("oimws"))
    _remember(request.node, running)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One running oimws server for the whole test module."""
    running = start_server(tmp_path_factory.mktemp("oimws-shared"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def server_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., RunningServer]]:
    """Start servers with custom arguments; every one started is stopped after the test."""
    started: list[RunningServer] = []

    def factory(
        extra_args: Sequence[str] = (), env: dict[str, str | None] | None = None, **kwargs: Any
    ) -> RunningServer:
        tmp_path = kwargs.pop("tmp_path", None) or tmp_path_factory.mktemp("oimws")
        running = start_server(tmp_path, extra_args, env, **kwargs)
        started.append(running)
        _remember(request.node, running)
        return running

    try:
        yield factory
    finally:
        for running in started:
            running.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed and call.when in ("setup", "call"):
        servers = list(item.stash.get(_SERVERS, []))
        shared = item.funcargs.get("shared_server") if hasattr(item, "funcargs") else None
        if isinstance(shared, RunningServer) and shared not in servers:
            servers.append(shared)
        for running in servers:
            report.sections.append(
                (
                    f"oimws log (pid {running.pid}, {running.log_path})",
                    running.log_tail(_LOG_TAIL_LINES),
                ),
            )
    return report
