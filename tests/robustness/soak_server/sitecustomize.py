"""Loaded into the soak's server process at startup (the soak puts this directory on the
server's PYTHONPATH, and ``site`` imports ``sitecustomize``); never imported by the tests.

- ``SOAK_HEAP_REPORT=<path>``: on SIGUSR1, collect garbage and write the live Python heap
  (``sys.getallocatedblocks()``, GC-tracked objects) to ``<path>`` as JSON. RSS is the
  allocator's high-water mark; this is what is actually alive, exact from cycle to cycle.
- ``SOAK_PLANTED_LEAK_BYTES=<n>``: every Session created keeps ``n`` bytes alive forever, to
  see the soak's memory checks fail.
"""

import gc
import json
import os
import signal
import sys


def _write_heap_report(signum: int, frame: object) -> None:
    gc.collect()
    path = os.environ["SOAK_HEAP_REPORT"]
    with open(path + ".tmp", "w") as report:
        json.dump({"blocks": sys.getallocatedblocks(), "objects": len(gc.get_objects())},
                  report)
    os.replace(path + ".tmp", path)  # the soak waits for the file: it appears whole


def _plant_leak(size: int) -> None:
    from oimws import session

    kept = []
    create = session.Session.__init__

    def create_and_leak(self: session.Session, *args: object, **kwargs: object) -> None:
        create(self, *args, **kwargs)
        kept.append(bytearray(size))

    session.Session.__init__ = create_and_leak


if os.environ.get("SOAK_HEAP_REPORT"):
    signal.signal(signal.SIGUSR1, _write_heap_report)
if os.environ.get("SOAK_PLANTED_LEAK_BYTES"):
    _plant_leak(int(os.environ["SOAK_PLANTED_LEAK_BYTES"]))
