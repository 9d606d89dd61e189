"""Request-body checks for the admin API: every failure names the field (errCode 1001)."""

from __future__ import annotations

from typing import Any

from oimws.protocol.errors import ApiError, ErrCode


def args_error(message: str) -> ApiError:
    return ApiError(ErrCode.ARGS, message)


def require_str(body: dict[str, Any], field: str, *, max_length: int = 64) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise args_error(f"field {field!r} must be a non-empty string")
    if len(value) > max_length:
        raise args_error(f"field {field!r} is longer than {max_length} characters")
    return value


def optional_str(body: dict[str, Any], field: str, *, max_length: int = 1024) -> str:
    value = body.get(field, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise args_error(f"field {field!r} must be a string")
    if len(value) > max_length:
        raise args_error(f"field {field!r} is longer than {max_length} characters")
    return value


def require_int(body: dict[str, Any], field: str, *, minimum: int, maximum: int) -> int:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise args_error(f"field {field!r} must be an integer")
    if not minimum <= value <= maximum:
        raise args_error(f"field {field!r} must be between {minimum} and {maximum}")
    return value


def require_list(body: dict[str, Any], field: str, *, max_items: int) -> list[Any]:
    value = body.get(field)
    if not isinstance(value, list) or not value:
        raise args_error(f"field {field!r} must be a non-empty array")
    if len(value) > max_items:
        raise args_error(f"field {field!r} has more than {max_items} items")
    return value
