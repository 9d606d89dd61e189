"""OpenIM's error numbering (PROTOCOL.md); oimws reuses it and invents none of its own."""

from __future__ import annotations

from enum import IntEnum


class ErrCode(IntEnum):
    # server side
    # Also a store that cannot take the request (disk full, database unreachable or
    # read-only): its errMsg says which, and that nothing was changed.
    SERVER_INTERNAL = 500
    ARGS = 1001
    NO_PERMISSION = 1002
    DUPLICATE_KEY = 1003
    RECORD_NOT_FOUND = 1004
    USER_ID_NOT_FOUND = 1101
    REGISTERED_ALREADY = 1102
    GROUP_ID_NOT_FOUND = 1201
    GROUP_ID_EXISTED = 1202
    NOT_IN_GROUP_YET = 1203
    DISMISSED_ALREADY = 1204
    GROUP_REQUEST_HANDLED = 1206
    CAN_NOT_ADD_YOURSELF = 1301
    BLOCKED_BY_PEER = 1302
    NOT_PEERS_FRIEND = 1303
    RELATIONSHIP_ALREADY = 1304
    MUTED_IN_GROUP = 1402
    MUTED_GROUP = 1403
    MSG_ALREADY_REVOKE = 1404
    TOKEN_EXPIRED = 1501
    TOKEN_INVALID = 1502
    TOKEN_MALFORMED = 1503
    TOKEN_NOT_VALID_YET = 1504
    TOKEN_UNKNOWN = 1505
    TOKEN_KICKED = 1506
    TOKEN_NOT_EXIST = 1507
    CONN_OVER_MAX_NUM_LIMIT = 1601
    CONN_ARGS = 1602
    # SDK side: what the client's local SDK would have answered
    NETWORK = 10000
    SDK_ARGS = 10002
    NOT_LOGGED_IN = 10004  # ResourceLoadNotComplete
    SDK_UNKNOWN = 10005
    SDK_INTERNAL = 10006
    LOGIN_OUT = 10101
    LOGIN_REPEAT = 10102
    MSG_REPEAT = 10204
    MSG_CONTENT_TYPE_NOT_SUPPORT = 10205
    NOT_SUPPORT_OPT = 10301
    # the Go gateway's answer to a frame that is not a JSON request
    PROTOCOL = 20000


class ApiError(Exception):
    """A request failed for a reason the client should be told about."""

    def __init__(self, code: ErrCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ApiError({self.code.name}, {self.message!r})"


class ArgumentError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrCode.SDK_ARGS, message)


def no_permission(message: str) -> ApiError:
    return ApiError(ErrCode.NO_PERMISSION, message)


def not_found(message: str) -> ApiError:
    return ApiError(ErrCode.RECORD_NOT_FOUND, message)
