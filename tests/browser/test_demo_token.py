"""The demo page on a server started without ``--demo`` (the default): no sign-up, no user
list, but whoever has a token signs in with it and chats."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.pages import Page
from tests.support.server import RunningServer, start_server


def _status(url: str | urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(tmp_path_factory.mktemp("oimws-plain"), log_level="info") as server:
        yield server


def test_the_page_is_on_by_default_but_sign_up_is_not(plain):
    assert _status(f"{plain.api_url}/demo/") == 200
    request = urllib.request.Request(f"{plain.api_url}/demo/api/login", method="POST",
                                     data=b'{"userID": "mallory"}',
                                     headers={"Content-Type": "application/json"})
    assert _status(request) == 404
    assert _status(f"{plain.api_url}/demo/api/users") == 404


def test_signing_in_with_a_token(plain, browser_factory: Callable[[], Any], artifacts: Path):
    plain.register("erin", nickname="Erin")
    token = plain.user_token("erin")
    page = Page(browser_factory(), "erin", artifacts)
    page.driver.get(f"{plain.api_url}/demo/")
    page.wait(lambda: page.js("return document.body.dataset.state") == "login",
              "the sign-in page")
    assert page.js("return document.getElementById('register-form').hidden "
                   "&& !document.getElementById('token-form').hidden;")
    page.shot("11-token-sign-in")
    page.find("#token-user-id").send_keys("erin")
    page.js("document.getElementById('token-value').value = arguments[0];", token)
    page.find("#token-form button[type=submit]").click()
    page.wait(lambda: page.js("return document.body.dataset.state") == "ready",
              "the chat after signing in with the token")
    assert page.text_of("#me-name") == "Erin"

    # the session lives in the tab: a reload signs in again by itself
    page.driver.refresh()
    page.wait(lambda: page.js("return document.body.dataset.state") == "ready",
              "the chat again after a reload")
    page.click("#logout-button")
    page.wait(lambda: page.js("return document.body.dataset.state") == "login",
              "the sign-in page after signing out")
    assert page.js("return sessionStorage.length") == 0


def test_a_bad_token_is_refused_on_the_page(plain, browser_factory: Callable[[], Any],
                                            artifacts: Path):
    page = Page(browser_factory(), "eve", artifacts)
    page.driver.get(f"{plain.api_url}/demo/")
    page.wait(lambda: page.js("return document.body.dataset.state") == "login",
              "the sign-in page")
    page.find("#token-user-id").send_keys("erin")
    page.js("document.getElementById('token-value').value = 'not-a-token';")
    page.find("#token-form button[type=submit]").click()
    page.wait(lambda: "Sign-in failed" in (page.text_of("#login-error") or ""),
              "the sign-in error")
    assert page.js("return document.body.dataset.state") == "login"


def test_no_demo_turns_the_page_off(server_factory):
    server = server_factory(["--no-demo"])
    assert _status(f"{server.api_url}/demo/") == 404
    assert _status(f"{server.api_url}/demo/app.js") == 404
