"""How an admin API endpoint is declared: path, who may call it, its body schema, and what its
``data`` looks like. ``server.py`` turns each declaration into an aiohttp route with OpenIM's
envelope; ``openapi.py`` turns the same declarations into the OpenAPI document.

An endpoint is a method of an ``ApiModule`` (one module per concern) decorated with ``post``;
it gets a ``Call`` and returns the reply's ``data``, or raises ``ApiError``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from oimws.admin.validation import Struct
from oimws.context import AppContext
from oimws.tokens import TokenClaims


class Access(enum.Enum):
    PUBLIC = "public"  # no token (such endpoints check the secret in the body themselves)
    USER = "user"  # any valid token in the ``token`` header
    ADMIN = "admin"  # a token of one of the configured admin user IDs


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    body: dict[str, Any]  # validated against the endpoint's schema
    caller: TokenClaims | None  # None only on PUBLIC endpoints
    operation_id: str
    request: web.Request

    @property
    def caller_id(self) -> str:
        assert self.caller is not None, "only PUBLIC endpoints have no caller"
        return self.caller.user_id


EndpointFunc = Callable[[Any, Call], Awaitable[Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    body: Struct
    access: Access
    summary: str
    reply: dict[str, Any] | None  # OpenAPI schema of ``data`` (None: data is null)
    func: EndpointFunc


def post(path: str, body: Struct, *, access: Access, summary: str,
         reply: dict[str, Any] | None = None) -> Callable[[EndpointFunc], EndpointFunc]:
    """Declare an ``ApiModule`` method as the POST endpoint ``path``."""

    def declare(func: EndpointFunc) -> EndpointFunc:
        func.__admin_endpoint__ = Endpoint(  # type: ignore[attr-defined]
            path, body, access, summary, reply, func)
        return func

    return declare


class ApiModule:
    """A group of endpoints about one concern."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    @classmethod
    def endpoints(cls) -> list[Endpoint]:
        """The declared endpoints, in declaration order (no instance needed: for docs)."""
        found = []
        for klass in reversed(cls.__mro__):
            for attribute in vars(klass).values():
                endpoint = getattr(attribute, "__admin_endpoint__", None)
                if isinstance(endpoint, Endpoint):
                    found.append(endpoint)
        return found

    def add_raw_routes(self, router: web.UrlDispatcher) -> None:
        """Routes outside OpenIM's JSON envelope (file bodies, probes, metrics)."""
