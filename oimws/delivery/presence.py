"""Presence: what a session coming or going changed, and who watches whose online status.

The registry announces every change to the listeners handlers register (delivery never
imports handlers); status subscriptions belong to a session and end with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from oimws.session import Session


@dataclasses.dataclass(frozen=True, slots=True)
class PresenceChange:
    """One user's sessions changed: a login, a logout, a closed or displaced socket."""

    user_id: str
    platforms_before: tuple[int, ...]  # platform IDs online before, ascending
    platforms_after: tuple[int, ...]
    gone: tuple[Session, ...]  # sessions no longer registered

    @property
    def platforms_changed(self) -> bool:
        return self.platforms_before != self.platforms_after


PresenceListener = Callable[[PresenceChange], None]


class StatusWatchers:
    """Which sessions watch which users' online status."""

    def __init__(self) -> None:
        self._watchers: dict[str, dict[Session, None]] = {}  # user -> sessions, in order
        self._watched: dict[Session, dict[str, None]] = {}  # session -> users, in order

    def watch(self, session: Session, user_ids: Iterable[str]) -> None:
        watched = self._watched.setdefault(session, {})
        for user_id in user_ids:
            watched[user_id] = None
            self._watchers.setdefault(user_id, {})[session] = None

    def unwatch(self, session: Session, user_ids: Iterable[str]) -> None:
        watched = self._watched.get(session)
        if watched is None:
            return
        for user_id in user_ids:
            if user_id in watched:
                del watched[user_id]
                self._drop_watcher(user_id, session)
        if not watched:
            del self._watched[session]

    def forget(self, session: Session) -> None:
        """Drop every subscription of a session that is gone."""
        for user_id in self._watched.pop(session, ()):
            self._drop_watcher(user_id, session)

    def watched_by(self, session: Session) -> list[str]:
        return list(self._watched.get(session, ()))

    def watchers_of(self, user_id: str) -> list[Session]:
        return list(self._watchers.get(user_id, ()))

    def _drop_watcher(self, user_id: str, session: Session) -> None:
        sessions = self._watchers.get(user_id)
        if sessions is not None:
            sessions.pop(session, None)
            if not sessions:
                del self._watchers[user_id]
