"""A minimal oimws client in Python: get a token, log in over the jssdk protocol, send a message.

For scripts that talk to oimws without the jssdk. It uses picows (a dependency of oimws) and
the standard library only, and spells out the protocol:

* the admin API (port 10002) hands out tokens: ``POST /auth/user_token`` with the server's
  secret (or ``/auth/get_user_token`` with an admin token);
* the WebSocket (port 10003) is opened as ``ws://host:10003?sendID=U&token=T&platformID=P``;
* every request is ``{"reqFuncName", "operationID", "userID", "data"}`` where ``data`` is a
  JSON string holding the list of arguments, objects among them JSON-encoded once more;
* the answer carries the same ``operationID``; pushes (``OnRecvNewMessages``, ...) carry
  ``event`` and no operationID of ours.

Run against a local server (``make start``)::

    python examples/python_client.py --to bob --text "hello from Python"

It registers the two users if needed (``--register``, on by default) and prints the stored
message as JSON. ``oimws.client.JssdkClient`` is the packaged form of the same client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

PLATFORM_LINUX = 7  # OpenIM's platform IDs: 5 is Web; a script is a Linux client


# -- the admin REST API: tokens and accounts ----------------------------------------------

def admin_post(api_url: str, path: str, body: dict[str, Any], token: str = "") -> Any:
    """POST to the admin API; returns the envelope's ``data``, raises on a non-zero errCode."""
    headers = {"Content-Type": "application/json", "operationID": uuid.uuid4().hex}
    if token:
        headers["token"] = token
    request = urllib.request.Request(f"{api_url.rstrip('/')}{path}", method="POST",
                                     data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as reply:
        envelope = json.load(reply)
    if envelope["errCode"] != 0:
        raise RuntimeError(f"{path}: {envelope['errCode']} {envelope['errMsg']}")
    return envelope["data"]


def register(api_url: str, secret: str, users: dict[str, str]) -> None:
    """Register ``{userID: nickname}``; users that exist already are left as they are."""
    admin = admin_post(api_url, "/auth/get_admin_token",
                       {"secret": secret, "userID": "imAdmin"})["token"]
    known = admin_post(api_url, "/user/account_check", {"checkUserIDs": list(users)}, admin)
    new = [r["userID"] for r in known["results"] if r["accountStatus"] == 0]
    if new:
        admin_post(api_url, "/user/user_register",
                   {"users": [{"userID": u, "nickname": users[u]} for u in new]}, admin)


def user_token(api_url: str, secret: str, user_id: str, platform_id: int) -> str:
    data = admin_post(api_url, "/auth/user_token",
                      {"secret": secret, "platformID": platform_id, "userID": user_id})
    return str(data["token"])


# -- the jssdk protocol over picows -------------------------------------------------------

class Client(WSListener):
    """One connection. ``await Client.connect(...)``, then ``await client.call(name, *args)``;
    ``on_push(frame)`` is called for every push (a frame that answers no request of ours)."""

    def __init__(self, user_id: str, on_push: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self.user_id = user_id
        self.on_push = on_push
        self.transport: WSTransport | None = None
        self.closed = asyncio.Event()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    @classmethod
    async def connect(cls, ws_url: str, user_id: str, token: str, platform_id: int,
                      on_push: Callable[[dict[str, Any]], None] = lambda frame: None
                      ) -> Client:
        query = urlencode({"sendID": user_id, "token": token, "platformID": platform_id,
                           "operationID": uuid.uuid4().hex})
        client = cls(user_id, on_push)
        client.transport, _ = await ws_connect(lambda: client, f"{ws_url}?{query}")
        await client.call("Login", user_id, token)
        return client

    # picows calls these
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
        elif frame.msg_type in (WSMsgType.TEXT, WSMsgType.BINARY):
            message = json.loads(frame.get_payload_as_bytes())
            future = self._pending.pop(message.get("operationID", ""), None)
            if future is not None and not future.done():
                future.set_result(message)
            else:
                self.on_push(message)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the connection closed"))

    async def call(self, func: str, *args: Any, timeout: float = 10.0) -> Any:
        """Call a gateway function; returns its decoded ``data``, raises on errCode != 0."""
        assert self.transport is not None
        operation_id = uuid.uuid4().hex
        encoded = [json.dumps(a) if isinstance(a, dict | list) else a for a in args]
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[operation_id] = future
        self.transport.send(WSMsgType.TEXT, json.dumps({
            "reqFuncName": func, "operationID": operation_id, "userID": self.user_id,
            "data": json.dumps(encoded)}).encode())
        answer = await asyncio.wait_for(future, timeout)
        if answer.get("errCode"):
            raise RuntimeError(f"{func}: {answer['errCode']} {answer.get('errMsg')}")
        return decode(answer)

    async def send_text(self, text: str, recv_id: str = "", group_id: str = "") -> Any:
        message = await self.call("CreateTextMessage", text)
        return await self.call("SendMessage", message, recv_id, group_id, {}, False)

    async def close(self) -> None:
        if self.transport is not None and not self.closed.is_set():
            self.transport.send_close(WSCloseCode.OK)
            self.transport.disconnect()
            await asyncio.wait_for(self.closed.wait(), 5)


def decode(frame: dict[str, Any]) -> Any:
    """A frame's ``data`` (a JSON string, or ``""``) as Python values."""
    data = frame.get("data", "")
    return json.loads(data) if isinstance(data, str) and data else data


# -- the example --------------------------------------------------------------------------

async def main(args: argparse.Namespace) -> int:
    if args.register:
        register(args.api, args.secret, {args.user: args.user.capitalize(),
                                         args.to: args.to.capitalize()})
    token = user_token(args.api, args.secret, args.user, PLATFORM_LINUX)
    client = await Client.connect(args.ws, args.user, token, PLATFORM_LINUX)
    try:
        stored = await client.send_text(args.text, recv_id=args.to)
    finally:
        await client.close()
    print(json.dumps({"clientMsgID": stored["clientMsgID"], "seq": stored["seq"],
                      "sendID": stored["sendID"], "recvID": stored["recvID"],
                      "text": stored["textElem"]["content"]}))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", default="http://127.0.0.1:10002", help="admin API URL")
    parser.add_argument("--ws", default="ws://127.0.0.1:10003", help="jssdk WebSocket URL")
    parser.add_argument("--secret", default="openIM123", help="the server's --secret")
    parser.add_argument("--user", default="alice", help="who sends")
    parser.add_argument("--to", default="bob", help="who receives")
    parser.add_argument("--text", default="hello from Python")
    parser.add_argument("--no-register", dest="register", action="store_false",
                        help="the users exist already")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
