"""Engines configured for the ledger's locking rules, with nothing but SQLAlchemy Core.

Writers and readers share one engine per URL per process. It lives apart from the
event store (`ledger.store`, which needs eventsourcing and the ORM) so that a query whose
read models are already fresh starts without importing either.

SQLite: the driver's own transaction handling is switched off so that the ledger chooses
``BEGIN IMMEDIATE`` for writers (the write lock up front) and a plain ``BEGIN`` for
readers; WAL lets readers go on while one writer writes. PostgreSQL: writers take a
table lock themselves (`ledger.store`), readers ask for one snapshot (`read_only`).
"""

from __future__ import annotations

import sys
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, create_engine
from sqlalchemy.sql import column, table

#: The event store's tables as readers see them: only the columns they select.
log_table = table("ledger_events", column("id"), column("recorded_at"))
tracking_table = table("ledger_tracking", column("application_name"), column("notification_id"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the driver so BEGIN is ours to choose.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _writing(connection: Connection) -> bool:
    """Whether the transaction about to begin writes.

    eventsourcing-sqlalchemy's recorders say so in a context variable; it is only looked
    up when that library is loaded, since without it no recorder transaction can exist.
    """
    datastore = sys.modules.get("eventsourcing_sqlalchemy.datastore")
    if datastore is not None:
        try:
            return bool(datastore.transactions.get().commit)
        except LookupError:
            pass
    return bool(connection.get_execution_options().get("ledger_write"))


def _sqlite_begin(connection: Connection) -> None:
    # A write transaction takes the write lock up front: a deferred one that read
    # first would fail with SQLITE_BUSY_SNAPSHOT the moment another writer committed.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _writing(connection) else "BEGIN")


_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One engine per URL per process, configured for the ledger's locking rules."""
    engine = _engines.get(url)
    if engine is not None:
        return engine
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
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


def read_only(connection: Connection) -> None:
    """Give a read transaction one snapshot of the database for all its statements."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
