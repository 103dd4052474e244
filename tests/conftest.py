"""Fixtures shared by every layer: fresh ledgers on SQLite and on PostgreSQL.

The same integration and end-to-end tests run against both engines. PostgreSQL tests
skip, saying why, only where no server answers (set LEDGER_TEST_PG to point elsewhere);
each test gets a database of its own, cloned from a migrated template for speed.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "ledger" / "examples" / "iraq-iran-2025.yaml"
PG_URL = os.environ.get("LEDGER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# One template per test session: sessions running side by side must not share it.
TEMPLATE = f"ledger_test_template_{os.getpid()}"

_pg_state: dict[str, object] = {}


def _pg_admin_dsn(database: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL).set(database=database)
    return url.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if "reason" in _pg_state:
        return _pg_state["reason"]  # type: ignore[return-value]
    reason: str | None = None
    try:
        import psycopg

        with psycopg.connect(_pg_admin_dsn("test"), connect_timeout=3, autocommit=True):
            pass
    except ImportError:
        reason = "psycopg is not installed (pip install '.[postgres]')"
    except Exception as error:  # any failure to connect means: no server here
        reason = f"no PostgreSQL server reachable at {PG_URL}: {error.__class__.__name__}"
    _pg_state["reason"] = reason
    return reason


def _pg_template() -> None:
    if _pg_state.get("template"):
        return
    import psycopg

    from ledger.database import dispose_engines, engine_for
    from ledger.schema import upgrade

    with psycopg.connect(_pg_admin_dsn("test"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    template_url = PG_URL.rsplit("/", 1)[0] + f"/{TEMPLATE}"
    upgrade(engine_for(template_url))
    dispose_engines()
    _pg_state["template"] = True
    atexit.register(_drop_template)


def _drop_template() -> None:
    import psycopg

    try:
        with psycopg.connect(_pg_admin_dsn("test"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    except Exception:  # the server may be gone at exit; a leftover template is harmless
        pass


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    from ledger.database import dispose_engines

    yield f"sqlite:///{tmp_path / 'ledger.db'}"
    dispose_engines()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    import psycopg

    from ledger.database import dispose_engines

    _pg_template()
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_admin_dsn("test"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    dispose_engines()
    with psycopg.connect(_pg_admin_dsn("test"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty ledger database on each engine."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database with nothing in it at all, not even an Alembic version table."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    # postgres_url's database is already migrated; a sibling made from template0 is empty.
    from sqlalchemy.engine import make_url

    from ledger.database import dispose_engines

    sibling = make_url(request.getfixturevalue("postgres_url"))
    admin = sibling.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"ledger_fresh_{uuid.uuid4().hex[:12]}"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    yield sibling.set(database=name).render_as_string(hide_password=False)
    dispose_engines()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def ledger(db_url: str):  # type: ignore[no-untyped-def]
    from ledger.application import Ledger

    app = Ledger(db_url)
    yield app
    app.close()
