"""Contested claims (FORMAT.md): a later statement by another actor that answers a claim.

An answer names the claim's occurrence in `about`, or speaks about the same agreement
or actor within 30 days with an answering stance (deny, clarify, oppose, condemn)
against an earlier support, reaffirmation or neutral report. Statements that merely
differ, months apart, are not a contest. Built from hand-made statements: no storage.
"""

from __future__ import annotations

from typing import Any

from projections.contests import answer_to, contested_claims


def said(
    ident: str,
    actor: str,
    stance: str,
    day: str,
    position: int,
    about: list[str] | None = None,
    latest: str | None = None,
) -> dict[str, Any]:
    return {
        "id": ident,
        "actor": actor,
        "stance": stance,
        "date": day,
        "earliest": day,
        "latest": latest or day,
        "position": position,
        "about": about if about is not None else ["new-start"],
    }


REAFFIRMED_2021 = said(
    "usa-reaffirms-new-start-2021", "antony-blinken", "reaffirm", "2021-02-03", 1
)
EXEMPTED_2022 = said("russia-exempts-facilities-2022", "russia-mfa", "oppose", "2022-08-08", 2)
POSTPONED_2022 = said("russia-postpones-bcc-2022", "russia-mfa", "oppose", "2022-11-28", 3)

MEDIA = said(
    "media-call-it-new-agreement",
    "media-outlets",
    "neutral",
    "[2025-08-11..2025-08-13]",
    4,
    ["iq-ir-security-mou-2025"],
)
MEDIA["earliest"], MEDIA["latest"] = "2025-08-11", "2025-08-13"
NSA = said(
    "nsa-clarifies-memorandum",
    "iraq-national-security-advisory",
    "clarify",
    "2025-08-13",
    5,
    ["iq-ir-security-mou-2025", "iq-ir-border-security-2023"],
)


def test_a_2021_reaffirmation_and_2022_statements_against_it_are_not_a_contest() -> None:
    assert contested_claims("new-start", [REAFFIRMED_2021, EXEMPTED_2022, POSTPONED_2022]) == []


def test_the_media_report_and_the_advisorys_clarification_two_days_later_are_one_contest() -> None:
    (contest,) = contested_claims("iq-ir-security-mou-2025", [NSA, MEDIA])
    assert contest["conflict"] == "characterisation"
    assert contest["claim"] == MEDIA["id"]
    assert contest["stances"] == ["neutral", "clarify"]
    assert [[s["id"] for s in side["statements"]] for side in contest["sides"]] == [
        [MEDIA["id"]],
        [NSA["id"]],
    ]


def test_an_opposing_answer_within_thirty_days_contests_a_support() -> None:
    support = said("support", "IRN", "support", "2023-03-10", 1)
    condemn = said("condemn", "USA", "condemn", "2023-04-09", 2)
    assert answer_to(support, condemn) == "stance"
    too_late = said("condemn", "USA", "condemn", "2023-04-10", 2)
    assert answer_to(support, too_late) is None


def test_an_answer_naming_the_claim_contests_it_however_long_after() -> None:
    reply = said("reply", "RUS", "deny", "2023-06-01", 9, about=[REAFFIRMED_2021["id"]])
    assert answer_to(REAFFIRMED_2021, reply) == "characterisation"


def test_only_an_answering_stance_against_a_claim_contests_it() -> None:
    support = said("a", "IRN", "support", "2023-03-10", 1)
    assert answer_to(support, said("b", "USA", "support", "2023-03-11", 2)) is None
    assert answer_to(support, said("b", "USA", "neutral", "2023-03-11", 2)) is None
    opposed = said("a", "IRN", "oppose", "2023-03-10", 1)
    assert answer_to(opposed, said("b", "USA", "condemn", "2023-03-11", 2)) is None


def test_a_statement_on_another_subject_does_not_answer() -> None:
    support = said("a", "IRN", "support", "2023-03-10", 1, about=["npt"])
    assert answer_to(support, said("b", "USA", "deny", "2023-03-11", 2)) is None


def test_an_actor_revising_itself_or_an_earlier_statement_is_not_an_answer() -> None:
    support = said("a", "IRN", "support", "2023-03-10", 2)
    assert answer_to(support, said("b", "IRN", "oppose", "2023-03-11", 3)) is None
    assert answer_to(support, said("b", "USA", "oppose", "2023-03-09", 1)) is None
