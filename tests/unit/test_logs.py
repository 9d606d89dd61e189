"""Structured logs: JSON lines with the request context, tokens and secrets scrubbed."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from oimws import logs
from oimws.tokens import TokenService

SECRET = "s3cret-value"


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """``configure`` replaces the process's handlers; give pytest's back afterwards."""
    root, picows = logging.getLogger(), logging.getLogger("picows")
    handlers, level, picows_level = root.handlers[:], root.level, picows.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    picows.setLevel(picows_level)


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    logs.configure("debug", "json", secrets=(SECRET,), stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    """This module's lines (asyncio logs at debug level too)."""
    parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in parsed if line["logger"] == "oimws.test"]


def test_a_line_is_one_json_object_with_the_request_context(captured: io.StringIO):
    log = logging.getLogger("oimws.test")
    log.info("outside")
    with logs.request_scope("op-1", "alice"):
        log.warning("inside %s", "a request", extra={"path": "/x"})
    outside, inside = lines(captured)
    assert "operationID" not in outside and outside["msg"] == "outside"
    assert inside["operationID"] == "op-1" and inside["userID"] == "alice"
    assert (inside["level"], inside["logger"], inside["path"]) == ("warning", "oimws.test", "/x")
    assert inside["msg"] == "inside a request"


async def test_tasks_started_in_a_scope_keep_its_context(captured: io.StringIO):
    log = logging.getLogger("oimws.test")

    async def later() -> None:
        await asyncio.sleep(0)
        log.info("in the task")

    scope = logs.open_scope("op-2", "bob")
    task = asyncio.get_running_loop().create_task(later())
    logs.close_scope(scope)
    await task
    [line] = lines(captured)
    assert (line["operationID"], line["userID"]) == ("op-2", "bob")


def test_tokens_and_secrets_never_reach_the_output(captured: io.StringIO):
    token = TokenService("k", 60).issue("alice", 5)
    log = logging.getLogger("oimws.test")
    log.info("upgrade GET /?sendID=alice&token=%s", token)
    log.info("secret is %s", SECRET)
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        log.exception("failed")
    text = captured.getvalue()
    assert token not in text and SECRET not in text
    assert logs.REDACTED_TOKEN in text and logs.REDACTED_SECRET in text
    assert "bad token [token]" in lines(captured)[-1]["exc"]


def test_the_human_format_shows_the_context():
    stream = io.StringIO()
    logs.configure("info", "text", stream=stream)
    with logs.request_scope("op-3", "carol"):
        logging.getLogger("oimws.test").info("hello")
    assert "INFO oimws.test [op-3 carol]: hello" in stream.getvalue()
