"""Friends and blacklists: the store interface and its records.

A friendship is one row per direction (``owner`` has ``friend`` in their list): accepting an
application adds both rows, deleting a friend removes only the deleter's row (OpenIM's rule).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence

REQUEST_UNHANDLED = 0
REQUEST_ACCEPTED = 1
REQUEST_REFUSED = -1

ADD_SOURCE_APPLICATION = 2  # OpenIM's BecomeFriendByApply


@dataclasses.dataclass(slots=True)
class FriendRecord:
    """``owner_user_id`` has ``friend_user_id`` in their friend list."""

    owner_user_id: str
    friend_user_id: str
    remark: str = ""
    create_time: int = 0
    add_source: int = ADD_SOURCE_APPLICATION
    operator_user_id: str = ""
    ex: str = ""
    is_pinned: bool = False


@dataclasses.dataclass(slots=True)
class FriendRequestRecord:
    """An application from ``from_user_id`` to ``to_user_id`` (one per pair and direction)."""

    from_user_id: str
    to_user_id: str
    req_msg: str = ""
    create_time: int = 0
    handle_result: int = REQUEST_UNHANDLED
    handle_msg: str = ""
    handler_user_id: str = ""
    handle_time: int = 0
    ex: str = ""


@dataclasses.dataclass(slots=True)
class BlackRecord:
    """``owner_user_id`` has blocked ``block_user_id``."""

    owner_user_id: str
    block_user_id: str
    create_time: int = 0
    add_source: int = 0
    operator_user_id: str = ""
    ex: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class AcceptResult:
    request: FriendRequestRecord  # as stored after accepting
    new_friends: tuple[FriendRecord, ...]  # the friendship rows this accept created


class FriendStore(abc.ABC):
    """Friend applications, friendships and blacklists. Every write is atomic."""

    # applications
    @abc.abstractmethod
    async def save_friend_request(self, request: FriendRequestRecord) -> FriendRequestRecord:
        """Create the pair's application, or renew it (back to unhandled, new message)."""

    @abc.abstractmethod
    async def get_friend_request(
        self, from_user_id: str, to_user_id: str
    ) -> FriendRequestRecord | None: ...

    @abc.abstractmethod
    async def get_friend_requests_to(self, user_id: str) -> list[FriendRequestRecord]:
        """Applications the user received, newest first."""

    @abc.abstractmethod
    async def get_friend_requests_from(self, user_id: str) -> list[FriendRequestRecord]:
        """Applications the user sent, newest first."""

    @abc.abstractmethod
    async def accept_friend_request(
        self, from_user_id: str, to_user_id: str, handle_msg: str, handle_time: int
    ) -> AcceptResult | None:
        """Accept an unhandled application: both directions become friends, and an unhandled
        application the other way is accepted too. None (and no change) if it was not
        unhandled."""

    @abc.abstractmethod
    async def refuse_friend_request(
        self, from_user_id: str, to_user_id: str, handle_msg: str, handle_time: int
    ) -> FriendRequestRecord | None:
        """Refuse an unhandled application; None (and no change) if it was not unhandled."""

    # friends
    @abc.abstractmethod
    async def get_friends(
        self, owner_user_id: str, friend_user_ids: Sequence[str] | None = None
    ) -> list[FriendRecord]:
        """The owner's friends (all, or those of the given IDs), pinned first, then oldest."""

    @abc.abstractmethod
    async def get_friend_page(
        self, owner_user_id: str, offset: int, count: int
    ) -> list[FriendRecord]:
        """A page of ``get_friends``, in the same order."""

    @abc.abstractmethod
    async def get_friend_entries_of(self, friend_user_id: str) -> list[FriendRecord]:
        """Every friend-list entry that holds this user (one per owner who lists them)."""

    @abc.abstractmethod
    async def update_friends(
        self, owner_user_id: str, friend_user_ids: Sequence[str], *,
        remark: str | None = None, is_pinned: bool | None = None, ex: str | None = None,
    ) -> list[FriendRecord] | None:
        """Set the given fields (None: unchanged) on these friends of the owner; returns the
        updated records, or None (and no change) unless every ID is a friend."""

    @abc.abstractmethod
    async def delete_friend(self, owner_user_id: str, friend_user_id: str) -> FriendRecord | None:
        """Remove the friend from the owner's list (only that direction); returns the removed
        record, or None if there was none."""

    # blacklists
    @abc.abstractmethod
    async def add_black(self, black: BlackRecord) -> bool:
        """Block a user; False (and no change) if they were blocked already."""

    @abc.abstractmethod
    async def remove_black(self, owner_user_id: str, block_user_id: str) -> BlackRecord | None:
        """Unblock; returns the removed record, or None if the user was not blocked."""

    @abc.abstractmethod
    async def get_blacks(
        self, owner_user_id: str, block_user_ids: Sequence[str] | None = None
    ) -> list[BlackRecord]:
        """The owner's blacklist (all, or the entries for the given IDs), oldest first."""
