"""The tokens file of `ledger token add/remove` is written as safely as any `-o` output.

Issue 14. The file is rewritten by a complete temporary file renamed into place, never
over the ledger's own files (the database or an empty -wal beside it), never through a
symbolic link, never over a file that does not read as a tokens file, and two `token add`
at once both land.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from pathlib import Path

from cli_support import EXAMPLE, invoke

from web.tokens import Tokens, add_token, hash_token, read_tokens


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_token_is_never_written_over_the_ledger_or_its_companions(tmp_path: Path) -> None:
    database = tmp_path / "d.db"
    url = f"sqlite:///{database}"
    invoke(url, ["import", EXAMPLE])
    wal = Path(f"{database}-wal")
    if not wal.exists():
        wal.write_bytes(b"")  # empty, as SQLite leaves it: it reads as an empty tokens file
    before = files_of(tmp_path)
    for target in (database, wal, tmp_path / "." / "d.db-wal"):
        for args in (["add", "alice"], ["remove", "alice"]):
            result = invoke(url, ["token", *args, "--tokens", target], expect=1)
            assert "is the ledger's own database file; not writing over it" in result.stderr
    assert files_of(tmp_path) == before


def test_a_token_is_never_written_through_a_link_or_over_a_file_that_is_not_a_tokens_file(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes\nnot tokens\n")
    elsewhere = tmp_path / "elsewhere"
    invoke(url, ["token", "add", "alice", "--tokens", elsewhere])
    link = tmp_path / "tokens-link"
    link.symlink_to(elsewhere)
    before = files_of(tmp_path)

    result = invoke(url, ["token", "add", "bob", "--tokens", link], expect=1)
    assert f"{link} is a symbolic link; not following it" in result.stderr
    result = invoke(url, ["token", "remove", "alice", "--tokens", link], expect=1)
    assert "symbolic link" in result.stderr
    assert link.is_symlink()
    result = invoke(url, ["token", "add", "bob", "--tokens", notes], expect=1)
    assert f"{notes}, line 1: expected 'NAME sha256:HEX'" in result.stderr
    result = invoke(url, ["token", "add", "bob", "--tokens", tmp_path], expect=2)
    assert "is a directory" in result.stderr
    result = invoke(url, ["token", "add", "bob", "--tokens", tmp_path / "no" / "t"], expect=1)
    assert "does not exist" in result.stderr
    assert files_of(tmp_path) == before


def test_a_tokens_file_is_replaced_whole_owner_only_with_no_temporary_left(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    tokens = tmp_path / "tokens"
    first = invoke(url, ["token", "add", "alice", "--tokens", tokens]).stdout.strip()
    inode = tokens.stat().st_ino
    second = invoke(url, ["token", "add", "bob", "--tokens", tokens]).stdout.strip()
    assert tokens.stat().st_ino != inode  # a new file renamed into place, not rewritten
    assert tokens.stat().st_mode & 0o777 == 0o600
    assert read_tokens(tokens) == {
        "sha256:" + hashlib.sha256(first.encode()).hexdigest(): "alice",
        "sha256:" + hashlib.sha256(second.encode()).hexdigest(): "bob",
    }
    invoke(url, ["token", "remove", "alice", "--tokens", tokens])
    assert sorted(read_tokens(tokens).values()) == ["bob"]
    assert sorted(os.listdir(tmp_path)) == ["tokens"]


def test_tokens_added_at_the_same_moment_are_all_kept(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    names = [f"writer-{n}" for n in range(24)]
    start = threading.Barrier(len(names))
    failures: list[BaseException] = []

    def add(name: str) -> None:
        start.wait()
        try:
            add_token(tokens, name)
        except BaseException as error:  # shown below, with the name that failed
            failures.append(error)

    threads = [threading.Thread(target=add, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(read_tokens(tokens).values()) == sorted(names)


def test_a_token_revoked_within_one_clock_tick_is_refused_at_once(tmp_path: Path) -> None:
    """Same size, same modification time, same inode: only the content says it changed."""
    tokens = tmp_path / "tokens"
    alice = add_token(tokens, "alice")
    served = Tokens(tokens)
    assert served.holder(alice) == "alice"
    before = tokens.stat()
    text = tokens.read_text()
    replaced = text.replace(hash_token(alice), hash_token(secrets.token_urlsafe(32)))
    assert len(replaced) == len(text)
    with tokens.open("r+", encoding="utf-8") as handle:  # in place, as an editor might
        handle.write(replaced)
    os.utime(tokens, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert served.holder(alice) is None
