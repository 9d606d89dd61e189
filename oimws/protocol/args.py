"""Declared argument schemas: how a function's positional ``data`` array is decoded.

The jssdk double-encodes: object and array arguments travel as JSON strings inside the
``data`` array. ``JsonObject``/``JsonArray`` accept that string (or, leniently, the value
itself). Every failure names the argument, position and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from oimws.protocol.errors import ArgumentError

_MISSING: Any = object()

# How deep arrays and objects may nest in one argument. The SDK's deepest objects (a merge of
# quoted messages) nest about ten levels; answers and pushes embed arguments a few levels
# further down, and the JSON encoder refuses anything past 254, so a deeper argument would be
# accepted and then never answered.
MAX_NESTING = 32


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Arg:
    """One positional argument. Subclasses implement ``convert``."""

    expected = "value"

    def __init__(self, name: str, *, default: Any = _MISSING) -> None:
        self.name = name
        self.default = default

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def convert(self, value: Any) -> Any:
        raise NotImplementedError

    def decode(self, position: int, value: Any) -> Any:
        try:
            return self.convert(value)
        except (TypeError, ValueError) as exc:
            detail = f" ({exc})" if str(exc) else ""
            raise ArgumentError(
                f"argument {position} ({self.name}) must be {self.expected}, "
                f"got {describe(value)}{detail}"
            ) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Str(Arg):
    expected = "a string"

    def __init__(self, name: str, *, default: Any = _MISSING, max_length: int = 0) -> None:
        super().__init__(name, default=default)
        self.max_length = max_length

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise TypeError
        if self.max_length and len(value) > self.max_length:
            raise ValueError(f"longer than {self.max_length} characters")
        return value


class Int(Arg):
    expected = "an integer"

    def __init__(
        self, name: str, *, default: Any = _MISSING, minimum: int | None = None,
        maximum: int | None = None,
    ) -> None:
        super().__init__(name, default=default)
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"below {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"above {self.maximum}")
        return value


class Number(Arg):
    expected = "a number"

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not finite")
        return value


class Bool(Arg):
    expected = "a boolean"

    def convert(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise TypeError
        return value


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValueError("not valid JSON") from None
    check_nesting(value)
    return value


def check_nesting(value: Any) -> None:
    """Refuse arrays and objects nested deeper than ``MAX_NESTING`` (level by level, without
    recursion, so the check itself cannot overflow)."""
    frontier = [value] if isinstance(value, dict | list) else []
    depth = 0
    while frontier:
        depth += 1
        if depth > MAX_NESTING:
            raise ValueError(f"nested deeper than {MAX_NESTING} levels")
        children = []
        for container in frontier:
            for child in container.values() if isinstance(container, dict) else container:
                if isinstance(child, dict | list):
                    children.append(child)
        frontier = children


class JsonObject(Arg):
    expected = "a JSON object (or a string holding one)"

    def convert(self, value: Any) -> Any:
        decoded = _maybe_json(value)
        if not isinstance(decoded, dict):
            raise TypeError
        return decoded


class JsonArray(Arg):
    expected = "a JSON array (or a string holding one)"

    def __init__(self, name: str, *, default: Any = _MISSING, item: Arg | None = None) -> None:
        super().__init__(name, default=default)
        self.item = item

    def convert(self, value: Any) -> Any:
        decoded = _maybe_json(value)
        if not isinstance(decoded, list):
            raise TypeError
        if self.item is not None:
            item = self.item
            for index, element in enumerate(decoded):
                try:
                    decoded[index] = item.convert(element)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"element {index} must be {item.expected}, got {describe(element)}"
                    ) from None
        return decoded


class Anything(Arg):
    expected = "any JSON value"

    def convert(self, value: Any) -> Any:
        check_nesting(value)
        return value


def decode_positional(schema: Sequence[Arg], values: list[Any]) -> list[Any]:
    """Check a request's argument array against its schema and convert each argument."""
    if len(values) > len(schema):
        raise ArgumentError(f"takes at most {len(schema)} arguments, got {len(values)}")
    decoded = []
    for position, arg in enumerate(schema):
        if position < len(values) and values[position] is not None:
            decoded.append(arg.decode(position, values[position]))
        elif arg.required:
            if position < len(values):
                raise ArgumentError(f"argument {position} ({arg.name}) must not be null")
            raise ArgumentError(f"argument {position} ({arg.name}) is missing")
        else:
            decoded.append(arg.default)
    return decoded
