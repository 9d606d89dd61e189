"""Storing a message in a conversation and telling everyone in it: the one way in."""

from __future__ import annotations

from collections.abc import Sequence

from oimws.context import AppContext
from oimws.handlers.conversation import push_conversation_updates
from oimws.protocol import events
from oimws.session import Session
from oimws.store import AppendResult, Message


async def post_message(
    ctx: AppContext, conversation_id: str, message: Message, participants: Sequence[str], *,
    exclude: Session | None = None, counts_as_unread: bool = True,
) -> AppendResult:
    """Persist (durably), then push the message and the conversation changes.

    ``exclude`` is the sending session, which gets the stored message as its answer instead.
    A resend of a stored clientMsgID is answered from the store and pushed to no one.
    """
    result = await ctx.store.append_message(conversation_id, message, participants,
                                            counts_as_unread=counts_as_unread)
    if result.created:
        ctx.delivery.push(participants, events.ON_RECV_NEW_MESSAGES, [result.message],
                          exclude=exclude)
        await push_conversation_updates(ctx, participants, conversation_id,
                                        result.new_conversation_owners)
    return result
