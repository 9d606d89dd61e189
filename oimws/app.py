"""Assembling and running one oimws node: store, delivery, dispatcher, gateway, admin API."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import ssl

from oimws import metrics
from oimws.admin import AdminServer
from oimws.admin.ops import NodeStatus
from oimws.config import Config, ConfigError
from oimws.context import AppContext
from oimws.delivery import SessionRegistry
from oimws.delivery.redis_link import RedisLink
from oimws.dispatch import Dispatcher
from oimws.objects import LocalDiskObjectStore
from oimws.protocol.codec import JsonEnvelopeCodec
from oimws.store import Store
from oimws.store.sqlite import SqliteStore
from oimws.tokens import TokenService
from oimws.transport import WebSocketGateway
from oimws.util.collector import tune_for_serving

log = logging.getLogger("oimws")


def build_store(config: Config) -> Store:
    """PostgreSQL when a DSN is configured (the cluster), the embedded SQLite otherwise."""
    if config.postgres_dsn:
        from oimws.store.postgres import PostgresStore

        return PostgresStore(config.postgres_dsn)
    # Nodes of a cluster (workers of one host share the file) do not see each other's writes.
    alone = config.workers == 1 and not config.redis_url
    cached_users = config.conversation_cache_users if alone else 0
    return SqliteStore(config.sqlite_path, config.sqlite_synchronous, cached_users)


def server_ssl_context(config: Config) -> ssl.SSLContext | None:
    """The TLS context both ports serve with (wss:// and https://), or None without TLS."""
    if not config.uses_tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use TLS certificate {config.tls_cert!r} with key "
                          f"{config.tls_key!r}: {exc}") from None
    return context


def node_name(config: Config) -> str:
    return config.node_id or f"{socket.gethostname()}-{os.getpid()}"


class Node:
    """One running oimws process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        codec = JsonEnvelopeCodec()
        self.store = build_store(config)
        metrics.count_stored_messages(self.store)
        if isinstance(self.store, SqliteStore):
            self.store.commit_observer = metrics.STORE_COMMIT_SECONDS.observe
            if self.store.view_cache is not None:
                metrics.watch_view_cache(self.store.view_cache)
        ssl_context = server_ssl_context(config)
        self.ctx = AppContext(
            config=config,
            store=self.store,
            delivery=SessionRegistry(codec, config.write_buffer_limit),
            tokens=TokenService(config.secret, config.token_expire_seconds),
            codec=codec,
        )
        self.dispatcher = Dispatcher(self.ctx)
        self.gateway = WebSocketGateway(config, self.ctx.tokens, self.ctx.delivery,
                                        self.dispatcher, ssl_context)
        self.admin = AdminServer(
            self.ctx, NodeStatus(lambda: self.gateway.connection_count,
                                 bus_connected=self._bus if config.redis_url else None),
            LocalDiskObjectStore(config.objects_dir), ssl_context)
        self._loop_lag_watch: asyncio.Task[None] | None = None
        self.cluster: RedisLink | None = None
        if config.redis_url:
            self.cluster = RedisLink(config.redis_url, node_name(config),
                                     self.ctx.delivery.presence_snapshot)
            self.ctx.delivery.join_cluster(self.cluster)
            self.ctx.delivery.on_remote_revocation(self.ctx.tokens.revoke)
        self.ws_port = 0
        self.api_port = 0

    def _bus(self) -> bool:
        return self.cluster is not None and self.cluster.connected

    async def start(self) -> None:
        await self.store.open()
        self.ctx.tokens.load_revocations(await self.store.get_token_revocations())
        self._loop_lag_watch = asyncio.get_running_loop().create_task(
            metrics.watch_event_loop_lag())
        if self.cluster is not None:
            await self.cluster.start()
        self.ws_port = await self.gateway.start()
        self.api_port = await self.admin.start()

    async def stop(self) -> None:
        """Graceful: stop taking sockets and requests, finish the requests in flight and answer
        them, close sockets with 1001, flush the store."""
        if self._loop_lag_watch is not None:
            self._loop_lag_watch.cancel()
        self.gateway.stop_accepting()
        # Before the sockets close, so that what was stored is also acknowledged: a client
        # left without the answer would have to resend to learn the outcome.
        await self.dispatcher.drain()
        await self.gateway.close_all()
        if self.cluster is not None:
            await self.cluster.stop()
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
    tune_for_serving()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    secure = "s" if config.uses_tls else ""
    log.info("oimws ready: ws%s://%s:%d  admin http%s://%s:%d  data %s", secure, config.host,
             node.ws_port, secure, config.host, node.api_port, config.data_dir)
    await stop.wait()
    log.info("shutting down")
    await node.stop()
    log.info("bye")
