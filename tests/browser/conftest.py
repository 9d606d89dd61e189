"""Browser tests: the web demo (``oimws/demo``) in headless Chromium, driven by Selenium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``; ``.ci/run`` installs them). Screenshots go to ``tests/artifacts/``
(git-ignored) so a reviewer can look at the UI.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.pages import DESKTOP, set_viewport

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("OIMWS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("OIMWS_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--lang=en-US",
    "--force-device-scale-factor=1",
    "--window-size=1280,800",
)


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tests.support.fixtures"):
        config.pluginmanager.import_plugin("tests.support.fixtures")
    config.addinivalue_line(
        "markers", "steps: the module's tests are consecutive steps of one story; after a "
        "step fails, the later ones are skipped instead of waiting for what cannot come")


_FAILED_STEP = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if item.get_closest_marker("steps") and report.failed and item.parent is not None:
        item.parent.stash.setdefault(_FAILED_STEP, item.name)
    return report


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("steps") and item.parent is not None:
        failed = item.parent.stash.get(_FAILED_STEP, None)
        if failed is not None:
            pytest.skip(f"an earlier step failed: {failed}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser_factory() -> Iterator[Callable[[], object]]:
    """``browser_factory()`` starts one headless Chromium (its own profile, so its own
    storage: one browser is one user) and returns its Selenium driver; all are quit after
    the module."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(f"the browser tests need Chromium and its driver: missing {missing} "
                    "(apt-get install chromium chromium-driver)", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []
    profiles = []

    def start() -> object:
        profile = tempfile.mkdtemp(prefix="oimws-chromium-")
        profiles.append(profile)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options,
                                  service=Service(executable_path=CHROMEDRIVER))
        driver.set_page_load_timeout(30)
        set_viewport(driver, DESKTOP)
        drivers.append(driver)
        return driver

    try:
        yield start
    finally:
        for driver in drivers:
            driver.quit()
        for profile in profiles:
            shutil.rmtree(profile, ignore_errors=True)
