"""The write side's Python API: reading files, validating and importing records.

Issue 2. Every test runs on SQLite and on PostgreSQL (the `ledger` fixture).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from ledger import application
from ledger.application import Ledger
from ledger.errors import LedgerError, RecordError
from ledger.reading import read_records
from ledger.records import validate_record

EXAMPLE = Path(__file__).resolve().parents[2] / "ledger" / "examples" / "iraq-iran-2025.yaml"
EXAMPLE_COUNT = len(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))


def records(*raw: dict[str, Any]) -> list[tuple[None, Any]]:
    return [(None, validate_record(r)) for r in raw]


def logged(ledger: Ledger) -> list[dict[str, Any]]:
    return [item.record for item in ledger.log()]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_importing_the_example_adds_every_record_at_consecutive_positions(
    ledger: Ledger,
) -> None:
    result = ledger.import_records(read_records(str(EXAMPLE)), "alice")
    assert (result.added, result.unchanged) == (EXAMPLE_COUNT, 0)
    assert (result.first_position, result.last_position) == (1, EXAMPLE_COUNT)
    entries = list(ledger.log())
    assert [e.entry.position for e in entries] == list(range(1, EXAMPLE_COUNT + 1))
    assert {e.event.recorded_by for e in entries} == {"alice"}


def test_importing_the_example_again_reports_every_record_unchanged(ledger: Ledger) -> None:
    ledger.import_records(read_records(str(EXAMPLE)), "alice")
    before = logged(ledger)
    result = ledger.import_records(read_records(str(EXAMPLE)), "bob")
    assert (result.added, result.unchanged) == (0, EXAMPLE_COUNT)
    assert result.first_position is None
    assert logged(ledger) == before


def test_recorded_by_defaults_to_LEDGER_USER(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_USER", "erin")
    ledger.import_records(records({"kind": "actor", "id": "IRQ", "name": "Iraq", "type": "state"}))
    assert [e.event.recorded_by for e in ledger.log()] == ["erin"]


def test_references_match_any_case_and_are_stored_as_registered(ledger: Ledger) -> None:
    ledger.import_records(
        records(
            {"kind": "actor", "id": "irq", "name": "Iraq", "type": "state"},
            {"kind": "actor", "id": "envoy", "name": "Envoy", "type": "person", "country": "Irq"},
            {"kind": "visit", "id": "v", "date": "2025-09-01", "visitor": "ENVOY", "host": "iRq"},
        )
    )
    actor, envoy, visit = logged(ledger)
    assert actor["id"] == "IRQ"
    assert envoy["country"] == "IRQ"
    assert (visit["visitor"], visit["host"]) == ("envoy", "IRQ")


def test_an_import_forgets_missing_occurrence_ids_after_each_batch_but_not_registry_ids(
    ledger: Ledger,
) -> None:
    """A reference that may name any record is looked for in every namespace; what was
    missing is forgotten when the batch is written (memory stays bounded over a million
    records), except a registry record's id missing from another namespace (asked again
    for every reference to it)."""
    ledger.import_records(
        records(
            {"kind": "actor", "id": "IRQ", "name": "Iraq", "type": "state"},
            {"kind": "visit", "id": "v1", "date": "2025-09-01", "visitor": "IRQ", "host": "IRQ"},
        )
    )
    with ledger.recorder.transaction(commit=False) as session:
        registry = application.StoreRegistry(ledger, session)
        assert registry.find("actor", "v1") is None  # an occurrence's id, asked as an actor
        assert registry.find("agreement", "irq") is None  # an actor's id, asked elsewhere
        assert registry.find("actor", "Irq") is not None
        registry.end_batch()
        assert "v1" not in registry.caches["actor"]
        assert registry.caches["agreement"]["irq"] is None
        assert registry.find("actor", "v1") is None  # asked again: fetched again


def test_a_refused_record_in_a_later_batch_leaves_nothing_from_earlier_batches(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(application, "BATCH_SIZE", 5)
    bad = write(tmp_path, "bad.yaml", "- {kind: visit, date: 2025-09-01, visitor: IRQ, host: XX}\n")
    items = [*read_records(str(EXAMPLE)), *read_records(bad)]
    with pytest.raises(RecordError) as refused:
        ledger.import_records(items, "alice")
    assert (refused.value.file, refused.value.index, refused.value.field) == (bad, 1, "host")
    assert logged(ledger) == []


def test_references_and_amendments_reach_back_across_batches_of_one_import(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from e2e.synthetic_ledger import generate_records

    generated = generate_records(seed=3, occurrences=120)
    assert {"correction", "retraction"} <= {r["kind"] for r in generated}
    monkeypatch.setattr(application, "BATCH_SIZE", 7)
    result = ledger.import_records(records(*generated), "gen")
    assert result.added == len(generated)
    again = ledger.import_records(records(*generated), "gen")
    assert (again.added, again.unchanged) == (0, len(generated))


# -- refusals carry their place ---------------------------------------------------------


def test_read_records_names_the_file_record_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        "- {kind: actor, id: a-b, name: A, type: person}\n"
        "# a comment\n"
        "- kind: actor\n  id: c-d\n  name: C\n  type: wizard\n",
    )
    with pytest.raises(RecordError) as refused:
        read_records(path)
    error = refused.value
    assert (error.file, error.index, error.line, error.field) == (path, 2, 3, "type")
    for part in (path, "record 2", "line 3", "'type'"):
        assert part in str(error)


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ({"kind": "visit", "date": "2025-09-01", "visitor": "IRQ", "host": "ZZZ"}, "host", "ZZZ"),
        (
            {"kind": "ratification", "date": "2025-09-01", "agreement": "nope", "by": "IRQ"},
            "agreement",
            "nope",
        ),
        (
            {
                "kind": "visit",
                "date": "2025-09-01",
                "visitor": "IRQ",
                "host": "IRQ",
                "sources": ["nope-source"],
            },
            "sources[0].source",
            "nope-source",
        ),
        ({"kind": "actor", "id": "IRQ", "name": "Mesopotamia", "type": "state"}, "id", "IRQ"),
        (
            {"kind": "retraction", "date": "2025-09-01", "target": "nothing-here", "reason": "r"},
            "target",
            "nothing-here",
        ),
        (
            {
                "kind": "correction",
                "date": "2025-09-01",
                "target": "v1",
                "set": {"stance": "support"},
                "reason": "r",
            },
            "set.stance",
            "stance",
        ),
        (
            {
                "kind": "correction",
                "date": "2025-09-01",
                "target": "v1",
                "set": {"host": "ZZZ"},
                "reason": "r",
            },
            "set.host",
            "ZZZ",
        ),
        (
            {
                "kind": "correction",
                "date": "2025-09-01",
                "target": "v1",
                "set": {"date": "2021-02-30"},
                "reason": "r",
            },
            "set.date",
            "2021-02-30",
        ),
        (
            {
                "kind": "correction",
                "date": "2025-09-01",
                "target": "fix-1",
                "set": {"summary": "x"},
                "reason": "r",
            },
            "target",
            "fix-1",
        ),
    ],
    ids=[
        "unknown-actor",
        "unknown-agreement",
        "unknown-source",
        "id-taken",
        "retract-nothing",
        "field-the-kind-lacks",
        "corrected-to-unknown-actor",
        "corrected-to-bad-date",
        "correction-of-a-correction",
    ],
)
def test_a_refused_record_names_its_field_and_nothing_is_written(
    ledger: Ledger, tmp_path: Path, record: dict[str, Any], field: str, words: str
) -> None:
    ledger.import_records(
        records(
            {"kind": "actor", "id": "IRQ", "name": "Iraq", "type": "state"},
            {"kind": "visit", "id": "v1", "date": "2025-08-01", "visitor": "IRQ", "host": "IRQ"},
            {
                "kind": "correction",
                "id": "fix-1",
                "date": "2025-08-02",
                "target": "v1",
                "set": {"place": "Basra"},
                "reason": "r",
            },
        ),
        "alice",
    )
    before = logged(ledger)
    path = write(
        tmp_path,
        "in.yaml",
        yaml.safe_dump(
            [{"kind": "actor", "id": "new-one", "name": "New", "type": "person"}, record]
        ),
    )
    with pytest.raises(RecordError) as refused:
        ledger.import_records(read_records(path), "bob")
    error = refused.value
    assert (error.file, error.index, error.field) == (path, 2, field)
    assert error.line is not None
    assert words in str(error)
    assert isinstance(error, LedgerError)
    assert logged(ledger) == before


# -- corrections are stored as the ledger spells things ------------------------------------


def test_a_correction_naming_actors_in_another_case_is_stored_with_registered_spelling(
    ledger: Ledger,
) -> None:
    from projections.catchup import catch_up
    from projections.queries import Queries

    ledger.import_records(read_records(str(EXAMPLE)), "alice")
    ledger.import_records(
        records(
            {
                "kind": "correction",
                "id": "host-fix",
                "date": "2025-08-20",
                "target": "larijani-regional-tour-lebanon",
                "set": {"host": "usa"},
                "reason": "r",
            },
            {
                "kind": "correction",
                "id": "signatories-fix",
                "date": "2025-08-20",
                "target": "signing-mou-2025",
                "set": {
                    "signatories": [
                        {"actor": "Qasim-Al-Araji", "on_behalf_of": "irq"},
                        {"actor": "ali-larijani", "on_behalf_of": "irn"},
                    ]
                },
                "reason": "r",
            },
        ),
        "alice",
    )
    host_fix, signatories_fix = logged(ledger)[-2:]
    assert host_fix["set"] == {"host": "USA"}
    assert signatories_fix["set"]["signatories"] == [
        {"actor": "qasim-al-araji", "on_behalf_of": "IRQ"},
        {"actor": "ali-larijani", "on_behalf_of": "IRN"},
    ]
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))
    assert "larijani-regional-tour-lebanon" in [row["id"] for row in queries.timeline(actor="USA")]
    state = queries.agreement("iq-ir-security-mou-2025")
    assert sorted(p["actor"] for p in state["participants"]) == ["IRN", "IRQ"]
    assert {p["status"] for p in state["participants"]} == {"signatory"}

    again = ledger.import_records(
        records(
            {
                "kind": "correction",
                "id": "host-fix",
                "date": "2025-08-20",
                "target": "larijani-regional-tour-lebanon",
                "set": {"host": "usa"},
                "reason": "r",
            },
        ),
        "alice",
    )
    assert (again.added, again.unchanged) == (0, 1)


def test_a_second_ledger_instance_finds_what_the_first_wrote(ledger: Ledger, db_url: str) -> None:
    ledger.import_records(read_records(str(EXAMPLE)), "alice")
    other = Ledger(db_url)
    try:
        known = other.find("agreement", "IQ-IR-SECURITY-MOU-2025")
        assert known is not None and known.id == "iq-ir-security-mou-2025"
        assert other.find("actor", "nobody") is None
        result = other.import_records(read_records(str(EXAMPLE)), "bob")
        assert result.added == 0
    finally:
        other.close()


# -- new records' own ids: left to the store's unique index until one is found taken ----


def _own_streams_asked(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every stream the import asks the store for, as it asks."""
    asked: list[Any] = []
    select = ledger.recorder.select_first_events

    def counting(session: Any, streams: Any) -> Any:
        asked.extend(streams)
        return select(session, streams)

    monkeypatch.setattr(ledger.recorder, "select_first_events", counting)
    return asked


def _tries(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each batch appended on the optimistic way went in, in turn."""
    tried: list[bool] = []
    append = ledger.recorder.append_new_rows

    def counting(session: Any, rows: Any, texts: Any = None) -> Any:
        positions = append(session, rows, texts)
        tried.append(positions is not None)
        return positions

    monkeypatch.setattr(ledger.recorder, "append_new_rows", counting)
    return tried


def _people_and_meetings(count: int) -> list[dict[str, Any]]:
    people = [
        {"kind": "actor", "id": f"p{i}", "name": f"P {i}", "type": "person"} for i in range(count)
    ]
    meetings = [
        {"kind": "meeting", "id": f"m{i}", "date": "2025-09-01", "participants": [f"P{i}"]}
        for i in range(count)
    ]
    return [*people, *meetings]


def test_a_new_records_own_id_is_not_looked_up_but_left_to_the_unique_index(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.vocabulary import stream_id

    monkeypatch.setattr(application, "BATCH_SIZE", 5)
    asked = _own_streams_asked(ledger, monkeypatch)
    tried = _tries(ledger, monkeypatch)
    result = ledger.import_records(records(*_people_and_meetings(12)), "alice")
    assert (result.added, result.unchanged) == (24, 0)
    meetings = {stream_id("occurrence", f"m{i}") for i in range(12)}
    assert meetings.isdisjoint(asked)  # nothing refers to them: never asked for
    assert tried == [True] * 5
    assert [r["participants"] for r in logged(ledger)[12:]] == [[f"p{i}"] for i in range(12)]


def test_a_reimport_redoes_its_first_batch_and_then_looks_ids_up(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from e2e.synthetic_ledger import generate_records

    generated = generate_records(seed=5, occurrences=80)
    monkeypatch.setattr(application, "BATCH_SIZE", 7)
    ledger.import_records(records(*generated), "gen")
    before = list(ledger.recorder.select_log())
    tried = _tries(ledger, monkeypatch)
    again = ledger.import_records(records(*generated), "gen")
    assert (again.added, again.unchanged) == (0, len(generated))
    assert (again.first_position, again.last_position) == (None, None)
    assert tried == [False]  # refused once, then every id is looked up
    assert list(ledger.recorder.select_log()) == before


def test_a_file_overlapping_the_ledger_adds_only_what_is_new_as_a_fresh_import_would(
    ledger: Ledger, another_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from e2e.synthetic_ledger import generate_records

    generated = generate_records(seed=7, occurrences=120)
    monkeypatch.setattr(application, "BATCH_SIZE", 6)
    half = len(generated) // 2 + 3  # not on a batch's edge
    ledger.import_records(records(*generated[:half]), "gen")
    tried = _tries(ledger, monkeypatch)
    result = ledger.import_records(records(*generated), "gen")
    assert (result.added, result.unchanged) == (len(generated) - half, half)
    assert (result.first_position, result.last_position) == (half + 1, len(generated))
    assert tried == [False]
    fresh = Ledger(another_db_url)
    try:
        fresh.import_records(records(*generated), "gen")
        assert logged(ledger) == logged(fresh)
    finally:
        fresh.close()


def test_records_new_until_one_taken_late_in_the_file_are_decided_again_the_same(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch holding the taken id is redone; batches before it stay as appended."""
    people = _people_and_meetings(10)
    monkeypatch.setattr(application, "BATCH_SIZE", 4)
    ledger.import_records(records(people[5], people[15]), "alice")  # p5 and m5
    tried = _tries(ledger, monkeypatch)
    result = ledger.import_records(records(*people), "bob")
    assert (result.added, result.unchanged) == (18, 2)
    assert (result.first_position, result.last_position) == (3, 20)
    assert tried == [True, False]  # p0-p3, then p4-p7 (p5 is taken), then looked up
    assert [r["id"] for r in logged(ledger)] == [
        "p5",
        "m5",
        *(f"p{i}" for i in range(10) if i != 5),
        *(f"m{i}" for i in range(10) if i != 5),
    ]


def test_an_id_taken_in_another_case_is_found_as_when_looked_up(
    ledger: Ledger, tmp_path: Path
) -> None:
    acme = {"kind": "actor", "id": "Acme", "name": "Acme", "type": "organization"}
    ledger.import_records(records(acme), "alice")
    same = write(
        tmp_path,
        "same.yaml",
        "- {kind: actor, id: ACME, name: Acme, type: organization}\n"
        "- {kind: meeting, id: m, date: 2025-09-01, participants: [acme]}\n",
    )
    result = ledger.import_records(read_records(same), "bob")
    assert (result.added, result.unchanged) == (1, 1)
    assert [r["id"] for r in logged(ledger)] == ["Acme", "m"]
    assert logged(ledger)[1]["participants"] == ["Acme"]
    other = write(
        tmp_path,
        "other.yaml",
        "- {kind: actor, id: new, name: New, type: organization}\n"
        "- {kind: actor, id: acme, name: Acme!, type: organization}\n",
    )
    with pytest.raises(RecordError) as refused:
        ledger.import_records(read_records(other), "bob")
    assert refused.value.message == (
        "id 'acme' is already taken by a different actor (entered by alice); "
        "send a correction instead"
    )
    assert (refused.value.file, refused.value.index, refused.value.line) == (other, 2, 2)
    assert refused.value.field == "id"
    assert [r["id"] for r in logged(ledger)] == ["Acme", "m"]


def test_pooled_and_unpooled_imports_store_the_same_rows(
    ledger: Ledger, another_db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json

    from e2e.synthetic_ledger import generate_records

    from ledger import parallel_reading
    from ledger.reading import iter_records

    generated = generate_records(seed=11, occurrences=200)
    path = tmp_path / "all.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in generated), encoding="utf-8")
    monkeypatch.setattr(parallel_reading, "FIRST_BLOCK_BYTES", 1_000)
    monkeypatch.setattr(parallel_reading, "BLOCK_BYTES", 4_000)
    monkeypatch.setattr(application, "BATCH_SIZE", 9)
    half = tmp_path / "half.jsonl"
    half.write_text("".join(json.dumps(r) + "\n" for r in generated[:100]), encoding="utf-8")

    def rows(target: Ledger) -> list[tuple[Any, ...]]:
        found = []
        for entry in target.recorder.select_log():
            state = json.loads(entry.state)
            del state["timestamp"]  # the time of deciding, and the leaf that covers it
            found.append((entry.position, entry.stream, entry.version, entry.topic, state))
        return found

    unpooled = Ledger(another_db_url)
    try:
        for workers, target in ((1, ledger), (0, unpooled)):
            target.import_records(iter_records([str(half)], workers=workers), "gen")
            result = target.import_records(iter_records([str(path)], workers=workers), "gen")
            assert (result.added, result.unchanged) == (len(generated) - 100, 100)
        assert rows(ledger) == rows(unpooled)
        assert len(rows(ledger)) == len(generated)
    finally:
        unpooled.close()


def test_an_import_in_a_process_that_froze_its_start_up_freezes_nothing_for_good(
    ledger: Ledger,
) -> None:
    """A server or a test session froze what it held (`gc.freeze`); an import then froze
    everything young for good, cyclic garbage included, and the process grew with every
    import (a CI run's hypothesis test slowed to a crawl)."""
    import gc

    gc.freeze()
    try:
        before = gc.get_freeze_count()
        ledger.import_records(read_records(str(EXAMPLE)), "alice")
        assert gc.get_freeze_count() <= before  # frozen objects may die meanwhile
    finally:
        gc.unfreeze()
