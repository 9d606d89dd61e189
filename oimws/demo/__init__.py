"""The web demo: a small chat page on the real open-im-sdk bundle, served on the admin port
under ``/demo/``, and (only when the server runs with ``--demo``) an endpoint that registers a
user and hands out a token, so anyone can try the gateway from a browser."""

from oimws.demo.routes import DEMO_PLATFORM_ID, STATIC_DIR, add_demo_routes

__all__ = ["DEMO_PLATFORM_ID", "STATIC_DIR", "add_demo_routes"]
