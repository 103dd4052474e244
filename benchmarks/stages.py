"""Where import and replay time goes, module by module, beside what the raw floors do.

``python -m benchmarks.stages [N] [--engine sqlite|postgres]`` (default 100000, SQLite;
generates the data if missing). It runs the real thing, in this process: the import the
runner times (`benchmarks.steps.ledger_import`: `ledger import` without its catch-up)
and then `ledger replay`, each twice on the same data: once plain, for its CPU time
(``time.process_time``, plus the CPU of any worker processes it started and waited
for), once under cProfile, for the shares. Each function's own time goes to the module
it is defined in (a third-party library counts as one: ``sqlalchemy``, ``pydantic`` …);
the time of built-ins, of the standard library and of C extensions (``json``, ``re``,
``hashlib``, ``uuid``, pydantic-core's validators, msgspec, the drivers' C code) goes to
the module that called them, so ``json.loads`` inside `ledger.reading` counts as reading
and a pydantic model's validation as the module that asked for it. The profiled shares
are scaled to the plain run's CPU time and shown in microseconds per record.

Because it calls only the entry points, it follows the import and replay as they are
rewritten: the modules are the stages, named as the code names them. The import's reading
workers (`ledger.parallel_reading`) are counted apart: their CPU as they report it (they
are the fork server's children, outside ``RUSAGE_CHILDREN``), their shares from their
task run over the whole file in this process under cProfile. Beside it: the floors' own
work per record (a JSON parse and one row inserted; one row selected and one JSON decode).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import sqlite3
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generator import generate

REPO = Path(__file__).resolve().parent.parent
STDLIB = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_DB = "ledger_stages"
SHOWN = 14  # modules shown by name; the rest are summed

Function = tuple[str, int, str]


def _children_cpu() -> float:
    """CPU seconds of this process's children it waited for, and of the import's reading
    workers: those are the fork server's children, which ``RUSAGE_CHILDREN`` never sees,
    so they report their own (`ledger.parallel_reading.workers_cpu`)."""
    from ledger.parallel_reading import workers_cpu

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + workers_cpu()


def cpu_of(work: Callable[[], Any]) -> tuple[float, float]:
    """CPU seconds of `work` in this process, and in the worker processes it used."""
    children = _children_cpu()
    start = time.process_time()
    work()
    return time.process_time() - start, _children_cpu() - children


def _module(function: Function) -> str | None:
    """Who a function's own time belongs to; None: to its callers."""
    path = function[0]
    builtin = path == "~" or path.startswith("<") or path.startswith(STDLIB)
    if builtin and "site-packages" not in path:
        return None
    if "site-packages" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    try:
        relative = Path(path).resolve().relative_to(REPO)
    except ValueError:
        return "other"
    return str(relative.with_suffix("")).replace("/", ".")


def by_module(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per module, built-ins and standard library charged to callers."""
    table: dict[Function, Any] = stats.stats  # type: ignore[attr-defined]
    memo: dict[Function, dict[str, float]] = {}

    def owners(function: Function, depth: int) -> dict[str, float]:
        """The modules a function's time is charged to, as shares summing to 1."""
        if function in memo:
            return memo[function]
        module = _module(function)
        if module is not None:
            return {module: 1.0}
        callers = table.get(function, (0, 0, 0.0, 0.0, {}))[4]
        spent = {caller: values[2] for caller, values in callers.items() if values[2] > 0}
        total = sum(spent.values())
        if depth > 40 or total == 0:
            return {"(interpreter, top level)": 1.0}
        shares: dict[str, float] = defaultdict(float)
        for caller, seconds in spent.items():
            if caller == function:
                continue
            for owner, share in owners(caller, depth + 1).items():
                shares[owner] += share * seconds / total
        memo[function] = dict(shares) or {"(interpreter, top level)": 1.0}
        return memo[function]

    seconds: dict[str, float] = defaultdict(float)
    for function, (_cc, _nc, own, _cum, _callers) in table.items():
        for owner, share in owners(function, 0).items():
            seconds[owner] += own * share
    return dict(seconds)


def shares(run: Callable[[], Any]) -> dict[str, float]:
    """Seconds per module of `run` under cProfile, largest first."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    seconds = by_module(pstats.Stats(profiler))
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))


def table(title: str, count: int, cpu: float, seconds: dict[str, float]) -> dict[str, float]:
    """Print the profiled shares scaled to `cpu` seconds, per record; return them."""
    profiled = sum(seconds.values()) or 1.0
    per_record = {module: s / profiled * cpu / count * 1e6 for module, s in seconds.items()}
    print(f"| {title}: module (own time; built-ins and stdlib charged to the caller) | µs/record |")
    print("|---|---|")
    shown = list(per_record.items())[:SHOWN]
    for module, micros in shown:
        print(f"| `{module}` | {micros:.1f} |")
    rest = sum(micros for _, micros in list(per_record.items())[SHOWN:])
    if rest:
        print(f"| everything else | {rest:.1f} |")
    print(f"| **all of it** | **{cpu / count * 1e6:.1f}** |")
    return per_record


def profile(
    name: str,
    count: int,
    run: Callable[[], Any],
    again: Callable[[], Any],
    worker_task: Callable[[], Any] | None = None,
) -> Any:
    """Run plainly for CPU time, then under cProfile for the shares; print the tables.

    The worker processes' CPU is measured in the plain run; their shares come from
    `worker_task` (the workers' own task over the whole file, run in this process under
    cProfile), scaled to what the workers used.
    """
    cpu, workers = cpu_of(run)
    seconds = shares(again)
    print(
        f"\n{name}: {count:,} records, {cpu / count * 1e6:.1f} µs of CPU per record in the "
        f"importing process, {workers / count * 1e6:.1f} in its workers",
        flush=True,
    )
    result: dict[str, Any] = {
        "records": count,
        "cpu_us_per_record": cpu / count * 1e6,
        "workers_us_per_record": workers / count * 1e6,
        "modules": table(name, count, cpu, seconds),
    }
    if worker_task is not None and workers:
        print()
        result["worker_modules"] = table(
            f"{name}, the workers", count, workers, shares(worker_task)
        )
    elif workers:
        print(f"| worker processes (not profiled) | {workers / count * 1e6:.1f} |")
    return result


def check_blocks(path: Path) -> None:
    """The reading workers' task (`_check_block`) over every block of the file, here."""
    from ledger.parallel_reading import _blocks, _check_block

    with open(path, "rb") as handle:
        for first, block in _blocks(handle):
            _check_block(str(path), first, block)


def fresh(engine: str, directory: Path, name: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{directory / name}.db"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"


def close_engines() -> None:
    from ledger.database import dispose_engines

    dispose_engines()


def ledger_replay(url: str) -> None:
    import cli

    cli.main(["--db", url, "replay"], prog_name="ledger", standalone_mode=False)
    close_engines()


def floors(lines: list[str], url: str, directory: Path) -> dict[str, float]:
    """Microseconds per record of the floors' own work (SQLite, as the runner's)."""
    n = len(lines)
    db = sqlite3.connect(directory / "raw.db")
    db.execute("CREATE TABLE raw (position INTEGER PRIMARY KEY, kind TEXT, record TEXT)")
    start = time.process_time()
    rows = [(i, json.loads(line)["kind"], line) for i, line in enumerate(lines, 1)]
    with db:
        db.executemany("INSERT INTO raw VALUES (?, ?, ?)", rows)
    insert = (time.process_time() - start) / n * 1e6
    db.close()
    result = {"floor: parse and insert one row": insert}
    if url.startswith("sqlite"):
        start = time.process_time()
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        for _position, state in db.execute("SELECT id, state FROM ledger_events ORDER BY id"):
            json.loads(state)
        db.close()
        result["floor: select one row and decode it"] = (time.process_time() - start) / n * 1e6
    for name, micros in result.items():
        print(f"{name}: {micros:.1f} µs/record")
    return result


def main() -> None:
    from benchmarks.steps import ledger_import

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("size", type=int, nargs="?", default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--import-only", action="store_true", help="skip the replay")
    args = parser.parse_args()
    path = generate(args.size)
    lines = path.read_text(encoding="utf-8").splitlines()
    n = len(lines)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        urls = [fresh(args.engine, directory, "plain")]

        def import_into(url: str) -> None:
            with open(os.devnull, "w") as quiet:
                stdout, sys.stdout = sys.stdout, quiet
                try:
                    ledger_import(url, str(path))
                finally:
                    sys.stdout = stdout
            close_engines()

        def import_again() -> None:
            urls.append(fresh(args.engine, directory, "profiled"))
            import_into(urls[-1])

        results = {
            "import": profile(
                "import", n, lambda: import_into(urls[0]), import_again, lambda: check_blocks(path)
            ),
        }
        if not args.import_only:
            results["replay"] = profile(
                "replay", n, lambda: ledger_replay(urls[-1]), lambda: ledger_replay(urls[-1])
            )
        results["floors"] = floors(lines, urls[-1], directory)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
