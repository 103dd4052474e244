"""Engines configured for the ledger's locking rules, with nothing but SQLAlchemy Core.

Writers and readers share one engine per URL per process. It lives apart from the
event store (`ledger.store`, which needs eventsourcing and the ORM) so that a query whose
read models are already fresh starts without importing either.

SQLite: the driver's own transaction handling is switched off so that the ledger chooses
``BEGIN IMMEDIATE`` for writers (the write lock up front) and a plain ``BEGIN`` for
readers; WAL lets readers go on while one writer writes. PostgreSQL: writers take a
table lock themselves (`ledger.store`), readers ask for one snapshot (`read_only`).
Either way a wait for the write lock ends after `lock_timeout()` seconds.

A database that cannot be opened is the user's to fix, not a bug: `explain` turns the
drivers' errors (a bad URL, a missing folder, a file that is not a database, a server
that does not answer, read-only or full media) into one line naming the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.sql import column, table

from ledger.errors import DatabaseUnavailable, LedgerError, NoLedger, RetryableError

#: The event store's tables as readers see them: only the columns they select.
log_table = table("ledger_events", column("id"), column("recorded_at"))
tracking_table = table("ledger_tracking", column("application_name"), column("notification_id"))


#: Seconds a command waits for another process's write lock before giving up.
LOCK_TIMEOUT_VARIABLE = "LEDGER_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 60.0


def lock_timeout() -> float:
    """How long to wait for the write lock: $LEDGER_LOCK_TIMEOUT seconds, else 60."""
    value = os.environ.get(LOCK_TIMEOUT_VARIABLE)
    if not value:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86400:
        raise LedgerError(
            f"{LOCK_TIMEOUT_VARIABLE} must be a number of seconds from 0 to 86400, "
            f"not {value[:40]!r}"
        )
    return seconds


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the driver so BEGIN is ours to choose.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout() * 1000)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _bind_bytes_as_they_are() -> None:
    """Have the sqlite3 driver bind `bytes` without looking for an adapter first.

    The driver binds text, numbers and bytearrays directly, but asks of every other
    value, bytes included, whether an adapter is registered, then whether the protocol
    or the value can adapt it, and the protocol's answer is an AttributeError whose
    message is formatted and thrown away: per event row (stream id, state, leaf hash)
    that was a twentieth of the import's writer. An adapter registered for `bytes`
    itself is found first and returns the same object (``bytes(b) is b``), so what is
    stored is unchanged. The registry is the driver's, for the whole process; a value
    of a subclass of bytes is not concerned (the registry is keyed by exact type).
    """
    import sqlite3  # here: a PostgreSQL ledger's commands need not import it

    sqlite3.register_adapter(bytes, bytes)


def _writing(connection: Connection) -> bool:
    """Whether the transaction about to begin writes: its connection says so
    (``ledger_write``; the recorders' write transactions set it, see ledger.eventstore)."""
    return bool(connection.get_execution_options().get("ledger_write"))


def _sqlite_begin(connection: Connection) -> None:
    # A write transaction takes the write lock up front: a deferred one that read
    # first would fail with SQLITE_BUSY_SNAPSHOT the moment another writer committed.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _writing(connection) else "BEGIN")


_engines: dict[str, Engine] = {}


def parse_url(url: str) -> URL:
    """The URL, or a message saying what a database URL looks like."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or not parsed.drivername:
        shown = _shorten(url)
        raise DatabaseUnavailable(
            f"--db takes a database URL such as sqlite:///{shown or 'ledger.db'} or "
            f"postgresql+psycopg://user@host/db, not {shown!r}"
        )
    return parsed


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names (None for other engines and in-memory databases).

    Both ``sqlite:///path`` and the URI form ``sqlite:///file:path?mode=ro&uri=true``.
    """
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if parsed.query.get("uri") in ("true", "1") and database.startswith("file:"):
        database = unquote(database[len("file:") :].split("?", 1)[0])
        if database.startswith("//"):  # file://host/path: the host is empty or localhost
            database = "/" + database[2:].partition("/")[2]
    if database in ("", ":memory:") or "mode=memory" in str(parsed.query):
        return None
    return Path(database)


def shown(url: str) -> str:
    """How a message names a database: the file for SQLite, else the URL without password."""
    try:
        parsed = make_url(url)
        path = sqlite_file(parsed)
    except (ArgumentError, DatabaseUnavailable):
        return _shorten(url)
    if path is not None:
        return str(path)
    return _shorten(parsed.render_as_string(hide_password=True))


def require_ledger(url: str, *, create: bool) -> None:
    """Refuse to go on where opening the database would make an unwanted or impossible file.

    SQLite makes a file by connecting to it, so a command that must not create a ledger
    checks first that one exists ("no ledger at PATH"), and one that may create it
    checks that its folder exists. Other engines are checked by the schema instead.
    """
    path = sqlite_file(url)
    if path is None:
        return
    if path.is_dir():
        raise DatabaseUnavailable(f"{path} is a folder, not a ledger database file")
    if path.exists():
        return
    if not create:
        raise NoLedger(
            f"no ledger at {path}: check the path, or create one with `ledger init` "
            "(or `ledger import`)"
        )
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseUnavailable(
            f"cannot create a ledger at {path}: the folder {folder} does not exist"
        )


def _sqlite_url(url: URL) -> URL:
    """Open a ledger on read-only media without writing beside it.

    SQLite's write-ahead log needs its -shm file next to the database. In a folder that
    cannot be written and with no -wal file left behind (nothing uncheckpointed), the
    database file is all there is, so it is opened immutable: `verify`, `log` and fresh
    queries work on a read-only copy instead of failing to open.
    """
    path = sqlite_file(url)
    if path is None or url.query.get("uri") or not path.is_file():
        return url
    folder = path.parent
    if os.access(folder, os.W_OK) or Path(f"{path}-wal").exists():
        return url
    database = f"file:{quote(str(path.resolve()))}"
    return url.set(database=database).update_query_dict(
        {"mode": "ro", "immutable": "1", "uri": "true"}
    )


def _is_psycopg(url: URL) -> bool:
    return url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg"


def engine_for(url: str) -> Engine:
    """One engine per URL per process, configured for the ledger's locking rules."""
    engine = _engines.get(url)
    if engine is not None:
        return engine
    parsed = parse_url(url)
    timeout = lock_timeout()
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(
                _sqlite_url(parsed),
                connect_args={"timeout": timeout, "check_same_thread": False},
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            _bind_bytes_as_they_are()
            event.listen(engine, "begin", _sqlite_begin)
        else:
            connect_args: dict[str, Any] = {}
            if parsed.get_backend_name() == "postgresql":
                connect_args["connect_timeout"] = 10
                if "options" not in parsed.query:
                    connect_args["options"] = f"-c lock_timeout={int(timeout * 1000)}"
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args=connect_args,
                # No column is an hstore: skip the type lookup on first connect (a round
                # trip every process pays before its first statement).
                **({"use_native_hstore": False} if _is_psycopg(parsed) else {}),
            )
    except (NoSuchModuleError, ImportError) as error:
        raise DatabaseUnavailable(
            f"cannot open {shown(url)}: no driver for {parsed.drivername!r} "
            f"({_first_line(error)}); the ledger runs on sqlite:/// and postgresql+psycopg://"
        ) from None
    except ArgumentError as error:
        raise DatabaseUnavailable(f"cannot open {shown(url)}: {_first_line(error)}") from None
    _engines[url] = engine
    return engine


def close_connections() -> None:
    """Close every pooled connection; the engines stay usable and cached."""
    for engine in _engines.values():
        engine.dispose()


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines, as a new process would."""
    close_connections()
    _engines.clear()


@contextmanager
def driver_cursor(connection: Connection, statement: str) -> Iterator[Any]:
    """The driver's own cursor in `connection`'s transaction, its errors raised as
    SQLAlchemy's (as if SQLAlchemy had run `statement`), so that callers, the library's
    transaction and the CLI tell a duplicate row, a read-only file or a lost server
    apart exactly as for any other statement; a lost connection is invalidated.

    Bulk writes go straight to the driver: SQLAlchemy's per-row parameter processing
    cost more than the inserts themselves."""
    dialect = connection.dialect
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, connection.connection, cursor):
            connection.invalidate(error)
        raise DBAPIError.instance(
            statement, None, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        cursor.close()


def insert_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows (values in `columns`' order, each as the driver binds that column) in
    `connection`'s transaction. SQLite: one `executemany`. PostgreSQL: `COPY`, which
    sends the rows as one stream, where `executemany` sends a statement per row that the
    server parses, plans and answers one by one (about three times slower)."""
    if not rows:
        return
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        statement = f"COPY {table} ({names}) FROM STDIN"
        with driver_cursor(connection, statement) as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(columns))
    statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    with driver_cursor(connection, statement) as cursor:
        cursor.executemany(statement, rows)


def read_only(connection: Connection) -> None:
    """Give a read transaction one snapshot of the database for all its statements."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


# -- what went wrong, in one line ------------------------------------------------------

MAX_SHOWN = 120

# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


def _shorten(value: str, limit: int = MAX_SHOWN) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return _shorten(lines[0] if lines else type(error).__name__)


def _driver_error(error: BaseException) -> BaseException | None:
    """The driver's own exception under SQLAlchemy's and eventsourcing's wrappers."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        module = type(current).__module__
        if module.startswith(("sqlite3", "psycopg")):
            return current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None


def explain(error: BaseException, url: str) -> LedgerError:
    """One line saying what went wrong with the database, for any driver error."""
    driver = _driver_error(error)
    where = shown(url)
    if driver is None:
        return DatabaseUnavailable(f"database error on {where}: {_first_line(error)}")
    if type(driver).__module__.startswith("sqlite3"):
        return _explain_sqlite(driver, url, where)
    return _explain_postgresql(driver, where)


def _busy(where: str) -> RetryableError:
    return RetryableError(
        f"another process held the write lock of {where} for over {lock_timeout():g} s "
        f"(${LOCK_TIMEOUT_VARIABLE}); nothing was written: try again"
    )


def _explain_sqlite(driver: BaseException, url: str, where: str) -> LedgerError:
    code = getattr(driver, "sqlite_errorcode", 0) & 0xFF
    reason = _first_line(driver)
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return _busy(where)
    if code == _SQLITE_FULL:
        return DatabaseUnavailable(f"the disk holding {where} is full; nothing was written")
    if code == _SQLITE_READONLY:
        return DatabaseUnavailable(
            f"{where} is read-only (its file, folder or medium): commands that write, or "
            "that bring the read models up to date, cannot run on it"
        )
    if code == _SQLITE_NOTADB:
        return DatabaseUnavailable(f"{where} is not a ledger database (not an SQLite file)")
    if code == _SQLITE_CORRUPT:
        return DatabaseUnavailable(f"{where} is damaged ({reason}); restore it from a copy")
    if code == _SQLITE_CANTOPEN:
        path = sqlite_file(url)
        if path is not None and not path.parent.is_dir():
            return DatabaseUnavailable(
                f"cannot open {where}: the folder {path.parent} does not exist"
            )
        return DatabaseUnavailable(
            f"cannot open {where}: the file or its folder cannot be read or written"
        )
    if code == _SQLITE_IOERR:
        return DatabaseUnavailable(f"input/output error on {where}: {reason}")
    return DatabaseUnavailable(f"database error on {where}: {reason}")


def _explain_postgresql(driver: BaseException, where: str) -> LedgerError:
    state = getattr(driver, "sqlstate", None) or ""
    reason = _first_line(driver)
    if state == "3D000":
        return NoLedger(f"no ledger at {where}: the database does not exist")
    if state in ("55P03", "40P01"):
        return _busy(where)
    if state == "53100":
        return DatabaseUnavailable(
            f"the disk of the database server for {where} is full; nothing was written"
        )
    if state == "25006":
        return DatabaseUnavailable(f"{where} is read-only: commands that write cannot run")
    if state.startswith("28"):
        return DatabaseUnavailable(f"the database server refused to log in to {where}: {reason}")
    if state.startswith(("08", "57P")):
        return DatabaseUnavailable(f"the connection to {where} was lost: {reason}")
    if not state and " does not exist" in str(driver) and "database" in str(driver):
        return NoLedger(f"no ledger at {where}: the database does not exist")
    if not state:  # no answer at all: the connection could not be made
        return DatabaseUnavailable(f"cannot reach the database server for {where}: {reason}")
    return DatabaseUnavailable(f"database error on {where}: {reason}")
