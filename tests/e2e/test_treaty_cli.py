"""A multilateral treaty through the `ledger` command: participants over time.

Issue 3: tests/e2e/data/multilateral-treaty.yaml (four states; signatures, consents
including an accession without signature, a general entry into force, a withdrawal
effective a year after notice, a rejoining by accession and an entry into force for that
state alone) read with `agreement --json --as-of` before, between and after each step.
These tests only read, so they share one ledger (the treaty and the example) per engine.
"""

from __future__ import annotations

from typing import Any

import pytest
from cli_support import EXAMPLE, MULTILATERAL, Cli, ask, invoke
from click.testing import Result

MOU = "iq-ir-security-mou-2025"
MOU_2023 = "iq-ir-border-security-2023"
TREATY = "shared-rivers-treaty"


def ids(rows: object) -> list[str]:
    assert isinstance(rows, list)
    return [row["id"] for row in rows]


# as_of → (agreement status, {participant: (status, consent method, in_force, withdrawal)})
TREATY_STEPS: dict[str, tuple[str, dict[str, tuple]]] = {
    "2010-02-28": ("registered", {}),
    "2010-03-01": (
        "signed",
        {
            "FRA": ("signatory", None, None, None),
            "DEU": ("signatory", None, None, None),
            "ITA": ("signatory", None, None, None),
        },
    ),
    "2010-07-01": (
        "signed",
        {
            "FRA": ("contracting", "ratification", None, None),
            "DEU": ("signatory", None, None, None),
            "ITA": ("signatory", None, None, None),
        },
    ),
    "2011-02-01": (
        "signed",
        {
            "FRA": ("contracting", "ratification", None, None),
            "DEU": ("contracting", "acceptance", None, None),
            "ITA": ("signatory", None, None, None),
            "ESP": ("contracting", "accession", None, None),
        },
    ),
    "2011-03-01": (
        "in_force",
        {
            "FRA": ("party", "ratification", "2011-03-01", None),
            "DEU": ("party", "acceptance", "2011-03-01", None),
            "ITA": ("signatory", None, None, None),
            "ESP": ("party", "accession", "2011-03-01", None),
        },
    ),
    "2013-06-01": (
        "in_force",
        {
            "FRA": ("party", "ratification", "2011-03-01", None),
            "DEU": ("withdrawing", "acceptance", "2011-03-01", "2014-01-10"),
            "ITA": ("signatory", None, None, None),
            "ESP": ("party", "accession", "2011-03-01", None),
        },
    ),
    "2014-01-09": (
        "in_force",
        {
            "DEU": ("withdrawing", "acceptance", "2011-03-01", "2014-01-10"),
        },
    ),
    "2014-01-10": (
        "in_force",
        {
            "FRA": ("party", "ratification", "2011-03-01", None),
            "DEU": ("withdrawn", "acceptance", "2011-03-01", "2014-01-10"),
            "ITA": ("signatory", None, None, None),
            "ESP": ("party", "accession", "2011-03-01", None),
        },
    ),
    "2015-03-01": (
        "in_force",
        {
            "DEU": ("contracting", "accession", None, None),
        },
    ),
    "2015-05-01": (
        "in_force",
        {
            "FRA": ("party", "ratification", "2011-03-01", None),
            "DEU": ("party", "accession", "2015-05-01", None),
            "ITA": ("signatory", None, None, None),
            "ESP": ("party", "accession", "2011-03-01", None),
        },
    ),
}


@pytest.fixture(scope="module")
def treaty(shared_url: str) -> Cli:
    invoke(shared_url, ["import", MULTILATERAL, EXAMPLE])

    def run(*args: Any, **kwargs: Any) -> Result:
        return invoke(shared_url, args, **kwargs)

    return run


def test_a_multilateral_treaty_reads_right_before_between_and_after_each_step(
    treaty: Cli, subtests: pytest.Subtests
) -> None:
    for as_of, (status, expected) in TREATY_STEPS.items():
        with subtests.test(as_of=as_of):
            state = ask(treaty, "agreement", TREATY, "--as-of", as_of)
            assert state["status"] == status
            assert state["status_certain"] is True
            participants = {p["actor"]: p for p in state["participants"]}
            if status == "registered":
                assert participants == {}
            for actor, (p_status, method, in_force, effective) in expected.items():
                row = participants[actor]
                assert row["status"] == p_status, (actor, row)
                assert (row["consent"] or {}).get("method") == method, (actor, row)
                assert row["in_force"] == in_force, (actor, row)
                assert (row["withdrawal"] or {}).get("effective") == effective, (actor, row)
            if len(expected) == 4:
                assert set(participants) == set(expected)


def test_a_treaty_participant_keeps_its_history_across_withdrawal_and_rejoining(
    treaty: Cli,
) -> None:
    deu = {p["actor"]: p for p in ask(treaty, "agreement", TREATY)["participants"]}["DEU"]
    assert deu["signed"] == "2010-03-01"
    assert deu["consent"] == {"method": "accession", "date": "2015-02-01"}
    assert deu["withdrawal"] is None
    assert deu["in_force"] == "2015-05-01"
    withdrawing = {
        p["actor"]: p
        for p in ask(treaty, "agreement", TREATY, "--as-of", "2013-01-10")["participants"]
    }["DEU"]
    assert withdrawing["withdrawal"] == {"date": "2013-01-10", "effective": "2014-01-10"}
    esp = {p["actor"]: p for p in ask(treaty, "agreement", TREATY)["participants"]}["ESP"]
    assert esp["signed"] is None  # acceded without signing
    assert esp["consent"] == {"method": "accession", "date": "2011-01-15"}


def test_treaty_endorsements_list_signatures_consents_and_the_withdrawal_in_order(
    treaty: Cli,
) -> None:
    rows = ask(treaty, "endorsements", TREATY)
    assert [(r["date"], r["act"], r["actor"]) for r in rows] == [
        ("2010-03-01", "signed", "fra-foreign-minister"),
        ("2010-03-01", "signed", "DEU"),
        ("2010-03-01", "signed", "ITA"),
        ("2010-06-01", "ratified", "FRA"),
        ("2010-09-01", "ratified", "DEU"),
        ("2011-01-15", "ratified", "ESP"),
        ("2013-01-10", "withdrew", "DEU"),
        ("2015-02-01", "ratified", "DEU"),
    ]
    assert rows[0]["on_behalf_of"] == "FRA"


def test_agreements_filter_by_status_and_party(treaty: Cli) -> None:
    everything = ask(treaty, "agreements")
    assert {row["id"] for row in everything} == {TREATY, MOU, MOU_2023}
    for row in everything:
        assert {"id", "title", "status"} <= set(row)
    assert ids(ask(treaty, "agreements", "--status", "in_force")) == [TREATY]
    assert set(ids(ask(treaty, "agreements", "--status", "signed"))) == {MOU, MOU_2023}
    assert ids(ask(treaty, "agreements", "--party", "ESP")) == [TREATY]
    assert ids(ask(treaty, "agreements", "--party", "esp")) == [TREATY]
    assert set(ids(ask(treaty, "agreements", "--party", "IRN"))) == {MOU, MOU_2023}
    assert ids(ask(treaty, "agreements", "--status", "signed", "--party", "ITA")) == []
    assert ids(ask(treaty, "agreements", "--status", "in_force", "--party", "ITA")) == [TREATY]
    assert ids(ask(treaty, "agreements", "--party", "ESP", "--as-of", "2011-01-14")) == []
    assert ids(
        ask(treaty, "agreements", "--status", "signed", "--party", "DEU", "--as-of", "2010-04-01")
    ) == [TREATY]
