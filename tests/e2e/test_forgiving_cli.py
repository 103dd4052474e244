"""Issue 11: the CLI forgives the slips analysts make, and says what they may have meant.

Options after the command, names and aliases for ids, EDTF for --from/--to, `date -Ins`
for --known-at, the export format from the file's extension, tables that fit 80 columns
without breaking an id or a date, CSV, and timeline lines that say who signed for whom.
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_support import EXAMPLE, Cli, ask, invoke, json_of
from click.testing import CliRunner, Result

MOU = "iq-ir-security-mou-2025"
SOURCE = "peregraf-2025-08-14"


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def refused(result: Result, *words: str) -> str:
    """A one-line message on stderr naming `words`, nothing on stdout, no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert result.stdout == ""
    for word in words:
        assert word in message, message
    return message


# -- --db and --user after the command ----------------------------------------------------


def test_db_and_user_may_follow_the_command_and_win_over_those_before_it(
    cli: Cli, db_url: str, another_db_url: str
) -> None:
    import cli as command_line

    cli("import", EXAMPLE)
    invoke(another_db_url, ["init"])  # a ledger too (queries never create one), left empty
    runner = CliRunner()
    after = runner.invoke(command_line.main, ["agreements", "--db", db_url, "--json"], env={})
    assert after.exit_code == 0, after.stderr
    assert MOU in ids(json.loads(after.stdout))
    # The one after the command is the one used, whatever came before it.
    both = runner.invoke(
        command_line.main, ["--db", another_db_url, "agreements", "--json", "--db", db_url]
    )
    assert MOU in ids(json.loads(both.stdout))
    recorded = runner.invoke(
        command_line.main,
        [
            "record",
            "actor",
            "--id",
            "RUS",
            "--name",
            "Russia",
            "--type",
            "state",
            "--user",
            "alice",
            "--db",
            db_url,
        ],
    )
    assert recorded.exit_code == 0, recorded.stderr
    assert json_of(cli("log", "--json"))[-1]["recorded_by"] == "alice"
    assert json_of(invoke(another_db_url, ["log", "--json"])) == []


# -- unknown ids and filter values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named", "suggested"),
    [
        (["timeline", "--kind", "signings"], "'signings'", "signing"),
        (["agreements", "--status", "inforce"], "'inforce'", "in_force"),
        (["agreements", "--party", "russia"], "'russia'", None),
        (["agreement", "nope"], "'nope'", None),
        (["agreement", "iq-ir-security-mou"], "'iq-ir-security-mou'", MOU),
        (["endorsements", "iq-ir-security-mou-2024"], "'iq-ir-security-mou-2024'", MOU),
        (["actor", "larijany"], "'larijany'", "ali-larijani"),
        (["actor", "X"], "'X'", None),
        (["timeline", "--actor", "qasim"], "'qasim'", "qasim-al-araji"),
        (["timeline", "--agreement", "border-security"], "'border-security'", None),
        (["source", "peregraf"], "'peregraf'", SOURCE),
        (["audit", "--format", "pdf"], "'pdf'", None),
    ],
)
def test_an_unknown_id_or_filter_value_exits_1_naming_it_with_the_closest_known_ones(
    example: Cli, args: list[str], named: str, suggested: str | None
) -> None:
    message = refused(example(*args, expect=None), named)
    if suggested:
        assert "did you mean" in message and suggested in message, message


def test_closed_sets_are_matched_in_any_case(example: Cli) -> None:
    assert ids(ask(example, "timeline", "--kind", "SIGNING")) == [
        "signing-2023-03-19",
        "signing-mou-2025",
    ]
    assert ids(ask(example, "agreements", "--status", "Signed")) == ids(
        ask(example, "agreements", "--status", "signed")
    )


def test_ids_resolve_through_names_titles_and_aliases_in_any_case(cli: Cli) -> None:
    cli("import", EXAMPLE)
    cli("record", "actor", "--id", "RUS", "--name", "Russia", "--type", "state")
    cli(
        "record", "agreement", "--id", "new-start", "--title", "Treaty on Measures for the "
        "Further Reduction and Limitation of Strategic Offensive Arms", "--type", "treaty",
        "--parties", "RUS", "--parties", "USA", "--aliases", "New START",
    )  # fmt: skip
    cli("record", "signing", "--agreement", "new-start", "--date", "2010-04-08",
        "--signatories", "RUS", "--signatories", "USA", "--place", "Prague")  # fmt: skip
    assert ask(cli, "actor", "Russia")["id"] == "RUS"
    assert ask(cli, "actor", "russia")["id"] == "RUS"
    assert ask(cli, "actor", "rus")["id"] == "RUS"
    assert ask(cli, "actor", "kdpi")["id"] == ask(cli, "actor", "KDPI")["id"]
    assert ask(cli, "actor", "Ali Larijani")["id"] == "ali-larijani"
    assert ask(cli, "agreement", "New START")["id"] == "new-start"
    assert ask(cli, "agreement", "new start")["status"] == "signed"
    assert ask(cli, "endorsements", "New START")[0]["actor"] == "RUS"
    assert ids(ask(cli, "agreements", "--party", "russia")) == ["new-start"]
    assert ids(ask(cli, "timeline", "--agreement", "New START")) == ids(
        ask(cli, "timeline", "--agreement", "new-start")
    )
    assert "signing-mou-2025" in ids(ask(cli, "timeline", "--actor", "Qasim al-Araji"))
    # A name two records share is refused, naming both, rather than guessed.
    cli("record", "actor", "--id", "rus-duma", "--name", "Russia", "--type", "body")
    refused(cli("actor", "Russia", expect=None), "RUS", "rus-duma")


# -- dates and times ---------------------------------------------------------------------


def test_from_takes_an_edtf_dates_first_day_and_to_its_last(cli: Cli) -> None:
    cli("import", EXAMPLE)
    cli("record", "statement", "--id", "june-2023", "--date", "2023-06-20", "--by", "IRQ",
        "--stance", "neutral")  # fmt: skip
    cli("record", "statement", "--id", "march-2025", "--date", "2025-03-01", "--by", "IRQ",
        "--stance", "neutral")  # fmt: skip
    until_june = ids(ask(cli, "timeline", "--to", "2023-06"))
    assert "june-2023" in until_june and "signing-2023-03-19" in until_june
    assert "march-2025" not in until_june
    assert until_june == ids(ask(cli, "timeline", "--to", "2023-06-30"))
    from_2025 = ids(ask(cli, "timeline", "--from", "2025"))
    assert "march-2025" in from_2025 and "june-2023" not in from_2025
    assert from_2025 == ids(ask(cli, "timeline", "--from", "2025-01-01"))
    assert ids(ask(cli, "timeline", "--from", "2023", "--to", "2023")) == ids(
        ask(cli, "timeline", "--from", "2023-01-01", "--to", "2023-12-31")
    )
    # Back to front: refused, not an empty answer that reads as "nothing happened".
    backwards = cli("timeline", "--from", "2025", "--to", "2024", expect=1)
    assert "from 2025-01-01 and to 2024-12-31" in backwards.stderr
    assert "Traceback" not in backwards.stderr
    one_month = ids(ask(cli, "timeline", "--from", "2025-03-01", "--to", "2025-03"))
    assert "march-2025" in one_month and "june-2023" not in one_month
    result = cli("timeline", "--from", "2023-13", expect=2)
    assert "--from" in result.stderr and "Traceback" not in result.stderr


def test_known_at_takes_what_date_dash_capital_i_ns_prints(example: Cli) -> None:
    # `date -Ins`: a comma before nanoseconds, and a +00:00 offset.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S,%f") + "789+00:00"
    assert ask(example, "agreements", "--known-at", now) == ask(example, "agreements")
    assert ask(example, "timeline", "--known-at", "2000-01-01T00:00:00,123456789+02:00") == []
    assert ask(example, "log", "--known-at", "2000-01-01T00:00:00,5Z") == []
    assert len(ask(example, "log", "--known-at", now)) == len(ask(example, "log"))


# -- export ------------------------------------------------------------------------------


def test_export_picks_its_format_from_the_files_extension(
    cli: Cli, tmp_path: Path, another_db_url: str
) -> None:
    cli("import", EXAMPLE)
    as_json = tmp_path / "rt.json"
    cli("export", "-o", as_json)
    records = json.loads(as_json.read_text(encoding="utf-8"))
    assert isinstance(records, list) and records[0]["kind"] == "source"
    as_jsonl = tmp_path / "rt.jsonl"
    cli("export", "-o", as_jsonl)
    lines = as_jsonl.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records
    as_yaml = tmp_path / "rt.yml"
    cli("export", "-o", as_yaml)
    assert as_yaml.read_text(encoding="utf-8").startswith("- ")
    invoke(another_db_url, ["import", as_json])
    assert json_of(invoke(another_db_url, ["agreement", MOU, "--json"])) == ask(
        cli, "agreement", MOU
    )
    mismatch = tmp_path / "other.json"
    refused(cli("export", "--format", "yaml", "-o", mismatch, expect=None), "json", "yaml")
    assert not mismatch.exists()


# -- tables, CSV and JSON ------------------------------------------------------------------

# Per command, the JSON answer's words (ids, dates, codes) that its table always shows.
TABLES: dict[str, tuple[list[str], Any]] = {
    "agreements": (["agreements"], lambda d: [(r["id"], r["status"]) for r in d]),
    "agreement": (
        ["agreement", MOU],
        lambda d: (
            [(p["actor"], p["status"]) for p in d["participants"]]
            + [(s["occurrence"], s["date"]) for s in d["signings"]]
        ),
    ),
    "endorsements": (
        ["endorsements", MOU],
        lambda d: [(r["date"], r["actor"], r["act"]) for r in d],
    ),
    "timeline": (["timeline"], lambda d: [(r["date"], r["id"]) for r in d]),
    "actor": (
        ["actor", "ali-larijani"],
        lambda d: [(r["date"], r["id"]) for r in d["occurrences"]],
    ),
    "sources": (["sources"], lambda d: [(r["id"], r["reliability"]) for r in d]),
    "source": (["source", SOURCE], lambda d: [(r["id"],) for r in d["citations"]]),
    "search": (["search", "larijani"], lambda d: [(r["kind"], r["id"]) for r in d]),
    "changes": (
        ["changes", "--since", "2000-01-01", "--until", "2999-01-01"],
        lambda d: [(r["kind"], r["id"]) for r in d["added"]],
    ),
    "log": (["log", "--limit", "12"], lambda d: [(r["type"], r["data"]["id"]) for r in d]),
}


@pytest.mark.parametrize("command", list(TABLES))
def test_at_80_columns_tables_fit_and_never_break_an_id_or_a_date(
    example: Cli, command: str
) -> None:
    args, words_of = TABLES[command]
    answer = ask(example, *args)
    shown = example(*args, env={"COLUMNS": "80"}).stdout
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, shown
    words = [word for row in words_of(answer) for word in row]
    assert words, "the answer should not be empty"
    for word in words:
        assert any(word in line for line in lines), f"{word!r} is broken or missing:\n{shown}"
    wide = example(*args, env={"COLUMNS": "300"}).stdout
    assert all(any(word in line for line in wide.splitlines()) for word in words)


# Where a command's CSV is one of the tables it shows (an agreement's: its participants).
CSV_WORDS: dict[str, Any] = {
    "agreement": lambda d: [(p["actor"], p["status"]) for p in d["participants"]],
}


@pytest.mark.parametrize("command", list(TABLES))
def test_every_query_table_is_also_csv_and_json(example: Cli, command: str) -> None:
    args, words_of = TABLES[command]
    words_of = CSV_WORDS.get(command, words_of)
    answer = ask(example, *args)
    assert json_of(example(*args, "--format", "json")) == answer
    rows = list(csv.reader(io.StringIO(example(*args, "--format", "csv").stdout)))
    header, body = rows[0], rows[1:]
    assert len(set(header)) == len(header) and body
    cells = {cell for row in body for cell in row}
    for word in (word for row in words_of(answer) for word in row):
        assert word in cells or any(word in c.split(", ") for c in cells), (word, header)


def test_a_long_title_wraps_between_words_at_80_columns(cli: Cli) -> None:
    cli("import", EXAMPLE)
    title = " ".join(["Comprehensive"] * 12)
    cli("record", "agreement", "--id", "long-one", "--title", title, "--type", "treaty")
    shown = cli("agreements", env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert shown.count("Comprehensive") == 12  # every word whole, none cut in two
    assert "long-one" in shown


# -- the timeline's words -----------------------------------------------------------------

TIMELINE_KEYS = {"id", "kind", "date", "earliest", "latest", "certain", "summary"}
TIMELINE_KEYS |= {"description", "stance", "actors", "agreements", "sources"}


def test_timeline_json_has_the_contracts_keys_and_signings_say_who_signed_for_whom(
    example: Cli,
) -> None:
    rows = {row["id"]: row for row in ask(example, "timeline")}
    for row in rows.values():
        assert set(row) >= TIMELINE_KEYS, TIMELINE_KEYS - set(row)
        assert row["description"]
        assert (row["stance"] is not None) == (row["kind"] == "statement")
    signing = rows["signing-mou-2025"]
    assert signing["summary"] is None
    assert signing["description"].startswith(
        "signed by qasim-al-araji for IRQ and ali-larijani for IRN"
    )
    assert rows["signing-2023-03-19"]["description"] == "signed by IRQ and IRN"
    assert rows["sudani-reaffirms-ties"]["stance"] == "reaffirm"
    assert rows["nsa-clarifies-memorandum"]["stance"] == "clarify"
    # A record's own summary is its description.
    assert rows["sudani-reaffirms-ties"]["description"] == rows["sudani-reaffirms-ties"]["summary"]
    shown = example("timeline", "--kind", "statement", env={"COLUMNS": "200"}).stdout
    assert "reaffirm: Reaffirmed Iraq" in shown and "clarify: The memorandum" in shown
    shown = example("timeline", "--kind", "signing", env={"COLUMNS": "200"}).stdout
    assert "signed by qasim-al-araji for IRQ and ali-larijani for IRN" in shown
