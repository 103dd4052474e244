"""Four writers at once, on one SQLite file and on one PostgreSQL database.

Each round, four `ledger import` processes start together. Every file holds the same
registry records, two blocks of occurrences it shares with a neighbour (same ids, same
content) and a block only it holds (with corrections and retractions of its own
occurrences). Meanwhile four reader processes run (tests/reliability/
reliability_children.py): one reads the raw log, one asks `Queries.timeline` (which
catches the read models up first), one reads the read-model tables as they stand, one
tails the log after the last position it saw.

Every import must succeed or fail cleanly with a retryable message (and then succeed on
a retry); afterwards no record is missing or duplicated, the log verifies, and the read
models equal a clean rebuild. No reader may ever see part of an import, and the tailer
must see every position exactly once, in order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    REPO,
    Databases,
    assert_clean_failure,
    assert_log_well_formed,
    assert_tracking_within_log,
    catch_up_then_rebuild,
    child_env,
    ledger_state,
    occurrences,
    projected_ids,
    registry_records,
    run_ledger,
    start_ledger,
    verify_ok,
    write_records,
)

#: Concurrency trials: run by CI (the README's command), left out of the fast path.
pytestmark = pytest.mark.slow

WRITERS = 4
ROUNDS = 2
OWN = 1000  # occurrences only one file holds (plus every 50th amended)
SHARED = 150  # occurrences in each block two neighbouring files share
SUFFIXES = (".jsonl", ".json", ".yaml", ".yml")
RETRYABLE = ("run the same command again", "try again")
CHILDREN = Path(__file__).with_name("reliability_children.py")


def _round_files(folder: Path, round_no: int) -> tuple[list[Path], dict[str, Any], set[str]]:
    """The four files of a round, what readers must see of each, and every id in them."""
    shared = [
        occurrences(f"r{round_no}-shared{j}", SHARED, seed=100 * round_no + j, amendments=False)
        for j in range(WRITERS)
    ]
    spec: dict[str, Any] = {"files": {}, "shared": {}, "shared_timeline": {}}
    for j, block in enumerate(shared):
        spec["shared"][f"r{round_no}-shared{j}"] = [r["id"] for r in block]
        spec["shared_timeline"][f"r{round_no}-shared{j}"] = [r["id"] for r in block]
    files, every_id = [], set()
    for k in range(WRITERS):
        own = occurrences(f"r{round_no}-file{k}", OWN, seed=100 * round_no + 10 + k)
        records = registry_records() + shared[k] + own + shared[(k + 1) % WRITERS]
        path = write_records(folder / f"round{round_no}-file{k}{SUFFIXES[k]}", records)
        files.append(path)
        every_id |= {r["id"] for r in records}
        retracted = {r["target"] for r in own if r["kind"] == "retraction"}
        spec["files"][path.name] = {
            "own": [r["id"] for r in own],
            "timeline": [
                r["id"]
                for r in own
                if r["kind"] not in ("correction", "retraction") and r["id"] not in retracted
            ],
            "retracted": sorted(retracted),
            "corrected": {
                r["target"]: r["set"]["summary"] for r in own if r["kind"] == "correction"
            },
        }
    return files, spec, every_id


def _start_readers(url: str, folder: Path, spec_path: Path, stop: Path) -> list[tuple]:
    readers = []
    for role in ("log", "queries", "models", "tail"):
        out = folder / f"{role}.json"
        process = subprocess.Popen(
            [sys.executable, str(CHILDREN), role, url, str(spec_path), str(stop), str(out)],
            env=child_env(),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        readers.append((role, process, out))
    return readers


def _wait_until_reading(readers: list[tuple], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for role, process, out in readers:
        ready = out.with_suffix(".ready")
        while not ready.exists():
            assert process.poll() is None, f"{role} reader died: {process.stderr.read()}"
            assert time.monotonic() < deadline, f"{role} reader never started reading"
            time.sleep(0.05)


def _import_until_done(url: str, path: Path, first: subprocess.Popen[bytes]) -> int:
    """Wait for an import; a clean retryable failure is retried. Returns the attempts."""
    stderr = first.communicate(timeout=600)[1].decode()
    returncode, attempts = first.returncode, 1
    while returncode != 0:
        done = subprocess.CompletedProcess(first.args, returncode, "", stderr)
        assert_clean_failure(done)
        assert any(hint in stderr for hint in RETRYABLE), f"{path.name}: {stderr}"
        assert attempts < 5, f"{path.name}: still refused after {attempts} attempts"
        again = run_ledger(url, "import", str(path))
        returncode, stderr, attempts = again.returncode, again.stderr, attempts + 1
    assert "Traceback" not in stderr, stderr
    return attempts


def test_four_concurrent_importers_lose_nothing_and_readers_never_see_half_an_import(
    databases: Databases, tmp_path: Path
) -> None:
    url = databases.fresh()
    assert run_ledger(url, "init").returncode == 0
    expected: set[str] = set()
    for round_no in range(ROUNDS):
        folder = tmp_path / f"round{round_no}"
        folder.mkdir()
        files, spec, ids = _round_files(folder, round_no)
        expected |= ids
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec))
        stop = folder / "stop"

        readers = _start_readers(url, folder, spec_path, stop)
        writers: list[subprocess.Popen[bytes]] = []
        try:
            _wait_until_reading(readers)  # the writers start while the readers read
            writers = [start_ledger(url, "import", str(path)) for path in files]
            attempts = [_import_until_done(url, p, w) for p, w in zip(files, writers, strict=True)]
        finally:
            stop.touch()
            for process in writers:
                if process.poll() is None:
                    process.kill()
                    process.wait()

        state = ledger_state(url, with_ids=True)
        for role, process, out in readers:
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, f"{role} reader: {err.decode()}"
            seen = json.loads(out.read_text())
            assert not seen["errors"], f"{role} reader failed: {seen['errors'][0]}"
            assert not seen["problems"], f"round {round_no}, {role} reader: {seen['problems']}"
            assert seen["reads"] >= 2, f"{role} reader read only {seen['reads']} times"
            if role == "tail":
                assert seen["last"] == state.size, seen
                assert seen["seen"] == state.size, "the tailer skipped or repeated positions"
        print(f"\n{databases.engine} round {round_no}: import attempts {attempts}")

        assert_log_well_formed(state)
        assert set(state.ids) == expected
        assert_tracking_within_log(state)
        verify_ok(url)
    resumed, rebuilt = catch_up_then_rebuild(url)
    assert resumed.read_models == rebuilt.read_models
    assert resumed.tracking == rebuilt.tracking


def test_catch_up_never_commits_part_of_an_import_to_the_read_models(
    databases: Databases, tmp_path: Path
) -> None:
    """Two imports waiting to be projected, together longer than a catch-up page: after
    every page commit (seen from another connection, as a concurrent query would see it)
    each import is in the read models entirely or not at all."""
    from ledger.application import Ledger
    from ledger.reading import read_records
    from projections.catchup import PAGE_SIZE, catch_up

    url = databases.fresh()
    half = PAGE_SIZE * 2 // 3
    files = {
        name: write_records(
            tmp_path / f"{name}.jsonl", registry_records() + occurrences(name, half, seed=n)
        )
        for n, name in enumerate(("first", "second"))
    }
    app = Ledger(url)
    own = {}
    for name, path in files.items():
        items = read_records(str(path))
        own[name] = {record.id for _, record in items if record.id.startswith(name)}
        app.import_records(items, "reliability")
    assert app.recorder.max_notification_id() > PAGE_SIZE

    seen: list[dict[str, int]] = []

    def look(done: int, target: int) -> None:
        visible = projected_ids(url)
        seen.append({name: len(ids & visible) for name, ids in own.items()})

    catch_up(app, progress=look)
    app.close()
    for counts in seen:
        for name, count in counts.items():
            assert count in (0, len(own[name])), f"{count} of {len(own[name])} of {name}: {seen}"
    assert seen[-1] == {name: len(ids) for name, ids in own.items()}


def test_a_tailer_never_skips_an_event_whose_transaction_commits_late(
    databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import holds its first events, uncommitted, while a second writer (another
    process) is ready to write: the tailer, polling after the last position it saw, sees
    nothing until the first commits, then every position once and in order."""
    import threading

    import ledger.application
    from ledger.application import Ledger
    from ledger.reading import read_records

    url = databases.fresh()
    first = write_records(
        tmp_path / "first.jsonl", registry_records() + occurrences("late", 300, seed=1)
    )
    second = write_records(
        tmp_path / "second.jsonl", registry_records() + occurrences("prompt", 300, seed=2)
    )
    app = Ledger(url)
    monkeypatch.setattr(ledger.application, "BATCH_SIZE", 50)  # saves before it pauses
    items = read_records(str(first))
    paused, release = threading.Event(), threading.Event()

    def held_back() -> Iterator[Any]:
        for n, item in enumerate(items):
            if n == len(items) // 2:
                paused.set()
                release.wait(120)
            yield item

    late = threading.Thread(target=app.import_records, args=(held_back(), "late"))
    late.start()
    assert paused.wait(60)
    assert app.recorder.max_notification_id() is None  # positions taken, not committed
    prompt = start_ledger(url, "import", str(second))

    seen: list[int] = []
    stop = threading.Event()
    tailer = Ledger(url)

    def tail() -> None:
        while True:
            finishing = stop.is_set()
            after = seen[-1] if seen else 0
            notes = tailer.recorder.select_notifications(after + 1, 100)
            seen.extend(note.id for note in notes)
            if finishing and not notes:
                return
            time.sleep(0.001)

    follower = threading.Thread(target=tail)
    follower.start()
    time.sleep(3)  # the second writer has started and is waiting for the first
    assert prompt.poll() is None, "the second writer did not wait for the first"
    assert seen == [], f"the tailer saw {len(seen)} events before the first commit"
    release.set()
    late.join(120)
    assert prompt.wait(120) == 0, prompt.stderr.read().decode()
    prompt.stderr.close()
    stop.set()
    follower.join(60)
    size = app.recorder.max_notification_id()
    assert seen == list(range(1, size + 1)), "the tailer skipped, repeated or reordered"
    assert size == len(items) + len(occurrences("prompt", 300, seed=2))
    tailer.close()
    app.close()
