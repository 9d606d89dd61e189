"""Conversations: each user's list, unread counts and settings, kept on the server so every
device of a user sees the same list, pins, drafts and counts."""

from __future__ import annotations

import dataclasses
import logging
import operator
from collections.abc import Hashable, Iterable
from typing import Any, TypeVar

import orjson

from oimws.context import AppContext
from oimws.delivery.coalesce import Pending
from oimws.dispatch import handler
from oimws.protocol import events
from oimws.protocol.args import Bool, Int, JsonArray, Str
from oimws.protocol.errors import ApiError, ArgumentError, ErrCode, no_permission
from oimws.session import Session
from oimws.store import ConversationRecord, StoreError
from oimws.store.messages import counts_towards_total
from oimws.util.clock import now_ms
from oimws.util.ids import SESSION_GROUP, SESSION_SINGLE, conversation_id_for

log = logging.getLogger("oimws.conversations")
Told = TypeVar("Told", bound=Hashable)

GROUP_PREFIX = "sg_"
CONVERSATION_ID_PREFIXES = ("si_", GROUP_PREFIX, "sn_")
AT_ALL_TAG = "AtAllTag"


def conversation_item(record: ConversationRecord, shown: dict[str, str] | None,
                      latest_json: str | None = None) -> dict[str, Any]:
    """The client's ``ConversationItem`` for one user's view of a conversation; ``shown`` is
    the peer's or the group's name and face; ``latest_json``: the latest message already
    encoded, when the caller has it."""
    latest = record.latest_msg
    if latest_json is None:
        latest_json = orjson.dumps(latest).decode() if latest else ""
    return {
        "conversationID": record.conversation_id,
        "conversationType": record.conversation_type,
        "userID": record.user_id,
        "groupID": record.group_id,
        "showName": (shown or {}).get("nickname") or record.user_id or record.group_id,
        "faceURL": (shown or {}).get("faceURL", ""),
        "recvMsgOpt": record.recv_msg_opt,
        "unreadCount": record.unread_count,
        "groupAtType": record.group_at_type,
        "latestMsg": latest_json,
        "latestMsgSendTime": record.latest_msg_send_time,
        "draftText": record.draft_text,
        "draftTextTime": record.draft_text_time,
        "burnDuration": record.burn_duration,
        "msgDestructTime": record.msg_destruct_time,
        "isPinned": record.is_pinned,
        "isNotInGroup": False,
        "isPrivateChat": record.is_private_chat,
        "isMsgDestruct": record.is_msg_destruct,
        "attachedInfo": record.attached_info,
        "ex": record.ex,
        "maxSeq": record.max_seq,
        "minSeq": record.min_seq,
        "hasReadSeq": record.has_read_seq,
    }


# What a conversation item shows of its record, less the latest message (which records of
# one read share, so its identity stands for it): records equal in these show one item.
_SHOWN_FIELDS = operator.attrgetter(*(
    field.name for field in dataclasses.fields(ConversationRecord)
    if field.name not in ("owner_id", "latest_msg", "is_hidden")))


class _Lookups:
    """Who and what conversation items show, fetched once per batch of items (one push
    flush covers every member of a group: the group is looked up once, not per member, and
    a latest message all of them share is encoded once, as is an item many of them see
    alike)."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.users: dict[str, Any] = {}
        self.groups: dict[str, Any] = {}
        self.members: dict[str, set[str]] = {}
        self._latest_json: dict[int, tuple[Any, str]] = {}  # id(message) -> (message, JSON)
        self._encoded_items: dict[tuple[Any, ...], bytes] = {}

    async def load(self, records: list[ConversationRecord]) -> None:
        store = self._ctx.store
        user_ids = {r.user_id for r in records if r.user_id} - self.users.keys()
        self.users.update(await store.get_users(list(user_ids)))
        group_ids = {r.group_id for r in records if r.group_id} - self.groups.keys()
        if group_ids:
            self.groups.update(await store.get_groups(list(group_ids)))
            for group_id in group_ids:
                self.members[group_id] = set(await store.get_member_ids(group_id))

    def item(self, record: ConversationRecord) -> dict[str, Any]:
        user, group = self.users.get(record.user_id), self.groups.get(record.group_id)
        if user is not None:
            shown = {"nickname": user.nickname, "faceURL": user.face_url}
        elif group is not None:
            shown = {"nickname": group.group_name, "faceURL": group.face_url}
        else:
            shown = None
        item = conversation_item(record, shown, self._encoded_latest(record))
        if group is not None:
            item["isNotInGroup"] = self._not_in_group(record)
        return item

    def encoded_item(self, record: ConversationRecord) -> bytes:
        """``item`` as JSON; a record showing what an earlier one showed reuses its bytes
        (the same object, so frames built from it can be told apart by identity)."""
        key = (_SHOWN_FIELDS(record), id(record.latest_msg), self._not_in_group(record))
        encoded = self._encoded_items.get(key)
        if encoded is None:
            encoded = self._encoded_items[key] = orjson.dumps(self.item(record))
        return encoded

    def _not_in_group(self, record: ConversationRecord) -> bool:
        members = self.members.get(record.group_id)
        return members is not None and record.owner_id not in members

    def _encoded_latest(self, record: ConversationRecord) -> str:
        latest = record.latest_msg
        if latest is None:
            return ""
        # Records of one read share the message object when they show the same one; the
        # entry keeps it alive, so its id cannot be reused by another message meanwhile.
        cached = self._latest_json.get(id(latest))
        if cached is None:
            cached = self._latest_json[id(latest)] = (latest, orjson.dumps(latest).decode())
        return cached[1]


async def conversation_items(
    ctx: AppContext, records: Iterable[ConversationRecord], lookups: _Lookups | None = None
) -> list[dict[str, Any]]:
    records = list(records)
    lookups = lookups or _Lookups(ctx)
    await lookups.load(records)
    return [lookups.item(record) for record in records]


async def total_unread(ctx: AppContext, owner_id: str) -> int:
    """What OnTotalUnreadMessageCountChanged reports: conversations with recvMsgOpt 0."""
    return (await ctx.store.get_unread_totals([owner_id]))[owner_id]


# pushes -------------------------------------------------------------------------------------

def install(ctx: AppContext) -> None:
    """Route the coalesced conversation changes of ``ctx`` to the users' devices."""

    async def flush(pending: Pending) -> None:
        try:
            await _push_pending(ctx, pending)
        except StoreError as exc:
            # The changes themselves are stored; devices see them on their next read of
            # the list, so losing one round of pushes is not worth failing anything for.
            log.warning("conversation pushes for %d users skipped: %s", len(pending), exc)

    ctx.conversation_updates.bind(flush)


async def push_conversation_updates(
    ctx: AppContext, owners: Iterable[str], conversation_id: str, new_owners: Iterable[str] = ()
) -> None:
    """Tell each owner's devices how this conversation and their unread total now look:
    once per user per loop tick, however many changes the tick brought."""
    new = set(new_owners)
    for owner in owners:
        if ctx.delivery.is_online(owner):  # offline users read the state when they log in
            ctx.conversation_updates.add(owner, conversation_id, owner in new)


async def _push_pending(ctx: AppContext, pending: Pending) -> None:
    """One flush's conversation pushes: every owner's changed views and unread total in two
    store reads, however many owners (a group message changes every member's view), and
    each distinct frame encoded once (members whose views look the same share it)."""
    changes = {owner: changed for owner, changed in pending.items()
               if ctx.delivery.is_online(owner)}
    if not changes:
        return
    conversation_ids = list({c for changed in changes.values() for c in changed})
    records = await ctx.store.get_conversation_views(list(changes), conversation_ids)
    # the totals of the rest of each owner's list, plus the views just read
    totals = await ctx.store.get_unread_totals(list(changes), excluding=conversation_ids)
    lookups = _Lookups(ctx)
    await lookups.load(records)
    new_items: dict[str, list[bytes]] = {}
    changed_items: dict[str, list[bytes]] = {}
    for record in records:
        owner = record.owner_id
        if counts_towards_total(record):
            totals[owner] += record.unread_count
        is_new = changes[owner].get(record.conversation_id)
        # skipped: a conversation that changed for another owner of this flush, and hidden
        # ones (off the list until their next message)
        if is_new is None or record.is_hidden:
            continue
        items_of = new_items if is_new else changed_items
        items = items_of.get(owner)
        if items is None:
            items_of[owner] = [lookups.encoded_item(record)]
        else:
            items.append(lookups.encoded_item(record))
    for event, items_of in ((events.ON_NEW_CONVERSATION, new_items),
                            (events.ON_CONVERSATION_CHANGED, changed_items)):
        # owners told the same share a frame (equal encodings are mostly one shared object,
        # so grouping by them hashes each once)
        shared: Iterable[tuple[str, bytes | tuple[bytes, ...]]] = (
            (owner, listed[0] if len(listed) == 1 else tuple(listed))
            for owner, listed in items_of.items())
        for told, owners in _audiences(shared).items():
            encoded = told if isinstance(told, bytes) else b",".join(told)
            ctx.delivery.push(owners, event, orjson.Fragment(b"[" + encoded + b"]"))
    for total, owners in _audiences(totals.items()).items():
        ctx.delivery.push(owners, events.ON_TOTAL_UNREAD_CHANGED, total)


def _audiences(told: Iterable[tuple[str, Told]]) -> dict[Told, list[str]]:
    """The owners told each thing, from (owner, thing) pairs."""
    audiences: dict[Told, list[str]] = {}
    for owner, thing in told:
        owners = audiences.get(thing)
        if owners is None:
            audiences[thing] = [owner]
        else:
            owners.append(owner)
    return audiences


# membership ---------------------------------------------------------------------------------

def check_conversation_id(conversation_id: str) -> None:
    if not conversation_id.startswith(CONVERSATION_ID_PREFIXES):
        raise ArgumentError(f"{conversation_id!r} is not a conversation ID (si_, sg_ or sn_)")


async def require_membership(
    ctx: AppContext, session: Session, conversation_id: str
) -> ConversationRecord | None:
    """The user's view of the conversation; refuses conversations of other people.

    Returns None for a conversation the user may see but that does not exist for them yet.
    """
    check_conversation_id(conversation_id)
    if conversation_id.startswith(GROUP_PREFIX):
        # Group history is for current members only: once kicked or gone, one reads no more.
        group_id = conversation_id[len(GROUP_PREFIX):]
        if not await ctx.store.get_members(group_id, [session.user_id]):
            raise ApiError(ErrCode.NOT_IN_GROUP_YET, f"not a member of group {group_id!r}")
    record = await ctx.store.get_conversation(session.user_id, conversation_id)
    if record is not None:
        return record
    if await ctx.store.get_conversation_members(conversation_id):
        raise no_permission(f"{session.user_id} is not part of conversation {conversation_id}")
    return None


async def require_conversation(
    ctx: AppContext, session: Session, conversation_id: str
) -> ConversationRecord:
    """Like ``require_membership``, for functions that need the conversation to exist."""
    record = await require_membership(ctx, session, conversation_id)
    if record is None:
        raise ApiError(ErrCode.RECORD_NOT_FOUND,
                       f"{session.user_id} has no conversation {conversation_id}")
    return record


# lists --------------------------------------------------------------------------------------

@handler("GetAllConversationList")
async def get_all_conversation_list(ctx: AppContext, session: Session) -> list[dict[str, Any]]:
    return await conversation_items(ctx, await ctx.store.get_conversations(session.user_id))


@handler("GetConversationListSplit", Int("offset", minimum=0), Int("count", minimum=0))
async def get_conversation_list_split(
    ctx: AppContext, session: Session, offset: int, count: int
) -> list[dict[str, Any]]:
    records = await ctx.store.get_conversations(session.user_id)
    return await conversation_items(ctx, records[offset:offset + count])


@handler("GetOneConversation", Int("sessionType"), Str("sourceID", max_length=64))
async def get_one_conversation(
    ctx: AppContext, session: Session, session_type: int, source_id: str
) -> dict[str, Any]:
    """The conversation with a user or group, created (empty) if it did not exist yet."""
    if session_type not in (SESSION_SINGLE, SESSION_GROUP):
        raise ApiError(ErrCode.NOT_SUPPORT_OPT,
                       f"sessionType {session_type} conversations are not available")
    if not source_id:
        raise ArgumentError("argument 1 (sourceID) must not be empty")
    conversation_id = conversation_id_for(session_type, session.user_id, source_id)
    if session_type == SESSION_GROUP:
        await require_membership(ctx, session, conversation_id)
        await ctx.store.ensure_conversations([session.user_id], conversation_id, session_type,
                                             group_id=source_id)
    else:
        if source_id not in await ctx.store.get_users([source_id]):
            raise ApiError(ErrCode.USER_ID_NOT_FOUND, f"user {source_id!r} is not registered")
        await ctx.store.ensure_conversations([session.user_id], conversation_id, session_type,
                                             peer_of={session.user_id: source_id})
    record = await ctx.store.get_conversation(session.user_id, conversation_id)
    assert record is not None
    return (await conversation_items(ctx, [record]))[0]


@handler("GetMultipleConversation", JsonArray("conversationIDList", item=Str("conversationID")))
async def get_multiple_conversation(
    ctx: AppContext, session: Session, conversation_ids: list[str]
) -> list[dict[str, Any]]:
    wanted = set(conversation_ids)
    records = [r for r in await ctx.store.get_conversations(session.user_id, include_hidden=True)
               if r.conversation_id in wanted]
    return await conversation_items(ctx, records)


@handler("GetConversationIDBySessionType", Str("sourceID", max_length=64), Int("sessionType"))
def get_conversation_id_by_session_type(
    ctx: AppContext, session: Session, source_id: str, session_type: int
) -> str:
    try:
        return conversation_id_for(session_type, session.user_id, source_id)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None


@handler("GetTotalUnreadMsgCount")
async def get_total_unread_msg_count(ctx: AppContext, session: Session) -> int:
    return await total_unread(ctx, session.user_id)


@handler("SearchConversation", Str("searchParam", max_length=255))
async def search_conversation(ctx: AppContext, session: Session, search: str
                              ) -> list[dict[str, Any]]:
    """Conversations whose shown name or ID contains the text (case-insensitive)."""
    if not search:
        raise ArgumentError("argument 0 (searchParam) must not be empty")
    needle = search.lower()
    items = await conversation_items(ctx, await ctx.store.get_conversations(session.user_id))
    return [i for i in items if needle in i["showName"].lower()
            or needle in i["conversationID"].lower()]


@handler("GetConversationRecvMessageOpt",
         JsonArray("conversationIDList", item=Str("conversationID")))
async def get_conversation_recv_message_opt(
    ctx: AppContext, session: Session, conversation_ids: list[str]
) -> list[dict[str, Any]]:
    records = {r.conversation_id: r for r in await ctx.store.get_conversations(
        session.user_id, include_hidden=True)}
    return [{"conversationID": c, "result": records[c].recv_msg_opt}
            for c in conversation_ids if c in records]


@handler("GetAtAllTag")
def get_at_all_tag(ctx: AppContext, session: Session) -> str:
    """The user ID that stands for "everyone" in an @ message."""
    return AT_ALL_TAG


# settings -----------------------------------------------------------------------------------

async def _change(ctx: AppContext, session: Session, conversation_id: str,
                  changes: dict[str, Any]) -> None:
    await require_conversation(ctx, session, conversation_id)
    await ctx.store.update_conversation(session.user_id, conversation_id, changes)
    await push_conversation_updates(ctx, [session.user_id], conversation_id)


@handler("SetConversationDraft", Str("conversationID"), Str("draftText", max_length=10_000))
async def set_conversation_draft(ctx: AppContext, session: Session, conversation_id: str,
                                 draft: str) -> None:
    await _change(ctx, session, conversation_id,
                  {"draft_text": draft, "draft_text_time": now_ms() if draft else 0})


@handler("PinConversation", Str("conversationID"), Bool("isPinned"))
async def pin_conversation(ctx: AppContext, session: Session, conversation_id: str,
                           is_pinned: bool) -> None:
    """Pinned conversations come first in every list."""
    await _change(ctx, session, conversation_id, {"is_pinned": int(is_pinned)})


@handler("SetConversationRecvMessageOpt", Str("conversationID"),
         Int("opt", minimum=0, maximum=2))
async def set_conversation_recv_message_opt(ctx: AppContext, session: Session,
                                            conversation_id: str, opt: int) -> None:
    """0 normal; 1 not received; 2 received without counting towards the unread total."""
    await _change(ctx, session, conversation_id, {"recv_msg_opt": opt})


@handler("SetConversationPrivateChat", Str("conversationID"), Bool("isPrivate"))
async def set_conversation_private_chat(ctx: AppContext, session: Session,
                                        conversation_id: str, is_private: bool) -> None:
    await _change(ctx, session, conversation_id, {"is_private_chat": int(is_private)})


@handler("SetConversationBurnDuration", Str("conversationID"),
         Int("burnDuration", minimum=0, maximum=365 * 24 * 3600))
async def set_conversation_burn_duration(ctx: AppContext, session: Session,
                                         conversation_id: str, seconds: int) -> None:
    await _change(ctx, session, conversation_id, {"burn_duration": seconds})


@handler("SetConversationMsgDestructTime", Str("conversationID"),
         Int("msgDestructTime", minimum=0, maximum=10 * 365 * 24 * 3600))
async def set_conversation_msg_destruct_time(ctx: AppContext, session: Session,
                                             conversation_id: str, seconds: int) -> None:
    await _change(ctx, session, conversation_id, {"msg_destruct_time": seconds})


@handler("SetConversationIsMsgDestruct", Str("conversationID"), Bool("isMsgDestruct"))
async def set_conversation_is_msg_destruct(ctx: AppContext, session: Session,
                                           conversation_id: str, enabled: bool) -> None:
    await _change(ctx, session, conversation_id, {"is_msg_destruct": int(enabled)})


@handler("ResetConversationGroupAtType", Str("conversationID"))
async def reset_conversation_group_at_type(ctx: AppContext, session: Session,
                                           conversation_id: str) -> None:
    await _change(ctx, session, conversation_id, {"group_at_type": 0})


@handler("SetOneConversationEx", Str("conversationID"), Str("ex", max_length=10_000))
async def set_one_conversation_ex(ctx: AppContext, session: Session, conversation_id: str,
                                  ex: str) -> None:
    await _change(ctx, session, conversation_id, {"ex": ex})


@handler("HideConversation", Str("conversationID"))
async def hide_conversation(ctx: AppContext, session: Session, conversation_id: str) -> None:
    """Off the list until its next message; nothing is deleted."""
    await require_conversation(ctx, session, conversation_id)
    await ctx.store.update_conversation(session.user_id, conversation_id, {"is_hidden": 1})


@handler("HideAllConversation")
async def hide_all_conversation(ctx: AppContext, session: Session) -> None:
    await ctx.store.hide_all_conversations(session.user_id)


@handler("ClearConversationAndDeleteAllMsg", Str("conversationID"))
async def clear_conversation_and_delete_all_msg(ctx: AppContext, session: Session,
                                                conversation_id: str) -> None:
    """Empty the conversation for this user only; the others keep their history."""
    await require_conversation(ctx, session, conversation_id)
    await ctx.store.clear_conversation(session.user_id, conversation_id)
    await push_conversation_updates(ctx, [session.user_id], conversation_id)


@handler("DeleteConversationAndDeleteAllMsg", Str("conversationID"))
async def delete_conversation_and_delete_all_msg(ctx: AppContext, session: Session,
                                                 conversation_id: str) -> None:
    """Empty the conversation for this user and take it off their list."""
    await require_conversation(ctx, session, conversation_id)
    await ctx.store.clear_conversation(session.user_id, conversation_id, hide=True)


async def _clear_all(ctx: AppContext, session: Session) -> None:
    for record in await ctx.store.get_conversations(session.user_id, include_hidden=True):
        await ctx.store.clear_conversation(session.user_id, record.conversation_id)
        await push_conversation_updates(ctx, [session.user_id], record.conversation_id)


@handler("DeleteAllMsgFromLocal")
async def delete_all_msg_from_local(ctx: AppContext, session: Session) -> None:
    """Every conversation emptied for this user (the server is the user's only storage)."""
    await _clear_all(ctx, session)


@handler("DeleteAllMsgFromLocalAndSvr")
async def delete_all_msg_from_local_and_svr(ctx: AppContext, session: Session) -> None:
    """Every conversation emptied for this user; other users keep their copies."""
    await _clear_all(ctx, session)
