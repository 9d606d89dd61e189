"""Running a jssdk function on behalf of a user: how the admin API reaches the IM logic.

The admin API never re-implements what a handler does; it calls the handler function itself,
by its jssdk name, with a ``Session`` of the user it acts as. The arguments go through the
function's declared schema exactly as a socket request's would. That session is not logged in
anywhere: it is in no registry, so every push reaches the user's real devices (the admin's
call is excluded from nothing), and its connection writes to no socket.
"""

from __future__ import annotations

import inspect
from typing import Any

from oimws.context import AppContext
from oimws.dispatch import FunctionSpec, registered_functions
from oimws.protocol.args import decode_positional
from oimws.protocol.errors import ApiError, ErrCode
from oimws.session import Session
from oimws.tokens import ADMIN_PLATFORM_ID


class AdminConnection:
    """The connection of an acting session. Frames a handler sends to its own caller's
    session are recorded (they die with the call); closing it does nothing."""

    __slots__ = ("frames",)

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def send_frame(self, frame: bytes) -> None:
        self.frames.append(frame)

    def close(self, code: int, reason: str) -> None:
        return None

    @property
    def raw_transport(self) -> Any:
        return None


def acting_session(user_id: str, platform_id: int = ADMIN_PLATFORM_ID) -> Session:
    session = Session(user_id, platform_id, AdminConnection())
    session.logged_in = True
    return session


_functions: dict[str, FunctionSpec] = {}


def _spec(name: str) -> FunctionSpec:
    if not _functions:
        _functions.update((spec.name, spec) for spec in registered_functions())
    spec = _functions.get(name)
    if spec is None:
        raise ApiError(ErrCode.NOT_SUPPORT_OPT, f"{name} is not available in this oimws")
    return spec


async def call_as(ctx: AppContext, user_id: str, function: str, *args: Any,
                  platform_id: int = ADMIN_PLATFORM_ID) -> Any:
    """Run the jssdk function ``function`` as ``user_id`` and return its result.

    Its ``ApiError``s come through unchanged (an argument error is the SDK's 10002; the admin
    API's envelope reports it as 1001).
    """
    spec = _spec(function)
    decoded = decode_positional(spec.args, list(args))
    result = spec.func(ctx, acting_session(user_id, platform_id), *decoded)
    if inspect.isawaitable(result):
        result = await result
    return result
