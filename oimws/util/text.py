"""The searchable text of a message: what a keyword search looks at."""

from __future__ import annotations

from typing import Any

# element -> its fields that hold words a user would search for
_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "textElem": ("content",),
    "atTextElem": ("text",),
    "advancedTextElem": ("text",),
    "quoteElem": ("text",),
    "customElem": ("data", "description", "extension"),
    "fileElem": ("fileName",),
    "locationElem": ("description",),
    "mergeElem": ("title",),
    "cardElem": ("nickname",),
}


def searchable_text(message: dict[str, Any]) -> str:
    parts: list[str] = []
    for element_key, fields in _TEXT_FIELDS.items():
        element = message.get(element_key)
        if isinstance(element, dict):
            parts.extend(str(element[f]) for f in fields if isinstance(element.get(f), str))
    return "\n".join(parts)
