"""Push (callback) event names the client listens for (open-im-sdk src/constant/callback.ts)."""

PROTOCOL_ERROR = "Protocol Error"

ON_CONNECTING = "OnConnecting"
ON_CONNECT_SUCCESS = "OnConnectSuccess"
ON_KICKED_OFFLINE = "OnKickedOffline"
ON_USER_TOKEN_EXPIRED = "OnUserTokenExpired"

ON_RECV_NEW_MESSAGES = "OnRecvNewMessages"
ON_RECV_C2C_READ_RECEIPT = "OnRecvC2CReadReceipt"
ON_RECV_GROUP_READ_RECEIPT = "OnRecvGroupReadReceipt"
ON_NEW_RECV_MESSAGE_REVOKED = "OnNewRecvMessageRevoked"

ON_NEW_CONVERSATION = "OnNewConversation"
ON_CONVERSATION_CHANGED = "OnConversationChanged"
ON_TOTAL_UNREAD_CHANGED = "OnTotalUnreadMessageCountChanged"

ON_JOINED_GROUP_ADDED = "OnJoinedGroupAdded"
ON_JOINED_GROUP_DELETED = "OnJoinedGroupDeleted"
ON_GROUP_DISMISSED = "OnGroupDismissed"
ON_GROUP_MEMBER_ADDED = "OnGroupMemberAdded"
ON_GROUP_MEMBER_DELETED = "OnGroupMemberDeleted"
ON_GROUP_INFO_CHANGED = "OnGroupInfoChanged"
ON_GROUP_MEMBER_INFO_CHANGED = "OnGroupMemberInfoChanged"
ON_GROUP_APPLICATION_ADDED = "OnGroupApplicationAdded"
ON_GROUP_APPLICATION_ACCEPTED = "OnGroupApplicationAccepted"
ON_GROUP_APPLICATION_REJECTED = "OnGroupApplicationRejected"
