"""/friend/*: an admin making users friends."""

from __future__ import annotations

from oimws.admin.acting import call_as
from oimws.admin.checks import require_registered
from oimws.admin.endpoint import Access, ApiModule, Call, post
from oimws.admin.validation import Text, TextList, body
from oimws.protocol.errors import ApiError, ErrCode

IMPORT_NOTE = "imported by an admin"


class FriendApi(ApiModule):
    @post("/friend/import_friend",
          body(Text("ownerUserID", required=True), TextList("friendUserIDs", required=True)),
          access=Access.ADMIN,
          summary="Make the owner and each user friends both ways, as an application the "
                  "other accepts (their devices hear OnFriendAdded); friends already are "
                  "left as they are, a user who blocked the owner refuses (1302)")
    async def import_friend(self, call: Call) -> None:
        owner, friends = call.body["ownerUserID"], call.body["friendUserIDs"]
        if owner in friends:
            raise ApiError(ErrCode.CAN_NOT_ADD_YOURSELF,
                           f"{owner} is in friendUserIDs: one cannot befriend oneself")
        await require_registered(self.ctx, [owner, *friends])
        # What two clients would do, through the friend handlers themselves.
        for friend in friends:
            try:
                await call_as(self.ctx, owner, "AddFriend",
                              {"toUserID": friend, "reqMsg": IMPORT_NOTE})
            except ApiError as exc:
                if exc.code == ErrCode.RELATIONSHIP_ALREADY:
                    continue
                raise
            await call_as(self.ctx, friend, "AcceptFriendApplication",
                          {"toUserID": owner, "handleMsg": IMPORT_NOTE})
        return None
