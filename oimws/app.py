"""Assembling and running one oimws node: store, delivery, dispatcher, gateway, admin API."""

from __future__ import annotations

import asyncio
import logging
import signal

from oimws.admin import AdminServer
from oimws.config import Config
from oimws.context import AppContext
from oimws.delivery import SessionRegistry
from oimws.dispatch import Dispatcher
from oimws.handlers.user import watch_presence
from oimws.protocol.codec import JsonEnvelopeCodec
from oimws.store.sqlite import SqliteStore
from oimws.tokens import TokenService
from oimws.transport import WebSocketGateway

log = logging.getLogger("oimws")


class Node:
    """One running oimws process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        codec = JsonEnvelopeCodec()
        self.store = SqliteStore(config.sqlite_path, config.sqlite_synchronous)
        self.ctx = AppContext(
            config=config,
            store=self.store,
            delivery=SessionRegistry(codec, config.write_buffer_limit),
            tokens=TokenService(config.secret, config.token_expire_seconds),
            codec=codec,
        )
        self.dispatcher = Dispatcher(self.ctx)
        watch_presence(self.ctx)
        self.gateway = WebSocketGateway(config, self.ctx.tokens, self.ctx.delivery,
                                        self.dispatcher)
        self.admin = AdminServer(self.ctx, lambda: self.gateway.connection_count)
        self.ws_port = 0
        self.api_port = 0

    async def start(self) -> None:
        await self.store.open()
        self.ws_port = await self.gateway.start()
        self.api_port = await self.admin.start()

    async def stop(self) -> None:
        """Graceful: stop accepting, close sockets with 1001, finish requests, flush the store."""
        await self.gateway.shutdown()
        await self.dispatcher.drain()
        await self.admin.stop()
        await self.store.close()


def warn_about_default_secret(config: Config) -> None:
    if config.uses_default_secret() and config.listens_beyond_loopback():
        banner = "!" * 72
        log.warning(
            "\n%s\n  oimws is listening on %s with the DEFAULT secret 'openIM123'.\n"
            "  Anyone can mint tokens for any user. Set --secret / OIMWS_SECRET.\n%s",
            banner, config.host or "all interfaces", banner)


async def serve(config: Config) -> None:
    """Run a node until SIGTERM or SIGINT, then shut down gracefully."""
    warn_about_default_secret(config)
    node = Node(config)
    await node.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("oimws ready: ws://%s:%d  admin http://%s:%d  data %s", config.host,
             node.ws_port, config.host, node.api_port, config.data_dir)
    await stop.wait()
    log.info("shutting down")
    await node.stop()
    log.info("bye")
