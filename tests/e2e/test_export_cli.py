"""`ledger export` round-trips through `ledger import`, in every format, on both engines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from cli_support import EXAMPLE, MULTILATERAL, Cli, invoke, json_of

AMENDMENTS = """
- kind: correction
  id: signing-place-corrected
  date: 2025-08-20
  target: signing-mou-2025
  set: {place: Tehran, overseen_by: [mohammed-shia-al-sudani, masoud-pezeshkian]}
  reason: The first report placed the signing in the wrong city.
  sources: [peregraf-2025-08-14]
- kind: retraction
  id: media-report-retracted
  date: 2025-08-21
  target: media-call-it-new-agreement
  reason: Not a statement by any identifiable outlet.
"""


def _questions(url: str) -> dict[str, object]:
    """The answers a round trip must preserve, asked through the command line."""

    def ask(*args: str) -> object:
        return json_of(invoke(url, [*args, "--json"]))

    answers: dict[str, object] = {}
    for agreement in (
        "iq-ir-security-mou-2025",
        "iq-ir-border-security-2023",
        "shared-rivers-treaty",
    ):
        for as_of in ("2025-08-12", "2013-06-01"):
            answers[f"agreement {agreement} {as_of}"] = ask(
                "agreement", agreement, "--as-of", as_of
            )
        answers[f"endorsements {agreement}"] = ask("endorsements", agreement)
    answers["agreements"] = ask("agreements")
    answers["timeline"] = ask("timeline")
    answers["timeline larijani"] = ask("timeline", "--actor", "ali-larijani")
    answers["actor larijani"] = ask("actor", "ali-larijani")
    return answers


def _data(url: str) -> list[dict]:
    return [entry["data"] for entry in json_of(invoke(url, ["log", "--json"]))]


@pytest.fixture
def rich_ledger(cli: Cli, tmp_path: Path) -> None:
    """The example, a multilateral treaty, records without ids, a correction, a retraction."""
    amendments = tmp_path / "amendments.yaml"
    amendments.write_text(AMENDMENTS, encoding="utf-8")
    cli("import", EXAMPLE, MULTILATERAL)
    cli(
        "record",
        "visit",
        "--date",
        "2025-09~",
        "--visitor",
        "qasim-al-araji",
        "--host",
        "irn",
        "--purpose",
        "Follow-up talks\non the memorandum",
        "--sources",
        "peregraf-2025-08-14",
    )
    cli("import", amendments)


@pytest.mark.parametrize("fmt", ["yaml", "json", "jsonl"])
def test_export_then_import_into_a_fresh_database_rebuilds_the_same_ledger(
    cli: Cli, rich_ledger: None, db_url: str, another_db_url: str, tmp_path: Path, fmt: str
) -> None:
    exported = cli("export", "--format", fmt).stdout
    path = tmp_path / f"export.{fmt}"
    path.write_text(exported, encoding="utf-8")

    invoke(another_db_url, ["import", path])

    assert _data(another_db_url) == _data(db_url)
    assert _questions(another_db_url) == _questions(db_url)


def test_export_writes_every_record_in_log_order_in_the_chosen_format(
    cli: Cli, rich_ledger: None, tmp_path: Path
) -> None:
    data = [entry["data"] for entry in json_of(cli("log", "--json"))]
    as_json = json.loads(cli("export", "--format", "json").stdout)
    as_jsonl = [json.loads(line) for line in cli("export", "--format", "jsonl").stdout.splitlines()]
    as_yaml = yaml.safe_load(cli("export").stdout)  # yaml is the default
    assert as_json == as_jsonl == as_yaml == data
    kinds = {record["kind"] for record in data}
    assert {"correction", "retraction", "post"} <= kinds

    out = tmp_path / "out.jsonl"
    cli("export", "--format", "jsonl", "-o", out)
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == data


def test_importing_an_export_into_the_same_ledger_adds_nothing(
    cli: Cli, rich_ledger: None, tmp_path: Path
) -> None:
    before = json_of(cli("log", "--json"))
    path = tmp_path / "export.yaml"
    cli("export", "-o", path)
    result = cli("import", path)
    assert re.search(r"\b0 added\b", result.stderr), result.stderr
    assert json_of(cli("log", "--json")) == before


def test_an_empty_ledger_exports_something_import_accepts(
    cli: Cli, another_db_url: str, tmp_path: Path
) -> None:
    cli("init")
    for fmt in ("yaml", "json", "jsonl"):
        path = tmp_path / f"empty.{fmt}"
        path.write_text(cli("export", "--format", fmt).stdout, encoding="utf-8")
        invoke(another_db_url, ["import", path])
    assert _data(another_db_url) == []


def test_a_generated_ledger_with_many_amendments_round_trips_through_jsonl(
    cli: Cli, db_url: str, another_db_url: str, tmp_path: Path
) -> None:
    from synthetic_ledger import generate_records

    generated = tmp_path / "generated.jsonl"
    generated.write_text(
        "".join(json.dumps(r) + "\n" for r in generate_records(seed=23, occurrences=200)),
        encoding="utf-8",
    )
    cli("import", generated)
    exported = tmp_path / "export.jsonl"
    cli("export", "--format", "jsonl", "-o", exported)
    invoke(another_db_url, ["import", exported])

    assert _data(another_db_url) == _data(db_url)
    for url in (db_url, another_db_url):
        again = invoke(url, ["import", generated])  # the original file is still "already in"
        assert re.search(r"\b0 added\b", again.stderr), again.stderr
    for args in (
        ["timeline"],
        ["agreements"],
        ["agreement", "agr-3"],
        ["endorsements", "agr-5"],
        ["timeline", "--actor", "FRA", "--as-of", "2015-01-01"],
    ):
        assert json_of(invoke(another_db_url, [*args, "--json"])) == json_of(
            invoke(db_url, [*args, "--json"])
        )
