"""reqFuncName -> handler: one registry filled by one decorator, and the error mapping.

A handler is ``(ctx, session, *decoded_args) -> result``, sync or async. Its result is
encoded as the response's ``data``; an ``ApiError`` becomes the response's errCode/errMsg.
Nothing here knows IM rules.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from oimws import logs, metrics
from oimws.context import AppContext
from oimws.protocol import events
from oimws.protocol.args import Arg, decode_positional
from oimws.protocol.codec import ArgsDecodeError, EnvelopeError, Request
from oimws.protocol.errors import ApiError, ErrCode
from oimws.session import Session
from oimws.store import StoreError

log = logging.getLogger("oimws.dispatch")

HandlerFunc = Callable[..., Any]


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    func: HandlerFunc
    args: tuple[Arg, ...]
    needs_login: bool
    is_async: bool
    summary: str


_REGISTRY: dict[str, FunctionSpec] = {}


def handler(
    name: str, *args: Arg, needs_login: bool = True
) -> Callable[[HandlerFunc], HandlerFunc]:
    """Register ``func`` as the implementation of the jssdk function ``name``."""

    def register(func: HandlerFunc) -> HandlerFunc:
        if name in _REGISTRY:
            raise RuntimeError(f"function {name!r} is registered twice")
        doc = (inspect.getdoc(func) or "").strip().splitlines()
        _REGISTRY[name] = FunctionSpec(
            name=name,
            func=func,
            args=args,
            needs_login=needs_login,
            is_async=inspect.iscoroutinefunction(func),
            summary=doc[0] if doc else "",
        )
        return func

    return register


def registered_functions() -> Iterator[FunctionSpec]:
    load_handlers()
    return iter(sorted(_REGISTRY.values(), key=lambda spec: spec.name))


def load_handlers() -> ModuleType:
    """Import the handler modules so their decorators run."""
    import oimws.handlers

    return oimws.handlers


class Dispatcher:
    def __init__(self, ctx: AppContext) -> None:
        load_handlers().install(ctx)
        self._ctx = ctx
        self._codec = ctx.codec
        self._functions = dict(_REGISTRY)
        self._tasks: set[asyncio.Task[None]] = set()

    def handle_payload(self, session: Session, payload: bytes | bytearray | memoryview) -> None:
        """Handle one request frame; the answer goes back through ``session.send``."""
        try:
            request = self._codec.decode_request(payload)
        except EnvelopeError as exc:
            if exc.func_name:
                self._reply_error(session, exc.func_name, exc.operation_id,
                                  ErrCode.SDK_ARGS, str(exc))
            else:
                self._reply_error(session, events.PROTOCOL_ERROR, "", ErrCode.PROTOCOL, str(exc))
            return
        # Every log line about this request carries its operationID and user (and so do the
        # lines of the task an async handler runs in: it copies this context).
        scope = logs.open_scope(request.operation_id, session.user_id)
        try:
            self._handle(session, request)
        finally:
            logs.close_scope(scope)

    def _handle(self, session: Session, request: Request) -> None:
        if not session.budget.take():
            # Answered, not disconnected: the client learns to slow down, others are unaffected.
            self._reply_error(session, request.func_name, request.operation_id,
                              ErrCode.CONN_OVER_MAX_NUM_LIMIT,
                              f"too many requests on this connection (at most "
                              f"{self._ctx.config.request_rate:g} a second); try again shortly")
            return
        spec = self._functions.get(request.func_name)
        if spec is None:
            self._reply_error(session, request.func_name, request.operation_id,
                              ErrCode.NOT_SUPPORT_OPT,
                              f"unknown function {request.func_name!r}")
            return
        if spec.needs_login and not session.logged_in:
            self._reply_error(session, request.func_name, request.operation_id,
                              ErrCode.NOT_LOGGED_IN,
                              f"{request.func_name} needs a logged-in session; send Login first")
            return
        try:
            args = decode_positional(spec.args, self._codec.decode_args(request))
        except ArgsDecodeError as exc:
            self._reply_error(session, request.func_name, request.operation_id,
                              ErrCode.SDK_ARGS, str(exc))
            return
        except ApiError as exc:
            self._reply_error(session, request.func_name, request.operation_id,
                              exc.code, f"{request.func_name}: {exc.message}")
            return
        started = time.perf_counter()
        if spec.is_async:
            task = asyncio.get_running_loop().create_task(
                self._run_async(spec, session, request, args, started))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        try:
            result = spec.func(self._ctx, session, *args)
        except Exception as exc:
            self._reply_failure(session, request, exc, started)
            return
        self._reply(session, request, result, started)

    async def _run_async(
        self, spec: FunctionSpec, session: Session, request: Request, args: list[Any],
        started: float,
    ) -> None:
        try:
            result = await spec.func(self._ctx, session, *args)
        except Exception as exc:
            self._reply_failure(session, request, exc, started)
            return
        self._reply(session, request, result, started)

    async def drain(self) -> None:
        """Wait for requests already being handled and the pushes they caused (graceful
        shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._ctx.conversation_updates.drain()

    def _reply(self, session: Session, request: Request, result: Any, started: float) -> None:
        try:
            frame = self._codec.encode_response(
                request.func_name, 0, "", result, request.operation_id)
        except (TypeError, ValueError) as exc:  # orjson's encode error is a TypeError
            # A handler returned what JSON cannot carry: still one answer, never silence.
            self._reply_failure(session, request, exc, started)
            return
        session.send(frame)
        metrics.request_answered(request.func_name, 0, time.perf_counter() - started)

    def _reply_failure(self, session: Session, request: Request, exc: Exception,
                       started: float) -> None:
        if isinstance(exc, ApiError):
            code, message = exc.code, exc.message
        elif isinstance(exc, StoreError):
            # Logged without a traceback: the store's message says what failed. The client
            # is told what kind of failure it was (full, read-only, unreachable), no details.
            log.error("%s for %r failed in the store: %s", request.func_name, session, exc)
            code, message = ErrCode.SERVER_INTERNAL, exc.public_message
        else:
            log.exception("%s for %r raised", request.func_name, session)
            code, message = ErrCode.SERVER_INTERNAL, "internal server error"
        self._reply_error(session, request.func_name, request.operation_id, code, message,
                          started)

    def _reply_error(
        self, session: Session, event: str, operation_id: str, code: int, message: str,
        started: float | None = None,
    ) -> None:
        session.send(self._codec.encode_response(event, int(code), message, None, operation_id))
        # Only registered names become labels: a client cannot invent metric series.
        function = event if event in self._functions else metrics.UNKNOWN_FUNCTION
        elapsed = None if started is None else time.perf_counter() - started
        metrics.request_answered(function, int(code), elapsed)
