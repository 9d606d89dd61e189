"""Deciding on an upgrade request: who is connecting, with which token, and whether to admit.

Pure functions over the request's path and headers, so they are testable without sockets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

import orjson

from oimws.protocol.errors import ApiError, ErrCode
from oimws.tokens import TokenService

MAX_USER_ID_LENGTH = 64
PLATFORM_IDS = range(1, 11)  # 1 iOS .. 9 iPad, 10 admin (PROTOCOL.md)


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectRequest:
    user_id: str
    platform_id: int
    operation_id: str


class UpgradeRefused(Exception):
    """The upgrade is answered with an HTTP error instead of a socket."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> bytes:
        return orjson.dumps({"errCode": self.code, "errMsg": self.message, "errDlt": ""})


def _bearer_token(headers: Mapping[str, str]) -> str:
    authorization = headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def admit(path: bytes, headers: Mapping[str, str], tokens: TokenService) -> ConnectRequest:
    """Parse and authenticate an upgrade request, or raise ``UpgradeRefused``."""
    try:
        query = parse_qs(urlsplit(path.decode("utf-8")).query)
    except UnicodeDecodeError:
        raise UpgradeRefused(400, ErrCode.CONN_ARGS, "request path is not UTF-8") from None

    def single(name: str) -> str:
        values = query.get(name, [])
        return values[0] if values else ""

    user_id = single("sendID")
    if not user_id or len(user_id) > MAX_USER_ID_LENGTH:
        raise UpgradeRefused(
            400, ErrCode.CONN_ARGS, "query parameter sendID is missing or too long")
    try:
        platform_id = int(single("platformID"))
    except ValueError:
        raise UpgradeRefused(400, ErrCode.CONN_ARGS,
                             "query parameter platformID must be an integer") from None
    if platform_id not in PLATFORM_IDS:
        raise UpgradeRefused(400, ErrCode.CONN_ARGS,
                             f"platformID {platform_id} is not an OpenIM platform (1-10)")
    token = single("token") or _bearer_token(headers)
    try:
        tokens.verify_for(token, user_id, platform_id)
    except ApiError as exc:
        raise UpgradeRefused(401, exc.code, exc.message) from None
    return ConnectRequest(user_id, platform_id, single("operationID"))
