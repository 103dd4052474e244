"""The slim hand-over stores what the full decision stores, and refuses what it refuses.

With ``slim``, the import's reading workers encode each record's stored state and hand
over a slim row that the writer appends when its registry confirms what the worker took
for granted (`ledger.parallel_reading`, `Ledger.import_records`); anything else is
decided by `ledger.aggregates.enter`. Here the same files are imported pooled and slim,
and in one process through the full path, on each engine, and every stored row must be
the same (topic, stream, version and state byte for byte, the event's timestamp aside:
it is when the event was made). The files hold generated records of every kind and what
needs a decision: corrections, retractions, revocations, a reference spelled in another
case, an id already entered (in the same file, and in the ledger, in another case), a
record referring to one corrected or retracted earlier in the same batch; the second
file goes into a ledger that holds the first. A refusal (a reference to a retracted
actor, an unknown reference, an id taken by different content) is the same error, at
the same file, record, line and field, either way, and leaves the ledger as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.generator import generate
from ledger import parallel_reading
from ledger.application import Ledger
from ledger.errors import RecordError
from ledger.reading import iter_records
from ledger.store import LogEntry

USER = "slim-test"
_STAMP = re.compile(rb'"_data_":"[^"]*"')


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few records, so that a short file spans many of them."""
    monkeypatch.setattr(parallel_reading, "BLOCK_BYTES", 20_000)
    monkeypatch.setattr(parallel_reading, "FIRST_BLOCK_BYTES", 2_000)


def _stored(app: Ledger) -> list[tuple[Any, ...]]:
    """The rows, each one's leaf hash checked against its canonical bytes (`vouched`)."""
    return [
        (e.position, e.topic, str(e.stream), e.version, _STAMP.sub(b"", e.state))
        for e in map(LogEntry.vouched, app.recorder.iter_log())
    ]


def _counted(items: Iterator[Any], seen: list[int]) -> Iterator[Any]:
    for item in items:
        seen[type(item) is list] += 1
        yield item


def _import(url: str, paths: list[Path], *, slim: bool) -> tuple[list[Any], list[int]]:
    app = Ledger(url)
    seen = [0, 0]  # records handed over as (raw, record), slim rows
    results = []
    for path in paths:
        items = iter_records([str(path)], workers=2 if slim else 0, slim=slim)
        result = app.import_records(_counted(items, seen), USER)
        results.append((result.added, result.unchanged))
    return [results, _stored(app)], seen


def _files(folder: Path) -> list[Path]:
    lines = generate(600, path=folder / "generated.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines]
    state = next(r for r in records if r["kind"] == "actor" and r["type"] == "state")
    statement = next(r for r in records if r["kind"] == "statement" and "id" in r)
    withdrawal = next(r for r in records if r["kind"] == "withdrawal" and "id" in r)
    source = next(r for r in records if r["kind"] == "source")
    extra = [
        # a reference spelled in another case
        {
            "kind": "statement",
            "id": "slim-respelled",
            "date": "2001-02-03",
            "by": state["id"].upper(),
            "stance": "support",
            "summary": "Ünïcödé ✓ text",
        },
        # refers to a record entered just before it (same batch)
        {
            "kind": "statement",
            "id": "slim-after",
            "date": "2001-02-04",
            "by": state["id"],
            "stance": "oppose",
            "about": "SLIM-RESPELLED",
        },
        {
            "kind": "correction",
            "id": "slim-correction",
            "date": "2002",
            "target": statement["id"],
            "set": {"summary": "corrected"},
            "reason": "a report",
        },
        {
            "kind": "revocation",
            "id": "slim-revocation",
            "date": "2003",
            "target": withdrawal["id"],
            "by": withdrawal["by"],
        },
        {
            "kind": "source",
            "id": "slim-src",
            "title": "A source",
            "publisher": "P",
            "published": "2001-01-01",
            "type": "news-report",
            "reliability": "B",
        },
        {
            "kind": "retraction",
            "id": "slim-retraction",
            "date": "2004",
            "target": "slim-src",
            "reason": "never existed",
        },
    ]
    first = [*lines[:-30], b"", lines[5], *map(orjson.dumps, extra)]
    again = dict(source, id=source["id"].upper())  # in the ledger, in another case
    second = [*lines[-30:], lines[3], orjson.dumps(again), lines[-1]]
    paths = [folder / "first.jsonl", folder / "second.jsonl"]
    for path, content in zip(paths, (first, second), strict=True):
        path.write_bytes(b"\n".join(content) + b"\n")
    return paths


def test_slim_rows_are_the_full_paths_rows(
    db_url: str, another_db_url: str, tmp_path: Path
) -> None:
    paths = _files(tmp_path)
    slim, seen = _import(db_url, paths, slim=True)
    full, _ = _import(another_db_url, paths, slim=False)
    assert seen[1] > 2000  # most records came slim
    assert seen[0] >= 3  # the correction, retraction and revocation did not
    assert slim == full


def _refused(url: str, path: Path, *, slim: bool) -> tuple[Any, ...]:
    app = Ledger(url)
    before = _stored(app)
    items = iter_records([str(path)], workers=2 if slim else 0, slim=slim)
    with pytest.raises(RecordError) as caught:
        app.import_records(items, USER)
    assert _stored(app) == before
    error = caught.value
    return error.message, error.field, error.file, error.index, error.line


@pytest.mark.parametrize(
    "bad",
    [
        {
            "kind": "statement",
            "id": "slim-bad",
            "date": "2001",
            "by": "slim-actor",
            "stance": "support",
        },  # refers to a retracted actor
        {
            "kind": "statement",
            "id": "slim-bad",
            "date": "2001",
            "by": "nobody-known",
            "stance": "support",
        },  # an unknown reference
        {"kind": "actor", "id": "SLIM-ACTOR", "name": "Someone else", "type": "person"},
    ],
    ids=["retracted", "unknown", "taken"],
)
def test_a_slim_row_is_refused_as_the_full_path_refuses_it(
    bad: dict[str, Any], db_url: str, another_db_url: str, tmp_path: Path
) -> None:
    lines = generate(300, path=tmp_path / "generated.jsonl").read_bytes().splitlines()
    actor = {"kind": "actor", "id": "slim-actor", "name": "Slim", "type": "person"}
    retraction = {
        "kind": "retraction",
        "id": "slim-gone",
        "date": "2004",
        "target": "slim-actor",
        "reason": "a mistake",
    }
    good = [orjson.dumps(actor), *lines]
    if bad["name" if "name" in bad else "id"] != "Someone else":
        good.append(orjson.dumps(retraction))
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join([*good, orjson.dumps(bad), *lines[:5]]) + b"\n")
    assert _refused(db_url, path, slim=True) == _refused(another_db_url, path, slim=False)
