"""The demo's copy of the jssdk is the npm package's own browser build, byte for byte
(``scripts/vendor_jssdk.sh`` makes it; nobody edits it), and it ships in the wheel."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

import pytest

from oimws.demo import STATIC_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = REPO_ROOT / "tests" / "e2e"
VENDOR = STATIC_DIR / "vendor"
PINNED = json.loads((E2E_DIR / "package.json").read_text())["dependencies"]["open-im-sdk"]


def _installed_version(package: Path) -> str | None:
    try:
        return str(json.loads((package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def npm_package() -> Path:
    """``open-im-sdk`` as npm installs it from tests/e2e's lock file (``npm ci`` if needed)."""
    package = E2E_DIR / "node_modules" / "open-im-sdk"
    if _installed_version(package) != PINNED:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"{package} is missing and npm is not on PATH", pytrace=False)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=E2E_DIR, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    assert _installed_version(package) == PINNED
    return package


def test_the_vendored_bundle_is_the_npm_packages_umd_build(npm_package):
    vendored = (VENDOR / "open-im-sdk.umd.js").read_bytes()
    published = (npm_package / "lib" / "index.umd.js").read_bytes()
    assert vendored == published, (
        "oimws/demo/static/vendor/open-im-sdk.umd.js differs from the npm package: "
        "run scripts/vendor_jssdk.sh")
    assert (VENDOR / "open-im-sdk.LICENSE").read_bytes() == (npm_package / "LICENSE").read_bytes()


def test_the_manifest_names_the_pinned_version_and_the_hash():
    manifest = json.loads((VENDOR / "open-im-sdk.json").read_text())
    digest = hashlib.sha256((VENDOR / "open-im-sdk.umd.js").read_bytes()).hexdigest()
    assert manifest["package"] == "open-im-sdk"
    assert manifest["version"] == PINNED == "3.5.2"
    assert manifest["sha256"] == digest


def test_the_page_loads_the_vendored_bundle_and_nothing_from_elsewhere():
    page = (STATIC_DIR / "index.html").read_text()
    assert '<script src="vendor/open-im-sdk.umd.js" defer></script>' in page
    elsewhere = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in elsewhere and "https://" not in elsewhere


def test_every_static_file_is_package_data_of_the_wheel():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["oimws.demo"]
    shipped = [p.relative_to(STATIC_DIR.parent).as_posix()
               for p in STATIC_DIR.rglob("*") if p.is_file()]
    assert shipped
    for name in shipped:
        assert any(PurePosixPath(name).match(pattern) for pattern in patterns), name
