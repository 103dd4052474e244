"""A large JSON Lines file checked by worker processes reads exactly as without them.

The pool is only a faster way to the same result: the same records in the same order,
and the same first refusal (file, record index, line, field) wherever in the file it is.
Blocks are made small here so that a short file spans many of them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ledger import parallel_reading
from ledger.errors import RecordError
from ledger.reading import iter_records, read_records
from ledger.vocabulary import Reference, content_digest, references_of, stream_id


def _actor(i: int) -> dict[str, Any]:
    return {"kind": "actor", "id": f"person-{i:05d}", "name": f"Person {i}", "type": "person"}


def _meeting(i: int) -> dict[str, Any]:
    return {"kind": "meeting", "date": "2020-05", "participants": f"person-{i:05d}"}


def _lines(count: int) -> list[str]:
    """Records in every way a line may be written: compact (read by orjson), spaced or
    escaped (re-read by the standard library), shorthand forms, and blank lines."""
    lines = []
    for i in range(count):
        record = _actor(i) if i % 3 else _meeting(i)
        if i % 7 == 0:
            lines.append(json.dumps(record))  # spaces after ':' and ','
        elif i % 11 == 0:
            lines.append(json.dumps(record, ensure_ascii=True) + "  ")
        else:
            lines.append(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
        if i % 13 == 0:
            lines.append("   ")
    return lines


def _write(tmp_path: Path, lines: list[str], name: str = "big.jsonl") -> str:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))
    return str(path)


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel_reading, "BLOCK_BYTES", 2_000)


def _refusal(path: str, workers: int) -> RecordError:
    with pytest.raises(RecordError) as caught:
        list(iter_records([path], workers=workers))
    return caught.value


def test_pooled_and_unpooled_reading_give_identical_records(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(600))
    alone = list(iter_records([path], workers=0))
    assert len(alone) == 600
    assert list(iter_records([path], workers=2)) == alone
    assert read_records(path) == alone


def test_pooled_records_carry_the_digest_and_date_bounds_they_would_work_out_themselves(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, _lines(300))
    pooled = [record for _, record in iter_records([path], workers=2)]
    kept = [vars(record) for record in pooled]
    assert all("digest" in k and "bounds" in k for k in kept)  # worked out by the workers
    assert all("stream" in k and "references" in k for k in kept)
    for record in pooled:
        assert record.digest == content_digest(record.data)
        assert record.stream == stream_id(record.namespace, record.id)
        assert record.references == references_of(record.kind, record.data)
        assert all(type(ref) is Reference for ref in record.references)
        if record.kind == "meeting":
            assert record.bounds == ("2020-05-01", "2020-05-31")


def test_values_json_cannot_carry_exactly_cross_over_as_they_were_read(tmp_path: Path) -> None:
    """An integer past 64 bits (a correction's free-form value) makes orjson refuse the
    block; a float that looks whole must stay a float: both reach the import as read."""
    lines = _lines(200)
    huge = {"kind": "correction", "date": "2020", "target": "x", "reason": "r"}
    lines.insert(100, json.dumps({**huge, "set": {"name": 10**30}}))
    lines.insert(150, json.dumps({**huge, "set": {"name": 1.0}}))
    path = _write(tmp_path, lines)
    alone = list(iter_records([path], workers=0))
    pooled = list(iter_records([path], workers=2))
    assert pooled == alone
    values = [r.data["set"]["name"] for _, r in pooled if r.kind == "correction"]
    assert values == [10**30, 1.0] and type(values[1]) is float


@pytest.mark.parametrize(
    ("bad_line", "field"),
    [
        (json.dumps({**_actor(1), "name": "\u202eevil"}), "name"),
        (
            json.dumps({"kind": "meeting", "date": "2020", "participants": ["a", "A"]}),
            "participants",
        ),
        ('{"kind": "actor", "id": "x", "id": "y"}', None),
        ("{not json}", None),
    ],
    ids=["field", "list", "duplicate-key", "syntax"],
)
def test_an_error_deep_in_a_pooled_file_is_reported_as_without_the_pool(
    tmp_path: Path, bad_line: str, field: str | None
) -> None:
    lines = _lines(500)
    lines.insert(430, bad_line)
    path = _write(tmp_path, lines)
    alone, pooled = _refusal(path, 0), _refusal(path, 2)
    assert pooled == alone
    assert str(pooled) == str(alone)
    assert alone.index == 1 + sum(1 for line in lines[:430] if line.strip())
    assert alone.line == 431 and alone.field == field


def test_bytes_that_are_not_utf8_deep_in_a_pooled_file_are_reported_as_without_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broken.jsonl"
    lines = [line.encode("utf-8") for line in _lines(300)]
    lines.insert(250, b'{"kind": "actor", "name": "\xff"}')
    path.write_bytes(b"\n".join(lines))
    assert _refusal(str(path), 2) == _refusal(str(path), 0)


def test_the_first_refusal_in_file_order_wins_whichever_worker_finishes_first(
    tmp_path: Path,
) -> None:
    lines = _lines(500)
    lines[450] = json.dumps({**_actor(450), "type": "nobody"})
    lines[40] = json.dumps({**_actor(40), "colour": "red"})
    path = _write(tmp_path, lines)
    error = _refusal(path, 2)
    assert (error.line, error.field) == (41, "colour")
    assert error == _refusal(path, 0)


_INTERRUPTED = """
import os, signal, sys
from ledger import parallel_reading
from ledger.reading import iter_records


def main():
    parallel_reading.BLOCK_BYTES = 2_000
    try:
        for number, _ in enumerate(iter_records([sys.argv[1]], workers=2)):
            if number == 10:
                os.killpg(os.getpgid(0), signal.SIGINT)  # Ctrl-C reaches the whole group
                signal.pause()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)


if __name__ == "__main__":  # workers start afresh and import this module: not again
    main()
"""


def test_ctrl_c_leaves_no_worker_behind_and_no_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, _lines(3000))
    script = tmp_path / "interrupted.py"
    script.write_text(_INTERRUPTED, encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, str(script), path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    group = child.pid  # a new session: its process group's id is the child's pid
    try:
        stdout, stderr = child.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        raise
    assert (child.returncode, stdout) == (130, "interrupted\n"), stderr
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 60  # a bound on waiting, not a measure of speed
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return  # nothing of the session is left: no worker, no fork server
        time.sleep(0.1)
    os.killpg(group, signal.SIGKILL)
    pytest.fail("a worker outlived the interrupted import")


def test_the_workers_report_the_cpu_they_used(tmp_path: Path) -> None:
    """The workers are the fork server's children, which the importing process's
    account of its children never sees; benchmarks count them by what they report."""
    path = _write(tmp_path, _lines(600))
    before = parallel_reading.workers_cpu()
    list(iter_records([path], workers=2))
    assert parallel_reading.workers_cpu() > before


def test_a_block_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    import gc

    block = ("\n".join(_lines(20)) + "\n").encode()
    bad = (json.dumps({"kind": "meeting", "date": "2020"}) + "\n").encode()
    assert gc.isenabled()
    for lines in (block, bad):
        parallel_reading._check_block("f.jsonl", 1, lines)
        assert gc.isenabled()
    gc.disable()
    try:
        parallel_reading._check_block("f.jsonl", 1, block)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_blocks_start_small_and_double_up_to_the_block_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The importing process waits for the first block only: it is small, and the
    blocks after it grow to BLOCK_BYTES."""
    monkeypatch.setattr(parallel_reading, "FIRST_BLOCK_BYTES", 500)
    monkeypatch.setattr(parallel_reading, "BLOCK_BYTES", 4_000)
    path = _write(tmp_path, _lines(600))
    with open(path, "rb") as handle:
        sizes = [len(block) for _, block in parallel_reading._blocks(handle)]
    longest = max(len(line) for line in Path(path).read_bytes().split(b"\n")) + 1
    for size, hint in zip(sizes[:-1], [500, 1_000, 2_000, *[4_000] * len(sizes)], strict=False):
        assert hint <= size < hint + longest
    assert sum(sizes) == len(Path(path).read_bytes()) - 3  # all of it, less the BOM


def test_the_workers_fork_server_starts_when_the_records_are_asked_for_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[bool] = []
    monkeypatch.setattr(parallel_reading, "start_workers", lambda: started.append(True))
    path = _write(tmp_path, _lines(50))
    iter_records([path], workers=0)
    iter_records([path, path], workers=0)
    assert started == []
    items = iter_records([path], workers=1)
    assert started == [True]  # before the first record is asked for
    assert len(list(items)) == 50


@pytest.mark.parametrize(("cores", "expected"), [({0, 1}, 2), ({0, 1, 2, 3}, 4), ({0}, 0)])
def test_a_large_file_is_read_by_a_worker_per_core_when_there_are_two_or_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: set[int], expected: int
) -> None:
    """The writer needs less than a core since workers hand over records ready to append,
    so every core gets a worker; one core has nothing to share. A small file is read here."""
    from ledger import reading

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: cores, raising=False)
    large, small = tmp_path / "large.jsonl", tmp_path / "small.jsonl"
    small.write_text("{}\n", encoding="utf-8")
    with large.open("wb") as handle:
        handle.truncate(reading.POOL_MIN_BYTES)
    assert reading._workers_for(str(large), None) == expected
    assert reading._workers_for(str(small), None) == 0
    assert reading._workers_for(str(large), 3) == 3
