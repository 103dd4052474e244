"""Tamper evidence with no blind spots: an attacker with write access to the database.

Each test tampers with a real database file (SQLite) or database (PostgreSQL) as an
attacker would — append-only triggers dropped or disabled, rows edited with SQL — and
expects every command that vouches for the log (its rows, leaf hashes, proofs, audits,
tree heads and read models) to notice, name what is wrong, and exit 1 without a
traceback; and the commands that mend (`replay`, `rebuild-heads`) to mend.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import EXAMPLE, MULTILATERAL, Cli, json_of
from click.testing import Result
from sqlalchemy import create_engine, text
from tampering_support import (
    MEMORANDUM,
    SIGNING,
    as_attacker,
    move_signing_to_tehran,
    rewrite_consistently,
    stored_state,
    stream_id,
)

from ledger.checkpoints import Checkpoint, sign_checkpoint
from ledger.merkle import leaf_hash
from ledger.store import canonical_bytes


def _refused(result: Result, *words: str) -> None:
    """Exit 1 with a message (never a traceback) containing every word."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def example(cli: Cli) -> Cli:
    cli("import", str(EXAMPLE))
    return cli


@pytest.fixture
def checkpoint_file(example: Cli, tmp_path: Path) -> Path:
    path = tmp_path / "cp.json"
    example("checkpoint", "-o", str(path))
    return path


# -- 1. proofs, logs and audits never vouch for an altered row ------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["prove", str(SIGNING), "--checkpoint", "{cp}"],
        ["prove", str(SIGNING), "--json"],
        ["log", "--json"],
        ["log"],
        ["log", "--from-position", str(SIGNING), "--limit", "1"],
        ["audit"],
        ["audit", MEMORANDUM, "--format", "json"],
        ["export"],
    ],
    ids=lambda c: " ".join(c),
)
def test_a_row_altered_behind_its_leaf_hash_is_refused_where_it_would_be_vouched_for(
    example: Cli, db_url: str, checkpoint_file: Path, command: list[str]
) -> None:
    with as_attacker(db_url, "ledger_events") as conn:
        move_signing_to_tehran(conn)
    result = example(*[c.format(cp=checkpoint_file) for c in command], expect=None)
    _refused(result, f"position {SIGNING}")
    shown = result.stdout.replace(" ", "").replace('"', "")
    assert "place:Tehran" not in shown and "place|Tehran" not in shown


def test_rows_before_the_altered_one_are_still_shown(example: Cli, db_url: str) -> None:
    with as_attacker(db_url, "ledger_events") as conn:
        move_signing_to_tehran(conn)
    shown = json_of(example("log", "--json", "--limit", str(SIGNING - 1)))
    assert [e["position"] for e in shown] == list(range(1, SIGNING))
    example("prove", "3")


def test_a_row_rewritten_with_its_leaf_is_refused_by_prove_and_audit_against_the_heads(
    example: Cli, db_url: str
) -> None:
    with as_attacker(db_url, "ledger_events") as conn:
        forged = move_signing_to_tehran(conn)
        row = conn.execute(
            text(
                "SELECT originator_id, originator_version, topic, recorded_at "
                "FROM ledger_events WHERE id = :p"
            ),
            {"p": SIGNING},
        ).one()
        leaf = leaf_hash(
            canonical_bytes(SIGNING, row[3], stream_id(row[0]), row[1], row[2], forged)
        )
        conn.execute(
            text("UPDATE ledger_events SET leaf_hash = :h WHERE id = :p"),
            {"h": leaf, "p": SIGNING},
        )
    _refused(example("prove", str(SIGNING), expect=None), "tree head")
    _refused(example("audit", expect=None), "root")
    # Which leaf changed is not known; the transaction's tree head is what disagrees.
    _refused(example("verify", expect=None), "tree head at size 39")


# -- 2. read models checked against the log ------------------------------------------


def test_a_forged_read_model_fails_verify_naming_table_and_record_and_replay_mends_it(
    example: Cli, db_url: str
) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE rm_registry SET record = REPLACE(record, :a, :b) WHERE key = :k"),
            {"a": '"title":"Iraq', "b": '"title":"FORGED Iraq', "k": MEMORANDUM},
        )
    engine.dispose()
    assert json_of(example("agreement", MEMORANDUM, "--json"))["title"].startswith("FORGED")
    result = example("verify", expect=None)
    _refused(result, "rm_registry", MEMORANDUM, "ledger replay")
    data = json_of(example("verify", "--json", expect=1))
    assert data["ok"] is False and data["first_bad_position"] is None
    assert any("rm_registry" in p for p in data["problems"])
    example("verify", "--log-only")  # the log itself is sound
    example("replay")
    assert "read models equal" in example("verify").stdout
    assert not json_of(example("agreement", MEMORANDUM, "--json"))["title"].startswith("FORGED")


def test_an_occurrence_row_added_by_hand_is_named(example: Cli, db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rm_occurrence_agreements VALUES (31, 'forged-pact')"))
    engine.dispose()
    _refused(example("verify", expect=None), "rm_occurrence_agreements", "forged-pact")


def test_a_tracking_position_moved_back_says_run_ledger_replay(example: Cli, db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_tracking"))
        conn.execute(
            text("INSERT INTO ledger_tracking VALUES ('registry', 20), ('occurrences', 20)")
        )
    engine.dispose()
    _refused(example("verify", expect=None), "tracking", "ledger replay")
    _refused(example("agreements", expect=None), "tracking", "run `ledger replay`")
    _refused(example("import", str(MULTILATERAL), expect=None), "run `ledger replay`")
    example("replay")
    example("verify")
    assert {a["id"] for a in json_of(example("agreements", "--json"))} >= {MEMORANDUM}


# -- 3. deleted tree heads -----------------------------------------------------------


def test_deleted_tree_heads_are_flagged_writes_refuse_and_rebuild_heads_mends_them(
    example: Cli, db_url: str, checkpoint_file: Path
) -> None:
    with as_attacker(db_url, "ledger_events_merkle") as conn:
        conn.execute(text("DELETE FROM ledger_events_merkle"))
    _refused(example("verify", expect=None), "tree heads were deleted", "ledger rebuild-heads")
    _refused(example("checkpoint", expect=None), "tree heads were deleted", "rebuild-heads")
    write = example("import", str(MULTILATERAL), expect=None)
    _refused(write, "tree heads were deleted", "nothing was written", "ledger rebuild-heads")
    assert "run the same command again" not in write.stderr
    assert "rebuilt 1 tree heads" in example("rebuild-heads").stderr
    example("verify", "--checkpoint", str(checkpoint_file))
    assert json_of(example("checkpoint"))["size"] == 39
    example("import", str(MULTILATERAL))
    example("verify", "--checkpoint", str(checkpoint_file))


def test_rebuild_heads_refuses_to_launder_an_altered_row(example: Cli, db_url: str) -> None:
    with as_attacker(db_url, "ledger_events", "ledger_events_merkle") as conn:
        conn.execute(text("DELETE FROM ledger_events_merkle"))
        move_signing_to_tehran(conn)
    _refused(example("rebuild-heads", expect=None), f"position {SIGNING}")
    _refused(example("verify", expect=None), "tree heads were deleted")


def test_rebuild_heads_refuses_a_log_that_no_longer_extends_a_trusted_checkpoint(
    example: Cli, db_url: str, checkpoint_file: Path
) -> None:
    rewrite_consistently(db_url)
    with as_attacker(db_url, "ledger_events_merkle") as conn:
        conn.execute(text("DELETE FROM ledger_events_merkle"))
    result = example("rebuild-heads", "--checkpoint", str(checkpoint_file), expect=None)
    _refused(result, "no longer an extension")


# -- 4. a state stored as text -------------------------------------------------------


def test_a_state_stored_as_text_is_reported_at_its_position(example: Cli, db_url: str) -> None:
    with as_attacker(db_url, "ledger_events") as conn:
        if conn.dialect.name == "postgresql":
            # A bytea column holds no text: the attacker retypes the column (every row).
            conn.execute(
                text(
                    "ALTER TABLE ledger_events ALTER COLUMN state TYPE text "
                    "USING convert_from(state, 'UTF8')"
                )
            )
            first = 1
        else:
            conn.execute(text("UPDATE ledger_events SET state = CAST(state AS TEXT) WHERE id = 7"))
            first = 7
    result = example("verify", expect=None)
    _refused(result, f"position {first}: its state is stored as text")
    assert f"fails verification at position {first}" in result.stderr
    _refused(example("log", "--json", expect=None), f"position {first}", "stored as text")


# -- 5. a consistent rewrite, caught only by a checkpoint ----------------------------


def test_a_consistent_rewrite_is_named_as_no_longer_an_extension_without_a_false_position(
    example: Cli, db_url: str, checkpoint_file: Path
) -> None:
    old = json_of(example("checkpoint"))
    rewrite_consistently(db_url)
    example("replay")
    example("verify")  # leaves, heads and read models all agree: only the checkpoint knows
    result = example("verify", "--checkpoint", str(checkpoint_file), expect=None)
    _refused(result, "no longer an extension of the checkpoint", "size 39", old["root"])
    assert "position" not in result.stderr
    data = json_of(example("verify", "--checkpoint", str(checkpoint_file), "--json", expect=1))
    assert data["ok"] is False and data["first_bad_position"] is None
    since = example("verify", "--since", str(checkpoint_file), expect=None)
    _refused(since, "no longer an extension of the checkpoint")


# -- 6. signed notes name this ledger ------------------------------------------------


def test_a_note_signed_for_another_origin_is_refused(example: Cli, tmp_path: Path) -> None:
    example("keygen", "desk", "--out", str(tmp_path / "desk"))
    head = json_of(example("checkpoint"))
    signer = (tmp_path / "desk.key").read_text().strip()
    ours = tmp_path / "ours.note"
    example("checkpoint", "--sign", str(tmp_path / "desk.key"), "-o", str(ours))
    origin = ours.read_text().split("\n", 1)[0]
    assert ours.read_text().startswith(f"{origin}\n39\n")
    example("verify", "--checkpoint", str(ours), "--pubkey", str(tmp_path / "desk.pub"))
    # The same key, the same size and root: only the origin says it is another log's.
    cp = Checkpoint(head["size"], bytes.fromhex(head["root"]))
    theirs = tmp_path / "theirs.note"
    theirs.write_text(sign_checkpoint(cp, "another-ledger.example/log", signer))
    for command in (
        ["verify", "--checkpoint", str(theirs), "--pubkey", str(tmp_path / "desk.pub")],
        ["prove", "3", "--checkpoint", str(theirs), "--pubkey", str(tmp_path / "desk.pub")],
        ["verify", "--checkpoint", str(theirs)],
    ):
        _refused(example(*command, expect=None), "another-ledger.example/log", origin)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({**head, "origin": "another-ledger.example/log"}))
    _refused(example("verify", "--checkpoint", str(foreign), expect=None), "origin")


def test_the_origin_is_chosen_at_init_and_fixed_once_events_exist(cli: Cli) -> None:
    cli("init", "--origin", "example.org/diplomacy")
    assert json_of(cli("checkpoint"))["origin"] == "example.org/diplomacy"
    cli("init", "--origin", "example.org/diplomacy")  # the same name again is fine
    cli("import", str(EXAMPLE))
    _refused(cli("init", "--origin", "example.org/other", expect=None), "cannot change")
    _refused(cli("init", "--origin", "two\nlines", expect=None), "origin")
    assert json_of(cli("checkpoint"))["origin"] == "example.org/diplomacy"


def test_two_new_ledgers_have_different_origins(db_url: str, another_db_url: str) -> None:
    from cli_support import invoke

    for url in (db_url, another_db_url):  # only init, import and record create a ledger
        invoke(url, ["init"])
    first = json_of(invoke(db_url, ["checkpoint"]))["origin"]
    second = json_of(invoke(another_db_url, ["checkpoint"]))["origin"]
    assert first != second


# -- beyond: verify --since ----------------------------------------------------------


def test_verify_since_checks_only_what_was_appended_after_a_trusted_checkpoint(
    example: Cli, db_url: str, checkpoint_file: Path
) -> None:
    example("import", str(MULTILATERAL))
    data = json_of(example("verify", "--since", str(checkpoint_file), "--json"))
    assert data["ok"] is True and data["since"] == 39 and data["size"] > 39
    assert data["read_models"] is None
    assert (
        "appended after the checkpoint of size 39"
        in example("verify", "--since", str(checkpoint_file)).stdout
    )
    with as_attacker(db_url, "ledger_events") as conn:
        state = stored_state(conn, 45)
        flipped = bytearray(state)
        flipped[len(flipped) // 2] ^= 0x04
        conn.execute(
            text("UPDATE ledger_events SET state = :s WHERE id = 45"), {"s": bytes(flipped)}
        )
    result = example("verify", "--since", str(checkpoint_file), expect=None)
    _refused(result, "position 45")


def test_verify_since_refuses_a_checkpoint_larger_than_the_log(
    example: Cli, tmp_path: Path
) -> None:
    head = json_of(example("checkpoint"))
    bigger = tmp_path / "bigger.json"
    bigger.write_text(json.dumps({**head, "size": 40}))
    _refused(example("verify", "--since", str(bigger), expect=None), "events were removed")


def test_read_models_built_incrementally_or_left_behind_verify_without_a_false_alarm(
    cli: Cli, tmp_path: Path
) -> None:
    from synthetic_ledger import generate_records

    records = generate_records(seed=5, occurrences=250)
    size = -(-len(records) // 5)
    for number in range(5):  # five imports, each caught up on its own
        path = tmp_path / f"chunk-{number}.jsonl"
        chunk = records[number * size : (number + 1) * size]
        path.write_text("".join(json.dumps(r) + "\n" for r in chunk), encoding="utf-8")
        cli("import", str(path))
    assert "read models equal" in cli("verify").stdout
    cli("replay", "--projection", "occurrences", "--to-position", "100")
    data = json_of(cli("verify", "--json"))
    assert data["ok"] is True and data["read_models"]["occurrences"] == 100
