"""Plain-Python equivalents of the Cython hot paths, for honest side-by-side benchmarks."""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from typing import Any

import orjson
import xxhash


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


def decode_request_with_args(
    payload: bytes, loads: Any = json.loads
) -> tuple[tuple[str, str, str, str], list[Any]]:
    """The envelope and its positional arguments (``data`` holds a JSON array)."""
    request = decode_request(payload, loads)
    args = loads(request[3]) if request[3] else []
    if not isinstance(args, list):
        raise ValueError("'data' must hold a JSON array")
    return request, args


def encode_response(event: str, err_code: int, err_msg: str, data: Any,
                    operation_id: str) -> bytes:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False) if data is not None else ""
    return json.dumps({"event": event, "errCode": err_code, "errMsg": err_msg, "data": body,
                       "operationID": operation_id}, separators=(",", ":"),
                      ensure_ascii=False).encode()


def encode_response_orjson_dict(event: str, err_code: int, err_msg: str, data: Any,
                                operation_id: str) -> bytes:
    body = orjson.dumps(data).decode() if data is not None else ""
    return orjson.dumps({"event": event, "errCode": err_code, "errMsg": err_msg, "data": body,
                         "operationID": operation_id})


def encode_push(event: str, data: Any) -> bytes:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False) if data is not None else ""
    return json.dumps({"event": event, "errCode": 0, "errMsg": "", "data": body,
                       "operationID": ""}, separators=(",", ":"), ensure_ascii=False).encode()


def encode_push_orjson_dict(event: str, data: Any) -> bytes:
    """The obvious orjson version: build a dict, dump twice."""
    body = orjson.dumps(data).decode() if data is not None else ""
    return orjson.dumps({"event": event, "errCode": 0, "errMsg": "", "data": body,
                         "operationID": ""})


# ids ----------------------------------------------------------------------------------------

def server_msg_id(conversation_id: str, seq: int, send_time_ms: int) -> str:
    return xxhash.xxh3_128_hexdigest(f"{conversation_id}:{seq}:{send_time_ms}".encode())


class HashRing:
    """The consistent-hash ring of ``oimws._speedups.ids.HashRing`` in plain Python: the same
    points (``xxh3_64("<node>#<i>")``), the same tie-break, ``bisect`` for the lookup."""

    def __init__(self, nodes: Iterable[str], replicas: int = 160) -> None:
        self.nodes = tuple(sorted(set(nodes)))
        if not self.nodes:
            raise ValueError("a hash ring needs at least one node")
        points = sorted(
            (xxhash.xxh3_64_intdigest(f"{node}#{i}".encode()), index)
            for index, node in enumerate(self.nodes) for i in range(replicas))
        self._hashes = [h for h, _ in points]
        self._owners = [self.nodes[index] for _, index in points]

    def node_for(self, key: str) -> str:
        index = bisect.bisect_left(self._hashes, xxhash.xxh3_64_intdigest(key.encode()))
        return self._owners[index if index < len(self._owners) else 0]


# fan-out ------------------------------------------------------------------------------------

def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (RFC 6455 5.2), as the server sends it."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 65536:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def send_to_all(transports: list[Any], frame: bytes, write_buffer_limit: int) -> list[Any]:
    """``oimws._speedups.fanout.send_to_all`` as a Python loop: frame once, write to each."""
    overflowed = []
    framed = text_frame(frame)
    for transport in transports:
        if transport.is_disconnected or transport.is_close_frame_sent:
            continue
        transport.underlying_transport.write(framed)
        if transport.underlying_transport.get_write_buffer_size() > write_buffer_limit:
            overflowed.append(transport)
    return overflowed
