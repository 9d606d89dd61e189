"""The compiled fan-out and per-tick batcher, on real picows sockets."""

import asyncio
import socket

import pytest
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect, ws_create_server

from oimws._speedups.fanout import FrameBatcher, send_to_all, text_frames

BIG = b"B" * 100_000  # over picows' 8 KiB: the size its own send mishandled under backlog
MIDDLE = b"M" * 9_000
SMALL = b"s" * 100


def test_nothing_to_send_to():
    assert send_to_all([], b"frame", 1024) == []


def test_a_wrong_object_raises_instead_of_corrupting_memory():
    with pytest.raises(TypeError):
        send_to_all([object()], b"frame", 1024)


def test_frames_have_the_rfc_6455_header_for_each_length_class():
    framed = text_frames([SMALL, MIDDLE, BIG])
    assert framed[:2] == bytes((0x81, 100)) and framed[2:102] == SMALL
    middle = framed[102:]
    assert middle[:4] == bytes((0x81, 126)) + (9_000).to_bytes(2, "big")
    big = middle[4 + 9_000:]
    assert big[:10] == bytes((0x81, 127)) + (100_000).to_bytes(8, "big")
    assert big[10:] == BIG


class _Recorder(WSListener):
    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.closed = asyncio.get_running_loop().create_future()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            self.payloads.append(frame.get_payload_as_bytes())

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def test_big_frames_arrive_intact_while_the_socket_has_a_backlog():
    """Alternating big and small frames, far more than the socket takes at once (so the
    transport holds a backlog), on uvloop as in the server: every path of the fan-out
    delivers every frame, in order, byte for byte. With picows' own send, frames over 8 KiB
    went out with garbled headers."""
    uvloop.run(_big_frames_under_backlog())


async def _big_frames_under_backlog() -> None:
    server_sides: list[WSTransport] = []

    class ServerSide(WSListener):
        def on_ws_connected(self, transport: WSTransport) -> None:
            server_sides.append(transport)

    server = await ws_create_server(lambda _request: ServerSide(), "127.0.0.1", 0,
                                    use_aiofastnet=False)
    port = server.sockets[0].getsockname()[1]
    recorder = _Recorder()
    client, _ = await ws_connect(lambda: recorder, f"ws://127.0.0.1:{port}/",
                                 max_frame_size=1 << 20)
    try:
        while not server_sides:
            await asyncio.sleep(0.01)
        [target] = server_sides
        sock = target.underlying_transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        batcher = FrameBatcher()
        expected: list[bytes] = []
        for round_ in range(30):
            for payload in (BIG, SMALL, MIDDLE):
                if round_ % 3 == 0:
                    assert send_to_all([target], payload, 1 << 30) == []
                elif round_ % 3 == 1:
                    batcher.queue_all([target], payload, 1 << 30, None)
                else:
                    batcher.send_now(target, payload)
                expected.append(payload)
            if round_ % 3 == 1:
                batcher.flush()
        assert target.underlying_transport.get_write_buffer_size() > 0  # a backlog was held
        async with asyncio.timeout(30):
            while len(recorder.payloads) < len(expected) and not recorder.closed.done():
                await asyncio.sleep(0.01)
        assert not recorder.closed.done(), "the client closed: it read a malformed frame"
        assert recorder.payloads == expected
    finally:
        client.disconnect()
        server.close()
