"""Agreements and participants through time, read from real histories by the pure state
functions: FORMAT.md v1.1, "Agreements and participants through time".

The facts are the INF Treaty's, New START's, the Rome Statute's and the NPT's as
recorded in tests/e2e/data (dates from the public record), built here by hand so that
no file, store or projection sits between the records and the answer; each date's
bounds come from the ledger's own EDTF reading, a pure function. The histories are built
on first use, not on import: a broken date reading (a mutant of it, say) then fails
these tests instead of their collection. The last tests use small made-up histories, for
the edges no real one shows.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from ledger.dates import parse_date
from projections.state import Fact, Happened, agreement_state, happened

D = date.fromisoformat


def facts(agreement: str, *records: dict[str, Any], first: int = 1) -> list[Fact]:
    """Facts in the order given (that is the order of recording), bounded as the log is;
    `first` is the first one's position, and its id's number."""
    made = []
    for position, record in enumerate(records, start=first):
        span = parse_date(record["date"])
        made.append(
            Fact.of(
                {"agreement": agreement, "id": f"{agreement}-{position}", **record},
                position,
                span.earliest,
                span.latest,
            )
        )
    return made


def statuses(state: dict[str, Any]) -> dict[str, str]:
    return {p["actor"]: p["status"] for p in state["participants"]}


def row(state: dict[str, Any], actor: str) -> dict[str, Any]:
    return next(p for p in state["participants"] if p["actor"] == actor)


# --- INF ---------------------------------------------------------------------------------

INF = {"id": "inf-treaty", "title": "INF Treaty", "type": "treaty", "parties": ["USA", "SUN"]}
USSR = {
    "SUN": {
        "id": "SUN",
        "kind": "actor",
        "type": "state",
        "name": "Union of Soviet Socialist Republics",
        "end": "1991-12-26",
        "successors": ["RUS", "UKR", "BLR", "KAZ"],
    }
}


@functools.cache
def inf_facts() -> list[Fact]:
    return facts(
        "inf-treaty",
        {
            "kind": "signing",
            "date": "1987-12-08",
            "signatories": [
                {"actor": "ronald-reagan", "on_behalf_of": "USA"},
                {"actor": "mikhail-gorbachev", "on_behalf_of": "SUN"},
            ],
        },
        {"kind": "ratification", "date": "1988-05-28?", "by": "SUN"},
        {"kind": "ratification", "date": "1988-06-01", "by": "USA"},
        {"kind": "entry_into_force", "date": "1988-06-01"},
        {"kind": "ratification", "date": "1991-12-26", "by": "RUS", "method": "succession"},
        {"kind": "ratification", "date": "1992~", "by": "BLR", "method": "succession"},
        {"kind": "suspension", "date": "2019-02-02", "by": "USA"},
        {"kind": "withdrawal", "date": "2019-02-02", "effective": "2019-08-02", "by": "USA"},
        {"kind": "suspension", "date": "2019-03-04", "by": "RUS"},
        {"kind": "termination", "date": "2019-08-02"},
    )


def inf(as_of: str) -> dict[str, Any]:
    return agreement_state(INF, inf_facts(), D(as_of))


def test_named_parties_that_have_done_nothing_yet_are_negotiating() -> None:
    state = inf("1987-12-01")
    assert state["status"] == "registered"
    assert statuses(state) == {"USA": "negotiating", "SUN": "negotiating"}


def test_a_state_that_consented_before_entry_into_force_is_contracting() -> None:
    assert statuses(inf("1988-05-31")) == {"USA": "signatory", "SUN": "contracting"}
    assert statuses(inf("1988-06-01")) == {"USA": "party", "SUN": "party"}


def test_a_successor_is_bound_from_its_own_succession_not_from_the_entry_into_force() -> None:
    state = inf("2000-01-01")
    assert row(state, "RUS")["in_force"] == "1991-12-26"
    assert row(state, "BLR")["in_force"] == "1992~"
    assert row(state, "USA")["in_force"] == "1988-06-01"


def test_after_termination_every_remaining_participant_is_terminated() -> None:
    state = inf("2019-08-02")
    assert state["status"] == "terminated"
    assert {s for a, s in statuses(state).items() if a != "SUN"} == {"terminated"}
    assert statuses(inf("2019-08-01"))["BLR"] == "party"


def test_a_state_that_ceased_to_exist_is_dissolved_with_its_successors_named() -> None:
    before = agreement_state(INF, inf_facts(), D("1991-12-25"), actors=USSR)
    assert row(before, "SUN")["status"] == "party"
    assert row(before, "SUN")["successors"] == []
    after = agreement_state(INF, inf_facts(), D("1991-12-26"), actors=USSR)
    assert row(after, "SUN")["status"] == "dissolved"
    assert row(after, "SUN")["successors"] == ["RUS", "UKR", "BLR", "KAZ"]
    ended = agreement_state(INF, inf_facts(), D("2020-01-01"), actors=USSR)
    assert row(ended, "SUN")["status"] == "dissolved", "dissolved comes before terminated"


def test_a_suspension_by_a_party_suspends_that_party_and_not_the_agreement() -> None:
    state = inf("2019-05-01")
    assert state["status"] == "in_force"
    assert row(state, "RUS")["status"] == "suspended"
    assert row(state, "RUS")["suspension"] == {"date": "2019-03-04", "until": None}
    assert row(state, "USA")["status"] == "withdrawing", "withdrawing comes before suspended"
    assert row(state, "BLR")["status"] == "party"


def test_a_qualified_date_is_never_certain_even_long_after_its_latest_day() -> None:
    sun_ratifies = inf_facts()[1]
    assert (sun_ratifies.earliest, sun_ratifies.latest) == (D("1988-05-27"), D("1988-05-29"))
    assert sun_ratifies.happened(D("2000-01-01")) is Happened.POSSIBLY
    assert happened(D("1988-05-27"), D("1988-05-29"), D("2000-01-01")) is Happened.YES


def test_the_status_is_certain_when_only_a_participant_is_uncertain() -> None:
    state = inf("1992-06-01")
    assert (state["status"], state["status_certain"]) == ("in_force", True)
    assert row(state, "BLR")["status"] == "party"
    assert row(state, "BLR")["certain"] is False
    assert row(state, "SUN")["certain"] is False, "its consent rests on a qualified date"


# --- New START and the agreement that extended it ----------------------------------------

NEW_START = {"id": "new-start", "title": "New START", "type": "treaty", "parties": ["USA", "RUS"]}
EXTENSION = {
    "id": "new-start-extension-2021",
    "title": "Extension of New START",
    "type": "other",
    "parties": ["USA", "RUS"],
    "relations": [{"type": "amends", "target": "new-start"}],
}


@functools.cache
def new_start_facts() -> list[Fact]:
    return facts(
        "new-start",
        {
            "kind": "signing",
            "date": "2010-04-08",
            "signatories": [{"actor": "USA"}, {"actor": "RUS"}],
        },
        {"kind": "ratification", "date": "2011-01-28", "by": "RUS"},
        {"kind": "ratification", "date": "2011-02-02", "by": "USA"},
        {"kind": "entry_into_force", "date": "2011-02-05"},
        {"kind": "suspension", "date": "2023-02-21", "by": "RUS"},
        {"kind": "termination", "date": "2026-02-05"},
    )


@functools.cache
def extension_facts() -> list[Fact]:
    return facts(
        "new-start-extension-2021",
        {
            "kind": "signing",
            "date": "2021-01-26",
            "signatories": [{"actor": "USA"}, {"actor": "RUS"}],
        },
        {"kind": "ratification", "date": "2021-01-29", "by": "RUS"},
        {"kind": "entry_into_force", "date": "2021-02-03"},
    )


def extension(as_of: str) -> dict[str, Any]:
    parent = agreement_state(NEW_START, new_start_facts(), D(as_of))
    return agreement_state(EXTENSION, extension_facts(), D(as_of), parents=[parent])


def test_russias_suspension_leaves_new_start_in_force_and_russia_suspended() -> None:
    state = agreement_state(NEW_START, new_start_facts(), D("2023-03-01"))
    assert state["status"] == "in_force"
    assert statuses(state) == {"USA": "party", "RUS": "suspended"}


def test_a_suspending_partys_row_shows_its_suspension_until_it_ends() -> None:
    pause = facts(
        "new-start",
        {"kind": "suspension", "date": "2023-02-21", "until": "2024-02-21", "by": "RUS"},
    )
    history = new_start_facts()[:4] + pause
    during = row(agreement_state(NEW_START, history, D("2023-06-01")), "RUS")
    assert (during["status"], during["suspension"]) == (
        "suspended",
        {"date": "2023-02-21", "until": "2024-02-21"},
    )
    after = row(agreement_state(NEW_START, history, D("2024-02-21")), "RUS")
    assert (after["status"], after["suspension"]) == ("party", None)


def test_only_a_suspension_without_a_suspending_party_suspends_the_agreement() -> None:
    whole = facts("new-start", {"kind": "suspension", "date": "2023-02-21"})
    state = agreement_state(NEW_START, new_start_facts()[:4] + whole, D("2023-03-01"))
    assert state["status"] == "suspended"
    assert statuses(state) == {"USA": "party", "RUS": "party"}


def test_new_start_expired_and_its_parties_with_it() -> None:
    state = agreement_state(NEW_START, new_start_facts(), D("2026-02-05"))
    assert (state["status"], statuses(state)) == (
        "terminated",
        {"USA": "terminated", "RUS": "terminated"},
    )


def test_an_agreement_that_amends_another_ends_when_that_one_ends() -> None:
    assert extension("2026-02-04")["status"] == "in_force"
    ended = extension("2026-02-05")
    assert ended["status"] == "terminated"
    assert statuses(ended) == {"USA": "terminated", "RUS": "terminated"}
    assert ended["status_certain"] is True


def test_an_amendment_is_not_certainly_ended_while_its_parents_end_is_uncertain() -> None:
    vague = facts("new-start", {"kind": "termination", "date": "2026-02"})
    parent = agreement_state(NEW_START, new_start_facts()[:5] + vague, D("2026-02-10"))
    state = agreement_state(EXTENSION, extension_facts(), D("2026-02-10"), parents=[parent])
    assert (state["status"], state["status_certain"]) == ("terminated", False)


def test_a_bilateral_agreement_in_force_binds_its_signatories_by_signature() -> None:
    state = extension("2021-03-01")
    usa = row(state, "USA")
    assert (usa["status"], usa["consent"]) == (
        "party",
        {"method": "signature", "date": "2021-01-26"},
    )
    assert usa["in_force"] == "2021-02-03"
    assert row(state, "RUS")["consent"] == {"method": "ratification", "date": "2021-01-29"}


def test_incoming_relations_are_passed_through_as_related_by() -> None:
    related = [{"type": "amends", "source": "new-start-extension-2021"}]
    state = agreement_state(NEW_START, new_start_facts(), D("2024-01-01"), related_by=related)
    assert state["related_by"] == related


# --- the Rome Statute and the NPT: accessions, withdrawals, revocations -------------------

ROME = {"id": "rome-statute", "title": "Rome Statute", "type": "treaty"}


@functools.cache
def rome_facts() -> list[Fact]:
    return facts(
        "rome-statute",
        {"kind": "signing", "date": "1998-07-17", "signatories": [{"actor": "ZAF"}]},
        {"kind": "ratification", "date": "2000-11-27", "by": "ZAF"},
        {"kind": "entry_into_force", "date": "2002-07-01"},
        {"kind": "ratification", "date": "2007-07-17", "by": "JPN", "method": "accession"},
        {"kind": "entry_into_force", "date": "2007-10-01", "for": ["JPN"]},
        {"kind": "withdrawal", "date": "2016-10-19", "effective": "2017-10-19", "by": "ZAF"},
        {"kind": "revocation", "date": "2017-03-07", "target": "rome-statute-6", "by": "ZAF"},
    )


def rome(as_of: str) -> dict[str, Any]:
    return agreement_state(ROME, rome_facts(), D(as_of))


def test_an_accession_after_entry_into_force_is_contracting_until_in_force_for_it() -> None:
    assert (
        row(rome("2007-08-01"), "JPN")["status"],
        row(rome("2007-08-01"), "JPN")["in_force"],
    ) == (
        "contracting",
        None,
    )
    assert row(rome("2007-10-01"), "JPN")["in_force"] == "2007-10-01"
    assert row(rome("2007-10-01"), "ZAF")["in_force"] == "2002-07-01"


def test_a_withdrawal_revoked_before_it_takes_effect_never_takes_effect() -> None:
    assert row(rome("2016-12-01"), "ZAF")["status"] == "withdrawing"
    for as_of in ("2017-03-07", "2017-10-19", "2025-01-01"):
        south_africa = row(rome(as_of), "ZAF")
        assert (south_africa["status"], south_africa["withdrawal"]) == ("party", None), as_of


def test_a_revocation_after_the_withdrawal_took_effect_changes_nothing() -> None:
    late = facts(
        "rome-statute",
        {"kind": "signing", "date": "1998-07-17", "signatories": [{"actor": "ZAF"}]},
        {"kind": "ratification", "date": "2000-11-27", "by": "ZAF"},
        {"kind": "entry_into_force", "date": "2002-07-01"},
        {"kind": "withdrawal", "date": "2016-10-19", "effective": "2017-10-19", "by": "ZAF"},
        {"kind": "revocation", "date": "2017-10-20", "target": "rome-statute-4", "by": "ZAF"},
    )
    assert row(agreement_state(ROME, late, D("2018-01-01")), "ZAF")["status"] == "withdrawn"


def test_a_suspension_ends_on_the_day_it_is_revoked() -> None:
    pause = facts(
        "new-start",
        {"kind": "suspension", "date": "2023-02-21", "by": "RUS"},
        {"kind": "revocation", "date": "2024-01-01", "target": "new-start-101", "by": "RUS"},
        first=101,
    )
    history = new_start_facts()[:4] + pause
    assert row(agreement_state(NEW_START, history, D("2023-12-31")), "RUS")["status"] == "suspended"
    assert row(agreement_state(NEW_START, history, D("2024-01-01")), "RUS")["status"] == "party"


def revocation(position: int, day: str, target: str, by: str) -> Fact:
    """A revocation as the format writes it: it names its notice, not the agreement."""
    span = parse_date(day)
    record = {"kind": "revocation", "id": f"revocation-{position}", "date": day}
    return Fact.of({**record, "target": target, "by": by}, position, span.earliest, span.latest)


def south_africa(as_of: str, *more: Fact) -> str:
    """South Africa's status after its notice of 2016-10-19 (effective 2017-10-19)."""
    notice = rome_facts()[:6]
    return str(row(agreement_state(ROME, [*notice, *more], D(as_of)), "ZAF")["status"])


def test_a_withdrawal_revoked_on_its_effective_day_never_takes_effect() -> None:
    on_the_day = revocation(7, "2017-10-19", "rome-statute-6", "ZAF")
    assert south_africa("2018-01-01", on_the_day) == "party"
    assert south_africa("2018-01-01", revocation(7, "2017-10-20", "rome-statute-6", "ZAF")) == (
        "withdrawn"
    )


def test_a_revocation_known_only_to_have_come_by_some_day_may_have_come_in_time() -> None:
    by_some_day = revocation(7, "[..2018-01-01]", "rome-statute-6", "ZAF")
    assert south_africa("2018-06-01", by_some_day) == "party"


def test_a_withdrawal_whose_effect_has_no_last_day_is_revoked_by_any_revocation() -> None:
    open_notice = facts(
        "rome-statute",
        {"kind": "withdrawal", "date": "2016-10-19", "effective": "2017-10-19/..", "by": "ZAF"},
        first=6,
    )
    history = [
        *rome_facts()[:5],
        *open_notice,
        revocation(7, "2020-01-01", "rome-statute-6", "ZAF"),
    ]
    assert row(agreement_state(ROME, history, D("2021-01-01")), "ZAF")["status"] == "party"


def test_a_revocation_of_another_agreements_notice_is_no_fact_of_this_one() -> None:
    elsewhere = Fact.of(
        {"kind": "revocation", "id": "r", "date": "2017", "target": "npt-3", "by": "ZAF"},
        8,
        D("2017-01-01"),
        D("2017-12-31"),
    )
    state = agreement_state(ROME, [*rome_facts(), elsewhere], D("2017-06-01"))
    assert state["uncertain_occurrences"] == []


def test_a_state_that_left_is_not_bound_again_by_its_old_entry_into_force() -> None:
    japan = facts(
        "rome-statute",
        {"kind": "withdrawal", "date": "2010-01-01", "effective": "2011-01-01", "by": "JPN"},
        {"kind": "ratification", "date": "2015-01-01", "by": "JPN", "method": "accession"},
        {"kind": "entry_into_force", "date": "2015-04-01", "for": ["JPN"]},
        first=8,
    )
    history = [*rome_facts()[:5], *japan]
    rejoined = row(agreement_state(ROME, history, D("2015-02-01")), "JPN")
    assert (rejoined["status"], rejoined["in_force"]) == ("contracting", None)
    bound = row(agreement_state(ROME, history, D("2015-05-01")), "JPN")
    assert (bound["status"], bound["in_force"]) == ("party", "2015-04-01")


NPT = {"id": "npt", "title": "NPT", "type": "treaty"}


@functools.cache
def npt_facts() -> list[Fact]:
    return facts(
        "npt",
        {"kind": "entry_into_force", "date": "1970-03-05"},
        {"kind": "ratification", "date": "1985-12-12", "by": "PRK", "method": "accession"},
        {"kind": "withdrawal", "date": "1993-03-12", "effective": "1993-06-12", "by": "PRK"},
        {"kind": "revocation", "date": "1993-06-11", "target": "npt-3", "by": "PRK"},
        {"kind": "withdrawal", "date": "2003-01-10", "effective": "2003-01-11", "by": "PRK"},
    )


def test_the_dprk_suspended_its_1993_notice_then_withdrew_in_2003() -> None:
    def dprk(as_of: str) -> str:
        return row(agreement_state(NPT, npt_facts(), D(as_of)), "PRK")["status"]

    assert [dprk(d) for d in ("1993-06-10", "1993-06-12", "2003-01-10", "2003-01-11")] == [
        "withdrawing",
        "party",
        "withdrawing",
        "withdrawn",
    ]
    assert (
        row(agreement_state(NPT, npt_facts(), D("1990-01-01")), "PRK")["in_force"] == "1985-12-12"
    )


# --- second dates and memberships, in small made-up histories ------------------------------

PACT = {"id": "pact", "title": "A pact", "type": "treaty", "parties": ["AAA", "BBB"]}


def test_a_qualified_end_of_a_state_dissolves_it_only_possibly() -> None:
    history = facts(
        "pact",
        {"kind": "ratification", "date": "1990-01-01", "by": "AAA"},
        {"kind": "entry_into_force", "date": "1990-06-01"},
    )
    ended = {"AAA": {"id": "AAA", "kind": "actor", "end": "1991-12-26", "successors": ["CCC"]}}
    doubted = {"AAA": {**ended["AAA"], "end": "1991-12-26?"}}
    sure = row(agreement_state(PACT, history, D("1995-01-01"), actors=ended), "AAA")
    assert (sure["status"], sure["certain"]) == ("dissolved", True)
    unsure = row(agreement_state(PACT, history, D("1995-01-01"), actors=doubted), "AAA")
    assert (unsure["status"], unsure["certain"]) == ("dissolved", False)


def test_a_qualified_effective_date_of_a_withdrawal_is_never_certain() -> None:
    history = facts(
        "pact",
        {"kind": "ratification", "date": "2000-01-01", "by": "AAA"},
        {"kind": "entry_into_force", "date": "2000-06-01"},
        {"kind": "withdrawal", "date": "2005-01-01", "effective": "2006-01-01?", "by": "AAA"},
    )
    state = agreement_state(PACT, history, D("2010-01-01"))
    leaver = row(state, "AAA")
    assert (leaver["status"], leaver["certain"]) == ("withdrawn", False)
    assert leaver["previous_withdrawal"] is None, "its one withdrawal is the live one"
    assert state["uncertain_occurrences"] == ["pact-3"]


def test_the_effective_date_of_a_withdrawal_is_read_by_the_injected_reader() -> None:
    def everything_is_2030(_: str) -> tuple[date, date]:
        return D("2030-01-01"), D("2030-01-01")

    history = facts(
        "pact",
        {"kind": "ratification", "date": "2000-01-01", "by": "AAA"},
        {"kind": "entry_into_force", "date": "2000-06-01"},
        {"kind": "withdrawal", "date": "2005-01-01", "effective": "later", "by": "AAA"},
    )
    early = agreement_state(PACT, history, D("2029-01-01"), bounds=everything_is_2030)
    late = agreement_state(PACT, history, D("2031-01-01"), bounds=everything_is_2030)
    assert (row(early, "AAA")["status"], row(late, "AAA")["status"]) == ("withdrawing", "withdrawn")
    revoked = history + facts(
        "pact", {"kind": "revocation", "date": "2029-06-01", "target": "pact-3"}, first=4
    )
    stays = agreement_state(PACT, revoked, D("2031-01-01"), bounds=everything_is_2030)
    assert row(stays, "AAA")["status"] == "party", "revoked before its (injected) effective day"


def test_a_bilateral_consent_by_signature_is_the_signing_after_a_withdrawal() -> None:
    both = [{"actor": "AAA"}, {"actor": "BBB"}]
    history = facts(
        "pact",
        {"kind": "signing", "date": "2000-01-01", "signatories": both},
        {"kind": "withdrawal", "date": "2001-01-01", "by": "AAA"},
        {"kind": "signing", "date": "2002-01-01", "signatories": both},
        {"kind": "entry_into_force", "date": "2003-01-01"},
    )
    rejoined = row(agreement_state(PACT, history, D("2004-01-01")), "AAA")
    assert rejoined["status"] == "party"
    assert rejoined["consent"] == {"method": "signature", "date": "2002-01-01"}
    assert rejoined["previous_withdrawal"] == {"date": "2001-01-01", "effective": "2001-01-01"}


def test_an_entry_into_force_naming_a_state_after_its_notice_of_withdrawal_is_not_its_own() -> None:
    history = facts(
        "pact",
        {"kind": "ratification", "date": "1990-01-01", "by": "AAA"},
        {"kind": "withdrawal", "date": "1991-01-01", "effective": "1992-01-01", "by": "AAA"},
        {"kind": "entry_into_force", "date": "1993-01-01", "for": ["AAA"]},
    )
    leaver = row(agreement_state(PACT, history, D("1995-01-01")), "AAA")
    assert (leaver["status"], leaver["in_force"]) == ("withdrawn", None)


def test_a_notice_first_in_the_log_and_open_at_its_start_precedes_a_later_entry() -> None:
    """Without a joining act, every notice before an entry into force naming the state
    keeps that entry out of its membership, even one that sorts first of all."""
    history = facts(
        "pact",
        {"kind": "withdrawal", "date": "[..1991-01-01]", "by": "AAA"},
        {"kind": "entry_into_force", "date": "1993-01-01", "for": ["AAA"]},
        first=0,
    )
    leaver = row(agreement_state(PACT, history, D("1995-01-01")), "AAA")
    assert (leaver["status"], leaver["in_force"]) == ("withdrawn", None)
