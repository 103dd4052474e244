"""End-to-end fixtures: the `ledger` command on both engines, and more databases.

`cli` runs against the test's own fresh database (`db_url`). Tests that only read may
share one ledger per module and engine (`shared_url`), which saves building the same
ledger dozens of times; `another_db_url` is a second fresh database for round trips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli, invoke
from click.testing import Result

PG_URL = os.environ.get("LEDGER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def cli(db_url: str) -> Cli:
    """`cli("agreement", "x", "--json")` runs the command against this test's database."""

    def run(*args: Any, **kwargs: Any) -> Result:
        return invoke(db_url, args, **kwargs)

    return run


def _admin_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(database="test")
    return admin.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")


@contextmanager
def fresh_database(engine: str, directory: Path) -> Iterator[str]:
    """A new, migrated, empty ledger database on `engine`, dropped afterwards."""
    from ledger.database import dispose_engines, engine_for
    from ledger.schema import upgrade

    if engine == "sqlite":
        url = f"sqlite:///{directory / f'ledger-{uuid.uuid4().hex[:8]}.db'}"
        upgrade(engine_for(url))  # a ledger, as on PostgreSQL: queries refuse a missing one
        yield url
        dispose_engines()
        return
    try:
        import psycopg

        with psycopg.connect(_admin_dsn(PG_URL), connect_timeout=3, autocommit=True):
            pass
    except Exception as error:  # any failure to connect means: no server here
        pytest.skip(f"no PostgreSQL server reachable at {PG_URL}: {error.__class__.__name__}")
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(PG_URL), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(engine_for(url))
        yield url
    finally:
        dispose_engines()
        with psycopg.connect(_admin_dsn(PG_URL), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def another_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty ledger database on the same engine as `db_url`."""
    with fresh_database("sqlite" if db_url.startswith("sqlite") else "postgres", tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per module and engine, for tests that never write to it."""
    with fresh_database(request.param, tmp_path_factory.mktemp("shared")) as url:
        yield url
