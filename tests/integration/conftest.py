"""Integration tests: the real server process on loopback, driven by oimws.client (picows)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tests.support.fixtures"):
        config.pluginmanager.import_plugin("tests.support.fixtures")
