"""`ledger replay` rebuilds exactly what incremental catch-up built, and reads are never stale.

Issue 3. Every test runs on SQLite and on PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import EXAMPLE, MULTILATERAL, REPO, Cli, json_of
from synthetic_ledger import generate_records


def read_models(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, ordered by primary key."""
    from sqlalchemy import select

    from ledger.database import engine_for
    from projections import models

    dump: dict[str, list[tuple[Any, ...]]] = {}
    with engine_for(url).connect() as connection:
        for table in models.metadata.sorted_tables:
            assert table.name.startswith("rm_")
            query = select(table).order_by(*table.primary_key.columns)
            dump[table.name] = [tuple(row) for row in connection.execute(query)]
    return dump


def log_size(cli: Cli) -> int:
    return len(json_of(cli("log", "--json")))


def import_in_chunks(cli: Cli, tmp_path: Path, records: list[dict], chunks: int) -> None:
    """Several imports, each followed by the catch-up the command does."""
    size = -(-len(records) // chunks)
    for number in range(chunks):
        path = tmp_path / f"chunk-{number}.jsonl"
        chunk = records[number * size : (number + 1) * size]
        path.write_text("".join(json.dumps(r) + "\n" for r in chunk), encoding="utf-8")
        cli("import", path)


@pytest.fixture
def example_ledger(cli: Cli, tmp_path: Path) -> int:
    cli("import", EXAMPLE)
    cli("import", MULTILATERAL)
    amendments = tmp_path / "amendments.yaml"
    amendments.write_text(
        "- {kind: correction, date: 2025-08-20, target: signing-mou-2025, "
        "set: {place: Tehran}, reason: r}\n"
        "- {kind: retraction, date: 2025-08-21, target: rivers-deu-withdraws, reason: r}\n",
        encoding="utf-8",
    )
    cli("import", amendments)
    return log_size(cli)


@pytest.fixture
def generated_ledger(cli: Cli, tmp_path: Path) -> int:
    records = generate_records(seed=11, occurrences=250)
    import_in_chunks(cli, tmp_path, records, chunks=6)
    size = log_size(cli)
    assert size == len(records)
    return size


@pytest.mark.parametrize("ledger_fixture", ["example_ledger", "generated_ledger"])
def test_replay_rebuilds_exactly_what_incremental_catch_up_built(
    cli: Cli, db_url: str, request: pytest.FixtureRequest, ledger_fixture: str
) -> None:
    size = request.getfixturevalue(ledger_fixture)
    incremental = read_models(db_url)
    assert incremental["rm_occurrences"] and incremental["rm_registry"]

    result = cli("replay")
    assert str(size) in result.stderr

    assert read_models(db_url) == incremental


@pytest.mark.parametrize("ledger_fixture", ["example_ledger", "generated_ledger"])
def test_replay_to_a_position_then_a_query_catches_up_to_the_same_rows(
    cli: Cli, db_url: str, request: pytest.FixtureRequest, ledger_fixture: str
) -> None:
    size = request.getfixturevalue(ledger_fixture)
    incremental = read_models(db_url)
    timeline = json_of(cli("timeline", "--json"))

    cli("replay", "--to-position", size // 2)
    partial = read_models(db_url)
    assert partial != incremental
    assert max(row[0] for row in partial["rm_occurrences"]) <= size // 2  # vid = position

    assert json_of(cli("timeline", "--json")) == timeline  # the query caught up first
    assert read_models(db_url) == incremental


def test_replaying_one_projection_leaves_the_others_and_ends_identical(
    cli: Cli, db_url: str, generated_ledger: int
) -> None:
    incremental = read_models(db_url)
    cli("replay", "--projection", "occurrences")
    assert read_models(db_url) == incremental
    result = cli("replay", "--projection", "no-such-projection", expect=1)
    assert "no-such-projection" in result.stderr


def test_replay_writes_progress_to_stderr_not_stdout(cli: Cli, example_ledger: int) -> None:
    result = cli("replay")
    assert result.stdout == ""
    assert result.stderr


# -- no stale reads --------------------------------------------------------------------


def test_a_query_sees_what_another_process_imported_after_the_last_query(
    cli: Cli, db_url: str
) -> None:
    cli("import", MULTILATERAL)
    assert json_of(cli("agreements", "--json"))[0]["id"] == "shared-rivers-treaty"

    env = {**os.environ, "LEDGER_DB": db_url}
    subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "import", str(EXAMPLE)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )

    agreements = {row["id"] for row in json_of(cli("agreements", "--json"))}
    assert agreements == {
        "shared-rivers-treaty",
        "iq-ir-security-mou-2025",
        "iq-ir-border-security-2023",
    }
    assert json_of(cli("agreement", "iq-ir-security-mou-2025", "--json"))["status"] == "signed"
