"""Files the ledger writes for its users (`-o FILE`, key pairs): never at a ledger's expense.

An output file is written to a temporary file in the same folder and renamed into place
only once complete, so an interrupted or failed export leaves the old file (or nothing)
behind, never half a file. Before that the target is checked: it must not be the
ledger's own database or one of its -wal/-shm/-journal companions (by path and by
identity, so neither `./d.db`, a hard link nor `../x/d.db` gets through), must not be a
symbolic link (the link is never followed, not even with --force), and must not exist
unless the user said --force.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from ledger.errors import LedgerError

#: Files SQLite keeps beside a database; writing over any of them damages the ledger.
COMPANIONS = ("", "-wal", "-shm", "-journal")


class OutputRefused(LedgerError):
    """An output file that must not be written (the ledger itself, a link, an existing file)."""


def ledger_files(database: Path | None) -> list[Path]:
    """The database file and its companions, which no output may replace."""
    if database is None:
        return []
    return [Path(f"{database}{suffix}") for suffix in COMPANIONS]


def _same_file(a: Path, b: Path) -> bool:
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    with contextlib.suppress(OSError):
        if a.resolve() == b.resolve():
            return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: only equal paths were the same
        return False


def check_target(path: str, *, force: bool, protected: Iterable[Path] = ()) -> Path:
    """The file to write, or `OutputRefused` saying why it must not be written."""
    target = Path(path)
    if not path or path.endswith(os.sep) or target.is_dir():
        raise OutputRefused(f"cannot write {path!r}: it is a folder, not a file")
    for kept in protected:
        if _same_file(target, kept):
            raise OutputRefused(f"{path} is the ledger's own database file; not writing over it")
    if target.is_symlink():
        raise OutputRefused(f"{path} is a symbolic link; not following it (remove it first)")
    folder = target.parent
    if not folder.is_dir():
        raise OutputRefused(f"cannot write {path}: the folder {folder} does not exist")
    if target.exists() and not force:
        raise OutputRefused(f"{path} exists; give --force to replace it")
    return target


def write_file(
    path: str,
    write: Callable[[TextIO], None],
    *,
    force: bool = False,
    protected: Iterable[Path] = (),
    mode: int | None = None,
) -> Path:
    """Write through `write(stream)` into a temporary file renamed over `path` when done.

    The file gets `mode` if given (a secret's 0o600), else what the umask allows."""
    target = check_target(path, force=force, protected=protected)
    temporary: str | None = None
    try:
        fd, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        os.replace(temporary, target)  # the rename replaces a link itself, never its target
    except BaseException as error:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        if isinstance(error, OSError):
            raise OutputRefused(f"cannot write {path}: {error.strerror or error}") from None
        raise
    return target


def create_new(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Write a file that must not exist yet (a key): never replaces, never follows a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise OutputRefused(f"{path} exists; not overwriting it") from None
    except OSError as error:
        raise OutputRefused(f"cannot write {path}: {error.strerror or error}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
