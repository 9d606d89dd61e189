"""Friends and blacklists: the store interface."""

from __future__ import annotations

import abc


class FriendStore(abc.ABC):  # noqa: B024 - methods arrive with the relations work
    """Friend applications, friendships and blacklists."""
