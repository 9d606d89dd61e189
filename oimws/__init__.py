"""oimws: an OpenIM jssdk-compatible WebSocket IM gateway with the IM logic built in."""

__version__ = "0.1.0"

try:
    from oimws._speedups import codec as _codec  # noqa: F401
    from oimws._speedups import fanout as _fanout  # noqa: F401
    from oimws._speedups import ids as _ids  # noqa: F401
except ImportError as exc:  # pragma: no cover - only on an unbuilt checkout
    raise ImportError(
        "oimws's compiled extensions (oimws/_speedups) are missing or stale: "
        f"{exc}. Build them with `make build` (or `pip install .`, or "
        "`python setup.py build_ext --inplace` in a source checkout)."
    ) from exc
