"""Where import and replay time goes, stage by stage, beside what the raw floors do.

``python -m benchmarks.stages [N]`` (default 100000; generates the data if missing).
Each stage runs over every record of the benchmark file in this one process, timed
alone with ``time.process_time``, and is reported in microseconds of CPU per record, so
the stages can be set against each other and against the floors' own work (a JSON
parse and one row inserted; one row selected and one JSON decode). This is what the
"what stands in the way" of `benchmarks/RESULTS.md` rests on. Everything is held in
memory between stages (a few GB at N = 100000): it is a profile, not an import.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.generator import generate

T = TypeVar("T")


class MemoryRegistry:
    """The decision's `Registry` port over a dict, filled as records are decided."""

    def __init__(self) -> None:
        from ledger.aggregates import Known

        self.known: dict[tuple[str, str], Known] = {}
        self._known = Known

    def find(self, namespace: str, key: str) -> Any:
        return self.known.get((namespace, key.casefold()))

    def add(self, namespace: str, entry: Any) -> None:
        record = entry.record
        self.known[(namespace, record["id"].casefold())] = self._known(
            id=record["id"],
            kind=record["kind"],
            digest=entry.digest,
            record=record,
            recorded_by=entry.recorded_by,
        )


def timed(name: str, count: int, results: dict[str, float], work: Callable[[], T]) -> T:
    # What earlier stages left in memory is frozen out of the garbage collector's scans:
    # a real import streams, and its heap holds one batch, not the whole file.
    gc.collect()
    gc.freeze()
    start = time.process_time()
    value = work()
    results[name] = (time.process_time() - start) / count * 1e6
    print(f"  {name:<44} {results[name]:8.1f} µs/record", flush=True)
    return value


def import_stages(lines: list[str], directory: Path) -> dict[str, float]:
    from ledger.aggregates import enter
    from ledger.application import Ledger

    n = len(lines)
    results: dict[str, float] = {}
    print(f"import, {n:,} records", flush=True)
    raw = timed("parse JSON (the floor does this too)", n, results, lambda: _parse(lines))
    records = timed("validate (msgspec structs, normalise)", n, results, lambda: _validate(raw))
    registry = MemoryRegistry()

    def decide() -> list[Any]:
        entries = []
        for record in records:
            entry = enter(record, registry, "bench")
            if entry is not None:
                registry.add(record.namespace, entry)
                entries.append(entry)
        return entries

    entries = timed("decide (references, digest, aggregate+event)", n, results, decide)
    events = timed(
        "collect events",
        n,
        results,
        lambda: [event for entry in entries for event in entry.collect_events()],
    )
    app = Ledger(f"sqlite:///{directory / 'stages.db'}")
    stored = timed(
        "encode (eventsourcing mapper, JSON)",
        n,
        results,
        lambda: [app.mapper.to_stored_event(event) for event in events],
    )

    def store() -> None:
        for start in range(0, len(stored), 1000):
            with app.recorder.transaction(commit=True) as session:
                app.recorder._insert_stored_events(session, stored[start : start + 1000])

    timed("store (leaf hash, tree head, SQL insert)", n, results, store)
    results["ledger total"] = sum(results.values())
    floor = _raw_insert(lines, directory / "raw.db")
    results["floor: insert one row"] = floor / n * 1e6
    print(f"  {'floor: insert one row':<44} {results['floor: insert one row']:8.1f}")
    app.close()
    return results


def replay_stages(directory: Path) -> dict[str, float]:
    from ledger.application import Ledger
    from projections.projectors import PROJECTIONS

    app = Ledger(f"sqlite:///{directory / 'stages.db'}")
    n = app.recorder.max_notification_id() or 0
    results: dict[str, float] = {}
    print(f"replay, {n:,} events", flush=True)
    entries = timed(
        "select the log (LogEntry per row)",
        n,
        results,
        lambda: list(app.recorder.iter_log()),
    )
    batch = timed(
        "decode (eventsourcing mapper → domain event)",
        n,
        results,
        lambda: [(e, app.decode(e.stream, e.version, e.topic, e.state)) for e in entries],
    )

    def project() -> None:
        for start in range(0, len(batch), 2000):
            with app.recorder.transaction(commit=True) as session:
                for projection in PROJECTIONS.values():
                    projection.process(session, batch[start : start + 2000])

    timed("project (rows for 5 tables, SQL insert)", n, results, project)
    results["ledger total"] = sum(results.values())
    start = time.process_time()
    db = sqlite3.connect(directory / "stages.db")
    for _position, state in db.execute("SELECT id, state FROM ledger_events ORDER BY id"):
        json.loads(state)
    db.close()
    results["floor: select + decode"] = (time.process_time() - start) / n * 1e6
    print(f"  {'floor: select + decode':<44} {results['floor: select + decode']:8.1f}")
    app.close()
    return results


def _parse(lines: Iterable[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def _validate(raw: Iterable[dict[str, Any]]) -> list[Any]:
    from ledger.records import validate_record

    return [validate_record(r) for r in raw]


def _raw_insert(lines: list[str], path: Path) -> float:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE raw (position INTEGER PRIMARY KEY, kind TEXT, record TEXT)")
    rows = [(i, json.loads(line)["kind"], line) for i, line in enumerate(lines, 1)]
    start = time.process_time()
    with db:
        db.executemany("INSERT INTO raw VALUES (?, ?, ?)", rows)
    db.close()
    return time.process_time() - start


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    lines = generate(size).read_text(encoding="utf-8").splitlines()
    with tempfile.TemporaryDirectory() as directory:
        results = {
            "import": import_stages(lines, Path(directory)),
            "replay": replay_stages(Path(directory)),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
