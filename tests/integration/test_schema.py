"""The schema is Alembic's: made on first use, refused when it does not match, and
migrated both ways without losing a single event (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ledger.application import Ledger
from ledger.database import engine_for
from ledger.errors import NoLedger, SchemaError
from ledger.merkle import root_hash
from ledger.records import validate_record
from ledger.schema import current_revision, downgrade, head_revision, upgrade
from projections.catchup import catch_up, positions

READ_MODELS = (
    "rm_registry",
    "rm_occurrences",
    "rm_occurrence_actors",
    "rm_occurrence_agreements",
    "rm_endorsements",
    "rm_amendments",
)
EVENT_STORE = ("ledger_events", "ledger_events_merkle", "ledger_tracking")
RECORDS = [
    {
        "kind": "source",
        "id": "peregraf-2025-08-14",
        "title": "Iraq, Iran Sign Security Memorandum",
        "publisher": "Peregraf",
        "published": "2025-08-14T10:21",
        "type": "news-report",
        "reliability": "B",
    },
    {"kind": "actor", "id": "IRQ", "name": "Iraq", "type": "state"},
    {"kind": "actor", "id": "IRN", "name": "Iran", "type": "state"},
    {
        "kind": "meeting",
        "date": "2025-08-13",
        "participants": ["IRQ", "IRN"],
        "sources": ["peregraf-2025-08-14"],
    },
]


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def triggers(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        return {row[0] for row in connection.execute(text(query))}


def describe(engine: Engine) -> dict[str, Any]:
    """Everything about the schema a migration could get wrong, as comparable data."""
    inspector = inspect(engine)
    described: dict[str, Any] = {"triggers": triggers(engine)}
    for table in sorted(inspector.get_table_names()):
        described[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
        }
    return described


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def log_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(text("SELECT * FROM ledger_events ORDER BY id"))
        ]


def import_example(app: Ledger) -> None:
    result = app.import_records(
        [(None, validate_record(raw)) for raw in RECORDS], recorded_by="tester"
    )
    assert result.added == len(RECORDS)


# -- first use -------------------------------------------------------------------------


def test_a_fresh_database_is_initialised_on_first_use(fresh_url: str) -> None:
    engine = engine_for(fresh_url)
    assert current_revision(engine) is None
    assert tables(engine) == set()

    app = Ledger(fresh_url)
    try:
        assert current_revision(engine) == head_revision()
        assert {*EVENT_STORE, *READ_MODELS} <= tables(engine)
        stored = StoredEvent(uuid.uuid4(), 1, "tests.integration:Happened", b"{}")
        assert list(app.recorder.insert_events([stored])) == [1]
    finally:
        app.close()

    reopened = Ledger(fresh_url)
    try:
        assert reopened.recorder.max_notification_id() == 1
    finally:
        reopened.close()


def test_a_fresh_database_is_left_alone_when_creation_is_off(fresh_url: str) -> None:
    with pytest.raises(NoLedger, match=r"no ledger at .*ledger init"):
        Ledger(fresh_url, create=False)

    engine = engine_for(fresh_url)
    assert current_revision(engine) is None
    assert tables(engine) == set()


# -- refusing a schema that does not match ---------------------------------------------


def test_an_outdated_schema_is_refused_with_a_pointer_to_ledger_init(db_url: str) -> None:
    Ledger(db_url).close()
    engine = engine_for(db_url)
    downgrade(engine, "0002")

    with pytest.raises(SchemaError, match=r"outdated.*`ledger init`"):
        Ledger(db_url)

    assert current_revision(engine) == "0002"  # not upgraded behind the user's back
    assert not tables(engine) & set(READ_MODELS)
    upgrade(engine)  # what `ledger init` does
    Ledger(db_url).close()


def test_a_schema_written_by_a_newer_version_is_refused(db_url: str) -> None:
    Ledger(db_url).close()
    engine = engine_for(db_url)
    before = describe(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_later'"))

    with pytest.raises(SchemaError, match="newer version"):
        Ledger(db_url)
    with pytest.raises(SchemaError, match="newer version"):
        Ledger(db_url, create=False)

    assert current_revision(engine) == "9999_from_later"
    assert describe(engine) == before


# -- migrating both ways ---------------------------------------------------------------


def test_downgrading_to_base_and_upgrading_to_head_round_trips(db_url: str) -> None:
    Ledger(db_url).close()
    engine = engine_for(db_url)
    at_head = describe(engine)

    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert tables(engine) <= {"alembic_version"}
    assert triggers(engine) == set()

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert describe(engine) == at_head

    app = Ledger(db_url)
    try:
        stored = StoredEvent(uuid.uuid4(), 1, "tests.integration:Happened", b"{}")
        assert list(app.recorder.insert_events([stored])) == [1]
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM ledger_events"))
    finally:
        app.close()


def test_upgrading_a_database_that_holds_events_loses_none(db_url: str) -> None:
    app = Ledger(db_url)
    import_example(app)
    app.recorder.insert_events(
        [StoredEvent(uuid.uuid4(), v, "tests.integration:Happened", b"{}") for v in (1, 2)]
    )
    engine = app.engine
    events_before = log_rows(engine)
    head_before = app.recorder.tree_head()
    heads_before = count(engine, "ledger_events_merkle")
    app.close()
    assert len(events_before) == len(RECORDS) + 2

    downgrade(engine, "0002")
    assert not tables(engine) & set(READ_MODELS)
    assert log_rows(engine) == events_before
    upgrade(engine)

    app = Ledger(db_url)
    try:
        assert log_rows(engine) == events_before
        assert count(engine, "ledger_events_merkle") == heads_before
        head = app.recorder.tree_head()
        assert (head.size, head.root) == (head_before.size, head_before.root)
        assert head.root == root_hash(entry.leaf_hash for entry in app.recorder.iter_log())
        assert all(entry.leaf_hash == entry.recomputed_leaf() for entry in app.recorder.iter_log())
    finally:
        app.close()


def test_read_models_dropped_by_a_downgrade_are_rebuilt_after_the_upgrade(db_url: str) -> None:
    app = Ledger(db_url)
    import_example(app)
    catch_up(app)
    engine = app.engine
    filled = {table: count(engine, table) for table in READ_MODELS}
    assert filled["rm_registry"] == 3 and filled["rm_occurrences"] == 1
    app.close()

    downgrade(engine, "0002")
    upgrade(engine)

    app = Ledger(db_url)
    try:
        assert set(positions(app).values()) == {0}
        assert app.recorder.max_notification_id() == len(RECORDS)
        catch_up(app)
        assert {table: count(engine, table) for table in READ_MODELS} == filled
    finally:
        app.close()


def test_the_fast_schema_check_finds_the_same_head_as_alembic_whatever_the_file_numbers(
    db_url: str,
) -> None:
    from ledger.database import engine_for
    from ledger.schema import _newest_revision, is_current

    assert _newest_revision() == head_revision()
    engine = engine_for(db_url)
    upgrade(engine)
    assert is_current(engine)


def test_a_ledger_that_held_events_keeps_the_origin_its_notes_were_signed_with(
    db_url: str,
) -> None:
    from ledger.origin import LEGACY_ORIGIN

    app = Ledger(db_url)
    fresh = app.origin
    assert fresh.startswith(f"{LEGACY_ORIGIN}/") and fresh != LEGACY_ORIGIN
    import_example(app)
    app.close()
    downgrade(app.engine, "0003")
    assert "ledger_settings" not in tables(app.engine)
    upgrade(app.engine)
    app = Ledger(db_url)
    try:
        assert app.origin == LEGACY_ORIGIN
    finally:
        app.close()
