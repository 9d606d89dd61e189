"""Processes opening one new SQLite file at the same moment (``serve --workers N``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

OPEN_AND_CLOSE = """
import asyncio, sys, time
from pathlib import Path
from oimws.store.sqlite import SqliteStore

async def main():
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all start together
    store = SqliteStore(Path(sys.argv[1]))
    await store.open()
    await store.close()

asyncio.run(main())
"""


def test_workers_opening_a_new_file_together_all_open_it(tmp_path: Path):
    """Switching a new file to WAL answers 'database is locked' at once, without SQLite's
    busy wait, while another process makes it: each opener waits its turn instead of
    failing (two openers failed about one time in six before)."""
    for attempt in range(4):
        database = tmp_path / f"db{attempt}.sqlite3"
        start = str(time.time() + 1.0)  # after every opener has imported oimws
        openers = [subprocess.Popen([sys.executable, "-c", OPEN_AND_CLOSE, str(database), start],
                                    stderr=subprocess.PIPE, text=True) for _ in range(4)]
        for opener in openers:
            _, errors = opener.communicate(timeout=60)
            assert opener.returncode == 0, errors
