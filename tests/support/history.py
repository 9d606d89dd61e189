"""Reading a conversation's whole history back the way a client pages through it."""

from __future__ import annotations

from typing import Any

from oimws.client import JssdkClient


async def history(client: JssdkClient, conversation_id: str, page_size: int = 200
                  ) -> list[dict[str, Any]]:
    """Every message of the conversation the client can see, oldest first, read newest
    first in pages of ``GetAdvancedHistoryMessageList``."""
    messages: list[dict[str, Any]] = []
    start = ""
    while True:
        page = await client.call("GetAdvancedHistoryMessageList", {
            "conversationID": conversation_id, "count": page_size, "startClientMsgID": start,
            "lastMinSeq": 0})
        batch = page["messageList"]
        messages = batch + messages
        if page["isEnd"] or not batch:
            return messages
        start = batch[0]["clientMsgID"]
