"""Output hygiene and the demo, through the `ledger` command.

Issue 3: `--json` output parses as JSON and holds nothing else, even when the query has
to catch the read models up first; `demo` builds the example and prints its answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_support import EXAMPLE, Cli, json_of

MOU = "iq-ir-security-mou-2025"
LARIJANI = [
    "larijani-regional-tour-lebanon",
    "larijani-visits-baghdad-2025-08",
    "signing-mou-2025",
    "sudani-larijani-meeting-2025-08",
    "larijani-conveys-greetings",
    "larijani-proposes-railway",
]


def ask(cli: Cli, *args: str) -> object:
    return json_of(cli(*args, "--json"))


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


def test_demo_prints_the_memorandum_its_endorsements_and_larijanis_timeline(cli: Cli) -> None:
    out = cli("demo").stdout
    assert "iq-ir-security-mou-2025" in out
    assert "signed" in out
    for actor in ("qasim-al-araji", "ali-larijani", "mohammed-shia-al-sudani"):
        assert actor in out
    for act in ("approved", "oversaw"):
        assert act in out
    assert "Larijani" in out
    for occurrence in LARIJANI:
        assert occurrence in out
    assert ask(cli, "agreement", MOU)["status"] == "signed"  # it built this ledger


def test_demo_without_db_builds_a_fresh_sqlite_file(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    import cli as cli_module

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDGER_DB", raising=False)
    from ledger.database import dispose_engines

    runner = CliRunner()
    for _ in range(2):  # replaced, not added to, the second time
        dispose_engines()  # as a new process would: no connection to the old file
        result = runner.invoke(cli_module.main, ["demo", "--db-file", "demo.db"])
        assert result.exit_code == 0, result.output
        assert re.search(r"\b39\b", result.stdout), result.stdout
    assert (tmp_path / "demo.db").exists()
