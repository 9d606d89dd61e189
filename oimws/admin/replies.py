"""OpenAPI schemas of what endpoints answer in ``data`` (documentation only: replies are
built by the endpoints and the handlers they call)."""

from __future__ import annotations

from typing import Any

STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
ANY_OBJECT: dict[str, Any] = {"type": "object"}


def obj(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def strings() -> dict[str, Any]:
    return array(STRING)


USER_INFO = obj(userID=STRING, nickname=STRING, faceURL=STRING, ex=STRING, createTime=INTEGER,
                globalRecvMsgOpt=INTEGER, appMangerLevel=INTEGER)
GROUP_INFO = obj(groupID=STRING, groupName=STRING, notification=STRING, introduction=STRING,
                 faceURL=STRING, ownerUserID=STRING, creatorUserID=STRING, createTime=INTEGER,
                 memberCount=INTEGER, status=INTEGER, groupType=INTEGER,
                 needVerification=INTEGER, lookMemberInfo=INTEGER, applyMemberFriend=INTEGER,
                 notificationUserID=STRING, notificationUpdateTime=INTEGER, ex=STRING)
GROUP_MEMBER = obj(groupID=STRING, userID=STRING, nickname=STRING, faceURL=STRING,
                   roleLevel=INTEGER, joinTime=INTEGER, joinSource=INTEGER,
                   inviterUserID=STRING, operatorUserID=STRING, muteEndTime=INTEGER, ex=STRING)
CONVERSATION = obj(ownerUserID=STRING, conversationID=STRING, conversationType=INTEGER,
                   userID=STRING, groupID=STRING, recvMsgOpt=INTEGER, isPinned=BOOLEAN,
                   isPrivateChat=BOOLEAN, burnDuration=INTEGER, groupAtType=INTEGER,
                   attachedInfo=STRING, ex=STRING, maxSeq=INTEGER, minSeq=INTEGER,
                   msgDestructTime=INTEGER, isMsgDestruct=BOOLEAN)
SENT_MESSAGE = obj(serverMsgID=STRING, clientMsgID=STRING, sendTime=INTEGER)
