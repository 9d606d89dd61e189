"""Domain rules, one module per domain. Importing this package registers every function."""

from oimws.handlers import auth, conversation, group, group_query, message, user

__all__ = ["auth", "conversation", "group", "group_query", "message", "user"]
