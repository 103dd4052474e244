"""Corrections and retractions through the `ledger` command, on the record-time axis.

Issue 3: a correction or a retraction shows its effect now, and not through `--known-at`
a moment recorded before it. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cli_support import EXAMPLE, Cli, ask, json_of

MOU = "iq-ir-security-mou-2025"


def ids(rows: object) -> list[str]:
    assert isinstance(rows, list)
    return [row["id"] for row in rows]


@pytest.fixture
def example(cli: Cli) -> Cli:
    cli("import", EXAMPLE)
    return cli


CORRECTION = """
- kind: correction
  id: signing-corrected
  date: 2025-08-20
  target: signing-mou-2025
  set:
    date: 2025-08-12
    place: Tehran
    overseen_by: [mohammed-shia-al-sudani, masoud-pezeshkian]
  reason: A later report gave the day, the city and a second witness.
  sources: [peregraf-2025-08-14]
"""
RETRACTION = """
- kind: retraction
  id: approval-retracted
  date: 2025-08-25
  target: approval-council-of-ministers-2025
  reason: The cabinet approval was never confirmed.
"""


def _last_recorded_at(cli: Cli) -> str:
    return json_of(cli("log", "--json"))[-1]["recorded_at"]


@pytest.fixture
def amended(example: Cli, tmp_path: Path) -> tuple[Cli, str, str]:
    """The example, then a correction, then a retraction: with the record time before each."""
    before_correction = _last_recorded_at(example)
    time.sleep(0.01)
    path = tmp_path / "correction.yaml"
    path.write_text(CORRECTION, encoding="utf-8")
    example("import", path)
    before_retraction = _last_recorded_at(example)
    assert before_retraction > before_correction
    time.sleep(0.01)
    path = tmp_path / "retraction.yaml"
    path.write_text(RETRACTION, encoding="utf-8")
    example("import", path)
    assert _last_recorded_at(example) > before_retraction
    return example, before_correction, before_retraction


def test_a_correction_shows_now_but_not_as_known_before_it(amended: tuple[Cli, str, str]) -> None:
    cli, before_correction, before_retraction = amended

    now = ask(cli, "agreement", MOU)["signings"][0]
    assert now["place"] == "Tehran"
    assert now["date"] == "2025-08-12"
    assert now["overseen_by"] == ["mohammed-shia-al-sudani", "masoud-pezeshkian"]
    for known_at in (before_retraction,):
        assert ask(cli, "agreement", MOU, "--known-at", known_at)["signings"][0] == now

    then = ask(cli, "agreement", MOU, "--known-at", before_correction)["signings"][0]
    assert then["place"] == "Baghdad"
    assert then["date"] == "[2025-08-11..2025-08-13]"
    assert then["overseen_by"] == ["mohammed-shia-al-sudani"]

    # the corrected day makes 2025-08-12 certain; the original range did not
    assert ask(cli, "agreement", MOU, "--as-of", "2025-08-12")["status_certain"] is True
    old = ask(cli, "agreement", MOU, "--as-of", "2025-08-12", "--known-at", before_correction)
    assert (old["status"], old["status_certain"]) == ("signed", False)

    pezeshkian_now = ids(ask(cli, "timeline", "--actor", "masoud-pezeshkian"))
    pezeshkian_then = ids(
        ask(cli, "timeline", "--actor", "masoud-pezeshkian", "--known-at", before_correction)
    )
    assert "signing-mou-2025" in pezeshkian_now
    assert "signing-mou-2025" not in pezeshkian_then


def test_a_retraction_shows_now_but_not_as_known_before_it(
    amended: tuple[Cli, str, str],
) -> None:
    cli, before_correction, before_retraction = amended

    acts_now = [(r["act"], r["actor"]) for r in ask(cli, "endorsements", MOU)]
    assert acts_now == [
        ("signed", "qasim-al-araji"),
        ("signed", "ali-larijani"),
        ("oversaw", "mohammed-shia-al-sudani"),
        ("oversaw", "masoud-pezeshkian"),
    ]
    acts_between = [
        (r["act"], r["actor"])
        for r in ask(cli, "endorsements", MOU, "--known-at", before_retraction)
    ]
    assert acts_between == [("approved", "iraq-council-of-ministers"), *acts_now]
    acts_before = [
        (r["act"], r["actor"])
        for r in ask(cli, "endorsements", MOU, "--known-at", before_correction)
    ]
    assert acts_before == [
        ("approved", "iraq-council-of-ministers"),
        ("signed", "qasim-al-araji"),
        ("signed", "ali-larijani"),
        ("oversaw", "mohammed-shia-al-sudani"),
    ]

    assert "approval-council-of-ministers-2025" not in ids(ask(cli, "timeline"))
    for known_at in (before_correction, before_retraction):
        timeline = ids(ask(cli, "timeline", "--known-at", known_at))
        assert "approval-council-of-ministers-2025" in timeline
    assert ask(cli, "agreement", MOU, "--as-of", "2025-08-10")["status"] == "registered"
    assert (
        ask(cli, "agreement", MOU, "--as-of", "2025-08-10", "--known-at", before_retraction)[
            "status"
        ]
        == "approved"
    )


def test_corrections_and_retractions_are_not_on_the_timeline_themselves(
    amended: tuple[Cli, str, str],
) -> None:
    cli, _, _ = amended
    kinds = {row["kind"] for row in ask(cli, "timeline")}
    assert not kinds & {"correction", "retraction"}
