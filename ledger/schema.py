"""The database schema is Alembic's: every table, the event store's included.

The library's own table creation is off; this module upgrades, downgrades and checks
the schema so that a ledger never writes into a database it does not understand.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from ledger.errors import SchemaError

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


def is_current(engine: Engine) -> bool:
    """A fast yes for the usual case, without Alembic.

    True only if the database's revision is the head of the migration files. Anything
    else — no version table, an older or unknown revision, files whose head is unclear —
    answers False, and `ensure_schema` decides with Alembic itself.
    """
    newest = _newest_revision()
    if newest is None:
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
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


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _run(engine: Engine, action: str, revision: str) -> None:
    current = current_revision(engine)
    if current is not None and current not in known_revisions():
        raise _newer(current)  # Alembic would only say it cannot locate the revision
    from alembic import command

    cfg = _config()
    with engine.connect().execution_options(ledger_write=True) as connection:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)
        connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)


def _newer(current: str) -> SchemaError:
    return SchemaError(
        f"this database was written by a newer version of the ledger (schema {current}, "
        f"this program knows up to {head_revision()}); upgrade the program"
    )


def ensure_schema(engine: Engine, *, create: bool = True) -> None:
    """Initialise a fresh database; refuse an outdated or a newer one with a clear message."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        tables = set(inspect(engine).get_table_names())
        if tables & {"ledger_events", "ledger_tracking"}:
            raise SchemaError(
                "this database has ledger tables but no schema version; "
                "it was not made by `ledger init`"
            )
        if not create:
            raise SchemaError("this database has no ledger schema: run `ledger init`")
        upgrade(engine)
        return
    if current not in known_revisions():
        raise _newer(current)
    raise SchemaError(
        f"the database schema is outdated ({current}, this program needs {head}): "
        "run `ledger init` to upgrade it"
    )
