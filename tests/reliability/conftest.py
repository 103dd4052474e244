"""Fixtures of the reliability suite: each test runs once per engine, on databases of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import PG_URL, Databases, pg_admin

_reason: dict[str, str | None] = {}


def postgres_unavailable() -> str | None:
    """None when PostgreSQL answers, else why not (the suite then skips, saying so)."""
    if "pg" not in _reason:
        try:
            import psycopg

            with psycopg.connect(pg_admin(), connect_timeout=3, autocommit=True):
                pass
            _reason["pg"] = None
        except Exception as error:  # no driver or no server: skip, never fail
            _reason["pg"] = f"no PostgreSQL at {PG_URL}: {error.__class__.__name__}"
    return _reason["pg"]


@pytest.fixture(params=["sqlite", "postgres"])
def engine_name(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        reason = postgres_unavailable()
        if reason:
            pytest.skip(reason)
    return request.param


@pytest.fixture
def databases(engine_name: str, tmp_path: Path) -> Iterator[Databases]:
    """Creates, clones and drops the ledger databases of one test on its engine."""
    from ledger.database import dispose_engines

    dbs = Databases(engine_name, tmp_path, [])
    yield dbs
    dispose_engines()
    dbs.drop_all()
