"""Checkpoints (tree heads) of the event log, plain JSON or signed C2SP notes.

A checkpoint commits to the whole log in 32 bytes; publishing it, and later checking
the log or an inclusion proof against it, is what makes tampering detectable. The plain
JSON form is what `ledger checkpoint` prints. The signed form follows C2SP
tlog-checkpoint inside a C2SP signed note with Ed25519 keys, byte for byte as Go's
golang.org/x/mod/sumdb/note writes them, so that existing witnesses and tools
(and the Go package's documented example) can check our signatures and we theirs.

A signed note carries no time: the tlog-checkpoint body is exactly origin, size and
root, and we add no extension lines. A Checkpoint read from a note therefore has
``timestamp == ""``, which always means "unknown".

Parsing and signing are pure; key strings are passed in, never read from files here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.errors import LedgerError
from ledger.merkle import HASH_SIZE

ALG_ED25519 = 0x01
"""Signature type byte of Ed25519 in signed-note key strings and key hashes."""

PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
SIGNATURE_PREFIX = "\u2014 "  # em dash and space start every signature line
_MAX_SIGNATURES = 100  # as Go's note.Open: parsing a hostile note stays cheap
_MAX_TREE_SIZE = 2**64 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


class CheckpointError(LedgerError, ValueError):
    """A checkpoint, note or key is malformed, or a signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    """The tree head of the first `size` events: their RFC 9162 root and when it was taken.

    `timestamp` is the ISO time the ledger wrote, or "" when unknown (read from a note).
    """

    size: int
    root: bytes
    timestamp: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointError(f"checkpoint size must be an integer, got {self.size!r}")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise CheckpointError(f"checkpoint size {self.size} is out of range")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root must be {HASH_SIZE} bytes")
        if not isinstance(self.timestamp, str):
            raise CheckpointError("checkpoint timestamp must be a string")

    def to_json(self) -> dict[str, Any]:
        """The `ledger checkpoint` shape: ``{"size": int, "root": hex, "timestamp": str}``."""
        return {"size": self.size, "root": self.root.hex(), "timestamp": self.timestamp}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Read the JSON shape back; extra keys are ignored, a missing timestamp is ""."""
        if not isinstance(data, Mapping):
            raise CheckpointError("a JSON checkpoint is an object with size, root, timestamp")
        size = data.get("size")
        if isinstance(size, bool) or not isinstance(size, int):
            raise CheckpointError(f"checkpoint 'size' must be an integer, got {size!r}")
        root = data.get("root")
        if not isinstance(root, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", root):
            raise CheckpointError("checkpoint 'root' must be 64 hex digits")
        timestamp = data.get("timestamp")
        if timestamp is None:
            timestamp = ""
        if not isinstance(timestamp, str):
            raise CheckpointError("checkpoint 'timestamp' must be a string")
        return cls(size, bytes.fromhex(root), timestamp)


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4 bytes that tell a verifier which key a signature line claims to be from."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _check_key_name(name: str) -> None:
    # As Go's note package: the name ends at the first "+" or space in key and
    # signature lines, so it may contain neither.
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise CheckpointError(f"invalid key name {name!r}: non-empty, no spaces, no '+'")
    if any(ord(ch) < 0x20 for ch in name):
        raise CheckpointError(f"invalid key name {name!r}: control characters")


def _b64decode(text: str, what: str) -> bytes:
    # Python's decoder tolerates surplus "=" that Go's StdEncoding refuses; match Go.
    if not _BASE64.fullmatch(text):
        raise CheckpointError(f"{what} is not standard base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise CheckpointError(f"{what} is not standard base64") from None
    # Python also ignores non-zero padding bits in the last character, so two texts would
    # decode to the same signature; only the canonical encoding is accepted, as in Go.
    if _b64encode(data) != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return data


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class VerifierKey:
    """A public key string ``<name>+<8 hex key hash>+<base64(0x01 || key)>``, parsed."""

    name: str
    key_hash: bytes
    public_key: Ed25519PublicKey = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Refuse a key string whose hash does not match its name and key (a typo)."""
        name, hash_hex, key = _split_key(text.strip(), "verifier key")
        raw = _key_bytes(key, "verifier key")
        if key_hash(name, raw) != bytes.fromhex(hash_hex):
            raise CheckpointError(f"verifier key {name}: key hash {hash_hex} does not match")
        return cls(name, bytes.fromhex(hash_hex), Ed25519PublicKey.from_public_bytes(raw))

    def __str__(self) -> str:
        raw = self.public_key.public_bytes_raw()
        return f"{self.name}+{self.key_hash.hex()}+{_b64encode(bytes([ALG_ED25519]) + raw)}"


@dataclass(frozen=True)
class SignerKey:
    """A private key string ``PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 || seed)>``, parsed.

    The hash is that of the public key, so the signer knows the hash its lines carry.
    """

    name: str
    key_hash: bytes
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        """Refuse anything that is not a well-formed Ed25519 signer key."""
        text = text.strip()
        if not text.startswith(PRIVATE_KEY_PREFIX):
            raise CheckpointError(f"a signer key starts with {PRIVATE_KEY_PREFIX}")
        name, hash_hex, key = _split_key(text[len(PRIVATE_KEY_PREFIX) :], "signer key")
        private_key = Ed25519PrivateKey.from_private_bytes(_key_bytes(key, "signer key"))
        public = private_key.public_key().public_bytes_raw()
        if key_hash(name, public) != bytes.fromhex(hash_hex):
            raise CheckpointError(f"signer key {name}: key hash {hash_hex} does not match")
        return cls(name, bytes.fromhex(hash_hex), private_key)

    def verifier(self) -> VerifierKey:
        """The matching public key, to hand to whoever checks our checkpoints."""
        return VerifierKey(self.name, self.key_hash, self.private_key.public_key())


def _split_key(text: str, what: str) -> tuple[str, str, str]:
    # maxsplit: base64 may itself contain "+".
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise CheckpointError(f"{what} is not <name>+<hash>+<key>")
    name, hash_hex, key = parts
    _check_key_name(name)
    if not _HEX8.fullmatch(hash_hex):
        raise CheckpointError(f"{what} {name}: the key hash is not 8 hex digits")
    return name, hash_hex, key


def _key_bytes(key: str, what: str) -> bytes:
    raw = _b64decode(key, what)
    if not raw or raw[0] != ALG_ED25519:
        raise CheckpointError(f"{what}: only Ed25519 keys (type 0x01) are supported")
    if len(raw) != 33:
        raise CheckpointError(f"{what}: an Ed25519 key is 32 bytes, got {len(raw) - 1}")
    return raw[1:]


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key pair as (signer key string, verifier key string)."""
    _check_key_name(name)
    private_key = Ed25519PrivateKey.generate()
    public = private_key.public_key().public_bytes_raw()
    hash_hex = key_hash(name, public).hex()
    seed = bytes([ALG_ED25519]) + private_key.private_bytes_raw()
    signer = f"{PRIVATE_KEY_PREFIX}{name}+{hash_hex}+{_b64encode(seed)}"
    verifier = f"{name}+{hash_hex}+{_b64encode(bytes([ALG_ED25519]) + public)}"
    return signer, verifier


def _check_note_text(text: str, what: str) -> None:
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise CheckpointError(f"{what}: control characters other than newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(f"{what}: not valid UTF-8") from None


def sign_note(text: str, signer_key: str) -> str:
    """Sign any note text (non-empty, newline-terminated) as a C2SP signed note."""
    signer = SignerKey.parse(signer_key)
    if not text.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    _check_note_text(text, "note text")
    signature = signer.private_key.sign(text.encode("utf-8"))  # codec names ignore case
    line = f"{SIGNATURE_PREFIX}{signer.name} {_b64encode(signer.key_hash + signature)}\n"
    return f"{text}\n{line}"


@dataclass(frozen=True)
class _Signature:
    name: str
    key_hash: bytes
    signature: bytes


def _split_note(text: str) -> tuple[str, list[_Signature]]:
    """Body and signature lines, as Go's note.Open splits them (at the last blank line)."""
    _check_note_text(text, "malformed note")
    split = text.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed note: no blank line before the signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointError("malformed note: no signature lines after the blank line")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise CheckpointError(f"malformed note: more than {_MAX_SIGNATURES} signatures")
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(f"malformed note: signature line {number} lacks '— '")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        _check_key_name(name)
        raw = _b64decode(encoded, f"signature line {number}") if encoded else b""
        if len(raw) < 5:
            raise CheckpointError(f"malformed note: signature line {number} is too short")
        signatures.append(_Signature(name, raw[:4], raw[4:]))
    return body, signatures


def open_signed_note(text: str, verifier_key: str) -> str:
    """The note's body, once a signature by `verifier_key` verifies over it.

    As Go's note.Open: lines from other keys are ignored (co-signers, witnesses), but a
    line that claims our key (name and key hash) and does not verify is refused.
    """
    verifier = VerifierKey.parse(verifier_key)
    body, signatures = _split_note(text)
    ours = [s for s in signatures if s.name == verifier.name and s.key_hash == verifier.key_hash]
    if not ours:
        found = ", ".join(f"{s.name}+{s.key_hash.hex()}" for s in signatures)
        raise CheckpointError(
            f"note is not signed by key {verifier.name}+{verifier.key_hash.hex()} "
            f"(signed by: {found})"
        )
    for signature in ours:
        try:
            verifier.public_key.verify(signature.signature, body.encode("utf-8"))
        except InvalidSignature:
            raise CheckpointError(
                f"signature by {verifier.name} does not verify: the note was altered"
            ) from None
    return body


def checkpoint_body(checkpoint: Checkpoint, origin: str) -> str:
    """The tlog-checkpoint note text: origin, size, base64 root, no extension lines."""
    if not origin or "\n" in origin:
        raise CheckpointError("checkpoint origin must be one non-empty line")
    _check_note_text(origin, "checkpoint origin")
    return f"{origin}\n{checkpoint.size}\n{_b64encode(checkpoint.root)}\n"


def _parse_body(body: str) -> tuple[Checkpoint, str]:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointError("checkpoint note body needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not origin:
        raise CheckpointError("checkpoint origin line is empty")
    if (
        # Past any tree size (20 digits), and past what int() will parse. Any bound from 20
        # to 4300 digits refuses the same texts (a mutant of it is equivalent): it only
        # keeps int() from reading long ones.
        len(size_text) > 20 or not _DECIMAL.fullmatch(size_text) or int(size_text) > _MAX_TREE_SIZE
    ):
        raise CheckpointError(f"checkpoint size {size_text!r} is not a decimal tree size")
    root = _b64decode(root_text, "checkpoint root")
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"checkpoint root is {len(root)} bytes, not {HASH_SIZE}")
    if any(not line for line in extensions):
        raise CheckpointError("checkpoint note has an empty extension line")
    return Checkpoint(int(size_text), root, ""), origin  # "" is the default: said for the reader


def sign_checkpoint(checkpoint: Checkpoint, origin: str, signer_key: str) -> str:
    """The signed note text of a checkpoint; the timestamp is not part of it."""
    return sign_note(checkpoint_body(checkpoint, origin), signer_key)


def open_checkpoint(text: str, verifier_key: str | None = None) -> tuple[Checkpoint, str | None]:
    """Read a checkpoint file in either form: (checkpoint, origin; None if JSON has none).

    Without `verifier_key` nothing is authenticated: a note's signature lines are only
    checked for form, and a bare note body with no signatures is accepted. With a key,
    only a note signed by it is accepted; JSON is refused because it cannot be signed.
    """
    text = text.removeprefix("\ufeff")
    if text.lstrip().startswith("{"):
        if verifier_key is not None:
            raise CheckpointError("a JSON checkpoint carries no signature; a signed note is needed")
        try:
            data = json.loads(text)
        except RecursionError:
            raise CheckpointError("checkpoint is not valid JSON: nested too deeply") from None
        except ValueError as error:  # JSONDecodeError, or an integer of over 4300 digits
            reason = str(error).split(":")[0] if "digits" in str(error) else str(error)
            raise CheckpointError(f"checkpoint is not valid JSON: {reason}") from None
        checkpoint = Checkpoint.from_json(data)
        origin = data.get("origin")
        if origin is not None and not isinstance(origin, str):
            raise CheckpointError("checkpoint 'origin' must be a string")
        return checkpoint, origin
    if verifier_key is not None:
        body = open_signed_note(text, verifier_key)
    elif "\n\n" in text:
        body, _ = _split_note(text)
    else:
        _check_note_text(text, "malformed note")
        body = text
    checkpoint, origin = _parse_body(body)
    return checkpoint, origin
