"""The OpenIM-compatible admin REST API and operational endpoints (health)."""

from oimws.admin.server import AdminServer

__all__ = ["AdminServer"]
