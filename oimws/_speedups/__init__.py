"""Compiled hot paths. Built by ``pip install .`` / ``make build``; never optional."""
