"""A ledger written before FORMAT.md v1.1 answers as v1.1 reads it, with no event rewritten.

Version 1 of the occurrence events stored the strict bounds of a qualified date
(``1988-05-28?`` as that one day); they are upcast on reading to the widened bounds,
and migration 0004 empties the read models so that the next query rebuilds them from
the log. Both engines (the `ledger` fixture).
"""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Any

from eventsourcing.persistence import StoredEvent

from ledger.aggregates import enter
from ledger.application import Ledger, StoreRegistry
from ledger.records import validate_record
from ledger.schema import current_revision, downgrade, head_revision, upgrade
from projections.catchup import catch_up
from projections.queries import Queries, When

REGISTRY = [
    {"kind": "actor", "id": "USA", "name": "United States", "type": "state"},
    {"kind": "actor", "id": "SUN", "name": "Union of Soviet Socialist Republics", "type": "state"},
    {"kind": "agreement", "id": "inf-treaty", "title": "INF Treaty", "type": "treaty"},
]
QUALIFIED = {
    "kind": "ratification",
    "id": "inf-sun-ratifies",
    "date": "1988-05-28?",
    "agreement": "inf-treaty",
    "by": "SUN",
}


def before_0004() -> str:
    """The revision migration 0004 follows (it moves as other migrations land)."""
    from alembic.script import ScriptDirectory

    from ledger.schema import _config

    down = ScriptDirectory.from_config(_config()).get_revision("0004").down_revision
    assert isinstance(down, str)
    return down


def as_version_1(app: Ledger, raw: dict[str, Any]) -> StoredEvent:
    """The stored event an older program wrote: no class version, the strict bounds."""
    with app.recorder.transaction(commit=False) as session:
        entry = enter(validate_record(raw), StoreRegistry(app, session), "older-program")
    assert entry is not None
    (event,) = entry.collect_events()
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    state["earliest"] = state["latest"] = "1988-05-28"
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )


def test_an_older_event_with_a_qualified_date_is_read_with_widened_bounds_and_not_certain(
    ledger: Ledger,
) -> None:
    ledger.import_records([(None, validate_record(r)) for r in REGISTRY], "older-program")
    older = as_version_1(ledger, QUALIFIED)
    ledger.recorder.insert_events([older])
    (entry,) = [e for e in ledger.recorder.iter_log() if e.stream == older.originator_id]
    assert b"class_version" not in entry.state, "stored as the older program wrote it"

    event = ledger.decode(entry.stream, entry.version, entry.topic, entry.state)
    assert (event.earliest, event.latest) == ("1988-05-27", "1988-05-29")

    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))
    rows = queries.timeline(When(as_of=date(1990, 1, 1)), agreement="inf-treaty")
    assert [(r["earliest"], r["latest"], r["certain"]) for r in rows] == [
        ("1988-05-27", "1988-05-29", False)
    ]
    (act,) = queries.endorsements("inf-treaty", When(as_of=date(1990, 1, 1)))
    assert (act["act"], act["certain"]) == ("ratified", False)


def test_upgrading_to_0004_rebuilds_read_models_that_an_older_reading_built(
    ledger: Ledger,
) -> None:
    ledger.import_records([(None, validate_record(r)) for r in REGISTRY], "older-program")
    ledger.import_records([(None, validate_record(QUALIFIED))], "older-program")
    engine = ledger.engine
    downgrade(engine, before_0004())
    # Only the occurrences: the registry's table before 0005 has another shape.
    catch_up(ledger, ["occurrences"])
    with engine.begin() as connection:  # as an older reading had left them
        changed = connection.exec_driver_sql(
            "UPDATE rm_occurrences SET earliest = '1988-05-28', latest = '1988-05-28'"
        )
        assert changed.rowcount == 1
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    (row,) = Queries(ledger.url, catch_up=partial(catch_up, ledger)).timeline(
        When(as_of=date(1990, 1, 1))
    )
    assert (row["earliest"], row["latest"]) == ("1988-05-27", "1988-05-29")


# -- corrections with and without their decided result ----------------------------------

CORRECTION = {
    "kind": "correction",
    "id": "inf-sun-ratifies-fix",
    "date": "1988-06-10",
    "target": "inf-sun-ratifies",
    "set": {"date": "1988-05-30"},
    "reason": "the instrument was dated later",
}


def _stored_correction(app: Ledger, result: dict[str, Any] | None) -> StoredEvent:
    """The correction as stored: with the corrected record decided at write time (as
    corrections carry it now), or without it (as older programs wrote them)."""
    with app.recorder.transaction(commit=False) as session:
        entry = enter(validate_record(CORRECTION), StoreRegistry(app, session), "older-program")
    assert entry is not None
    (event,) = entry.collect_events()
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    state.pop("result", None)
    if result is not None:
        state["result"] = result
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )


def _corrected_rows(app: Ledger) -> list[tuple[str, str | None, str | None]]:
    catch_up(app)
    rows = Queries(app.url, catch_up=partial(catch_up, app)).timeline(
        When(as_of=date(1990, 1, 1)), agreement="inf-treaty"
    )
    return [(r["date"], r["earliest"], r["latest"]) for r in rows]


def test_an_older_correction_without_its_result_is_applied_when_read(ledger: Ledger) -> None:
    ledger.import_records([(None, validate_record(r)) for r in REGISTRY], "older-program")
    ledger.import_records([(None, validate_record(QUALIFIED))], "older-program")
    older = _stored_correction(ledger, result=None)
    assert b'"result"' not in older.state, "stored as an older program wrote it"
    ledger.recorder.insert_events([older])

    assert _corrected_rows(ledger) == [("1988-05-30", "1988-05-30", "1988-05-30")]


def test_a_correction_s_decided_result_is_what_the_read_side_shows(ledger: Ledger) -> None:
    """The read side takes the result the write side decided and never re-applies the
    correction: a result that says otherwise than `set` (which the write side never
    stores) shows which of the two was read."""
    ledger.import_records([(None, validate_record(r)) for r in REGISTRY], "older-program")
    ledger.import_records([(None, validate_record(QUALIFIED))], "older-program")
    decided = {**QUALIFIED, "date": "1988-06-01"}
    ledger.recorder.insert_events([_stored_correction(ledger, result=decided)])

    assert _corrected_rows(ledger) == [("1988-06-01", "1988-06-01", "1988-06-01")]
