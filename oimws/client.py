"""A small asyncio client for the jssdk protocol over picows.

For scripts, tests and the load harness: it speaks the same envelopes as ``open-im-sdk``
(``data`` a JSON string of positional arguments, objects double-encoded).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect


class ResponseError(Exception):
    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(f"{frame.get('event')}: {frame.get('errCode')} {frame.get('errMsg')}")
        self.frame = frame
        self.code: int = frame.get("errCode", 0)
        self.message: str = frame.get("errMsg", "")


class _Listener(WSListener):
    def __init__(self, client: JssdkClient) -> None:
        super().__init__()
        self._client = client

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type in (WSMsgType.TEXT, WSMsgType.BINARY):
            payload = frame.get_payload_as_bytes()
            hook = self._client.raw_frame_hook
            if hook is not None and hook(payload):
                return  # taken as raw bytes (the load harness): not parsed, not kept
            self._client._on_frame(json.loads(payload))
        elif frame.msg_type == WSMsgType.CLOSE:
            self._client.close_code = frame.get_close_code().value
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._client.disconnected.set()


def decode_data(frame: dict[str, Any]) -> Any:
    """A response's or push's ``data``, JSON-parsed as the jssdk does (``""`` stays ``""``)."""
    data = frame.get("data", "")
    try:
        return json.loads(data) if isinstance(data, str) and data else data
    except ValueError:
        return data


class JssdkClient:
    """One connection. ``await JssdkClient.connect(url, user, token)`` then ``login()``."""

    def __init__(self, user_id: str, token: str, platform_id: int) -> None:
        self.user_id = user_id
        self.token = token
        self.platform_id = platform_id
        self.transport: WSTransport | None = None
        self.frames: list[dict[str, Any]] = []  # every frame received, in order
        self.close_code: int | None = None
        self.disconnected = asyncio.Event()
        self._waiters: list[tuple[Callable[[dict[str, Any]], bool], asyncio.Future[Any]]] = []
        # Sees every payload first; returning True consumes it (no JSON parsing, not kept in
        # ``frames``): what a load generator with thousands of clients needs.
        self.raw_frame_hook: Callable[[bytes], bool] | None = None

    @classmethod
    async def connect(
        cls, ws_url: str, user_id: str, token: str, platform_id: int = 5, path: str = "/",
        **ws_options: Any,
    ) -> JssdkClient:
        client = cls(user_id, token, platform_id)
        query = urlencode({"sendID": user_id, "token": token, "platformID": platform_id,
                           "operationID": uuid.uuid4().hex})
        client.transport, _ = await ws_connect(
            lambda: _Listener(client), f"{ws_url.rstrip('/')}{path}?{query}", **ws_options)
        return client

    def _on_frame(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        for waiter in list(self._waiters):
            predicate, future = waiter
            if not future.done() and predicate(frame):
                future.set_result(frame)
                self._waiters.remove(waiter)

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0,
        include_past: bool = False,
    ) -> asyncio.Future[dict[str, Any]]:
        """A future for the next frame matching ``predicate`` (or an earlier one)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if include_past:
            for frame in self.frames:
                if predicate(frame):
                    future.set_result(frame)
                    return future
        self._waiters.append((predicate, future))
        return asyncio.ensure_future(asyncio.wait_for(future, timeout))

    def wait_event(self, event: str, timeout: float = 10.0,
                   include_past: bool = False) -> asyncio.Future[dict[str, Any]]:
        return self.wait_for(lambda f: f.get("event") == event, timeout, include_past)

    def send_raw(self, payload: bytes | str, msg_type: WSMsgType = WSMsgType.TEXT) -> None:
        assert self.transport is not None
        self.transport.send(msg_type, payload.encode() if isinstance(payload, str) else payload)

    async def call_raw(self, func: str, data: str, timeout: float = 10.0) -> dict[str, Any]:
        """Send one request with ``data`` as given; returns the response frame, errors too."""
        operation_id = uuid.uuid4().hex
        answer = self.wait_for(lambda f: f.get("operationID") == operation_id, timeout)
        self.send_raw(json.dumps({"reqFuncName": func, "operationID": operation_id,
                                  "userID": self.user_id, "data": data}))
        return await answer

    async def call(self, func: str, *args: Any, timeout: float = 10.0) -> Any:
        """Call a function the way the jssdk does; raises ``ResponseError`` on errCode != 0."""
        encoded = [json.dumps(a) if isinstance(a, dict | list) else a for a in args]
        frame = await self.call_raw(func, json.dumps(encoded), timeout)
        if frame.get("errCode"):
            raise ResponseError(frame)
        return decode_data(frame)

    async def login(self) -> None:
        await self.call("Login", self.user_id, self.token)

    async def send_text(self, recv_id: str, text: str) -> dict[str, Any]:
        message = await self.call("CreateTextMessage", text)
        result: dict[str, Any] = await self.call("SendMessage", message, recv_id, "", {}, False)
        return result

    async def close(self) -> None:
        if self.transport is not None and not self.disconnected.is_set():
            self.transport.send_close(WSCloseCode.OK)
            self.transport.disconnect()
            await asyncio.wait_for(self.disconnected.wait(), 5)
