"""Users: the store interface for accounts and profiles."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence


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
