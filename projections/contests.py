"""Contested claims (FORMAT.md, "Contested claims"): which later statements answer a claim.

The audit report does not pick a winner between statements that contradict each other:
it shows each claim about an agreement beside the statements that answer it, so a reader
sees who said what and who answered it. Deciding what counts as an answer is a rule of
the format, not of the report's layout, and needs nothing but the statements themselves:
pure functions over plain dicts, no storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

#: Stances that answer another statement's account of an agreement rather than take sides.
CORRECTIVE = frozenset({"clarify", "deny"})
POSITIVE = frozenset({"support", "reaffirm"})
NEGATIVE = frozenset({"oppose", "condemn"})
#: FORMAT.md, "Contested claims": an answering stance, against an earlier claim of these.
ANSWERING = CORRECTIVE | NEGATIVE
ANSWERABLE = POSITIVE | {"neutral"}
#: How soon an answer on the same subject must follow the claim to answer it.
CONTEST_WINDOW = timedelta(days=30)


def conflict(first: str, second: str) -> str | None:
    """Why two stances about one agreement disagree, or None when they do not.

    A clarification or denial answers some other account of the agreement (the media's
    "new agreement" against an official "it is the 2023 pact"), so it conflicts with any
    stance that is not itself corrective; support and opposition conflict plainly.
    """
    pair = {first, second}
    if len(pair) < 2:
        return None
    if pair & POSITIVE and pair & NEGATIVE:
        return "stance"
    if len(pair & CORRECTIVE) == 1:
        return "characterisation"
    return None


def _order(statement: Mapping[str, Any]) -> tuple[str, int]:
    return (statement.get("earliest") or "", int(statement.get("position") or 0))


def _soon_after(claim: Mapping[str, Any], answer: Mapping[str, Any]) -> bool:
    """Whether the answer may have come within 30 days of the claim (both days known)."""
    if not claim.get("latest") or not answer.get("earliest"):
        return False
    gap = date.fromisoformat(answer["earliest"]) - date.fromisoformat(claim["latest"])
    return gap <= CONTEST_WINDOW


def answer_to(claim: Mapping[str, Any], answer: Mapping[str, Any]) -> str | None:
    """How a statement answers an earlier claim (FORMAT.md, "Contested claims"), or None.

    It answers when another actor, later, names the claim's occurrence in `about`, or
    speaks about the same agreement or actor within 30 days with an answering stance
    (deny, clarify, oppose, condemn) against a support, reaffirmation or neutral report.
    Statements months apart that merely differ are not a contest.
    """
    if answer["actor"] == claim["actor"] or _order(answer) <= _order(claim):
        return None
    stances = (str(claim.get("stance")), str(answer.get("stance")))
    if claim["id"] in (answer.get("about") or []):
        return conflict(*stances) or "reference"
    if stances[0] not in ANSWERABLE or stances[1] not in ANSWERING:
        return None
    if not set(claim.get("about") or []) & set(answer.get("about") or []):
        return None
    if not _soon_after(claim, answer):
        return None
    return "stance" if stances[1] in NEGATIVE and stances[0] in POSITIVE else "characterisation"


def contested_claims(agreement: str, claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each claim about one agreement that a later statement answers, with its answers.

    One contest per claim and answering stance: the claim on one side, every answer in
    that stance on the other, so a reader sees who said what and who answered it.
    """
    ordered = sorted(claims, key=_order)
    found = []
    for i, claim in enumerate(ordered):
        sides: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for answer in ordered[i + 1 :]:
            why = answer_to(claim, answer)
            if why is not None:
                stance = str(answer.get("stance"))
                sides.setdefault(stance, (why, []))[1].append(answer)
        for stance, (why, answers) in sides.items():
            found.append(
                {
                    "agreement": agreement,
                    "conflict": why,
                    "claim": claim["id"],
                    "stances": [str(claim.get("stance")), stance],
                    "sides": [
                        {"stance": str(claim.get("stance")), "statements": [claim]},
                        {"stance": stance, "statements": answers},
                    ],
                }
            )
    return found
