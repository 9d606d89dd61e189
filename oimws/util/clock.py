import time


def now_ms() -> int:
    """Wall-clock milliseconds, OpenIM's unit for every timestamp on the wire."""
    return time.time_ns() // 1_000_000
