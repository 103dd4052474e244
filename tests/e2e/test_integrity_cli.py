"""Tamper evidence end to end: checkpoint, verify, prove, signed checkpoints.

An attacker with the database file can drop the append-only triggers and rewrite a
row; these tests do exactly that and expect `ledger verify` to name the position. The
inclusion proofs are checked with a verifier written here from RFC 9162 §2.1.3.2, not
with the ledger's own Merkle code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_support import EXAMPLE, MULTILATERAL, Cli, json_of
from sqlalchemy import create_engine, text
from tampering_support import rewrite_consistently


def _independent_inclusion_check(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2, written out again so the ledger's code is not marking itself."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def _tamper(url: str, position: int) -> None:
    """Flip one bit of a stored event, as an attacker who dropped the triggers would."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE ledger_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER ledger_events_no_update"))
        state = conn.execute(
            text("SELECT state FROM ledger_events WHERE id = :p"), {"p": position}
        ).scalar_one()
        flipped = bytearray(state)
        flipped[len(flipped) // 2] ^= 0x04
        conn.execute(
            text("UPDATE ledger_events SET state = :s WHERE id = :p"),
            {"s": bytes(flipped), "p": position},
        )
    engine.dispose()


@pytest.fixture
def example(cli: Cli) -> Cli:
    cli("import", str(EXAMPLE))
    return cli


def test_an_untouched_log_verifies(example: Cli) -> None:
    result = json_of(example("verify", "--json"))
    assert result["ok"] is True
    assert result["size"] == 39


@pytest.mark.parametrize("position", [1, 17, 39])
def test_flipping_one_bit_of_a_stored_event_makes_verify_fail_naming_its_position(
    example: Cli, db_url: str, position: int
) -> None:
    _tamper(db_url, position)
    result = example("verify", expect=1)
    assert f"position {position}" in result.stderr
    data = json_of(example("verify", "--json", expect=1))
    assert data["ok"] is False and data["first_bad_position"] == position


def test_an_old_checkpoint_still_verifies_after_more_imports(example: Cli, tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    example("checkpoint", "-o", str(old))
    example("import", str(MULTILATERAL))
    result = example("verify", "--checkpoint", str(old))
    assert "is a prefix" in result.stdout
    assert json_of(example("checkpoint"))["size"] > 39


def test_a_checkpoint_the_log_no_longer_extends_is_refused(
    example: Cli, db_url: str, tmp_path: Path
) -> None:
    old = tmp_path / "old.json"
    example("checkpoint", "-o", str(old))
    # Rewritten with its leaf hashes and tree heads, the log hashes perfectly and its
    # read models are rebuilt from it: only the consistency proof against the old
    # checkpoint can catch it.
    rewrite_consistently(db_url)
    example("replay")
    example("verify")
    result = example("verify", "--checkpoint", str(old), expect=1)
    assert "no longer an extension of the checkpoint (size 39" in result.stderr


def test_a_forged_checkpoint_root_is_refused(example: Cli, tmp_path: Path) -> None:
    forged = tmp_path / "forged.json"
    checkpoint = json_of(example("checkpoint"))
    checkpoint["root"] = "00" * 32
    forged.write_text(json.dumps(checkpoint))
    result = example("verify", "--checkpoint", str(forged), expect=1)
    assert f"no longer an extension of the checkpoint (size 39, root {'00' * 32})" in result.stderr


def test_every_inclusion_proof_checks_out_with_an_independent_verifier(
    example: Cli, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "cp.json"
    example("checkpoint", "-o", str(checkpoint))
    root = bytes.fromhex(json_of(example("checkpoint"))["root"])
    log = json_of(example("log", "--json"))
    for entry in log:
        proof = json_of(
            example("prove", str(entry["position"]), "--checkpoint", str(checkpoint), "--json")
        )
        assert proof["index"] == entry["position"] - 1
        assert proof["tree_size"] == 39
        assert proof["leaf_hash"] == entry["hash"]
        assert bytes.fromhex(proof["root"]) == root
        assert _independent_inclusion_check(
            proof["index"],
            proof["tree_size"],
            bytes.fromhex(proof["leaf_hash"]),
            [bytes.fromhex(p) for p in proof["proof"]],
            root,
        )
        assert not _independent_inclusion_check(
            proof["index"],
            proof["tree_size"],
            hashlib.sha256(b"\x00other").digest(),
            [bytes.fromhex(p) for p in proof["proof"]],
            root,
        )


def test_a_proof_against_an_old_checkpoint_uses_that_checkpoints_tree(
    example: Cli, tmp_path: Path
) -> None:
    old = tmp_path / "old.json"
    example("checkpoint", "-o", str(old))
    example("import", str(MULTILATERAL))
    proof = json_of(example("prove", "3", "--checkpoint", str(old), "--json"))
    assert proof["tree_size"] == 39
    beyond = example("prove", "45", "--checkpoint", str(old), expect=1)
    assert "position 45 is not in a log of 39 events" in beyond.stderr


def test_signed_checkpoints_verify_with_their_key_and_not_with_another(
    example: Cli, tmp_path: Path
) -> None:
    example("keygen", "desk", "--out", str(tmp_path / "desk"))
    example("keygen", "other", "--out", str(tmp_path / "other"))
    note = tmp_path / "cp.note"
    example("checkpoint", "--sign", str(tmp_path / "desk.key"), "-o", str(note))
    text_of_note = note.read_text()
    assert text_of_note.startswith(f"{json_of(example('checkpoint'))['origin']}\n39\n")
    assert "\n\n\u2014 desk " in text_of_note
    example("verify", "--checkpoint", str(note), "--pubkey", str(tmp_path / "desk.pub"))
    other = example(
        "verify", "--checkpoint", str(note), "--pubkey", str(tmp_path / "other.pub"), expect=1
    )
    assert "not signed by key other+" in other.stderr
    # A size of 38 with the root of 39 would fail against the log anyway: only the message
    # shows that the signature, checked first, is what refused it.
    tampered = tmp_path / "tampered.note"
    tampered.write_text(text_of_note.replace("\n39\n", "\n38\n", 1))
    altered = example(
        "verify", "--checkpoint", str(tampered), "--pubkey", str(tmp_path / "desk.pub"), expect=1
    )
    assert "signature by desk does not verify: the note was altered" in altered.stderr
