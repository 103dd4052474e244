"""Bearer tokens for `ledger serve --allow-writes`: stored hashed, each naming its holder.

A token is 32 random bytes (URL-safe base64) shown once, by `ledger token add NAME`. The
tokens file keeps only each token's SHA-256 beside the name, one ``NAME sha256:HEX``
line per token, so whoever reads the file still cannot write. The name is what the
ledger records as `recorded_by` of everything written with that token: a client never
chooses who it records as. A fast hash is enough for 256 random bits (nothing to
guess); a password hash would only make every request slower.

The server reads the file for every write request, so a token added or removed takes
effect on the next request, without a restart.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from ledger.errors import LedgerError
from ledger.outputs import check_target, write_file

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


def _text(entries: dict[str, str]) -> str:
    lines = ["# ledger serve tokens: NAME sha256:HASH (the tokens themselves are not kept)"]
    lines += [f"{name} {digest}" for digest, name in entries.items()]
    return "\n".join(lines) + "\n"


@contextmanager
def _one_change_at_a_time(folder: Path) -> Iterator[None]:
    """Two `ledger token add` at once must not each write the file without the other's
    token: the read-change-write holds an exclusive lock on the folder (no lock file left
    behind; the lock goes with the process however it ends)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as error:
        raise TokenFileError(f"{folder}: cannot open the folder: {error.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _change(
    path: Path,
    change: Callable[[dict[str, str]], dict[str, str]],
    protected: Iterable[Path],
) -> None:
    """Rewrite the tokens file as `ledger -o` writes its outputs (`ledger.outputs`): never
    the ledger's own files, never through a link, never over a file that is not a tokens
    file (it must read as one first), by a complete temporary file renamed into place,
    readable by its owner only."""
    kept = list(protected)
    target = check_target(str(path), force=True, protected=kept)
    if target.exists() and not target.is_file():
        raise TokenFileError(f"{path} is not a regular file; not writing tokens to it")
    with _one_change_at_a_time(target.parent):
        text = _text(change(read_tokens(target)))

        def write(stream: TextIO) -> None:
            stream.write(text)

        write_file(str(target), write, force=True, protected=kept, mode=0o600)


def add_token(path: Path, name: str, *, protected: Iterable[Path] = ()) -> str:
    """A new token for `name`, whose hash is added to the file; the token is returned once.

    `protected` are files never to be written over (the ledger's database and companions)."""
    if not NAME.fullmatch(name):
        raise TokenFileError(
            f"{name!r} cannot name a token: use letters, digits and . _ @ - (at most 100)"
        )
    token = secrets.token_urlsafe(32)

    def added(entries: dict[str, str]) -> dict[str, str]:
        if name in entries.values():
            raise TokenFileError(f"{path}: '{name}' already has a token; remove it first")
        return {**entries, hash_token(token): name}

    _change(path, added, protected)
    return token


def remove_token(path: Path, name: str, *, protected: Iterable[Path] = ()) -> None:
    def removed(entries: dict[str, str]) -> dict[str, str]:
        kept = {digest: holder for digest, holder in entries.items() if holder != name}
        if len(kept) == len(entries):
            raise TokenFileError(f"{path}: no token named '{name}'")
        return kept

    _change(path, removed, protected)


class Tokens:
    """The tokens file as the server sees it: read again for every write request.

    Not cached by modification time and size: a token revoked and another of the same
    length added within one tick of the file system's clock leave both unchanged (and a
    freed inode number is reused), and a revoked token must never be taken. Writes are
    rare and the file small: reading it costs tens of microseconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        read_tokens(path)  # a malformed file is refused when the server starts

    def holder(self, token: str) -> str | None:
        """Who this token belongs to, or None for a token the file does not hold."""
        return read_tokens(self.path).get(hash_token(token))
