"""Users: the store interface for accounts and profiles."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any


@dataclasses.dataclass(slots=True)
class UserRecord:
    user_id: str
    nickname: str = ""
    face_url: str = ""
    ex: str = ""
    create_time: int = 0
    global_recv_msg_opt: int = 0


class UserStore(abc.ABC):
    @abc.abstractmethod
    async def register_users(self, users: Sequence[UserRecord]) -> list[str]:
        """Store new users; returns the IDs that already existed (and were left unchanged)."""

    @abc.abstractmethod
    async def get_users(self, user_ids: Sequence[str]) -> dict[str, UserRecord]: ...

    @abc.abstractmethod
    async def update_user(self, user_id: str, changes: Mapping[str, Any]) -> UserRecord | None:
        """Set ``UserRecord`` fields (by attribute name, not ``user_id``/``create_time``);
        returns the user as stored now, or None for an unknown user (nothing changes)."""

    @abc.abstractmethod
    async def find_users(
        self, offset: int, count: int, user_id: str = "", nickname: str = ""
    ) -> tuple[int, list[UserRecord]]:
        """(how many users match, one page of them, oldest first). ``user_id`` and
        ``nickname`` filter by substring, ignoring case; empty matches everyone."""

    # forced logouts: tokens issued before a time are refused (see oimws.tokens)
    @abc.abstractmethod
    async def revoke_tokens(self, user_id: str, platform_id: int, before_ms: int) -> None:
        """Record that the user's tokens for the platform issued before ``before_ms`` are
        revoked (an earlier watermark is raised, never lowered)."""

    @abc.abstractmethod
    async def get_token_revocations(self) -> dict[tuple[str, int], int]:
        """Every (userID, platformID) watermark, to load at startup."""
