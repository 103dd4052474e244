"""The two database engines every integration, end-to-end and reliability test runs on.

One home for the PostgreSQL test server: where it is (``$LEDGER_TEST_PG``), whether it
answers (tests skip, saying why, only where it does not), and making, copying and dropping
the databases the tests get. Each pytest process — so each pytest-xdist worker — migrates
a template database of its own once; a test's ledger is a ``CREATE DATABASE … TEMPLATE``
copy of it, which costs a few tens of milliseconds where migrating costs a second.
Workers never share a template, because PostgreSQL refuses to copy a template another
session is connected to, and names carry a random part so that sessions side by side
(other worktrees, other workers) never collide.

Nothing here is a test, and nothing here is a fixture: the fixtures (tests/conftest.py)
and the reliability suite's clones (tests/reliability/reliability_support.py) build on it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

#: The engines, in the order tests are parametrised with them.
ENGINES = ("sqlite", "postgres")

PG_URL = os.environ.get("LEDGER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class PostgresServer:
    """The PostgreSQL server the tests use, reached through its maintenance database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._checked = False
        self._reason: str | None = None
        self._template: str | None = None
        self._doomed: queue.Queue[str] = queue.Queue()
        self._dropper: threading.Thread | None = None

    def admin_dsn(self) -> str:
        """A plain psycopg DSN of the URL's own database, for CREATE/DROP DATABASE."""
        return (
            make_url(self.url)
            .render_as_string(hide_password=False)
            .replace("postgresql+psycopg", "postgresql")
        )

    def url_of(self, name: str) -> str:
        """The SQLAlchemy URL of database `name` on this server."""
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def unavailable(self) -> str | None:
        """None when the server answers, else why not (asked once per process)."""
        if not self._checked:
            self._checked = True
            try:
                import psycopg

                with psycopg.connect(self.admin_dsn(), connect_timeout=3, autocommit=True):
                    pass
            except ImportError:
                self._reason = "psycopg is not installed (pip install '.[postgres]')"
            except Exception as error:  # any failure to connect means: no server here
                self._reason = (
                    f"no PostgreSQL server reachable at {self.url}: {error.__class__.__name__}"
                )
        return self._reason

    def _execute(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]  # names are ours, never input

    def create(self, *, migrated: bool = False, template: str | None = None) -> str:
        """A new database and its URL: empty (copied from ``template0``, so not even an
        Alembic version table), a copy of this process's migrated template, or a copy of
        the database named `template`."""
        if migrated:
            template = self.migrated_template()
        name = f"ledger_test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template or "template0"}"')
        return self.url_of(name)

    def drop(self, url: str) -> None:
        """Drop the database of `url`, closing whatever connections still hold it."""
        self._execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def drop_soon(self, url: str) -> None:
        """Drop the database of `url` on a thread of its own, so the next test need not
        wait: a drop takes the server up to a second or more when the machine is busy.
        Every database handed over is dropped before the process exits."""
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_doomed, daemon=True)
            self._dropper.start()
            atexit.register(self._doomed.join)
        self._doomed.put(url)

    def _drop_doomed(self) -> None:
        while True:
            url = self._doomed.get()
            try:
                self.drop(url)
            except Exception:  # the server may be gone at exit; a leftover database is harmless
                pass
            finally:
                self._doomed.task_done()

    def migrated_template(self) -> str:
        """This process's template at the head revision, made on first use."""
        if self._template is None:
            from ledger.database import dispose_engines, engine_for
            from ledger.schema import upgrade

            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            name = f"ledger_test_template_{worker}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            self._execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
            upgrade(engine_for(self.url_of(name)))
            dispose_engines()  # a template must have no connection when it is copied
            self._template = name
            atexit.register(self._drop_template)
        return self._template

    def _drop_template(self) -> None:
        if self._template is None:
            return
        # The server may be gone at exit; a leftover template is harmless.
        with contextlib.suppress(Exception):
            self.drop(self.url_of(self._template))


POSTGRES = PostgresServer(PG_URL)


def sqlite_file_url(directory: Path) -> str:
    """A new SQLite file in `directory` (a test's own tmp path: xdist-safe). Nothing is
    created until a ledger opens it, which also migrates it."""
    return f"sqlite:///{directory / f'ledger-{uuid.uuid4().hex[:8]}.db'}"


@contextmanager
def fresh_database(engine: str, directory: Path, *, empty: bool = False) -> Iterator[str]:
    """A new ledger database on `engine`, dropped afterwards. On PostgreSQL it is migrated
    to head unless `empty`; a SQLite file is made (and migrated) by the first ledger that
    opens it, as a user's would be."""
    from ledger.database import dispose_engines

    if engine == "sqlite":
        yield sqlite_file_url(directory)
        dispose_engines()
        return
    url = POSTGRES.create(migrated=not empty)
    try:
        yield url
    finally:
        dispose_engines()
        POSTGRES.drop_soon(url)
