"""Registry records as versions on the record-time axis, and ledgers written before them
(migration 0005), on SQLite and PostgreSQL.

A ledger recorded before registry records could be corrected holds correction and
retraction events without `target_namespace` (class version 1). It must keep answering
after the upgrade: the events are upcast when read, never rewritten, and the registry
read model is rebuilt from the log.
"""

from __future__ import annotations

import json
import uuid
from functools import partial
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from sqlalchemy import text

from ledger.application import Ledger
from ledger.events import Corrected, Retracted
from ledger.records import validate_record
from ledger.schema import downgrade, upgrade
from projections.catchup import catch_up, positions, replay
from projections.queries import Queries, When

RECORDS = [
    {"kind": "source", "id": "peregraf", "title": "A report", "publisher": "Peregraf"},
    {"kind": "actor", "id": "IRQ", "name": "Iraq", "type": "state"},
    {"kind": "actor", "id": "IRN", "name": "Iran", "type": "state"},
    {"kind": "agreement", "id": "pact", "title": "A pact", "type": "treaty", "parties": ["IRQ"]},
    {"kind": "meeting", "id": "talks", "date": "2025-08-13", "participants": ["IRQ", "IRN"]},
    {"kind": "visit", "id": "trip", "date": "2025-08-14", "visitor": "IRQ", "host": "IRN"},
]


def _enter(app: Ledger, *raws: dict[str, Any]) -> None:
    app.import_records([(None, validate_record(raw)) for raw in raws], recorded_by="tester")


def _as_version_1(app: Ledger, event_class: type, record: dict[str, Any]) -> StoredEvent:
    """An amendment event exactly as the ledger stored it before migration 0005."""
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2025-09-01T00:00:00+00:00"},
        "originator_topic": "ledger.aggregates:Entry",
        "record": record,
        "recorded_by": "an older version",
        "digest": "0" * 64,
        "earliest": record["date"],
        "latest": record["date"],
    }
    return StoredEvent(
        originator_id=uuid.uuid4(),
        originator_version=1,
        topic=get_topic(event_class),
        state=json.dumps(state).encode(),
    )


def test_a_ledger_from_before_registry_corrections_keeps_answering(db_url: str) -> None:
    app = Ledger(db_url)
    _enter(app, *RECORDS)
    old_correction = {
        "kind": "correction",
        "id": "talks-place",
        "date": "2025-09-01",
        "target": "talks",
        "set": {"place": "Baghdad"},
        "reason": "omitted",
    }
    old_retraction = {
        "kind": "retraction",
        "id": "trip-retracted",
        "date": "2025-09-01",
        "target": "trip",
        "reason": "never happened",
    }
    app.recorder.insert_events(
        [
            _as_version_1(app, Corrected, old_correction),
            _as_version_1(app, Retracted, old_retraction),
        ]
    )
    engine = app.engine
    with engine.connect() as connection:
        log_before = connection.execute(text("SELECT * FROM ledger_events ORDER BY id")).all()
    app.close()
    downgrade(engine, "0003")  # the schema such a ledger has
    upgrade(engine)

    app = Ledger(db_url)
    try:
        assert set(positions(app).values()) == {0}  # rebuilt from the log on first need
        queries = Queries(db_url, catch_up=partial(catch_up, app))
        assert [row["id"] for row in queries.timeline()] == ["talks"]
        assert queries.timeline()[0]["place"] == "Baghdad"
        assert queries.agreement("PACT")["parties"] == ["IRQ"]
        assert queries.actor("irq")["name"] == "Iraq"
        with engine.connect() as connection:
            log_after = connection.execute(text("SELECT * FROM ledger_events ORDER BY id")).all()
        assert log_after == log_before
        # The old amendments are read as amending occurrences, so the write side still
        # refuses to amend the retracted visit, and accepts a registry correction.
        kinds = [type(logged.event).__name__ for logged in app.log()]
        assert kinds[-2:] == ["Corrected", "Retracted"]
        assert [logged.event.target_namespace for logged in list(app.log())[-2:]] == [
            "occurrence",
            "occurrence",
        ]
    finally:
        app.close()


def test_registry_versions_close_and_open_within_one_page_and_across_pages(
    ledger: Ledger,
) -> None:
    _enter(ledger, *RECORDS)
    catch_up(ledger)  # the originals are written by an earlier page
    first = {
        "kind": "correction",
        "id": "pact-1",
        "date": "2025-09-01",
        "target": "pact",
        "set": {"title": "The pact"},
        "reason": "r",
    }
    second = {**first, "id": "pact-2", "set": {"parties": ["IRQ", "IRN"]}}
    _enter(ledger, first, second)  # two versions in one page
    catch_up(ledger)
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))
    agreement = queries.agreement("pact")
    assert (agreement["title"], agreement["parties"]) == ("The pact", ["IRQ", "IRN"])
    with ledger.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT vid, known_from, known_until, retracted FROM rm_registry "
                "WHERE namespace = 'agreement' ORDER BY vid"
            )
        ).all()
    assert len(rows) == 3
    assert [row.known_until for row in rows[:2]] == [rows[1].known_from, rows[2].known_from]
    assert rows[2].known_until is None
    incremental = queries.agreements(When(known_at=rows[1].known_from))
    replay(ledger)
    assert Queries(ledger.url, catch_up=partial(catch_up, ledger)).agreement("pact") == agreement
    assert (
        Queries(ledger.url, catch_up=partial(catch_up, ledger)).agreements(
            When(known_at=rows[1].known_from)
        )
        == incremental
    )


def test_the_fast_schema_check_finds_the_head_alembic_finds() -> None:
    """Revision ids are handed out per branch of work (0005 lands after 0006), so the
    newest migration is not the last file by name: the fast check must not think so."""
    from ledger.schema import _newest_revision, head_revision

    assert _newest_revision() == head_revision()
