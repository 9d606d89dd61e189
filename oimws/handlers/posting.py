"""Storing a message in a conversation and telling everyone in it: the one way in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from oimws.context import AppContext
from oimws.handlers.conversation import push_conversation_updates
from oimws.protocol import events
from oimws.session import Session
from oimws.store import AppendResult, Message
from oimws.util.ids import SESSION_GROUP


def at_self_variant(message: Message) -> Message:
    """The copy of an @ message that its mentioned users receive."""
    variant = dict(message)
    variant["atTextElem"] = {**message["atTextElem"], "isAtSelf": True}
    return variant


def deliver(ctx: AppContext, message: Message, recipients: Sequence[str],
            exclude: Session | None = None, mentioned: Sequence[str] = ()) -> None:
    """Push a message to every device of the recipients: one encoded frame for all, and a
    second one (isAtSelf) for the users it mentions."""
    special = set(mentioned)
    plain = [r for r in recipients if r not in special] if special else recipients
    ctx.delivery.push(plain, events.ON_RECV_NEW_MESSAGES, [message], exclude=exclude)
    if special:
        ctx.delivery.push([r for r in recipients if r in special],
                          events.ON_RECV_NEW_MESSAGES, [at_self_variant(message)],
                          exclude=exclude)


async def post_message(
    ctx: AppContext, conversation_id: str, message: Message, recipients: Sequence[str], *,
    exclude: Session | None = None, counts_as_unread: bool = True,
    mentions: Mapping[str, int] | None = None,
) -> AppendResult:
    """Persist (durably), then push the message and the conversation changes.

    ``exclude`` is the sending session, which gets the stored message as its answer instead.
    A resend of a stored clientMsgID is answered from the store and pushed to no one. Group
    members have their conversation from the moment they join, so a group message writes no
    per-member rows.
    """
    is_group = message["sessionType"] == SESSION_GROUP
    result = await ctx.store.append_message(
        conversation_id, message, [] if is_group else recipients,
        counts_as_unread=counts_as_unread, mentions=mentions)
    if result.created:
        # the changes first: their flush then comes before the frame batcher's, so a
        # member's message and conversation changes share one socket write
        await push_conversation_updates(ctx, recipients, conversation_id,
                                        result.new_conversation_owners)
        deliver(ctx, result.message, recipients, exclude, list(mentions or ()))
    return result
