"""Integration tests: the real server process on loopback, driven by oimws.client (picows)."""

from __future__ import annotations


