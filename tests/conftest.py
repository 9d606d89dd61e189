"""Fixtures every test directory shares: a real oimws server (tests/support/fixtures.py) and
a throwaway PostgreSQL (tests/support/postgres.py)."""

pytest_plugins = ("tests.support.fixtures", "tests.support.postgres")
