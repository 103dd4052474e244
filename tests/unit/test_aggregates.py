"""The decision of what enters the ledger, with an in-memory registry: no database."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from ledger.aggregates import Amendment, Entry, Known, Occurrence, current, enter, stream_id
from ledger.errors import RecordError
from ledger.events import (
    EVENT_CLASSES,
    Amended,
    Corrected,
    Recorded,
    Retracted,
    Signed,
    SourceRegistered,
    new_event,
)
from ledger.records import Record, validate_record
from ledger.vocabulary import content_digest


class FakeRegistry:
    """The Registry port over a dict, recording what was asked."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, str], Known] = {}
        self.asked: list[tuple[str, str]] = []

    def find(self, namespace: str, key: str) -> Known | None:
        self.asked.append((namespace, key))
        return self.known.get((namespace, key.casefold()))

    def amendments(self, namespace: str, key: str) -> list[Known]:
        return [
            k
            for k in self.known.values()
            if k.target_namespace == namespace and k.record["target"].casefold() == key.casefold()
        ]

    def retraction(self, namespace: str, key: str) -> Known | None:
        found = [k for k in self.amendments(namespace, key) if k.kind == "retraction"]
        return found[0] if found else None

    def mentions(self, ident: str) -> list[Known]:
        needle = json.dumps(ident).casefold()
        return [k for k in self.known.values() if needle in json.dumps(k.record).casefold()]

    def register(self, raw: dict[str, Any], by: str = "alice") -> Record:
        """Enter a record straight into the fake, bypassing the decision."""
        record = validate_record(raw)
        target_namespace = None
        if record.kind in ("correction", "retraction"):
            target_namespace = next(
                ns for ns, key in self.known if key == record.data["target"].casefold()
            )
        self.known[(record.namespace, record.id.casefold())] = Known(
            id=record.id,
            kind=record.kind,
            digest=record.digest,
            record=record.data,
            recorded_by=by,
            target_namespace=target_namespace,
        )
        return record

    def accept(self, raw: dict[str, Any], by: str = "alice") -> Known:
        """Enter a record as the ledger would: decided, then kept."""
        entry = enter(validate_record(raw), self, by)
        assert entry is not None
        record = entry.record
        namespace = Record(kind=record["kind"], id=record["id"], data=record).namespace
        known = Known(
            id=record["id"],
            kind=record["kind"],
            digest=entry.digest,
            record=record,
            recorded_by=by,
            target_namespace=getattr(entry, "target_namespace", None),
            result=getattr(entry, "result", None),
        )
        self.known[(namespace, record["id"].casefold())] = known
        return known


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
    event = enter(validate_record(SIGNING), registry, "alice")
    assert isinstance(event, Signed)
    assert (event.originator_id, event.originator_version) == (
        stream_id("occurrence", "signing-1"),
        1,
    )
    assert (event.earliest, event.latest) == ("2025-08-11", "2025-08-13")
    assert event.recorded_by == "alice"
    # The library's aggregate, as the event creates it: the stream's one version.
    aggregate = event.mutate(None)
    assert isinstance(aggregate, Occurrence)
    assert (aggregate.id, aggregate.version) == (event.originator_id, 1)
    assert (aggregate.record, aggregate.earliest) == (event.record, "2025-08-11")


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
    assert isinstance(entry, SourceRegistered)


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
    event = enter(validate_record(correction), registry, "alice")
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


# --- corrections and retractions of any record -------------------------------------------


def _correction(target: str, ident: str, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "correction",
        "id": ident,
        "date": "2025-09-01",
        "target": target,
        "set": changes,
        "reason": "a later report",
    }


def _retraction(target: str, ident: str) -> dict[str, Any]:
    return {
        "kind": "retraction",
        "id": ident,
        "date": "2025-09-02",
        "target": target,
        "reason": "never true",
    }


def test_a_correction_of_an_agreement_is_checked_as_an_agreement(
    registry: FakeRegistry,
) -> None:
    event = enter(
        validate_record(_correction("MOU", "fix-parties", parties=["irq", "IRN"])), registry, "a"
    )
    assert isinstance(event, Corrected)
    assert isinstance(event.mutate(None), Amendment)
    assert event.target_namespace == "agreement"
    assert event.record["target"] == "mou"
    assert event.record["set"] == {"parties": ["IRQ", "IRN"]}  # spelled as registered
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_correction("mou", "fix-2", type="pact")), registry, "a")
    assert refused.value.field == "set.type"
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_correction("mou", "fix-3", parties=["FRA"])), registry, "a")
    assert refused.value.field == "set.parties[0]"
    assert "FRA" in refused.value.message


#: A post held from 2020 to 2025: corrections of its dates are judged against each other.
ARAJI_NSA_2020_2025 = {
    "kind": "post",
    "id": "araji-nsa",
    "holder": "araji",
    "title": "NSA",
    "organization": "IRQ",
    "start": "2020",
    "end": "2025",
}


def test_a_correction_of_an_actor_source_or_post_names_the_target_kind(
    registry: FakeRegistry,
) -> None:
    registry.register(
        {
            "kind": "post",
            "id": "araji-nsa",
            "holder": "araji",
            "title": "NSA",
            "organization": "IRQ",
        }
    )
    for target, changes, namespace in (
        ("araji", {"name": "Qasim al-Araji (corrected)"}, "actor"),
        ("peregraf", {"publisher": "Peregraf Media"}, "source"),
        ("ARAJI-NSA", {"title": "National Security Advisor"}, "post"),
    ):
        entry = enter(
            validate_record(_correction(target, f"fix-{namespace}", **changes)), registry, "a"
        )
        assert isinstance(entry, Amended) and entry.target_namespace == namespace


def test_a_correction_of_a_state_to_another_type_is_refused_for_its_iso_id(
    registry: FakeRegistry,
) -> None:
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_correction("IRQ", "fix-type", type="group")), registry, "a")
    assert refused.value.field == "set"
    assert "ISO 3166 code of Iraq" in refused.value.message


def test_corrections_are_checked_against_the_record_as_already_corrected(
    registry: FakeRegistry,
) -> None:
    registry.register(ARAJI_NSA_2020_2025)
    registry.accept(_correction("araji-nsa", "fix-start", start="2024"))
    # Against the original (start 2020) an end of 2022 would pass; against the record as
    # corrected (start 2024) the post would end before it starts.
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_correction("araji-nsa", "fix-end", end="2022")), registry, "a")
    assert "ends before it starts" in refused.value.message


def test_a_retracted_record_cannot_be_corrected(registry: FakeRegistry) -> None:
    registry.register({**SIGNING, "agreement": "mou"})
    registry.accept(_retraction("signing-1", "retract-1"))
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_correction("signing-1", "fix-1", place="Baghdad")), registry, "a")
    assert refused.value.field == "target"
    assert "was retracted by 'retract-1'" in refused.value.message
    assert "cannot be corrected" in refused.value.message


def test_a_retracted_record_cannot_be_retracted_again(registry: FakeRegistry) -> None:
    registry.accept(_retraction("peregraf", "retract-source"))
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_retraction("PEREGRAF", "retract-again")), registry, "a")
    assert "cannot be retracted again" in refused.value.message


def test_the_same_retraction_imported_again_adds_nothing(registry: FakeRegistry) -> None:
    registry.accept(_retraction("peregraf", "retract-source"))
    assert enter(validate_record(_retraction("peregraf", "retract-source")), registry, "b") is None


def test_a_registry_record_an_occurrence_still_names_cannot_be_retracted(
    registry: FakeRegistry,
) -> None:
    registry.accept(SIGNING)
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_retraction("araji", "retract-araji")), registry, "a")
    assert refused.value.field == "target"
    message = refused.value.message
    assert "actor 'araji' cannot be retracted" in message
    assert "signing 'signing-1' still refers to it (signatories[0].actor)" in message


def test_a_registry_record_no_longer_named_once_corrected_can_be_retracted(
    registry: FakeRegistry,
) -> None:
    registry.register({"kind": "actor", "id": "sudani", "name": "Sudani", "type": "person"})
    registry.accept(SIGNING)
    registry.accept(_correction("signing-1", "fix-signer", signatories=[{"actor": "sudani"}]))
    retraction = enter(validate_record(_retraction("araji", "retract-araji")), registry, "a")
    assert retraction is not None
    # ... while a correction that names a record keeps it from being retracted.
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_retraction("sudani", "retract-sudani")), registry, "a")
    assert "still refers to it" in refused.value.message


def test_a_registry_record_named_only_by_retracted_records_can_be_retracted(
    registry: FakeRegistry,
) -> None:
    registry.accept(SIGNING)
    registry.accept(_retraction("signing-1", "retract-signing"))
    assert enter(validate_record(_retraction("araji", "retract-araji")), registry, "a") is not None


def test_a_new_record_cannot_refer_to_a_retracted_registry_record(
    registry: FakeRegistry,
) -> None:
    registry.accept(_retraction("araji", "retract-araji"))
    with pytest.raises(RecordError) as refused:
        enter(validate_record(SIGNING), registry, "a")
    assert refused.value.field == "signatories[0].actor"
    assert "actor 'araji' was retracted" in refused.value.message


def test_a_target_naming_two_kinds_of_record_is_refused(registry: FakeRegistry) -> None:
    registry.register({"kind": "agreement", "id": "araji", "title": "A", "type": "other"})
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_correction("araji", "fix-x", title="B")), registry, "a")
    assert "names an actor and an agreement" in refused.value.message


def test_an_id_in_another_case_names_the_same_record(registry: FakeRegistry) -> None:
    registry.accept({"kind": "source", "id": "BBC-2025", "title": "BBC"})
    assert (
        enter(validate_record({"kind": "source", "id": "bbc-2025", "title": "BBC"}), registry, "b")
        is None
    )
    with pytest.raises(RecordError) as refused:
        enter(validate_record({"kind": "source", "id": "Bbc-2025", "title": "ITV"}), registry, "b")
    assert refused.value.field == "id"


def test_the_current_record_applies_corrections_in_order_and_ends_at_a_retraction() -> None:
    def known(kind: str, ident: str, record: dict[str, Any]) -> Known:
        return Known(ident, kind, "", {"kind": kind, "id": ident, **record}, "a", "source")

    original = Known("bbc", "source", "", {"kind": "source", "id": "bbc", "title": "A"}, "a")
    first = known("correction", "c1", {"target": "bbc", "set": {"title": "B"}})
    second = known("correction", "c2", {"target": "bbc", "set": {"publisher": "P"}})
    retraction = known("retraction", "r1", {"target": "bbc"})
    assert current(original, [first, second]).record == {
        "kind": "source",
        "id": "bbc",
        "title": "B",
        "publisher": "P",
    }
    assert current(original, [first, second]).retraction is None
    ended = current(original, [first, retraction, second])
    assert ended.record["title"] == "B" and "publisher" not in ended.record
    assert ended.retraction is retraction


def test_an_amendment_as_kept_for_later_decisions_reads_as_the_whole_one() -> None:
    """What an import keeps of each amendment (`as_amendment`) drops the record's other
    fields but decides later amendments exactly as the whole amendment would."""

    def known(kind: str, ident: str, record: dict[str, Any], result: Any = None) -> Known:
        whole = {"kind": kind, "id": ident, "summary": "long text " * 50, **record}
        return Known(ident, kind, "d", whole, "a", "source", result)

    original = Known("bbc", "source", "", {"kind": "source", "id": "bbc", "title": "A"}, "a")
    with_result = known(
        "correction",
        "c1",
        {"target": "bbc", "set": {"title": "B"}},
        {"kind": "source", "id": "bbc", "title": "B"},
    )
    without_result = known("correction", "c2", {"target": "bbc", "set": {"publisher": "P"}})
    retraction = known("retraction", "r1", {"target": "bbc"})
    whole = [with_result, without_result, retraction]
    kept = [amendment.as_amendment() for amendment in whole]
    assert [k.record for k in kept] == [
        {"target": "bbc"},
        {"target": "bbc", "set": {"publisher": "P"}},
        {"target": "bbc"},
    ]
    assert [(k.id, k.kind, k.digest, k.result) for k in kept] == [
        (w.id, w.kind, w.digest, w.result) for w in whole
    ]
    for end in range(len(whole) + 1):
        mine, theirs = current(original, kept[:end]), current(original, whole[:end])
        assert mine.record == theirs.record
        assert getattr(mine.retraction, "id", None) == getattr(theirs.retraction, "id", None)


def test_old_amendment_events_are_read_as_amending_occurrences() -> None:
    state: dict[str, Any] = {"record": {"date": "2025-09-01"}}
    Retracted.upcast_v2_v3(state)
    assert state["target_namespace"] == "occurrence"


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


def test_a_correction_carries_its_target_as_corrected_so_readers_never_apply_it(
    registry: FakeRegistry,
) -> None:
    registry.accept({**SIGNING, "agreement": "mou"})
    first = registry.accept(_correction("signing-1", "fix-place", place="Baghdad"))
    assert first.result is not None
    assert first.result["place"] == "Baghdad"
    assert first.result["kind"] == "signing" and first.result["id"] == "signing-1"
    # Applied to the target as already corrected, references spelled as registered.
    event = enter(
        validate_record(_correction("SIGNING-1", "fix-parties", overseen_by=["irn"])),
        registry,
        "alice",
    )
    assert isinstance(event, Corrected)
    assert event.record["set"] == {"overseen_by": ["IRN"]}
    assert event.result == {**first.result, "overseen_by": ["IRN"]}


def test_a_retraction_carries_no_result(registry: FakeRegistry) -> None:
    registry.accept({**SIGNING, "agreement": "mou"})
    event = enter(validate_record(_retraction("signing-1", "gone")), registry, "alice")
    assert isinstance(event, Retracted)
    assert event.result is None


def test_the_target_as_corrected_is_read_from_the_stored_result_when_there_is_one(
    registry: FakeRegistry,
) -> None:
    registry.accept({**SIGNING, "agreement": "mou"})
    stored = registry.accept(_correction("signing-1", "fix-place", place="Baghdad"))
    key = ("occurrence", "fix-place")
    assert stored.result is not None
    # Whatever the decision stored is what later decisions read, never re-derived...
    registry.known[key] = dataclasses.replace(stored, result={**stored.result, "place": "Erbil"})
    later = enter(validate_record(_correction("signing-1", "fix-2", summary="s")), registry, "a")
    assert isinstance(later, Corrected) and later.result is not None
    assert later.result["place"] == "Erbil"
    # ...and a correction recorded before events carried it is applied again.
    registry.known[key] = dataclasses.replace(stored, result=None)
    again = enter(validate_record(_correction("signing-1", "fix-3", summary="s")), registry, "a")
    assert isinstance(again, Corrected) and again.result is not None
    assert again.result["place"] == "Baghdad"


# --- what each refusal says, and what the decision leaves as it found it -----------------


def _refusal(raw: dict[str, Any], registry: FakeRegistry) -> RecordError:
    with pytest.raises(RecordError) as refused:
        enter(validate_record(raw), registry, "alice")
    return refused.value


def test_the_aggregate_a_correction_creates_knows_its_target_and_what_it_reads_as(
    registry: FakeRegistry,
) -> None:
    registry.accept({**SIGNING, "agreement": "mou"})
    event = enter(
        validate_record(_correction("signing-1", "fix-place", place="Baghdad")), registry, "bob"
    )
    assert isinstance(event, Corrected)
    aggregate = event.mutate(None)
    assert isinstance(aggregate, Amendment)
    assert aggregate.record == event.record and aggregate.record["target"] == "signing-1"
    assert (aggregate.recorded_by, aggregate.digest) == ("bob", event.digest)
    assert (aggregate.earliest, aggregate.latest) == ("2025-09-01", "2025-09-01")
    assert aggregate.target_namespace == "occurrence"
    assert aggregate.result is not None and aggregate.result["place"] == "Baghdad"


def test_a_target_naming_records_of_two_kinds_names_both_in_plain_words(
    registry: FakeRegistry,
) -> None:
    registry.register(
        {"kind": "post", "id": "araji", "holder": "IRQ", "title": "A", "organization": "IRQ"}
    )
    refusal = _refusal(_correction("araji", "fix-x", title="B"), registry)
    assert refusal.field == "target"
    assert refusal.message == (
        "'araji' names an actor and a post; a correction must name exactly one record"
    )


def test_the_record_given_is_left_as_it_was_read(registry: FakeRegistry) -> None:
    """The decision respells a copy: the record read from the file (and its digest, which
    a reading worker may have worked out) stays what the file said."""
    signing = validate_record(SIGNING)
    event = enter(signing, registry, "alice")
    assert event is not None and event.record["signatories"][0]["on_behalf_of"] == "IRQ"
    assert signing.data == validate_record(SIGNING).data
    registry.accept({**SIGNING, "agreement": "mou"})
    fix = validate_record(_correction("signing-1", "fix-1", overseen_by=["irn"]))
    event = enter(fix, registry, "alice")
    assert event is not None and event.record["set"] == {"overseen_by": ["IRN"]}
    assert fix.data["set"] == {"overseen_by": ["irn"]}


def test_an_events_digest_is_that_of_the_content_it_records(registry: FakeRegistry) -> None:
    """Respelled references and a correction's respelled changes are part of what is
    recorded, so the digest (what re-import and the audit compare) covers them."""
    as_typed = {**SIGNING, "agreement": "mou", "signatories": [{"actor": "araji"}]}
    event = enter(validate_record(as_typed), registry, "alice")
    assert event is not None and event.digest == validate_record(as_typed).digest
    respelled = enter(validate_record(SIGNING), registry, "alice")
    assert respelled is not None and respelled.digest == content_digest(respelled.record)
    assert respelled.digest != validate_record(SIGNING).digest
    registry.accept({**SIGNING, "agreement": "mou"})
    fix = enter(
        validate_record(_correction("signing-1", "fix-1", overseen_by=["irn"])), registry, "a"
    )
    assert fix is not None and fix.digest == content_digest(fix.record)


def test_a_correction_imported_again_is_judged_as_on_entry_not_after_later_ones(
    registry: FakeRegistry,
) -> None:
    registry.register(ARAJI_NSA_2020_2025)
    registry.accept(_correction("araji-nsa", "fix-end", end="2022"))
    registry.accept(_correction("araji-nsa", "fix-both", start="2023", end="2025"))
    # On the post as it now reads (2023 to 2025), an end of 2022 would be refused; it was
    # admitted against the post as it read then, and the same file imported again adds
    # nothing.
    again = _correction("ARAJI-NSA", "fix-end", end="2022")
    assert enter(validate_record(again), registry, "bob") is None
    with pytest.raises(RecordError) as refused:
        enter(validate_record(_correction("araji-nsa", "fix-new", end="2022")), registry, "b")
    assert "ends before it starts" in refused.value.message


def test_each_refusal_names_the_rule_and_the_records_involved(registry: FakeRegistry) -> None:
    """The analyst reads these messages to fix the file: each says what was named, what
    it collides with or was retracted by, and what to do instead."""
    statement = {"kind": "statement", "id": "st", "date": "2025-01-01", "by": "IRQ"}
    unknown_about = _refusal({**statement, "stance": "support", "about": ["nothing"]}, registry)
    assert (unknown_about.field, unknown_about.message) == (
        "about[0]",
        "unknown actor, agreement or occurrence 'nothing'",
    )
    unknown_target = _refusal(_correction("nothing", "fix-1", place="x"), registry)
    assert (unknown_target.field, unknown_target.message) == (
        "target",
        "unknown record 'nothing'",
    )
    registry.accept({**statement, "stance": "support", "about": ["mou"]})
    referred = _refusal(_retraction("mou", "retract-mou"), registry)
    assert (referred.field, referred.message) == (
        "target",
        "agreement 'mou' cannot be retracted: statement 'st' still refers to it "
        "(about[0]); correct or retract that record first",
    )
    registry.register({**SIGNING, "agreement": "mou"}, by="carol")
    taken = _refusal({**SIGNING, "date": "2025-08-12"}, registry)
    assert (taken.field, taken.message) == (
        "id",
        "id 'signing-1' is already taken by a different signing (entered by carol); "
        "send a correction instead",
    )
    registry.accept(_retraction("IRN", "retract-irn"))
    retracted = _refusal({**SIGNING, "id": "signing-2", "overseen_by": ["irn"]}, registry)
    assert (retracted.field, retracted.message) == (
        "overseen_by[0]",
        "actor 'IRN' was retracted (by 'retract-irn'); a new record cannot refer to it",
    )
    assert _refusal(_correction("irn", "fix-2", name="x"), registry).message == (
        "actor 'IRN' was retracted by 'retract-irn'; a retracted record cannot be corrected"
    )
    assert _refusal(_retraction("irn", "again"), registry).message == (
        "actor 'IRN' was retracted by 'retract-irn'; a retracted record cannot be retracted again"
    )
    amending_an_amendment = _refusal(_correction("retract-irn", "fix-3", reason="x"), registry)
    assert (amending_an_amendment.field, amending_an_amendment.message) == (
        "target",
        "'retract-irn' is a retraction; a correction must target a record that is not "
        "itself a correction or retraction",
    )


def test_a_refused_revocation_says_what_can_be_revoked_and_by_whom(
    registry: FakeRegistry,
) -> None:
    registry.register(NOTICE)
    registry.register({**SIGNING, "agreement": "mou"})
    revocation = {"kind": "revocation", "date": "2026-03-01", "by": "IRQ"}
    not_a_notice = _refusal({**revocation, "target": "signing-1"}, registry)
    assert (not_a_notice.field, not_a_notice.message) == (
        "target",
        "'signing-1' is a signing; a revocation must target a withdrawal or a suspension",
    )
    not_the_giver = _refusal({**revocation, "target": "irn-withdraws"}, registry)
    assert (not_the_giver.field, not_the_giver.message) == (
        "by",
        "the withdrawal 'irn-withdraws' was given by IRN; only IRN can revoke it",
    )


def test_a_registry_records_event_creates_the_entry_it_names(registry: FakeRegistry) -> None:
    raw = {"kind": "source", "id": "bbc", "title": "BBC"}
    event = enter(validate_record(raw), registry, "bob")
    assert isinstance(event, SourceRegistered)
    entry = event.mutate(None)
    assert isinstance(entry, Entry) and not isinstance(entry, Occurrence)
    assert (entry.kind, entry.record, entry.recorded_by) == ("source", event.record, "bob")
    assert entry.digest == event.digest == validate_record(raw).digest


def test_a_retracted_record_naming_the_target_does_not_hide_a_live_one(
    registry: FakeRegistry,
) -> None:
    registry.accept(SIGNING)
    registry.accept(_retraction("signing-1", "retract-signing"))
    registry.accept({**SIGNING, "id": "signing-2"})
    refusal = _refusal(_retraction("araji", "retract-araji"), registry)
    assert "signing 'signing-2' still refers to it" in refusal.message


def test_references_kept_in_another_case_are_still_matched(registry: FakeRegistry) -> None:
    """Records kept as typed (references in another case than the registered id) still
    name what they named: they keep it from retraction, and their giver may revoke."""
    registry.register({**SIGNING, "agreement": "mou"})  # on behalf of 'irq', as typed
    refusal = _refusal(_retraction("IRQ", "retract-irq"), registry)
    assert "signing 'signing-1' still refers to it (signatories[0].on_behalf_of)" in (
        refusal.message
    )
    registry.register({**NOTICE, "by": "irn"})
    revocation = {
        "kind": "revocation",
        "id": "irn-revokes",
        "date": "2026-03-01",
        "target": "irn-withdraws",
        "by": "IRN",
    }
    assert enter(validate_record(revocation), registry, "alice") is not None


def test_a_retracted_post_no_longer_keeps_its_holder_from_retraction(
    registry: FakeRegistry,
) -> None:
    post = {"kind": "post", "id": "araji-nsa", "holder": "araji", "title": "NSA"}
    registry.accept({**post, "organization": "IRQ"})
    assert "post 'araji-nsa' still refers to it (holder)" in (
        _refusal(_retraction("araji", "retract-araji"), registry).message
    )
    registry.accept(_retraction("araji-nsa", "retract-post"))
    assert enter(validate_record(_retraction("araji", "retract-araji")), registry, "a")


@pytest.mark.parametrize("event_class", sorted(EVENT_CLASSES.values(), key=lambda c: c.__name__))
def test_an_event_made_without_its_constructor_is_the_constructors(
    event_class: type[Recorded],
) -> None:
    """`new_event` fills the instance as the library's dataclass constructor does (same
    values, same order: the order the mapper stores them in)."""
    fields: dict[str, Any] = {
        name: f"value of {name}" for name in (f.name for f in dataclasses.fields(event_class))
    }
    fields.update(originator_id=stream_id("occurrence", "x-1"), originator_version=1)
    fields["timestamp"] = event_class.create_timestamp()
    made, built = new_event(event_class, fields), event_class(**fields)
    assert type(made) is event_class
    assert made == built
    assert list(vars(made).items()) == list(vars(built).items())


def test_an_event_whose_fields_are_not_the_classes_goes_through_its_constructor() -> None:
    fields: dict[str, Any] = {"originator_id": stream_id("source", "s"), "originator_version": 1}
    with pytest.raises(TypeError):  # the constructor's: missing arguments
        new_event(SourceRegistered, fields)
    signed = dict.fromkeys(f.name for f in dataclasses.fields(Signed))
    signed.update(originator_id="not a UUID", originator_version=1)
    with pytest.raises(TypeError, match="non-UUID originator_id"):
        new_event(Signed, signed)


def test_a_known_made_in_one_step_is_the_constructors() -> None:
    args = ("bbc", "source", "d", {"kind": "source", "id": "bbc"}, "alice", None, None)
    made, built = Known.made(*args), Known(*args)
    assert made == built
    assert list(vars(made).items()) == list(vars(built).items())
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.id = "other"  # type: ignore[misc]
