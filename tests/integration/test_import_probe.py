"""The import probe (benchmarks/import_probe.py) does the import's work: its rows are the
ledger's rows.

What the probe measures is only worth something if it does everything the ledger's import
does per record. Here the same files go through `Ledger.import_records` and through each
of the probe's modes, and every stored row must be the same: stream, version, topic and
state byte for byte (the event's timestamp aside: it is the time the event was made), the
leaf hash that of the row's canonical bytes, the last tree head the root of the leaves.
The files hold what takes the probe's rare path: corrections and retractions, a reference
spelled in another case, a record already entered, a blank line; a second file goes into
a ledger that already holds the first (the store's lookups).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest

from benchmarks.generator import generate
from benchmarks.import_probe import init, run
from ledger.application import Ledger
from ledger.database import dispose_engines
from ledger.merkle import leaf_hash, root_hash
from ledger.reading import iter_records
from ledger.store import canonical_bytes

USER = "probe-test"
_STAMP = re.compile(rb'"_data_":"[^"]*"')


def _rows(path: Path) -> tuple[list[tuple[Any, ...]], bytes]:
    db = sqlite3.connect(path)
    try:
        rows = list(
            db.execute(
                "SELECT id, originator_id, originator_version, topic, state, recorded_at, "
                "leaf_hash FROM ledger_events ORDER BY id"
            )
        )
        (root,) = db.execute(
            "SELECT root FROM ledger_events_merkle ORDER BY size DESC LIMIT 1"
        ).fetchone()
    finally:
        db.close()
    return rows, root


def _comparable(path: Path) -> list[tuple[Any, ...]]:
    """The rows with each event's timestamp masked, once each row's leaf and the last
    tree head are checked."""
    rows, root = _rows(path)
    for position, stream, version, topic, state, recorded_at, leaf in rows:
        bytes_ = canonical_bytes(position, recorded_at, UUID(bytes=stream), version, topic, state)
        assert leaf_hash(bytes_) == leaf, position
    assert root_hash([row[6] for row in rows]) == root
    return [(r[0], r[1], r[2], r[3], _STAMP.sub(b"", r[4])) for r in rows]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("probe")
    lines = generate(1000, path=folder / "generated.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines]
    state = next(r for r in records if r["kind"] == "actor" and r["type"] == "state")
    occurrence = next(r for r in records if r["kind"] == "statement" and "id" in r)
    respelled = {
        "kind": "statement",
        "id": "probe-respelled",
        "date": "2001-02-03",
        "by": state["id"].lower(),
        "stance": "support",
    }
    first = [*lines[:-20], b"", lines[5], orjson.dumps(respelled)]
    correction = {
        "kind": "correction",
        "id": "probe-correction",
        "date": "2002",
        "target": occurrence["id"].upper(),
        "set": {"summary": "corrected by the second file"},
        "reason": "a later report",
    }
    second = [*lines[-20:], lines[3], orjson.dumps(correction)]
    paths = folder / "first.jsonl", folder / "second.jsonl"
    for path, content in zip(paths, (first, second), strict=True):
        path.write_bytes(b"\n".join(content) + b"\n")
    return paths


def _ledger_import(tmp_path: Path, files: tuple[Path, Path]) -> Path:
    db = tmp_path / "ledger.db"
    app = Ledger(f"sqlite:///{db}")
    for path in files:
        app.import_records(iter_records([str(path)], workers=0), USER)
    dispose_engines()
    return db


@pytest.mark.parametrize(("mode", "workers"), [("one", 1), ("split", 1), ("split-leaf", 2)])
def test_the_probe_stores_the_rows_the_ledger_stores(
    mode: str,
    workers: int,
    files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEDGER_USER", USER)
    expected = _comparable(_ledger_import(tmp_path, files))
    db = tmp_path / "probe.db"
    init(f"sqlite:///{db}")
    dispose_engines()
    said = [run(f"sqlite:///{db}", str(path), mode, workers) for path in files]
    assert [s["lookups"] for s in said] == [False, True]
    assert [s["unchanged"] for s in said] == [1, 1]
    assert _comparable(db) == expected
