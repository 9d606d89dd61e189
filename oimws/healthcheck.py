"""``python -m oimws.healthcheck [URL]``: print a running gateway's health; exit 1 when down.

Used by ``make check`` and ``make start``; stdlib only so it works before anything else.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    base = argv[1] if len(argv) > 1 else "http://127.0.0.1:10002"
    url = base.rstrip("/") + "/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            health = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"oimws is DOWN ({url}: {exc})")
        return 1
    print(f"oimws is {health.get('status', '?').upper()}: version {health.get('version')}, "
          f"up {health.get('uptimeSeconds')} s, {health.get('connections')} connections, "
          f"{health.get('onlineUsers')} users online")
    return 0 if health.get("status") == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
