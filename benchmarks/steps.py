"""The steps the runner times, each run in a child process of its own.

``python -m benchmarks.steps STEP URL [ARG]``. The ledger steps call the same Python API
the CLI calls (or the CLI itself, in this process); the raw floors are what the same work
costs with nothing but the driver: they are the yardstick each ledger figure is printed
beside.

* ``import URL FILE``: the write side (`ledger import` without its catch-up);
* ``raw-import URL FILE``: the import floor (parse each line, insert one row);
* ``raw-replay URL``: the read-only replay floor (select every event, decode its JSON);
* ``read-model-rows URL PLAN``: not timed: after `ledger replay`, count the rows of every
  read-model table and note where the replay committed (its tracking positions) in PLAN;
* ``replay-floor URL PLAN``: the replay floor: what `raw-replay` does, plus the same
  number of read-model rows inserted in the same transactions (see `replay_floor`);
* ``verify URL``: `ledger verify` of the whole ledger (log and read models);
* ``audit URL FORMAT OUT``: `ledger audit` of the whole ledger into the file OUT.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

RAW_TABLE = "bench_raw"
FLOOR_PREFIX = "bench_floor_"
#: Events read per page, as catch-up reads them (`projections.catchup.PAGE_SIZE`).
PAGE = 2000


def ledger_import(url: str, path: str) -> None:
    """The write side only (`ledger import` minus its projection catch-up).

    Prints the CPU seconds of its reading workers beside the count: they are the fork
    server's children, which the runner's ``wait4`` of this process does not see.
    """
    from ledger.application import Ledger
    from ledger.parallel_reading import workers_cpu
    from ledger.reading import iter_records

    result = Ledger(url).import_records(iter_records([path], slim=True), "bench")
    print(json.dumps({"added": result.added, "workers_cpu": round(workers_cpu(), 3)}))


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


def read_model_rows(url: str, plan_path: str) -> None:
    """What the replay floor must match: rows per read-model table, and the commits.

    The tables are the projections' own (`projections.models.PROJECTION_TABLES`), so the
    count follows the read side as it changes; each column is reduced to the kind of
    value the floor writes into it. The commits are the positions of the projections'
    tracking records: catch-up writes one per transaction.
    """
    from sqlalchemy import Boolean, Integer, String, Text, func, select, text

    from ledger.database import engine_for, tracking_table
    from projections.models import PROJECTION_TABLES

    def kind(column: Any) -> str:
        if isinstance(column.type, Boolean):
            return "bool"
        if isinstance(column.type, Integer):
            return "int"
        if isinstance(column.type, String) and not isinstance(column.type, Text):
            return "str" if column.type.length and column.type.length <= 200 else "text"
        return "text"

    tables: dict[str, Any] = {}
    with engine_for(url).connect() as db:
        for projection_tables in PROJECTION_TABLES.values():
            for table in projection_tables:
                rows = db.execute(select(func.count()).select_from(table)).scalar_one()
                tables[table.name] = {"rows": rows, "columns": [kind(c) for c in table.columns]}
        commits = sorted(
            db.execute(
                select(tracking_table.c.notification_id)
                .where(tracking_table.c.application_name.in_(list(PROJECTION_TABLES)))
                .distinct()
            ).scalars()
        )
        events = db.execute(text("SELECT max(id) FROM ledger_events")).scalar_one() or 0
    plan = {"events": events, "tables": tables, "commits": commits}
    with open(plan_path, "w", encoding="utf-8") as out:
        json.dump(plan, out)
    print(json.dumps({"rows": sum(t["rows"] for t in tables.values()), "commits": len(commits)}))


def _pages(last: int, commits: list[int], head: int) -> Iterator[tuple[int, bool]]:
    """(end, commit) of each page after `last`: at most PAGE events, never past a commit."""
    boundaries = iter([c for c in commits if c > last] + [head])
    boundary = next(boundaries)
    while last < head:
        end = min(last + PAGE, boundary)
        commit = end == boundary
        yield end, commit
        if commit:
            boundary = next(boundaries, head)
        last = end


def replay_floor(url: str, plan_path: str, method: str = "") -> None:
    """The least a projection must do: read and decode every event, insert its rows.

    Every stored event is read in log order, a page at a time, and its JSON decoded, as
    in `raw_replay`; then the ledger's replay is matched row for row: each read-model
    table (counted after `ledger replay`, see `read_model_rows`) gets as many rows, spread
    evenly over the events, into a table of the same columns without indexes or
    constraints, as plain tuples, one `executemany` (SQLite) or ``COPY`` (PostgreSQL) per
    table and page, committed at the positions where the ledger's replay committed.
    Values come from the event: its position for numbers, its topic for short strings,
    its stored JSON for text.

    On PostgreSQL psycopg's `executemany` sends one INSERT per row (pipelined), three
    times slower than ``COPY`` at 10k here, and slower than the multi-row INSERTs
    SQLAlchemy itself sends: not the least a projection must do. `method` asks for
    ``executemany`` or ``copy`` all the same (the runner shows both on PostgreSQL).
    """
    with open(plan_path, encoding="utf-8") as plan_file:
        plan = json.load(plan_file)
    events, commits = plan["events"], plan["commits"]
    tables = [
        (FLOOR_PREFIX + name, spec["rows"], spec["columns"])
        for name, spec in plan["tables"].items()
    ]
    sqlite = url.startswith("sqlite")
    method = method or ("executemany" if sqlite else "copy")
    if sqlite and method != "executemany":
        raise SystemExit("SQLite has no COPY: the replay floor uses executemany there")
    mark = "?" if sqlite else "%s"
    if sqlite:
        import sqlite3

        db: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        types = {"int": "INTEGER", "str": "TEXT", "text": "TEXT", "bool": "BOOLEAN"}
    else:
        import psycopg

        db = psycopg.connect(_driver_url(url), autocommit=True)
        types = {"int": "BIGINT", "str": "VARCHAR(200)", "text": "TEXT", "bool": "BOOLEAN"}
    inserts = []
    for name, _rows, columns in tables:
        db.execute(f"DROP TABLE IF EXISTS {name}")
        db.execute(
            f"CREATE TABLE {name} ("
            + ", ".join(f"c{i} {types[k]}" for i, k in enumerate(columns))
            + ")"
        )
        inserts.append(f"INSERT INTO {name} VALUES ({', '.join([mark] * len(columns))})")
    query = "SELECT id, topic, state FROM ledger_events WHERE id > {0} AND id <= {0} ORDER BY id"
    query = query.format(mark)
    written = [0] * len(tables)
    index = 0
    last = 0
    db.execute("BEGIN")
    for end, commit in _pages(0, commits, events):
        batches: list[list[tuple[Any, ...]]] = [[] for _ in tables]
        for position, topic, state in db.execute(query, (last, end)):
            stored = state if isinstance(state, str) else bytes(state).decode()
            json.loads(stored)
            index += 1
            values = {"int": position, "str": topic, "text": stored, "bool": False}
            for t, (_name, rows, columns) in enumerate(tables):
                due = rows * index // events
                if due > written[t]:
                    row = tuple(values[k] for k in columns)
                    batches[t].extend([row] * (due - written[t]))
                    written[t] = due
        for (name, _rows, _columns), insert, batch in zip(tables, inserts, batches, strict=True):
            if not batch:
                continue
            if method == "executemany":
                db.cursor().executemany(insert, batch)
            else:
                with db.cursor().copy(f"COPY {name} FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
        last = end
        if commit:
            db.execute("COMMIT")
            db.execute("BEGIN")
    db.execute("COMMIT")
    for name, _rows, _columns in tables:
        db.execute(f"DROP TABLE {name}")
    db.close()
    print(json.dumps({"events": index, "rows": sum(written), "method": method}))


def verify(url: str) -> None:
    """`ledger verify`: every leaf and tree head, then the read models rebuilt and compared."""
    _ledger_command(["--db", url, "verify", "--json"])


def audit(url: str, fmt: str, out: str) -> None:
    """`ledger audit` of the whole ledger, written to a file as a user would."""
    _ledger_command(["--db", url, "audit", "--format", fmt, "-o", out, "--force"])


def _ledger_command(args: list[str]) -> None:
    import cli

    cli.main(args, prog_name="ledger")


def main() -> None:
    step, url, *rest = sys.argv[1:]
    steps: dict[str, Any] = {
        "import": ledger_import,
        "raw-import": raw_import,
        "raw-replay": raw_replay,
        "read-model-rows": read_model_rows,
        "replay-floor": replay_floor,
        "verify": verify,
        "audit": audit,
    }
    steps[step](url, *rest)


if __name__ == "__main__":
    main()
