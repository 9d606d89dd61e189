"""The WebSocket side of oimws on picows + uvloop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from typing import Any

from picows import (
    WSAutoPingStrategy,
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

from oimws import metrics
from oimws._speedups.fanout import batcher_for
from oimws.config import Config
from oimws.delivery import SessionRegistry
from oimws.dispatch import Dispatcher
from oimws.protocol.errors import ErrCode
from oimws.session import RequestBudget, Session
from oimws.tokens import TokenService
from oimws.transport.upgrade import ConnectRequest, UpgradeRefused, admit

log = logging.getLogger("oimws.transport")

# A small first read buffer keeps idle connections cheap; picows grows it when needed.
READ_BUFFER_INIT_SIZE = 2048

CLOSE_GOING_AWAY = WSCloseCode.GOING_AWAY.value
CLOSE_PROTOCOL_ERROR = WSCloseCode.PROTOCOL_ERROR.value
CLOSE_MESSAGE_TOO_BIG = WSCloseCode.MESSAGE_TOO_BIG.value

# Linux only (absent elsewhere, where sockets keep the system's retransmission limits).
TCP_USER_TIMEOUT: int | None = getattr(socket, "TCP_USER_TIMEOUT", None)


class ClientConnection(WSListener):
    """One socket: reassembles messages, hands payloads to the dispatcher, writes frames."""

    def __init__(self, gateway: WebSocketGateway, connect: ConnectRequest) -> None:
        super().__init__()
        self._gateway = gateway
        self._connect = connect
        self._transport: WSTransport | None = None
        self._fragments: bytearray | None = None
        self._cut_off_timer: asyncio.TimerHandle | None = None
        self.session: Session | None = None

    # picows callbacks
    def on_ws_connected(self, transport: WSTransport) -> None:
        self._transport = transport
        config = self._gateway.config
        _limit_unacknowledged_time(transport, config.idle_timeout)
        self.session = Session(self._connect.user_id, self._connect.platform_id, self,
                               RequestBudget(config.request_rate, config.request_burst))
        self._gateway.connection_opened(self)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        msg_type = frame.msg_type
        if msg_type == WSMsgType.CLOSE:
            # The peer closes, or answers our close: reply (unless ours went out already),
            # then close the socket.
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()  # graceful: what is still queued goes first ...
            self._cut_off_after_close_timeout(transport)  # ... unless the peer stopped reading
        elif transport.is_close_frame_sent:
            # Closing: what the peer sent meanwhile is still read (see close) but not served.
            return
        elif msg_type in (WSMsgType.TEXT, WSMsgType.BINARY):
            if self._fragments is not None:
                self.close(CLOSE_PROTOCOL_ERROR, "new message before the last one ended")
            elif frame.fin:
                self._gateway.dispatch(self, frame.get_payload_as_memoryview())
            else:
                self._fragments = bytearray(frame.get_payload_as_memoryview())
        elif msg_type == WSMsgType.CONTINUATION:
            if self._fragments is None:
                self.close(CLOSE_PROTOCOL_ERROR, "continuation without a message")
                return
            self._fragments += frame.get_payload_as_memoryview()
            if len(self._fragments) > self._gateway.config.max_message_size:
                self._fragments = None
                self.close(CLOSE_MESSAGE_TOO_BIG, "message too big")
            elif frame.fin:
                payload, self._fragments = self._fragments, None
                self._gateway.dispatch(self, payload)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self._cut_off_timer is not None:
            self._cut_off_timer.cancel()
            self._cut_off_timer = None
        self._gateway.connection_closed(self)

    # Connection (what the session may do)
    def send_frame(self, frame: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_close_frame_sent or transport.is_disconnected:
            return
        # behind any frames the fan-out queued for this socket in this tick
        batcher_for(asyncio.get_running_loop()).send_now(transport, frame)
        if (transport.underlying_transport.get_write_buffer_size()
                > self._gateway.config.write_buffer_limit):
            metrics.slow_consumers_dropped()
            log.warning("%r fell behind its write buffer bound; disconnecting", self.session)
            transport.disconnect(graceful=False)

    def close(self, code: int, reason: str) -> None:
        transport = self._transport
        if transport is None or transport.is_disconnected:
            return
        if not transport.is_close_frame_sent:
            transport.send_close(WSCloseCode(code), reason.encode("utf-8"))
        # The socket stays open, and read, until the peer answers with its own close frame
        # (RFC 6455's closing handshake; on_ws_frame closes it then). Closing it now, while the
        # peer's requests may still be arriving, would have the kernel answer them with a
        # reset and drop what it had not sent yet: the last answers and the close frame.
        self._cut_off_after_close_timeout(transport)

    def _cut_off_after_close_timeout(self, transport: WSTransport) -> None:
        """Bound the close: a peer that stopped reading never answers our close frame and
        never lets a graceful close drain what is queued for it."""
        if self._cut_off_timer is None and not transport.is_disconnected:
            self._cut_off_timer = asyncio.get_running_loop().call_later(
                self._gateway.config.close_timeout, self._cut_off, transport)

    def _cut_off(self, transport: WSTransport) -> None:
        self._cut_off_timer = None
        if not transport.is_disconnected:
            log.info("%r did not complete the close within %gs; cutting it off",
                     self.session, self._gateway.config.close_timeout)
            transport.disconnect(graceful=False)

    @property
    def raw_transport(self) -> Any:
        return self._transport

    @property
    def platform_id(self) -> int:
        return self._connect.platform_id


def _limit_unacknowledged_time(transport: WSTransport, seconds: float) -> None:
    """Let the kernel drop the connection when what it sent stays unacknowledged (a peer gone,
    or a zero window: a peer that stopped reading) for ``seconds``.

    For what no timer of ours sees: a peer that never reads but keeps sending is never idle,
    so the auto-ping never probes it, and what piles up for it unchecked by
    ``write_buffer_limit`` (picows' pongs) would pile up for good. It also bounds the
    retransmissions to a peer that vanished. Tied to ``idle_timeout``: a peer that
    acknowledges nothing for that long is as gone as one that answers no ping for that long.
    """
    if TCP_USER_TIMEOUT is None:
        return
    sock = transport.underlying_transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT, int(seconds * 1000))


class WebSocketGateway:
    """Accepts sockets, authenticates upgrades, enforces limits, drives the dispatcher."""

    def __init__(
        self, config: Config, tokens: TokenService, delivery: SessionRegistry,
        dispatcher: Dispatcher, ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self._ssl_context = ssl_context  # wss:// when set
        self._tokens = tokens
        self._delivery = delivery
        self._dispatcher = dispatcher
        self._connections: set[ClientConnection] = set()
        self._server: asyncio.Server | None = None
        self._stopping = False
        self._all_closed = asyncio.Event()  # set once stopping and the last socket is gone

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def start(self) -> int:
        """Listen; returns the bound port (useful when the configured port is 0)."""
        config = self.config
        self._server = await ws_create_server(
            self._listener_for,
            config.host,
            config.ws_port,
            websocket_handshake_timeout=config.handshake_timeout,
            enable_auto_ping=True,
            auto_ping_idle_timeout=config.ping_interval,
            auto_ping_reply_timeout=config.idle_timeout - config.ping_interval,
            auto_ping_strategy=WSAutoPingStrategy.PING_WHEN_IDLE,
            enable_auto_pong=True,
            max_frame_size=config.max_message_size,
            read_buffer_init_size=READ_BUFFER_INIT_SIZE,
            use_aiofastnet=False,
            logger_name="transport",
            reuse_port=True,
            ssl=self._ssl_context,
        )
        port: int = self._server.sockets[0].getsockname()[1]
        log.info("WebSocket gateway listening on %s:%d", config.host, port)
        return port

    def _listener_for(self, request: WSUpgradeRequest) -> Any:
        try:
            if len(self._connections) >= self.config.max_connections:
                raise UpgradeRefused(503, ErrCode.CONN_OVER_MAX_NUM_LIMIT,
                                     "the gateway is at its connection limit")
            connect = admit(request.path, request.headers, self._tokens)
        except UpgradeRefused as refusal:
            metrics.UPGRADES_REFUSED.labels(code=str(refusal.code)).inc()
            log.info("upgrade refused (%d %s): %s", refusal.status, refusal.code, refusal.message)
            response = WSUpgradeResponse.create_error_response(
                refusal.status, refusal.body(), {"Content-Type": "application/json"})
            return WSUpgradeResponseWithListener(response, None)
        return ClientConnection(self, connect)

    def connection_opened(self, connection: ClientConnection) -> None:
        self._connections.add(connection)
        metrics.connection_opened(connection.platform_id)
        if self._stopping:  # accepted before the listener closed, upgraded since
            connection.close(CLOSE_GOING_AWAY, "server shutting down")

    def connection_closed(self, connection: ClientConnection) -> None:
        if connection in self._connections:
            self._connections.discard(connection)
            metrics.connection_closed(connection.platform_id)
        if connection.session is not None:
            connection.session.logged_in = False
            self._delivery.remove(connection.session)
        if self._stopping and not self._connections:
            self._all_closed.set()

    def dispatch(
        self, connection: ClientConnection, payload: bytes | bytearray | memoryview
    ) -> None:
        session = connection.session
        # Once stopping, no request is taken: none is then left half done, stored but never
        # answered. The client learns nothing of it but the 1001 that follows.
        if session is not None and not self._stopping:
            self._dispatcher.handle_payload(session, payload)

    def stop_accepting(self) -> None:
        """A graceful stop's first step: no new sockets, no new requests. The sockets stay
        open, so the requests in flight are answered once they are done (the caller waits for
        them: ``Dispatcher.drain``)."""
        self._stopping = True
        if self._server is not None:
            self._server.close()

    async def close_all(self) -> None:
        """A graceful stop's last step: close every socket with 1001 (going away) and wait
        until they are closed, so what is queued for them (answers, pushes, the close frame)
        is written before the process exits. Each is cut off after ``close_timeout``."""
        self.stop_accepting()
        for connection in list(self._connections):
            connection.close(CLOSE_GOING_AWAY, "server shutting down")
        if self._server is not None:
            await self._server.wait_closed()  # uvloop: the listener only, not the sockets
        if self._connections:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_closed.wait(), self.config.close_timeout + 1)
        log.info("WebSocket gateway stopped")
