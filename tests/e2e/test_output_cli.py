"""Output hygiene and the demo, through the `ledger` command.

Issue 3: `--json` output parses as JSON and holds nothing else, even when the query has
to catch the read models up first; `demo` builds the example and prints its answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_support import EXAMPLE, Cli, invoke, json_of

MOU = "iq-ir-security-mou-2025"
LARIJANI = [
    "larijani-regional-tour-lebanon",
    "larijani-visits-baghdad-2025-08",
    "signing-mou-2025",
    "sudani-larijani-meeting-2025-08",
    "larijani-conveys-greetings",
    "larijani-proposes-railway",
]


JSON_COMMANDS = [
    ("agreements",),
    ("agreement", MOU),
    ("endorsements", MOU),
    ("timeline",),
    ("timeline", "--actor", "ali-larijani", "--as-of", "2025-08-12"),
    ("actor", "ali-larijani"),
    ("log",),
    ("verify",),
]


def test_json_output_is_json_and_nothing_else_even_when_catching_up(
    db_url: str, cli: Cli, subtests: pytest.Subtests
) -> None:
    from ledger.application import Ledger
    from ledger.reading import read_records
    from ledger.records import validate_record

    app = Ledger(db_url)
    try:
        app.import_records(read_records(str(EXAMPLE)), "writer")
        for number, args in enumerate(JSON_COMMANDS):
            with subtests.test(args=" ".join(args)):
                # a write that left the read models behind: the query catches up, quietly
                record = {"kind": "actor", "id": f"envoy-{number}", "name": "E", "type": "person"}
                app.import_records([(None, validate_record(record))], "writer")
                result = cli(*args, "--json")
                json.loads(result.stdout)  # nothing but JSON on stdout
    finally:
        app.close()


def test_json_is_one_line_for_a_program_and_indented_for_a_person(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    import cli as command_line

    cli("import", str(EXAMPLE))
    piped = cli("agreement", MOU, "--json").stdout
    assert piped.count("\n") == 1 and json.loads(piped)["id"] == MOU

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    command_line.emit(json.loads(piped), "json", print)
    shown = terminal.getvalue()
    assert shown.startswith('{\n  "') and json.loads(shown) == json.loads(piped)


def test_a_command_leaves_no_sqlite_write_ahead_log_behind(sqlite_url: str) -> None:
    """Each command closes its connections as it ends: the last one to close checkpoints
    SQLite's write-ahead log and deletes it, so the next process opens the database
    without re-reading a log as large as the last import or replay wrote."""
    from cli_support import invoke

    path = Path(sqlite_url.removeprefix("sqlite:///"))
    invoke(sqlite_url, ["import", str(EXAMPLE)])
    assert path.exists() and not Path(f"{path}-wal").exists()
    invoke(sqlite_url, ["replay"])
    assert not Path(f"{path}-wal").exists()


# -- demo ------------------------------------------------------------------------------------


def _demo_url(result: object) -> str:
    """The database the demo says it built (on stderr: `explore it: ledger --db URL …`)."""
    found = re.search(r"--db (sqlite:///\S+)", result.stderr)  # type: ignore[attr-defined]
    assert found, result.stderr  # type: ignore[attr-defined]
    return found.group(1)


def test_demo_prints_the_memorandum_its_endorsements_and_larijanis_timeline(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = cli("demo")
    out = result.stdout
    assert "iq-ir-security-mou-2025" in out
    assert "signed" in out
    for actor in ("qasim-al-araji", "ali-larijani", "mohammed-shia-al-sudani"):
        assert actor in out
    for act in ("approved", "oversaw"):
        assert act in out
    assert "Larijani" in out
    for occurrence in LARIJANI:
        assert occurrence in out
    built = _demo_url(result)
    assert built != db_url
    assert json_of(invoke(built, ["agreement", MOU, "--json"]))["status"] == "signed"


def test_demo_never_touches_the_ledger_named_by_db_or_ledger_db(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from click.testing import CliRunner

    import cli as cli_module

    cli("import", EXAMPLE)
    before = json_of(cli("log", "--json"))
    (tmp_path / "cwd").mkdir()
    (tmp_path / "temp").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    assert "leaves --db/$LEDGER_DB alone" in cli("demo").stderr  # --db given
    result = CliRunner().invoke(cli_module.main, ["demo"], env={"LEDGER_DB": db_url})
    assert result.exit_code == 0, result.output
    assert json_of(cli("log", "--json")) == before  # not one demo event appended
    assert list((tmp_path / "cwd").iterdir()) == []  # nothing left in the current folder
    built = sorted((tmp_path / "temp").glob("ledger-demo-*/demo-ledger.db"))
    assert len(built) == 2  # each run built its own in a new temporary folder


def test_demo_builds_a_new_file_and_refuses_one_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import cli as cli_module
    from ledger.database import dispose_engines

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDGER_DB", raising=False)
    runner = CliRunner()
    result = runner.invoke(cli_module.main, ["demo", "--db-file", "demo.db"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\b39\b", result.stdout), result.stdout
    dispose_engines()
    built = (tmp_path / "demo.db").read_bytes()

    again = runner.invoke(cli_module.main, ["demo", "--db-file", "demo.db"])
    assert again.exit_code == 1
    assert again.stderr.strip() == (
        "Error: demo.db exists; the demo builds a new ledger: name a new file"
    )
    assert (tmp_path / "demo.db").read_bytes() == built  # not replaced
    Path("other.db-wal").write_bytes(b"")  # a companion alone counts as a ledger too
    assert runner.invoke(cli_module.main, ["demo", "--db-file", "other.db"]).exit_code == 1
    assert not Path("other.db").exists()
