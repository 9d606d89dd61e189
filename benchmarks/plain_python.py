"""Plain-Python equivalents of the Cython hot paths, for honest side-by-side benchmarks."""

from __future__ import annotations

import json
from typing import Any

import orjson


def decode_request(payload: bytes, loads: Any = json.loads) -> tuple[str, str, str, str]:
    envelope = loads(payload)
    if not isinstance(envelope, dict):
        raise ValueError("frame must be a JSON object")
    func_name = envelope.get("reqFuncName")
    if not isinstance(func_name, str) or not func_name:
        raise ValueError("field 'reqFuncName' must be a non-empty string")
    fields = []
    for key in ("operationID", "userID", "data"):
        value = envelope.get(key) or ""
        if not isinstance(value, str):
            raise ValueError(f"field {key!r} must be a string")
        fields.append(value)
    return func_name, fields[0], fields[1], fields[2]


def encode_push(event: str, data: Any) -> bytes:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False) if data is not None else ""
    return json.dumps({"event": event, "errCode": 0, "errMsg": "", "data": body,
                       "operationID": ""}, separators=(",", ":"), ensure_ascii=False).encode()


def encode_push_orjson_dict(event: str, data: Any) -> bytes:
    """The obvious orjson version: build a dict, dump twice."""
    body = orjson.dumps(data).decode() if data is not None else ""
    return orjson.dumps({"event": event, "errCode": 0, "errMsg": "", "data": body,
                         "operationID": ""})
