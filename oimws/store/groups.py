"""Groups and memberships: the store interface and its records."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

ROLE_MEMBER = 20
ROLE_ADMIN = 60
ROLE_OWNER = 100

GROUP_STATUS_NORMAL = 0
GROUP_STATUS_DISMISSED = 2
GROUP_STATUS_MUTED = 3

APPLICATION_UNHANDLED = 0
APPLICATION_ACCEPTED = 1
APPLICATION_REFUSED = -1


@dataclasses.dataclass(slots=True)
class GroupRecord:
    group_id: str
    group_name: str = ""
    notification: str = ""
    notification_user_id: str = ""
    notification_update_time: int = 0
    introduction: str = ""
    face_url: str = ""
    owner_user_id: str = ""
    create_time: int = 0
    status: int = GROUP_STATUS_NORMAL
    creator_user_id: str = ""
    group_type: int = 2
    need_verification: int = 0
    ex: str = ""
    apply_member_friend: int = 0
    look_member_info: int = 0
    member_count: int = 0  # derived on read


@dataclasses.dataclass(slots=True)
class MemberRecord:
    group_id: str
    user_id: str
    nickname: str = ""
    face_url: str = ""
    role_level: int = ROLE_MEMBER
    mute_end_time: int = 0
    join_time: int = 0
    join_source: int = 0
    inviter_user_id: str = ""
    operator_user_id: str = ""
    ex: str = ""


@dataclasses.dataclass(slots=True)
class GroupApplicationRecord:
    group_id: str
    user_id: str
    req_msg: str = ""
    req_time: int = 0
    join_source: int = 0
    inviter_user_id: str = ""
    handle_result: int = APPLICATION_UNHANDLED
    handled_msg: str = ""
    handle_user_id: str = ""
    handled_time: int = 0
    ex: str = ""


class GroupStore(abc.ABC):
    """Groups, members, roles, mutes and join applications. Every write is atomic."""

    @abc.abstractmethod
    async def create_group(self, group: GroupRecord, members: Sequence[MemberRecord]) -> None:
        """Store a new group with its first members; ``StoreError`` if the ID is taken."""

    @abc.abstractmethod
    async def get_groups(self, group_ids: Sequence[str]) -> dict[str, GroupRecord]: ...

    @abc.abstractmethod
    async def update_group(self, group_id: str, changes: Mapping[str, Any]) -> None:
        """Set ``GroupRecord`` fields (by attribute name) on one group."""

    @abc.abstractmethod
    async def get_joined_groups(self, user_id: str) -> list[GroupRecord]:
        """Groups the user is a member of, dismissed ones excluded."""

    @abc.abstractmethod
    async def get_members(
        self, group_id: str, user_ids: Sequence[str] | None = None
    ) -> list[MemberRecord]:
        """Members by role (owner, admins, members), then join time; all or the given ones."""

    @abc.abstractmethod
    async def get_member_ids(self, group_id: str) -> list[str]:
        """Just the member IDs: what fan-out needs, as one indexed lookup."""

    @abc.abstractmethod
    async def add_members(self, members: Sequence[MemberRecord]) -> list[str]:
        """Add members (skipping present ones); returns the IDs actually added."""

    @abc.abstractmethod
    async def remove_members(self, group_id: str, user_ids: Sequence[str]) -> list[str]:
        """Remove members; returns the IDs actually removed."""

    @abc.abstractmethod
    async def update_member(
        self, group_id: str, user_id: str, changes: Mapping[str, Any]
    ) -> None:
        """Set ``MemberRecord`` fields (by attribute name) on one member."""

    @abc.abstractmethod
    async def transfer_owner(self, group_id: str, old_owner: str, new_owner: str) -> None:
        """The new owner gets role 100, the old one becomes a plain member: one transaction."""

    @abc.abstractmethod
    async def save_application(self, application: GroupApplicationRecord) -> None:
        """Create or renew (back to unhandled) a user's application to a group."""

    @abc.abstractmethod
    async def get_application(
        self, group_id: str, user_id: str
    ) -> GroupApplicationRecord | None: ...

    @abc.abstractmethod
    async def handle_application(
        self, group_id: str, user_id: str, result: int, handler_id: str, message: str,
        member: MemberRecord | None,
    ) -> bool:
        """Settle an unhandled application (adding ``member`` when given) atomically.

        Returns False when the application was not unhandled any more (someone else was
        first), in which case nothing changes."""

    @abc.abstractmethod
    async def get_applications_to(self, group_ids: Sequence[str]) -> list[GroupApplicationRecord]:
        """Applications to these groups, newest first."""

    @abc.abstractmethod
    async def get_applications_of(self, user_id: str) -> list[GroupApplicationRecord]:
        """A user's own applications, newest first."""
