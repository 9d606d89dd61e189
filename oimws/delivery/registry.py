"""The local session registry and fan-out.

A push is encoded once and written to every target socket by the Cython fan-out loop; a
socket whose write backlog passes the configured bound is disconnected (it catches up from
the store when it reconnects) so it never slows anyone else down.

Every registration or removal that changes a user's sessions is announced to the presence
listeners (``on_presence_change``); status subscriptions of a session end with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from oimws._speedups.fanout import send_to_all
from oimws.delivery.presence import PresenceChange, PresenceListener, StatusWatchers
from oimws.protocol import events
from oimws.protocol.codec import Codec
from oimws.session import Session

log = logging.getLogger("oimws.delivery")

CLOSE_POLICY_VIOLATION = 1008


class SessionRegistry:
    def __init__(self, codec: Codec, write_buffer_limit: int) -> None:
        self._codec = codec
        self._write_buffer_limit = write_buffer_limit
        self._by_user: dict[str, list[Session]] = {}
        self._presence_listeners: list[PresenceListener] = []
        self.status_watchers = StatusWatchers()

    def add(self, session: Session) -> list[Session]:
        """Register a logged-in session; returns the older sessions it displaces.

        Multi-device policy (OpenIM's default): one session per user per platform; a new
        login on a platform kicks the older one, other platforms coexist.
        """
        before = self.platforms_of(session.user_id)
        sessions = self._by_user.setdefault(session.user_id, [])
        displaced = [s for s in sessions if s.platform_id == session.platform_id
                     and s is not session]
        for old in displaced:
            sessions.remove(old)
        if session not in sessions:
            sessions.append(session)
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
        """Push one event to every session of these users; returns the number of sockets."""
        targets = []
        for user_id in user_ids:
            for session in self._by_user.get(user_id, ()):
                if session is not exclude:
                    targets.append(session)
        if not targets:
            return 0
        self.send_to_sessions(targets, self._codec.encode_push(event, data))
        return len(targets)

    def push_to_session(self, session: Session, event: str, data: Any) -> None:
        session.send(self._codec.encode_push(event, data))

    def push_to_sessions(self, sessions: list[Session], event: str, data: Any) -> None:
        """Push one event, encoded once, to exactly these sessions."""
        if sessions:
            self.send_to_sessions(sessions, self._codec.encode_push(event, data))

    def send_to_sessions(self, sessions: list[Session], frame: bytes) -> None:
        """Write one frame to many sessions: picows sockets through the compiled loop, any
        other kind of connection (one without a picows transport) through its own send."""
        transports = []
        by_transport: dict[int, Session] = {}
        for session in sessions:
            transport = session.connection.raw_transport
            if transport is None:
                session.send(frame)
            else:
                transports.append(transport)
                by_transport[id(transport)] = session
        if not transports:
            return
        for transport in send_to_all(transports, frame, self._write_buffer_limit):
            slow = by_transport[id(transport)]
            log.warning("%r fell behind its write buffer bound; disconnecting", slow)
            slow.close(CLOSE_POLICY_VIOLATION, "slow consumer")

    def kick(self, session: Session, reason: str) -> None:
        """Tell a displaced session it was kicked (the client then closes) and close it."""
        self.remove(session)
        session.logged_in = False
        self.push_to_session(session, events.ON_KICKED_OFFLINE, None)
        session.close(CLOSE_POLICY_VIOLATION, reason)

    def all_sessions(self) -> list[Session]:
        return [s for sessions in self._by_user.values() for s in sessions]
