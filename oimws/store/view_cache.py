"""Users' conversation views and unread totals, kept in memory by a store that is the only
writer of its database.

After a message to a group of N online members the pushes need every member's view of the
conversation and unread total: read from the database, that is N rows with three counter
lookups each, per message. The message itself says how each view changes (the latest
message and max seq move on, others' unread counts grow by one if it counts, hidden views
come back), so a store that sees every write can keep the views it read last and move them
on itself.

Correctness rests on three rules, which the store follows:

* Every write reports here once it settled (committed or failed), from the event loop, in
  commit order: an append with what it did (``message_appended``), any other write with
  what it may have touched (the ``forget_*`` methods). A failed or uncertain write forgets.
* Entries are filled from reads made on the event loop (so a fill never interleaves with a
  report). A read may already include writes not yet reported: forgetting is always safe,
  and an append only moves on an entry exactly one seq behind it (an entry at or past the
  append already includes it; one further behind missed something and is dropped).
* Callers treat returned records as read-only: they are shared with the cache.

A user's totals are kept as the part each of their conversations adds (all their
conversations, so a conversation missing there is one they do not have).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable, Mapping, Sequence

from oimws.store.messages import ConversationRecord, Message, counts_towards_total

# A record's fields in constructor order: copying through them is several times faster than
# ``copy.copy`` of a slotted dataclass, and an append copies one record per cached member.
_RECORD_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(ConversationRecord)))


@dataclasses.dataclass(slots=True)
class TotalPart:
    """What one conversation adds to its owner's unread total."""

    max_seq: int
    unread: int
    recv_msg_opt: int
    is_hidden: bool

    @property
    def counted(self) -> int:
        return self.unread if counts_towards_total(self) else 0


@dataclasses.dataclass(slots=True)
class CachedView:
    order_time: int  # the conversation's latest send time, which orders a user's list
    record: ConversationRecord


@dataclasses.dataclass(slots=True)
class _User:
    views: dict[str, CachedView] = dataclasses.field(default_factory=dict)
    parts: dict[str, TotalPart] | None = None  # every conversation of the user, when known
    total: int = 0
    # the conversations whose index lists this user (what dropping the user cleans up)
    indexed: set[str] = dataclasses.field(default_factory=set)

    def total_without(self, excluded: Iterable[str]) -> int:
        """The total less what the ``excluded`` conversations add (``parts`` known)."""
        assert self.parts is not None
        total = self.total
        for conversation_id in excluded:
            part = self.parts.get(conversation_id)
            if part is not None:
                total -= part.counted
        return total


@dataclasses.dataclass(frozen=True, slots=True)
class Appended:
    """What an append did to every view of its conversation."""

    conversation_id: str
    seq: int
    sender: str
    counts_as_unread: bool
    message: Message
    send_time: int
    mentions: Mapping[str, int]
    new_owners: Sequence[str]


class ConversationViewCache:
    """Views and totals of at most ``max_users`` users, the least recently filled dropped
    first (a user read often but filled long ago is dropped, read again and kept: cheaper
    than reordering on every read)."""

    def __init__(self, max_users: int) -> None:
        self.max_users = max_users
        self._users: dict[str, _User] = {}
        self._users_of: dict[str, set[str]] = {}  # conversation -> users with an entry of it
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._users)

    # reads -------------------------------------------------------------------------------

    def views(self, owner_ids: Iterable[str], conversation_ids: Sequence[str]
              ) -> tuple[list[CachedView], list[str]]:
        """The cached views of these owners and conversations, and the owners to read from
        the database instead (any of whose views is not known here)."""
        found: list[CachedView] = []
        missing: list[str] = []
        users = self._users
        asked = 0
        for owner in owner_ids:
            asked += 1
            user = users.get(owner)
            if user is None:
                missing.append(owner)
                continue
            views, parts = user.views, user.parts
            mine: list[CachedView] = []
            for conversation_id in conversation_ids:
                view = views.get(conversation_id)
                if view is not None:
                    mine.append(view)
                elif parts is None or conversation_id in parts:
                    missing.append(owner)  # a view that exists but is not here
                    break
            else:
                found.extend(mine)
        self.misses += len(missing)
        self.hits += asked - len(missing)
        return found, missing

    def totals(self, owner_ids: Iterable[str], excluding: Iterable[str]
               ) -> tuple[dict[str, int], list[str]]:
        """The cached totals of these owners without the ``excluding`` conversations, and
        the owners whose totals are not known here."""
        excluded = list(excluding)
        found: dict[str, int] = {}
        missing: list[str] = []
        users = self._users
        for owner in owner_ids:
            user = users.get(owner)
            if user is None or user.parts is None:
                missing.append(owner)
                continue
            found[owner] = user.total_without(excluded)
        return found, missing

    # fills (from reads made on the event loop) ------------------------------------------

    def fill_view(self, order_time: int, record: ConversationRecord) -> None:
        user = self._user(record.owner_id)
        user.views[record.conversation_id] = CachedView(order_time, record)
        self._index(record.owner_id, user, record.conversation_id)

    def fill_parts(self, owner_id: str, parts: dict[str, TotalPart],
                   excluding: Iterable[str] = ()) -> int:
        """Keep every part of a user's total; returns the total less ``excluding``."""
        user = self._user(owner_id)
        user.parts = parts
        user.total = sum(part.counted for part in parts.values())
        for conversation_id in parts:
            self._index(owner_id, user, conversation_id)
        return user.total_without(excluding)

    # reports of settled writes -------------------------------------------------------------

    def message_appended(self, appended: Appended) -> None:
        conversation_id, seq = appended.conversation_id, appended.seq
        counts, sender = appended.counts_as_unread, appended.sender
        for owner in list(self._users_of.get(conversation_id, ())):
            user = self._users.get(owner)
            if user is None:
                continue
            view = user.views.get(conversation_id)
            if view is not None:
                moved = _moved_view(view, appended)
                if moved is None:
                    del user.views[conversation_id]
                else:
                    user.views[conversation_id] = moved
            part = user.parts.get(conversation_id) if user.parts is not None else None
            if part is None or part.max_seq >= seq:
                continue  # no part, or one that includes the append already
            if part.max_seq != seq - 1:
                user.parts = None  # it missed a write
                continue
            before = part.counted
            part.max_seq = seq
            part.is_hidden = False
            if counts and owner != sender:
                part.unread += 1
            user.total += part.counted - before
        for owner in appended.new_owners:  # a conversation their totals do not know yet
            self.forget_totals(owner)

    def forget(self, owner_id: str, conversation_id: str) -> None:
        """A write changed this user's view of this conversation (and so their total)."""
        user = self._users.get(owner_id)
        if user is not None:
            user.views.pop(conversation_id, None)
            user.parts = None

    def forget_totals(self, owner_id: str) -> None:
        """This user may have a conversation their totals do not know of."""
        user = self._users.get(owner_id)
        if user is not None:
            user.parts = None

    def forget_user(self, owner_id: str) -> None:
        user = self._users.pop(owner_id, None)
        if user is not None:
            self._unindex(owner_id, user)

    def forget_conversation(self, conversation_id: str) -> None:
        """A write changed what every user sees of this conversation."""
        for owner in self._users_of.pop(conversation_id, ()):
            user = self._users.get(owner)
            if user is not None:
                user.views.pop(conversation_id, None)
                user.parts = None
                user.indexed.discard(conversation_id)

    def clear(self) -> None:
        self._users.clear()
        self._users_of.clear()

    # internals ---------------------------------------------------------------------------

    def _user(self, owner_id: str) -> _User:
        user = self._users.pop(owner_id, None)
        if user is not None:
            self._users[owner_id] = user  # most recently filled last
        else:
            user = self._users[owner_id] = _User()
            while len(self._users) > self.max_users:
                oldest = next(iter(self._users))
                self._unindex(oldest, self._users.pop(oldest))
        return user

    def _index(self, owner_id: str, user: _User, conversation_id: str) -> None:
        if conversation_id not in user.indexed:
            user.indexed.add(conversation_id)
            self._users_of.setdefault(conversation_id, set()).add(owner_id)

    def _unindex(self, owner_id: str, user: _User) -> None:
        for conversation_id in user.indexed:
            owners = self._users_of.get(conversation_id)
            if owners is not None:
                owners.discard(owner_id)
                if not owners:
                    del self._users_of[conversation_id]


def _moved_view(view: CachedView, appended: Appended) -> CachedView | None:
    """The view after the append (as the store's append changes the rows), the same view
    when it includes the append already, or None when it missed a write in between."""
    record = view.record
    if record.max_seq >= appended.seq:
        return view
    if record.max_seq != appended.seq - 1:
        return None
    owner = record.owner_id
    moved = ConversationRecord(*_RECORD_FIELDS(record))  # the old one may be in a caller's hands
    moved.max_seq = appended.seq
    moved.latest_msg = appended.message
    moved.latest_msg_send_time = appended.send_time
    moved.is_hidden = False
    if owner == appended.sender:
        if record.has_read_seq == appended.seq - 1:  # one's own message is read
            moved.has_read_seq = appended.seq
    elif appended.counts_as_unread:
        moved.unread_count += 1
    at_type = appended.mentions.get(owner)
    if at_type is not None:
        moved.group_at_type = at_type
    return CachedView(appended.send_time, moved)
