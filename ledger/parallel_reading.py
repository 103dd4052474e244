"""A large JSON Lines file read and checked by worker processes, handed back in file order.

Parsing and validating a record needs nothing but the record, so those stages run in a
pool while the importing process decides and appends, one writer in log order. The file
is cut into blocks of lines; each block is read, parsed and validated by one worker, and
the results are taken strictly in file order, so the first refusal in the file is the
one reported, with the same file, record index, line and field as without the pool, and
the import (one transaction) writes nothing. At most a few blocks are in flight, so a
million-record file never sits in memory. Workers ignore Ctrl-C: the importing process
takes it, and stopping the pool is its `finally`, so no worker outlives the import; a
worker that dies (killed, out of memory) fails the import rather than hanging it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver
from typing import Any
from uuid import UUID

import orjson

from ledger.errors import RecordError
from ledger.reading import RawRecord, _jsonl_records, _open, _validated
from ledger.vocabulary import (
    REGISTRY_KINDS,
    Record,
    content_digest,
    date_bounds,
    references_of,
    stream_hex,
)

__all__ = ["BLOCK_BYTES", "FIRST_BLOCK_BYTES", "pooled_jsonl", "start_workers", "workers_cpu"]

#: About this much of the file per task: a few thousand records, enough to make the
#: hand-over cheap against the work, small enough to keep every worker busy.
BLOCK_BYTES = 1 << 20
#: The first block's size; each next one is twice the last, up to BLOCK_BYTES. The
#: importing process waits, idle, for the first block (a full one was ~0.2 s of a
#: worker's time), and after it the writer is the slower of the two: a small first
#: block lets it start at once, the doubling soon makes the hand-over cheap again.
FIRST_BLOCK_BYTES = 1 << 15

#: One record as a worker sends it back: its index within the block, line, the
#: validated record's data, digest, date bounds, stream id and references (each as
#: field, namespace and id), and, when it differs from the data, the record as read.
_Checked = list[Any]
_Refusal = tuple[str, str | None, str | None, int | None, int | None]
#: The worker's process id and its CPU seconds so far.
_Usage = tuple[int, float]
#: A block's records (as JSON, or as objects when JSON cannot carry them exactly), the
#: refusal that ended the block, and the worker's CPU so far.
_Outcome = tuple[bytes | list[_Checked], _Refusal | None, _Usage]

#: CPU seconds reported by the workers of the imports so far: see `workers_cpu`.
_SPENT = [0.0]


def workers_cpu() -> float:
    """CPU seconds the reading workers of this process's imports have used so far.

    The workers are children of multiprocessing's fork server, not of the importing
    process, so the operating system's account of its children (``RUSAGE_CHILDREN``, or
    a parent's ``wait4``) never sees them; each reports its own with every block it hands
    back, and benchmarks add this to the importing process's CPU (a difference of two
    calls, as with ``RUSAGE_CHILDREN``). A worker's start-up is in it; the little it
    spends after its last block, idle until it is stopped, is not.
    """
    return _SPENT[0]


def _context() -> Any:
    """The workers' start method: a fork server that has imported this module once, from
    which each worker is forked ready to work (a spawned worker would import it again)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ledger.parallel_reading"])
    return context


def start_workers() -> None:
    """Start the fork server now, in the background, if it is not running.

    Starting it (a new interpreter importing the readers and validators) took ~0.3 s, the
    first thing an import waited for; `iter_records` calls this as soon as it is asked
    for a file the pool will read, so the server starts while the importing process
    imports the rest of the ledger and opens the database. Nothing else is started: the
    workers and the reading begin with the first record asked for, so a caller that
    never asks leaves only the server, which multiprocessing stops with the process.
    """
    _context()
    forkserver.ensure_running()


def pooled_jsonl(path: str, workers: int) -> Iterator[tuple[RawRecord, Record]]:
    """`path`'s records, read and validated by `workers` processes, in file order."""
    with _open(path) as handle:
        blocks = _blocks(handle)
        pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_ignore_interrupts)
        try:
            pending: deque[Future[_Outcome]] = deque()
            reported: dict[int, float] = {}  # each worker's CPU as it last said

            def submit() -> None:
                block = next(blocks, None)
                if block is not None:
                    pending.append(pool.submit(_check_block, path, *block))

            for _ in range(2 * workers + 1):
                submit()
            before = 0  # records in the blocks already handed on
            while pending:
                try:
                    checked, refusal, (pid, cpu) = pending.popleft().result()
                except BrokenProcessPool:
                    raise RecordError(
                        "a worker checking this file stopped unexpectedly; nothing was written",
                        file=path,
                    ) from None
                _SPENT[0] += cpu - reported.get(pid, 0.0)
                reported[pid] = cpu
                submit()
                rows = orjson.loads(checked) if isinstance(checked, bytes) else checked
                for row in rows:
                    index, line, data, digest, earliest, latest, stream, refs = row[:8]
                    read = row[8] if len(row) > 8 else data
                    record = Record.prepared(data, digest, (earliest, latest), UUID(stream), refs)
                    yield RawRecord(path, before + index, line, read), record
                if refusal is not None:
                    message, field, file, at, line = refusal
                    where = None if at is None else before + at
                    raise RecordError(message, field=field, file=file, index=where, line=line)
                before += len(rows)
        finally:
            _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now, whatever they are doing: after a refusal or Ctrl-C their
    blocks are of no use. The executor has no public way to end a running task, so its
    worker processes are terminated through its private table, here and nowhere else."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()


def _blocks(handle: Any) -> Iterator[tuple[int, bytes]]:
    """(first line's number, the lines), whole lines only: FIRST_BLOCK_BYTES, then twice
    as many each time, up to BLOCK_BYTES."""
    number = 1
    size = min(FIRST_BLOCK_BYTES, BLOCK_BYTES)
    while True:
        lines = handle.readlines(size)
        if not lines:
            return
        if number == 1:
            lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
        yield number, b"".join(lines)
        number += len(lines)
        size = min(2 * size, BLOCK_BYTES)


def _check_block(path: str, first: int, block: bytes) -> _Outcome:
    """In a worker: one block parsed and validated exactly as the unpooled reader does.

    What the import will ask of each record and that needs nothing but the record (its
    content digest, date bounds, stream id and references) is worked out here too, off the
    importing process's core; the record carries it across (its kept properties).
    """
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    # What a block makes is acyclic and freed by reference counting as soon as it is
    # sent; the collector's passes over it (and over the thousands of rows kept until
    # then) were a third of a worker's time. It is off for the block, its encoding
    # included (once on, the collector's first pass would walk every row still held),
    # as it is in the importing process for the import.
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows, refusal = _rows_of(path, first, lines)
        return rows, refusal, (os.getpid(), time.process_time())
    finally:
        if collecting:
            gc.enable()


def _rows_of(
    path: str, first: int, lines: list[bytes]
) -> tuple[bytes | list[_Checked], _Refusal | None]:
    """A block's lines checked, as `_as_json` hands them over, and its refusal if any."""
    checked: list[_Checked] = []
    refusal: _Refusal | None = None
    try:
        numbered = enumerate(lines, start=first)
        for raw, record in _validated(_jsonl_records(numbered, path)):
            # Worked out here as the record's kept properties would (they are what
            # `Record.prepared` keeps), without their locks and memories.
            data = record.data
            kind = record.kind
            if kind in REGISTRY_KINDS:
                earliest, latest, namespace = None, None, kind
            else:
                (earliest, latest), namespace = date_bounds(data["date"]), "occurrence"
            digest = content_digest(data)
            stream = stream_hex(namespace, record.id)
            refs = [list(ref) for ref in references_of(kind, data)]  # as JSON gives them back
            row = [raw.index, raw.line, data, digest, earliest, latest, stream, refs]
            if raw.data != data:
                row.append(raw.data)
            checked.append(row)
    except RecordError as error:
        refusal = (error.message, error.field, error.file, error.index, error.line)
    return _as_json(checked), refusal


def _as_json(checked: list[_Checked]) -> bytes | list[_Checked]:
    """The rows as JSON, which the importing process reads back several times faster
    than it unpickles them (it does so on its own core, beside the decisions), if JSON
    gives back exactly these values; else the rows themselves (a lone surrogate, an
    integer past 64 bits, …)."""
    try:
        encoded = orjson.dumps(checked)
    except TypeError:
        return checked
    return encoded if orjson.loads(encoded) == checked else checked


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
