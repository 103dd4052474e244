"""Never lose or pollute a ledger (issue 11): output files, keys, Ctrl-C, first use.

`-o FILE` (export, audit, checkpoint) never writes over the ledger's own database or its
-wal/-shm files however the path is spelled, never follows a symbolic link, refuses an
existing file unless --force, and writes through a temporary file renamed into place.
`keygen` never replaces a key. Ctrl-C says what was written. Four imports into a new
database at once all succeed. (The demo's own tests are in test_output_cli.py; the
refusal to create a ledger for a mistyped path is in test_unopenable_cli.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import EXAMPLE, REPO, Cli, invoke, json_of
from click.testing import CliRunner, Result

OUTPUT_COMMANDS = [["export"], ["audit"], ["checkpoint"]]


def one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], result.stderr


@pytest.fixture
def sqlite_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A SQLite ledger holding the example, in the current folder: d.db."""
    from ledger.database import dispose_engines

    monkeypatch.chdir(tmp_path)
    invoke("sqlite:///d.db", ["import", EXAMPLE])
    yield tmp_path / "d.db"
    dispose_engines()


def _events(url: str) -> list[dict[str, object]]:
    return json_of(invoke(url, ["log", "--json"]))


# -- -o never writes over the ledger ---------------------------------------------------


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_output_never_replaces_the_ledgers_own_files_however_named(
    sqlite_ledger: Path, command: list[str]
) -> None:
    url = "sqlite:///d.db"
    before = _events(url)
    os.link(sqlite_ledger, "hard-link.db")
    (sqlite_ledger.parent / "sub").mkdir()
    spellings = [
        "d.db",
        "./d.db",
        str(sqlite_ledger),
        "sub/../d.db",
        "hard-link.db",
        "d.db-wal",
        "d.db-shm",
    ]
    for spelling in spellings:
        for force in ([], ["--force"]):
            result = invoke(url, [*command, "-o", spelling, *force], expect=None)
            if spelling == "hard-link.db" or spelling.endswith(("-wal", "-shm")):
                assert result.exit_code == 1, (spelling, result.output)
            else:
                one_line_error(result, "the ledger's own database file")
    assert _events(url) == before
    assert "ok: 39 events" in invoke(url, ["verify"]).stdout


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_output_never_follows_a_symbolic_link_even_with_force(
    cli: Cli, tmp_path: Path, command: list[str]
) -> None:
    cli("import", EXAMPLE)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "out.txt"
    link.symlink_to(victim)
    for force in ([], ["--force"]):
        one_line_error(cli(*command, "-o", link, *force, expect=1), "symbolic link")
    assert victim.read_text() == "precious\n" and link.is_symlink()


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_output_refuses_an_existing_file_unless_forced(
    cli: Cli, tmp_path: Path, command: list[str]
) -> None:
    cli("import", EXAMPLE)
    target = tmp_path / "out.txt"
    target.write_text("keep me\n")
    one_line_error(cli(*command, "-o", target, expect=1), "exists", "--force")
    assert target.read_text() == "keep me\n"
    assert "wrote" in cli(*command, "-o", target, "--force").stderr
    written = target.read_text()
    if command == ["audit"]:  # its generated_at differs from one run to the next
        assert written.startswith("# Audit report")
    else:
        assert written == cli(*command).stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_written_to_a_file_round_trips_and_leaves_no_temporary_file(
    cli: Cli, another_db_url: str, tmp_path: Path
) -> None:
    cli("import", EXAMPLE)
    target = tmp_path / "rt.yaml"
    cli("export", "-o", target)
    invoke(another_db_url, ["import", target])
    assert len(_events(another_db_url)) == 39
    assert not list(tmp_path.glob(".rt.yaml.*"))


def test_a_failed_or_interrupted_export_leaves_the_old_file_and_no_partial_one(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger import exporting

    cli("import", EXAMPLE)
    target = tmp_path / "old.yaml"
    target.write_text("old content\n")
    original = exporting.write_records

    for failure in (OSError(28, "No space left on device"), KeyboardInterrupt()):

        def half_then_fail(records, fmt, stream, failure=failure):  # type: ignore[no-untyped-def]
            stream.write("- half of a record\n")
            raise failure

        monkeypatch.setattr(exporting, "write_records", half_then_fail)
        result = cli("export", "-o", target, "--force", expect=None)
        assert result.exit_code in (1, 130), result.output
        assert "Traceback" not in result.output
        assert target.read_text() == "old content\n"
        assert sorted(p.name for p in tmp_path.iterdir() if "old.yaml" in p.name) == ["old.yaml"]
    monkeypatch.setattr(exporting, "write_records", original)
    cli("export", "-o", target, "--force")
    assert target.read_text().startswith("- kind: source")


# -- keygen ------------------------------------------------------------------------------


def test_keygen_never_replaces_either_key_file(tmp_path: Path) -> None:
    import cli as cli_module

    runner = CliRunner()
    base = tmp_path / "signer"
    first = runner.invoke(cli_module.main, ["keygen", "log.example", "--out", str(base)])
    assert first.exit_code == 0, first.output
    secret, public = Path(f"{base}.key"), Path(f"{base}.pub")
    kept = {secret: secret.read_bytes(), public: public.read_bytes()}
    again = runner.invoke(cli_module.main, ["keygen", "log.example", "--out", str(base)])
    assert again.exit_code == 1 and "not overwriting a key" in again.stderr
    assert {p: p.read_bytes() for p in kept} == kept  # both files unchanged
    assert oct(secret.stat().st_mode & 0o777) == "0o600"

    # Only the public half there: refused, and no secret key is left without its pair.
    lone = tmp_path / "lone"
    Path(f"{lone}.pub").write_text("someone else's key\n")
    result = runner.invoke(cli_module.main, ["keygen", "x", "--out", str(lone)])
    assert result.exit_code == 1 and f"{lone}.pub exists" in result.stderr
    assert not Path(f"{lone}.key").exists()
    assert Path(f"{lone}.pub").read_text() == "someone else's key\n"

    # A link where the secret key would go is never followed. A link to a file that exists
    # would be refused as an existing file anyway: the link leads nowhere yet, so only the
    # refusal to follow it keeps the secret key from being written at its target.
    victim = tmp_path / "victim"
    linked = tmp_path / "linked"
    Path(f"{linked}.key").symlink_to(victim)
    result = runner.invoke(cli_module.main, ["keygen", "x", "--out", str(linked)])
    assert result.exit_code == 1 and f"{linked}.key exists" in result.stderr
    assert not victim.exists() and not Path(f"{linked}.pub").exists()


# -- Ctrl-C ------------------------------------------------------------------------------


def _interrupt(monkeypatch: pytest.MonkeyPatch, target: object, name: str) -> None:
    """Ctrl-C (a KeyboardInterrupt, as Python raises for SIGINT) when `name` is called."""

    def interrupted(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(target, name, interrupted)


def test_ctrl_c_before_an_import_commits_writes_nothing_and_says_so(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.application import Ledger

    invoke(db_url, ["init"])
    _interrupt(monkeypatch, Ledger, "_decide_batch")
    result = invoke(db_url, ["import", EXAMPLE], expect=130)
    assert result.stderr.strip() == "interrupted: nothing was written"
    monkeypatch.undo()
    assert _events(db_url) == []


def test_ctrl_c_after_an_import_commits_says_what_was_imported_and_queries_catch_up(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projections import catchup

    _interrupt(monkeypatch, catchup, "catch_up")
    result = invoke(db_url, ["import", EXAMPLE], expect=130)
    assert result.stderr.strip() == (
        "interrupted: 39 records imported; the read models will catch up at the next query"
    )
    monkeypatch.undo()
    state = json_of(invoke(db_url, ["agreement", "iq-ir-security-mou-2025", "--json"]))
    assert state["status"] == "signed"


@pytest.mark.parametrize("committed", [True, False], ids=["after", "before"])
def test_ctrl_c_during_the_commit_is_told_from_the_ledger_itself(
    db_url: str, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    """Ctrl-C landing inside the commit call: the ledger is asked whether it went through."""
    from sqlalchemy.orm import Session

    invoke(db_url, ["init"])
    commit = Session.commit
    calls = []

    def interrupted_commit(session: Session) -> None:
        calls.append(session)
        if len(calls) == 1:  # the import's own commit
            if committed:
                commit(session)
            raise KeyboardInterrupt
        commit(session)

    monkeypatch.setattr(Session, "commit", interrupted_commit)
    result = invoke(db_url, ["import", EXAMPLE], expect=130)
    monkeypatch.undo()
    if committed:
        assert "39 records imported; the read models will catch up" in result.stderr
        assert len(_events(db_url)) == 39
    else:
        assert result.stderr.strip() == "interrupted: nothing was written"
        assert _events(db_url) == []


def test_a_real_sigint_after_the_commit_exits_130_saying_what_was_imported(
    tmp_path: Path,
) -> None:
    """The signal itself, in a child process: SIGINT sent while it is catching up."""
    db = tmp_path / "ledger.db"
    script = (
        "import os, signal, sys\n"
        "import cli\n"
        "from projections import catchup\n"
        "def catch_up(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    signal.pause()\n"
        "catchup.catch_up = catch_up\n"
        f"sys.argv = ['ledger', '--db', 'sqlite:///{db}', 'import', {str(EXAMPLE)!r}]\n"
        "cli.main()\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert child.returncode == 130, child.stderr
    assert "39 records imported; the read models will catch up at the next query" in child.stderr
    assert "Traceback" not in child.stderr
    assert len(_events(f"sqlite:///{db}")) == 39


# -- first use under concurrency ---------------------------------------------------------


def test_four_imports_into_a_new_database_at_once_all_succeed(
    fresh_url: str, tmp_path: Path
) -> None:
    """Each child waits at a gate after importing everything, so all four open the new
    database at the same moment; none may see a half-made schema."""
    gate = tmp_path / "gate"
    files = []
    for n in range(4):
        path = tmp_path / f"batch-{n}.jsonl"
        path.write_text(
            "".join(
                f'{{"kind": "source", "id": "s-{n}-{i}", "title": "Report {i}"}}\n'
                for i in range(50)
            )
        )
        files.append(path)
    script = (
        "import os, sys, time\n"
        "import cli, ledger.application, projections.catchup, ledger.schema\n"
        f"while not os.path.exists({str(gate)!r}):\n"
        "    time.sleep(0.001)\n"
        "cli.main()\n"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, "--db", fresh_url, "import", str(files[n])],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    gate.write_text("go")
    outcomes = [(child.wait(timeout=300), child.stderr.read()) for child in children]
    for child in children:
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()  # type: ignore[union-attr]
    assert [status for status, _ in outcomes] == [0, 0, 0, 0], outcomes
    assert not any("schema" in err or "Traceback" in err for _, err in outcomes), outcomes
    assert len(_events(fresh_url)) == 200


def test_ctrl_c_during_a_replay_says_the_read_models_will_catch_up(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projections import catchup

    cli("import", EXAMPLE)
    # While pages are applied, after the read models were emptied (SQLite: committed
    # empty; PostgreSQL: in the rebuild's one transaction, which rolls back).
    _interrupt(monkeypatch, catchup, "_apply")
    result = cli("replay", expect=130)
    assert result.stderr.strip().endswith(
        "interrupted: the rebuild stopped part way; the read models will catch up at the next query"
    )
    monkeypatch.undo()
    assert json_of(cli("agreement", "iq-ir-security-mou-2025", "--json"))["status"] == "signed"
