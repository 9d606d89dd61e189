"""The floor for this stack: a bare picows + uvloop broadcast server, no IM logic.

It speaks just enough of the jssdk protocol for the harness's workloads: it accepts every
upgrade (no token check), answers every request (Login, SendMessage, ...) with a minimal
response envelope carrying the request's operationID, and forwards a SendMessage frame
unchanged to every other connected client (everyone is in the one "group"). Nothing is stored.

Transport settings are oimws's own (2 KiB initial read buffer, uvloop's transport, auto-ping),
so the difference to oimws is the IM work, not the socket setup. The broadcast is the plain
Python loop calling ``WSTransport.send`` per client.

    python benchmarks/peers/picows_broadcast.py --port 9001
"""

from __future__ import annotations

import argparse

import orjson
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

clients: dict[WSTransport, None] = {}  # insertion-ordered set


class BroadcastListener(WSListener):
    def on_ws_connected(self, transport: WSTransport) -> None:
        clients[transport] = None

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            payload = frame.get_payload_as_bytes()
            try:
                request = orjson.loads(payload)
                name, operation_id = request["reqFuncName"], request.get("operationID", "")
            except (orjson.JSONDecodeError, KeyError, TypeError):
                return
            transport.send(WSMsgType.TEXT, orjson.dumps({
                "event": name, "errCode": 0, "errMsg": "", "data": "",
                "operationID": operation_id}))
            if name == "SendMessage":
                for other in clients:
                    if other is not transport:
                        other.send(WSMsgType.TEXT, payload)
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        clients.pop(transport, None)


async def main(port: int) -> None:
    server = await ws_create_server(
        lambda _request: BroadcastListener(), "127.0.0.1", port, enable_auto_ping=True,
        auto_ping_idle_timeout=28, auto_ping_reply_timeout=28, read_buffer_init_size=2048,
        use_aiofastnet=False, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(main(parser.parse_args().port))
