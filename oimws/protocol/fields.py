"""Checks on the fields of an object argument; every failure an ``ArgumentError`` naming the
field.

The jssdk passes many functions one JSON object (``params``) instead of positional
arguments. The field readers (``text``, ``flag``, ``integer``, ``strings``, ...) take that
object and a field's name and answer the checked value; ``where`` prefixes the name in
messages when the object has a name of its own (``"params."``, ``"groupInfo."``). An absent
field takes its default; what null means is per reader: strings and arrays read it as
absent, booleans and integers refuse it (unless an integer reader is told ``nullable``).

The value checks (``string``, ``boolean``, ``choice``, ``unwrap``, ``user_id``,
``user_ids``) take a value already in hand: a positional argument, or a field a handler
treats specially.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from oimws.protocol.errors import ArgumentError

MAX_ID_LENGTH = 64  # user and group IDs
MAX_IDS_PER_CALL = 1000

Params = Mapping[str, Any]


# values -------------------------------------------------------------------------------------

def string(value: Any, name: str, *, max_length: int | None = None,
           non_empty: bool = False) -> str:
    if not isinstance(value, str) or (non_empty and not value):
        raise ArgumentError(f"{name} must be a {'non-empty ' if non_empty else ''}string")
    if max_length is not None and len(value) > max_length:
        raise ArgumentError(f"{name} is longer than {max_length} characters")
    return value


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ArgumentError(f"{name} must be a boolean")
    return value


def choice(value: Any, name: str, allowed: tuple[int, ...]) -> int:
    """One of a few integer codes (an option, a mode)."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise ArgumentError(f"{name} must be one of {', '.join(map(str, allowed))}")
    return value


def unwrap(value: Any) -> Any:
    """The value inside a protobuf wrapper, ``{"value": ...}``, as newer SDKs send some
    fields; any other value as it is."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def user_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ArgumentError(f"{name} must be a non-empty user ID")
    if len(value) > MAX_ID_LENGTH:
        raise ArgumentError(f"{name} is longer than {MAX_ID_LENGTH} characters")
    return value


def user_ids(value: Any, name: str, *, max_items: int = MAX_IDS_PER_CALL,
             optional: bool = False) -> list[str]:
    """An array of at most ``max_items`` user IDs, without repeats (in first-seen order).
    It must not be empty unless ``optional``; an optional one may also be null."""
    if optional and value is None:
        return []
    if not isinstance(value, list) or not (value or optional):
        kind = "an array" if optional else "a non-empty array"
        raise ArgumentError(f"{name} must be {kind} of user IDs")
    if len(value) > max_items:
        raise ArgumentError(f"{name} has more than {max_items} user IDs")
    return list(dict.fromkeys(user_id(v, f"{name}[{i}]") for i, v in enumerate(value)))


# fields of an object ------------------------------------------------------------------------

def text(params: Params, name: str, *, default: str = "", max_length: int | None = None,
         where: str = "") -> str:
    """A string field; absent or null: ``default``."""
    value = params.get(name)
    if value is None:
        return default
    return string(value, where + name, max_length=max_length)


def non_empty_text(params: Params, name: str, *, max_length: int | None = None,
                   where: str = "") -> str:
    """A string field that must be given and not be empty."""
    return string(params.get(name), where + name, max_length=max_length, non_empty=True)


def flag(params: Params, name: str, *, where: str = "") -> bool:
    """A boolean field; absent: false (null is not a boolean)."""
    return boolean(params.get(name, False), where + name)


def integer(params: Params, name: str, *, default: int | None = None,
            minimum: int | None = None, maximum: int | None = None, nullable: bool = False,
            where: str = "") -> int:
    """An integer field from ``minimum`` to ``maximum``. Absent (or null, when ``nullable``)
    it takes ``default``; without a default it must be given."""
    value = params.get(name)
    if value is None and default is not None and (nullable or name not in params):
        return default
    if (isinstance(value, bool) or not isinstance(value, int)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)):
        raise ArgumentError(f"{where}{name} must be an integer{_bounds(minimum, maximum)}")
    return value


def strings(params: Params, name: str, *, where: str = "") -> list[str]:
    """An array of strings; absent or null: empty."""
    return _array(params, name, where, "strings", lambda v: isinstance(v, str))


def integers(params: Params, name: str, *, where: str = "") -> list[int]:
    """An array of integers; absent or null: empty."""
    return _array(params, name, where, "integers",
                  lambda v: isinstance(v, int) and not isinstance(v, bool))


# searches -----------------------------------------------------------------------------------

def keywords(params: Params, name: str = "keywordList") -> list[str]:
    """A search's keywords: a non-empty array of non-empty strings, case-folded for
    ``matches``."""
    value = params.get(name)
    if not isinstance(value, list) or not value or not all(
            isinstance(k, str) and k for k in value):
        raise ArgumentError(f"{name} must be a non-empty array of non-empty strings")
    return [k.casefold() for k in value]


def search_flags(params: Params, *names: str) -> tuple[bool, ...]:
    """The boolean fields choosing where a search looks; at least one must be true."""
    chosen = tuple(flag(params, name) for name in names)
    if not any(chosen):
        raise ArgumentError(f"at least one of {_listing(names)} must be true")
    return chosen


def matches(keywords: Iterable[str], *texts: str) -> bool:
    """Whether any of the (case-folded) keywords occurs in any of the texts, ignoring case."""
    folded = [t.casefold() for t in texts]
    return any(keyword in t for keyword in keywords for t in folded)


# helpers ------------------------------------------------------------------------------------

def _array(params: Params, name: str, where: str, kind: str,
           accept: Callable[[Any], bool]) -> list[Any]:
    value = params.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(accept(v) for v in value):
        raise ArgumentError(f"{where}{name} must be an array of {kind}")
    return value


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    if maximum is not None:
        return f" of at most {maximum}"
    return ""


def _listing(names: Iterable[str]) -> str:
    *first, last = names
    return f"{', '.join(first)} and {last}" if first else last
