"""Benchmark runner: import, replay and query latencies beside raw floors, per engine and size.

``python -m benchmarks.run --sizes 100000 1000000 --engines sqlite postgres``
(``--sizes 10000`` for a quick check). Every step runs in a child process: its wall time
is timed from outside and its peak memory is the child's ``ru_maxrss`` (``os.wait4``).

* import: the write side through the Python API (`benchmarks.steps import`), beside
  ``sqlite3.executemany`` / psycopg ``COPY`` of the same records parsed from the same file;
* replay: ``ledger replay`` (all projections from scratch), beside a raw select + JSON
  decode of the same stored rows;
* queries: ``ledger agreement|endorsements|timeline --agreement|agreement --as-of`` for the
  benchmark agreement (median of ``--repeat`` runs), beside
  ``python -c "import sqlalchemy, click"``.

Results are printed as Markdown and saved as JSON under ``benchmarks/data/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.generator import BENCH_AGREEMENT, DATA, generate

PYTHON = sys.executable
LEDGER = str(Path(PYTHON).with_name("ledger"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_DB = "ledger_bench"


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child; its wall seconds and peak resident memory (MB); fail loudly."""
    start = time.perf_counter()
    child = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    out, err = b"", b""
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be a running maximum).
    import threading

    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=("out", child.stdout)),
        threading.Thread(target=drain, args=("err", child.stderr)),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    for reader in readers:
        reader.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    out, err = chunks.get("out", b""), chunks.get("err", b"")
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({child.returncode}):\n{err.decode()[-3000:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "stdout": out.decode()[-2000:],
    }


def fresh_database(engine: str, size: int) -> str:
    if engine == "sqlite":
        path = DATA / f"bench-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"


def raw_url(engine: str, size: int, url: str) -> str:
    """The floor's own database: a separate SQLite file; the same PostgreSQL database."""
    if engine == "sqlite":
        path = DATA / f"bench-{size}-raw.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return url


QUERIES = {
    "agreement": ["agreement", BENCH_AGREEMENT, "--json"],
    "endorsements": ["endorsements", BENCH_AGREEMENT, "--json"],
    "timeline --agreement": ["timeline", "--agreement", BENCH_AGREEMENT, "--json"],
    "agreement --as-of": ["agreement", BENCH_AGREEMENT, "--as-of", "1990-01-01", "--json"],
}


def median_of(cmd: list[str], repeat: int) -> dict[str, Any]:
    runs = [measure(cmd) for _ in range(repeat)]
    return {
        "wall": statistics.median(r["wall"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
    }


def bench(engine: str, size: int, repeat: int) -> dict[str, Any]:
    path = generate(size)
    with path.open("rb") as f:
        events = sum(1 for _ in f)
    url = fresh_database(engine, size)
    result: dict[str, Any] = {"engine": engine, "occurrences": size, "events": events}
    print(f"[{engine} {size}] {events} records: raw import …", file=sys.stderr, flush=True)
    result["raw_import"] = measure(
        [PYTHON, "-m", "benchmarks.steps", "raw-import", raw_url(engine, size, url), str(path)]
    )
    print(f"[{engine} {size}] ledger import …", file=sys.stderr, flush=True)
    result["import"] = measure([PYTHON, "-m", "benchmarks.steps", "import", url, str(path)])
    print(f"[{engine} {size}] raw replay …", file=sys.stderr, flush=True)
    result["raw_replay"] = measure([PYTHON, "-m", "benchmarks.steps", "raw-replay", url])
    print(f"[{engine} {size}] ledger replay …", file=sys.stderr, flush=True)
    result["replay"] = measure([LEDGER, "--db", url, "replay"])
    print(f"[{engine} {size}] queries …", file=sys.stderr, flush=True)
    result["floor"] = median_of([PYTHON, "-c", "import sqlalchemy, click"], repeat)
    # Not the floor, shown beside it: a query must also load the database driver
    # and SQLAlchemy's dialect for it, which creating an engine does.
    result["driver_floor"] = median_of(
        [PYTHON, "-c", f"import sqlalchemy, click; sqlalchemy.create_engine({url!r})"], repeat
    )
    result["queries"] = {
        name: median_of([LEDGER, "--db", url, *args], repeat) for name, args in QUERIES.items()
    }
    if engine == "sqlite":
        result["db_mb"] = (
            sum(
                Path(f"{url.removeprefix('sqlite:///')}{s}").stat().st_size
                for s in ("", "-wal")
                if Path(f"{url.removeprefix('sqlite:///')}{s}").exists()
            )
            / 2**20
        )
    return result


# -- verify and the whole-ledger audit (issue 13: peak memory <= 300 MB at 1M) ----------
# Called from `bench` as `result.update(bench_integrity(url, size))` once the ledger is
# imported and replayed; `integrity_markdown(result)` adds its table.

AUDIT_FORMATS = ("json", "md", "html")


def bench_integrity(url: str, size: int) -> dict[str, Any]:
    """`ledger verify` (with the read models) and `ledger audit -o` of the whole ledger in
    each format, each in a child of its own (`benchmarks.steps verify|audit`)."""
    found: dict[str, Any] = {}
    print(f"[{size}] verify …", file=sys.stderr, flush=True)
    found["verify"] = measure([PYTHON, "-m", "benchmarks.steps", "verify", url])
    for fmt in AUDIT_FORMATS:
        print(f"[{size}] audit --format {fmt} …", file=sys.stderr, flush=True)
        out = DATA / f"audit-{size}.{fmt}"
        step = [PYTHON, "-m", "benchmarks.steps", "audit", url, fmt, str(out)]
        found[f"audit_{fmt}"] = {**measure(step), "mb": out.stat().st_size / 2**20}
        out.unlink()
    return found


def integrity_markdown(r: dict[str, Any]) -> str:
    n = r["events"]
    lines = [
        "| measure | wall | CPU s | peak RSS | target |",
        "|---|---|---|---|---|",
    ]
    for name, key in [("verify", "verify")] + [
        (f"audit --format {fmt} (whole ledger)", f"audit_{fmt}") for fmt in AUDIT_FORMATS
    ]:
        step = r[key]
        size = f", {step['mb']:.0f} MB written" if "mb" in step else ""
        ok = "✅" if step["rss_mb"] <= 300 else "❌"
        lines.append(
            f"| `{name}` | {step['wall']:.1f} s ({n / step['wall']:,.0f} ev/s{size}) | "
            f"{step['cpu']:.1f} | {step['rss_mb']:.0f} MB | ≤ 300 MB {ok} |"
        )
    return "\n".join(lines) + "\n"


def machine() -> dict[str, str]:
    import sqlite3

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        memory = f"{int(mem) / 2**20:.1f} GB"
    except OSError:
        memory = "unknown"
    info = {
        "cpu": f"{cpu} × {os.cpu_count()}",
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN) as db:
            info["postgresql"] = db.execute("SHOW server_version").fetchone()[0]
    except Exception:
        pass
    return info


def markdown(r: dict[str, Any]) -> str:
    n = r["events"]

    def rate(step: dict[str, Any]) -> str:
        return f"{n / step['wall']:,.0f} ev/s ({step['wall']:.1f} s)"

    floor = r["floor"]["wall"]
    lines = [
        f"### {r['engine']}, {r['occurrences']:,} occurrences ({n:,} records/events)",
        "",
        "| measure | ledger | raw floor | ratio | target | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for name, raw, target in (("import", "raw_import", 0.5), ("replay", "raw_replay", 0.5)):
        ratio = r[raw]["wall"] / r[name]["wall"]
        lines.append(
            f"| {name} | {rate(r[name])} | {rate(r[raw])} | {ratio:.2f}× floor | "
            f"≥ {target}× {'✅' if ratio >= target else '❌'} | {r[name]['rss_mb']:.0f} MB "
            f"(floor {r[raw]['rss_mb']:.0f} MB) |"
        )
    for name, q in r["queries"].items():
        ratio = q["wall"] / floor
        lines.append(
            f"| `{name}` | {q['wall'] * 1000:.0f} ms | {floor * 1000:.0f} ms | "
            f"{ratio:.2f}× floor | ≤ 1.5× {'✅' if ratio <= 1.5 else '❌'} | {q['rss_mb']:.0f} MB |"
        )
    # CPU seconds of the child: far less disturbed than wall time on a shared machine.
    lines += ["", "| CPU seconds | ledger | raw floor | ratio |", "|---|---|---|---|"]
    for name, raw in (("import", "raw_import"), ("replay", "raw_replay")):
        lines.append(
            f"| {name} | {r[name]['cpu']:.1f} | {r[raw]['cpu']:.1f} | "
            f"{r[raw]['cpu'] / r[name]['cpu']:.2f}× floor |"
        )
    for name, q in r["queries"].items():
        lines.append(
            f"| `{name}` | {q['cpu']:.2f} | {r['floor']['cpu']:.2f} | "
            f"{q['cpu'] / r['floor']['cpu']:.2f}× floor |"
        )
    if "driver_floor" in r:
        driver = r["driver_floor"]
        lines += [
            "",
            f"Driver floor (`import sqlalchemy, click` + `create_engine(url)`, which loads the "
            f"driver and SQLAlchemy's dialect): {driver['wall'] * 1000:.0f} ms wall, "
            f"{driver['cpu']:.2f} CPU s; queries against it: "
            + ", ".join(
                f"`{name}` {q['wall'] / driver['wall']:.2f}×" for name, q in r["queries"].items()
            )
            + ".",
        ]
    if "db_mb" in r:
        lines += ["", f"Database size: {r['db_mb']:.0f} MB."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--engines", nargs="+", choices=("sqlite", "postgres"), default=["sqlite"])
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (median)")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    info = machine()
    print("Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + "\n")
    for size in args.sizes:
        for engine in args.engines:
            result = bench(engine, size, args.repeat)
            result["machine"] = info
            stamp = time.strftime("%Y%m%dT%H%M%S")
            out = DATA / f"results-{engine}-{size}-{stamp}.json"
            out.write_text(json.dumps(result, indent=2))
            print(markdown(result), flush=True)


if __name__ == "__main__":
    main()
