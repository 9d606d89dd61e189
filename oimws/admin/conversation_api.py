"""/conversation/*: a user's conversations as OpenIM's REST API shows them."""

from __future__ import annotations

from typing import Any

from oimws.admin.acting import call_as
from oimws.admin.checks import require_registered
from oimws.admin.endpoint import Access, ApiModule, Call, post
from oimws.admin.replies import CONVERSATION, array, obj
from oimws.admin.validation import Text, TextList, body

# OpenIM's ``Conversation`` fields that the client's ``ConversationItem`` also has
SHARED_FIELDS = ("conversationID", "conversationType", "userID", "groupID", "recvMsgOpt",
                 "isPinned", "isPrivateChat", "burnDuration", "groupAtType", "attachedInfo",
                 "ex", "maxSeq", "minSeq", "msgDestructTime", "isMsgDestruct")


def openim_conversation(owner_id: str, item: dict[str, Any]) -> dict[str, Any]:
    """A ``ConversationItem`` (what GetAllConversationList answers) as OpenIM's REST
    ``Conversation``."""
    return {"ownerUserID": owner_id, **{name: item.get(name) for name in SHARED_FIELDS},
            "latestMsgDestructTime": 0}


class ConversationApi(ApiModule):
    @post("/conversation/get_conversations",
          body(Text("ownerUserID", required=True),
               TextList("conversationIDs", item_max_length=200, required=True)),
          access=Access.ADMIN, summary="The owner's view of the given conversations (those "
                                       "they have)",
          reply=obj(conversations=array(CONVERSATION)))
    async def get_conversations(self, call: Call) -> Any:
        owner = call.body["ownerUserID"]
        await require_registered(self.ctx, [owner])
        items = await call_as(self.ctx, owner, "GetMultipleConversation",
                              call.body["conversationIDs"])
        return {"conversations": [openim_conversation(owner, item) for item in items]}

    @post("/conversation/get_all_conversations", body(Text("ownerUserID", required=True)),
          access=Access.ADMIN, summary="Every conversation on the owner's list",
          reply=obj(conversations=array(CONVERSATION)))
    async def get_all_conversations(self, call: Call) -> Any:
        owner = call.body["ownerUserID"]
        await require_registered(self.ctx, [owner])
        items = await call_as(self.ctx, owner, "GetAllConversationList")
        return {"conversations": [openim_conversation(owner, item) for item in items]}
