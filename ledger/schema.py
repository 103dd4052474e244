"""The database schema is Alembic's: every table, the event store's included.

The library's own table creation is off; this module upgrades, downgrades and checks
the schema so that a ledger never writes into a database it does not understand.

Every look at the schema that may lead to changing it holds the schema lock (SQLite's
write lock, taken by ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock) from reading the
revision to committing the migration, so four processes opening a new database at once
create it once: the others wait, then find it current.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from ledger.database import shown
from ledger.errors import NoLedger, SchemaError

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with mako and pygments) is a third of a query's start-up, so it is imported
# inside the functions that need it; `is_current` answers the usual case without it.


def migrations_dir() -> Path:
    """Inside an installed wheel the migrations ship as ``ledger/migrations``."""
    shipped = Path(__file__).parent / "migrations"
    if (shipped / "env.py").exists():
        return shipped
    return Path(__file__).resolve().parent.parent / "alembic"


_REVISION = re.compile(r'^(down_)?revision\s*=\s*["\']?([^"\'\s]+)', re.MULTILINE)


@functools.cache
def _newest_revision() -> str | None:
    """The head of the migration files, read from their `revision`/`down_revision` lines.

    Revision ids are assigned ahead of merging, so the newest file is not always the one
    with the highest number: the head is the revision that no other revises. None if
    that is not one revision (Alembic then decides).
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (migrations_dir() / "versions").glob("[0-9]*_*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revised if down else revisions).add(value)
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def is_current(bind: Engine | Connection) -> bool:
    """A fast yes for the usual case, without Alembic.

    True only if the database's revision is the head of the migration files. Anything
    else — no version table, an older or unknown revision, files whose head is unclear —
    answers False, and `ensure_schema` decides with Alembic itself. Given a connection,
    it reads in the caller's transaction (a query's snapshot, so a question costs no
    connection of its own); on False that transaction may be aborted (PostgreSQL, no
    version table) and is the caller's to roll back.
    """
    newest = _newest_revision()
    if newest is None:
        return False
    query = text("SELECT version_num FROM alembic_version")
    try:
        if isinstance(bind, Connection):
            rows = bind.execute(query).all()
        else:
            with bind.connect() as connection:
                rows = connection.execute(query).all()
    except Exception:  # no version table yet (or unreadable): let Alembic explain
        return False
    return [row[0] for row in rows] == [newest]


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


#: The key of the PostgreSQL advisory lock held while the schema is read and changed.
SCHEMA_LOCK = 0x6C6564676572  # "ledger"


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the schema lock; committed when the block ends."""
    with (
        engine.connect().execution_options(ledger_write=True) as connection,
        connection.begin(),  # SQLite: BEGIN IMMEDIATE, the write lock up front
    ):
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        yield connection


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def _migrate(connection: Connection, action: str, revision: str) -> None:
    current = _revision(connection)
    if current is not None and current not in known_revisions():
        raise _newer(current)  # Alembic would only say it cannot locate the revision
    from alembic import command

    cfg = _config()
    cfg.attributes["connection"] = connection
    getattr(command, action)(cfg, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _locked(engine) as connection:
        _migrate(connection, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _locked(engine) as connection:
        _migrate(connection, "downgrade", revision)


def _newer(current: str) -> SchemaError:
    return SchemaError(
        f"this database was written by a newer version of the ledger (schema {current}, "
        f"this program knows up to {head_revision()}); upgrade the program"
    )


def ensure_schema(engine: Engine, *, create: bool = True) -> None:
    """Initialise a fresh database (only if `create`); refuse an outdated or a newer one.

    The check and the creation happen under the schema lock, in one transaction.
    """
    head = head_revision()
    if not create:
        current = current_revision(engine)
        if current is None and not _has_ledger_tables(engine):
            where = shown(engine.url.render_as_string(hide_password=False))
            raise NoLedger(
                f"no ledger at {where}: create one with `ledger init` (or `ledger import`)"
            )
        _refuse_other(current, head)
        return
    with _locked(engine) as connection:
        current = _revision(connection)
        if current is None and not _has_ledger_tables(connection):
            _migrate(connection, "upgrade", "head")
            return
    _refuse_other(current, head)


def _has_ledger_tables(bind: Engine | Connection) -> bool:
    return bool(set(inspect(bind).get_table_names()) & {"ledger_events", "ledger_tracking"})


def _refuse_other(current: str | None, head: str) -> None:
    """Say why a schema that is not the newest cannot be used (nothing when it is)."""
    if current == head:
        return
    if current is None:
        raise SchemaError(
            "this database has ledger tables but no schema version; "
            "it was not made by `ledger init`"
        )
    if current not in known_revisions():
        raise _newer(current)
    raise SchemaError(
        f"the database schema is outdated ({current}, this program needs {head}): "
        "run `ledger init` to upgrade it"
    )
