"""What a store raises.

``StoreError`` is any failure of the store. ``StoreUnavailableError`` and its kinds are the
ones that are not the request's fault and pass once the storage recovers: the disk is full,
the disk or the network failed, the database cannot be reached or accepts only reads. Every
store write is all or nothing, so a write that failed with one of them stored nothing of
itself, except where the failure hid the outcome (``StoreOutcomeUnknownError``). Each kind
carries ``public_message``: what a client is told (no paths, no driver details).
"""

from __future__ import annotations

from typing import ClassVar


class StoreError(Exception):
    """The store could not do what was asked (I/O failure, constraint, closed)."""

    public_message: ClassVar[str] = "storage failure; nothing was changed"


class DuplicateKeyError(StoreError):
    """A record with that key exists already; nothing was changed."""


class DuplicateClientMsgIDError(DuplicateKeyError):
    """The clientMsgID belongs to another sender's or another conversation's message."""


class StoreUnavailableError(StoreError):
    """The storage cannot take this request right now (an I/O error, a database that cannot
    be reached); nothing was changed, and the same request may succeed later."""

    public_message = ("storage unavailable (storage I/O failed or the database cannot be "
                      "reached): nothing was changed; try again later")


class StoreFullError(StoreUnavailableError):
    """The disk (or the database's) is full: nothing was changed."""

    public_message = ("storage is full (no space left to store data): nothing was "
                      "changed; try again later")


class StoreReadOnlyError(StoreUnavailableError):
    """The database accepts only reads (a standby, or set read-only): nothing was changed."""

    public_message = ("storage is read-only (the database accepts only reads): nothing was "
                      "changed; try again later")


class StoreOutcomeUnknownError(StoreUnavailableError):
    """The connection to the database was lost while it committed: the write may or may not
    be stored. A message resent with the same clientMsgID is stored once either way."""

    public_message = ("storage unavailable: the connection to the database was lost while "
                      "it committed, so the outcome is unknown; check before repeating the "
                      "request (a message resent with the same clientMsgID is stored once)")
