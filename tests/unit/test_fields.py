"""The checks on the fields of an object argument: defaults, null, and messages that name
the field."""

from __future__ import annotations

from typing import Any

import pytest

from oimws.protocol import fields
from oimws.protocol.errors import ArgumentError, ErrCode


def refusal(check: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ArgumentError) as raised:
        check(*args, **kwargs)
    assert raised.value.code == ErrCode.SDK_ARGS
    return raised.value.message


def test_text_reads_absent_and_null_as_the_default():
    assert fields.text({}, "ex") == ""
    assert fields.text({"ex": None}, "ex", default="d") == "d"
    assert fields.text({"ex": "x"}, "ex", max_length=1) == "x"
    assert refusal(fields.text, {"ex": 5}, "ex") == "ex must be a string"
    assert refusal(fields.text, {"ex": "xy"}, "ex", max_length=1, where="params.") == (
        "params.ex is longer than 1 characters")


def test_non_empty_text_must_be_given():
    assert fields.non_empty_text({"groupID": "g"}, "groupID") == "g"
    for params in ({}, {"groupID": None}, {"groupID": ""}, {"groupID": 1}):
        assert refusal(fields.non_empty_text, params, "groupID") == (
            "groupID must be a non-empty string")


def test_flags_default_to_false_and_refuse_null():
    assert fields.flag({}, "isPinned") is False
    assert fields.flag({"isPinned": True}, "isPinned") is True
    for value in (None, 1, "true"):
        assert refusal(fields.flag, {"isPinned": value}, "isPinned") == (
            "isPinned must be a boolean")


def test_integer_bounds_defaults_and_null():
    assert fields.integer({}, "count", default=100, maximum=1000) == 100
    assert fields.integer({"count": 7}, "count", minimum=1) == 7
    assert refusal(fields.integer, {"count": None}, "count", default=100, minimum=0,
                   maximum=1000) == "count must be an integer from 0 to 1000"
    assert fields.integer({"count": None}, "count", default=20, nullable=True) == 20
    assert refusal(fields.integer, {}, "count", minimum=1, nullable=True,
                   where="params.") == "params.count must be an integer of at least 1"
    assert refusal(fields.integer, {"n": True}, "n", maximum=3) == (
        "n must be an integer of at most 3")
    assert refusal(fields.integer, {"n": 1.5}, "n") == "n must be an integer"


def test_arrays_read_absent_and_null_as_empty():
    assert fields.strings({}, "ids") == [] and fields.integers({"t": None}, "t") == []
    assert fields.strings({"ids": ["a"]}, "ids") == ["a"]
    assert refusal(fields.strings, {"ids": ["a", 1]}, "ids", where="params[0].") == (
        "params[0].ids must be an array of strings")
    assert refusal(fields.integers, {"t": [1, False]}, "t") == "t must be an array of integers"


def test_choice_and_unwrap():
    assert fields.choice(fields.unwrap({"value": 2}), "opt", (0, 1, 2)) == 2
    assert fields.unwrap({"other": 1}) == {"other": 1}
    for value in (3, True, 1.0, None):
        assert refusal(fields.choice, value, "opt", (0, 1, 2)) == "opt must be one of 0, 1, 2"


def test_user_ids_are_deduplicated_bounded_and_each_named():
    assert fields.user_ids(["b", "a", "b"], "userIDs") == ["b", "a"]
    assert refusal(fields.user_ids, [], "userIDs") == (
        "userIDs must be a non-empty array of user IDs")
    assert refusal(fields.user_ids, None, "userIDs") == (
        "userIDs must be a non-empty array of user IDs")
    assert fields.user_ids(None, "adminUserIDs", optional=True) == []
    assert fields.user_ids([], "adminUserIDs", optional=True) == []
    assert refusal(fields.user_ids, "a", "adminUserIDs", optional=True) == (
        "adminUserIDs must be an array of user IDs")
    assert refusal(fields.user_ids, ["a", ""], "userIDs") == (
        "userIDs[1] must be a non-empty user ID")
    assert refusal(fields.user_ids, ["x" * 65], "userIDs") == (
        "userIDs[0] is longer than 64 characters")
    assert refusal(fields.user_ids, ["a", "b", "c"], "userIDs", max_items=2) == (
        "userIDs has more than 2 user IDs")


def test_searches():
    assert fields.keywords({"keywordList": ["Bo", "STRASSE"]}) == ["bo", "strasse"]
    for value in (None, [], ["a", ""], "a"):
        assert "keywordList" in refusal(fields.keywords, {"keywordList": value})
    assert fields.search_flags({"b": True}, "a", "b") == (False, True)
    assert refusal(fields.search_flags, {}, "a", "b", "c") == (
        "at least one of a, b and c must be true")
    assert fields.matches(["bo"], "alice", "BOB")
    assert fields.matches(["strasse"], "Hauptstraße")
    assert not fields.matches(["bo"], "alice")
