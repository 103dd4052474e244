"""`ledger serve` under load on the loopback, beside the CLI's wall time for the same answer.

``python -m benchmarks.serve --size 100000 [--engine sqlite|postgres] [--clients 1 8 32]
[--load wrk|threads] [--workers N] [--live-every S] [--soak 100000]``

Builds (or reuses) the benchmark ledger of `benchmarks.generator`, starts the real server
(``ledger serve`` in a child process, 127.0.0.1 only), and for each question of
`benchmarks.run.QUERIES` and each number of concurrent clients sends at most
``--requests`` requests, for at most ``--seconds`` seconds, over keep-alive connections,
saying ``Accept-Encoding: gzip, deflate`` as HTTP libraries do (``--accept-encoding ''``
for clients that take only the plain answer).
It reports p50 and p99 latency, requests per second and errors (a failed connection, read
or write, a timeout, any status but 2xx), and the server's resident memory after each
phase, beside the median wall time of the same question asked of ``ledger … --json`` (a
process per answer).

The clients are `wrk` when it is on the PATH (``apt-get install wrk``; ``--load wrk``):
one C process, one thread (``--wrk-threads``) driving every connection from an event
loop, so what is measured is the server, not the client; `wrk_report.lua` counts non-2xx
answers and reports exact percentiles. Without it (or with ``--load threads``) they are
Python threads with `http.client` in this process: their waits for the interpreter's
lock count in their latencies, and their CPU competes with the server's, so read those
figures as the server's plus a client's.

Two servers are measured: as started by default (answers kept until the log grows, so a
repeated question costs one indexed read of the log's head) and with
``--cache-entries 0``, where every request runs its query. Results are printed as
Markdown and saved as JSON under ``benchmarks/data/``.

``--live-every S`` adds a third server: kept answers while a writer records a new source
every S seconds through the CLI (`ledger record source`), so every kept answer goes
stale and the next question is computed again (once, however many clients ask it). Its
cells are bounded by time only, 3.5 × S each, so that three records land in each.
``--workers N`` starts the server with N processes; memory is then the whole tree's.
``--soak N`` then measures resident memory over N requests on ever new days.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from benchmarks.generator import BENCH_AGREEMENT, DATA, generate
from benchmarks.run import LEDGER, PYTHON, QUERIES, launcher, machine, measure

PATHS = {
    "agreement": f"/api/agreements/{BENCH_AGREEMENT}",
    "endorsements": f"/api/agreements/{BENCH_AGREEMENT}/endorsements",
    "timeline --agreement": f"/api/timeline?agreement={quote(BENCH_AGREEMENT)}",
    "agreement --as-of": f"/api/agreements/{BENCH_AGREEMENT}?as_of=1990-01-01",
}


def ledger_url(engine: str, size: int) -> str:
    """The benchmark ledger, imported and caught up once, then reused across runs."""
    if engine == "sqlite":
        path = DATA / f"serve-{size}.db"
        url = f"sqlite:///{path}"
        if path.exists():
            return url
    else:
        import psycopg

        name = f"ledger_serve_{size}"
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as db:
            if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return url
            db.execute(f"CREATE DATABASE {name}")
    records = generate(size)
    print(f"importing {records} into {url} …", file=sys.stderr, flush=True)
    measure([PYTHON, "-m", "benchmarks.steps", "import", url, str(records)])
    measure([LEDGER, "--db", url, "agreements", "--json"])  # catches the read models up
    return url


def cache_option(entries: int) -> list[str]:
    return ["--cache-entries", str(entries)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree_total(pid: int, own: Callable[[int], float]) -> float:
    """`own(pid)` summed over the process and its children (uvicorn's worker processes)."""
    total = 0.0
    try:
        total += own(pid)
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += _tree_total(int(child), own)
    except OSError:  # a process that ended meanwhile
        pass
    return total


def _own_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


TICK = os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    """Resident memory of the server's processes."""
    return _tree_total(pid, _own_rss_mb)


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of the server's processes so far: a request's cost to
    the server, whatever else the machine runs meanwhile."""
    return _tree_total(pid, _own_cpu_seconds)


class Server:
    def __init__(self, url: str, cache_entries: int, workers: int = 1) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                LEDGER,
                "--db",
                url,
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                *cache_option(cache_entries),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("/api/checkpoint")
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("ledger serve did not start") from None
                time.sleep(0.2)

    def get(self, path: str, headers: dict[str, str] | None = None) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request("GET", path, headers=headers or {})
        body = connection.getresponse().read()
        connection.close()
        return body

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


def load_wrk(
    port: int,
    path: str,
    clients: int,
    requests: int,
    seconds: float,
    threads: int = 1,
    accept_encoding: str = "",
) -> dict[str, Any]:
    """`clients` connections of one `wrk` process share `requests`, stopping at `seconds`.

    wrk stops only at its duration: each of its threads stops itself after its share of
    the requests (`wrk_report.lua`) and says so, and once all have, wrk is interrupted,
    which ends it as its duration would (it then reports what was sent)."""
    threads = max(1, min(threads, clients))
    share = -(-requests // threads)  # each thread's, rounded up
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "120s",
        *(["-H", f"Accept-Encoding: {accept_encoding}"] if accept_encoding else []),
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}{path}",
        "--",
        str(share),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stderr is not None and process.stdout is not None
    done, said = 0, []
    for line in process.stderr:
        if line.strip() == "wrk-thread-done":
            done += 1
            if done == threads:
                process.send_signal(signal.SIGINT)
        else:
            said.append(line)
    output = process.stdout.read()
    if process.wait(timeout=seconds + 60) != 0 and "wrk-json" not in output:
        raise RuntimeError(f"wrk failed: {''.join(said)}{output}")
    found = json.loads(output.split("wrk-json ", 1)[1].splitlines()[0])
    failed = sum(found[k] for k in ("connect", "read", "write", "timeout", "not_2xx"))
    return {
        "requests": found["requests"],
        "errors": failed,
        "p50": found["p50_us"] / 1e6,
        "p99": found["p99_us"] / 1e6,
        "p90": found["p90_us"] / 1e6,
        "max": found["max_us"] / 1e6,
        "rps": found["requests"] / (found["duration_us"] / 1e6),
        "wrk": found,
    }


def load(
    port: int, path: str, clients: int, requests: int, seconds: float, accept_encoding: str = ""
) -> dict[str, Any]:
    """`clients` threads on keep-alive connections share `requests`, stopping at `seconds`."""
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if remaining[0] <= 0 or time.monotonic() > deadline:
                    break
                remaining[0] -= 1
            start = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status = 0
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    errors.append(repr(error))
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors.append(f"status {status}")
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "rps": len(latencies) / took,
    }


class Writer:
    """While running, records a new source through the CLI every `every` seconds."""

    def __init__(self, url: str, every: float) -> None:
        self.url = url
        self.every = every
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            name = f"bench-live-{uuid.uuid4().hex[:12]}"
            subprocess.run(
                [LEDGER, "--db", self.url, "record", "source", "--id", name, "--title", name],
                check=True,
                capture_output=True,
            )
            self.written += 1

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wrk_version() -> str:
    found = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (found.stdout or found.stderr).split(" [", 1)[0].strip()


def bench(
    engine: str,
    size: int,
    clients: list[int],
    requests: int,
    seconds: float,
    repeat: int,
    workers: int = 1,
    live_every: float = 0.0,
    clients_are: str = "threads",
    wrk_threads: int = 1,
    kept_only: bool = False,
    accept_encoding: str = "",
) -> dict[str, Any]:
    url = ledger_url(engine, size)
    if clients_are == "wrk":
        load_by = f"{wrk_version()}, {wrk_threads} thread(s)"

        def run(
            port: int, path: str, count: int, limit: int = requests, within: float = seconds
        ) -> dict[str, Any]:
            return load_wrk(port, path, count, limit, within, wrk_threads, accept_encoding)
    else:
        load_by = "Python threads (http.client), in the benchmark's process"

        def run(
            port: int, path: str, count: int, limit: int = requests, within: float = seconds
        ) -> dict[str, Any]:
            return load(port, path, count, limit, within, accept_encoding)

    result: dict[str, Any] = {
        "engine": engine,
        "occurrences": size,
        "workers": workers,
        "load": load_by,
        "accept_encoding": accept_encoding or "(none: identity)",
        "cli": {},
        "servers": {},
    }
    for name, args in QUERIES.items():
        runs = [measure([LEDGER, "--db", url, *args])["wall"] for _ in range(repeat)]
        result["cli"][name] = statistics.median(runs)
        print(f"[{engine} {size}] CLI {name}: {result['cli'][name]:.3f} s", file=sys.stderr)
    servers: list[tuple[str, int, float]] = [
        ("kept answers (default)", 1024, 0.0),
    ]
    if not kept_only:
        servers.append(("no cache", 0, 0.0))
    if live_every > 0:
        servers.append((f"kept answers, a record every {live_every:g} s", 1024, live_every))
    for label, entries, every in servers:
        server = Server(url, entries, workers)
        phases: dict[str, Any] = {"rss_start_mb": rss_mb(server.process.pid), "cells": {}}
        try:
            for name, path in PATHS.items():
                expected = json.loads(server.get(path))  # warm, and check it is the CLI's answer
                if accept_encoding:
                    # Warm the answer as the clients will ask for it too: it is kept per
                    # Accept-Encoding, and computed in a cell, its one slow request would
                    # weigh as hundreds in wrk's percentiles (wrk adds the requests a
                    # client sending at a steady rate would have had delayed by it).
                    server.get(path, {"Accept-Encoding": accept_encoding})
                cli = json.loads(
                    subprocess.run(
                        [LEDGER, "--db", url, *QUERIES[name]], check=True, capture_output=True
                    ).stdout
                )
                if expected != cli:
                    raise RuntimeError(f"{path}: the server's answer differs from the CLI's")
                for count in clients:
                    cpu = cpu_seconds(server.process.pid)
                    if every > 0:
                        # Bounded by time only, long enough for several records to land
                        # while it runs: bounded by count, a cell of 10,000 requests ends
                        # in about a second, before the first record.
                        with Writer(url, every) as writer:
                            cell = run(server.port, path, count, 10**9, 3.5 * every)
                        cell["records_written"] = writer.written
                    else:
                        cell = run(server.port, path, count)
                    spent = cpu_seconds(server.process.pid) - cpu
                    cell["server_cpu_us"] = spent * 1e6 / max(1, cell["requests"])
                    phases["cells"][f"{name} × {count}"] = cell
                    print(
                        f"[{engine} {size} {label}] {name} × {count}: {brief(cell)}",
                        file=sys.stderr,
                    )
            phases["rss_end_mb"] = rss_mb(server.process.pid)
        finally:
            server.stop()
        result["servers"][label] = phases
    return result


def on_day(path: str, n: int) -> str:
    """`path` asked as of the `n`th day from 1960 (in place of an `as_of` it has: the
    server refuses a parameter given twice)."""
    day = date(1960, 1, 1) + timedelta(days=n)
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "as_of"]
    query.append(("as_of", day.isoformat()))
    return urlunsplit(parts._replace(query=urlencode(query)))


def soak(
    url: str,
    requests: int,
    clients: int,
    days: int = 2048,
    workers: int = 1,
    seconds: float = 3600.0,
) -> dict[str, Any]:
    """Memory over many requests: the four questions on `days` different days, shuffled
    (more questions than answers kept, so they are evicted as they go), the server's
    resident memory sampled ten times; stopped early (saying so) after `seconds`."""
    server = Server(url, 1024, workers)
    samples = [rss_mb(server.process.pid)]
    done = 0
    errors = 0
    deadline = time.monotonic() + seconds
    try:
        step = max(1, requests // 10)
        while done < requests and time.monotonic() < deadline:
            questions = list(PATHS.values())
            paths = [
                on_day(questions[n % len(questions)], random.randrange(days))
                for n in range(min(step, requests - done))
            ]
            cell = _many(server.port, paths, clients)
            errors += cell
            done += len(paths)
            samples.append(rss_mb(server.process.pid))
            print(f"[soak] {done} requests: {samples[-1]:.0f} MB", file=sys.stderr, flush=True)
    finally:
        server.stop()
    return {"requests": done, "asked": requests, "errors": errors, "rss_mb": samples}


def _many(port: int, paths: list[str], clients: int) -> int:
    """Send `paths` over `clients` keep-alive connections; the number of failures."""
    queue = list(reversed(paths))
    lock = threading.Lock()
    failures = [0]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                with lock:
                    failures[0] += 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures[0]


def brief(cell: dict[str, Any]) -> str:
    return (
        f"p50 {cell['p50'] * 1000:.2f} ms, p99 {cell['p99'] * 1000:.2f} ms, "
        f"{cell['rps']:.0f}/s, {cell['errors']} errors, "
        f"server CPU {cell.get('server_cpu_us', 0):.0f} µs/request"
    )


def markdown(result: dict[str, Any], clients: list[int]) -> str:
    lines = [
        f"### {result['engine']}, {result['occurrences']:,} occurrences, "
        f"{result.get('workers', 1)} server process(es)",
        "",
        f"Clients: {result.get('load', 'Python threads')}; Accept-Encoding: "
        f"{result.get('accept_encoding', '(none: identity)')}.",
        "",
    ]
    for label, phases in result["servers"].items():
        lines += [
            f"Server: {label}; resident memory {phases['rss_start_mb']:.0f} MB at start, "
            f"{phases['rss_end_mb']:.0f} MB after every phase.",
            "",
            "| question | CLI wall | clients | p50 | p99 | p50/CLI | p99/CLI | req/s "
            "| server CPU/req | errors |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name in PATHS:
            cli = result["cli"][name]
            for count in clients:
                c = phases["cells"][f"{name} × {count}"]
                lines.append(
                    f"| {name} | {cli * 1000:.0f} ms | {count} | {c['p50'] * 1000:.2f} ms | "
                    f"{c['p99'] * 1000:.2f} ms | 1/{cli / c['p50']:.0f} | 1/{cli / c['p99']:.0f} | "
                    f"{c['rps']:.0f} | {c.get('server_cpu_us', 0):.0f} µs | {c['errors']} |"
                )
        lines.append("")
    if "soak" in result:
        soaked = result["soak"]
        samples = " → ".join(f"{mb:.0f}" for mb in soaked["rss_mb"])
        lines += [
            f"Memory soak: {soaked['requests']:,} of {soaked['asked']:,} requests, "
            f"{soaked['errors']} errors; resident MB every tenth: {samples}",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=10_000, help="per question and clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="at most, per cell")
    parser.add_argument("--repeat", type=int, default=5, help="CLI runs per question (median)")
    parser.add_argument(
        "--soak", type=int, default=0, help="then this many requests on new days (memory)"
    )
    parser.add_argument("--soak-days", type=int, default=2048, help="distinct days in the soak")
    parser.add_argument("--soak-only", action="store_true", help="only the memory soak")
    parser.add_argument("--soak-seconds", type=float, default=3600.0, help="the soak at most")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--load",
        choices=("wrk", "threads"),
        default="wrk" if shutil.which("wrk") else "threads",
        help="the clients: wrk (the default where it is on the PATH) or Python threads",
    )
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk's threads (-t)")
    parser.add_argument(
        "--kept-only", action="store_true", help="only the default server (no --cache-entries 0)"
    )
    parser.add_argument(
        "--live-every", type=float, default=0.0, help="also: a record every S seconds"
    )
    parser.add_argument(
        "--accept-encoding",
        default="gzip, deflate",
        help="the clients' Accept-Encoding ('' for none), by default what requests, httpx "
        "and `curl --compressed` send (browsers add br and zstd)",
    )
    args = parser.parse_args()
    launcher()  # before this process grows (`benchmarks.run.LAUNCHER` says why)
    DATA.mkdir(exist_ok=True)
    if args.soak_only:
        url = ledger_url(args.engine, args.size)
        found = soak(url, args.soak, 8, args.soak_days, args.workers, args.soak_seconds)
        print(json.dumps(found))
        return
    result = bench(
        args.engine,
        args.size,
        args.clients,
        args.requests,
        args.seconds,
        args.repeat,
        args.workers,
        args.live_every,
        args.load,
        args.wrk_threads,
        args.kept_only,
        args.accept_encoding,
    )
    if args.soak:
        url = ledger_url(args.engine, args.size)
        result["soak"] = soak(url, args.soak, 8, args.soak_days, args.workers, args.soak_seconds)
    result["machine"] = machine()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (DATA / f"serve-{args.engine}-{args.size}-{stamp}.json").write_text(
        json.dumps(result, indent=2)
    )
    print("Machine: " + "; ".join(f"{k} {v}" for k, v in result["machine"].items()) + "\n")
    print(markdown(result, args.clients))


if __name__ == "__main__":
    os.environ.setdefault("LEDGER_USER", "bench")
    main()
