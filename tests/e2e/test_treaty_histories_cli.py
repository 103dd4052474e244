"""Real treaty histories through the `ledger` command, on SQLite and PostgreSQL.

Issue 10. The INF Treaty (1987–2019), New START and its 2021 extension (2010–2026), the
Rome Statute and the NPT (accessions after entry into force, withdrawals, revocations)
and the Saudi Arabia–Iran agreement of 10 March 2023, encoded from the public record in
tests/e2e/data/*.yaml, read with `--as-of` as FORMAT.md v1.1 ("Agreements and
participants through time") says. The first nine tests are the nine wrong answers of
the issue, each asked the way a user would. These tests only read, so they share one
ledger per engine.
"""

from __future__ import annotations

from typing import Any

import pytest
from cli_support import DATA, EXAMPLE, Cli, invoke, json_of
from click.testing import Result

HISTORIES = [
    DATA / name
    for name in (
        "states.yaml",
        "inf-treaty.yaml",
        "new-start.yaml",
        "rome-statute.yaml",
        "npt.yaml",
        "saudi-iran-2023.yaml",
    )
]
SUCCESSORS = ["RUS", "UKR", "BLR", "KAZ", "ARM", "AZE", "GEO", "KGZ", "MDA", "TJK", "TKM", "UZB"]


@pytest.fixture(scope="module")
def history(shared_url: str) -> Cli:
    invoke(shared_url, ["import", *HISTORIES, EXAMPLE])

    def run(*args: Any, **kwargs: Any) -> Result:
        return invoke(shared_url, args, **kwargs)

    return run


def agreement(cli: Cli, ident: str, as_of: str) -> dict[str, Any]:
    return json_of(cli("agreement", ident, "--as-of", as_of, "--json"))


def rows(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["actor"]: p for p in state["participants"]}


def statuses(state: dict[str, Any]) -> dict[str, str]:
    return {p["actor"]: p["status"] for p in state["participants"]}


# --- the nine wrong answers of issue 10 ---------------------------------------------------


def test_1_before_anyone_signed_the_inf_states_are_negotiating_then_contracting(
    history: Cli,
) -> None:
    before = agreement(history, "inf-treaty", "1987-12-01")
    assert before["status"] == "registered"
    assert statuses(before) == {"USA": "negotiating", "SUN": "negotiating"}
    ratified = agreement(history, "inf-treaty", "1988-05-31")
    assert statuses(ratified) == {"USA": "signatory", "SUN": "contracting"}
    in_force = agreement(history, "inf-treaty", "1988-06-01")
    assert statuses(in_force) == {"USA": "party", "SUN": "party"}


def test_2_successor_states_are_bound_from_their_own_succession_not_from_1988(
    history: Cli,
) -> None:
    parties = rows(agreement(history, "inf-treaty", "2000-01-01"))
    assert parties["RUS"]["consent"] == {"method": "succession", "date": "1991-12-26"}
    assert parties["RUS"]["in_force"] == "1991-12-26"
    for state in ("BLR", "KAZ", "UKR"):
        assert parties[state]["consent"] == {"method": "succession", "date": "1992~"}
        assert parties[state]["in_force"] == "1992~"
        assert parties[state]["status"] == "party"
    assert parties["USA"]["in_force"] == "1988-06-01"


def test_3_after_termination_and_after_expiry_every_participant_is_terminated(
    history: Cli,
) -> None:
    inf = agreement(history, "inf-treaty", "2019-08-02")
    assert inf["status"] == "terminated"
    assert statuses(inf) == {
        "USA": "terminated",
        "SUN": "dissolved",
        "BLR": "terminated",
        "KAZ": "terminated",
        "UKR": "terminated",
        "RUS": "terminated",
    }
    new_start = agreement(history, "new-start", "2026-02-05")
    assert new_start["status"] == "terminated"
    assert statuses(new_start) == {"USA": "terminated", "RUS": "terminated"}
    assert statuses(agreement(history, "new-start", "2026-02-04"))["USA"] == "party"


def test_4_the_ussr_is_dissolved_from_its_end_with_its_successors_named(history: Cli) -> None:
    assert rows(agreement(history, "inf-treaty", "1991-12-25"))["SUN"]["status"] == "party"
    sun = rows(agreement(history, "inf-treaty", "1991-12-26"))["SUN"]
    assert sun["status"] == "dissolved"
    assert sun["successors"] == SUCCESSORS
    assert sun["consent"] == {"method": "ratification", "date": "1988-05-28?"}
    npt = rows(agreement(history, "npt", "2000-01-01"))
    assert npt["SUN"]["status"] == "dissolved"
    assert npt["RUS"]["status"] == "party"
    actor = json_of(history("actor", "SUN", "--json"))
    assert (actor["end"], actor["successors"]) == ("1991-12-26", SUCCESSORS)


def test_5_russias_suspension_of_new_start_suspends_russia_not_the_treaty(history: Cli) -> None:
    state = agreement(history, "new-start", "2023-03-01")
    assert (state["status"], state["status_certain"]) == ("in_force", True)
    parties = rows(state)
    assert parties["RUS"]["status"] == "suspended"
    assert parties["RUS"]["suspension"] == {"date": "2023-02-21", "until": None}
    assert parties["USA"]["status"] == "party"
    assert parties["USA"]["suspension"] is None
    acts = json_of(history("endorsements", "new-start", "--json"))
    assert {"date": "2023-02-21", "actor": "RUS", "act": "suspended"}.items() <= next(
        a for a in acts if a["act"] == "suspended"
    ).items()
    inf = rows(agreement(history, "inf-treaty", "2019-05-01"))
    assert (inf["RUS"]["status"], inf["USA"]["status"]) == ("suspended", "withdrawing")


def test_6_the_2021_extension_amends_new_start_and_ends_with_it(history: Cli) -> None:
    assert agreement(history, "new-start-extension-2021", "2026-02-04")["status"] == "in_force"
    ended = agreement(history, "new-start-extension-2021", "2026-02-05")
    assert (ended["status"], ended["status_certain"]) == ("terminated", True)
    assert statuses(ended) == {"USA": "terminated", "RUS": "terminated"}
    new_start = agreement(history, "new-start", "2024-01-01")
    assert new_start["related_by"] == [{"type": "amends", "source": "new-start-extension-2021"}]
    assert agreement(history, "new-start-extension-2021", "2024-01-01")["related_by"] == []
    assert ids(history, "agreements", "--status", "terminated", "--as-of", "2026-03-01") == [
        "inf-treaty",
        "new-start",
        "new-start-extension-2021",
    ]


def ids(cli: Cli, *args: str) -> list[str]:
    return [row["id"] for row in json_of(cli(*args, "--json"))]


def test_7_a_qualified_date_is_widened_one_unit_and_never_certain(history: Cli) -> None:
    timeline = json_of(history("timeline", "--agreement", "inf-treaty", "--json"))
    sun = next(row for row in timeline if row["id"] == "inf-sun-ratifies")
    assert (sun["earliest"], sun["latest"], sun["certain"]) == ("1988-05-27", "1988-05-29", False)
    acts = json_of(history("endorsements", "inf-treaty", "--as-of", "2000-01-01", "--json"))
    ratified = {a["actor"]: a["certain"] for a in acts if a["act"] == "ratified"}
    assert ratified["SUN"] is False, "still not certain long after its latest day"
    assert ratified["USA"] is True
    assert rows(agreement(history, "inf-treaty", "1988-05-27"))["SUN"]["status"] == "contracting"
    embassy = json_of(history("timeline", "--agreement", "sa-ir-beijing-agreement-2023", "--json"))
    resumed = next(row for row in embassy if row["id"] == "saudi-embassy-tehran-resumes")
    assert (resumed["earliest"], resumed["latest"]) == ("2023-07-01", "2023-09-30")


def test_8_inf_in_1992_is_certainly_in_force_though_some_successions_are_not(
    history: Cli,
) -> None:
    state = agreement(history, "inf-treaty", "1992-06-01")
    assert (state["status"], state["status_certain"]) == ("in_force", True)
    parties = rows(state)
    assert parties["BLR"]["status"] == "party"
    assert parties["BLR"]["certain"] is False
    assert parties["RUS"]["certain"] is True


def test_9_the_audit_contests_the_media_report_but_not_2021_against_2022(history: Cli) -> None:
    new_start = json_of(history("audit", "new-start", "--format", "json"))
    assert new_start["agreements"][0]["contested"] == []
    mou = json_of(history("audit", "iq-ir-security-mou-2025", "--format", "json"))
    (contest,) = mou["agreements"][0]["contested"]
    assert contest["claim"] == "media-call-it-new-agreement"
    assert [s["id"] for s in contest["sides"][1]["statements"]] == ["nsa-clarifies-memorandum"]


# --- multilateral treaties: accessions after entry into force, withdrawals, revocations --


def test_a_state_acceding_after_entry_into_force_is_contracting_until_it_is_in_force_for_it(
    history: Cli,
) -> None:
    before = rows(agreement(history, "rome-statute", "2007-08-01"))["JPN"]
    assert (before["status"], before["in_force"]) == ("contracting", None)
    assert before["consent"] == {"method": "accession", "date": "2007-07-17"}
    after = rows(agreement(history, "rome-statute", "2007-10-01"))["JPN"]
    assert (after["status"], after["in_force"]) == ("party", "2007-10-01")
    gambia = rows(agreement(history, "rome-statute", "2002-07-15"))
    assert gambia["GMB"]["status"] == "contracting"
    assert gambia["ZAF"]["in_force"] == "2002-07-01", "ratified in 2000: in force on 2002-07-01"
    npt = rows(agreement(history, "npt", "1993-01-01"))
    assert (npt["CHN"]["status"], npt["CHN"]["in_force"]) == ("party", "1992-03-09")
    assert (npt["FRA"]["status"], npt["FRA"]["in_force"]) == ("party", "1992-08-03")


def test_burundi_and_the_philippines_leave_the_rome_statute_when_their_notices_take_effect(
    history: Cli,
) -> None:
    notice = {"date": "2016-10-27", "effective": "2017-10-27"}
    assert rows(agreement(history, "rome-statute", "2017-10-26"))["BDI"]["status"] == "withdrawing"
    burundi = rows(agreement(history, "rome-statute", "2017-10-27"))["BDI"]
    assert (burundi["status"], burundi["withdrawal"]) == ("withdrawn", notice)
    state = agreement(history, "rome-statute", "2019-03-17")
    assert state["status"] == "in_force"
    assert statuses(state) == {
        "ZAF": "party",
        "GMB": "party",
        "BDI": "withdrawn",
        "PHL": "withdrawn",
        "JPN": "party",
    }


def test_a_revoked_withdrawal_never_takes_effect_but_stays_in_answers_about_before(
    history: Cli,
) -> None:
    during = rows(agreement(history, "rome-statute", "2016-12-01"))["ZAF"]
    assert during["status"] == "withdrawing"
    assert during["withdrawal"] == {"date": "2016-10-19", "effective": "2017-10-19"}
    for as_of in ("2017-03-07", "2017-10-19", "2020-01-01"):
        after = rows(agreement(history, "rome-statute", as_of))["ZAF"]
        assert (after["status"], after["withdrawal"]) == ("party", None), as_of
    acts = json_of(history("endorsements", "rome-statute", "--json"))
    assert [(a["date"], a["act"]) for a in acts if a["actor"] == "ZAF"] == [
        ("1998-07-17", "signed"),
        ("2000-11-27", "ratified"),
        ("2016-10-19", "withdrew"),
        ("2017-03-07", "revoked"),
    ]
    audit = json_of(history("audit", "rome-statute", "--format", "json"))["agreements"][0]
    assert {"rome-zaf-withdraws", "rome-zaf-revokes"} <= {e["id"] for e in audit["events"]}
    dprk = [
        (as_of, rows(agreement(history, "npt", as_of))["PRK"]["status"])
        for as_of in ("1993-06-10", "1993-06-12", "2003-01-10", "2003-01-11")
    ]
    assert dprk == [
        ("1993-06-10", "withdrawing"),
        ("1993-06-12", "party"),
        ("2003-01-10", "withdrawing"),
        ("2003-01-11", "withdrawn"),
    ]


# --- a bilateral agreement concluded by signature -----------------------------------------


def test_the_saudi_iran_agreement_binds_both_signatories_from_its_entry_into_force(
    history: Cli,
) -> None:
    state = agreement(history, "sa-ir-beijing-agreement-2023", "2023-03-10")
    assert state["status"] == "in_force"
    for party in ("SAU", "IRN"):
        row = rows(state)[party]
        assert row["status"] == "party"
        assert row["consent"] == {"method": "signature", "date": "2023-03-10"}
        assert row["in_force"] == "2023-03-10"
    assert [s["overseen_by"] for s in state["signings"]] == [["wang-yi"]]
    before = agreement(history, "sa-ir-beijing-agreement-2023", "2023-03-09")
    assert statuses(before) == {"SAU": "negotiating", "IRN": "negotiating"}
    security = agreement(history, "sa-ir-security-cooperation-2001", "2023-04-01")
    assert security["related_by"] == [
        {"type": "reaffirms", "source": "sa-ir-beijing-agreement-2023"}
    ]
    assert statuses(security) == {"SAU": "signatory", "IRN": "signatory"}


def test_the_histories_export_and_import_to_the_same_answers(
    history: Cli, another_db_url: str, tmp_path: Any
) -> None:
    exported = tmp_path / "histories.yaml"
    history("export", "--format", "yaml", "-o", exported)
    invoke(another_db_url, ["import", exported])
    for ident, as_of in (("inf-treaty", "1992-06-01"), ("rome-statute", "2017-01-01")):
        again = json_of(invoke(another_db_url, ["agreement", ident, "--as-of", as_of, "--json"]))
        first = agreement(history, ident, as_of)
        assert {k: v for k, v in again.items() if k != "known_at"} == {
            k: v for k, v in first.items() if k != "known_at"
        }
    assert json_of(invoke(another_db_url, ["actor", "SUN", "--json"]))["successors"] == SUCCESSORS


def test_the_readmes_inf_table_is_what_the_ledger_answers(history: Cli) -> None:
    from cli_support import README

    dates = ("1992-06-01", "2019-05-01", "2019-09-01")
    answers = {as_of: agreement(history, "inf-treaty", as_of) for as_of in dates}
    table = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith(("| USA |", "| SUN |", "| RUS |", "| BLR, KAZ, UKR |", "| *the"))
    ]
    assert len(table) == 5
    for cells in table:
        shown = [cell.split()[0] for cell in cells[-3:]]
        for as_of, status in zip(dates, shown, strict=True):
            if cells[0] == "*the treaty*":
                assert answers[as_of]["status"] == status
                continue
            for actor in cells[0].split(", "):
                assert statuses(answers[as_of])[actor] == status, (actor, as_of)
                assert row_of(answers[as_of], actor)["in_force"] == cells[2]


def row_of(state: dict[str, Any], actor: str) -> dict[str, Any]:
    return rows(state)[actor]
