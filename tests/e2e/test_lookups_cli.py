"""Issue 11: the lookups analysts reached for — sources, full-text search, what changed,
the log as known at a moment, a state with its parts, and the kinds `record` takes.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from cli_support import EXAMPLE, Cli, ask

MOU = "iq-ir-security-mou-2025"
SOURCE = "peregraf-2025-08-14"


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def now() -> str:
    return datetime.now(UTC).isoformat()


def example_records() -> list[dict[str, Any]]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


# -- sources -------------------------------------------------------------------------------


def test_sources_lists_each_source_with_how_many_records_cite_it(example: Cli) -> None:
    citing = [r for r in example_records() if r.get("sources")]
    [source] = ask(example, "sources")
    assert source["id"] == SOURCE
    assert source["publisher"] == "Peregraf"
    assert source["published"] == "2025-08-14T10:21"
    assert source["reliability"] == "B"
    assert source["title"].startswith("Iraq, Iran Sign Security Memorandum")
    assert source["cited_by"] == len(citing)


def test_source_shows_every_record_that_cites_it_with_attribution_and_quote(
    example: Cli,
) -> None:
    found = ask(example, "source", SOURCE.upper())
    assert found["id"] == SOURCE and found["publisher"] == "Peregraf"
    citations = {c["id"]: c for c in found["citations"]}
    citing = [r for r in example_records() if r.get("sources")]
    assert len(found["citations"]) == len(citing)
    implementation = citations["implementation-2023-agreement-krg"]
    assert implementation["attribution"] == "Iraqi officials"
    assert implementation["quote"] == "the arrangement has already been largely enforced"
    assert citations["nsa-clarifies-memorandum"]["attribution"] == (
        "Iraqi National Security Advisory"
    )
    [larijani_post] = [c for c in found["citations"] if c["id"].startswith("post-ali-larijani")]
    assert larijani_post["kind"] == "post"
    assert "newly appointed secretary" in larijani_post["quote"]
    assert citations["signing-mou-2025"]["description"].startswith("signed by qasim-al-araji")


def test_a_retracted_record_no_longer_cites_its_source_unless_asked_as_known_before(
    cli: Cli,
) -> None:
    cli("import", EXAMPLE)
    before = ask(cli, "sources")[0]["cited_by"]
    moment = now()
    cli("record", "retraction", "--target", "signing-mou-2025", "--date", "2025-09-01",
        "--reason", "misreported")  # fmt: skip
    assert ask(cli, "sources")[0]["cited_by"] == before - 1
    assert "signing-mou-2025" not in ids(ask(cli, "source", SOURCE)["citations"])
    assert ask(cli, "sources", "--known-at", moment)[0]["cited_by"] == before
    assert "signing-mou-2025" in ids(ask(cli, "source", SOURCE, "--known-at", moment)["citations"])


# -- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "field"),
    [
        ("larijani", "ali-larijani", "name"),
        ("Larij", "ali-larijani", "name"),  # the start of a word
        ("KDPI", "kdpi", "aliases"),
        ("zionist aggression", "sudani-reaffirms-ties", "summary"),
        ("largely enforced", "implementation-2023-agreement-krg", "sources[0].quote"),
        ("railway", "larijani-proposes-railway", "summary"),
        ("Joint Security Agreement", "iq-ir-border-security-2023", "title"),
        ("Peregraf", SOURCE, "publisher"),
        ("passenger railway Development Road", "larijani-proposes-railway", "summary"),
    ],
)
def test_search_finds_records_by_names_aliases_titles_summaries_and_quotes(
    example: Cli, text: str, expected: str, field: str
) -> None:
    found = {row["id"]: row for row in ask(example, "search", text)}
    assert expected in found, list(found)
    assert field in [m["field"] for m in found[expected]["matches"]]


def test_search_needs_every_word_and_says_when_there_is_nothing_to_search_for(
    example: Cli,
) -> None:
    assert ask(example, "search", "railway qwertyuiop") == []
    assert ask(example, "search", "qwertyuiop") == []
    result = example("search", "!!! ...", expect=1)
    assert "nothing to search for" in result.stderr and result.stdout == ""
    # Text that looks like either engine's query syntax is only words.
    assert ask(example, "search", 'railway" OR NOT (x:* & !y)') == []
    assert len(ask(example, "search", "larijani", "--limit", "2")) == 2


def test_search_uses_the_engines_own_full_text_index(example: Cli, shared_url: str) -> None:
    from sqlalchemy import text

    from ledger.database import engine_for

    ask(example, "search", "railway")  # caught up
    with engine_for(shared_url).connect() as connection:
        if connection.dialect.name == "sqlite":
            sql = "SELECT count(*) FROM rm_search WHERE rm_search MATCH 'railway'"
            assert connection.execute(text(sql)).scalar() == 1
            kind = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'rm_search'")
            ).scalar()
            assert "fts5" in kind.lower()
        else:
            sql = "SELECT count(*) FROM rm_search WHERE document @@ to_tsquery('simple', 'railway')"
            assert connection.execute(text(sql)).scalar() == 1
            index = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE tablename = 'rm_search'")
            ).scalars()
            assert any("gin (document)" in definition for definition in index)


def test_search_follows_corrections_and_retractions_on_both_time_axes(cli: Cli) -> None:
    cli("import", EXAMPLE)
    moment = now()
    cli("record", "correction", "--target", "larijani-proposes-railway", "--date", "2025-09-01",
        "--set", '{"summary": "A high-speed monorail to Basra."}', "--reason", "r")  # fmt: skip
    # (its id still holds "railway": the words below are only in the summaries)
    assert "larijani-proposes-railway" not in ids(ask(cli, "search", "development road"))
    assert "larijani-proposes-railway" in ids(ask(cli, "search", "monorail"))
    assert "larijani-proposes-railway" in ids(
        ask(cli, "search", "development road", "--known-at", moment)
    )
    assert ask(cli, "search", "monorail", "--known-at", moment) == []
    cli("record", "retraction", "--target", "larijani-proposes-railway", "--date", "2025-09-02",
        "--reason", "r")  # fmt: skip
    assert ask(cli, "search", "monorail") == []
    # and the index is a read model like any other: replay rebuilds it to the same answers
    before = ask(cli, "search", "larijani")
    cli("replay")
    assert ask(cli, "search", "larijani") == before


def test_a_ledger_from_before_search_is_indexed_at_its_first_query_after_upgrade(
    cli: Cli, db_url: str
) -> None:
    from sqlalchemy import text

    from ledger.database import engine_for
    from ledger.schema import downgrade, upgrade

    cli("import", EXAMPLE)
    engine = engine_for(db_url)
    downgrade(engine, "0003")
    with engine.connect() as connection:
        tables = connection.dialect.get_table_names(connection)
        assert "rm_search" not in tables
        connection.execute(text("SELECT 1"))
    upgrade(engine)
    assert "ali-larijani" in ids(ask(cli, "search", "larijani"))
    assert ask(cli, "sources")[0]["cited_by"] > 0


# -- changes and the log as known at a moment ------------------------------------------------


def test_changes_says_what_was_added_corrected_retracted_and_which_agreements_moved(
    cli: Cli,
) -> None:
    cli("import", EXAMPLE)
    since = now()
    cli("record", "correction", "--target", "larijani-regional-tour-lebanon", "--date",
        "2025-09-01", "--set", '{"date": "2025-08-15"}', "--reason", "on 15 August")  # fmt: skip
    cli("record", "retraction", "--target", "media-call-it-new-agreement", "--date",
        "2025-09-01", "--reason", "no such reports")  # fmt: skip
    cli("record", "ratification", "--id", "iraq-ratifies", "--agreement", MOU, "--by", "IRQ",
        "--date", "2025-09-10")  # fmt: skip
    cli("record", "source", "--id", "later-source", "--title", "A later report")
    until = now()
    cli("record", "actor", "--id", "after-until", "--name", "Too late", "--type", "group")

    learned = ask(cli, "changes", "--since", since, "--until", until)
    assert [(a["kind"], a["id"]) for a in learned["added"]] == [
        ("source", "later-source"),
        ("ratification", "iraq-ratifies"),
    ]
    [corrected] = learned["corrected"]
    assert corrected["target"] == "larijani-regional-tour-lebanon"
    assert corrected["set"] == {"date": "2025-08-15"} and corrected["reason"] == "on 15 August"
    [retracted] = learned["retracted"]
    assert retracted["target"] == "media-call-it-new-agreement"
    [moved] = learned["agreements"]
    assert moved["id"] == MOU
    before = {p["actor"]: p["status"] for p in moved["participants"]["before"]}
    after = {p["actor"]: p["status"] for p in moved["participants"]["after"]}
    assert before["IRQ"] != after["IRQ"] and before["IRN"] == after["IRN"]
    # the same answers `agreement --known-at` gives at either end
    at_since = ask(cli, "agreement", MOU, "--known-at", since)
    assert moved["status"]["before"] == at_since["status"]
    assert before == {p["actor"]: p["status"] for p in at_since["participants"]}

    later = ask(cli, "changes", "--since", until)
    assert ids(later["added"]) == ["after-until"]
    assert later["corrected"] == later["retracted"] == later["agreements"] == []
    shown = cli("changes", "--since", since, "--until", until, env={"COLUMNS": "100"}).stdout
    for word in ("later-source", "iraq-ratifies", "larijani-regional-tour-lebanon", MOU):
        assert word in shown
    assert cli("changes", expect=2).exit_code == 2  # --since is required


def test_log_known_at_shows_only_what_was_recorded_by_then(cli: Cli) -> None:
    cli("import", EXAMPLE)
    imported = ask(cli, "log")
    moment = now()
    cli("record", "actor", "--id", "later", "--name", "Later", "--type", "group")
    assert ask(cli, "log", "--known-at", moment) == imported
    assert len(ask(cli, "log")) == len(imported) + 1
    last = imported[-1]["recorded_at"]
    assert ask(cli, "log", "--known-at", last) == imported
    assert ask(cli, "log", "--known-at", moment, "--limit", "3") == imported[:3]
    assert ask(cli, "log", "--known-at", moment, "--from-position", "5") == imported[4:]


# -- a state and its parts ----------------------------------------------------------------------


def test_include_parts_follows_bodies_transitively_and_people_while_in_post(cli: Cli) -> None:
    cli("import", EXAMPLE)
    cli("record", "statement", "--id", "krg-interior-statement", "--date", "2025-08-20",
        "--by", "krg-interior-ministry", "--stance", "support")  # fmt: skip
    cli("record", "statement", "--id", "larijani-in-2020", "--date", "2020-05-01",
        "--by", "ali-larijani", "--stance", "neutral")  # fmt: skip

    alone = ids(ask(cli, "timeline", "--actor", "IRQ"))
    with_parts = ask(cli, "timeline", "--actor", "IRQ", "--include-parts")
    found = {row["id"]: row for row in with_parts}
    assert set(alone) < set(found)
    # a body of the state, and a body of a body (krg-interior-ministry is part of krg)
    assert found["nsa-clarifies-memorandum"]["via"] == ["iraq-national-security-advisory"]
    assert found["krg-interior-statement"]["via"] == ["krg-interior-ministry"]
    # people whose posts were in the state (the prime minister's has no dates: always)
    assert "mohammed-shia-al-sudani" in found["sudani-reaffirms-ties"]["via"]
    assert "sudani-reaffirms-ties" not in alone

    # Larijani's post in Iran's security council starts in (about) August 2025: his
    # 2025 visits are Iran's through him, his 2020 statement is not.
    iran = ids(ask(cli, "timeline", "--actor", "Iran", "--include-parts"))
    assert "larijani-visits-baghdad-2025-08" in iran
    assert "larijani-in-2020" not in iran
    assert "larijani-visits-baghdad-2025-08" not in ids(ask(cli, "timeline", "--actor", "IRN"))
    assert cli("timeline", "--include-parts", expect=2).exit_code == 2


# -- record --help ----------------------------------------------------------------------------


def test_record_help_lists_every_kind_and_its_fields_from_the_validator(example: Cli) -> None:
    from ledger.records import field_names, required_field_names
    from ledger.vocabulary import KINDS

    shown = example("record", "--help").stdout
    section = shown.split("Kinds and their fields", 1)[1]
    lines = {line.split()[0]: line for line in section.splitlines()[1:] if line.strip()}
    for kind in KINDS:
        assert kind in lines, kind
        words = " ".join(
            line for line in section.splitlines() if line.strip()
        )  # wrapped definitions continue on the next lines
        for field in field_names(kind):
            assert f"--{field}" in words, (kind, field)
    signing = section.split("signing", 1)[1]
    assert "--agreement " in signing and "--signatories..." in signing and "--place?" in signing
    assert set(required_field_names("signing")) == {"date", "agreement", "signatories"}
