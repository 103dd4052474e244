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
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

#: The engines, in the order tests are parametrised with them.
ENGINES = ("sqlite", "postgres")

PG_URL = os.environ.get("LEDGER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class PostgresServer:
    """The PostgreSQL server the tests use, reached through its maintenance database.

    Making and dropping a database costs the server from a few tenths of a second to over
    a second on a busy machine, so neither is left in a test's way: one thread makes the
    next migrated copy while a test runs (`take_migrated`), another drops the databases
    tests are done with (`drop_soon`). At exit both are wound down in order, the spare
    copy and the template dropped, so a run leaves no database behind.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._checked = False
        self._reason: str | None = None
        self._template: str | None = None
        self._ready: queue.Queue[str | Exception] = queue.Queue(maxsize=1)
        self._doomed: queue.Queue[str] = queue.Queue()
        self._threads: dict[str, threading.Thread] = {}
        self._closing = threading.Event()
        self._closes_at_exit = False

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

    def take_migrated(self) -> str:
        """A database at the head revision, made while the previous test ran."""
        self._start("maker", self._make_ahead)
        made = self._ready.get()
        if isinstance(made, Exception):
            raise made
        return made

    def _make_ahead(self) -> None:
        while not self._closing.is_set():
            try:
                made: str | Exception = self.create(migrated=True)
            except Exception as error:  # handed to the test that asks next, which fails
                made = error
            self._ready.put(made)

    def drop(self, url: str) -> None:
        """Drop the database of `url`, closing whatever connections still hold it."""
        self._execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def drop_soon(self, url: str) -> None:
        """Drop the database of `url` on the dropping thread; the caller goes on at once."""
        self._start("dropper", self._drop_doomed)
        self._doomed.put(url)

    def _drop_doomed(self) -> None:
        while True:
            url = self._doomed.get()
            # The server may be gone at exit; a leftover database is harmless.
            with contextlib.suppress(Exception):
                self.drop(url)
            self._doomed.task_done()

    def _close_at_exit(self) -> None:
        if not self._closes_at_exit:
            self._closes_at_exit = True
            atexit.register(self._close)

    def _start(self, name: str, work: Callable[[], None]) -> None:
        if name not in self._threads:
            self._close_at_exit()
            if name == "maker":
                self.migrated_template()  # here: making it disposes this process's engines
            self._threads[name] = threading.Thread(target=work, name=name, daemon=True)
            self._threads[name].start()

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
            self._close_at_exit()
        return self._template

    def _close(self) -> None:
        """At exit: stop making copies, drop the spare one, finish dropping, drop the
        template last (a copy being made from it would stop its drop)."""
        self._closing.set()
        maker = self._threads.get("maker")
        deadline = time.monotonic() + 60
        while maker is not None and maker.is_alive() and time.monotonic() < deadline:
            # Take what it made (or is making) so that it sees it is closing and stops.
            with contextlib.suppress(queue.Empty):
                spare = self._ready.get(timeout=0.5)
                if isinstance(spare, str):
                    self.drop_soon(spare)
        while not self._ready.empty():
            spare = self._ready.get()
            if isinstance(spare, str):
                self.drop_soon(spare)
        if "dropper" in self._threads:
            self._doomed.join()
        if self._template is not None:
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
    url = POSTGRES.create() if empty else POSTGRES.take_migrated()
    try:
        yield url
    finally:
        dispose_engines()
        POSTGRES.drop_soon(url)
