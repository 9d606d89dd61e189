"""Request bodies of the admin API, declared once: the same declaration validates a body
(every failure is errCode 1001 naming the field's path, e.g. ``groupInfo.groupName``) and
describes it in the OpenAPI document.

As in OpenIM, a ``null`` is taken for an absent field and fields nobody declared are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oimws.protocol.errors import ApiError, ErrCode

ID_LENGTH = 64  # user and group IDs, as the jssdk side bounds them


def args_error(message: str) -> ApiError:
    return ApiError(ErrCode.ARGS, message)


class Field:
    """One field of a JSON object. ``check`` gets a value that is present and not null."""

    json_type = "object"

    def __init__(self, name: str, *, required: bool = False, default: Any = None,
                 doc: str = "") -> None:
        self.name = name
        self.required = required
        self.default = default
        self.doc = doc

    def check(self, value: Any, path: str) -> Any:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """This field's OpenAPI schema."""
        described: dict[str, Any] = {"type": self.json_type, **self._constraints()}
        if self.doc:
            described["description"] = self.doc
        if self.default not in (None, "", [], {}):
            described["default"] = self.default
        return described

    def _constraints(self) -> dict[str, Any]:
        return {}


class Text(Field):
    json_type = "string"

    def __init__(self, name: str, *, max_length: int = ID_LENGTH, required: bool = False,
                 default: str = "", doc: str = "") -> None:
        super().__init__(name, required=required, default=default, doc=doc)
        self.max_length = max_length

    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise args_error(f"field {path!r} must be a string")
        if self.required and not value:
            raise args_error(f"field {path!r} must not be empty")
        if len(value) > self.max_length:
            raise args_error(f"field {path!r} is longer than {self.max_length} characters")
        return value

    def _constraints(self) -> dict[str, Any]:
        return {"maxLength": self.max_length, **({"minLength": 1} if self.required else {})}


class Integer(Field):
    json_type = "integer"

    def __init__(self, name: str, *, minimum: int, maximum: int, required: bool = False,
                 default: int | None = None, doc: str = "") -> None:
        super().__init__(name, required=required, default=default, doc=doc)
        self.minimum = minimum
        self.maximum = maximum

    def check(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise args_error(f"field {path!r} must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise args_error(f"field {path!r} must be between {self.minimum} and {self.maximum}")
        return value

    def _constraints(self) -> dict[str, Any]:
        return {"minimum": self.minimum, "maximum": self.maximum}


class Boolean(Field):
    json_type = "boolean"

    def __init__(self, name: str, *, default: bool = False, doc: str = "") -> None:
        super().__init__(name, default=default, doc=doc)

    def check(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise args_error(f"field {path!r} must be a boolean")
        return value


class TextList(Field):
    """An array of strings (IDs by default) of a bounded size; repeats are dropped unless
    ``unique`` is false (when the position of each item matters)."""

    json_type = "array"

    def __init__(self, name: str, *, max_items: int = 1000, item_max_length: int = ID_LENGTH,
                 required: bool = False, unique: bool = True, doc: str = "") -> None:
        super().__init__(name, required=required, default=[], doc=doc)
        self.max_items = max_items
        self.item_max_length = item_max_length
        self.unique = unique

    def check(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            raise args_error(f"field {path!r} must be an array of strings")
        if self.required and not value:
            raise args_error(f"field {path!r} must not be empty")
        if len(value) > self.max_items:
            raise args_error(f"field {path!r} has more than {self.max_items} items")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise args_error(f"field '{path}[{index}]' must be a non-empty string")
            if len(item) > self.item_max_length:
                raise args_error(f"field '{path}[{index}]' is longer than "
                                 f"{self.item_max_length} characters")
        return list(dict.fromkeys(value)) if self.unique else list(value)

    def _constraints(self) -> dict[str, Any]:
        return {"items": {"type": "string", "minLength": 1, "maxLength": self.item_max_length},
                "maxItems": self.max_items, **({"minItems": 1} if self.required else {})}


class AnyObject(Field):
    """A JSON object passed on as it is (message content, offline push info)."""

    def check(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise args_error(f"field {path!r} must be an object")
        return value


class Struct(Field):
    """A JSON object with declared fields; the validated value holds exactly those."""

    def __init__(self, name: str, fields: Sequence[Field], *, required: bool = False,
                 doc: str = "") -> None:
        super().__init__(name, required=required, doc=doc)
        self.fields = tuple(fields)

    def check(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise args_error(f"field {path!r} must be an object" if path
                             else "the request body must be a JSON object")
        checked = {}
        for field in self.fields:
            field_path = f"{path}.{field.name}" if path else field.name
            item = value.get(field.name)
            if item is None:
                if field.required:
                    raise args_error(f"field {field_path!r} is required")
                checked[field.name] = field.default
            else:
                checked[field.name] = field.check(item, field_path)
        return checked

    def _constraints(self) -> dict[str, Any]:
        required = [f.name for f in self.fields if f.required]
        return {"properties": {f.name: f.schema() for f in self.fields},
                **({"required": required} if required else {})}


class StructList(Field):
    json_type = "array"

    def __init__(self, name: str, item: Struct, *, max_items: int, required: bool = False,
                 doc: str = "") -> None:
        super().__init__(name, required=required, default=[], doc=doc)
        self.item = item
        self.max_items = max_items

    def check(self, value: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise args_error(f"field {path!r} must be an array of objects")
        if self.required and not value:
            raise args_error(f"field {path!r} must not be empty")
        if len(value) > self.max_items:
            raise args_error(f"field {path!r} has more than {self.max_items} items")
        return [self.item.check(item, f"{path}[{index}]") for index, item in enumerate(value)]

    def _constraints(self) -> dict[str, Any]:
        return {"items": self.item.schema(), "maxItems": self.max_items,
                **({"minItems": 1} if self.required else {})}


def body(*fields: Field) -> Struct:
    """The schema of a whole request body."""
    return Struct("", fields)


def pagination(max_show: int = 1000) -> Struct:
    """OpenIM's ``RequestPagination``: pages are numbered from 1."""
    return Struct("pagination", (
        Integer("pageNumber", minimum=1, maximum=2**31 - 1, required=True),
        Integer("showNumber", minimum=1, maximum=max_show, required=True),
    ), required=True)


def page_slice(page: dict[str, Any]) -> slice:
    start = (page["pageNumber"] - 1) * page["showNumber"]
    return slice(start, start + page["showNumber"])
