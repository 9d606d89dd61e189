"""Helpers for the browser tests: a page object over a Selenium driver, and test images."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

WAIT_SECONDS = 15
# The viewport screenshots show (the window size includes space for the browser's own UI).
DESKTOP = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


def set_viewport(driver: Any, metrics: dict[str, Any]) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def png(width: int, height: int) -> bytes:
    """A small colourful PNG (a diagonal gradient), made with the standard library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes((80 + 150 * x // width, 70 + 120 * y // height, 230 - 100 * x // width))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b""))


class Page:
    """One browser showing the demo, with waits that explain themselves when they time out."""

    def __init__(self, driver: Any, name: str, artifacts: Path) -> None:
        self.driver = driver
        self.name = name
        self.artifacts = artifacts

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.wait import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
                lambda _driver: condition())
        except TimeoutException:
            self.shot(f"failed-{self.name}")
            raise AssertionError(f"{self.name}: timed out waiting for {what}\n"
                                 f"{self.diagnostics()}") from None

    def text_of(self, css: str) -> str | None:
        return self.js("const n = document.querySelector(arguments[0]);"
                       "return n ? n.textContent : null;", css)

    def wait_text(self, css: str, expected: str) -> None:
        self.wait(lambda: expected in (self.text_of(css) or ""), f"{css} to show {expected!r}")

    def click(self, css: str) -> None:
        """A real click on ``css`` once it is visible. Lists are re-rendered as pushes
        arrive, so an element found a moment ago may be gone: then find it again."""
        from selenium.common.exceptions import StaleElementReferenceException

        def clicked() -> bool:
            if not self.js("const n = document.querySelector(arguments[0]);"
                           "return !!n && n.offsetParent !== null;", css):
                return False
            try:
                self.find(css).click()
            except StaleElementReferenceException:
                return False
            return True

        self.wait(clicked, f"{css} to be visible and clicked")

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        element.send_keys(text)

    def messages(self) -> list[str]:
        return self.js("return [...document.querySelectorAll('#messages .msg .bubble')]"
                       ".map(n => n.textContent);")

    def shot(self, name: str) -> Path:
        path = self.artifacts / f"demo-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def diagnostics(self) -> str:
        try:
            console = [entry["message"] for entry in self.driver.get_log("browser")][-20:]
        except Exception as exc:  # the log is a nice-to-have
            console = [repr(exc)]
        body = self.js("return document.body.dataset.state + ' | ' + "
                       "document.body.innerText.slice(0, 1500);")
        return "console:\n  " + "\n  ".join(console) + f"\npage: {body}"

    def sign_up(self, url: str, user_id: str, nickname: str) -> None:
        self.driver.get(url)
        self.wait(lambda: self.js("return document.body.dataset.state") == "login",
                  "the sign-in page")
        self.find("#new-user-id").send_keys(user_id)
        self.find("#new-user-name").send_keys(nickname)
        self.find("#register-button").click()
        self.wait(lambda: self.js("return document.body.dataset.state") == "ready",
                  "the chat to be ready after sign-up")
        # set after loading: still there at the end means the page never reloaded
        self.js("window.__oimwsTestMarker = 'no reload';")

    def not_reloaded(self) -> bool:
        return bool(self.js("return window.__oimwsTestMarker === 'no reload';"))

    def badge(self, conversation_id: str) -> str | None:
        return self.text_of(f'[data-conversation-id="{conversation_id}"] .badge')

    def send(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        self.type("#message-input", text)
        self.find("#message-input").send_keys(Keys.ENTER)
