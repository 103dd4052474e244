"""The read side through the `ledger` command: agreements, endorsements, timelines, actors.

Issue 3. Every test runs on SQLite and on PostgreSQL; these only read, so they share one
ledger of the example per engine (see test_amendments_cli, test_treaty_cli for the rest).
"""

from __future__ import annotations

import pytest
from cli_support import Cli, ask

MOU = "iq-ir-security-mou-2025"
MOU_2023 = "iq-ir-border-security-2023"
TREATY = "shared-rivers-treaty"


def ids(rows: object) -> list[str]:
    assert isinstance(rows, list)
    return [row["id"] for row in rows]


# -- the memorandum ---------------------------------------------------------------------


def test_the_2025_memorandum_is_signed_for_certain_by_araji_and_larijani_in_baghdad(
    example: Cli,
) -> None:
    state = ask(example, "agreement", MOU)
    assert state["id"] == MOU
    assert state["type"] == "memorandum-of-understanding"
    assert state["parties"] == ["IRQ", "IRN"]
    assert state["status"] == "signed"
    assert state["status_certain"] is True
    assert {"type": "builds_on", "target": MOU_2023} in state["relations"]
    [signing] = state["signings"]
    assert signing["occurrence"] == "signing-mou-2025"
    assert signing["place"] == "Baghdad"
    assert signing["signatories"] == [
        {"actor": "qasim-al-araji", "on_behalf_of": "IRQ"},
        {"actor": "ali-larijani", "on_behalf_of": "IRN"},
    ]
    assert signing["overseen_by"] == ["mohammed-shia-al-sudani"]
    participants = {p["actor"]: p for p in state["participants"]}
    assert set(participants) == {"IRQ", "IRN"}
    for participant in participants.values():
        assert participant["status"] == "signatory"
        assert participant["signed"] == "[2025-08-11..2025-08-13]"
        assert participant["consent"] is None and participant["withdrawal"] is None
    # the ids name the people the article names
    assert ask(example, "actor", "qasim-al-araji")["name"] == "Qasim al-Araji"
    assert ask(example, "actor", "ali-larijani")["name"] == "Ali Larijani"
    assert ask(example, "actor", "mohammed-shia-al-sudani")["name"] == "Mohammed Shia al-Sudani"


def test_the_memorandum_endorsements_are_the_cabinet_approval_then_signatures_and_oversight(
    example: Cli,
) -> None:
    rows = ask(example, "endorsements", MOU)
    assert [(r["act"], r["actor"], r["on_behalf_of"]) for r in rows] == [
        ("approved", "iraq-council-of-ministers", "IRQ"),
        ("signed", "qasim-al-araji", "IRQ"),
        ("signed", "ali-larijani", "IRN"),
        ("oversaw", "mohammed-shia-al-sudani", None),
    ]
    assert [r["occurrence"] for r in rows] == [
        "approval-council-of-ministers-2025",
        *["signing-mou-2025"] * 3,
    ]
    assert [r["date"] for r in rows] == ["[..2025-08-13]", *["[2025-08-11..2025-08-13]"] * 3]
    for row in rows:
        assert row["sources"] == ["peregraf-2025-08-14"]
        assert row["certain"] is True


def test_as_of_a_day_inside_the_signing_range_the_signing_only_possibly_happened(
    example: Cli,
) -> None:
    state = ask(example, "agreement", MOU, "--as-of", "2025-08-12")
    assert state["status"] == "signed"
    assert state["status_certain"] is False
    rows = ask(example, "endorsements", MOU, "--as-of", "2025-08-12")
    assert [(r["act"], r["certain"]) for r in rows] == [
        ("approved", False),
        ("signed", False),
        ("signed", False),
        ("oversaw", False),
    ]


def test_as_of_before_the_signing_range_the_memorandum_is_not_signed(example: Cli) -> None:
    state = ask(example, "agreement", MOU, "--as-of", "2025-08-10")
    assert state["status"] != "signed"
    assert state["signings"] == []
    acts = [r["act"] for r in ask(example, "endorsements", MOU, "--as-of", "2025-08-10")]
    assert "signed" not in acts and "oversaw" not in acts


def test_as_of_after_the_signing_range_the_memorandum_is_signed_for_certain(
    example: Cli,
) -> None:
    state = ask(example, "agreement", MOU, "--as-of", "2025-08-14")
    assert (state["status"], state["status_certain"]) == ("signed", True)


def test_the_2023_agreement_was_signed_by_the_two_states_themselves(example: Cli) -> None:
    state = ask(example, "agreement", MOU_2023, "--as-of", "2023-03-19")
    assert state["status"] == "signed" and state["status_certain"] is True
    assert state["signings"][0]["signatories"] == [
        {"actor": "IRQ", "on_behalf_of": None},
        {"actor": "IRN", "on_behalf_of": None},
    ]
    assert ask(example, "agreement", MOU_2023, "--as-of", "2023-03-18")["status"] == "registered"


def test_known_at_before_anything_was_recorded_knows_nothing(example: Cli) -> None:
    assert ask(example, "timeline", "--known-at", "2000-01-01") == []
    result = example("agreement", MOU, "--known-at", "2000-01-01", expect=1)
    assert MOU in result.stderr


# -- timeline ----------------------------------------------------------------------------

LARIJANI = [
    "larijani-regional-tour-lebanon",  # 2025-08: its earliest day is the 1st
    "larijani-visits-baghdad-2025-08",
    "signing-mou-2025",
    "sudani-larijani-meeting-2025-08",
    "larijani-conveys-greetings",
    "larijani-proposes-railway",
]


def test_the_timeline_lists_every_occurrence_oldest_first(example: Cli) -> None:
    rows = ask(example, "timeline")
    assert len(rows) == 14
    assert ids(rows)[:2] == ["iran-threatens-military-action", "approval-council-of-ministers-2025"]
    assert ids(rows)[-1] == "nsa-clarifies-memorandum"
    signing = next(r for r in rows if r["id"] == "signing-mou-2025")
    assert signing["kind"] == "signing"
    assert signing["date"] == "[2025-08-11..2025-08-13]"
    assert (signing["earliest"], signing["latest"]) == ("2025-08-11", "2025-08-13")
    assert set(signing["actors"]) == {
        "qasim-al-araji",
        "ali-larijani",
        "IRQ",
        "IRN",
        "mohammed-shia-al-sudani",
    }
    assert signing["agreements"] == [MOU]
    assert signing["sources"] == ["peregraf-2025-08-14"]
    threat = rows[0]
    assert (threat["earliest"], threat["latest"]) == (None, "2025-08-14")
    nsa = next(r for r in rows if r["id"] == "nsa-clarifies-memorandum")
    assert nsa["agreements"] == [MOU, MOU_2023]
    reaffirm = next(r for r in rows if r["id"] == "sudani-reaffirms-ties")
    assert reaffirm["agreements"] == []  # about a state, not an agreement


# role → (actor, occurrence it has that role in)
ROLES = {
    "signatory": ("qasim-al-araji", "signing-mou-2025"),
    "on_behalf_of": ("IRN", "signing-mou-2025"),
    "overseen_by": ("mohammed-shia-al-sudani", "signing-mou-2025"),
    "visitor": ("ali-larijani", "larijani-visits-baghdad-2025-08"),
    "host": ("LBN", "larijani-regional-tour-lebanon"),
    "participants": ("mohammed-shia-al-sudani", "sudani-larijani-meeting-2025-08"),
    "by": ("media-outlets", "media-call-it-new-agreement"),
    "against": ("pjak", "iran-accuses-kurdish-groups"),
    "to": ("IRQ", "larijani-proposes-railway"),
    "approval by": ("iraq-council-of-ministers", "approval-council-of-ministers-2025"),
}


def test_timeline_actor_matches_every_role(example: Cli, subtests: pytest.Subtests) -> None:
    for role, (actor, occurrence) in ROLES.items():
        with subtests.test(role=role):
            assert occurrence in ids(ask(example, "timeline", "--actor", actor))
    assert ids(ask(example, "timeline", "--actor", "ali-larijani")) == LARIJANI
    assert ids(ask(example, "timeline", "--actor", "qasim-al-araji")) == ["signing-mou-2025"]
    assert ids(ask(example, "timeline", "--actor", "lbn")) == ["larijani-regional-tour-lebanon"]
    assert ids(ask(example, "timeline", "--actor", "pjak")) == [
        "iran-threatens-military-action",
        "iran-accuses-kurdish-groups",
    ]


def test_timeline_filters_by_agreement_kind_and_dates(example: Cli) -> None:
    assert ids(ask(example, "timeline", "--agreement", MOU)) == [
        "approval-council-of-ministers-2025",
        "signing-mou-2025",
        "sudani-larijani-meeting-2025-08",
        "media-call-it-new-agreement",
        "nsa-clarifies-memorandum",
    ]
    assert ids(ask(example, "timeline", "--agreement", MOU_2023)) == [
        "signing-2023-03-19",
        "implementation-2023-agreement-krg",
        "nsa-clarifies-memorandum",
    ]
    assert ids(ask(example, "timeline", "--kind", "visit")) == [
        "larijani-regional-tour-lebanon",
        "larijani-visits-baghdad-2025-08",
    ]
    assert ids(ask(example, "timeline", "--kind", "visit", "--actor", "IRQ")) == [
        "larijani-visits-baghdad-2025-08"
    ]
    # --from/--to keep what possibly happened in the window
    assert ids(ask(example, "timeline", "--from", "2025-08-14")) == [
        "iran-threatens-military-action",
        "iran-accuses-kurdish-groups",
        "implementation-2023-agreement-krg",
        "larijani-regional-tour-lebanon",
    ]
    assert ids(ask(example, "timeline", "--to", "2023-03-19")) == [
        "iran-threatens-military-action",
        "approval-council-of-ministers-2025",
        "iran-accuses-kurdish-groups",
        "signing-2023-03-19",
        "implementation-2023-agreement-krg",
    ]
    window = ids(ask(example, "timeline", "--from", "2025-08-13", "--to", "2025-08-13"))
    assert "nsa-clarifies-memorandum" in window
    assert "signing-2023-03-19" not in window
    assert "larijani-regional-tour-lebanon" in window


def test_timeline_as_of_leaves_out_what_had_not_yet_happened(example: Cli) -> None:
    everything = ids(ask(example, "timeline"))
    by_then = ids(ask(example, "timeline", "--as-of", "2025-08-10"))
    later = {
        "larijani-visits-baghdad-2025-08",
        "signing-mou-2025",
        "sudani-larijani-meeting-2025-08",
        "sudani-reaffirms-ties",
        "larijani-conveys-greetings",
        "larijani-proposes-railway",
        "media-call-it-new-agreement",
        "nsa-clarifies-memorandum",
    }
    assert by_then == [i for i in everything if i not in later]
    assert ids(ask(example, "timeline", "--as-of", "2023-03-18")) == [
        "iran-threatens-military-action",
        "approval-council-of-ministers-2025",
        "iran-accuses-kurdish-groups",
    ]


def test_actor_shows_the_actor_its_posts_and_its_occurrences(example: Cli) -> None:
    larijani = ask(example, "actor", "ali-larijani")
    assert larijani["id"] == "ali-larijani"
    assert larijani["name"] == "Ali Larijani"
    assert larijani["type"] == "person"
    [post] = larijani["posts"]
    assert post["title"] == "Secretary of the Supreme National Security Council"
    assert post["organization"] == "iran-snsc"
    assert post["start"] == "2025-08~"
    assert ids(larijani["occurrences"]) == LARIJANI
    araji = ask(example, "actor", "qasim-al-araji")
    assert [(p["title"], p["organization"]) for p in araji["posts"]] == [
        ("National Security Advisor", "IRQ")
    ]
    krg = ask(example, "actor", "krg")
    assert krg["part_of"] == "IRQ" and krg["posts"] == []


# -- errors and output hygiene -------------------------------------------------------------

UNKNOWN = [
    ("agreement", "no-such-agreement"),
    ("endorsements", "no-such-agreement"),
    ("actor", "no-such-actor"),
    ("actor", MOU),  # an agreement is not an actor
    ("timeline", "--actor", "no-such-actor"),
    ("timeline", "--agreement", "no-such-agreement"),
]


def test_unknown_ids_exit_1_with_a_clear_message(example: Cli, subtests: pytest.Subtests) -> None:
    for args in UNKNOWN:
        with subtests.test(args=" ".join(args)):
            result = example(*args, "--json", expect=1)
            assert args[-1] in result.stderr
            assert result.stdout == ""
            assert "Traceback" not in result.stderr


def test_a_bad_date_option_is_a_usage_error(example: Cli) -> None:
    result = example("agreement", MOU, "--as-of", "2025-02-30", expect=2)
    assert "2025-02-30" in result.stderr
    example("timeline", "--from", "yesterday", expect=2)


def test_a_query_leaves_the_garbage_collector_running(example: Cli) -> None:
    import gc

    ask(example, "agreement", MOU)
    assert gc.isenabled()
