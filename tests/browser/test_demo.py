"""The web demo in two real browsers against the real ``oimws serve --demo``.

Two headless Chromium instances (separate profiles) sign up as alice and bob on the demo page,
which runs the vendored open-im-sdk bundle. alice writes to bob: the conversation appears in
bob's list with an unread badge without a reload, the badge clears when he opens it, and
alice sees "Read". Then typing indicators, an image through the upload API, a group with a
third user where messages reach both browsers, and the phone layout. The tests run in order
and share the two browsers; screenshots go to ``tests/artifacts/demo-*.png``.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.pages import DESKTOP, PHONE, Page, png, set_viewport
from tests.support.server import RunningServer, start_server

pytestmark = pytest.mark.steps

ALICE_BOB = "si_alice_bob"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real server with the demo's sign-up endpoint on (``--demo``)."""
    with start_server(tmp_path_factory.mktemp("oimws-demo"), extra_args=["--demo"],
                      log_level="info") as server:
        yield server


@pytest.fixture(scope="module")
def url(demo: RunningServer) -> str:
    return f"{demo.api_url}/demo/"


# The browsers need the server: when it cannot start, no browser is started either.
@pytest.fixture(scope="module")
def alice(demo: RunningServer, browser_factory: Callable[[], Any], artifacts: Path) -> Page:
    return Page(browser_factory(), "alice", artifacts)


@pytest.fixture(scope="module")
def bob(demo: RunningServer, browser_factory: Callable[[], Any], artifacts: Path) -> Page:
    return Page(browser_factory(), "bob", artifacts)


def demo_login(server: RunningServer, user_id: str, nickname: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.api_url}/demo/api/login", method="POST",
        data=json.dumps({"userID": user_id, "nickname": nickname}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        envelope = json.load(reply)
    assert envelope["errCode"] == 0, envelope
    data: dict[str, Any] = envelope["data"]
    return data


def test_two_browsers_sign_up_on_the_demo_page(demo, url, alice, bob):
    alice.sign_up(url, "alice", "Alice Liddell")
    assert alice.text_of("#me-name") == "Alice Liddell"
    assert alice.text_of("#me-id") == "@alice"

    # bob's sign-in page offers the users registered so far; he makes a new one
    bob.driver.get(url)
    bob.wait(lambda: bob.js("return !!document.querySelector('.user-chip[data-user-id=alice]')"),
             "alice among the users to pick")
    bob.shot("01-sign-in")
    bob.sign_up(url, "bob", "Bob Builder")
    # a third member for the group, registered through the same demo endpoint
    assert demo_login(demo, "carol", "Carol Danvers")["created"] is True


def test_a_message_arrives_live_with_an_unread_badge(alice, bob):
    alice.click("#new-chat")
    alice.click('#new-chat-users [data-user-id="bob"]')
    alice.wait(lambda: alice.text_of("#chat-name") == "Bob Builder", "the chat with bob to open")
    alice.send("Hi Bob, are you around?")
    alice.wait(lambda: "Hi Bob, are you around?" in alice.messages(), "her message in the chat")

    bob.wait(lambda: bob.badge(ALICE_BOB) == "1", "an unread badge of 1 on the chat with alice")
    assert "Hi Bob, are you around?" in (bob.text_of(f'[data-conversation-id="{ALICE_BOB}"]')
                                         or "")
    assert bob.not_reloaded()
    bob.shot("02-unread-badge")


def test_opening_clears_the_badge_and_the_sender_sees_read(alice, bob):
    bob.click(f'[data-conversation-id="{ALICE_BOB}"]')
    bob.wait(lambda: "Hi Bob, are you around?" in bob.messages(), "alice's message in the chat")
    bob.wait(lambda: bob.badge(ALICE_BOB) is None, "the unread badge to clear")
    alice.wait(lambda: alice.text_of("#messages .msg.mine:last-of-type .receipt") == "Read"
               or alice.js("return [...document.querySelectorAll('#messages .receipt.read')]"
                           ".length > 0;"),
               "the read receipt on her message")
    assert alice.not_reloaded() and bob.not_reloaded()
    alice.shot("03-read-receipt")


def test_typing_shows_on_the_other_side_then_the_reply_arrives(alice, bob):
    bob.type("#message-input", "On my way")
    alice.wait(lambda: alice.text_of("#chat-status") == "typing…", "bob's typing indicator")
    alice.shot("04-typing")
    from selenium.webdriver.common.keys import Keys

    bob.find("#message-input").send_keys(Keys.ENTER)
    alice.wait(lambda: "On my way" in alice.messages(), "bob's reply")
    alice.wait(lambda: alice.text_of("#chat-status") == "@bob", "the typing indicator to go")
    # alice has the chat open: the reply is read at once, no badge, and bob sees "Read"
    assert alice.badge(ALICE_BOB) is None
    bob.wait(lambda: bob.text_of("#messages .receipt") == "Read", "the receipt on his reply")


def test_an_image_goes_through_the_upload_api(demo, alice, bob, tmp_path):
    picture = tmp_path / "sunset.png"
    picture.write_bytes(png(240, 160))
    alice.find("#image-input").send_keys(str(picture))

    loaded = ("const img = [...document.querySelectorAll('#messages .msg.theirs img')].pop();"
              "return img && img.complete && img.naturalWidth > 0 ? img.src : null;")
    src = bob.wait(lambda: bob.js(loaded), "the picture to arrive and load")
    assert src.startswith(f"{demo.api_url}/object/"), src
    with urllib.request.urlopen(src.split("?")[0], timeout=10) as reply:
        assert reply.headers["Content-Type"] == "image/png"
        assert reply.read() == picture.read_bytes()
    alice.wait(lambda: alice.js("return !document.querySelector('#messages .uploading');"),
               "her upload to finish")
    bob.shot("05-image")


def test_a_group_message_reaches_both(alice, bob):
    alice.click("#new-group")
    alice.type("#group-name", "Weekend trip")
    for member in ("bob", "carol"):
        alice.click(f'#group-members input[value="{member}"]')
    alice.shot("06-new-group")
    alice.click("#create-group-submit")
    alice.wait(lambda: alice.text_of("#chat-name") == "Weekend trip", "the new group to open")
    group_id = alice.js("return document.querySelector('.conversation[aria-current=true]')"
                        ".dataset.conversationId;")
    assert group_id.startswith("sg_"), group_id
    alice.wait(lambda: "created" in (alice.text_of("#messages .notice") or ""),
               "the group-created notice")
    alice.wait(lambda: alice.text_of("#chat-status") == "Group · 3 members", "the member count")
    alice.send("Who is in for Saturday?")
    alice.wait(lambda: "Who is in for Saturday?" in alice.messages(), "her group message")

    bob.wait(lambda: bob.badge(group_id) == "1", "the group with an unread badge")
    bob.click(f'[data-conversation-id="{group_id}"]')
    bob.wait(lambda: "Who is in for Saturday?" in bob.messages(), "the group message")
    bob.wait(lambda: bob.badge(group_id) is None, "the group badge to clear")
    bob.send("Count me in")
    alice.wait(lambda: "Count me in" in alice.messages(), "bob's group reply")
    assert alice.not_reloaded() and bob.not_reloaded()
    alice.shot("07-group")
    bob.shot("08-group-bob")


def test_the_page_works_at_phone_size(bob):
    set_viewport(bob.driver, PHONE)
    try:
        bob.click("#back-button")
        bob.wait(lambda: bob.js("return document.querySelector('.sidebar').offsetParent !== null"
                                " && document.querySelector('#chat-pane').offsetParent === null;"),
                 "the conversation list alone on a phone")
        assert bob.js("return document.documentElement.scrollWidth <= window.innerWidth;")
        bob.shot("09-phone-list")
        bob.click(f'[data-conversation-id="{ALICE_BOB}"]')
        bob.wait(lambda: bob.js("return document.querySelector('.sidebar').offsetParent === null"
                                " && document.querySelector('#chat-pane').offsetParent !== null;"),
                 "the chat alone on a phone")
        bob.wait(lambda: "On my way" in bob.messages(), "the chat's messages")
        assert bob.js("return document.documentElement.scrollWidth <= window.innerWidth;")
        bob.shot("10-phone-chat")
    finally:
        set_viewport(bob.driver, DESKTOP)
