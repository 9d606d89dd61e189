"""Groups and memberships: the store interface."""

from __future__ import annotations

import abc


class GroupStore(abc.ABC):  # noqa: B024 - methods arrive with the relations work
    """Groups, members, roles, mutes and join applications."""
