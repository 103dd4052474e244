"""The decision of what enters the ledger, with an in-memory registry: no database."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.aggregates import Known, Occurrence, enter, stream_id
from ledger.errors import RecordError
from ledger.events import Corrected, Signed, SourceRegistered
from ledger.records import Record, validate_record


class FakeRegistry:
    """The Registry port over a dict, recording what was asked."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, str], Known] = {}
        self.asked: list[tuple[str, str]] = []

    def find(self, namespace: str, key: str) -> Known | None:
        self.asked.append((namespace, key))
        return self.known.get((namespace, key.casefold()))

    def register(self, raw: dict[str, Any], by: str = "alice") -> Record:
        record = validate_record(raw)
        self.known[(record.namespace, record.id.casefold())] = Known(
            id=record.id, kind=record.kind, digest=record.digest, record=record.data, recorded_by=by
        )
        return record


@pytest.fixture
def registry() -> FakeRegistry:
    fake = FakeRegistry()
    fake.register({"kind": "source", "id": "peregraf", "title": "Peregraf"})
    fake.register({"kind": "actor", "id": "IRQ", "name": "Iraq", "type": "state"})
    fake.register({"kind": "actor", "id": "IRN", "name": "Iran", "type": "state"})
    fake.register({"kind": "actor", "id": "araji", "name": "Qasim al-Araji", "type": "person"})
    fake.register(
        {"kind": "agreement", "id": "mou", "title": "MoU", "type": "memorandum-of-understanding"}
    )
    return fake


SIGNING = {
    "kind": "signing",
    "id": "signing-1",
    "date": "[2025-08-11..2025-08-13]",
    "agreement": "MOU",
    "signatories": [{"actor": "araji", "on_behalf_of": "irq"}],
    "sources": ["peregraf"],
}


def test_a_new_occurrence_becomes_the_creation_event_of_its_own_stream(
    registry: FakeRegistry,
) -> None:
    entry = enter(validate_record(SIGNING), registry, "alice")
    assert isinstance(entry, Occurrence)
    (event,) = entry.collect_events()
    assert isinstance(event, Signed)
    assert event.originator_id == stream_id("occurrence", "signing-1")
    assert (event.earliest, event.latest) == ("2025-08-11", "2025-08-13")
    assert event.recorded_by == "alice"


def test_references_are_matched_case_insensitively_and_spelled_as_registered(
    registry: FakeRegistry,
) -> None:
    entry = enter(validate_record(SIGNING), registry, "alice")
    assert entry is not None
    assert entry.record["agreement"] == "mou"
    assert entry.record["signatories"] == [{"actor": "araji", "on_behalf_of": "IRQ"}]


def test_the_same_record_again_adds_nothing(registry: FakeRegistry) -> None:
    registry.register(
        {**SIGNING, "agreement": "mou", "signatories": [{"actor": "araji", "on_behalf_of": "IRQ"}]}
    )
    assert enter(validate_record(SIGNING), registry, "bob") is None


def test_a_taken_id_with_different_content_is_refused_naming_both(
    registry: FakeRegistry,
) -> None:
    registry.register({**SIGNING, "date": "2025-08-12", "agreement": "mou"}, by="carol")
    with pytest.raises(RecordError) as refused:
        enter(validate_record(SIGNING), registry, "bob")
    assert refused.value.field == "id"
    assert "signing-1" in str(refused.value) and "carol" in str(refused.value)
    assert "correction" in str(refused.value)


def test_an_unknown_reference_is_refused_with_its_field(registry: FakeRegistry) -> None:
    bad = {**SIGNING, "signatories": [{"actor": "araji", "on_behalf_of": "FRA"}]}
    with pytest.raises(RecordError) as refused:
        enter(validate_record(bad), registry, "alice")
    assert refused.value.field == "signatories[0].on_behalf_of"
    assert "FRA" in refused.value.message


def test_a_registry_record_enters_with_its_own_event_class(registry: FakeRegistry) -> None:
    entry = enter(validate_record({"kind": "source", "id": "bbc", "title": "BBC"}), registry, "a")
    assert entry is not None
    assert isinstance(entry.collect_events()[0], SourceRegistered)


def test_a_correction_of_an_unrecorded_occurrence_is_refused(registry: FakeRegistry) -> None:
    correction = {
        "kind": "correction",
        "date": "2025-09-01",
        "target": "nothing-here",
        "set": {"place": "Tehran"},
        "reason": "typo",
    }
    with pytest.raises(RecordError) as refused:
        enter(validate_record(correction), registry, "alice")
    assert refused.value.field == "target"


def test_a_correction_may_only_set_fields_the_target_kind_has(registry: FakeRegistry) -> None:
    registry.register({**SIGNING, "agreement": "mou"})
    correction = {
        "kind": "correction",
        "date": "2025-09-01",
        "target": "signing-1",
        "set": {"stance": "support"},
        "reason": "wrong field",
    }
    with pytest.raises(RecordError) as refused:
        enter(validate_record(correction), registry, "alice")
    assert refused.value.field == "set.stance"


def test_a_correction_must_name_registered_things_in_what_it_sets(
    registry: FakeRegistry,
) -> None:
    registry.register({**SIGNING, "agreement": "mou"})
    correction = {
        "kind": "correction",
        "date": "2025-09-01",
        "target": "signing-1",
        "set": {"agreement": "no-such-agreement"},
        "reason": "wrong agreement",
    }
    with pytest.raises(RecordError) as refused:
        enter(validate_record(correction), registry, "alice")
    assert "no-such-agreement" in refused.value.message


def test_a_valid_correction_is_a_new_fact_pointing_at_its_target(registry: FakeRegistry) -> None:
    registry.register({**SIGNING, "agreement": "mou"})
    correction = {
        "kind": "correction",
        "id": "fix-1",
        "date": "2025-09-01",
        "target": "SIGNING-1",
        "set": {"place": "Baghdad"},
        "reason": "place omitted",
    }
    entry = enter(validate_record(correction), registry, "alice")
    assert entry is not None
    (event,) = entry.collect_events()
    assert isinstance(event, Corrected)
    assert event.record["target"] == "signing-1"
    assert event.originator_id == stream_id("occurrence", "fix-1")


def test_an_amendment_cannot_target_another_amendment(registry: FakeRegistry) -> None:
    registry.register({**SIGNING, "agreement": "mou"})
    registry.register(
        {
            "kind": "retraction",
            "id": "retract-1",
            "date": "2025-09-01",
            "target": "signing-1",
            "reason": "never happened",
        }
    )
    again = {"kind": "retraction", "date": "2025-09-02", "target": "retract-1", "reason": "x"}
    with pytest.raises(RecordError) as refused:
        enter(validate_record(again), registry, "alice")
    assert refused.value.field == "target"


def test_stream_ids_do_not_depend_on_how_the_id_is_cased() -> None:
    assert stream_id("actor", "IRQ") == stream_id("actor", "irq")
    assert stream_id("actor", "irq") != stream_id("agreement", "irq")


# --- revocations and dissolved states ---------------------------------------------------

NOTICE = {
    "kind": "withdrawal",
    "id": "irn-withdraws",
    "date": "2026-01-10",
    "effective": "2026-07-10",
    "agreement": "mou",
    "by": "IRN",
}


def test_a_revocation_of_a_withdrawal_by_the_state_that_gave_it_enters(
    registry: FakeRegistry,
) -> None:
    registry.register(NOTICE)
    revocation = {
        "kind": "revocation",
        "id": "irn-revokes",
        "date": "2026-03-01",
        "target": "IRN-WITHDRAWS",
        "by": "irn",
        "reason": "A court set the notice aside.",
    }
    entry = enter(validate_record(revocation), registry, "alice")
    assert entry is not None
    assert (entry.record["target"], entry.record["by"]) == ("irn-withdraws", "IRN")
    assert (entry.earliest, entry.latest) == ("2026-03-01", "2026-03-01")


def test_a_revocation_by_another_actor_than_the_notices_is_refused(
    registry: FakeRegistry,
) -> None:
    registry.register(NOTICE)
    raw = {"kind": "revocation", "date": "2026-03-01", "target": "irn-withdraws", "by": "IRQ"}
    with pytest.raises(RecordError) as refused:
        enter(validate_record(raw), registry, "alice")
    assert refused.value.field == "by"
    assert "only IRN can revoke it" in refused.value.message


def test_only_a_withdrawal_or_a_suspension_can_be_revoked(registry: FakeRegistry) -> None:
    registry.register(SIGNING)
    raw = {"kind": "revocation", "date": "2026-03-01", "target": "signing-1", "by": "IRQ"}
    with pytest.raises(RecordError) as refused:
        enter(validate_record(raw), registry, "alice")
    assert refused.value.field == "target"
    assert "must target a withdrawal or a suspension" in refused.value.message


def test_a_dissolved_states_successors_must_be_registered(registry: FakeRegistry) -> None:
    raw = {
        "kind": "actor",
        "id": "SUN",
        "name": "USSR",
        "type": "state",
        "end": "1991-12-26",
        "successors": ["IRQ", "RUS"],
    }
    with pytest.raises(RecordError) as refused:
        enter(validate_record(raw), registry, "alice")
    assert refused.value.field == "successors[1]"
    assert "unknown actor 'RUS'" in refused.value.message
