"""``python -m oimws.healthcheck [URL] [--insecure]``: print a running gateway's health; exit 1
unless it is alive (``/healthz``) and ready (``/readyz``: store writable, bus connected).

Used by ``make check`` and ``make start``; standard library only, so it works before anything
else is installed. ``--insecure`` accepts a self-signed certificate of an https:// gateway.
"""

from __future__ import annotations

import json
import ssl
import sys
import urllib.error
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:10002"


def _get(url: str, context: ssl.SSLContext | None) -> tuple[int, Any]:
    """(HTTP status, decoded JSON body); a 503 still has a body worth reading."""
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.load(exc)
        except ValueError:
            return exc.code, {}


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if a != "--insecure"]
    insecure = "--insecure" in argv[1:]
    base = (args[0] if args else DEFAULT_URL).rstrip("/")
    context = ssl._create_unverified_context() if insecure else None
    try:
        _, health = _get(base + "/healthz", context)
        ready_status, ready = _get(base + "/readyz", context)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"oimws is DOWN ({base}: {exc})")
        return 1
    alive = health.get("status") == "ok"
    is_ready = ready_status == 200
    state = "UP" if alive and is_ready else ("NOT READY" if alive else "DOWN")
    print(f"oimws is {state}: version {health.get('version')}, "
          f"up {health.get('uptimeSeconds')} s, {health.get('connections')} connections, "
          f"{health.get('onlineUsers')} users online")
    checks = ready.get("checks") or {}
    if checks:
        print("  " + ", ".join(f"{name} {result}" for name, result in checks.items()))
    return 0 if alive and is_ready else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
