"""The tables the code declares are the tables the migrations build (SQLite and PostgreSQL).

Alembic owns every table, but the code declares them too: the read models in
`projections/models.py`, the event store through eventsourcing-sqlalchemy's record classes
and `ledger/store.py`. A column added to a model without a migration would only show up as
a failed query on someone's ledger; here Alembic's autogenerate comparison
(`compare_metadata`) of the declared tables against a database migrated to head must find
nothing at all.

A few objects exist only in the migrations, on purpose, because SQLAlchemy metadata cannot
declare them; the comparison skips exactly those, each for the reason given below. (Triggers
— the append-only guards of migration 0002 — are not compared by autogenerate at all; the
schema tests check them.)
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Index, MetaData, String, Table, Text, TypeDecorator, text
from sqlalchemy.engine import Connection

import ledger
import projections
from ledger import store
from ledger.application import Ledger
from projections import models

# SQLite: the full-text index `rm_search` is an FTS5 virtual table (migration 0006), which
# SQLAlchemy can neither create nor reflect faithfully: FTS5 makes shadow tables of its own
# to hold the index, and the virtual table's columns carry no type and no NOT NULL.
FTS5_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")
# PostgreSQL: `rm_search.document` is a generated tsvector column with a GIN index
# (migration 0006). The projection never writes it and the search query names it in SQL,
# so the model declares only the columns the code writes and reads.
POSTGRES_ONLY = {
    ("column", "rm_search", "document"),
    ("index", "rm_search", "ix_rm_search_document"),
}


def declared_metadata(app: Ledger) -> MetaData:
    """Every table the code declares, copied into one MetaData: the read models, the
    ledger's own tables (tree heads, settings…), and the event store's tables as the
    ledger's recorders define them. Every module is imported first, so a table declared
    anywhere in `ledger` or `projections` is counted."""
    for package in (ledger, projections):
        for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    declared = MetaData()
    recorder_tables = (
        app.recorder.events_table,
        app.recorder.heads_table,
        app.tracking_recorder.tracking_table,
    )
    for table in (*models.metadata.tables.values(), *store.metadata.tables.values()):
        table.to_metadata(declared)
    for table in recorder_tables:
        if table.name not in declared.tables:
            table.to_metadata(declared)
    return declared


def _virtual_tables(connection: Connection) -> set[str]:
    query = "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'"
    return set(connection.execute(text(query)).scalars())


def _compare_type(connection: Connection) -> Callable[..., bool | None]:
    """Alembic's type comparison, except for type decorators on SQLite.

    eventsourcing-sqlalchemy stores stream ids as sqlalchemy-utils' UUIDType, which SQLite
    keeps as BINARY(16); SQLite reflects a type name it does not know by its affinity
    (NUMERIC), so there the declared DDL type is compared with the decorator's own.
    """

    def compare(
        context: Any, inspected: Column[Any], declared: Column[Any], _: Any, declared_type: Any
    ) -> bool | None:
        if connection.dialect.name != "sqlite" or not isinstance(declared_type, TypeDecorator):
            return None  # Alembic's own comparison
        rows = connection.exec_driver_sql(f'PRAGMA table_info("{declared.table.name}")')
        ddl = {row[1]: row[2] for row in rows}[declared.name]
        stored = declared_type.load_dialect_impl(connection.dialect)
        return ddl.upper() != stored.compile(dialect=connection.dialect).upper()

    return compare


def schema_drift(connection: Connection, declared: MetaData) -> list[Any]:
    """Alembic's differences between the database and `declared`, less the objects above."""
    virtual = _virtual_tables(connection) if connection.dialect.name == "sqlite" else set()
    shadows = {v + suffix for v in virtual for suffix in FTS5_SHADOW_SUFFIXES}

    def include_name(name: str | None, type_: str, _: Any) -> bool:
        return not (type_ == "table" and name in shadows)

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, _: Any) -> bool:
        if connection.dialect.name != "postgresql" or not reflected or type_ == "table":
            return True
        return (type_, obj.table.name, name) not in POSTGRES_ONLY

    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": _compare_type(connection),
            "include_name": include_name,
            "include_object": include_object,
        },
    )
    differences = compare_metadata(context, declared)
    # Columns of a virtual table have no NOT NULL to reflect; names and presence still count.
    return [
        d
        for d in differences
        if not (isinstance(d, list) and d[0][0] == "modify_nullable" and d[0][2] in virtual)
    ]


@pytest.fixture
def migrated(db_url: str) -> Any:
    """A ledger at the head revision (built by the migrations, as `ledger init` does)."""
    app = Ledger(db_url)
    yield app
    app.close()


def test_the_declared_tables_are_the_tables_the_migrations_build(migrated: Ledger) -> None:
    declared = declared_metadata(migrated)
    assert {"ledger_events", "ledger_events_merkle", "ledger_tracking", "rm_search"} <= set(
        declared.tables
    )
    assert "ledger_settings" in declared.tables  # declared by ledger.origin, not by store
    with migrated.engine.connect() as connection:
        assert schema_drift(connection, declared) == []


def _add_column(declared: MetaData) -> None:
    declared.tables["rm_occurrences"].append_column(Column("stance", String(16)))


def _widen_column(declared: MetaData) -> None:
    declared.tables["rm_endorsements"].c.act.type = String(64)


def _add_index(declared: MetaData) -> None:
    Index("ix_rm_amendments_kind", declared.tables["rm_amendments"].c.kind)


def _add_table(declared: MetaData) -> None:
    Table("rm_notes", declared, Column("id", String(200), primary_key=True), Column("body", Text))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_add_column, "add_column"),
        (_widen_column, "modify_type"),
        (_add_index, "add_index"),
        (_add_table, "add_table"),
    ],
    ids=["column", "type", "index", "table"],
)
def test_a_model_changed_without_a_migration_is_caught(
    migrated: Ledger, change: Callable[[MetaData], None], expected: str
) -> None:
    """The same comparison fails once the declarations move away from the migrations."""
    declared = declared_metadata(migrated)
    change(declared)
    with migrated.engine.connect() as connection:
        drift = schema_drift(connection, declared)
    kinds = [d[0][0] if isinstance(d, list) else d[0] for d in drift]
    assert kinds == [expected], drift
