"""Property-based fuzzing of the envelope codec and of every registered function's arguments.

Every request gets exactly one answer naming it (or a Protocol Error), never a 500 "internal
server error" (what the dispatcher answers when a handler raises), within a timeout; a refused
request changes nothing in the store. The handlers run over a real SqliteStore (the unit
harness) with a few users, a friendship, a group and messages to aim at.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oimws._speedups import codec as speedups
from oimws.dispatch import FunctionSpec, registered_functions
from oimws.protocol.args import (
    Anything,
    Arg,
    Bool,
    Int,
    JsonArray,
    JsonObject,
    Number,
    Str,
    decode_positional,
)
from oimws.protocol.codec import ArgsDecodeError, EnvelopeError, JsonEnvelopeCodec
from oimws.protocol.errors import ApiError
from oimws.session import Session
from tests.unit.harness import Harness, envelope, frames_of

TIMEOUT = 5.0
FUNCTIONS = list(registered_functions())
HANDLERS = Path(__file__).resolve().parents[2] / "oimws" / "handlers"

# Field names the handlers read: objects made of these reach past the "unknown field" paths.
FIELD_NAMES = sorted({
    m for path in HANDLERS.glob("*.py")
    for m in re.findall(r'"([a-z][A-Za-z]{2,30})"', path.read_text())
})

# IDs that exist in the world below (and some that do not), so handlers get past lookups.
IDS = ["alice", "bob", "carol", "nobody", "", "si_alice_bob", "si_bob_carol", "sg_G1", "G1",
       "G404", "msg-1", "msg-carol", "sg_G404", "si_alice_alice", "../../etc/passwd"]

integers = st.one_of(
    st.integers(-3, 3), st.integers(-(2**31), 2**31),
    st.sampled_from([2**53, 2**63 - 1, -(2**63), 2**63, 2**64 - 1]),
)
scalars = st.one_of(
    st.none(), st.booleans(), integers,
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(IDS),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)), inner,
                        max_size=5),
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6)


def deep(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def value_for(arg: Arg) -> st.SearchStrategy[Any]:
    """Mostly values of the declared type (to reach the handler), sometimes anything."""
    if isinstance(arg, Str):
        typed: st.SearchStrategy[Any] = st.one_of(
            st.sampled_from(IDS), st.sampled_from(IDS), st.sampled_from(IDS),
            st.text(max_size=30), st.text(min_size=5000, max_size=5001))
    elif isinstance(arg, Int):
        typed = integers
    elif isinstance(arg, Number):
        typed = st.one_of(integers, st.floats(allow_nan=False, allow_infinity=False))
    elif isinstance(arg, Bool):
        typed = st.booleans()
    elif isinstance(arg, JsonObject):
        typed = objects.flatmap(lambda o: st.sampled_from([o, json.dumps(o)]))
    elif isinstance(arg, JsonArray):
        typed = st.lists(st.one_of(st.sampled_from(IDS), json_values), max_size=5).flatmap(
            lambda a: st.sampled_from([a, json.dumps(a)]))
    else:
        assert isinstance(arg, Anything)
        typed = json_values
    return st.one_of(typed, typed, typed, typed, typed, json_values,
                     st.sampled_from(["{", "[1,", "NaN", json.dumps(deep(300))]))


@st.composite
def data_for(draw: st.DrawFn, spec: FunctionSpec) -> str:
    """The ``data`` field: the argument array, with arguments missing, extra or broken."""
    values = [draw(value_for(arg)) for arg in spec.args]
    shape = draw(st.sampled_from(["exact"] * 6 + ["short", "long", "raw"]))
    if shape == "short" and values:
        values = values[: draw(st.integers(0, len(values) - 1))]
    elif shape == "long":
        values.append(draw(json_values))
    elif shape == "raw":
        return draw(st.one_of(st.text(max_size=40), st.sampled_from(
            ["", "[", "{}", "null", "[NaN]", "[Infinity]", "[1e999]", "[-0]",
             json.dumps([deep(600)]), '["\\ud800"]', "[" * 10000])))
    return json.dumps(values)


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    h: Harness
    db: sqlite3.Connection

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, TIMEOUT))

    def snapshot(self) -> list[Any]:
        tables = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return [(t, self.db.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]


async def _build(tmp_path: Path) -> Harness:
    h = await Harness.start(tmp_path, "alice", "bob", "carol")
    alice, bob, carol = [await h.login(u) for u in ("alice", "bob", "carol")]
    await h.befriend(alice, bob)
    await h.befriend(bob, carol)
    await h.call(alice, "CreateGroup", {"memberUserIDs": ["bob"], "adminUserIDs": [],
                                        "groupInfo": {"groupID": "G1", "groupName": "g",
                                                      "groupType": 2}})
    for sender, to, msg_id in ((alice, "bob", "msg-1"), (carol, "bob", "msg-carol")):
        text = await h.call(sender, "CreateTextMessage", "hello")
        text["clientMsgID"] = msg_id
        await h.call(sender, "SendMessage", text, to, "", {}, False)
    return h


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    loop = asyncio.new_event_loop()
    path = tmp_path_factory.mktemp("fuzz")
    h = loop.run_until_complete(_build(path))
    db = sqlite3.connect(h.ctx.config.sqlite_path)
    yield World(loop, h, db)
    db.close()
    loop.run_until_complete(h.stop())
    loop.close()


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("oimws")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _name_of(payload: bytes) -> str:
    try:
        name = json.loads(payload).get("reqFuncName")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return name if isinstance(name, str) else ""


async def _ask(h: Harness, session: Session, payload: bytes) -> list[dict[str, Any]]:
    """The answers (not the pushes) the session got for the payload."""
    before = len(frames_of(session))
    h.dispatcher.handle_payload(session, payload)
    await h.dispatcher.drain()
    answer_events = {_name_of(payload), "Protocol Error"}
    return [f for f in frames_of(session)[before:] if f.get("event") in answer_events]




FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_every_function_answers_arbitrary_arguments(world: World, errors: ErrorLog,
                                                     spec: FunctionSpec) -> None:
    # A function that changes session state (Logout) gets a fresh session each time; the
    # caller is a group owner, a friend and a sender so permission paths are reached.
    caller = "bob" if spec.name not in ("Logout",) else "carol"

    @FUZZ
    @given(data=data_for(spec), logged_in=st.sampled_from([True, True, True, False]))
    def check(data: str, logged_in: bool) -> None:
        h = world.h
        session = world.run(h.login(caller)) if logged_in else h.session(caller)
        before = world.snapshot()
        payload = envelope(caller, spec.name, data, "op-fuzz").encode()
        answers = world.run(_ask(h, session, payload))
        assert len(answers) == 1, answers
        answer = answers[0]
        assert answer["event"] == spec.name and answer["operationID"] == "op-fuzz", answer
        assert answer["errCode"] != 500, (spec.name, data, answer)
        assert not errors.records, [r.getMessage() for r in errors.records]
        if answer["errCode"] != 0:
            assert answer["errMsg"]
            assert world.snapshot() == before, (spec.name, data, answer)
        if not logged_in and spec.needs_login:
            assert answer["errCode"] == 10004

    check()


FRAME_FIELDS = ["reqFuncName", "operationID", "userID", "data"]


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "object", "object", "object"]))
    if kind == "bytes":
        return draw(st.one_of(
            st.binary(max_size=200),
            st.sampled_from([b"\xff\xfe", b'{"reqFuncName":"\xc3\x28"}', b"\x00",
                             b'{"reqFuncName":"Login","data":"\\ud800"}',
                             b"[" * 100000, b'{"a":' * 5000,
                             b'{"reqFuncName":"GetLoginStatus","data":"[1e400]"}'])))
    fields = draw(st.dictionaries(st.sampled_from(FRAME_FIELDS), json_values, max_size=4))
    if draw(st.booleans()):
        fields["reqFuncName"] = draw(st.sampled_from([f.name for f in FUNCTIONS] + ["", "x"]))
    return json.dumps(fields).encode()


@FUZZ
@given(payload=frames())
def test_envelope_decoding_never_raises_anything_else(payload: bytes) -> None:
    codec = JsonEnvelopeCodec()
    try:
        request = codec.decode_request(payload)
    except EnvelopeError:
        return
    assert isinstance(request.func_name, str) and request.func_name
    try:
        values = codec.decode_args(request)
    except ArgsDecodeError:
        return
    assert isinstance(values, list)
    for spec in FUNCTIONS:
        with contextlib.suppress(ApiError):
            decode_positional(spec.args, list(values))


@settings(max_examples=200, deadline=None, database=None)
@given(event=st.text(max_size=20), code=st.integers(-(2**31), 2**31), message=st.text(),
       result=json_values, operation_id=st.text(max_size=20))
def test_every_response_encodes_to_json_the_client_can_parse(
        event: str, code: int, message: str, result: Any, operation_id: str) -> None:
    codec = JsonEnvelopeCodec()
    frame = codec.encode_response(event, code, message, result, operation_id)
    decoded = json.loads(frame)
    assert decoded["event"] == event and decoded["errCode"] == code
    assert decoded["errMsg"] == message and decoded["operationID"] == operation_id
    assert (json.loads(decoded["data"]) if decoded["data"] else None) == (
        None if result is None else json.loads(json.dumps(result)))
    assert speedups.encode_push(event, b"").startswith(b'{"event":')


@FUZZ
@given(payload=frames())
def test_the_dispatcher_answers_every_frame_once(world: World, errors: ErrorLog,
                                                  payload: bytes) -> None:
    session = world.run(world.h.login("carol"))
    answers = world.run(_ask(world.h, session, payload))
    assert len(answers) == 1, (payload[:200], answers)
    assert answers[0]["errCode"] != 500, (payload[:200], answers)
    assert not errors.records, [r.getMessage() for r in errors.records]
