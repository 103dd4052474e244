"""Bearer tokens for `ledger serve --allow-writes`: stored hashed, each naming its holder.

A token is 32 random bytes (URL-safe base64) shown once, by `ledger token add NAME`. The
tokens file keeps only each token's SHA-256 beside the name, one ``NAME sha256:HEX``
line per token, so whoever reads the file still cannot write. The name is what the
ledger records as `recorded_by` of everything written with that token: a client never
chooses who it records as. A fast hash is enough for 256 random bits (nothing to
guess); a password hash would only make every request slower.

The server re-reads the file when it changes, so a token added or removed takes effect
on the next request, without a restart.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import threading
from pathlib import Path

from ledger.errors import LedgerError

#: Names become `recorded_by`: a short slug, so they never carry markup or control text.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
PREFIX = "sha256:"


class TokenFileError(LedgerError):
    """The tokens file cannot be read or written, or a name is refused."""


def hash_token(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def read_tokens(path: Path) -> dict[str, str]:
    """``{hash: name}`` from a tokens file; a malformed line is refused, naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise TokenFileError(f"{path}: cannot read the tokens file: {error}") from None
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if (
            len(parts) != 2
            or not NAME.fullmatch(parts[0])
            or not re.fullmatch(r"sha256:[0-9a-f]{64}", parts[1])
        ):
            raise TokenFileError(f"{path}, line {number}: expected 'NAME sha256:HEX'")
        found[parts[1]] = parts[0]
    return found


def _write(path: Path, entries: dict[str, str]) -> None:
    """Replace the file atomically, readable by its owner only."""
    lines = ["# ledger serve tokens: NAME sha256:HASH (the tokens themselves are not kept)"]
    lines += [f"{name} {digest}" for digest, name in entries.items()]
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(prefix=".tokens-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as error:
        raise TokenFileError(f"{path}: cannot write the tokens file: {error.strerror}") from None


def add_token(path: Path, name: str) -> str:
    """A new token for `name`, whose hash is added to the file; the token is returned once."""
    if not NAME.fullmatch(name):
        raise TokenFileError(
            f"{name!r} cannot name a token: use letters, digits and . _ @ - (at most 100)"
        )
    entries = read_tokens(path)
    if name in entries.values():
        raise TokenFileError(f"{path}: '{name}' already has a token; remove it first")
    token = secrets.token_urlsafe(32)
    entries[hash_token(token)] = name
    _write(path, entries)
    return token


def remove_token(path: Path, name: str) -> None:
    entries = read_tokens(path)
    kept = {digest: holder for digest, holder in entries.items() if holder != name}
    if len(kept) == len(entries):
        raise TokenFileError(f"{path}: no token named '{name}'")
    _write(path, kept)


class Tokens:
    """The tokens file as the server sees it: re-read whenever it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, str] = {}
        self._reload()

    def _reload(self) -> None:
        try:
            status = self.path.stat()
            stamp: tuple[int, int] | None = (status.st_mtime_ns, status.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp or stamp is None:
                self._entries = read_tokens(self.path)
                self._stamp = stamp

    def holder(self, token: str) -> str | None:
        """Who this token belongs to, or None for a token the file does not hold."""
        self._reload()
        return self._entries.get(hash_token(token))
