"""Checkpoints as JSON and as C2SP signed notes, anchored to Go's note package example.

The known answer matters most: a note format that only round-trips with itself could be
subtly incompatible with every witness and tool that checks tlog checkpoints.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from ledger.checkpoints import (
    Checkpoint,
    CheckpointError,
    SignerKey,
    VerifierKey,
    checkpoint_body,
    generate_key,
    key_hash,
    open_checkpoint,
    open_signed_note,
    sign_checkpoint,
    sign_note,
)
from ledger.merkle import EMPTY_ROOT, leaf_hash, root_hash
from ledger.origin import check_origin


def signed(text: str, verifier_key: str) -> Checkpoint:
    """The checkpoint in a note, read as `verify --checkpoint F --pubkey K` reads it."""
    checkpoint, _ = open_checkpoint(text, verifier_key)
    return checkpoint


# The example in the documentation of golang.org/x/mod/sumdb/note (also its note_test.go).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
    "qdngotpRZb6KE6RyyBwJnAM=\n"
)

ORIGIN = "example.org/diplomacy-ledger"
ROOT = root_hash([leaf_hash(b"event 0"), leaf_hash(b"event 1"), leaf_hash(b"event 2")])
CHECKPOINT = Checkpoint(3, ROOT, "2025-06-24T12:00:00+00:00")


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_key("example.org-ledger")


# --- the Go known answer -------------------------------------------------------------


def test_the_go_example_keys_parse_to_key_hash_c74f20a3() -> None:
    signer = SignerKey.parse(GO_SIGNER)
    verifier = VerifierKey.parse(GO_VERIFIER)
    assert signer.name == verifier.name == "PeterNeumann"
    assert signer.key_hash.hex() == verifier.key_hash.hex() == "c74f20a3"
    public = verifier.public_key.public_bytes_raw()
    assert key_hash("PeterNeumann", public).hex() == "c74f20a3"
    assert str(signer.verifier()) == GO_VERIFIER
    assert str(verifier) == GO_VERIFIER


def test_the_go_example_note_verifies_under_its_key() -> None:
    assert open_signed_note(GO_NOTE, GO_VERIFIER) == GO_TEXT


def test_signing_the_go_example_text_reproduces_its_signature_byte_for_byte() -> None:
    # Ed25519 is deterministic, so the same key and text give the same note.
    assert sign_note(GO_TEXT, GO_SIGNER) == GO_NOTE


def test_a_signer_key_whose_seed_does_not_match_its_key_hash_is_refused() -> None:
    # The Go example key with its last ten characters changed: the public key derived
    # from the seed no longer hashes to c74f20a3.
    mistyped = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxEXUKKOX"
    with pytest.raises(CheckpointError, match="key hash"):
        SignerKey.parse(mistyped)


# --- key strings ---------------------------------------------------------------------


def test_generated_keys_have_the_note_package_formats(keys: tuple[str, str]) -> None:
    signer_text, verifier_text = keys
    prefix, key_part, name, hash_hex, encoded = signer_text.split("+", 4)
    assert (prefix, key_part, name) == ("PRIVATE", "KEY", "example.org-ledger")
    assert len(hash_hex) == 8
    assert base64.b64decode(encoded)[0] == 0x01
    assert len(base64.b64decode(encoded)) == 33
    assert verifier_text.startswith(f"example.org-ledger+{hash_hex}+")
    assert str(SignerKey.parse(signer_text).verifier()) == verifier_text
    assert VerifierKey.parse(verifier_text).key_hash.hex() == hash_hex


def test_the_signer_key_is_not_shown_in_its_repr(keys: tuple[str, str]) -> None:
    signer_text, _ = keys
    secret = signer_text.split("+", 4)[4]  # PRIVATE+KEY+name+hash+base64 (which may hold "+")
    assert secret and secret not in repr(SignerKey.parse(signer_text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcaQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW==",
        GO_SIGNER,
    ],
)
def test_malformed_verifier_keys_are_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        VerifierKey.parse(text)


def test_a_verifier_key_is_not_accepted_as_a_signer_key() -> None:
    with pytest.raises(CheckpointError, match="PRIVATE"):
        SignerKey.parse(GO_VERIFIER)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there"])
def test_key_names_with_spaces_or_plus_signs_are_refused(name: str) -> None:
    with pytest.raises(CheckpointError):
        generate_key(name)


# --- signed checkpoints --------------------------------------------------------------


def test_a_signed_checkpoint_is_the_three_line_tlog_body_and_one_signature(
    keys: tuple[str, str],
) -> None:
    signer_text, _ = keys
    note = sign_checkpoint(CHECKPOINT, ORIGIN, signer_text)
    body, signatures = note.split("\n\n")
    assert body + "\n" == checkpoint_body(CHECKPOINT, ORIGIN)
    assert body.split("\n") == [ORIGIN, "3", base64.b64encode(ROOT).decode()]
    lines = signatures.rstrip("\n").split("\n")
    assert len(lines) == 1
    assert lines[0].startswith("\u2014 example.org-ledger ")
    assert len(base64.b64decode(lines[0].rsplit(" ", 1)[1])) == 4 + 64


def test_a_signed_checkpoint_verifies_and_loses_only_its_timestamp(
    keys: tuple[str, str],
) -> None:
    signer_text, verifier_text = keys
    note = sign_checkpoint(CHECKPOINT, ORIGIN, signer_text)
    assert open_checkpoint(note, verifier_text) == (Checkpoint(3, ROOT, ""), ORIGIN)


def test_a_checkpoint_for_another_log_is_refused_by_its_origin(keys: tuple[str, str]) -> None:
    signer_text, verifier_text = keys
    note = sign_checkpoint(CHECKPOINT, "other.example/log", signer_text)
    _, found = open_checkpoint(note, verifier_text)
    assert found == "other.example/log"
    with pytest.raises(CheckpointError) as refusal:
        check_origin(found, ORIGIN, "the checkpoint")
    assert str(refusal.value) == (
        f"the checkpoint is for the log 'other.example/log', but this ledger's origin is {ORIGIN!r}"
    )
    check_origin(found, "other.example/log", "the checkpoint")
    check_origin(None, ORIGIN, "the checkpoint")  # a JSON checkpoint of old names none


def test_a_flipped_byte_anywhere_in_the_body_or_signature_is_refused(
    keys: tuple[str, str],
) -> None:
    signer_text, verifier_text = keys
    note = sign_checkpoint(CHECKPOINT, ORIGIN, signer_text)
    signature_start = note.index("\u2014") + len("\u2014 example.org-ledger ")
    positions = [*range(note.index("\n\n")), *range(signature_start, len(note) - 1)]
    for position in positions:
        original = note[position]
        for replacement in ("A", "x"):
            if replacement == original:
                continue
            tampered = note[:position] + replacement + note[position + 1 :]
            with pytest.raises(CheckpointError):
                signed(tampered, verifier_text)


def test_a_note_signed_by_another_key_is_refused(keys: tuple[str, str]) -> None:
    signer_text, _ = keys
    note = sign_checkpoint(CHECKPOINT, ORIGIN, signer_text)
    with pytest.raises(CheckpointError, match="not signed by key PeterNeumann"):
        signed(note, GO_VERIFIER)


def test_a_different_key_under_the_same_name_is_refused(keys: tuple[str, str]) -> None:
    signer_text, _ = keys
    _, impostor = generate_key("example.org-ledger")
    note = sign_checkpoint(CHECKPOINT, ORIGIN, signer_text)
    with pytest.raises(CheckpointError, match="not signed by key"):
        signed(note, impostor)


def test_a_bad_signature_that_claims_our_key_hash_is_refused(keys: tuple[str, str]) -> None:
    signer_text, verifier_text = keys
    note = sign_checkpoint(CHECKPOINT, ORIGIN, signer_text)
    other = sign_checkpoint(Checkpoint(4, ROOT, ""), ORIGIN, signer_text)
    forged = note.split("\n\n")[0] + "\n\n" + other.split("\n\n")[1]
    with pytest.raises(CheckpointError, match="does not verify"):
        signed(forged, verifier_text)


def test_signatures_by_other_keys_beside_ours_are_ignored(keys: tuple[str, str]) -> None:
    signer_text, verifier_text = keys
    note = sign_checkpoint(CHECKPOINT, ORIGIN, signer_text)
    witness = sign_note(checkpoint_body(CHECKPOINT, ORIGIN), GO_SIGNER).split("\n\n")[1]
    cosigned = note + witness
    assert signed(cosigned, verifier_text).size == 3
    assert signed(cosigned, GO_VERIFIER).size == 3


@pytest.mark.parametrize(
    "text",
    [
        "",
        "origin\n3\nroot\n",
        "origin\n3\n" + base64.b64encode(ROOT).decode() + "\n\n",
        "origin\n3\n" + base64.b64encode(ROOT).decode() + "\n\nnot a signature line\n",
        "origin\n3\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 name\n",
        "origin\n3\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 name AAAA\n",
        "origin\n3\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 name !!!!\n",
        "origin\r\n3\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 name AAAAAAAA\n",
    ],
)
def test_malformed_notes_are_refused_with_a_checkpoint_error(text: str) -> None:
    with pytest.raises(CheckpointError):
        signed(text, GO_VERIFIER)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("origin\n03\n{root}\n", "checkpoint size '03' is not a decimal tree size"),
        ("origin\n-3\n{root}\n", "checkpoint size '-3' is not a decimal tree size"),
        # 2**64: one past the largest tree size, and 21 digits, one more than it has.
        (
            "origin\n18446744073709551616\n{root}\n",
            "checkpoint size '18446744073709551616' is not a decimal tree size",
        ),
        (
            "origin\n000000000000000000001\n{root}\n",
            "checkpoint size '000000000000000000001' is not a decimal tree size",
        ),
        ("\n3\n{root}\n", "checkpoint origin line is empty"),
        ("origin\n3\nAAAA\n", "checkpoint root is 3 bytes, not 32"),
        ("origin\n3\nAA=A\n", "checkpoint root is not standard base64"),
        ("origin\n3\n", "checkpoint note body needs origin, size and root lines"),
        ("origin\n3\n{root}\n\n", "checkpoint note has an empty extension line"),
    ],
)
def test_a_signed_note_that_is_not_a_checkpoint_is_refused_saying_why(
    body: str, reason: str
) -> None:
    note = sign_note(body.format(root=base64.b64encode(ROOT).decode()), GO_SIGNER)
    with pytest.raises(CheckpointError) as refused:
        signed(note, GO_VERIFIER)
    assert str(refused.value) == reason


@pytest.mark.parametrize("size", [0, 2**64 - 1])
def test_a_note_carries_any_tree_size_from_the_empty_log_to_the_largest(size: int) -> None:
    root = EMPTY_ROOT if size == 0 else ROOT
    note = sign_checkpoint(Checkpoint(size, root, "not in the note"), ORIGIN, GO_SIGNER)
    checkpoint = signed(note, GO_VERIFIER)
    assert checkpoint == Checkpoint(size, root, "")
    assert open_checkpoint(note) == (Checkpoint(size, root, ""), ORIGIN)


def test_extension_lines_after_the_root_are_accepted_and_ignored() -> None:
    body = checkpoint_body(CHECKPOINT, ORIGIN) + "extension one\n"
    assert signed(sign_note(body, GO_SIGNER), GO_VERIFIER).size == 3


SIGNATURE_LINE = GO_NOTE[len(GO_TEXT) + 1 :]


@pytest.mark.parametrize(
    ("attempt", "reason"),
    [
        (lambda: SignerKey.parse("PRIVATE+KEY+name"), "signer key is not <name>+<hash>+<key>"),
        (
            lambda: SignerKey.parse("PRIVATE+KEY+name+c74f20a3+AAAA"),
            "signer key: only Ed25519 keys (type 0x01) are supported",
        ),
        (lambda: sign_note("no newline", GO_SIGNER), "note text must end with a newline"),
        (
            lambda: sign_note("a bell \x07\n", GO_SIGNER),
            "note text: control characters other than newline",
        ),
        (
            lambda: signed("no blank line\n" + SIGNATURE_LINE, GO_VERIFIER),
            "malformed note: no blank line before the signatures",
        ),
        (
            lambda: signed("a bell \x07\n\n" + SIGNATURE_LINE, GO_VERIFIER),
            "malformed note: control characters other than newline",
        ),
        (
            lambda: signed(GO_NOTE.rstrip("\n"), GO_VERIFIER),
            "malformed note: no signature lines after the blank line",
        ),
        (
            lambda: checkpoint_body(CHECKPOINT, "two\nlines"),
            "checkpoint origin must be one non-empty line",
        ),
        (
            lambda: checkpoint_body(CHECKPOINT, "a bell \x07"),
            "checkpoint origin: control characters other than newline",
        ),
    ],
)
def test_keys_and_notes_are_refused_saying_which_and_why(
    attempt: Callable[[], object], reason: str
) -> None:
    with pytest.raises(CheckpointError) as refused:
        attempt()
    assert str(refused.value) == reason


def test_a_note_text_may_hold_blank_lines_the_signatures_follow_the_last() -> None:
    text = "first paragraph\n\nsecond paragraph\n"
    assert open_signed_note(sign_note(text, GO_SIGNER), GO_VERIFIER) == text


def test_note_text_without_a_final_newline_cannot_be_signed() -> None:
    with pytest.raises(CheckpointError, match="newline"):
        sign_note("no newline", GO_SIGNER)


def test_an_origin_of_several_lines_cannot_be_signed() -> None:
    with pytest.raises(CheckpointError, match="origin"):
        sign_checkpoint(CHECKPOINT, "two\nlines", GO_SIGNER)


# --- JSON and reading either form ----------------------------------------------------


def test_json_round_trip_keeps_the_cli_shape() -> None:
    data = CHECKPOINT.to_json()
    assert data == {"size": 3, "root": ROOT.hex(), "timestamp": "2025-06-24T12:00:00+00:00"}
    assert Checkpoint.from_json(json.loads(json.dumps(data))) == CHECKPOINT


def test_json_with_extra_keys_or_no_timestamp_is_read() -> None:
    data = {"size": 0, "root": EMPTY_ROOT.hex(), "by": "ledger"}
    assert Checkpoint.from_json(data) == Checkpoint(0, EMPTY_ROOT, "")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"root": ROOT.hex(), "timestamp": ""}, "checkpoint 'size' must be an integer, got None"),
        (
            {"size": "3", "root": ROOT.hex(), "timestamp": ""},
            "checkpoint 'size' must be an integer, got '3'",
        ),
        (
            {"size": True, "root": ROOT.hex(), "timestamp": ""},
            "checkpoint 'size' must be an integer, got True",
        ),
        ({"size": -1, "root": ROOT.hex(), "timestamp": ""}, "checkpoint size -1 is out of range"),
        (
            {"size": 2**64, "root": ROOT.hex(), "timestamp": ""},
            f"checkpoint size {2**64} is out of range",
        ),
        (
            {"size": 3, "root": ROOT.hex()[:-2], "timestamp": ""},
            "checkpoint 'root' must be 64 hex digits",
        ),
        (
            {"size": 3, "root": "zz" * 32, "timestamp": ""},
            "checkpoint 'root' must be 64 hex digits",
        ),
        ({"size": 3, "root": ROOT, "timestamp": ""}, "checkpoint 'root' must be 64 hex digits"),
        (
            {"size": 3, "root": ROOT.hex(), "timestamp": 12},
            "checkpoint 'timestamp' must be a string",
        ),
        ([3, ROOT.hex(), ""], "a JSON checkpoint is an object with size, root, timestamp"),
    ],
)
def test_malformed_json_checkpoints_are_refused_saying_why(data: Any, reason: str) -> None:
    with pytest.raises(CheckpointError) as refused:
        Checkpoint.from_json(data)
    assert str(refused.value) == reason


def test_a_json_root_may_be_written_in_capitals() -> None:
    data = {"size": 3, "root": ROOT.hex().upper(), "timestamp": ""}
    assert Checkpoint.from_json(data) == Checkpoint(3, ROOT, "")


def test_a_checkpoint_file_is_read_in_either_form(keys: tuple[str, str]) -> None:
    signer_text, verifier_text = keys
    as_json = json.dumps(CHECKPOINT.to_json(), indent=2) + "\n"
    assert open_checkpoint(as_json) == (CHECKPOINT, None)
    note = sign_checkpoint(CHECKPOINT, ORIGIN, signer_text)
    assert open_checkpoint(note) == (Checkpoint(3, ROOT, ""), ORIGIN)
    assert open_checkpoint(note, verifier_text) == (Checkpoint(3, ROOT, ""), ORIGIN)
    assert open_checkpoint(checkpoint_body(CHECKPOINT, ORIGIN)) == (Checkpoint(3, ROOT, ""), ORIGIN)


def test_with_a_key_only_a_note_signed_by_it_is_read(keys: tuple[str, str]) -> None:
    _, verifier_text = keys
    with pytest.raises(CheckpointError, match="signature"):
        open_checkpoint(json.dumps(CHECKPOINT.to_json()), verifier_text)
    with pytest.raises(CheckpointError):
        open_checkpoint(sign_checkpoint(CHECKPOINT, ORIGIN, GO_SIGNER), verifier_text)


def test_a_json_checkpoint_file_may_start_with_a_byte_order_mark_or_blank_lines() -> None:
    data = {**CHECKPOINT.to_json(), "origin": ORIGIN}
    assert open_checkpoint("\ufeff" + json.dumps(data)) == (CHECKPOINT, ORIGIN)
    assert open_checkpoint("\n  " + json.dumps(data)) == (CHECKPOINT, ORIGIN)


def test_a_json_checkpoint_is_refused_with_a_key_saying_a_signed_note_is_needed(
    keys: tuple[str, str],
) -> None:
    with pytest.raises(CheckpointError) as refused:
        open_checkpoint(json.dumps(CHECKPOINT.to_json()), keys[1])
    assert str(refused.value) == ("a JSON checkpoint carries no signature; a signed note is needed")


HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "checkpoint is not valid JSON: Expecting property name enclosed in double quotes"),
        ('{"a":' + "[" * 100_000 + "]" * 100_000 + "}", "checkpoint is not valid JSON: nested"),
        (
            '{"size": ' + HUGE + "}",
            # Not Python's advice on raising the limit: only what is wrong with the file.
            "checkpoint is not valid JSON: Exceeds the limit (4300 digits) for integer string "
            "conversion",
        ),
        ("{}", "checkpoint 'size' must be an integer, got None"),
        (
            json.dumps({**CHECKPOINT.to_json(), "origin": 7}),
            "checkpoint 'origin' must be a string",
        ),
        ("not a checkpoint", "checkpoint note body needs origin, size and root lines"),
        ("\n", "checkpoint note body needs origin, size and root lines"),
        (f"{ORIGIN}\x07\n3\nAAAA\n", "malformed note: control characters other than newline"),
    ],
)
def test_unreadable_checkpoint_files_are_refused_saying_why(text: str, reason: str) -> None:
    with pytest.raises(CheckpointError) as refused:
        open_checkpoint(text)
    assert str(refused.value).startswith(reason), str(refused.value)
    assert "set_int_max_str_digits" not in str(refused.value)


@pytest.mark.parametrize(
    ("size", "root", "timestamp", "reason"),
    [
        (1, b"short", "", "checkpoint root must be 32 bytes"),
        (1, ROOT.hex(), "", "checkpoint root must be 32 bytes"),
        (-1, ROOT, "", "checkpoint size -1 is out of range"),
        (2**64, ROOT, "", f"checkpoint size {2**64} is out of range"),
        ("1", ROOT, "", "checkpoint size must be an integer, got '1'"),
        (True, ROOT, "", "checkpoint size must be an integer, got True"),
        (1, ROOT, None, "checkpoint timestamp must be a string"),
    ],
)
def test_a_checkpoint_refuses_what_is_not_a_tree_head_saying_why(
    size: Any, root: Any, timestamp: Any, reason: str
) -> None:
    with pytest.raises(CheckpointError) as refused:
        Checkpoint(size, root, timestamp)
    assert str(refused.value) == reason


def test_the_largest_tree_size_is_a_checkpoint() -> None:
    assert Checkpoint(2**64 - 1, ROOT).size == 2**64 - 1
