"""The cluster link over Redis: shared presence and one delivery channel per node.

Presence: each node keeps a hash ``oimws:presence:<node>`` (user -> platforms) and a
heartbeat key ``oimws:alive:<node>``, both expiring unless refreshed, so a dead node's users
vanish by themselves; changes are also published on ``oimws:presence`` so every node keeps
the whole map in memory and a delivery needs no Redis round trip to find its targets.
Delivery: a frame for users on another node is published once on ``oimws:deliver:<node>``;
that node writes it to its local sessions. Kicks go on ``oimws:control:<node>``.

When Redis is away, local delivery goes on; messages are stored regardless and remote
recipients get them from history at the latest. On reconnect the node re-registers its
presence and reloads everyone else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from oimws.delivery.cluster import FrameReceiver, KickReceiver, RevocationReceiver

log = logging.getLogger("oimws.cluster")

PREFIX = "oimws"
PRESENCE_CHANNEL = f"{PREFIX}:presence"
REVOCATION_CHANNEL = f"{PREFIX}:revocations"
HEARTBEAT_SECONDS = 5.0
ALIVE_SECONDS = 15
RETRY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 3.0


async def _stop_marker() -> None:
    """Put in the outbox to end the sender after everything queued before it."""


_STOP = _stop_marker


def _alive_key(node: str) -> str:
    return f"{PREFIX}:alive:{node}"


def _presence_key(node: str) -> str:
    return f"{PREFIX}:presence:{node}"


def _deliver_channel(node: str) -> str:
    return f"{PREFIX}:deliver:{node}"


def _control_channel(node: str) -> str:
    return f"{PREFIX}:control:{node}"


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _platforms(raw: bytes | str) -> tuple[int, ...]:
    return tuple(int(p) for p in _text(raw).split(",") if p)


class RedisLink:
    """One node's link. ``start`` before serving, ``stop`` on shutdown."""

    def __init__(self, url: str, node_id: str,
                 local_presence: Callable[[], dict[str, tuple[int, ...]]]) -> None:
        self.node_id = node_id
        self._url = url
        self._local_presence = local_presence
        self._redis = aioredis.from_url(url)
        # user -> node -> platforms, for the OTHER nodes
        self._remote: dict[str, dict[str, tuple[int, ...]]] = {}
        self._outbox: asyncio.Queue[Callable[[], Awaitable[object]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._sender: asyncio.Task[None] | None = None
        self._on_frame: FrameReceiver | None = None
        self._on_kick: KickReceiver | None = None
        self._on_revocation: RevocationReceiver | None = None
        self.connected = False

    def on_frame(self, receiver: FrameReceiver) -> None:
        self._on_frame = receiver

    def on_kick(self, receiver: KickReceiver) -> None:
        self._on_kick = receiver

    def on_revocation(self, receiver: RevocationReceiver) -> None:
        self._on_revocation = receiver

    # lifecycle
    async def start(self) -> None:
        """Connect, register, and keep listening; fails if Redis cannot be reached now."""
        await self._redis.ping()
        await self._register()
        loop = asyncio.get_running_loop()
        self._sender = loop.create_task(self._send(), name="oimws-cluster-send")
        self._tasks = [loop.create_task(self._listen(), name="oimws-cluster-listen"),
                       self._sender,
                       loop.create_task(self._heartbeat(), name="oimws-cluster-heartbeat")]
        log.info("cluster link up: node %s on %s", self.node_id, _safe(self._url))

    async def stop(self) -> None:
        """Say goodbye and disconnect. Never interrupts a command half-way (a Redis
        connection cancelled mid-command cannot be reused), and never hangs shutdown."""
        # The sender drains what is queued (frames for other nodes, presence changes) before
        # it stops; the listener and the heartbeat have nothing to finish.
        sender = self._sender
        for task in self._tasks:
            if task is not sender:
                task.cancel()
        self._outbox.put_nowait(_STOP)
        if sender is not None:
            with contextlib.suppress(TimeoutError, RedisError, OSError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(sender), STOP_TIMEOUT_SECONDS)
            sender.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await task
        with contextlib.suppress(TimeoutError, RedisError, OSError):
            await asyncio.wait_for(self._goodbye(), STOP_TIMEOUT_SECONDS)
        with contextlib.suppress(TimeoutError, RedisError, OSError):
            await asyncio.wait_for(self._redis.aclose(), STOP_TIMEOUT_SECONDS)
        self.connected = False

    async def _goodbye(self) -> None:
        await self._redis.delete(_alive_key(self.node_id), _presence_key(self.node_id))
        await self._redis.publish(PRESENCE_CHANNEL, orjson.dumps(
            {"node": self.node_id, "left": True}))

    async def _register(self) -> None:
        """Write this node's presence from scratch and load everyone else's."""
        pipe = self._redis.pipeline()
        pipe.delete(_presence_key(self.node_id))
        mine = self._local_presence()
        if mine:
            pipe.hset(_presence_key(self.node_id), mapping={
                user: ",".join(map(str, platforms)) for user, platforms in mine.items()})
        pipe.expire(_presence_key(self.node_id), ALIVE_SECONDS)
        pipe.set(_alive_key(self.node_id), "1", ex=ALIVE_SECONDS)
        # Nodes that registered before this one (e.g. after a Redis restart) learn it here.
        pipe.publish(PRESENCE_CHANNEL, orjson.dumps({
            "node": self.node_id,
            "snapshot": {user: list(platforms) for user, platforms in mine.items()}}))
        await pipe.execute()
        remote: dict[str, dict[str, tuple[int, ...]]] = {}
        async for key in self._redis.scan_iter(match=f"{PREFIX}:presence:*"):
            node = _text(key).rsplit(":", 1)[1]
            if node == self.node_id or not await self._redis.exists(_alive_key(node)):
                continue
            for user, raw in (await self._redis.hgetall(key)).items():
                remote.setdefault(_text(user), {})[node] = _platforms(raw)
        self._remote = remote
        self.connected = True

    # the registry's side (synchronous: nothing here waits for Redis)
    def nodes_for(self, user_ids: Iterable[str]) -> dict[str, list[str]]:
        by_node: dict[str, list[str]] = {}
        remote = self._remote
        for user_id in user_ids:
            nodes = remote.get(user_id)
            if nodes:
                for node in nodes:
                    by_node.setdefault(node, []).append(user_id)
        return by_node

    def forward(self, by_node: dict[str, list[str]], frame: bytes) -> None:
        for node, users in by_node.items():
            self._publish(_deliver_channel(node), orjson.dumps(users) + b"\n" + frame)

    def announce(self, user_id: str, platforms: tuple[int, ...]) -> None:
        self._outbox.put_nowait(lambda: self._publish_presence(user_id, platforms))

    def kick_elsewhere(self, user_id: str, platform_id: int) -> None:
        for node, platforms in self._remote.get(user_id, {}).items():
            if platform_id in platforms:
                self._publish(_control_channel(node), orjson.dumps(
                    {"kick": user_id, "platform": platform_id}))

    def broadcast_revocation(self, user_id: str, platform_id: int, before_ms: int) -> None:
        self._publish(REVOCATION_CHANNEL, orjson.dumps({
            "node": self.node_id, "user": user_id, "platform": platform_id,
            "before": before_ms}))

    def _publish(self, channel: str, payload: bytes) -> None:
        self._outbox.put_nowait(lambda: self._redis.publish(channel, payload))

    # background work
    async def _send(self) -> None:
        """Everything outbound, in order, by one task."""
        while True:
            send = await self._outbox.get()
            if send is _STOP:
                return
            try:
                await send()
            except (RedisError, OSError) as exc:
                # The message itself is stored; a remote recipient catches up from history.
                log.warning("cluster send failed (%s); continuing", exc)

    async def _publish_presence(self, user_id: str, platforms: tuple[int, ...]) -> None:
        key = _presence_key(self.node_id)
        if platforms:
            await self._redis.hset(key, user_id, ",".join(map(str, platforms)))
        else:
            await self._redis.hdel(key, user_id)
        await self._redis.publish(PRESENCE_CHANNEL, orjson.dumps(
            {"node": self.node_id, "user": user_id, "platforms": list(platforms)}))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            # Shielded: a stop arriving mid-command must not leave the connection unusable.
            await asyncio.shield(self._beat())

    async def _beat(self) -> None:
        try:
            pipe = self._redis.pipeline()
            pipe.set(_alive_key(self.node_id), "1", ex=ALIVE_SECONDS)
            pipe.expire(_presence_key(self.node_id), ALIVE_SECONDS)
            await pipe.execute()
            await self._forget_dead_nodes()
        except (RedisError, OSError) as exc:
            log.warning("cluster heartbeat failed: %s", exc)

    async def _forget_dead_nodes(self) -> None:
        nodes = {node for nodes in self._remote.values() for node in nodes}
        for node in nodes:
            if not await self._redis.exists(_alive_key(node)):
                log.info("node %s is gone; forgetting its users", node)
                self._drop_node(node)

    def _drop_node(self, node: str) -> None:
        for user_id in list(self._remote):
            nodes = self._remote[user_id]
            nodes.pop(node, None)
            if not nodes:
                del self._remote[user_id]

    async def _listen(self) -> None:
        """Receive forwarded frames, kicks and presence changes; survive Redis restarts."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(PRESENCE_CHANNEL, REVOCATION_CHANNEL,
                                       _deliver_channel(self.node_id),
                                       _control_channel(self.node_id))
                if not self.connected:
                    await self._register()  # back after an outage: start over
                    log.info("cluster link reconnected")
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=1.0)
                    if message is not None:
                        self._dispatch(message["channel"].decode(), message["data"])
            except (RedisError, OSError) as exc:
                if self.connected:
                    log.warning("cluster link lost: %s", exc)
                self.connected = False
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    def _dispatch(self, channel: str, data: bytes) -> None:
        try:
            if channel == PRESENCE_CHANNEL:
                self._apply_presence(orjson.loads(data))
            elif channel == _deliver_channel(self.node_id):
                header, _, frame = data.partition(b"\n")
                if self._on_frame is not None:
                    self._on_frame(orjson.loads(header), frame)
            elif channel == REVOCATION_CHANNEL:
                order = orjson.loads(data)
                if order["node"] != self.node_id and self._on_revocation is not None:
                    self._on_revocation(order["user"], int(order["platform"]),
                                        int(order["before"]))
            elif channel == _control_channel(self.node_id):
                order = orjson.loads(data)
                if self._on_kick is not None:
                    self._on_kick(order["kick"], int(order["platform"]))
        except Exception:
            log.exception("bad cluster message on %s", channel)

    def _apply_presence(self, change: dict[str, object]) -> None:
        node = str(change["node"])
        if node == self.node_id:
            return
        if change.get("left"):
            self._drop_node(node)
            return
        snapshot = change.get("snapshot")
        if isinstance(snapshot, dict):
            self._drop_node(node)
            for user_id, platforms in snapshot.items():
                self._remote.setdefault(user_id, {})[node] = tuple(int(p) for p in platforms)
            return
        user_id = str(change["user"])
        listed = change["platforms"]
        platforms = tuple(int(p) for p in listed) if isinstance(listed, list) else ()
        nodes = self._remote.setdefault(user_id, {})
        if platforms:
            nodes[node] = platforms
        else:
            nodes.pop(node, None)
            if not nodes:
                del self._remote[user_id]


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
