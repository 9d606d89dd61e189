"""The seam between the transport and the dispatcher: whole payloads in, encoded frames out.

The transport only ever calls a ``Codec``; the default is the jssdk's JSON envelope, compiled
in ``oimws._speedups.codec``. Another wire format plugs in by implementing the same three calls.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from oimws._speedups import codec as _codec
from oimws._speedups.codec import ArgsDecodeError, EnvelopeError, Request

__all__ = ["ArgsDecodeError", "Codec", "EnvelopeError", "JsonEnvelopeCodec", "Request"]


class Codec(Protocol):
    def decode_request(self, payload: bytes | bytearray | memoryview) -> Request: ...

    def decode_args(self, request: Request) -> list[Any]: ...

    def encode_response(
        self, event: str, err_code: int, err_msg: str, result: Any, operation_id: str
    ) -> bytes: ...

    def encode_push(self, event: str, data: Any) -> bytes: ...


def encode_result(result: Any) -> bytes:
    """A handler's result as the JSON the client will ``JSON.parse`` (b"" for no result)."""
    if result is None:
        return b""
    return orjson.dumps(result)


class JsonEnvelopeCodec:
    """The jssdk's envelope: ``{"reqFuncName","operationID","userID","data":"[...]"}``."""

    def decode_request(self, payload: bytes | bytearray | memoryview) -> Request:
        return _codec.decode_request(payload)

    def decode_args(self, request: Request) -> list[Any]:
        return _codec.decode_args(request.data)

    def encode_response(
        self, event: str, err_code: int, err_msg: str, result: Any, operation_id: str
    ) -> bytes:
        return _codec.encode_response(event, err_code, err_msg, encode_result(result), operation_id)

    def encode_push(self, event: str, data: Any) -> bytes:
        return _codec.encode_push(event, encode_result(data))
