"""The steps the runner times, each run in a child process of its own.

``python -m benchmarks.steps STEP URL [FILE]`` (``audit URL FORMAT FILE``). The ledger
steps call the same Python API the CLI calls; the raw floors are what the same work
costs with nothing but the driver: they are the yardstick each ledger figure is printed
beside.
"""

from __future__ import annotations

import json
import sys
from typing import Any

RAW_TABLE = "bench_raw"


def ledger_import(url: str, path: str) -> None:
    """The write side only (`ledger import` minus its projection catch-up)."""
    from ledger.application import Ledger
    from ledger.reading import iter_records

    result = Ledger(url).import_records(iter_records([path]), "bench")
    print(json.dumps({"added": result.added}))


def ledger_verify(url: str) -> None:
    """`ledger verify`: every leaf and tree head recomputed, then the read models compared
    with a rebuild from the log (what the command does without --log-only)."""
    from ledger.application import Ledger
    from ledger.integrity import verify
    from projections.crosscheck import check_read_models

    app = Ledger(url)
    result = verify(app)
    read_models = check_read_models(app) if result.ok else None
    ok = result.ok and read_models is not None and read_models.ok
    print(json.dumps({"ok": ok, "size": result.size}))


def ledger_audit(url: str, fmt: str, path: str) -> None:
    """The whole-ledger audit in one format, written to `path` as `ledger audit -o` does."""
    from pathlib import Path

    from ledger.application import Ledger
    from ledger.outputs import write_file
    from projections.reports import write_report

    app = Ledger(url)
    write_file(path, lambda out: write_report(app, out, fmt), force=True)
    print(json.dumps({"format": fmt, "bytes": Path(path).stat().st_size}))


def _driver_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _rows(path: str) -> Any:
    with open(path, encoding="utf-8") as lines:
        for position, line in enumerate(lines, start=1):
            record = json.loads(line)
            yield position, record["kind"], json.dumps(record, separators=(",", ":"))


def raw_import(url: str, path: str) -> None:
    """Parse every line and insert it, in one transaction: sqlite3 executemany, psycopg COPY."""
    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        db.execute(
            f"CREATE TABLE {RAW_TABLE} (position INTEGER PRIMARY KEY, kind TEXT, record TEXT)"
        )
        with db:
            db.executemany(f"INSERT INTO {RAW_TABLE} VALUES (?, ?, ?)", _rows(path))
        db.close()
    else:
        import psycopg

        with psycopg.connect(_driver_url(url)) as db:
            db.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
            db.execute(
                f"CREATE TABLE {RAW_TABLE} (position BIGINT PRIMARY KEY, kind TEXT, record TEXT)"
            )
            with db.cursor().copy(f"COPY {RAW_TABLE} FROM STDIN") as copy:
                for row in _rows(path):
                    copy.write_row(row)


def raw_replay(url: str) -> None:
    """Select every stored event in log order and decode its JSON, streaming."""
    query = "SELECT id, state FROM ledger_events ORDER BY id"
    count = 0
    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        for _id, state in db.execute(query):
            json.loads(state)
            count += 1
    else:
        import psycopg

        with psycopg.connect(_driver_url(url)) as db, db.cursor(name="replay") as cursor:
            cursor.itersize = 5000
            cursor.execute(query)
            for _id, state in cursor:
                json.loads(bytes(state))
                count += 1
    print(json.dumps({"events": count}))


def main() -> None:
    step, url, *rest = sys.argv[1:]
    steps = {
        "import": ledger_import,
        "raw-import": raw_import,
        "raw-replay": raw_replay,
        "verify": ledger_verify,
        "audit": ledger_audit,
    }
    steps[step](url, *rest)


if __name__ == "__main__":
    main()
