"""Shared helpers of the reliability suite: generated ledgers, child processes, snapshots.

Nothing here is a test. Files are generated at test time into temporary folders (a few
thousand records each, so that a kill lands in the middle of the work), databases are
cloned from a prepared one per trial (a file copy on SQLite, ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL), and the state of the log and of the read models is summed
up as plain data so that two states compare with ``==``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from engines import POSTGRES
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

REPO = Path(__file__).resolve().parents[2]

STATES = ["IRQ", "IRN", "USA", "LBN", "TUR", "SYR", "JOR", "SAU", "EGY", "QAT", "OMN", "KWT"]
STANCES = ["support", "oppose", "clarify", "reaffirm", "deny", "condemn", "neutral"]


# --- generated records ---------------------------------------------------------------


def registry_records() -> list[dict[str, Any]]:
    """Sources, states, people and agreements every generated file may refer to.

    The same list (same content) in every file: importing it twice adds nothing, so files
    that all start with it overlap without conflicting.
    """
    records: list[dict[str, Any]] = [
        {"kind": "source", "id": f"src-{n}", "title": f"Report {n}", "type": "news-report"}
        for n in range(5)
    ]
    records += [{"kind": "actor", "id": s, "name": f"State {s}", "type": "state"} for s in STATES]
    records += [
        {
            "kind": "actor",
            "id": f"person-{n}",
            "name": f"Person {n}",
            "type": "person",
            "country": STATES[n % len(STATES)],
        }
        for n in range(20)
    ]
    records += [
        {
            "kind": "agreement",
            "id": f"agr-{n}",
            "title": f"Agreement {n}",
            "type": "treaty" if n % 2 else "memorandum-of-understanding",
            "parties": [STATES[n % len(STATES)], STATES[(n + 3) % len(STATES)]],
        }
        for n in range(30)
    ]
    return records


def occurrence(prefix: str, n: int, rng: random.Random) -> dict[str, Any]:
    """One of several kinds of occurrence, its id naming the prefix (the file it came from)."""
    agreement = f"agr-{rng.randrange(30)}"
    a, b = rng.sample(STATES, 2)
    day = f"20{rng.randrange(10, 25)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    base = {
        "id": f"{prefix}-{n}",
        "date": day,
        "sources": [f"src-{rng.randrange(5)}"],
        "summary": f"{prefix} occurrence {n}",
    }
    choice = n % 6
    if choice == 0:
        return {
            "kind": "signing",
            **base,
            "agreement": agreement,
            "signatories": [
                {"actor": a},
                {"actor": f"person-{rng.randrange(20)}", "on_behalf_of": b},
            ],
        }
    if choice == 1:
        return {"kind": "ratification", **base, "agreement": agreement, "by": a}
    if choice == 2:
        return {
            "kind": "statement",
            **base,
            "by": a,
            "stance": rng.choice(STANCES),
            "about": [agreement],
        }
    if choice == 3:
        return {"kind": "meeting", **base, "participants": [a, b], "about": [agreement]}
    if choice == 4:
        return {"kind": "visit", **base, "date": f"[{day}..{day[:8]}28]", "visitor": a, "host": b}
    return {"kind": "withdrawal", **base, "agreement": agreement, "by": a}


def occurrences(prefix: str, count: int, seed: int, amendments: bool = True) -> list[dict]:
    """`count` occurrences; every 50th is followed by a correction or retraction of it."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for n in range(count):
        records.append(occurrence(prefix, n, rng))
        if amendments and n % 50 == 49:
            target = records[-1]["id"]
            if n % 100 == 49:
                records.append(
                    {
                        "kind": "correction",
                        "id": f"{prefix}-fix-{n}",
                        "date": "2025-09-01",
                        "target": target,
                        "set": {"summary": f"corrected {target}"},
                        "reason": "a later report",
                    }
                )
            else:
                records.append(
                    {
                        "kind": "retraction",
                        "id": f"{prefix}-retract-{n}",
                        "date": "2025-09-02",
                        "target": target,
                        "reason": "the report was withdrawn",
                    }
                )
    return records


def write_records(path: Path, records: Sequence[dict[str, Any]]) -> Path:
    """Write records in the format the file's suffix names."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(list(records)), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(list(records), sort_keys=False), encoding="utf-8")
    return path


# --- child processes -----------------------------------------------------------------


def ledger_command() -> list[str]:
    """The installed console script, next to the interpreter running the tests."""
    script = Path(sys.executable).parent / "ledger"
    if script.exists():
        return [str(script)]
    found = shutil.which("ledger")
    assert found, "the `ledger` console script is not installed (pip install -e '.[test]')"
    return [found]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["LEDGER_USER"] = "reliability"
    env.pop("LEDGER_DB", None)
    return env


def run_ledger(url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ledger_command(), "--db", url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        cwd=REPO,
    )


def start_ledger(url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*ledger_command(), "--db", url, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_env(),
        cwd=REPO,
    )


def timed_run(url: str, *args: str) -> float:
    """Seconds an uninterrupted child takes, from spawn to exit; it must succeed."""
    started = time.perf_counter()
    done = run_ledger(url, *args)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    return elapsed


def kill_after(child: subprocess.Popen[bytes], delay: float) -> bool:
    """SIGKILL the child `delay` seconds after spawn; True if it was still running."""
    deadline = time.perf_counter() + delay
    while time.perf_counter() < deadline:
        if child.poll() is not None:
            break
        time.sleep(min(0.005, max(0.0, deadline - time.perf_counter())))
    alive = child.poll() is None
    if alive:
        os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    if child.stderr is not None:
        child.stderr.close()
    return alive


def assert_clean_failure(done: subprocess.CompletedProcess[str]) -> None:
    """Exit status 1 with a one-line reason on stderr, never a traceback."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr
    assert done.stderr.strip().startswith("Error:"), done.stderr


def assert_clean_refusal(result: Any, *named: str) -> None:
    """A CliRunner result: exit 1, `Error: …` on stderr naming each of `named`, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code == 1, (result.exit_code, result.output[-500:])
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: "), result.stderr[:500]
    from ledger.display import visible

    for name in named:
        # Messages show control characters escaped and cut long values after 60 characters.
        shown = visible(name)[:60]
        assert shown in result.stderr, (shown, result.stderr[:500])


# --- databases -----------------------------------------------------------------------


@dataclass
class Databases:
    """Per-engine creation and cloning of ledger databases for trials."""

    engine: str
    folder: Path
    created: list[str]

    def fresh(self) -> str:
        if self.engine == "sqlite":
            path = self.folder / f"{uuid.uuid4().hex[:8]}.db"
            return f"sqlite:///{path}"
        url = POSTGRES.create()
        self.created.append(url)
        return url

    def clone(self, url: str) -> str:
        """A copy of a ledger no process has open (engines disposed)."""
        if self.engine == "sqlite":
            source = Path(make_url(url).database or "")
            target = self.folder / f"{uuid.uuid4().hex[:8]}.db"
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{source}{suffix}").exists():
                    shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
            return f"sqlite:///{target}"
        copy = POSTGRES.create(template=make_url(url).database)
        self.created.append(copy)
        return copy

    def drop(self, url: str) -> None:
        if self.engine == "sqlite":
            path = make_url(url).database or ""
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            POSTGRES.drop(url)
            if url in self.created:
                self.created.remove(url)

    def drop_all(self) -> None:
        for url in list(self.created):
            POSTGRES.drop_soon(url)
        self.created.clear()


# --- what a ledger holds -------------------------------------------------------------

#: Read-model tables and the columns that order their rows (their primary keys).
READ_MODEL_TABLES = {
    "rm_registry": "namespace, key",
    "rm_occurrences": "vid",
    "rm_occurrence_actors": "vid, seq",
    "rm_occurrence_agreements": "vid, agreement",
    "rm_endorsements": "vid, seq",
    "rm_amendments": "position",
}


def _raw_engine(url: str):  # type: ignore[no-untyped-def]
    """A plain engine of our own, not the ledger's (so no locks and no pragmas of its)."""
    if url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool, connect_args={"timeout": 60})
    return create_engine(url, poolclass=NullPool)


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, bool):
        return int(value)  # SQLite keeps booleans as 0/1
    return value


@dataclass(frozen=True)
class LedgerState:
    """The log (position, leaf hash), record ids, tree heads, tracking, read-model digests."""

    log: tuple[tuple[int, bytes], ...]
    ids: tuple[str, ...]
    heads: tuple[int, ...]
    tracking: dict[str, int]
    read_models: dict[str, tuple[int, str]]  # table → (row count, digest of ordered rows)
    max_read_model_position: int

    @property
    def size(self) -> int:
        return len(self.log)


def ledger_state(url: str, *, with_ids: bool = False) -> LedgerState:
    """Everything a trial compares, read in one transaction of a connection of our own."""
    engine = _raw_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            log = tuple(
                (row[0], bytes(row[1]))
                for row in conn.execute(text("SELECT id, leaf_hash FROM ledger_events ORDER BY id"))
            )
            ids: tuple[str, ...] = ()
            if with_ids:
                ids = tuple(
                    json.loads(bytes(row[0]))["record"]["id"]
                    for row in conn.execute(text("SELECT state FROM ledger_events ORDER BY id"))
                )
            heads = tuple(
                r[0] for r in conn.execute(text("SELECT size FROM ledger_events_merkle ORDER BY 1"))
            )
            tracking = {
                r[0]: r[1]
                for r in conn.execute(
                    text("SELECT application_name, notification_id FROM ledger_tracking")
                )
            }
            models: dict[str, tuple[int, str]] = {}
            for table, order in READ_MODEL_TABLES.items():
                digest = hashlib.sha256()
                count = 0
                for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}")):
                    digest.update(repr(tuple(_plain(v) for v in row)).encode())
                    count += 1
                models[table] = (count, digest.hexdigest())
            highest = 0
            for table, column in (
                ("rm_registry", "position"),
                ("rm_occurrences", "vid"),
                ("rm_amendments", "position"),
            ):
                value = conn.execute(text(f"SELECT max({column}) FROM {table}")).scalar()
                highest = max(highest, value or 0)
    finally:
        engine.dispose()
    return LedgerState(log, ids, heads, tracking, models, highest)


def projected_ids(url: str) -> set[str]:
    """Ids of the occurrences and amendments the read models hold, from a connection of
    our own (what a query running in another process would find)."""
    engine = _raw_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT occurrence FROM rm_occurrences")).scalars()
            found = set(versions)
            found |= set(conn.execute(text("SELECT id FROM rm_amendments")).scalars())
    finally:
        engine.dispose()
    return found


def assert_log_well_formed(state: LedgerState) -> None:
    """Contiguous positions from 1, no record id twice, a tree head ending the log."""
    positions = [p for p, _ in state.log]
    assert positions == list(range(1, len(positions) + 1)), "the log has a gap"
    if state.ids:
        assert len(state.ids) == len(set(state.ids)), "a record was stored twice"
    if positions:
        assert state.heads and state.heads[-1] == positions[-1], "no tree head ends the log"
    assert all(a < b for a, b in zip(state.heads, state.heads[1:], strict=False))


def assert_tracking_within_log(state: LedgerState) -> None:
    """No tracking record, and no read-model row, points past what the log holds."""
    for name, position in state.tracking.items():
        assert position <= state.size, f"{name} tracks {position}, the log holds {state.size}"
    tracked = max(state.tracking.values(), default=0)
    assert state.max_read_model_position <= tracked, (
        f"read models hold rows from position {state.max_read_model_position}, "
        f"tracking says {tracked}"
    )


def verify_ok(url: str) -> None:
    """`ledger verify` in-process: every leaf and tree head recomputes."""
    from ledger.application import Ledger
    from ledger.integrity import verify

    app = Ledger(url, create=False)
    try:
        result = verify(app)
        assert result.ok, result.problems
    finally:
        app.close()


@contextmanager
def one_process(url: str, *, create: bool = True) -> Iterator[Any]:
    """A ledger opened for one step, then let go of as a process's exit would: closed,
    and no pooled connection left to the next step."""
    from ledger.application import Ledger
    from ledger.database import dispose_engines

    app = Ledger(url, create=create)
    try:
        yield app
    finally:
        app.close()
        dispose_engines()


def restart_catch_up(url: str) -> LedgerState:
    """What a restarted process reaches: the projections caught up from where they were."""
    from projections.catchup import catch_up

    with one_process(url, create=False) as app:
        catch_up(app)
    return ledger_state(url, with_ids=True)


def clean_rebuild(url: str) -> LedgerState:
    """The read models rebuilt from the log alone (`replay`: reset, then catch up)."""
    from projections.catchup import replay

    with one_process(url, create=False) as app:
        replay(app)
    return ledger_state(url, with_ids=True)


def catch_up_then_rebuild(url: str) -> tuple[LedgerState, LedgerState]:
    """The state a restarted projection reaches, and the state of a clean rebuild."""
    return restart_catch_up(url), clean_rebuild(url)


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def build_ledger(url: str, *files: Path) -> None:
    """Import files in-process (one transaction each), bring projections up, let go of it."""
    from ledger.reading import read_records
    from projections.catchup import catch_up

    with one_process(url) as app:
        for path in files:
            app.import_records(read_records(str(path)), "reliability")
        catch_up(app)


def stratified_delays(rng: random.Random, duration: float, trials: int) -> list[float]:
    """One delay drawn uniformly from each of `trials` equal slices of [0, duration],
    shuffled: seeded, and spread over the whole run rather than bunched by chance."""
    width = duration / trials
    delays = [width * (slot + rng.random()) for slot in range(trials)]
    rng.shuffle(delays)
    return delays
