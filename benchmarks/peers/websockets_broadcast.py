"""The websockets peer: a broadcast server on ``websockets`` (asyncio implementation, run on
uvloop) using its recommended ``broadcast()`` API.

Same protocol subset as ``picows_broadcast.py``: every upgrade accepted, every request
answered with a minimal envelope carrying its operationID, a SendMessage frame forwarded
unchanged to every other connected client. websockets' own defaults otherwise (compression is
off because the harness's clients do not offer it).

    python benchmarks/peers/websockets_broadcast.py --port 9002
"""

from __future__ import annotations

import argparse

import orjson
import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

clients: set[ServerConnection] = set()


async def handler(websocket: ServerConnection) -> None:
    clients.add(websocket)
    try:
        async for message in websocket:
            try:
                request = orjson.loads(message)
                name, operation_id = request["reqFuncName"], request.get("operationID", "")
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue
            await websocket.send(orjson.dumps({
                "event": name, "errCode": 0, "errMsg": "", "data": "",
                "operationID": operation_id}).decode())
            if name == "SendMessage":
                broadcast(clients - {websocket}, message)
    finally:
        clients.discard(websocket)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=4096) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(main(parser.parse_args().port))
