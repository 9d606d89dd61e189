"""The embedded SQLite backend: one engine (group commit), one mixin per domain."""

from oimws.store.base import Store
from oimws.store.sqlite.engine import SqliteEngine
from oimws.store.sqlite.friends import SqliteFriends
from oimws.store.sqlite.groups import SqliteGroups
from oimws.store.sqlite.messages import SqliteMessages
from oimws.store.sqlite.users import SqliteUsers


class SqliteStore(SqliteUsers, SqliteFriends, SqliteGroups, SqliteMessages, Store):
    """The store on one SQLite file (WAL mode)."""


__all__ = ["SqliteEngine", "SqliteStore"]
