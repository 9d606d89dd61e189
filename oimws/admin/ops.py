"""Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from oimws import __version__, metrics
from oimws.admin.endpoint import ApiModule
from oimws.context import AppContext
from oimws.store import StoreError

READY_TIMEOUT_SECONDS = 2.0


@dataclasses.dataclass(frozen=True, slots=True)
class NodeStatus:
    """What the probes report about the node beyond its context."""

    connection_count: Callable[[], int]
    started_at: float = dataclasses.field(default_factory=time.monotonic)
    # In cluster mode: whether the bus to the other nodes is connected. None: single node.
    bus_connected: Callable[[], bool] | None = None


class OpsApi(ApiModule):
    def __init__(self, ctx: AppContext, status: NodeStatus, openapi: dict[str, Any]) -> None:
        super().__init__(ctx)
        self._status = status
        self._openapi = openapi

    def add_raw_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/healthz", self.healthz)
        router.add_get("/readyz", self.readyz)
        router.add_get("/metrics", self.metrics)
        router.add_get("/openapi.json", self.openapi)

    async def healthz(self, request: web.Request) -> web.Response:
        """Alive: the process answers. Also what ``make check`` prints."""
        return web.json_response({
            "status": "ok",
            "version": __version__,
            "uptimeSeconds": round(time.monotonic() - self._status.started_at, 1),
            "connections": self._status.connection_count(),
            "onlineUsers": self.ctx.delivery.online_user_count,
        })

    async def readyz(self, request: web.Request) -> web.Response:
        """Ready for traffic: the store takes a durable write, and the bus (in cluster mode)
        is connected. 503 with what failed otherwise.

        The store check is a real write through the same path as every request's (one row,
        committed), so a full disk, a failing disk or an unreachable or read-only database
        makes the node not ready for as long as writes fail, and ready again without a
        restart once they succeed. ``/healthz`` stays 200 meanwhile: the process is alive, and
        restarting it would not bring the storage back."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.ctx.store.check_writable(), READY_TIMEOUT_SECONDS)
            checks["store"] = "ok"
        except (StoreError, TimeoutError) as exc:
            checks["store"] = f"not writable: {str(exc) or 'timed out'}"
        if self._status.bus_connected is not None:
            checks["bus"] = "ok" if self._status.bus_connected() else "disconnected"
        ready = all(state == "ok" for state in checks.values())
        return web.json_response({"status": "ready" if ready else "not ready",
                                  "checks": checks}, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        text, content_type = metrics.render()
        response = web.Response(body=text)
        response.headers["Content-Type"] = content_type  # carries its own charset/version
        return response

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(self._openapi)
