"""The cluster backend: PostgreSQL shared by every node. One engine (a connection pool, one
transaction per write), one mixin per domain."""

from oimws.store.base import Store
from oimws.store.postgres.engine import PostgresEngine
from oimws.store.postgres.friends import PostgresFriends
from oimws.store.postgres.groups import PostgresGroups
from oimws.store.postgres.messages import PostgresMessages
from oimws.store.postgres.users import PostgresUsers


class PostgresStore(PostgresUsers, PostgresFriends, PostgresGroups, PostgresMessages, Store):
    """The store in a PostgreSQL database, given by a DSN (``postgresql://user@host/db``)."""


__all__ = ["PostgresEngine", "PostgresStore"]
