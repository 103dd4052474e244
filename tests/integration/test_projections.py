"""The read side's Python API: queries on two time axes, catch-up, replay, freshness.

Issue 3. Every test runs on SQLite and on PostgreSQL (the `ledger` fixture).
"""

from __future__ import annotations

import itertools
import time
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.reading import read_records
from ledger.records import validate_record
from projections.catchup import catch_up, positions, replay
from projections.queries import NotFound, Queries, When

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "ledger" / "examples" / "iraq-iran-2025.yaml"
MULTILATERAL = REPO / "tests" / "e2e" / "data" / "multilateral-treaty.yaml"
MOU = "iq-ir-security-mou-2025"
#: A correction of the memorandum's signing: it took place in Tehran, not Baghdad.
TEHRAN = {
    "kind": "correction",
    "id": "c1",
    "date": "2025-08-20",
    "target": "signing-mou-2025",
    "set": {"place": "Tehran"},
    "reason": "r",
}


def enter(ledger: Ledger, *raw: dict[str, Any], user: str = "tester") -> None:
    ledger.import_records([(None, validate_record(r)) for r in raw], user)


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def at(day: str, known_at: str | None = None) -> When:
    return When(as_of=date.fromisoformat(day), known_at=known_at)


def read_models(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, ordered by primary key."""
    from sqlalchemy import select

    from projections import models

    dump: dict[str, list[tuple[Any, ...]]] = {}
    with ledger.engine.connect() as connection:
        for table in models.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            dump[table.name] = [tuple(row) for row in connection.execute(query)]
    return dump


@pytest.fixture
def example(ledger: Ledger) -> Queries:
    ledger.import_records(read_records(str(EXAMPLE)), "alice")
    return Queries(ledger.url, catch_up=partial(catch_up, ledger))


# -- the memorandum ------------------------------------------------------------------


def test_the_memorandum_is_signed_for_certain_and_builds_on_the_2023_agreement(
    example: Queries,
) -> None:
    state = example.agreement(MOU)
    assert (state["status"], state["status_certain"]) == ("signed", True)
    assert {"type": "builds_on", "target": "iq-ir-border-security-2023"} in state["relations"]
    [signing] = state["signings"]
    assert signing["place"] == "Baghdad"
    assert [(s["actor"], s["on_behalf_of"]) for s in signing["signatories"]] == [
        ("qasim-al-araji", "IRQ"),
        ("ali-larijani", "IRN"),
    ]
    assert signing["overseen_by"] == ["mohammed-shia-al-sudani"]


def test_the_memorandum_reads_differently_on_each_side_of_the_signing_range(
    example: Queries,
) -> None:
    before = example.agreement(MOU, at("2025-08-10"))
    during = example.agreement(MOU, at("2025-08-12"))
    after = example.agreement(MOU, at("2025-08-14"))
    assert before["status"] != "signed" and before["signings"] == []
    assert (during["status"], during["status_certain"]) == ("signed", False)
    assert "signing-mou-2025" in during["uncertain_occurrences"]
    assert (after["status"], after["status_certain"]) == ("signed", True)


def test_endorsements_come_oldest_first_with_the_cabinet_approval_first(
    example: Queries,
) -> None:
    rows = example.endorsements(MOU)
    assert [(r["act"], r["actor"]) for r in rows] == [
        ("approved", "iraq-council-of-ministers"),
        ("signed", "qasim-al-araji"),
        ("signed", "ali-larijani"),
        ("oversaw", "mohammed-shia-al-sudani"),
    ]
    assert rows[0] == {
        "date": "[..2025-08-13]",
        "earliest": None,
        "latest": "2025-08-13",
        "actor": "iraq-council-of-ministers",
        "act": "approved",
        "on_behalf_of": "IRQ",
        "method": None,
        "occurrence": "approval-council-of-ministers-2025",
        "sources": ["peregraf-2025-08-14"],
        "certain": True,
    }


def test_an_endorsement_that_only_possibly_happened_is_listed_as_uncertain(
    example: Queries,
) -> None:
    """The approval is dated "on or before 13 August": by the 10th it possibly happened."""
    rows = example.endorsements(MOU, at("2025-08-10"))
    assert [(r["act"], r["certain"]) for r in rows] == [("approved", False)]


def test_a_stance_on_an_agreement_endorses_it_and_a_stance_on_an_actor_does_not(
    ledger: Ledger,
) -> None:
    ledger.import_records(read_records(str(EXAMPLE)), "alice")
    enter(
        ledger,
        {
            "kind": "statement",
            "id": "support",
            "date": "2025-08-20",
            "by": "IRN",
            "stance": "support",
            "about": ["IRQ", MOU],
        },
    )
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))
    rows = queries.endorsements(MOU, at("2025-09-01"))
    assert [(r["act"], r["actor"], r["occurrence"]) for r in rows][-1] == (
        "supported",
        "IRN",
        "support",
    )
    assert [r["occurrence"] for r in rows].count("support") == 1, "IRQ is no agreement"


def test_treaty_endorsements_carry_each_consents_method_and_an_actorless_termination(
    ledger: Ledger,
) -> None:
    ledger.import_records(read_records(str(MULTILATERAL)), "alice")
    enter(
        ledger,
        {
            "kind": "statement",
            "id": "vague",
            "date": "2024",
            "by": "ESP",
            "stance": "support",
            "about": ["shared-rivers-treaty"],
        },
        {
            "kind": "termination",
            "id": "ended",
            "date": "2025-01-01",
            "agreement": "shared-rivers-treaty",
        },
    )
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))
    rows = queries.endorsements("shared-rivers-treaty", at("2025-06-01"))
    assert [(r["act"], r["actor"], r["on_behalf_of"], r["method"]) for r in rows] == [
        ("signed", "fra-foreign-minister", "FRA", None),
        ("signed", "DEU", None, None),
        ("signed", "ITA", None, None),
        ("ratified", "FRA", None, "ratification"),
        ("ratified", "DEU", None, "acceptance"),
        ("ratified", "ESP", None, "accession"),
        ("withdrew", "DEU", None, None),
        ("ratified", "DEU", None, "accession"),
        ("supported", "ESP", None, None),
        ("terminated", None, None, None),
    ]
    during_the_vague_year = queries.endorsements("shared-rivers-treaty", at("2024-07-01"))
    assert [(r["act"], r["certain"]) for r in during_the_vague_year][-1] == ("supported", False)


def test_ids_are_looked_up_without_regard_to_case(example: Queries) -> None:
    assert example.agreement(MOU.upper())["id"] == MOU
    assert example.actor("irq")["id"] == "IRQ"
    assert ids(example.timeline(actor="LBN")) == ids(example.timeline(actor="lbn"))


def test_names_gives_what_readers_call_each_id_and_skips_unknown_ones(example: Queries) -> None:
    found = example.names(["irq", "ali-larijani", MOU, "peregraf-2025-08-14", "nobody", ""])
    assert found == {
        "IRQ": "Iraq",
        "ali-larijani": "Ali Larijani",
        MOU: "Iraq–Iran security memorandum of understanding",
        "peregraf-2025-08-14": example.sources(["peregraf-2025-08-14"])["peregraf-2025-08-14"][
            "title"
        ],
    }
    assert example.names(["IRQ"], When(known_at="2000-01-01T00:00:00.000000Z")) == {}


def test_when_parse_reads_both_axes_as_the_cli_options_do() -> None:
    assert When.parse("2025-08-10", "2026-01-01") == When(
        as_of=date(2025, 8, 10), known_at="2026-01-01T23:59:59.999999Z"
    )
    assert When.parse(None, None).known_at is None
    with pytest.raises(ValueError, match="is not a valid day"):
        When.parse("2025-02-30")


@pytest.mark.parametrize(
    "question",
    [
        lambda q: q.agreement("nope"),
        lambda q: q.endorsements("nope"),
        lambda q: q.actor("nope"),
        lambda q: q.timeline(actor="nope"),
        lambda q: q.timeline(agreement="nope"),
    ],
    ids=["agreement", "endorsements", "actor", "timeline-actor", "timeline-agreement"],
)
def test_unknown_ids_raise_not_found_naming_the_id(example: Queries, question: Any) -> None:
    with pytest.raises(NotFound, match="'nope'"):
        question(example)


# -- timeline roles -------------------------------------------------------------------

ROLE_RECORDS = [
    {"kind": "agreement", "id": "pact", "title": "Pact", "type": "other"},
    {
        "kind": "signing",
        "id": "o-sign",
        "date": "2020-01-01",
        "agreement": "pact",
        "signatories": [{"actor": "signer", "on_behalf_of": "XOB"}],
        "overseen_by": ["overseer"],
    },
    {"kind": "visit", "id": "o-visit", "date": "2020-01-02", "visitor": "visitor", "host": "XHS"},
    {
        "kind": "meeting",
        "id": "o-meeting",
        "date": "2020-01-03",
        "participants": ["participant-a", "participant-b"],
    },
    {
        "kind": "accusation",
        "id": "o-accusation",
        "date": "2020-01-04",
        "by": "accuser",
        "against": ["accused"],
    },
    {"kind": "proposal", "id": "o-proposal", "date": "2020-01-05", "by": "proposer", "to": "XRE"},
    {
        "kind": "threat",
        "id": "o-threat",
        "date": "2020-01-06",
        "by": "threatener",
        "against": ["threatened"],
    },
    {
        "kind": "entry_into_force",
        "id": "o-force",
        "date": "2020-01-07",
        "agreement": "pact",
        "for": ["XFO"],
    },
    {
        "kind": "approval",
        "id": "o-approval",
        "date": "2020-01-08",
        "agreement": "pact",
        "by": "cabinet",
        "on_behalf_of": "XAP",
    },
]
ROLES = {
    "signer": "o-sign",
    "XOB": "o-sign",
    "overseer": "o-sign",
    "visitor": "o-visit",
    "XHS": "o-visit",
    "participant-a": "o-meeting",
    "participant-b": "o-meeting",
    "accuser": "o-accusation",
    "accused": "o-accusation",
    "proposer": "o-proposal",
    "XRE": "o-proposal",
    "threatener": "o-threat",
    "threatened": "o-threat",
    "XFO": "o-force",
    "cabinet": "o-approval",
    "XAP": "o-approval",
}


def test_timeline_by_actor_matches_each_role_and_only_its_occurrence(ledger: Ledger) -> None:
    actors = [
        {
            "kind": "actor",
            "id": actor,
            "name": actor,
            "type": "state" if actor.isupper() else "person",
        }
        for actor in ROLES
    ]
    enter(ledger, *actors, *ROLE_RECORDS)
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))
    found = {actor: ids(queries.timeline(actor=actor)) for actor in ROLES}
    assert found == {actor: [occurrence] for actor, occurrence in ROLES.items()}
    assert ids(queries.timeline(agreement="pact")) == ["o-sign", "o-force", "o-approval"]
    assert ids(queries.timeline(kind="visit")) == ["o-visit"]
    assert ids(queries.timeline(from_=date(2020, 1, 3), to=date(2020, 1, 4))) == [
        "o-meeting",
        "o-accusation",
    ]
    assert ids(queries.timeline(at("2020-01-02"))) == ["o-sign", "o-visit"]


# -- record time: corrections and retractions ---------------------------------------------


def _last_recorded_at(ledger: Ledger) -> str:
    return list(ledger.log())[-1].entry.recorded_at


def test_known_at_shows_what_was_known_before_a_correction_and_a_retraction(
    ledger: Ledger, example: Queries
) -> None:
    t0 = _last_recorded_at(ledger)
    time.sleep(0.01)
    enter(
        ledger,
        TEHRAN,
    )
    t1 = _last_recorded_at(ledger)
    time.sleep(0.01)
    enter(
        ledger,
        {
            "kind": "retraction",
            "id": "r1",
            "date": "2025-08-21",
            "target": "signing-mou-2025",
            "reason": "it never happened",
        },
    )
    assert t0 < t1 < _last_recorded_at(ledger)

    now = example.agreement(MOU)
    assert now["signings"] == [] and now["status"] == "approved"
    assert [r["act"] for r in example.endorsements(MOU)] == ["approved"]
    assert "signing-mou-2025" not in ids(example.timeline())
    assert ids(example.timeline(actor="qasim-al-araji")) == []

    between = example.agreement(MOU, When(known_at=t1))
    assert between["status"] == "signed"
    assert between["signings"][0]["place"] == "Tehran"
    assert ids(example.timeline(When(known_at=t1), actor="qasim-al-araji")) == ["signing-mou-2025"]

    before = example.agreement(MOU, When(known_at=t0))
    assert before["signings"][0]["place"] == "Baghdad"
    assert len(example.endorsements(MOU, When(known_at=t0))) == 4

    # the two axes combine: as known before the correction, as of the day before the range
    assert example.agreement(MOU, at("2025-08-10", t0))["signings"] == []


def test_a_correction_of_the_date_moves_the_occurrence_on_the_timeline(
    ledger: Ledger, example: Queries
) -> None:
    enter(
        ledger,
        {
            "kind": "correction",
            "id": "c1",
            "date": "2025-08-20",
            "target": "larijani-regional-tour-lebanon",
            "set": {"date": "2025-09-02"},
            "reason": "r",
        },
    )
    assert ids(example.timeline(actor="ali-larijani"))[-1] == "larijani-regional-tour-lebanon"
    assert "larijani-regional-tour-lebanon" not in ids(example.timeline(at("2025-08-31")))
    row = next(r for r in example.timeline() if r["id"] == "larijani-regional-tour-lebanon")
    assert (row["date"], row["earliest"], row["latest"]) == (
        "2025-09-02",
        "2025-09-02",
        "2025-09-02",
    )


# -- agreement states beyond the example --------------------------------------------------


def test_a_multilateral_treaty_tracks_each_participant_through_leaving_and_rejoining(
    ledger: Ledger,
) -> None:
    ledger.import_records(read_records(str(MULTILATERAL)), "alice")
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))

    def statuses(day: str) -> dict[str, str]:
        state = queries.agreement("shared-rivers-treaty", at(day))
        return {p["actor"]: p["status"] for p in state["participants"]}

    assert statuses("2010-03-01") == {"FRA": "signatory", "DEU": "signatory", "ITA": "signatory"}
    assert statuses("2011-01-15")["ESP"] == "contracting"
    assert statuses("2011-03-01")["ESP"] == "party"
    assert statuses("2013-01-10")["DEU"] == "withdrawing"
    assert statuses("2014-01-10")["DEU"] == "withdrawn"
    assert statuses("2015-02-01")["DEU"] == "contracting"
    assert statuses("2015-05-01")["DEU"] == "party"
    assert ids(queries.agreements(at("2011-02-28"), status="in_force")) == []
    assert ids(queries.agreements(at("2011-03-01"), status="in_force")) == ["shared-rivers-treaty"]


def test_a_withdrawal_whose_effective_date_is_uncertain_leaves_that_row_uncertain(
    ledger: Ledger,
) -> None:
    ledger.import_records(read_records(str(MULTILATERAL)), "alice")
    enter(
        ledger,
        {
            "kind": "withdrawal",
            "id": "fra-leaves",
            "date": "2016-01-01",
            "effective": "2017-06",
            "agreement": "shared-rivers-treaty",
            "by": "FRA",
        },
    )
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))

    def fra(day: str) -> tuple[str, bool]:
        state = queries.agreement("shared-rivers-treaty", at(day))
        assert state["status_certain"] is True, "the treaty is in force whatever France did"
        [row] = [p for p in state["participants"] if p["actor"] == "FRA"]
        return row["status"], row["certain"]

    assert fra("2017-05-31") == ("withdrawing", True)
    assert fra("2017-06-15") == ("withdrawn", False)
    assert fra("2017-06-30") == ("withdrawn", True)


def test_a_suspension_lasts_until_its_end_and_a_termination_is_final(ledger: Ledger) -> None:
    ledger.import_records(read_records(str(MULTILATERAL)), "alice")
    enter(
        ledger,
        {
            "kind": "suspension",
            "id": "paused",
            "date": "2018-01-01",
            "until": "2018-07-01",
            "agreement": "shared-rivers-treaty",
        },
        {
            "kind": "termination",
            "id": "ended",
            "date": "2020-01-01",
            "agreement": "shared-rivers-treaty",
            "by": "FRA",
        },
        {
            "kind": "entry_into_force",
            "id": "revived",
            "date": "2021-01-01",
            "agreement": "shared-rivers-treaty",
        },
    )
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))

    def status(day: str) -> str:
        return queries.agreement("shared-rivers-treaty", at(day))["status"]

    assert status("2017-12-31") == "in_force"
    assert status("2018-03-01") == "suspended"
    assert status("2018-07-01") == "in_force"
    assert status("2020-01-01") == "terminated"
    assert status("2022-01-01") == "terminated"
    acts = [r["act"] for r in queries.endorsements("shared-rivers-treaty")]
    assert acts[-1] == "terminated"


# -- catch-up, replay, freshness -------------------------------------------------------


def test_replay_gives_the_same_rows_as_incremental_catch_up_in_small_pages(
    ledger: Ledger,
) -> None:
    from e2e.synthetic_ledger import generate_records

    generated = generate_records(seed=5, occurrences=300)
    for start in range(0, len(generated), 90):
        enter(ledger, *generated[start : start + 90])
        catch_up(ledger, page_size=13)
    incremental = read_models(ledger)
    head = len(generated)
    assert positions(ledger) == {"registry": head, "occurrences": head, "lookups": head}

    assert replay(ledger) == {"registry": head, "occurrences": head, "lookups": head}
    assert read_models(ledger) == incremental

    replay(ledger, upto=head // 3)
    assert positions(ledger) == dict.fromkeys(("registry", "occurrences", "lookups"), head // 3)
    Queries(
        ledger.url, catch_up=partial(catch_up, ledger)
    ).timeline()  # every query catches up first
    assert positions(ledger) == dict.fromkeys(("registry", "occurrences", "lookups"), head)
    assert read_models(ledger) == incremental


def test_replay_of_the_example_gives_the_same_rows_and_answers(
    ledger: Ledger, example: Queries
) -> None:
    enter(
        ledger,
        TEHRAN,
    )
    enter(
        ledger,
        {
            "kind": "retraction",
            "id": "r1",
            "date": "2025-08-21",
            "target": "sudani-reaffirms-ties",
            "reason": "r",
        },
    )
    answers = (example.agreement(MOU), example.endorsements(MOU), example.timeline())
    incremental = read_models(ledger)
    replay(ledger)
    assert read_models(ledger) == incremental
    assert (example.agreement(MOU), example.endorsements(MOU), example.timeline()) == answers


def test_a_query_sees_what_another_ledger_instance_imported_since(
    ledger: Ledger, db_url: str
) -> None:
    queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))
    ledger.import_records(read_records(str(MULTILATERAL)), "alice")
    assert ids(queries.agreements()) == ["shared-rivers-treaty"]

    other = Ledger(db_url)
    try:
        other.import_records(read_records(str(EXAMPLE)), "bob")  # no catch-up here
    finally:
        other.close()

    assert max(positions(ledger).values()) < ledger.recorder.max_notification_id()
    assert set(ids(queries.agreements())) == {
        "shared-rivers-treaty",
        MOU,
        "iq-ir-border-security-2023",
    }
    assert queries.agreement(MOU)["status"] == "signed"
    assert "signing-mou-2025" in ids(queries.timeline(actor="ali-larijani"))


def test_amendments_chain_versions_whether_their_target_is_in_the_same_page_or_an_earlier_one(
    ledger: Ledger, example: Queries
) -> None:
    """Two corrections and a retraction of one occurrence, in one import: each closes the
    version before it, whether that version was written by an earlier page (one batched
    update) or is still pending in the page being written."""
    amend = {"date": "2025-08-20", "target": "signing-mou-2025", "reason": "r"}
    enter(
        ledger,
        TEHRAN,
        {**amend, "kind": "correction", "id": "c2", "set": {"place": "Erbil"}},
        {**amend, "kind": "retraction", "id": "r1"},
    )
    expected = None
    for page_size in (1, 2, 3, 2000):
        replay(ledger, upto=0)
        catch_up(ledger, page_size=page_size)
        rows = read_models(ledger)
        if expected is None:
            expected = rows
        assert rows == expected, f"pages of {page_size}"

    from sqlalchemy import select

    from projections import models

    t = models.occurrences
    with ledger.engine.connect() as connection:
        versions = connection.execute(
            select(t.c.known_from, t.c.known_until, t.c.retracted, t.c.record)
            .where(t.c.occurrence == "signing-mou-2025")
            .order_by(t.c.vid)
        ).all()
    assert len(versions) == 4
    for older, newer in itertools.pairwise(versions):
        assert older.known_until == newer.known_from
    assert versions[-1].known_until is None and versions[-1].retracted
    assert '"place":"Erbil"' in versions[-1].record.replace(" ", "")
    assert example.agreement(MOU)["signings"] == []


def test_a_query_of_fresh_read_models_loads_no_write_side_code(ledger: Ledger) -> None:
    """Query start-up is most of a query's time: with the read models caught up, a query
    needs SQLAlchemy Core only, not eventsourcing, the ORM or pydantic."""
    import subprocess
    import sys

    ledger.import_records(read_records(str(EXAMPLE)), "alice")
    catch_up(ledger)
    program = (
        "import sys\n"
        "from projections.queries import Queries, StaleReadModels\n"
        "try:\n"
        f"    state = Queries({ledger.url!r}).agreement({MOU!r})\n"
        "    assert state['status'] == 'signed', state\n"
        "except StaleReadModels as refusal:\n"
        "    print('refused:', refusal)\n"
        "heavy = ('eventsourcing', 'eventsourcing_sqlalchemy', 'sqlalchemy.orm', 'pydantic',"
        " 'alembic', 'edtf', 'ledger.application', 'projections.catchup')\n"
        "print('loaded:', ' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.rstrip() == "loaded:"

    # Behind the log, handed no catch-up: it says so, still without the write side.
    enter(ledger, {"kind": "source", "id": "late-source", "title": "Late", "type": "other"})
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=REPO, check=True
    )
    head = ledger.recorder.max_notification_id()
    assert [line.rstrip() for line in done.stdout.splitlines()] == [
        f"refused: the read models are behind the log (at position {head - 1} of {head}): "
        "run `ledger replay`, or ask through `ledger`, which catches them up",
        "loaded:",
    ]


def test_a_query_behind_the_log_calls_the_catch_up_it_was_handed(ledger: Ledger) -> None:
    ledger.import_records(read_records(str(EXAMPLE)), "alice")
    calls: list[int] = []

    def counted() -> None:
        calls.append(1)
        catch_up(ledger)

    queries = Queries(ledger.url, catch_up=counted)
    assert queries.agreement(MOU)["status"] == "signed"
    assert queries.agreement(MOU)["status"] == "signed"  # up to date now: no second call
    assert calls == [1]


def test_a_question_of_fresh_read_models_takes_one_connection_and_two_statements_before_its_own(
    ledger: Ledger,
) -> None:
    """Each round trip to a PostgreSQL server counts in a process that asks one question:
    the schema's revision is read in the question's own transaction (not on a connection
    of its own, which cost a BEGIN, a ROLLBACK and the pool's ping), and how far the
    read models are is one statement; read models at the log's head need no boundary
    check. A second question on the same `Queries` does not read the revision again."""
    from sqlalchemy import event

    ledger.import_records(read_records(str(EXAMPLE)), "alice")
    catch_up(ledger)
    queries = Queries(ledger.url)
    checkouts: list[int] = []
    statements: list[str] = []

    def checked_out(*_args: Any) -> None:
        checkouts.append(1)

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "SET TRANSACTION")):  # SQLite's, PostgreSQL's
            statements.append(" ".join(statement.split())[:40])

    event.listen(queries.engine, "checkout", checked_out)
    event.listen(queries.engine, "before_cursor_execute", executed)
    try:
        with queries.snapshot():
            pass
        assert checkouts == [1]
        assert statements == [
            "SELECT version_num FROM alembic_version",
            "SELECT NULL AS name, max(ledger_events.i",
        ]
        statements.clear()
        with queries.snapshot():
            pass
        assert statements == ["SELECT NULL AS name, max(ledger_events.i"]
    finally:
        event.remove(queries.engine, "checkout", checked_out)
        event.remove(queries.engine, "before_cursor_execute", executed)


def test_a_position_inside_a_write_transaction_is_no_boundary_and_one_at_the_head_is(
    ledger: Ledger,
) -> None:
    """The boundary check reads the log only for positions before its head: at the head,
    the rest of any transaction is visible with it or not at all."""
    from sqlalchemy import event

    from projections.freshness import at_transaction_boundaries, freshness

    enter(
        ledger,
        {"kind": "source", "id": "s1", "title": "One", "type": "other"},
        {"kind": "source", "id": "s2", "title": "Two", "type": "other"},
    )
    statements: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with ledger.engine.connect() as connection, connection.begin():
        head = freshness(connection).head
        event.listen(connection, "before_cursor_execute", executed)
        assert at_transaction_boundaries(connection, [head, 0], head)
        assert statements == []
        assert not at_transaction_boundaries(connection, [head - 1], head)  # s1 without s2
        assert len(statements) == 1


def test_a_large_catch_up_refreshes_postgresqls_planner_statistics(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without fresh statistics after a replay, PostgreSQL planned `timeline --agreement`
    as a nested loop over every current occurrence (1.5 s instead of milliseconds)."""
    from sqlalchemy import text

    from projections import catchup

    ledger = Ledger(postgres_url)
    try:
        ledger.import_records(read_records(str(EXAMPLE)), "alice")

        def analyzed() -> float:
            with ledger.engine.connect() as connection:
                return connection.execute(
                    text("SELECT reltuples FROM pg_class WHERE relname = 'rm_occurrences'")
                ).scalar_one()

        monkeypatch.setattr(catchup, "ANALYZE_AFTER", 10**9)
        catch_up(ledger)
        assert analyzed() < 0  # never analyzed: the planner guesses

        monkeypatch.setattr(catchup, "ANALYZE_AFTER", 10)
        replay(ledger)
        assert analyzed() > 0
    finally:
        ledger.close()


def _catalog(ledger: Ledger) -> list[tuple[Any, ...]]:
    """Every index of the read-model tables and the constraint it backs, as defined."""
    from sqlalchemy import text

    with ledger.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid),"
                    " c.conname, pg_get_constraintdef(c.oid)"
                    " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                    " JOIN pg_class t ON t.oid = x.indrelid"
                    " LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid"
                    " WHERE t.relname LIKE 'rm_%' ORDER BY 1, 2"
                )
            )
        ]


def test_a_rebuild_on_postgresql_fills_the_tables_without_the_indexes_nothing_reads_then_builds_them_as_migrated(  # noqa: E501
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept up row by row, the read models' indexes (the full-text GIN index most) cost
    the server more than the rows themselves; a rebuild drops those no projection reads
    while it writes, and makes them again from the catalog before it commits."""
    from sqlalchemy import event

    from projections import projectors

    ledger = Ledger(postgres_url)
    try:
        ledger.import_records(read_records(str(EXAMPLE)), "alice")
        enter(ledger, TEHRAN)
        catch_up(ledger)
        catalog, rows = _catalog(ledger), read_models(ledger)
        statements: list[str] = []

        def capture(*args: Any) -> None:
            statements.append(args[2])

        def copy(session: Any, table: Any, copied: Any) -> None:
            statements.append(f"COPY {table.name}")
            insert_rows(session, table, copied)

        insert_rows = projectors.insert_rows
        monkeypatch.setattr(projectors, "insert_rows", copy)
        event.listen(ledger.engine, "before_cursor_execute", capture)
        replay(ledger)
        event.remove(ledger.engine, "before_cursor_execute", capture)

        dropped = [s for s in statements if s.startswith("DROP INDEX") or "DROP CONSTRAINT" in s]
        assert "DROP INDEX public.ix_rm_search_document" in dropped
        assert "ALTER TABLE public.rm_search DROP CONSTRAINT pk_rm_search" in dropped
        # What the projections look rows up by while they write stays.
        for kept in ("ix_rm_registry_namespace_key", "ix_rm_occurrences_occurrence"):
            assert not any(kept in s for s in dropped), kept
        assert not any("pk_rm_registry" in s or "pk_rm_occurrences" in s for s in dropped)
        first_copy = next(i for i, s in enumerate(statements) if s.startswith("COPY"))
        last_copy = max(i for i, s in enumerate(statements) if s.startswith("COPY"))
        built = [
            i for i, s in enumerate(statements) if s.startswith("CREATE INDEX") or "ADD CONST" in s
        ]
        assert len(built) == len(dropped) and min(built) > last_copy
        assert all(i < first_copy for i, s in enumerate(statements) if s in dropped)
        assert _catalog(ledger) == catalog
        assert read_models(ledger) == rows
    finally:
        ledger.close()


def test_a_rebuild_on_postgresql_that_fails_half_way_leaves_rows_indexes_and_positions_as_they_were(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projections.projectors import PROJECTIONS

    ledger = Ledger(postgres_url)
    try:
        ledger.import_records(read_records(str(EXAMPLE)), "alice")
        catch_up(ledger)
        catalog, rows, reached = _catalog(ledger), read_models(ledger), positions(ledger)
        lookups = PROJECTIONS["lookups"]
        pages: list[int] = []

        def fail_on_the_second_page(session: Any, batch: Any) -> None:
            pages.append(len(batch))
            if len(pages) == 2:
                raise KeyboardInterrupt
            type(lookups).process(lookups, session, batch)

        monkeypatch.setattr(lookups, "process", fail_on_the_second_page)
        monkeypatch.setattr("projections.catchup.PAGE_SIZE", 5)
        with pytest.raises(KeyboardInterrupt):
            replay(ledger)
        assert len(pages) == 2
        assert _catalog(ledger) == catalog
        assert read_models(ledger) == rows
        assert positions(ledger) == reached
    finally:
        ledger.close()


def _log_positions(ledger: Ledger) -> list[int]:
    from sqlalchemy import text

    with ledger.engine.connect() as connection:
        return list(connection.execute(text("SELECT id FROM ledger_events ORDER BY id")).scalars())


def test_a_rebuild_on_postgresql_decodes_the_next_page_in_a_thread_and_applies_every_page_in_order(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebuild decodes page k+1 in a thread while the rows of page k are written;
    the projections still see every event once, in log order, page after page, in the
    one transaction (the lookups read the rows the registry and occurrences projections
    wrote for the same page)."""
    import threading

    from projections import catchup
    from projections.projectors import PROJECTIONS

    ledger = Ledger(postgres_url)
    try:
        ledger.import_records(read_records(str(EXAMPLE)), "alice")
        enter(ledger, TEHRAN)
        catch_up(ledger, page_size=3)
        incremental, reached = read_models(ledger), positions(ledger)
        logged = _log_positions(ledger)

        decoders: list[str] = []
        decode = catchup._decode

        def decode_noting_the_thread(app: Any, rows: Any) -> Any:
            decoders.append(threading.current_thread().name)
            return decode(app, rows)

        processed: dict[str, list[list[int]]] = {name: [] for name in PROJECTIONS}
        for name, projection in PROJECTIONS.items():

            def noting(session: Any, batch: Any, name: str = name, p: Any = projection) -> None:
                processed[name].append([place.position for place, _event in batch])
                type(p).process(p, session, batch)

            monkeypatch.setattr(projection, "process", noting)
        monkeypatch.setattr(catchup, "_decode", decode_noting_the_thread)
        monkeypatch.setattr(catchup, "PAGE_SIZE", 4)
        replay(ledger)

        assert decoders and threading.main_thread().name not in decoders
        for pages in processed.values():
            assert [position for page in pages for position in page] == logged
            assert all(0 < len(page) <= 4 for page in pages)
        assert processed["registry"] == processed["lookups"]
        assert read_models(ledger) == incremental
        assert positions(ledger) == reached
    finally:
        ledger.close()


def test_pages_are_read_across_positions_missing_from_the_log(postgres_url: str) -> None:
    """The writer leaves no gaps (ledger.store), and pages are read as ranges of
    positions; a position missing all the same (a row changed by hand) is skipped,
    not taken for the end of the log."""
    from sqlalchemy import text

    from projections.catchup import read_page

    ledger = Ledger(postgres_url)
    try:
        ledger.import_records(read_records(str(EXAMPLE)), "alice")
        logged = _log_positions(ledger)
        with ledger.engine.begin() as connection:
            connection.execute(text("ALTER TABLE ledger_events DISABLE TRIGGER USER"))
            connection.execute(text("UPDATE ledger_events SET id = id + 40 WHERE id > 10"))
            connection.execute(text("ALTER TABLE ledger_events ENABLE TRIGGER USER"))
        moved = logged[:10] + [p + 40 for p in logged[10:]]
        with ledger.recorder.transaction(commit=False) as session:
            for limit in (3, 7, 100):
                read: list[int] = []
                while page := read_page(ledger, session, read[-1] if read else 0, moved[-1], limit):
                    assert len(page) == min(limit, len(moved) - len(read))
                    read.extend(entry.position for entry, _event in page)
                assert read == moved
            assert read_page(ledger, session, 5, 30, 100)[-1][0].position == 10
    finally:
        ledger.close()


def test_a_rebuild_on_postgresql_interrupted_or_failing_while_the_next_page_is_decoded_leaves_everything_as_it_was(  # noqa: E501
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the writing thread, or an error in the decoding one, ends the rebuild
    with nothing of it applied, the error as raised, and no decoding thread left."""
    import threading

    from projections import catchup
    from projections.projectors import PROJECTIONS

    ledger = Ledger(postgres_url)
    try:
        ledger.import_records(read_records(str(EXAMPLE)), "alice")
        catch_up(ledger)
        catalog, rows, reached = _catalog(ledger), read_models(ledger), positions(ledger)
        monkeypatch.setattr(catchup, "PAGE_SIZE", 5)
        decode = catchup._decode
        occurrences = PROJECTIONS["occurrences"]
        pages: list[int] = []

        def interrupted_on_the_third_page(session: Any, batch: Any) -> None:
            pages.append(len(batch))
            if len(pages) == 3:
                raise KeyboardInterrupt
            type(occurrences).process(occurrences, session, batch)

        with monkeypatch.context() as patch:
            patch.setattr(occurrences, "process", interrupted_on_the_third_page)
            with pytest.raises(KeyboardInterrupt):
                replay(ledger)
        assert len(pages) == 3

        decoded: list[int] = []

        def failing_on_the_third_page(app: Any, stored: Any) -> Any:
            decoded.append(len(stored))
            if len(decoded) == 3:
                raise ValueError("not an event")
            return decode(app, stored)

        monkeypatch.setattr(catchup, "_decode", failing_on_the_third_page)
        with pytest.raises(ValueError, match="not an event"):
            replay(ledger)
        assert len(decoded) == 3

        assert not [t for t in threading.enumerate() if t.name.startswith("decode-ahead")]
        assert _catalog(ledger) == catalog
        assert read_models(ledger) == rows
        assert positions(ledger) == reached
    finally:
        ledger.close()


def test_filtered_questions_and_amendment_lookups_start_from_their_selective_index(
    sqlite_url: str,
) -> None:
    """SQLite's planner, given `known_until IS NULL` (true of nearly every row) beside a
    selective condition, walked every current occurrence through the `known_until` index:
    a replay of 1M events scanned the table once per page, and `timeline --agreement`
    grew with the ledger. Every statement here must start from the selective index."""
    import sqlite3

    from sqlalchemy import event

    ledger = Ledger(sqlite_url)
    try:
        ledger.import_records(read_records(str(EXAMPLE)), "alice")
        enter(
            ledger,
            TEHRAN,
        )
        catch_up(ledger)
        statements: list[tuple[str, Any]] = []

        def capture(*args: Any) -> None:
            statement, parameters = args[2], args[3]
            if statement.lstrip().upper().startswith("SELECT") and "rm_occurrences" in statement:
                statements.append((statement, parameters))

        event.listen(ledger.engine, "before_cursor_execute", capture)
        queries = Queries(ledger.url, catch_up=partial(catch_up, ledger))
        queries.timeline(agreement=MOU)
        queries.timeline(actor="ali-larijani")
        queries.endorsements(MOU)
        queries.agreement(MOU)
        replay(ledger)
        event.remove(ledger.engine, "before_cursor_execute", capture)
        assert any("IN (" in s for s, _ in statements)  # the replay's amendment lookup

        db = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
        for statement, parameters in statements:
            plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
            assert not any("known_until" in step for step in plan), (statement, plan)
        db.close()
    finally:
        ledger.close()
