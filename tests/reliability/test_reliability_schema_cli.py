"""Schema safety at the CLI: `ledger init` migrates an old schema without losing an event,
and every command refuses a database written by a newer version with a clear message.

(tests/integration/test_schema.py covers the same ground through the Python API, and the
downgrade/upgrade round trips.) An "old schema" is made the way an older program would
have left it: a ledger written at head, then downgraded — the events table is the same
in every revision, so its rows are exactly what the older version stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from reliability_support import (
    Databases,
    assert_clean_refusal,
    ledger_state,
    occurrences,
    registry_records,
    write_records,
)
from sqlalchemy import text

from cli import main
from ledger.database import engine_for
from ledger.schema import current_revision, downgrade, head_revision

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "ledger" / "examples" / "iraq-iran-2025.yaml"
NEWER = "9999_from_a_later_version"


def cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", url, *[str(a) for a in args]])


def ok(url: str, *args: str) -> Result:
    result = cli(url, *args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def _written_ledger(databases: Databases, tmp_path: Path) -> str:
    url = databases.fresh()
    ok(url, "init")
    ok(url, "import", str(write_records(tmp_path / "registry.yaml", registry_records())))
    for part in range(3):  # several write transactions, amendments among them
        records = occurrences(f"old{part}", 100, seed=part)
        ok(url, "import", str(write_records(tmp_path / f"part{part}.jsonl", records)))
    return url


@pytest.mark.parametrize("old", ["0001", "0002"])
def test_ledger_init_on_an_old_schema_migrates_without_losing_an_event(
    databases: Databases, tmp_path: Path, old: str
) -> None:
    url = _written_ledger(databases, tmp_path)
    before = ledger_state(url, with_ids=True)
    timeline = ok(url, "timeline", "--json").stdout
    agreement = ok(url, "agreement", "agr-1", "--json").stdout
    checkpoint = tmp_path / "checkpoint.json"
    ok(url, "checkpoint", "-o", str(checkpoint))
    # As the program of the old schema wrote it: before migration 0007 a ledger had no
    # origin of its own (the downgrade forgets it; the upgrade names the ledger with the
    # name its old notes carry), and a JSON checkpoint named none.
    written = json.loads(checkpoint.read_text())
    checkpoint.write_text(json.dumps({k: v for k, v in written.items() if k != "origin"}))

    downgrade(engine_for(url), old)
    assert current_revision(engine_for(url)) == old
    refused = cli(url, "timeline")
    assert_clean_refusal(refused, "outdated", "ledger init")

    migrated = ok(url, "init")
    assert f"from {old} to {head_revision()}" in migrated.stderr
    after = ledger_state(url, with_ids=True)
    assert after.log == before.log and after.ids == before.ids and after.heads == before.heads
    assert json.loads(ok(url, "verify", "--checkpoint", str(checkpoint), "--json").stdout)["ok"]
    assert ok(url, "timeline", "--json").stdout == timeline
    assert ok(url, "agreement", "agr-1", "--json").stdout == agreement
    assert ledger_state(url).read_models == before.read_models

    # The log is append-only again, enforced by the database as before the downgrade.
    refusal = pytest.raises(Exception, match="append-only")  # the driver's own class
    with refusal, engine_for(url).begin() as connection:
        connection.execute(text("DELETE FROM ledger_events WHERE id = 1"))
    assert "up to date" in ok(url, "init").stderr


COMMANDS = [
    ["init"],
    ["import", str(EXAMPLE)],
    ["record", "source", "--id", "late-source", "--title", "A later report"],
    ["agreements"],
    ["agreement", "iq-ir-security-mou-2025", "--json"],
    ["endorsements", "iq-ir-security-mou-2025"],
    ["timeline", "--json"],
    ["actor", "IRQ"],
    ["log", "--json"],
    ["replay"],
    ["audit", "--format", "json"],
    ["checkpoint"],
    ["verify"],
    ["prove", "1"],
    ["export"],
]  # not `demo`: it builds a ledger of its own and never opens the one --db names


def test_every_command_refuses_a_database_written_by_a_newer_version(
    databases: Databases, tmp_path: Path
) -> None:
    url = databases.fresh()
    ok(url, "init")
    ok(url, "import", str(EXAMPLE))
    with engine_for(url).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
    before = ledger_state(url, with_ids=True)

    commands = [c for c in COMMANDS if c[0] in main.commands]
    assert len(commands) >= len(COMMANDS) - 2, "the CLI lost commands this test expects"
    for args in commands:
        result = cli(url, *args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), args
        assert "Traceback" not in result.output, args
        assert (
            "Error: this database was written by a newer version of the ledger "
            f"(schema {NEWER}, this program knows up to {head_revision()}); "
            "upgrade the program"
        ) in result.stderr, (args, result.stderr)
        assert result.stdout == "", args
    assert ledger_state(url, with_ids=True) == before
    assert current_revision(engine_for(url)) == NEWER
