"""The format's reference (`ledger format`) documents exactly what the validator knows.

Its structure is generated from `ledger.records`; these tests make sure the prose half
(`ledger.reference_notes`) keeps up: every kind and field the validator knows has a
meaning and an example, no note speaks of a field the validator does not have, every
example passes the validator, and every value an enumeration lists is one it accepts.
"""

from __future__ import annotations

import pytest

from ledger import records, reference
from ledger import reference_notes as notes
from ledger.dates import parse_date
from ledger.errors import RecordError
from ledger.records import field_names, required_field_names, struct_of, validate_record
from ledger.reference import FieldDoc, UndocumentedError, kind_doc, render
from ledger.vocabulary import KINDS


def _paths(kind: str) -> set[str]:
    """Every field path of a kind, sub-fields of structures included (`sources.quote`)."""
    found: set[str] = set()

    def walk(fields: tuple[FieldDoc, ...], prefix: str) -> None:
        for field in fields:
            found.add(prefix + field.name)
            walk(field.parts, f"{prefix}{field.name}.")

    walk(kind_doc(kind).fields, "")
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_and_field_the_validator_knows_is_documented(kind: str) -> None:
    doc = kind_doc(kind)  # raises UndocumentedError naming what is missing
    assert doc.summary and doc.example
    assert [f.name for f in doc.fields] == list(field_names(kind))
    assert [f.name for f in doc.fields if f.required] == list(required_field_names(kind))
    section = render(kind)
    for path in _paths(kind):
        assert f"`{path.rsplit('.', 1)[-1]}`" in section, path
    assert all(f.form and f.meaning for f in doc.fields)


def test_the_whole_reference_has_every_kind_and_its_section() -> None:
    text = render()
    for kind in KINDS:
        assert f"### `{kind}` (" in text
        assert render(kind).split("\n", 1)[1] in text


def test_no_note_speaks_of_a_kind_or_field_the_validator_does_not_have() -> None:
    assert set(notes.KINDS) == set(KINDS)
    assert set(notes.EXAMPLES) == set(KINDS)
    paths = {kind: _paths(kind) for kind in KINDS}
    for key in notes.FIELDS_OF_KIND:
        kind, path = key.split(".", 1)
        assert path in paths.get(kind, set()), f"FIELDS_OF_KIND[{key!r}]: no such field"
    for key in notes.FIELDS_OF_FAMILY:
        family, path = key.split(".", 1)
        kinds = [k for k in KINDS if reference.family_of(k) == family]
        assert kinds and any(path in paths[k] for k in kinds), f"FIELDS_OF_FAMILY[{key!r}]"
    every_path = set().union(*paths.values())
    unused = set(notes.FIELDS) - every_path
    assert not unused, f"notes.FIELDS explains fields no kind has: {sorted(unused)}"


@pytest.mark.parametrize("kind", KINDS)
def test_every_example_passes_the_validator(kind: str) -> None:
    example = notes.EXAMPLES[kind]
    assert example["kind"] == kind
    assert validate_record(example).kind == kind


@pytest.mark.parametrize("kind", KINDS)
def test_every_listed_value_is_one_the_validator_accepts(kind: str) -> None:
    """An enumeration's values come from the validator's own check; prove it both ways."""
    for field in kind_doc(kind).fields:
        if not field.form.startswith("one of "):
            continue
        values = field.form.removeprefix("one of ").split(" (")[0].split(", ")
        for value in values:
            try:
                validate_record({**notes.EXAMPLES[kind], field.name: value})
            except RecordError as error:  # another field's rule, e.g. a state's id
                assert error.field != field.name, (field.name, value, error)
        with pytest.raises(RecordError) as refused:
            validate_record({**notes.EXAMPLES[kind], field.name: "no-such-value"})
        assert refused.value.field == field.name


def test_every_date_form_is_accepted_and_shown_with_the_bounds_the_ledger_computes() -> None:
    text = render()
    for _what, example in notes.DATE_FORMS:
        span = parse_date(example)
        validate_record({**notes.EXAMPLES["meeting"], "date": example})
        row = next(line for line in text.splitlines() if f"| `{example}` |" in line)
        assert (span.earliest.isoformat() if span.earliest else "open") in row
        assert (span.latest.isoformat() if span.latest else "open") in row


def test_a_field_added_to_the_validator_without_a_meaning_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What happens when someone adds a field to a struct and forgets the reference."""

    class GrownSigning(records.SigningRecord, tag="signing", kw_only=True):
        mood: records.Url | None = None

    monkeypatch.setattr(
        reference, "struct_of", lambda kind: GrownSigning if kind == "signing" else struct_of(kind)
    )
    with pytest.raises(UndocumentedError, match=r"signing\.mood"):
        kind_doc("signing")


def test_a_kind_added_to_the_validator_without_notes_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(notes.KINDS, "threat")
    with pytest.raises(UndocumentedError, match="threat"):
        kind_doc("threat")
