"""Domain rules, one module per domain. Importing this package registers every function."""

from oimws.context import AppContext
from oimws.handlers import (
    auth,
    conversation,
    friend,
    group,
    group_query,
    history,
    message,
    message_create,
    read_state,
    user,
)

__all__ = [
    "auth",
    "conversation",
    "friend",
    "group",
    "group_query",
    "history",
    "install",
    "message",
    "message_create",
    "read_state",
    "user",
]


def install(ctx: AppContext) -> None:
    """Connect the handlers' background duties to one running context (once per context:
    the Dispatcher calls this)."""
    conversation.install(ctx)
    user.watch_presence(ctx)
