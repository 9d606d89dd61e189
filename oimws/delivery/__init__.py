"""Who is online where, and getting one encoded frame to all of their sockets."""

from oimws.delivery.registry import SessionRegistry

__all__ = ["SessionRegistry"]
