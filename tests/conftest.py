"""Fixtures shared by every layer: fresh ledgers on SQLite and on PostgreSQL.

The same integration, end-to-end and reliability tests run against both engines through
one parametrisation, `engine_name`; PostgreSQL tests skip, saying why, only where no server
answers (set LEDGER_TEST_PG to point elsewhere). Every test gets databases of its own —
SQLite files in its own tmp path, PostgreSQL copies of a migrated template of its own
pytest process (tests/engines.py) — so tests run side by side under pytest-xdist.
`engine_name` is module-scoped so that a module's `shared_url` ledger (built once per
module and engine) and its tests' own databases are on the same engine.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pace
import pytest
from engines import ENGINES, POSTGRES, fresh_database, sqlite_file_url


def pytest_configure(config: pytest.Config) -> None:
    """The fast path (`-m "not slow"`) also runs the property tests on fewer examples."""
    pace.THOROUGH = "not slow" not in (config.option.markexpr or "")


@pytest.fixture(scope="module", params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """The engine under test: each test using a database runs once per engine."""
    if request.param == "postgres":
        reason = POSTGRES.unavailable()
        if reason:
            pytest.skip(reason)
    return request.param


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A new SQLite file, for tests of what only SQLite does."""
    from ledger.database import dispose_engines

    yield sqlite_file_url(tmp_path)
    dispose_engines()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new PostgreSQL database at the head revision, for tests of what only it does."""
    reason = POSTGRES.unavailable()
    if reason:
        pytest.skip(reason)
    with fresh_database("postgres", Path()) as url:
        yield url


@pytest.fixture
def db_url(engine_name: str, request: pytest.FixtureRequest) -> str:
    """A fresh, empty ledger database on each engine."""
    return request.getfixturevalue(f"{engine_name}_url")


@pytest.fixture
def fresh_url(engine_name: str, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it at all, not even an Alembic version table."""
    with fresh_database(engine_name, tmp_path, empty=True) as url:
        yield url


@pytest.fixture
def another_db_url(engine_name: str, tmp_path: Path) -> Iterator[str]:
    """A second ledger database on the same engine as `db_url`, empty until a ledger
    opens it and makes its schema, as a user's new ledger is: not a copy of the test
    template, so it gets its own origin (migration 0007 names each new ledger)."""
    with fresh_database(engine_name, tmp_path, empty=True) as url:
        yield url


@pytest.fixture(scope="module")
def shared_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per module and engine, for tests that never write to it."""
    with fresh_database(engine_name, tmp_path_factory.mktemp("shared")) as url:
        yield url


@pytest.fixture
def ledger(db_url: str):  # type: ignore[no-untyped-def]
    from ledger.application import Ledger

    app = Ledger(db_url)
    yield app
    app.close()


@pytest.fixture(autouse=True)
def _collector_left_as_found() -> Iterator[None]:
    """Every test leaves the garbage collector as it found it: on, and nothing frozen that
    was not. Code that disabled or froze it for good (the import probe, once) made every
    later test in the session slower and let cyclic garbage pile up for good."""
    enabled, frozen = gc.isenabled(), gc.get_freeze_count()
    yield
    assert gc.isenabled() == enabled, "the garbage collector was left switched off"
    assert gc.get_freeze_count() <= frozen, "objects were left frozen (gc.freeze)"
