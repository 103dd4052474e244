"""Agreement state, participants and endorsement acts as of a day, from hand-built facts.

The facts are built by hand, with their date bounds worked out by hand, so these tests
check the reading of the facts and nothing else: no parser, store or projection sits
between the records and the answer (only second dates inside a record, withdrawal
`effective` and suspension `until`, go through the ledger's EDTF parser, as they do in
production).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from projections.state import (
    Bounds,
    EndorsementAct,
    Fact,
    Happened,
    agreement_state,
    edtf_bounds,
    effective_bounds,
    endorsement_acts,
    happened,
    secondary_bounds,
)

D = date.fromisoformat


def on(record: dict[str, Any], position: int) -> Fact:
    """A fact dated to one exact day (its `date`)."""
    return Fact.of(record, position, record["date"], record["date"])


def participant(state: dict[str, Any], actor: str) -> dict[str, Any]:
    [found] = [p for p in state["participants"] if p["actor"] == actor]
    return found


def statuses(state: dict[str, Any]) -> dict[str, str]:
    return {p["actor"]: p["status"] for p in state["participants"]}


# --- the reference example: the Iraq–Iran memorandum of August 2025 -------------------

MOU: dict[str, Any] = {
    "kind": "agreement",
    "id": "iq-ir-security-mou-2025",
    "title": "Iraq–Iran security memorandum of understanding",
    "type": "memorandum-of-understanding",
    "parties": ["IRQ", "IRN"],
    "relations": [
        {"type": "builds_on", "target": "iq-ir-border-security-2023"},
        {"type": "identical_to", "target": "iq-ir-border-security-2023"},
    ],
}
AGREEMENTS = {"iq-ir-security-mou-2025", "iq-ir-border-security-2023"}

APPROVAL = Fact.of(
    {
        "kind": "approval",
        "id": "approval-council-of-ministers-2025",
        "date": "[..2025-08-13]",
        "agreement": "iq-ir-security-mou-2025",
        "by": "iraq-council-of-ministers",
        "on_behalf_of": "IRQ",
        "sources": [{"source": "peregraf-2025-08-14"}],
    },
    position=30,
    earliest=None,
    latest="2025-08-13",
)
SIGNING = Fact.of(
    {
        "kind": "signing",
        "id": "signing-mou-2025",
        "date": "[2025-08-11..2025-08-13]",
        "place": "Baghdad",
        "agreement": "iq-ir-security-mou-2025",
        "signatories": [
            {"actor": "qasim-al-araji", "on_behalf_of": "IRQ"},
            {"actor": "ali-larijani", "on_behalf_of": "IRN"},
        ],
        "overseen_by": ["mohammed-shia-al-sudani"],
        "sources": [{"source": "peregraf-2025-08-14"}],
    },
    position=32,
    earliest="2025-08-11",
    latest="2025-08-13",
)
MEETING = Fact.of(
    {
        "kind": "meeting",
        "id": "sudani-larijani-meeting-2025-08",
        "date": "[2025-08-11..2025-08-13]",
        "place": "Baghdad",
        "participants": ["mohammed-shia-al-sudani", "ali-larijani"],
        "about": ["iq-ir-security-mou-2025"],
        "sources": [{"source": "peregraf-2025-08-14"}],
    },
    position=33,
    earliest="2025-08-11",
    latest="2025-08-13",
)
MEDIA = Fact.of(
    {
        "kind": "statement",
        "id": "media-call-it-new-agreement",
        "date": "[2025-08-11..2025-08-13]",
        "by": "media-outlets",
        "stance": "neutral",
        "about": ["iq-ir-security-mou-2025"],
        "sources": [{"source": "peregraf-2025-08-14"}],
    },
    position=37,
    earliest="2025-08-11",
    latest="2025-08-13",
)
CLARIFICATION = Fact.of(
    {
        "kind": "statement",
        "id": "nsa-clarifies-memorandum",
        "date": "2025-08-13",
        "by": "iraq-national-security-advisory",
        "stance": "clarify",
        "about": ["iq-ir-security-mou-2025", "iq-ir-border-security-2023"],
        "sources": [
            {"source": "peregraf-2025-08-14", "attribution": "Iraqi National Security Advisory"}
        ],
    },
    position=38,
    earliest="2025-08-13",
    latest="2025-08-13",
)
# Deliberately out of order: agreement_state sorts for itself.
MOU_FACTS = [CLARIFICATION, MEDIA, SIGNING, MEETING, APPROVAL]


@pytest.mark.parametrize(
    ("as_of", "status", "certain", "certain_status"),
    [
        ("2025-08-14", "signed", True, "signed"),
        ("2025-08-12", "signed", False, "registered"),
        ("2025-08-10", "approved", False, "registered"),
    ],
)
def test_the_memorandum_is_signed_only_once_the_signing_range_has_passed(
    as_of: str, status: str, certain: bool, certain_status: str
) -> None:
    state = agreement_state(MOU, MOU_FACTS, D(as_of))
    assert state["status"] == status
    assert state["status_certain"] is certain
    assert state["certain_status"] == certain_status
    assert state["as_of"] == as_of


def test_the_memorandum_answer_has_the_cli_shape() -> None:
    state = agreement_state(MOU, MOU_FACTS, D("2025-08-14"))
    assert {
        "id",
        "title",
        "type",
        "parties",
        "status",
        "status_certain",
        "relations",
        "signings",
        "participants",
    } <= set(state)
    assert state["id"] == "iq-ir-security-mou-2025"
    assert state["type"] == "memorandum-of-understanding"
    assert state["parties"] == ["IRQ", "IRN"]
    assert state["relations"] == MOU["relations"]
    assert state["uncertain_occurrences"] == []


def test_the_memorandum_participants_are_iraq_and_iran_as_signatories() -> None:
    state = agreement_state(MOU, MOU_FACTS, D("2025-08-14"))
    assert state["participants"] == [
        {
            "actor": actor,
            "status": "signatory",
            "signed": "[2025-08-11..2025-08-13]",
            "consent": None,
            "in_force": None,
            "withdrawal": None,
            "suspension": None,
            "successors": [],
            "previous_withdrawal": None,
            "certain": True,
        }
        for actor in ("IRQ", "IRN")
    ]


def test_the_memorandum_signing_names_both_signatories_the_overseer_and_baghdad() -> None:
    state = agreement_state(MOU, MOU_FACTS, D("2025-08-14"))
    assert state["signings"] == [
        {
            "occurrence": "signing-mou-2025",
            "date": "[2025-08-11..2025-08-13]",
            "place": "Baghdad",
            "signatories": [
                {"actor": "qasim-al-araji", "on_behalf_of": "IRQ"},
                {"actor": "ali-larijani", "on_behalf_of": "IRN"},
            ],
            "overseen_by": ["mohammed-shia-al-sudani"],
            "certain": True,
        }
    ]


def test_before_the_signing_range_the_named_parties_are_still_negotiating() -> None:
    state = agreement_state(MOU, MOU_FACTS, D("2025-08-10"))
    assert state["signings"] == []
    assert statuses(state) == {"IRQ": "negotiating", "IRN": "negotiating"}
    assert state["uncertain_occurrences"] == ["approval-council-of-ministers-2025"]


def test_inside_the_signing_range_the_signing_is_shown_but_flagged_uncertain() -> None:
    state = agreement_state(MOU, MOU_FACTS, D("2025-08-12"))
    assert [s["certain"] for s in state["signings"]] == [False]
    assert participant(state, "IRQ")["signed"] == "[2025-08-11..2025-08-13]"
    assert state["uncertain_occurrences"] == [
        "approval-council-of-ministers-2025",
        "signing-mou-2025",
    ]


def test_facts_about_other_agreements_are_ignored_by_agreement_state() -> None:
    other = on(
        {
            "kind": "termination",
            "id": "other-ends",
            "date": "2025-01-01",
            "agreement": "iq-ir-border-security-2023",
        },
        position=1,
    )
    state = agreement_state(MOU, [*MOU_FACTS, other], D("2025-08-14"))
    assert state["status"] == "signed"


# --- when something happened ----------------------------------------------------------


@pytest.mark.parametrize(
    ("earliest", "latest", "as_of", "expected"),
    [
        ("2025-08-11", "2025-08-13", "2025-08-13", Happened.YES),
        ("2025-08-11", "2025-08-13", "2025-08-14", Happened.YES),
        ("2025-08-11", "2025-08-13", "2025-08-12", Happened.POSSIBLY),
        ("2025-08-11", "2025-08-13", "2025-08-11", Happened.POSSIBLY),
        ("2025-08-11", "2025-08-13", "2025-08-10", Happened.NO),
        (None, "2025-08-13", "2000-01-01", Happened.POSSIBLY),
        ("2025-08-11", None, "2099-01-01", Happened.POSSIBLY),
        ("2025-08-11", None, "2025-08-10", Happened.NO),
        (None, None, "2025-08-10", Happened.POSSIBLY),
    ],
)
def test_happened_never_guesses_inside_a_date_range(
    earliest: str | None, latest: str | None, as_of: str, expected: Happened
) -> None:
    lo = D(earliest) if earliest else None
    hi = D(latest) if latest else None
    assert happened(lo, hi, D(as_of)) is expected


def test_facts_sort_by_earliest_day_then_by_order_of_recording() -> None:
    open_start = Fact.of({"kind": "x", "id": "a", "date": "[..2020-01-01]"}, 9, None, "2020-01-01")
    later_recorded = on({"kind": "x", "id": "b", "date": "2020-01-01"}, 5)
    earlier_recorded = on({"kind": "x", "id": "c", "date": "2020-01-01"}, 2)
    ordered = sorted([later_recorded, earlier_recorded, open_start], key=lambda f: f.sort_key)
    assert [f.occurrence for f in ordered] == ["a", "c", "b"]
    assert open_start.sort_key == (date.min, 9)


def test_a_fact_reads_its_id_kind_date_and_sources_from_the_record_and_its_bounds_as_days() -> None:
    record = {
        "kind": "signing",
        "id": "s-1",
        "date": "2020-01",
        "sources": [{"source": "gazette"}, {"source": "wire", "quote": "signed"}],
    }
    stored = Fact.of(record, 4, "2020-01-01", "2020-01-31")  # as the read model holds them
    assert stored == Fact(
        occurrence="s-1",
        kind="signing",
        record=record,
        date="2020-01",
        earliest=D("2020-01-01"),
        latest=D("2020-01-31"),
        position=4,
        sources=("gazette", "wire"),
    )
    assert Fact.of(record, 4, D("2020-01-01"), D("2020-01-31")) == stored
    assert Fact.of({**record, "sources": None}, 4, None, None).sources == ()
    open_ended = Fact.of(record, 4, None, None)
    assert (open_ended.earliest, open_ended.latest) == (None, None)


def test_facts_are_hashable_though_their_record_is_a_dict() -> None:
    built = Fact.of({"kind": "x", "id": "a", "date": "2020-01"}, 1, None, None)
    assert hash(built) == hash(Fact.of({**built.record, "summary": "s"}, 1, None, None))


def test_second_dates_are_bounded_like_any_edtf_date() -> None:
    assert edtf_bounds("2023-03") == (D("2023-03-01"), D("2023-03-31"))
    notice = on({"kind": "withdrawal", "id": "w", "date": "2022-03-15", "by": "FRA"}, 1)
    assert effective_bounds(notice) == (D("2022-03-15"), D("2022-03-15"))
    assert secondary_bounds(notice, "effective") is None
    dated = on({**notice.record, "effective": "[..2023-03-15]"}, 1)
    assert effective_bounds(dated) == (None, D("2023-03-15"))


def test_second_dates_can_be_bounded_by_an_injected_reader() -> None:
    def everything_is_2030(_: str) -> Bounds:
        return D("2030-01-01"), D("2030-01-01")

    suspension = on(
        {"kind": "suspension", "id": "s", "date": "2020-01-01", "agreement": "t", "until": "x"}, 1
    )
    agreement = {"id": "t", "title": "T", "type": "treaty"}
    early = agreement_state(agreement, [suspension], D("2029-01-01"), bounds=everything_is_2030)
    late = agreement_state(agreement, [suspension], D("2031-01-01"), bounds=everything_is_2030)
    assert (early["status"], late["status"]) == ("suspended", "registered")


# --- endorsement acts -------------------------------------------------------------------


def test_a_signing_gives_one_signed_per_signatory_then_one_oversaw_per_overseer() -> None:
    assert endorsement_acts(SIGNING.record, AGREEMENTS) == [
        EndorsementAct("iq-ir-security-mou-2025", "qasim-al-araji", "signed", "IRQ", None),
        EndorsementAct("iq-ir-security-mou-2025", "ali-larijani", "signed", "IRN", None),
        EndorsementAct("iq-ir-security-mou-2025", "mohammed-shia-al-sudani", "oversaw", None, None),
    ]


def test_ratification_withdrawal_and_termination_are_endorsement_acts() -> None:
    def acts(record: dict[str, Any]) -> list[EndorsementAct]:
        return endorsement_acts({"agreement": "t", "date": "2020-01-01", **record}, set())

    assert acts({"kind": "ratification", "by": "FRA"}) == [
        EndorsementAct("t", "FRA", "ratified", None, "ratification")
    ]
    assert acts({"kind": "ratification", "by": "ESP", "method": "accession"}) == [
        EndorsementAct("t", "ESP", "ratified", None, "accession")
    ]
    assert acts({"kind": "withdrawal", "by": "FRA"}) == [
        EndorsementAct("t", "FRA", "withdrew", None, None)
    ]
    assert acts({"kind": "termination"}) == [EndorsementAct("t", None, "terminated", None, None)]
    assert acts({"kind": "suspension", "by": "RUS"}) == [
        EndorsementAct("t", "RUS", "suspended", None, None)
    ]


def test_a_revocation_is_an_act_on_the_agreement_of_the_notice_it_revokes() -> None:
    notice = {"kind": "withdrawal", "id": "w", "agreement": "t", "by": "ZAF"}
    revocation = {"kind": "revocation", "id": "r", "target": "w", "by": "ZAF"}
    assert endorsement_acts(revocation, {"t"}, notice) == [
        EndorsementAct("t", "ZAF", "revoked", None, None)
    ]
    assert endorsement_acts(revocation, {"t"}) == [], "without its notice it names no agreement"


@pytest.mark.parametrize("kind", ["entry_into_force", "implementation", "meeting", "proposal"])
def test_occurrences_that_are_not_endorsements_give_no_acts(kind: str) -> None:
    record = {"kind": kind, "agreement": "t", "by": "FRA", "about": ["t"], "participants": []}
    assert endorsement_acts(record, {"t"}) == []


@pytest.mark.parametrize(
    ("stance", "act"),
    [
        ("reaffirm", "reaffirmed"),
        ("support", "supported"),
        ("oppose", "opposed"),
        ("condemn", "opposed"),
        ("deny", "denied"),
        ("clarify", None),
        ("neutral", None),
    ],
)
def test_statement_stances_map_to_acts_and_only_positions_endorse(
    stance: str, act: str | None
) -> None:
    record = {"kind": "statement", "by": "sudani", "stance": stance, "about": ["t"]}
    expected = [] if act is None else [EndorsementAct("t", "sudani", act, None, None)]
    assert endorsement_acts(record, {"t"}) == expected


def test_a_statement_about_actors_and_agreements_endorses_only_the_agreements() -> None:
    record = {
        "kind": "statement",
        "by": "sudani",
        "stance": "support",
        "about": ["IRN", "treaty-a", "masoud-pezeshkian", "treaty-b", "treaty-a"],
    }
    by_set = endorsement_acts(record, {"treaty-a", "treaty-b"})
    by_callable = endorsement_acts(record, lambda ident: ident.startswith("treaty-"))
    assert (
        by_set
        == by_callable
        == [
            EndorsementAct("treaty-a", "sudani", "supported", None, None),
            EndorsementAct("treaty-b", "sudani", "supported", None, None),
        ]
    )


def test_a_statement_about_only_actors_endorses_nothing() -> None:
    record = {"kind": "statement", "by": "sudani", "stance": "reaffirm", "about": ["IRN"]}
    assert endorsement_acts(record, AGREEMENTS) == []


# --- a multilateral treaty: sign, ratify, accede, enter into force, leave, rejoin -------

TREATY: dict[str, Any] = {
    "kind": "agreement",
    "id": "t",
    "title": "A multilateral treaty",
    "type": "treaty",
    "parties": ["DEU"],
}


def treaty_fact(position: int, kind: str, day: str, **fields: Any) -> Fact:
    return on(
        {"kind": kind, "id": f"{kind}-{position}", "date": day, "agreement": "t", **fields},
        position,
    )


SIGNED = treaty_fact(
    1,
    "signing",
    "2020-01-10",
    place="Rome",
    signatories=[
        {"actor": "fra-envoy", "on_behalf_of": "FRA"},
        {"actor": "DEU"},
        {"actor": "ita-envoy", "on_behalf_of": "ITA"},
    ],
)
FRA_RATIFIES = treaty_fact(2, "ratification", "2020-06-01", by="FRA", method="ratification")
ESP_ACCEDES = treaty_fact(3, "ratification", "2020-09-01", by="ESP", method="accession")
IN_FORCE = treaty_fact(4, "entry_into_force", "2021-01-01")
FRA_WITHDRAWS = treaty_fact(5, "withdrawal", "2022-03-15", by="FRA", effective="2023-03-15")
FRA_REJOINS = treaty_fact(6, "ratification", "2024-05-01", by="FRA", method="accession")
IN_FORCE_FOR_FRA = treaty_fact(7, "entry_into_force", "2024-06-01", **{"for": ["FRA"]})
TREATY_FACTS = [
    IN_FORCE_FOR_FRA,
    FRA_REJOINS,
    FRA_WITHDRAWS,
    IN_FORCE,
    ESP_ACCEDES,
    FRA_RATIFIES,
    SIGNED,
]


def treaty(as_of: str, facts: list[Fact] | None = None) -> dict[str, Any]:
    return agreement_state(TREATY, TREATY_FACTS if facts is None else facts, D(as_of))


@pytest.mark.parametrize(
    ("as_of", "status", "participants"),
    [
        ("2020-01-01", "registered", {"DEU": "negotiating"}),
        (
            "2020-03-01",
            "signed",
            {"DEU": "signatory", "FRA": "signatory", "ITA": "signatory"},
        ),
        (
            "2020-07-01",
            "signed",
            {"DEU": "signatory", "FRA": "contracting", "ITA": "signatory"},
        ),
        (
            "2020-10-01",
            "signed",
            {"DEU": "signatory", "FRA": "contracting", "ITA": "signatory", "ESP": "contracting"},
        ),
        (
            "2021-06-01",
            "in_force",
            {"DEU": "signatory", "FRA": "party", "ITA": "signatory", "ESP": "party"},
        ),
        (
            "2022-06-01",
            "in_force",
            {"DEU": "signatory", "FRA": "withdrawing", "ITA": "signatory", "ESP": "party"},
        ),
        (
            "2023-03-15",
            "in_force",
            {"DEU": "signatory", "FRA": "withdrawn", "ITA": "signatory", "ESP": "party"},
        ),
        (
            "2024-05-15",
            "in_force",
            {"DEU": "signatory", "FRA": "contracting", "ITA": "signatory", "ESP": "party"},
        ),
        (
            "2024-06-01",
            "in_force",
            {"DEU": "signatory", "FRA": "party", "ITA": "signatory", "ESP": "party"},
        ),
    ],
)
def test_a_multilateral_treaty_moves_through_its_life_one_step_at_a_time(
    as_of: str, status: str, participants: dict[str, str]
) -> None:
    state = treaty(as_of)
    assert state["status"] == status
    assert state["status_certain"] is True
    assert statuses(state) == participants
    assert list(statuses(state)) == list(participants), "parties first, then first appearance"


def test_signatories_count_for_the_state_they_sign_for_or_for_themselves() -> None:
    state = treaty("2020-03-01")
    assert {p["actor"]: p["signed"] for p in state["participants"]} == {
        "DEU": "2020-01-10",
        "FRA": "2020-01-10",
        "ITA": "2020-01-10",
    }
    assert "fra-envoy" not in statuses(state)


def test_accession_without_signature_makes_a_party_that_never_signed() -> None:
    spain = participant(treaty("2021-06-01"), "ESP")
    assert spain == {
        "actor": "ESP",
        "status": "party",
        "signed": None,
        "consent": {"method": "accession", "date": "2020-09-01"},
        "in_force": "2021-01-01",
        "withdrawal": None,
        "suspension": None,
        "successors": [],
        "previous_withdrawal": None,
        "certain": True,
    }


def test_general_entry_into_force_binds_only_those_who_consented() -> None:
    state = treaty("2021-06-01")
    assert {p["actor"]: p["in_force"] for p in state["participants"]} == {
        "DEU": None,
        "FRA": "2021-01-01",
        "ITA": None,
        "ESP": "2021-01-01",
    }


def test_between_notice_and_effect_a_withdrawing_state_is_still_bound() -> None:
    france = participant(treaty("2022-06-01"), "FRA")
    assert france["status"] == "withdrawing"
    assert france["consent"] == {"method": "ratification", "date": "2020-06-01"}
    assert france["in_force"] == "2021-01-01"
    assert france["withdrawal"] == {"date": "2022-03-15", "effective": "2023-03-15"}


def test_the_day_before_the_withdrawal_takes_effect_it_is_still_withdrawing() -> None:
    assert participant(treaty("2023-03-14"), "FRA")["status"] == "withdrawing"
    assert participant(treaty("2023-03-15"), "FRA")["status"] == "withdrawn"


def test_a_withdrawal_without_an_effective_date_takes_effect_on_its_own_date() -> None:
    notice = treaty_fact(5, "withdrawal", "2022-03-15", by="FRA")
    facts = [SIGNED, FRA_RATIFIES, ESP_ACCEDES, IN_FORCE, notice]
    france = participant(treaty("2022-03-15", facts), "FRA")
    assert france["status"] == "withdrawn"
    assert france["withdrawal"] == {"date": "2022-03-15", "effective": "2022-03-15"}
    assert participant(treaty("2022-03-14", facts), "FRA")["withdrawal"] is None


def test_a_withdrawal_does_not_end_the_treaty_for_the_others() -> None:
    state = treaty("2023-06-01")
    assert state["status"] == "in_force"
    assert participant(state, "ESP")["status"] == "party"


def test_rejoining_by_accession_makes_a_party_again_and_keeps_the_old_withdrawal() -> None:
    france = participant(treaty("2024-05-15"), "FRA")
    assert france == {
        "actor": "FRA",
        "status": "contracting",
        "signed": "2020-01-10",
        "consent": {"method": "accession", "date": "2024-05-01"},
        "in_force": None,
        "withdrawal": None,
        "suspension": None,
        "successors": [],
        "previous_withdrawal": {"date": "2022-03-15", "effective": "2023-03-15"},
        "certain": True,
    }
    assert participant(treaty("2024-06-01"), "FRA")["status"] == "party"


def test_a_rejoining_without_its_own_entry_into_force_is_in_force_from_the_new_consent() -> None:
    facts = [f for f in TREATY_FACTS if f is not IN_FORCE_FOR_FRA]
    france = participant(treaty("2024-05-15", facts), "FRA")
    assert (france["status"], france["in_force"]) == ("party", "2024-05-01")


def test_after_rejoining_only_the_new_entry_into_force_applies() -> None:
    france = participant(treaty("2024-07-01"), "FRA")
    assert france["in_force"] == "2024-06-01"
    assert france["status"] == "party"


def test_a_party_specific_entry_into_force_counts_for_that_participant_alone() -> None:
    facts = [
        SIGNED,
        ESP_ACCEDES,
        treaty_fact(9, "entry_into_force", "2020-12-01", **{"for": ["ESP"]}),
    ]
    state = treaty("2021-06-01", facts)
    assert state["status"] == "in_force"
    assert participant(state, "ESP")["in_force"] == "2020-12-01"
    assert participant(state, "FRA")["in_force"] is None


def test_a_later_consent_replaces_an_earlier_one_as_the_consent_shown() -> None:
    approval = treaty_fact(8, "ratification", "2020-07-01", by="FRA", method="approval")
    france = participant(treaty("2020-08-01", [SIGNED, FRA_RATIFIES, approval]), "FRA")
    assert france["consent"] == {"method": "approval", "date": "2020-07-01"}


def test_in_a_signature_only_agreement_entry_into_force_binds_every_participant() -> None:
    mou_in_force = Fact.of(
        {
            "kind": "entry_into_force",
            "id": "mou-in-force",
            "date": "2025-08-13",
            "agreement": "iq-ir-security-mou-2025",
        },
        position=40,
        earliest="2025-08-13",
        latest="2025-08-13",
    )
    state = agreement_state(MOU, [*MOU_FACTS, mou_in_force], D("2025-08-14"))
    assert state["status"] == "in_force"
    assert {p["actor"]: p["in_force"] for p in state["participants"]} == {
        "IRQ": "2025-08-13",
        "IRN": "2025-08-13",
    }


def test_a_signatory_that_withdraws_its_signature_is_withdrawn() -> None:
    unsign = treaty_fact(8, "withdrawal", "2020-02-01", by="ITA")
    italy = participant(treaty("2020-03-01", [SIGNED, unsign]), "ITA")
    assert italy["status"] == "withdrawn"
    assert italy["signed"] == "2020-01-10"


def test_a_proposal_about_the_agreement_makes_it_proposed() -> None:
    proposal = on(
        {"kind": "proposal", "id": "p", "date": "2019-06-01", "by": "FRA", "about": ["t"]}, 0
    )
    assert treaty("2019-07-01", [proposal, *TREATY_FACTS])["status"] == "proposed"
    assert treaty("2019-05-01", [proposal, *TREATY_FACTS])["status"] == "registered"


def test_an_approval_makes_it_approved_and_a_ratification_alone_makes_it_signed() -> None:
    approval = treaty_fact(0, "approval", "2019-12-01", by="cabinet", on_behalf_of="FRA")
    assert treaty("2019-12-15", [approval])["status"] == "approved"
    assert treaty("2020-10-01", [ESP_ACCEDES])["status"] == "signed"


# --- suspension and termination ---------------------------------------------------------


def test_a_suspension_with_an_end_lasts_until_that_day() -> None:
    pause = treaty_fact(8, "suspension", "2022-01-01", until="2022-06-30")
    facts = [*TREATY_FACTS, pause]
    assert treaty("2021-12-31", facts)["status"] == "in_force"
    assert treaty("2022-03-01", facts)["status"] == "suspended"
    assert treaty("2022-06-29", facts)["status"] == "suspended"
    assert treaty("2022-06-30", facts)["status"] == "in_force"
    assert treaty("2022-06-30", facts)["status_certain"] is True


def test_a_suspension_without_an_end_lasts_indefinitely() -> None:
    pause = treaty_fact(8, "suspension", "2022-01-01")
    state = treaty("2030-01-01", [*TREATY_FACTS, pause])
    assert state["status"] == "suspended"
    assert state["status_certain"] is True


def test_a_suspension_that_may_have_ended_is_still_shown_but_not_certain() -> None:
    pause = treaty_fact(8, "suspension", "2022-01-01", until="2022-06")
    state = treaty("2022-06-15", [*TREATY_FACTS, pause])
    assert state["status"] == "suspended"
    assert state["certain_status"] == "in_force"
    assert state["status_certain"] is False
    assert state["uncertain_occurrences"] == ["suspension-8"]
    assert treaty("2022-07-01", [*TREATY_FACTS, pause])["status_certain"] is True


def test_a_termination_is_final_even_over_a_suspension_or_a_later_entry_into_force() -> None:
    pause = treaty_fact(8, "suspension", "2022-01-01")
    end = treaty_fact(9, "termination", "2025-01-01", by="DEU")
    again = treaty_fact(10, "entry_into_force", "2026-01-01")
    facts = [*TREATY_FACTS, pause, end, again]
    assert treaty("2024-12-31", facts)["status"] == "suspended"
    state = treaty("2027-01-01", facts)
    assert state["status"] == "terminated"
    assert state["status_certain"] is True


def test_a_termination_without_a_terminating_actor_still_terminates() -> None:
    end = treaty_fact(9, "termination", "2025-01-01")
    assert treaty("2025-01-01", [*TREATY_FACTS, end])["status"] == "terminated"


# --- uncertain dates ------------------------------------------------------------------


def test_a_consent_known_only_to_the_month_is_uncertain_within_that_month() -> None:
    vague = Fact.of(
        {**FRA_RATIFIES.record, "date": "2020-06"}, 2, earliest="2020-06-01", latest="2020-06-30"
    )
    facts = [SIGNED, vague]
    during = treaty("2020-06-10", facts)
    assert participant(during, "FRA")["status"] == "contracting"
    assert participant(during, "FRA")["certain"] is False
    assert during["status"] == "signed"
    assert during["status_certain"] is True, "the status is certain even if France's consent is not"
    assert participant(treaty("2020-07-01", facts), "FRA")["certain"] is True


def test_a_withdrawal_whose_effect_may_have_passed_is_shown_withdrawn_but_not_certain() -> None:
    vague = treaty_fact(5, "withdrawal", "2022-03-15", by="FRA", effective="2023-03")
    facts = [SIGNED, FRA_RATIFIES, ESP_ACCEDES, IN_FORCE, vague]
    during = treaty("2023-03-10", facts)
    assert participant(during, "FRA")["status"] == "withdrawn"
    assert participant(during, "FRA")["certain"] is False
    assert during["status_certain"] is True, "the treaty is in force whatever France did"
    assert during["uncertain_occurrences"] == ["withdrawal-5"]
    after = treaty("2023-04-01", facts)
    assert participant(after, "FRA")["status"] == "withdrawn"
    assert participant(after, "FRA")["certain"] is True


def test_a_possible_termination_is_shown_but_not_certain() -> None:
    end = Fact.of(
        {"kind": "termination", "id": "end", "date": "2025", "agreement": "t"},
        9,
        earliest="2025-01-01",
        latest="2025-12-31",
    )
    state = treaty("2025-06-01", [*TREATY_FACTS, end])
    assert state["status"] == "terminated"
    assert state["certain_status"] == "in_force"
    assert state["status_certain"] is False


def test_an_uncertain_fact_that_changes_nothing_leaves_the_answer_certain() -> None:
    vague_support = Fact.of(
        {
            "kind": "statement",
            "id": "vague",
            "date": "2024",
            "by": "ESP",
            "stance": "support",
            "about": ["t"],
        },
        9,
        earliest="2024-01-01",
        latest="2024-12-31",
    )
    state = treaty("2024-07-01", [*TREATY_FACTS, vague_support])
    assert state["status_certain"] is True
