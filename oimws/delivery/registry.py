"""The local session registry and fan-out.

A push is encoded once and written to every target socket by the Cython fan-out loop; a
socket whose write backlog passes the configured bound is disconnected (it catches up from
the store when it reconnects) so it never slows anyone else down.

Every registration or removal that changes a user's sessions is announced to the presence
listeners (``on_presence_change``); status subscriptions of a session end with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from picows import WSCloseCode

from oimws import metrics
from oimws._speedups.fanout import FrameBatcher, batcher_for
from oimws.delivery.cluster import ClusterLink
from oimws.delivery.presence import PresenceChange, PresenceListener, StatusWatchers
from oimws.protocol import events
from oimws.protocol.codec import Codec
from oimws.session import Session

log = logging.getLogger("oimws.delivery")

CLOSE_POLICY_VIOLATION = 1008


def current_batcher() -> FrameBatcher:
    """The running loop's write batcher (one per loop: the transport writes through it too,
    which keeps every socket's frames in order); without a loop, one that writes at once."""
    try:
        return batcher_for(asyncio.get_running_loop())
    except RuntimeError:
        return FrameBatcher()


def _drop_slow_consumer(transport: Any) -> None:
    metrics.slow_consumers_dropped()
    log.warning("socket %s fell behind its write buffer bound; disconnecting",
                transport.underlying_transport.get_extra_info("peername"))
    transport.send_close(WSCloseCode.POLICY_VIOLATION, b"slow consumer")
    # Not graceful: a graceful close waits for the backlog to drain, which a peer that
    # stopped reading never lets happen (the socket, its backlog and its session would stay).
    transport.disconnect(graceful=False)


class SessionRegistry:
    def __init__(self, codec: Codec, write_buffer_limit: int) -> None:
        self._codec = codec
        self._write_buffer_limit = write_buffer_limit
        self._by_user: dict[str, list[Session]] = {}
        self._presence_listeners: list[PresenceListener] = []
        self.status_watchers = StatusWatchers()
        self._cluster: ClusterLink | None = None
        self._revocation_listeners: list[Callable[[str, int, int], None]] = []

    def join_cluster(self, link: ClusterLink) -> None:
        """Deliver to users on other nodes through ``link`` too, and take their deliveries
        and kicks for users here."""
        self._cluster = link
        link.on_frame(self.deliver_local)
        link.on_kick(self._kick_for_other_node)
        link.on_revocation(self._revoked_on_other_node)

    def on_remote_revocation(self, listener: Callable[[str, int, int], None]) -> None:
        """Call ``listener(user, platform, before_ms)`` for forced logouts made on other
        nodes (the token service must refuse those tokens here too)."""
        self._revocation_listeners.append(listener)

    def revoke_everywhere(self, user_id: str, platform_id: int, before_ms: int) -> None:
        """A forced logout made here: the other nodes revoke and kick as well."""
        if self._cluster is not None:
            self._cluster.broadcast_revocation(user_id, platform_id, before_ms)

    def _revoked_on_other_node(self, user_id: str, platform_id: int, before_ms: int) -> None:
        for listener in self._revocation_listeners:
            listener(user_id, platform_id, before_ms)
        self._kick_for_other_node(user_id, platform_id)

    def presence_snapshot(self) -> dict[str, tuple[int, ...]]:
        """Every local user's platforms (what this node registers in the cluster)."""
        return {user_id: self.platforms_of(user_id) for user_id in self._by_user}

    def add(self, session: Session) -> list[Session]:
        """Register a logged-in session; returns the older sessions it displaces.

        Multi-device policy (OpenIM's default): one session per user per platform; a new
        login on a platform kicks the older one, other platforms coexist.
        """
        metrics.logged_in(session.platform_id)
        before = self.platforms_of(session.user_id)
        sessions = self._by_user.setdefault(session.user_id, [])
        displaced = [s for s in sessions if s.platform_id == session.platform_id
                     and s is not session]
        for old in displaced:
            sessions.remove(old)
        if session not in sessions:
            sessions.append(session)
        if self._cluster is not None:
            self._cluster.kick_elsewhere(session.user_id, session.platform_id)
        self._announce(session.user_id, before, displaced)
        return displaced

    def remove(self, session: Session) -> None:
        sessions = self._by_user.get(session.user_id)
        if sessions and session in sessions:
            before = self.platforms_of(session.user_id)
            sessions.remove(session)
            if not sessions:
                del self._by_user[session.user_id]
            self._announce(session.user_id, before, [session])

    def on_presence_change(self, listener: PresenceListener) -> None:
        """Call ``listener`` after every registration or removal that changed something."""
        self._presence_listeners.append(listener)

    def platforms_of(self, user_id: str) -> tuple[int, ...]:
        """The platforms the user is online on, ascending."""
        return tuple(sorted({s.platform_id for s in self._by_user.get(user_id, ())}))

    def _announce(self, user_id: str, before: tuple[int, ...], gone: list[Session]) -> None:
        for session in gone:
            self.status_watchers.forget(session)
        change = PresenceChange(user_id, before, self.platforms_of(user_id), tuple(gone))
        if not (change.platforms_changed or change.gone):
            return
        if change.platforms_changed and self._cluster is not None:
            self._cluster.announce(user_id, change.platforms_after)
        for listener in self._presence_listeners:
            try:
                listener(change)
            except Exception:
                # A failing listener must not undo a login or leave a closed session behind.
                log.exception("presence listener %r failed for %s", listener, user_id)

    def sessions_of(self, user_id: str) -> list[Session]:
        return list(self._by_user.get(user_id, ()))

    def is_online(self, user_id: str) -> bool:
        return user_id in self._by_user

    @property
    def online_user_count(self) -> int:
        return len(self._by_user)

    def push(
        self, user_ids: Iterable[str], event: str, data: Any, exclude: Session | None = None
    ) -> int:
        """Push one event to every session of these users, here and (encoded once, one
        frame per node) on other nodes; returns the number of local sockets."""
        if self._cluster is not None:
            user_ids = list(user_ids)
        targets = []
        for user_id in user_ids:
            for session in self._by_user.get(user_id, ()):
                if session is not exclude:
                    targets.append(session)
        remote = self._cluster.nodes_for(user_ids) if self._cluster is not None else None
        if not targets and not remote:
            return 0
        frame = self._codec.encode_push(event, data)
        if targets:
            self.send_to_sessions(targets, frame)
        if remote:
            assert self._cluster is not None
            self._cluster.forward(remote, frame)
        return len(targets)

    def deliver_local(self, user_ids: list[str], frame: bytes) -> None:
        """Write an encoded frame to this node's sessions of these users."""
        targets = [s for user_id in user_ids for s in self._by_user.get(user_id, ())]
        if targets:
            self.send_to_sessions(targets, frame)

    def _kick_for_other_node(self, user_id: str, platform_id: int) -> None:
        for session in self.sessions_of(user_id):
            if session.platform_id == platform_id:
                self.kick(session, "logged in on another node")

    def push_to_session(self, session: Session, event: str, data: Any) -> None:
        metrics.pushed(1)
        session.send(self._codec.encode_push(event, data))

    def push_to_sessions(self, sessions: list[Session], event: str, data: Any) -> None:
        """Push one event, encoded once, to exactly these sessions."""
        if sessions:
            self.send_to_sessions(sessions, self._codec.encode_push(event, data))

    def send_to_sessions(self, sessions: list[Session], frame: bytes) -> None:
        """Write one frame to many sessions: picows sockets through the compiled per-tick
        batcher (every frame a socket gets in one loop tick leaves in one write), any other
        kind of connection (one without a picows transport) through its own send."""
        metrics.pushed(len(sessions))
        transports = []
        for session in sessions:
            transport = session.connection.raw_transport
            if transport is None:
                session.send(frame)
            else:
                transports.append(transport)
        if transports:
            current_batcher().queue_all(transports, frame, self._write_buffer_limit,
                                        _drop_slow_consumer)

    def kick(self, session: Session, reason: str) -> None:
        """Tell a displaced session it was kicked (the client then closes) and close it."""
        self.remove(session)
        session.logged_in = False
        self.push_to_session(session, events.ON_KICKED_OFFLINE, None)
        session.close(CLOSE_POLICY_VIOLATION, reason)

    def all_sessions(self) -> list[Session]:
        return [s for sessions in self._by_user.values() for s in sessions]
