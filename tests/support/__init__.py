"""Test support shared by the integration and end-to-end suites.

:mod:`tests.support.server` starts the real ``oimws serve`` as a subprocess and talks to its
admin API; :mod:`tests.support.fixtures` wraps that in pytest fixtures.
"""

from tests.support.server import (
    AdminAPIError,
    Handshake,
    RunningServer,
    ServerStartError,
    free_ports,
    make_token,
    start_server,
)

__all__ = [
    "AdminAPIError",
    "Handshake",
    "RunningServer",
    "ServerStartError",
    "free_ports",
    "make_token",
    "start_server",
]
