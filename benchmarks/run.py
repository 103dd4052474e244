"""Benchmark runner: every figure of `benchmarks/RESULTS.md` beside its floors, per engine and size.

``python -m benchmarks.run --sizes 100000 1000000 --engines sqlite postgres``
(``--sizes 10000`` for a quick check). Every step runs in a child process: its wall time
is timed from outside, its CPU seconds and peak memory are the child's own
(``os.wait4``: ``ru_utime + ru_stime``, ``ru_maxrss``). In order, on one ledger per
engine and size:

* import: the write side through the Python API (`benchmarks.steps import`: `ledger
  import` without its catch-up), beside the raw floor: ``sqlite3.executemany`` /
  psycopg ``COPY`` of the same records parsed from the same file;
* catch-up: the first query after that import (``ledger agreement``), which brings the
  empty read models up to the whole log before it answers;
* replay: ``ledger replay`` (every projection from scratch), beside two floors: the
  replay floor (`benchmarks.steps replay-floor`: read and decode every event and insert
  as many read-model rows as the ledger's replay wrote, as plain tuples, with
  ``executemany`` on SQLite and ``COPY`` on PostgreSQL, committed where the ledger
  committed; on PostgreSQL the same with ``executemany`` is shown too) and the
  read-only floor (read and decode every event);
* queries: ``ledger agreement|endorsements|timeline --agreement|agreement --as-of`` for
  the benchmark agreement (median of ``--repeat`` runs), beside the interpreter floor
  ``python -c "import sqlalchemy, click"`` and the driver floor (that, and
  ``create_engine(url)``, which loads the database driver and SQLAlchemy's dialect);
* verify: ``ledger verify`` of the whole ledger (every leaf and head, and the read models
  rebuilt in a scratch database and compared);
* audit: ``ledger audit --format FORMAT -o FILE`` of the whole ledger, per ``--audit-formats``.

Before anything runs the project's modules are compiled to bytecode, as an installed
wheel's are: with ``PYTHONDONTWRITEBYTECODE`` set (or a read-only checkout) each query
would otherwise compile them from source, about 0.1 s that no installed ledger pays.

Results are saved as one JSON file for the whole run under ``benchmarks/data/`` (rewritten
as each engine and size finishes) and printed as Markdown tables for RESULTS.md: one
section per engine and size, then the targets across all of them.
``--markdown FILE.json`` prints the tables of a saved run again.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.generator import BENCH_AGREEMENT, DATA, generate

PYTHON = sys.executable
LEDGER = str(Path(PYTHON).with_name("ledger"))
REPO = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

#: The issue's targets (issue 13): ratios to the floors and peak memory.
IMPORT_TARGET = 0.4  # ≥ this share of the raw import floor's rate
REPLAY_TARGET = 0.4  # ≥ this share of the replay floor's rate
MEMORY_TARGET_MB = 300  # peak RSS of import, replay, verify and audit
QUERY_TARGET = {"sqlite": 1.3, "postgres": 1.5}  # ≤ this many interpreter floors

QUERIES = {
    "agreement": ["agreement", BENCH_AGREEMENT, "--json"],
    "endorsements": ["endorsements", BENCH_AGREEMENT, "--json"],
    "timeline --agreement": ["timeline", "--agreement", BENCH_AGREEMENT, "--json"],
    "agreement --as-of": ["agreement", BENCH_AGREEMENT, "--as-of", "1990-01-01", "--json"],
}
ENGINE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


# -- running children ------------------------------------------------------------------


#: The launcher: it starts each measured child and waits for it. It is made before the
#: runner grows (generating 1M records takes it to ~100 MB), because on Linux a child's
#: ``ru_maxrss`` starts at its parent's high-water mark (exec keeps the old image's peak
#: in the process's signal record): children of the runner itself would all report at
#: least the runner's own peak.
LAUNCHER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["out"], "wb") as out, open(job["err"], "wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(job["cmd"], stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - start
    said = {
        "wall": wall,
        "code": os.waitstatus_to_exitcode(status),
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_kb": usage.ru_maxrss,
    }
    print(json.dumps(said), flush=True)
"""
_launcher: subprocess.Popen[str] | None = None
_launching = threading.Lock()


def launcher() -> subprocess.Popen[str]:
    """The launcher process, started on first use (`main` starts it before anything)."""
    global _launcher
    if _launcher is None or _launcher.poll() is not None:
        _launcher = subprocess.Popen(
            [PYTHON, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
    return _launcher


def measure(cmd: list[str]) -> dict[str, Any]:
    """Run a child; its wall and CPU seconds and peak resident memory (MB); fail loudly."""
    with _launching, tempfile.TemporaryDirectory() as scratch:
        out_path, err_path = Path(scratch, "out"), Path(scratch, "err")
        process = launcher()
        assert process.stdin is not None and process.stdout is not None
        job = {"cmd": cmd, "out": str(out_path), "err": str(err_path)}
        process.stdin.write(json.dumps(job) + "\n")
        process.stdin.flush()
        said = json.loads(process.stdout.readline())
        out, err = out_path.read_bytes(), err_path.read_bytes()
    if said["code"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({said['code']}):\n{err.decode()[-3000:]}")
    return {
        "wall": said["wall"],
        "cpu": said["cpu"],
        "rss_mb": said["rss_kb"] / 1024,
        "stdout": out.decode(errors="replace")[-2000:],
    }


def median_of(cmd: list[str], repeat: int) -> dict[str, Any]:
    runs = [measure(cmd) for _ in range(repeat)]
    return {
        "wall": statistics.median(r["wall"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
        "runs": [{k: r[k] for k in ("wall", "cpu", "rss_mb")} for r in runs],
    }


def step(*args: str) -> list[str]:
    return [PYTHON, "-m", "benchmarks.steps", *args]


def check_entry_point() -> None:
    """Warn when the installed `ledger` script predates its entry point `cli:run`."""
    try:
        script = Path(LEDGER).read_text(encoding="utf-8")
    except OSError:
        return
    if "from cli import run" not in script:
        print(
            f"warning: {LEDGER} was installed before the entry point became cli:run; "
            "reinstall (pip install -e .) or queries are measured without their start-up "
            "as the ledger program has it",
            file=sys.stderr,
        )


def compile_bytecode() -> None:
    """Compile the ledger's modules as installing its wheel would (see the docstring)."""
    for folder in ("ledger", "projections", "web", "benchmarks"):
        compileall.compile_dir(REPO / folder, quiet=1)
    compileall.compile_file(REPO / "cli.py", quiet=1)


# -- databases -------------------------------------------------------------------------


def fresh_database(engine: str, size: int, pg_database: str) -> str:
    if engine == "sqlite":
        path = DATA / f"bench-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {pg_database} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {pg_database}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_database}"


def raw_url(engine: str, size: int, url: str) -> str:
    """The import floor's own database: a separate SQLite file; the same PostgreSQL one."""
    if engine == "sqlite":
        path = DATA / f"bench-{size}-raw.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return url


def database_mb(engine: str, url: str, pg_database: str) -> float:
    if engine == "sqlite":
        path = url.removeprefix("sqlite:///")
        return sum(
            Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
        ) / (2**20)
    import psycopg

    with psycopg.connect(PG_ADMIN) as db:
        row = db.execute("SELECT pg_database_size(%s)", (pg_database,)).fetchone()
    return (row[0] if row else 0) / 2**20


# -- one engine and size ---------------------------------------------------------------


def bench(
    engine: str, size: int, repeat: int, audit_formats: list[str], pg_database: str
) -> dict[str, Any]:
    path = generate(size)
    with path.open("rb") as f:
        events = sum(1 for _ in f)
    url = fresh_database(engine, size, pg_database)
    r: dict[str, Any] = {"engine": engine, "occurrences": size, "events": events}

    def say(what: str) -> None:
        print(f"[{engine} {size}] {what} …", file=sys.stderr, flush=True)

    ledger = [LEDGER, "--db", url]
    say(f"{events} records: raw import")
    r["raw_import"] = measure(step("raw-import", raw_url(engine, size, url), str(path)))
    say("ledger import")
    r["import"] = measure(step("import", url, str(path)))
    say("first query after the import (catch-up)")
    r["catch_up_query"] = measure([*ledger, *QUERIES["agreement"]])
    say("read-only replay floor")
    r["raw_replay"] = measure(step("raw-replay", url))
    say("ledger replay")
    r["replay"] = measure([*ledger, "replay"])
    plan = DATA / f"replay-floor-{engine}-{size}.json"
    r["read_models"] = json.loads(measure(step("read-model-rows", url, str(plan)))["stdout"])
    say(f"replay floor ({r['read_models']['rows']:,} rows)")
    r["replay_floor"] = measure(step("replay-floor", url, str(plan)))
    if engine == "postgres":
        say("replay floor with executemany")
        r["replay_floor_executemany"] = measure(step("replay-floor", url, str(plan), "executemany"))
    say("queries")
    r["floor"] = median_of([PYTHON, "-c", "import sqlalchemy, click"], repeat)
    r["driver_floor"] = median_of(
        [PYTHON, "-c", f"import sqlalchemy, click; sqlalchemy.create_engine({url!r})"], repeat
    )
    r["queries"] = {name: median_of([*ledger, *args], repeat) for name, args in QUERIES.items()}
    say("verify")
    r["verify"] = measure(step("verify", url))
    r["audit"] = {}
    for fmt in audit_formats:
        say(f"audit --format {fmt}")
        out = DATA / f"audit-{engine}-{size}.{fmt}"
        r["audit"][fmt] = measure(step("audit", url, fmt, str(out)))
        r["audit"][fmt]["output_mb"] = out.stat().st_size / 2**20
        out.unlink()
    r["db_mb"] = database_mb(engine, url, pg_database)
    return r


def machine() -> dict[str, str]:
    import sqlite3

    cpu = "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        memory = f"{int(mem) / 2**20:.1f} GB"
    except OSError:
        pass
    info = {
        "cpu": f"{cpu} × {os.cpu_count()}",
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        info["commit"] = commit
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN) as db:
            row = db.execute("SHOW server_version").fetchone()
            if row:
                info["postgresql"] = row[0]
    except Exception:
        pass
    return info


# -- Markdown --------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def _rate(events: int, run: dict[str, Any]) -> str:
    return f"{events / run['wall']:,.0f} ev/s ({run['wall']:.1f} s)"


def _memory(run: dict[str, Any]) -> str:
    return f"{run['rss_mb']:.0f} MB {_mark(run['rss_mb'] <= MEMORY_TARGET_MB)}"


def markdown(r: dict[str, Any]) -> str:
    """One engine and size: every figure beside its floors, then CPU seconds."""
    n = r["events"]
    engine = r["engine"]
    query_target = QUERY_TARGET[engine]
    floor, driver = r["floor"], r["driver_floor"]
    rows = r["read_models"]
    lines = [
        f"### {ENGINE_NAMES[engine]}, N = {r['occurrences']:,} ({n:,} events)",
        "",
        f"| measure | ledger | floor | ratio | target | peak RSS (≤ {MEMORY_TARGET_MB} MB) |",
        "|---|---|---|---|---|---|",
    ]
    ratio = r["raw_import"]["wall"] / r["import"]["wall"]
    lines.append(
        f"| import | {_rate(n, r['import'])} | raw: {_rate(n, r['raw_import'])} | "
        f"{ratio:.2f}× | ≥ {IMPORT_TARGET}× {_mark(ratio >= IMPORT_TARGET)} | "
        f"{_memory(r['import'])} (floor {r['raw_import']['rss_mb']:.0f} MB) |"
    )
    ratio = r["replay_floor"]["wall"] / r["replay"]["wall"]
    lines.append(
        f"| replay | {_rate(n, r['replay'])} | replay floor: {_rate(n, r['replay_floor'])} | "
        f"{ratio:.2f}× | ≥ {REPLAY_TARGET}× {_mark(ratio >= REPLAY_TARGET)} | "
        f"{_memory(r['replay'])} (floor {r['replay_floor']['rss_mb']:.0f} MB) |"
    )
    if "replay_floor_executemany" in r:
        many = r["replay_floor_executemany"]
        ratio = many["wall"] / r["replay"]["wall"]
        lines.append(
            f"| replay | (as above) | replay floor, `executemany`: {_rate(n, many)} | "
            f"{ratio:.2f}× | — | (floor {many['rss_mb']:.0f} MB) |"
        )
    ratio = r["raw_replay"]["wall"] / r["replay"]["wall"]
    lines.append(
        f"| replay | (as above) | read-only floor: {_rate(n, r['raw_replay'])} | "
        f"{ratio:.2f}× | — | (floor {r['raw_replay']['rss_mb']:.0f} MB) |"
    )
    catch_up = r["catch_up_query"]
    lines.append(
        f"| first query after the import (catch-up of {n:,} events) | "
        f"{catch_up['wall']:.1f} s | replay: {r['replay']['wall']:.1f} s | "
        f"{catch_up['wall'] / r['replay']['wall']:.2f}× replay | — | {catch_up['rss_mb']:.0f} MB |"
    )
    verify = r["verify"]
    lines.append(
        f"| `verify` (log and read models) | {_rate(n, verify)} | — | — | — | {_memory(verify)} |"
    )
    for fmt, audit in r.get("audit", {}).items():
        lines.append(
            f"| `audit --format {fmt}` (whole ledger, {audit['output_mb']:,.0f} MB) | "
            f"{_rate(n, audit)} | — | — | — | {_memory(audit)} |"
        )
    for name, q in r["queries"].items():
        ratio = q["wall"] / floor["wall"]
        lines.append(
            f"| `{name}` | {q['wall'] * 1000:.0f} ms | interpreter: {floor['wall'] * 1000:.0f} ms"
            f"; driver: {driver['wall'] * 1000:.0f} ms | {ratio:.2f}× "
            f"({q['wall'] / driver['wall']:.2f}× driver) | ≤ {query_target}× "
            f"{_mark(ratio <= query_target)} | {q['rss_mb']:.0f} MB |"
        )
    lines += [
        "",
        f"Read models after the replay: {rows['rows']:,} rows in {rows['commits']:,} "
        f"transaction(s); database {r['db_mb']:,.0f} MB.",
        "",
        "| CPU seconds (the client's) | ledger | floor | ratio |",
        "|---|---|---|---|",
    ]
    for name, key in (
        ("import", "raw_import"),
        ("replay", "replay_floor"),
        ("replay (read-only floor)", "raw_replay"),
    ):
        own = r["replay" if name.startswith("replay") else "import"]
        lines.append(
            f"| {name} | {own['cpu']:.1f} | {r[key]['cpu']:.1f} | "
            f"{r[key]['cpu'] / own['cpu']:.2f}× |"
        )
    lines.append(f"| catch-up query | {catch_up['cpu']:.1f} | — | — |")
    lines.append(f"| `verify` | {verify['cpu']:.1f} | — | — |")
    for fmt, audit in r.get("audit", {}).items():
        lines.append(f"| `audit --format {fmt}` | {audit['cpu']:.1f} | — | — |")
    for name, q in r["queries"].items():
        lines.append(
            f"| `{name}` | {q['cpu']:.2f} | {floor['cpu']:.2f} (driver {driver['cpu']:.2f}) | "
            f"{q['cpu'] / floor['cpu']:.2f}× |"
        )
    if engine == "postgres":
        lines += ["", "(PostgreSQL CPU figures are the client's only, not the server's.)"]
    return "\n".join(lines) + "\n"


def targets(results: list[dict[str, Any]]) -> str:
    """The issue's targets across every engine and size of the run, met or not."""
    heads = [f"{ENGINE_NAMES[r['engine']]} {r['occurrences']:,}" for r in results]
    lines = [
        "| target | " + " | ".join(heads) + " |",
        "|---|" + "---|" * len(results),
    ]

    def row(name: str, cell: Any) -> None:
        lines.append(f"| {name} | " + " | ".join(cell(r) for r in results) + " |")

    def ratio_cell(ledger: str, floor: str, target: float) -> Any:
        def cell(r: dict[str, Any]) -> str:
            ratio = r[floor]["wall"] / r[ledger]["wall"]
            return f"{ratio:.2f}× {_mark(ratio >= target)}"

        return cell

    row(f"import ≥ {IMPORT_TARGET}× raw floor", ratio_cell("import", "raw_import", IMPORT_TARGET))
    row(
        f"replay ≥ {REPLAY_TARGET}× replay floor",
        ratio_cell("replay", "replay_floor", REPLAY_TARGET),
    )
    for step_name, label in (("import", "import"), ("replay", "replay"), ("verify", "verify")):
        row(
            f"{label} peak ≤ {MEMORY_TARGET_MB} MB",
            lambda r, s=step_name: _memory(r[s]),
        )
    formats = sorted({fmt for r in results for fmt in r.get("audit", {})})
    for fmt in formats:
        row(
            f"audit ({fmt}) peak ≤ {MEMORY_TARGET_MB} MB",
            lambda r, f=fmt: _memory(r["audit"][f]) if f in r.get("audit", {}) else "—",
        )

    def queries(r: dict[str, Any]) -> str:
        def span(figure: str) -> tuple[float, float]:
            ratios = [q[figure] / r["floor"][figure] for q in r["queries"].values()]
            return min(ratios), max(ratios)

        (best, worst), (cpu_best, cpu_worst) = span("wall"), span("cpu")
        target = QUERY_TARGET[r["engine"]]
        return (
            f"{best:.2f}–{worst:.2f}× (≤ {target}×) {_mark(worst <= target)}; "
            f"CPU {cpu_best:.2f}–{cpu_worst:.2f}×"
        )

    row("queries ≤ 1.3× (SQLite) / 1.5× (PostgreSQL) interpreter floor", queries)
    row("catch-up: first query after the import", lambda r: f"{r['catch_up_query']['wall']:.1f} s")
    row("verify of the whole ledger", lambda r: f"{r['verify']['wall']:.1f} s")
    return "\n".join(lines) + "\n"


def report(run: dict[str, Any]) -> str:
    info = run["machine"]
    parts = ["Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + "\n"]
    parts += [markdown(r) for r in run["results"]]
    if run["results"]:
        parts.append("### Targets\n\n" + targets(run["results"]))
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--engines", nargs="+", choices=("sqlite", "postgres"), default=["sqlite"])
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (median)")
    parser.add_argument(
        "--audit-formats",
        nargs="*",
        choices=("md", "html", "json"),
        default=["html"],
        help="whole-ledger audits to run (none: skip)",
    )
    parser.add_argument(
        "--pg-database",
        default="ledger_bench",
        help="PostgreSQL database to drop and create for the run",
    )
    parser.add_argument("--markdown", metavar="JSON", help="print the tables of a saved run")
    args = parser.parse_args()
    if args.markdown:
        print(report(json.loads(Path(args.markdown).read_text(encoding="utf-8"))))
        return
    launcher()  # before the runner grows: see LAUNCHER
    DATA.mkdir(exist_ok=True)
    check_entry_point()
    compile_bytecode()
    run: dict[str, Any] = {"machine": machine(), "results": []}
    out = DATA / f"results-{time.strftime('%Y%m%dT%H%M%S')}.json"
    print("Machine: " + "; ".join(f"{k} {v}" for k, v in run["machine"].items()) + "\n")
    for size in args.sizes:
        for engine in args.engines:
            result = bench(engine, size, args.repeat, args.audit_formats, args.pg_database)
            run["results"].append(result)
            out.write_text(json.dumps(run, indent=2))
            print(markdown(result), flush=True)
    print("### Targets\n\n" + targets(run["results"]))
    print(f"Raw results: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
