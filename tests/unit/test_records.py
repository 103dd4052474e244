"""Interchange records are checked strictly, normalized once and identified stably."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ledger import records
from ledger import reference_notes as notes
from ledger.dates import DateSpan
from ledger.errors import RecordError
from ledger.records import (
    apply_correction,
    field_names,
    list_field_names,
    recording_user,
    validate_record,
)
from ledger.vocabulary import (
    AMENDMENT_KINDS,
    KINDS,
    OCCURRENCE_KINDS,
    REGISTRY_KINDS,
    Record,
    Reference,
    actors_of,
    canonical_json,
    record_json,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "ledger" / "examples" / "iraq-iran-2025.yaml"

VALID: dict[str, dict[str, Any]] = {
    "source": {"kind": "source", "id": "peregraf-2025-08-14", "title": "Iraq, Iran sign"},
    "actor": {"kind": "actor", "id": "krg", "name": "KRG", "type": "body", "part_of": "IRQ"},
    "post": {
        "kind": "post",
        "holder": "ali-larijani",
        "title": "Secretary",
        "organization": "snsc",
    },
    "agreement": {
        "kind": "agreement",
        "id": "mou-2025",
        "title": "Memorandum",
        "type": "memorandum-of-understanding",
    },
    "signing": {
        "kind": "signing",
        "date": "2025-08",
        "agreement": "mou-2025",
        "signatories": [{"actor": "IRQ"}],
    },
    "approval": {"kind": "approval", "date": "2025", "agreement": "mou-2025", "by": "cabinet"},
    "ratification": {"kind": "ratification", "date": "2025", "agreement": "a", "by": "IRQ"},
    "entry_into_force": {"kind": "entry_into_force", "date": "2025", "agreement": "a"},
    "withdrawal": {"kind": "withdrawal", "date": "2025", "agreement": "a", "by": "USA"},
    "termination": {"kind": "termination", "date": "2025", "agreement": "a"},
    "suspension": {"kind": "suspension", "date": "2025", "agreement": "a"},
    "revocation": {"kind": "revocation", "date": "2025", "target": "w", "by": "IRQ"},
    "implementation": {
        "kind": "implementation",
        "date": "2025",
        "agreement": "a",
        "status": "stalled",
    },
    "visit": {"kind": "visit", "date": "2025", "visitor": "ali-larijani", "host": "IRQ"},
    "meeting": {"kind": "meeting", "date": "2025", "participants": ["a", "b"]},
    "statement": {"kind": "statement", "date": "2025", "by": "IRQ", "stance": "support"},
    "proposal": {"kind": "proposal", "date": "2025", "by": "IRN"},
    "accusation": {"kind": "accusation", "date": "2025", "by": "IRN", "against": ["kdpi"]},
    "threat": {"kind": "threat", "date": "2025", "by": "IRN", "against": ["kdpi"]},
    "correction": {
        "kind": "correction",
        "date": "2025-08-20",
        "target": "signing-mou-2025",
        "set": {"place": "Tehran"},
        "reason": "The report misplaced it",
    },
    "retraction": {
        "kind": "retraction",
        "date": "2025-08-20",
        "target": "signing-mou-2025",
        "reason": "Never happened",
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "source": ("id", "title"),
    "actor": ("id", "name", "type"),
    "post": ("holder", "title", "organization"),
    "agreement": ("id", "title", "type"),
    "signing": ("date", "agreement", "signatories"),
    "approval": ("date", "agreement", "by"),
    "ratification": ("date", "agreement", "by"),
    "entry_into_force": ("date", "agreement"),
    "withdrawal": ("date", "agreement", "by"),
    "termination": ("date", "agreement"),
    "suspension": ("date", "agreement"),
    "implementation": ("date", "agreement", "status"),
    "visit": ("date", "visitor", "host"),
    "meeting": ("date", "participants"),
    "statement": ("date", "by", "stance"),
    "proposal": ("date", "by"),
    "accusation": ("date", "by", "against"),
    "threat": ("date", "by", "against"),
    "correction": ("date", "target", "set", "reason"),
    "retraction": ("date", "target", "reason"),
}


def refused(raw: Any) -> RecordError:
    with pytest.raises(RecordError) as caught:
        validate_record(raw)
    return caught.value


def with_(kind: str, **changes: Any) -> dict[str, Any]:
    return {**VALID[kind], **changes}


def example_records() -> list[dict[str, Any]]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# --- every kind -----------------------------------------------------------------------


def test_the_kind_lists_cover_every_kind_once() -> None:
    assert set(KINDS) == set(VALID) == set(REGISTRY_KINDS + OCCURRENCE_KINDS + AMENDMENT_KINDS)
    assert len(KINDS) == len(set(KINDS)) == 21


@pytest.mark.parametrize("kind", KINDS)
def test_a_minimal_record_of_every_kind_is_valid_and_round_trips(kind: str) -> None:
    record = validate_record(VALID[kind])
    assert record.kind == kind
    assert record.data["kind"] == kind
    assert record.data["id"] == record.id
    assert validate_record(record.data) == record
    assert validate_record(json.loads(json.dumps(record.data))) == record


@pytest.mark.parametrize(
    ("kind", "name"), [(k, n) for k in KINDS for n in field_names(k) if n not in ("kind", "id")]
)
def test_a_lone_surrogate_in_any_field_is_refused_by_name(kind: str, name: str) -> None:
    """Text that is not UTF-8 (a lone surrogate, as a command line's undecodable bytes
    arrive) is refused naming its field, whatever shape the field takes: msgspec raised
    UnicodeEncodeError for some (a list given one text), which reached the user as a
    message without the field."""
    for value in ("\ud800", "0\ud800", ["\udcff"]):
        error = refused(with_(kind, **{name: value}))
        assert error.field is not None and error.field.startswith(name), (value, error)


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, names in REQUIRED.items() for n in names])
def test_a_missing_required_field_is_refused_by_name(kind: str, name: str) -> None:
    raw = {key: value for key, value in VALID[kind].items() if key != name}
    error = refused(raw)
    assert error.field == name
    assert name in error.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_field_the_kind_does_not_have_is_refused(kind: str) -> None:
    error = refused(with_(kind, colour="red"))
    assert error.field == "colour"
    article = "an" if kind[0] in "aeiou" else "a"
    assert f"{article} {kind} record has no field 'colour'" in error.message


@pytest.mark.parametrize(
    ("kind", "name", "value"),
    [
        ("source", "type", "blog"),
        ("source", "reliability", "G"),
        ("actor", "type", "country"),
        ("agreement", "type", "pact"),
        ("ratification", "method", "signature"),
        ("implementation", "status", "done"),
        ("statement", "stance", "Support"),
    ],
)
def test_a_value_outside_an_enumeration_is_refused_with_the_choices(
    kind: str, name: str, value: str
) -> None:
    error = refused(with_(kind, **{name: value}))
    assert error.field == name
    assert repr(value) in error.message


def test_a_relation_type_outside_the_list_is_refused_at_its_path() -> None:
    raw = with_("agreement", relations=[{"type": "builds_on", "target": "a"}, {"type": "x"}])
    error = refused(raw)
    assert error.field == "relations[1].type"
    assert "builds_on" in error.message


# --- kinds and shapes -----------------------------------------------------------------


def test_a_record_must_be_a_mapping() -> None:
    assert "must be a mapping" in refused(["kind", "actor"]).message
    assert "must be a mapping" in refused("actor").message


def test_a_record_without_a_kind_is_refused_on_kind() -> None:
    error = refused({"id": "x"})
    assert error.field == "kind"


@pytest.mark.parametrize("kind", ["treaty", "Signing", 3, None, ""])
def test_an_unknown_kind_is_refused_on_kind(kind: Any) -> None:
    assert refused({"kind": kind}).field == "kind"


def test_a_non_text_field_name_is_refused() -> None:
    assert "field names must be text" in refused({"kind": "actor", 1: "x"}).message


def test_field_names_are_the_interchange_spelling() -> None:
    assert "for" in field_names("entry_into_force")
    assert "set" in field_names("correction")
    assert "for_" not in field_names("entry_into_force")
    assert set(list_field_names("signing")) == {"sources", "tags", "signatories", "overseen_by"}


def test_python_spellings_of_aliased_fields_are_not_fields() -> None:
    assert refused(with_("entry_into_force", for_=["IRQ"])).field == "for_"


# --- ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "-leading-dash",
        "has space",
        "x'; DROP TABLE events; --",
        "robert'); --",
        "a/b",
        "é",
        "tab\there",
        "nul\x00",
        "",
        "x" * 201,
    ],
)
def test_an_occurrence_id_must_be_a_slug(bad: str) -> None:
    error = refused(with_("signing", id=bad))
    assert error.field == "id"


def test_a_slug_may_use_dots_underscores_and_dashes() -> None:
    assert validate_record(with_("signing", id="a.b_c-2025")).id == "a.b_c-2025"


def test_a_state_id_is_an_alpha_3_code_in_upper_case() -> None:
    record = validate_record({"kind": "actor", "id": "irq", "name": "Iraq", "type": "state"})
    assert record.id == record.data["id"] == "IRQ"


@pytest.mark.parametrize("bad", ["iraq", "IQ", "IR1", "I-Q"])
def test_a_state_id_that_is_not_three_letters_is_refused(bad: str) -> None:
    error = refused({"kind": "actor", "id": bad, "name": "Iraq", "type": "state"})
    assert error.field == "id"
    assert "ISO 3166-1 alpha-3" in error.message


def test_an_upper_case_id_is_kept_as_written() -> None:
    assert validate_record(with_("signing", id="Signing-MOU")).id == "Signing-MOU"
    group = validate_record({"kind": "actor", "id": "KDPI", "name": "KDPI", "type": "group"})
    assert group.id == "KDPI"


@pytest.mark.parametrize("code", ["SUN", "yug", "CSK", "DDR", "XKX", "AAA", "QMA", "QZZ", "ZZZ"])
def test_a_former_country_or_a_user_assigned_code_may_name_a_state(code: str) -> None:
    record = validate_record({"kind": "actor", "id": code, "name": "A state", "type": "state"})
    assert record.id == code.upper()


@pytest.mark.parametrize("code", ["ABC", "QLZ", "ZYZ", "EUR", "QAA"])
def test_a_three_letter_code_iso_does_not_assign_is_refused_for_a_state(code: str) -> None:
    error = refused({"kind": "actor", "id": code, "name": "A state", "type": "state"})
    assert error.field == "id"
    assert "ISO 3166-1 alpha-3" in error.message and "user-assigned" in error.message


@pytest.mark.parametrize(
    ("ident", "country"), [("pak", "Pakistan"), ("Irq", "Iraq"), ("sun", "USSR")]
)
def test_no_actor_but_a_state_may_take_an_iso_code_as_its_id(ident: str, country: str) -> None:
    for actor_type in ("group", "organization", "person", "body", "media"):
        error = refused({"kind": "actor", "id": ident, "name": "N", "type": actor_type})
        assert error.field == "id"
        assert f"ISO 3166 code of {country}" in error.message


def test_an_id_is_at_most_200_characters() -> None:
    assert validate_record(with_("signing", id="A" * 200)).id == "A" * 200
    assert "at most 200" in refused(with_("signing", id="A" * 201)).message


def test_references_keep_the_spelling_they_were_written_with() -> None:
    record = validate_record(with_("approval", by="Cabinet", on_behalf_of="irq"))
    assert (record.data["by"], record.data["on_behalf_of"]) == ("Cabinet", "irq")


@pytest.mark.parametrize("bad", ["IRQ; DROP TABLE x", "", "  ", "-x", "x" * 201, "a\nb"])
def test_a_malformed_reference_is_refused_at_its_path(bad: str) -> None:
    error = refused(with_("signing", signatories=[{"actor": "IRQ"}, {"actor": bad}]))
    assert error.field == "signatories[1].actor"


def test_a_number_is_not_an_id() -> None:
    assert "expected an id" in refused(with_("approval", by=7)).message


def test_yaml_booleans_get_a_hint_to_quote_them() -> None:
    error = refused(with_("statement", summary=False))
    assert error.field == "summary"
    assert "quote" in error.message


# --- text -----------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"])
def test_control_characters_in_text_are_refused(char: str) -> None:
    error = refused(with_("statement", summary=f"said {char} this"))
    assert error.field == "summary"
    assert "control character" in error.message


@pytest.mark.parametrize(
    "char",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("statement", "summary"),
        ("statement", "quote"),
        ("statement", "place"),
        ("source", "title"),
        ("source", "publisher"),
        ("actor", "name"),
        ("agreement", "title"),
    ],
)
def test_bidirectional_overrides_and_isolates_are_refused_naming_the_field(
    char: str, kind: str, field: str
) -> None:
    error = refused(with_(kind, **{field: f"Iraq {char}qarI"}))
    assert error.field == field
    assert f"bidirectional override or isolate character (U+{ord(char):04X})" in error.message


def test_right_to_left_text_itself_is_welcome() -> None:
    record = validate_record(with_("actor", name="العراق", aliases=["עִירַאק"]))
    assert record.data["name"] == "العراق"


def test_a_bidirectional_override_in_a_correction_value_is_refused() -> None:
    error = refused(with_("correction", set={"summary": "x\u202ey"}))
    assert error.field == "set"
    assert "the new 'summary' contains a bidirectional" in error.message


@pytest.mark.parametrize("name", ["alice\x1b[31m", "bob\u202e", "ev\ne", "tab\tuser", "\u2066x"])
def test_the_recording_user_refuses_control_and_bidirectional_characters(name: str) -> None:
    with pytest.raises(RecordError) as caught:
        recording_user(name)
    assert "recording user" in caught.value.message


def test_the_recording_user_is_a_name_of_at_most_200_characters() -> None:
    assert recording_user(" alice ") == "alice"
    assert recording_user("Ана Петрова") == "Ана Петрова"
    with pytest.raises(RecordError):
        recording_user("x" * 201)
    with pytest.raises(RecordError):
        recording_user("   ")


def test_prose_may_span_lines_but_names_may_not() -> None:
    record = validate_record(with_("statement", summary="one\r\ntwo\n", place="Baghdad "))
    assert record.data["summary"] == "one\ntwo"
    assert record.data["place"] == "Baghdad"
    assert refused(with_("statement", place="Bagh\ndad")).field == "place"


def test_empty_text_is_refused() -> None:
    assert refused(with_("statement", summary="   ")).message == "must not be empty"


def test_text_over_the_size_limit_is_refused() -> None:
    error = refused(with_("statement", summary="x" * 100_001))
    assert error.field == "summary"
    assert "100000" in error.message


def test_a_list_over_the_size_limit_is_refused() -> None:
    error = refused(with_("meeting", participants=[f"p{i}" for i in range(10_001)]))
    assert error.field == "participants"
    assert "10000" in error.message


def test_the_same_id_twice_in_a_list_is_refused_whatever_its_case() -> None:
    error = refused(with_("agreement", parties=["IRQ", "irq"]))
    assert error.field == "parties"
    assert "twice" in error.message


# --- normalization --------------------------------------------------------------------


def test_a_bare_source_id_becomes_a_citation() -> None:
    record = validate_record(with_("statement", sources=["peregraf", {"source": "other"}]))
    assert record.data["sources"] == [{"source": "peregraf"}, {"source": "other"}]


def test_a_citation_keeps_only_what_was_given() -> None:
    raw = with_("statement", sources=[{"source": "p", "attribution": "officials", "quote": "q"}])
    assert validate_record(raw).data["sources"] == [
        {"source": "p", "attribution": "officials", "quote": "q"}
    ]


def test_a_citation_with_an_unknown_key_is_refused_at_its_path() -> None:
    error = refused(with_("statement", sources=["p", {"source": "q", "page": 3}]))
    assert error.field == "sources[1].page"


def test_a_single_id_where_a_list_is_expected_becomes_a_list() -> None:
    record = validate_record(with_("implementation", by="IRQ"))
    assert record.data["by"] == ["IRQ"]
    record = validate_record(with_("entry_into_force", **{"for": "IRQ"}))
    assert record.data["for"] == ["IRQ"]


def test_a_bare_actor_id_is_a_signatory() -> None:
    record = validate_record(with_("signing", signatories=["IRQ", "IRN"]))
    assert record.data["signatories"] == [{"actor": "IRQ"}, {"actor": "IRN"}]


def test_a_single_valued_field_refuses_a_list() -> None:
    error = refused(with_("statement", by=["IRQ", "IRN"]))
    assert error.field == "by"
    assert "not a list" in error.message


def test_signatories_must_not_be_empty() -> None:
    assert refused(with_("signing", signatories=[])).field == "signatories"


def test_ratification_method_defaults_to_ratification_explicitly() -> None:
    assert validate_record(VALID["ratification"]).data["method"] == "ratification"


def test_empty_optionals_are_left_out_of_the_data() -> None:
    record = validate_record(with_("statement", about=[], tags=None, place=None, sources=[]))
    assert set(record.data) == {"kind", "id", "date", "by", "stance"}


def test_unquoted_yaml_dates_and_years_are_stored_as_text() -> None:
    record = validate_record(with_("signing", date=dt.date(2023, 3, 19)))
    assert record.data["date"] == "2023-03-19"
    assert validate_record(with_("signing", date=2025)).data["date"] == "2025"
    post = validate_record(with_("post", start=dt.date(2025, 8, 1), end="2025-12"))
    assert (post.data["start"], post.data["end"]) == ("2025-08-01", "2025-12")


def test_the_source_published_moment_is_iso() -> None:
    record = validate_record(with_("source", published=dt.datetime(2025, 8, 14, 10, 21)))
    assert record.data["published"] == "2025-08-14T10:21:00"
    assert validate_record(with_("source", published="2025-08-14T10:21")).data["published"]
    assert refused(with_("source", published="14 August")).field == "published"


def test_source_reliability_is_an_admiralty_letter_in_upper_case() -> None:
    assert validate_record(with_("source", reliability="b")).data["reliability"] == "B"


def test_a_source_url_needs_a_scheme() -> None:
    assert refused(with_("source", url="peregraf.com/x")).field == "url"
    assert validate_record(with_("source", url="https://peregraf.com/x")).data["url"]


# --- dates ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["2021-02-30", "2025-13", "soon", "", "[2022..2025-08-14]"])
def test_an_invalid_date_is_refused_on_date(bad: str) -> None:
    error = refused(with_("signing", date=bad))
    assert error.field == "date"
    assert "not a valid EDTF date" in error.message or "empty" in error.message


def test_an_occurrence_has_the_span_of_its_date() -> None:
    record = validate_record(with_("signing", date="[2025-08-11..2025-08-13]"))
    assert record.span == DateSpan(
        "[2025-08-11..2025-08-13]", dt.date(2025, 8, 11), dt.date(2025, 8, 13)
    )
    assert validate_record(VALID["actor"]).span is None


def test_a_post_cannot_end_before_it_starts() -> None:
    assert refused(with_("post", start="2025-08", end="2024")).field == "end"


def test_a_suspension_until_must_be_a_date() -> None:
    assert refused(with_("suspension", until="later")).field == "until"


# --- derived ids ----------------------------------------------------------------------


def test_an_occurrence_without_id_gets_a_stable_id_from_its_content() -> None:
    first = validate_record(VALID["signing"])
    again = validate_record(dict(VALID["signing"]))
    assert first.id == again.id
    assert first.id.startswith("signing-2025-08-")
    assert len(first.id.rsplit("-", 1)[1]) == 12


def test_a_derived_id_changes_with_the_content() -> None:
    one = validate_record(VALID["signing"])
    other = validate_record(with_("signing", place="Baghdad"))
    assert one.id != other.id


def test_a_derived_id_ignores_how_the_content_was_written() -> None:
    terse = validate_record(with_("statement", sources="peregraf", about="IRN"))
    full = validate_record(with_("statement", sources=[{"source": "peregraf"}], about=["IRN"]))
    assert terse == full


def test_a_derived_id_ignores_the_case_of_references() -> None:
    upper = validate_record(with_("approval", by="Cabinet"))
    lower = validate_record(with_("approval", by="cabinet"))
    assert upper.id == lower.id
    assert upper.data != lower.data


def test_a_post_gets_an_id_named_after_its_holder() -> None:
    record = validate_record(VALID["post"])
    assert record.id.startswith("post-ali-larijani-")
    assert validate_record(record.data) == record


def test_an_explicit_id_is_kept() -> None:
    assert validate_record(with_("signing", id="signing-mou-2025")).id == "signing-mou-2025"


def test_derived_ids_are_valid_slugs_even_for_odd_dates() -> None:
    for date in ["../..", "[..2025-08-13]", "{2025-08-11,2025-08-13}", "2025-08~"]:
        record = validate_record(with_("signing", date=date))
        assert validate_record(with_("signing", date=date, id=record.id)) == record


def test_corrections_and_retractions_live_in_the_occurrence_namespace() -> None:
    assert validate_record(VALID["correction"]).namespace == "occurrence"
    assert validate_record(VALID["retraction"]).id.startswith("retraction-2025-08-20-")
    assert validate_record(VALID["signing"]).namespace == "occurrence"
    assert validate_record(VALID["actor"]).namespace == "actor"


# --- the example ----------------------------------------------------------------------


def test_every_record_of_the_example_is_valid_and_round_trips() -> None:
    raws = example_records()
    assert len(raws) == 39
    for raw in raws:
        record = validate_record(raw)
        assert validate_record(record.data) == record
        assert validate_record(json.loads(json.dumps(record.data))) == record
        assert validate_record(yaml.safe_load(yaml.safe_dump(record.data))) == record


def test_example_data_is_plain_json() -> None:
    for raw in example_records():
        data = validate_record(raw).data

        def plain(value: Any) -> bool:
            if isinstance(value, dict):
                return all(isinstance(k, str) and plain(v) for k, v in value.items())
            if isinstance(value, list):
                return all(plain(v) for v in value)
            return value is None or isinstance(value, str | int | float | bool)

        assert plain(data)


def test_the_digest_is_the_sha256_of_canonical_json() -> None:
    import hashlib

    record = validate_record(VALID["agreement"])
    expected = hashlib.sha256(canonical_json(record.data).encode()).hexdigest()
    assert record.digest == expected
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_record_json_spells_each_validated_record_as_canonical_json_does() -> None:
    """Replay writes every record version's JSON through orjson where it can: the text
    must be the one `canonical_json` wrote before, or stored rows would change."""
    raw = [*yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), *VALID.values()]
    raw.append({**VALID["source"], "title": 'quote " back\\slash / é 中 \U0001f600 \u2028'})
    for item in raw:
        data = validate_record(item).data
        assert record_json(data) == canonical_json(data), data


def test_record_json_leaves_what_orjson_spells_its_own_way_to_canonical_json() -> None:
    corrected = {"kind": "signing", "id": "s", "date": "2025", "share": 2.5e-05}
    correction = {"kind": "correction", "id": "c", "set": {"share": 2.5e-05}}
    for data in (correction, {"kind": "source", "id": "s", "big": 2**70}):
        assert record_json(data) == canonical_json(data)
    assert record_json(correction) == '{"id":"c","kind":"correction","set":{"share":2.5e-05}}'
    assert canonical_json(corrected) != record_json(corrected)  # why corrected versions may not


# --- references -----------------------------------------------------------------------


def test_references_name_every_id_with_its_path_and_namespace() -> None:
    raw = {
        "kind": "signing",
        "id": "signing-mou-2025",
        "date": "[2025-08-11..2025-08-13]",
        "agreement": "mou",
        "signatories": [{"actor": "qasim", "on_behalf_of": "IRQ"}, {"actor": "IRN"}],
        "overseen_by": ["sudani"],
        "sources": ["peregraf"],
    }
    assert list(validate_record(raw).references) == [
        Reference("agreement", "agreement", "mou"),
        Reference("signatories[0].actor", "actor", "qasim"),
        Reference("signatories[1].actor", "actor", "IRN"),
        Reference("signatories[0].on_behalf_of", "actor", "IRQ"),
        Reference("overseen_by[0]", "actor", "sudani"),
        Reference("sources[0].source", "source", "peregraf"),
    ]


def test_about_may_name_an_actor_or_an_agreement() -> None:
    record = validate_record(with_("statement", about=["IRN", "mou"]))
    assert Reference("about[1]", "any", "mou") in record.references


def test_registry_references_cover_relations_parties_and_post_sources() -> None:
    agreement = validate_record(
        with_("agreement", parties=["IRQ"], relations=[{"type": "amends", "target": "old"}])
    )
    assert list(agreement.references) == [
        Reference("parties[0]", "actor", "IRQ"),
        Reference("relations[0].target", "agreement", "old"),
    ]
    post = validate_record(with_("post", sources=["peregraf"]))
    assert Reference("sources[0].source", "source", "peregraf") in post.references
    assert Reference("holder", "actor", "ali-larijani") in post.references


def test_corrections_reference_a_record_of_any_kind() -> None:
    assert validate_record(VALID["correction"]).references == (
        Reference("target", "record", "signing-mou-2025"),
    )


def test_actors_of_gives_each_actor_with_its_role() -> None:
    record = validate_record(
        with_(
            "signing",
            signatories=[{"actor": "qasim", "on_behalf_of": "IRQ"}],
            overseen_by=["sudani"],
        )
    )
    assert actors_of(record) == [
        ("signatory", "qasim"),
        ("on_behalf_of", "IRQ"),
        ("overseen_by", "sudani"),
    ]
    visit = validate_record(with_("visit", about=["mou"]))
    assert actors_of(visit) == [("visitor", "ali-larijani"), ("host", "IRQ")]
    post = validate_record(VALID["post"])
    assert ("holder", "ali-larijani") in actors_of(post)


def test_agreements_cannot_relate_to_themselves() -> None:
    raw = with_("agreement", relations=[{"type": "amends", "target": "MOU-2025"}])
    assert refused(raw).field == "relations[0].target"


# --- corrections ----------------------------------------------------------------------


def target() -> Record:
    return validate_record(
        {
            "kind": "signing",
            "id": "signing-mou-2025",
            "date": "[2025-08-11..2025-08-13]",
            "place": "Baghdad",
            "agreement": "mou",
            "signatories": ["IRQ", "IRN"],
        }
    )


def test_a_correction_replaces_the_fields_it_sets() -> None:
    corrected = apply_correction(target(), {"date": "2025-08-12", "place": "Tehran"})
    assert corrected.id == "signing-mou-2025"
    assert corrected.data["date"] == "2025-08-12"
    assert corrected.data["place"] == "Tehran"
    assert corrected.span is not None and corrected.span.earliest == dt.date(2025, 8, 12)


def test_a_correction_is_normalized_like_an_import() -> None:
    corrected = apply_correction(target(), {"signatories": "IRQ", "sources": "peregraf"})
    assert corrected.data["signatories"] == [{"actor": "IRQ"}]
    assert corrected.data["sources"] == [{"source": "peregraf"}]


def test_a_correction_setting_null_removes_an_optional_field() -> None:
    assert "place" not in apply_correction(target(), {"place": None}).data


def test_a_correction_cannot_remove_a_required_field() -> None:
    with pytest.raises(RecordError) as caught:
        apply_correction(target(), {"agreement": None})
    assert caught.value.field == "set.agreement"


@pytest.mark.parametrize("name", ["kind", "id"])
def test_a_correction_cannot_change_kind_or_id(name: str) -> None:
    with pytest.raises(RecordError) as caught:
        apply_correction(target(), {name: "x"})
    assert caught.value.field == f"set.{name}"


def test_a_correction_cannot_set_a_field_the_kind_does_not_have() -> None:
    with pytest.raises(RecordError) as caught:
        apply_correction(target(), {"stance": "support"})
    assert caught.value.field == "set.stance"


def test_a_correction_with_an_invalid_value_is_refused_at_its_path() -> None:
    with pytest.raises(RecordError) as caught:
        apply_correction(target(), {"date": "2021-02-30"})
    assert caught.value.field == "set.date"
    with pytest.raises(RecordError) as caught:
        apply_correction(target(), {"signatories": [{"actor": "IRQ"}, {"actor": "bad id"}]})
    assert caught.value.field == "set.signatories[1].actor"


def test_a_correction_record_refuses_changing_ids_or_unknown_fields() -> None:
    assert refused(with_("correction", set={"id": "x"})).field == "set.id"
    assert refused(with_("correction", set={"colour": "red"})).field == "set.colour"
    assert refused(with_("correction", set={})).field == "set"
    assert refused(with_("correction", set="place=Tehran")).field == "set"


def test_a_correction_record_keeps_its_values_as_plain_json() -> None:
    record = validate_record(with_("correction", set={"date": dt.date(2025, 8, 12), "tags": ["x"]}))
    assert record.data["set"] == {"date": "2025-08-12", "tags": ["x"]}
    assert validate_record(record.data) == record


def test_a_correction_record_refuses_absurd_nesting() -> None:
    deep: Any = "x"
    for _ in range(30):
        deep = [deep]
    assert refused(with_("correction", set={"summary": deep})).field == "set"


def test_an_actor_takes_a_start_an_end_and_successors() -> None:
    record = validate_record(
        {
            "kind": "actor",
            "id": "sun",
            "name": "USSR",
            "type": "state",
            "start": dt.date(1922, 12, 30),
            "end": "1991-12-26",
            "successors": "RUS",
        }
    )
    assert record.id == "SUN"
    assert (record.data["start"], record.data["end"]) == ("1922-12-30", "1991-12-26")
    assert record.data["successors"] == ["RUS"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"start": "1991", "end": "1922"}, "end", "the actor ends before it starts"),
        ({"successors": ["SUN"]}, "successors[0]", "cannot succeed itself"),
        ({"successors": ["RUS", "rus"]}, "successors", "twice"),
        ({"end": "1991-13-40"}, "end", "not"),
    ],
)
def test_an_actors_period_and_successors_are_checked(
    changes: dict[str, Any], field: str, message: str
) -> None:
    raw = {"kind": "actor", "id": "SUN", "name": "USSR", "type": "state", **changes}
    with pytest.raises(RecordError) as refused:
        validate_record(raw)
    assert refused.value.field == field
    assert message in refused.value.message


def test_a_revocation_names_its_target_and_who_revokes() -> None:
    with pytest.raises(RecordError) as refused:
        validate_record({"kind": "revocation", "date": "2017-03-07", "target": "w"})
    assert refused.value.field == "by"


# --- the fast check (msgspec) and the precise check agree -------------------------------


def _written_out(kind: str) -> dict[str, Any]:
    """A kind's example as the precise check normalises it: every field in its long form."""
    return validate_record(notes.EXAMPLES[kind]).data


@pytest.mark.parametrize("kind", KINDS)
def test_a_record_in_normal_form_passes_the_fast_check_unchanged(kind: str) -> None:
    data = _written_out(kind)
    assert records._fast(data) == data
    assert records._precise(data) == data


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ({"kind": "meeting", "date": "2020", "participants": "IRQ"}, "a lone value"),
        (
            {"kind": "meeting", "date": "2020", "participants": ["IRQ"], "place": " Erbil "},
            "spaces",
        ),
        ({"kind": "meeting", "date": 2020, "participants": ["IRQ"]}, "a YAML year"),
        ({"kind": "meeting", "date": "2020", "participants": ["IRQ", "irq"]}, "twice"),
        ({"kind": "meeting", "date": "2020-02-30", "participants": ["IRQ"]}, "no such day"),
        ({"kind": "source", "id": "s", "title": "T", "reliability": "b"}, "lower case"),
        ({"kind": "meeting", "date": "2020", "participants": ["IRQ"], "summary": "a\r\nb"}, "CR"),
    ],
)
def test_what_the_fast_check_cannot_settle_goes_to_the_precise_check(
    record: dict[str, Any], why: str
) -> None:
    assert records._fast(record) is None, why


def test_a_ratification_without_a_method_gets_the_declared_default_on_both_paths() -> None:
    record = {"kind": "ratification", "date": "2020", "agreement": "a", "by": "IRQ"}
    assert records._fast(record) == records._precise(record)
    assert validate_record(record).data["method"] == "ratification"


def test_the_normal_form_lists_fields_in_declared_order_whatever_the_input_order() -> None:
    record = {
        "kind": "signing",
        "agreement": "a",
        "signatories": ["IRQ"],
        "date": "2020",
        "id": "s",
    }
    data = validate_record(record).data
    assert list(data) == ["kind", "id", "date", "agreement", "signatories"]
    assert data["signatories"] == [{"actor": "IRQ"}]


_ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    2020,
    1.5,
    "",
    " x ",
    "x",
    "IRQ",
    "irq",
    "a\tb",
    "a\nb",
    "a\r\nb",
    "\u202ex",
    "x\x00",
    "\xa0x",
    "-x",
    "x y",
    "A" * 201,
    "2020-02-30",
    "2020-01~",
    "[2020..2021]",
    "0000",
    "https://x.org",
    "http:// x",
    "b",
    "F",
    "state",
    "treaty",
    "support",
    "complete",
    "amends",
    "ratification",
    [],
    ["x"],
    ["x", "X"],
    [None],
    [5],
    ["  y "],
    [{"source": "s"}],
    [{"actor": "a", "zz": 1}],
    {"source": "s"},
    {},
    {"x": 1},
    dt.date(2020, 1, 2),
    [{"type": "amends", "target": "x"}],
    {"place": " x "},
]


def test_whatever_the_fast_check_accepts_the_precise_check_accepts_alike() -> None:
    """The fast check may only shortcut the precise one: on every record it accepts, the
    two give the same normal form (deterministic mutants of every kind's example)."""
    import random

    chance = random.Random(13)
    accepted = 0
    for _ in range(3000):
        kind = chance.choice(KINDS)
        record = dict(_written_out(kind))
        for _ in range(chance.randint(1, 3)):
            name = chance.choice([*field_names(kind), "extra"])
            if chance.random() < 0.15:
                record.pop(name, None)
            else:
                record[name] = chance.choice(_ODD_VALUES)
        fast = records._fast(record)
        if fast is None:
            continue
        accepted += 1
        assert fast == records._precise(record), record
    assert accepted > 100  # the mutants do reach the fast check
