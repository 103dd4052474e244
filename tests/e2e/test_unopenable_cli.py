"""No traceback, ever: a database or file that cannot be used is one clear line, exit 1.

Issue 11. Every command is run against every kind of database that cannot be opened —
not a URL, an empty URL, a missing folder, a folder, a file that is not a database, an
unknown driver, a PostgreSQL server that does not answer, a PostgreSQL database that
does not exist or holds no ledger, a mistyped SQLite path — and must exit 1 with one
line on stderr. Then each failure the issue observed gets a test of its own: read-only
media, `-o` into a missing folder, huge positions and integers, nested or non-UTF-8
checkpoint and key files, a write lock held too long, the database failing during a
catch-up (a connection cut on PostgreSQL, a full disk on SQLite), a full disk, an HTML
audit with the year 0050, a YAML merge key, and 5,000-digit values in messages.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import EXAMPLE, Cli, invoke, json_of
from click.testing import CliRunner, Result

PG_URL = os.environ.get("LEDGER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HUGE = "9" * 5000

#: Every command that opens the ledger, and whether it may create one.
COMMANDS: list[tuple[list[str], bool]] = [
    (["init"], True),
    (["import", str(EXAMPLE)], True),
    (["record", "source", "--id", "src-x", "--title", "A report"], True),
    (["agreements"], False),
    (["agreement", "iq-ir-security-mou-2025"], False),
    (["endorsements", "iq-ir-security-mou-2025"], False),
    (["timeline"], False),
    (["actor", "IRQ"], False),
    (["log"], False),
    (["replay"], False),
    (["audit"], False),
    (["checkpoint"], False),
    (["verify"], False),
    (["prove", "1"], False),
    (["export"], False),
    (["sources"], False),
    (["source", "peregraf-2025-08-14"], False),
    (["search", "Larijani"], False),
    (["changes", "--since", "2025-01-01"], False),
    # The server opens the ledger before it listens: a refusal, never a server of nothing.
    (["serve", "--port", "0"], False),
]


def run(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    import cli

    return CliRunner().invoke(cli.main, ["--db", url, *args], env=env or {})


def assert_one_line(result: Result, *fragments: str, status: int = 1) -> str:
    """Exit `status`, exactly one line on stderr naming the fragments, no traceback."""
    shown = f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.exit_code == status, shown
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output, shown
    lines = result.stderr.strip().splitlines()
    if status == 1:  # a usage error (2) starts with click's usage lines; the error is last
        assert len(lines) == 1, shown
    line = lines[-1]
    assert line.startswith("Error: "), shown
    for fragment in fragments:
        assert fragment in line, shown
    return line


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_reachable() -> bool:
    try:
        import psycopg

        admin = PG_URL.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(admin, connect_timeout=3):
            return True
    except Exception:  # any failure to connect means: no server here
        return False


@pytest.fixture
def empty_pg_database() -> Iterator[str]:
    """A PostgreSQL database with nothing in it: no ledger schema."""
    if not pg_reachable():
        pytest.skip(f"no PostgreSQL server reachable at {PG_URL}")
    import psycopg

    from ledger.database import dispose_engines

    admin = PG_URL.replace("postgresql+psycopg", "postgresql")
    name = f"ledger_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    dispose_engines()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def unopenable(tmp_path: Path, empty_pg: str | None) -> dict[str, tuple[str, str, str]]:
    """kind -> (URL, what a command that may create a ledger says, what the others say)."""
    (tmp_path / "garbage.db").write_bytes(b"this is not a database\n" * 200)
    kinds = {
        "not a URL": ("hist.db", "takes a database URL", "takes a database URL"),
        "empty URL": ("", "takes a database URL", "takes a database URL"),
        "missing folder": (
            f"sqlite:///{tmp_path / 'nowhere' / 'hist.db'}",
            "does not exist",
            "no ledger at",
        ),
        "a folder": (f"sqlite:///{tmp_path}", "is a folder", "is a folder"),
        "not a database": (
            f"sqlite:///{tmp_path / 'garbage.db'}",
            "is not a ledger database",
            "is not a ledger database",
        ),
        "unknown driver": ("nosuchdb://host/x", "no driver", "no driver"),
        "server down": (
            f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test",
            "cannot reach the database server",
            "cannot reach the database server",
        ),
        "mistyped path": (f"sqlite:///{tmp_path / 'hist.dbx'}", "", "no ledger at"),
    }
    if empty_pg is not None:
        missing = PG_URL.rsplit("/", 1)[0] + f"/ledger_missing_{uuid.uuid4().hex[:8]}"
        kinds["no such PostgreSQL database"] = (missing, "does not exist", "does not exist")
        kinds["PostgreSQL database without a ledger"] = (empty_pg, "", "no ledger at")
    return kinds


def test_every_command_refuses_every_unopenable_database_in_one_line(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    empty_pg = request.getfixturevalue("empty_pg_database") if pg_reachable() else None
    kinds = unopenable(tmp_path, empty_pg)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*")}
    checked = 0
    for kind, (url, creating_says, others_say) in kinds.items():
        for args, creates in COMMANDS:
            says = creating_says if creates else others_say
            if not says:  # a command that creates a ledger may create this one
                continue
            result = run(url, *args)
            try:
                assert_one_line(result, says)
            except AssertionError as error:
                raise AssertionError(f"{kind}: ledger {' '.join(args)}: {error}") from None
            checked += 1
    assert checked >= 150
    # Not one file made (not even hist.dbx), and the file that is not a database untouched.
    assert {path: path.read_bytes() for path in tmp_path.rglob("*")} == before


def test_a_mistyped_sqlite_path_is_never_created_except_by_init_import_and_record(
    tmp_path: Path,
) -> None:
    for args, creates in COMMANDS:
        path = tmp_path / f"hist-{args[0]}.dbx"
        result = run(f"sqlite:///{path}", *args)
        if creates:
            assert result.exit_code == 0, result.output
            assert path.exists()
        else:
            assert_one_line(result, f"no ledger at {path}")
            assert not path.exists()


# -- read-only media --------------------------------------------------------------------


def _ledger_with_stale_read_models(url: str) -> None:
    """The example, caught up; then one more record the read models have not seen."""
    from ledger.application import Ledger
    from ledger.records import validate_record

    invoke(url, ["import", EXAMPLE])
    app = Ledger(url)
    record = validate_record({"kind": "source", "id": "late-source", "title": "Late"})
    app.import_records([(None, record)])
    app.close()


def _read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on a read-only medium: a read-only bind mount as root, else chmod."""
    folder = tmp_path / "medium"
    folder.mkdir()
    yield folder
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], check=False)
        if mounted.returncode != 0:
            pytest.skip("root, but cannot bind-mount a read-only folder here")
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield folder
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_a_ledger_on_read_only_media_is_verified_and_read_and_refuses_writes_in_one_line(
    tmp_path: Path,
) -> None:
    from ledger.database import dispose_engines

    media = _read_only_folder(tmp_path)
    folder = next(media)
    url = f"sqlite:///{folder / 'ledger.db'}"
    invoke(url, ["import", EXAMPLE])
    before = json_of(invoke(url, ["log", "--json"]))
    dispose_engines()  # the WAL is checkpointed and removed, as when a process ends
    next(media)  # now read-only
    try:
        with pytest.raises(OSError):
            (folder / "probe").write_text("x")
        assert "ok: 39 events" in invoke(url, ["verify"]).stdout
        assert json_of(invoke(url, ["log", "--json"])) == before
        assert json_of(invoke(url, ["agreements", "--json"]))
        assert_one_line(run(url, "record", "source", "--id", "x", "--title", "T"), "read-only")
        assert_one_line(run(url, "replay"), "read-only")
    finally:
        dispose_engines()
        next(media, None)


def test_a_ledger_opened_read_only_by_uri_answers_reads_and_refuses_writes_in_one_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.db"
    _ledger_with_stale_read_models(f"sqlite:///{path}")
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert "ok: 40 events" in invoke(read_only, ["verify"]).stdout
    assert len(json_of(invoke(read_only, ["log", "--json"]))) == 40
    assert_one_line(
        run(read_only, "record", "source", "--id", "s-new", "--title", "T"), "read-only"
    )
    # The read models are one record behind, and catching up would write.
    assert_one_line(run(read_only, "agreements"), "is read-only")
    assert_one_line(run(f"sqlite:///file:{tmp_path}/none.db?mode=ro&uri=true", "log"), "no ledger")


# -- files and numbers ------------------------------------------------------------------


def test_output_into_a_missing_folder_is_one_line(cli: Cli, tmp_path: Path) -> None:
    cli("import", EXAMPLE)
    for args in (["export"], ["audit"], ["checkpoint"]):
        target = tmp_path / "nowhere" / "out.txt"
        result = cli(*args, "-o", target, expect=1)
        assert_one_line(result, f"the folder {target.parent} does not exist")


def test_positions_past_any_log_are_a_usage_error_not_a_traceback(cli: Cli) -> None:
    cli("import", EXAMPLE)
    for args in (
        ["log", "--from-position", "99999999999999999999"],
        ["log", "--limit", "99999999999999999999"],
        ["replay", "--to-position", "99999999999999999999"],
        ["prove", "99999999999999999999"],
        ["log", "--from-position", HUGE],
    ):
        result = cli(*args, expect=2)
        assert "Traceback" not in result.output
        assert result.stderr.strip().splitlines()[-1].startswith("Error: Invalid value")
        assert len(result.stderr) < 600  # the 5,000 digits are cut
    assert json_of(cli("log", "--from-position", "9223372036854775807", "--json")) == []


def test_integers_longer_than_python_reads_are_refused_in_one_line(
    cli: Cli, tmp_path: Path
) -> None:
    record = '{"kind": "source", "id": "s-big", "title": "T", "reliability": ' + HUGE + "}"
    files = {
        "big.json": f"[{record}]",
        "big.jsonl": record + "\n",
        "big.yaml": f"- kind: source\n  id: s-big\n  title: T\n  reliability: {HUGE}\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        line = assert_one_line(cli("import", tmp_path / name, expect=1), name, "5,000 digits")
        assert len(line) < 300
    line = assert_one_line(
        cli("record", "source", "--id", "s-big", "--title", "T", "--tags", f"[{HUGE}]", expect=1),
        "command line",
        "tags",
        "5,000 digits",
    )
    assert len(line) < 300
    (tmp_path / "cp.json").write_text('{"size": ' + HUGE + ', "root": "00", "timestamp": ""}')
    line = assert_one_line(cli("verify", "--checkpoint", tmp_path / "cp.json", expect=1), "cp.json")
    assert len(line) < 300
    assert json_of(cli("log", "--json")) == []  # nothing written


def test_nested_or_non_utf8_checkpoint_and_key_files_are_refused_in_one_line(
    cli: Cli, tmp_path: Path
) -> None:
    cli("import", EXAMPLE)
    deep = tmp_path / "deep.json"
    deep.write_text("{" + '"a":[' * 100_000 + "]" * 100_000 + "}")
    assert_one_line(cli("verify", "--checkpoint", deep, expect=1), "deep.json", "nested")
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"size": 1, "root": "caf\xe9"}')
    assert_one_line(cli("prove", "1", "--checkpoint", latin, expect=1), "not UTF-8", "0xe9")
    key = tmp_path / "bad.key"
    key.write_bytes(b"PRIVATE+KEY+\xff\xfe\n")
    assert_one_line(cli("checkpoint", "--sign", key, expect=1), "bad.key", "not UTF-8")
    cli("checkpoint", "-o", tmp_path / "cp.json")
    pub = tmp_path / "bad.pub"
    pub.write_bytes(b"\xff" * 10)
    result = cli("verify", "--checkpoint", tmp_path / "cp.json", "--pubkey", pub, expect=1)
    assert_one_line(result, "bad.pub", "not UTF-8")
    nested_key = tmp_path / "nested.key"
    nested_key.write_text("[" * 100_000)
    assert_one_line(cli("checkpoint", "--sign", nested_key, expect=1), "signer key")


# -- the database failing under a command -----------------------------------------------


def test_a_query_that_waits_too_long_for_the_write_lock_says_so_in_one_line(
    db_url: str,
) -> None:
    from sqlalchemy import create_engine, text

    from ledger.database import dispose_engines

    _ledger_with_stale_read_models(db_url)  # the query will have to catch up: a writer
    dispose_engines()
    holder = create_engine(db_url)
    with holder.connect() as connection:
        if holder.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("LOCK TABLE ledger_tracking IN EXCLUSIVE MODE"))
            connection.execute(text("LOCK TABLE ledger_events IN EXCLUSIVE MODE"))
        env = {"LEDGER_LOCK_TIMEOUT": "0.2"}
        assert_one_line(run(db_url, "agreements", env=env), "held the write lock", "try again")
        dispose_engines()
        result = run(db_url, "record", "source", "--id", "s-late", "--title", "T", env=env)
        assert_one_line(result, "held the write lock", "nothing was written")
        connection.rollback()
    holder.dispose()
    dispose_engines()
    assert len(json_of(invoke(db_url, ["log", "--json"]))) == 40  # s-late never written
    dispose_engines()
    assert_one_line(run(db_url, "log", env={"LEDGER_LOCK_TIMEOUT": "soon"}), "LEDGER_LOCK_TIMEOUT")


def _fail_during_catch_up(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The database fails under the catch-up: on PostgreSQL the server cuts the
    connection; on SQLite (no connection to cut) the disk fills up."""
    from projections import catchup

    original = catchup._lock

    def failing(session):  # type: ignore[no-untyped-def]
        from sqlalchemy import text

        if url.startswith("postgresql"):
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        else:
            session.execute(text("PRAGMA max_page_count = 1"))
            session.execute(text("CREATE TABLE filler (x)"))
        original(session)

    monkeypatch.setattr(catchup, "_lock", failing)


def test_the_database_failing_during_catch_up_is_one_line_and_an_import_still_stands(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.database import dispose_engines

    invoke(db_url, ["init"])
    _fail_during_catch_up(monkeypatch, db_url)
    reason = "was lost" if db_url.startswith("postgresql") else "is full"
    result = run(db_url, "import", str(EXAMPLE))
    assert_one_line(  # the import committed and stands; the catch-up needs attention
        result,
        "39 records imported; the read models will catch up at the next query "
        "(catching up failed: ",
        reason,
    )
    _ledger_query_fails = run(db_url, "agreements")
    assert_one_line(_ledger_query_fails, reason)
    monkeypatch.undo()
    dispose_engines()  # SQLite: the connection that was made full
    assert len(json_of(invoke(db_url, ["log", "--json"]))) == 39
    assert json_of(invoke(db_url, ["agreement", "iq-ir-security-mou-2025", "--json"]))


def test_a_full_disk_is_reported_as_full_not_busy(tmp_path: Path) -> None:
    """A real full disk (a 1 MB tmpfs) where root may mount one; SQLite's own limit else."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
            check=False,
            capture_output=True,
        ).returncode
        == 0
    )
    try:
        url = f"sqlite:///{folder / 'ledger.db'}"
        invoke(url, ["init"])
        big = tmp_path / "big.jsonl"
        with big.open("w") as handle:
            for n in range(3000):
                summary = f"occurrence {n} " + "x" * 400
                handle.write(
                    json.dumps({"kind": "source", "id": f"s-{n}", "title": summary}) + "\n"
                )
        if not mounted:
            from sqlalchemy import event

            from ledger.database import engine_for

            event.listen(
                engine_for(url),
                "connect",
                lambda dbapi, _: dbapi.execute("PRAGMA max_page_count = 300"),
            )
        line = assert_one_line(run(url, "import", str(big)), "is full", "nothing was written")
        assert "busy" not in line
    finally:
        from ledger.database import dispose_engines

        dispose_engines()
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_database_driver_error_is_explained_for_each_engine() -> None:
    """Errors no test can cause cheaply, explained from the drivers' own exceptions."""
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    from ledger.database import explain

    url = "postgresql+psycopg://u:secret@db.example/ledger"
    full = OperationalError("INSERT", {}, psycopg.errors.DiskFull("could not extend file"))
    assert "is full" in str(explain(full, url))
    cut = OperationalError("SELECT", {}, psycopg.errors.AdminShutdown("terminating connection"))
    assert "was lost" in str(explain(cut, url))
    assert "secret" not in str(explain(cut, url))
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = 13  # type: ignore[attr-defined]
    assert "is full" in str(explain(OperationalError("INSERT", {}, error), "sqlite:///x.db"))


# -- input the issue saw crash ----------------------------------------------------------


def test_an_html_audit_with_the_year_0050_is_written(cli: Cli) -> None:
    cli("import", EXAMPLE)
    cli(
        "record",
        "statement",
        "--id",
        "ancient-statement",
        "--date",
        "0050",
        "--by",
        "IRQ",
        "--stance",
        "support",
        "--about",
        "iq-ir-security-mou-2025",
        "--summary",
        "An ancient claim",
    )
    html = cli("audit", "--format", "html").stdout
    assert "ancient-statement" in html and "<svg" in html


def test_a_yaml_merge_key_is_refused_naming_it(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(
        "- &base {kind: source, id: s1, title: T}\n- <<: {kind: source, title: U}\n  id: s2\n"
    )
    assert_one_line(cli("import", path, expect=1), "merge.yaml", "line 2", "merge keys (<<)")


def test_long_values_in_messages_are_cut(cli: Cli, tmp_path: Path) -> None:
    cli("import", EXAMPLE)
    for args in (
        ["agreement", HUGE],
        ["actor", HUGE],
        ["record", "source", "--id", HUGE, "--title", "T"],
        ["timeline", "--from", HUGE],
    ):
        result = cli(*args, expect=None)
        assert result.exit_code in (1, 2), result.output
        assert "Traceback" not in result.output
        assert HUGE not in result.stderr and len(result.stderr) < 800, result.stderr


def test_an_unknown_projection_is_a_domain_error_and_a_bug_is_never_swallowed(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("import", EXAMPLE)
    assert_one_line(cli("replay", "--projection", "nope", expect=1), "unknown projection 'nope'")
    from projections.queries import Queries

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise KeyError("a bug")

    monkeypatch.setattr(Queries, "agreements", broken)
    result = cli("agreements", expect=1)
    assert isinstance(result.exception, KeyError)  # shown as the bug it is, not hidden
