"""The embedded SQLite backend: one engine (group commit), one mixin per domain."""

from pathlib import Path

from oimws.store.base import Store
from oimws.store.sqlite.engine import SqliteEngine
from oimws.store.sqlite.friends import SqliteFriends
from oimws.store.sqlite.groups import SqliteGroups
from oimws.store.sqlite.messages import SqliteMessages
from oimws.store.sqlite.users import SqliteUsers
from oimws.store.view_cache import ConversationViewCache

DEFAULT_VIEW_CACHE_USERS = 20_000


class SqliteStore(SqliteUsers, SqliteFriends, SqliteGroups, SqliteMessages, Store):
    """The store on one SQLite file (WAL mode). ``view_cache_users``: how many users'
    conversation views to keep in memory (``ConversationViewCache``); only for a store that
    is the file's only writer."""

    def __init__(self, path: Path, synchronous: str = "FULL",
                 view_cache_users: int = DEFAULT_VIEW_CACHE_USERS) -> None:
        super().__init__(path, synchronous)
        if view_cache_users > 0:
            self.view_cache = ConversationViewCache(view_cache_users)

    async def open(self) -> None:
        if self.view_cache is not None:  # the file may have been written while closed
            self.view_cache.clear()
        await super().open()


__all__ = ["SqliteEngine", "SqliteStore"]
