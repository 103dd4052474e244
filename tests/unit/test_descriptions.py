"""Timeline lines: a record's summary, else one line generated from its fields."""

from __future__ import annotations

from ledger.vocabulary import AGREEMENT_STATUSES, OCCURRENCE_KINDS
from projections.descriptions import describe, generated
from projections.state import _LADDER


def test_a_signing_without_summary_says_who_signed_for_whom() -> None:
    record = {
        "signatories": [
            {"actor": "qasim-al-araji", "on_behalf_of": "IRQ"},
            {"actor": "ali-larijani", "on_behalf_of": "IRN"},
        ]
    }
    assert describe("signing", record) == (
        "signed by qasim-al-araji for IRQ and ali-larijani for IRN"
    )
    three = {"signatories": [{"actor": "A"}, {"actor": "B"}, {"actor": "C"}], "overseen_by": ["Z"]}
    assert describe("signing", three) == "signed by A, B and C, overseen by Z"


def test_a_summary_is_the_description_and_a_statement_line_carries_its_stance() -> None:
    assert describe("signing", {"summary": "Signed in Baghdad.", "signatories": []}) == (
        "Signed in Baghdad."
    )
    line = describe("statement", {"by": "IRQ", "stance": "deny", "quote": "No.", "about": ["X"]})
    assert line == 'IRQ (deny) about X: "No."'


def test_every_occurrence_kind_gets_a_line_and_an_unknown_kind_its_name() -> None:
    for kind in OCCURRENCE_KINDS:
        assert generated(kind, {"by": "IRQ"}).strip()
    assert generated("revocation", {"by": "IRQ"}) == "revocation by IRQ"


def test_the_statuses_agreements_can_be_asked_for_are_those_the_state_works_out() -> None:
    assert set(_LADDER) | {"suspended", "terminated"} == set(AGREEMENT_STATUSES)
