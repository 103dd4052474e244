"""A probe of the leanest import (issue 13): how close can any Python design get to 0.4x?

Issue 13 asks `ledger import` of a JSON Lines file to run at >= 0.4x the raw floor
(`benchmarks.steps raw_import`: parse each line with the standard library, insert
(position, kind, JSON) into one bare table, one transaction). Its guide says that a
target out of reach must be shown so with a profile and a probe of the alternative
design. This is that probe: the least an import can do and still do everything the
ledger's import must do for each record, written for throughput with no architecture
around it (no eventsourcing application, no SQLAlchemy, no `Record`/`RawRecord`/event
objects on the common path), into the ledger's real tables on SQLite (made by the
project's Alembic migrations: the events table with its unique stream index, partial
indexes and append-only triggers, and the tree heads table). Per record:

1. read the line; parse it with orjson where orjson's reading is certainly the standard
   reader's (`ledger.reading._quick_json`, else the precise reader); validate it with
   the project's own `ledger.records.validate_record` (msgspec structs, then the Python
   checks msgspec cannot declare): the rules are the ledger's, not a copy of them;
2. its date bounds (`vocabulary.date_bounds`), content digest (`content_digest`), stream
   id (uuid5 as `vocabulary.stream_hex` makes it, as 16 bytes) and references
   (`references_of`); each reference checked against an in-memory dict of the ids
   entered so far (namespace, id case folded -> id as registered), with the retraction
   rule for registry records; the record's own id checked against that dict and, when
   the store held events before the import (or with ``--lookup``), against the store by
   one ``SELECT ... IN`` of stream ids per batch, as the ledger's registry does; on an
   empty store at the start of the (write-locked) transaction the dict is the whole
   ledger, so no query can find anything and none is sent (the cheapest correct check);
3. the event's stored state, the bytes `LedgerMapper.stored_row` writes (an event
   timestamp per record, spelled as the library's ``datetime_iso``; `class_version`
   where the event class has one), and its RFC 9162 leaf hash over the canonical bytes
   `LedgerRecorder.append_rows` hashes; the leaves extend the Merkle frontier;
4. the rows ``executemany``'d into ``ledger_events`` a batch at a time, and one tree
   head into ``ledger_events_merkle``, in one ``BEGIN IMMEDIATE`` transaction.

Records the fast path cannot decide alone (corrections, retractions, revocations, a
reference spelled differently from the registered id, an id already entered, a
reference to a retracted registry record, an unknown reference) are decided by the
project's own `ledger.aggregates.enter` against a registry over the same dict and the
store, and encoded by the project's `LedgerMapper.stored_row`: the probe's rows are
the real import's rows (tests/unit/test_import_probe.py holds them to it, event
timestamps and record time aside).

Modes (``python -m benchmarks.import_probe MODE URL FILE``; the schema is made first by
``init URL``, untimed, as a fresh ledger's would be by `ledger init`):

* ``one``: everything in this process;
* ``split``: stages 1-2 and the state's encoding in worker processes (forked, blocks of
  lines, results taken in file order), the registry checks, leaves and inserts in this
  process, in log order: the ledger's split with the encoding moved to the worker;
* ``split-leaf``: the same, and the leaf hashes made in the workers too: the writer
  takes the write lock and the record time first, so a worker knows each record's
  position if every record before it enters (what a fresh import does); the writer
  rehashes from the first record whose position moved (one already there) or whose
  state it made itself.

``--workers N`` (default 1) sets the pool's size; ``--lookup`` sends the store lookups
even on an empty store; ``--cache-mb N`` sets SQLite's page cache (the ledger keeps the
default). It prints one JSON line: records added, wall and CPU seconds of this process
and of the workers (each worker reports its own CPU with every block), the commit's
wall, and start-up (imports) apart.

``stages FILE`` times each stage in isolation over the whole file in one process
(µs/record), the C-level parts alone beside the project's calls, to tell essential cost
from Python glue. ``compare FILE [--repeat N] [VARIANT...]`` runs the raw floor, the
ledger's import and the probe's modes in fresh processes, interleaved, and prints their
wall and CPU seconds and medians (RESULTS.md, "Issue 13, import: a probe of the leanest
design").
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import sqlite3
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

STARTED = time.perf_counter()

import orjson  # noqa: E402 (the start-up is timed from the first line)

from ledger.collector import frozen_out  # noqa: E402
from ledger.errors import RecordError  # noqa: E402
from ledger.merkle import CompactRange  # noqa: E402
from ledger.reading import _NOTHING, _precise_json, _quick_json  # noqa: E402
from ledger.records import validate_record  # noqa: E402
from ledger.vocabulary import (  # noqa: E402
    _NAMESPACE_BYTES,
    AMENDMENT_KINDS,
    REGISTRY_KINDS,
    content_digest,
    date_bounds,
    references_of,
)

IMPORTED = time.perf_counter()

#: Records per executemany (the ledger's BATCH_SIZE) and lines per worker task (~1 MB).
BATCH = 1000
BLOCK_BYTES = 1 << 20
#: json's C encoder of one string, as `LedgerRecorder.append_rows` uses it.
_json_string: Callable[[str], str] = json.encoder.encode_basestring_ascii
_EVENT_INSERT = (
    "INSERT INTO ledger_events (id, originator_id, originator_version, topic, state, "
    "recorded_at, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_sha256 = hashlib.sha256
_sha1 = hashlib.sha1

#: What each kind's event class is called, and its class version (ledger.events; the
#: module imports eventsourcing, which only the slow path needs: checked in `_topics`).
_EVENT_NAMES = {
    "source": "SourceRegistered",
    "actor": "ActorRegistered",
    "post": "PostHeld",
    "agreement": "AgreementRegistered",
    "signing": "Signed",
    "approval": "Approved",
    "ratification": "Ratified",
    "entry_into_force": "EnteredIntoForce",
    "withdrawal": "Withdrew",
    "termination": "Terminated",
    "suspension": "Suspended",
    "revocation": "Revoked",
    "implementation": "ImplementationReported",
    "visit": "Visited",
    "meeting": "Met",
    "statement": "StatementMade",
    "proposal": "Proposed",
    "accusation": "Accused",
    "threat": "Threatened",
}
TOPICS = {kind: f"ledger.events:{name}" for kind, name in _EVENT_NAMES.items()}
_ENTRY = "ledger.aggregates:Entry"
_OCCURRENCE = "ledger.aggregates:Occurrence"
#: Where a reference of each namespace is looked up, in order (`aggregates.LOOKED_UP_IN`).
_LOOKED_UP_IN: dict[str, tuple[str, ...]] = {
    "any": ("actor", "agreement", "occurrence"),
    "record": ("occurrence", *REGISTRY_KINDS),
    **{ns: (ns,) for ns in (*REGISTRY_KINDS, "occurrence")},
}
#: Kinds the writer always decides through `ledger.aggregates.enter`.
_SLOW_KINDS = frozenset((*AMENDMENT_KINDS, "revocation"))


def _stream(namespace: str, folded: str) -> bytes:
    """uuid5(LEDGER_NAMESPACE, "namespace:folded id") as 16 bytes (`vocabulary.stream_hex`)."""
    digest = bytearray(
        _sha1(_NAMESPACE_BYTES + f"{namespace}:{folded}".encode(), usedforsecurity=False).digest()[
            :16
        ]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)


def _hyphenated(stream: bytes) -> str:
    h = stream.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _now_iso() -> str:
    """The event's timestamp as `LedgerMapper` stores it (orjson's RFC 3339 of UTC now)."""
    return orjson.dumps(datetime.now(UTC))[1:-1].decode()


def encode_state(
    kind: str, data: dict[str, Any], digest: str, bounds: tuple[Any, Any] | None, user: str
) -> bytes | None:
    """The stored state of a record entered as read (not respelled, not an amendment):
    `LedgerMapper.stored_row`'s bytes; None where orjson cannot write them (the mapper
    then takes the library's way, so the writer does too)."""
    state: dict[str, Any] = {
        "timestamp": {"_type_": "datetime_iso", "_data_": _now_iso()},
        "originator_topic": _ENTRY,
        "record": data,
        "recorded_by": user,
        "digest": digest,
    }
    if bounds is not None:
        state["originator_topic"] = _OCCURRENCE
        state["earliest"], state["latest"] = bounds
        state["class_version"] = 2
    try:
        return orjson.dumps(state)
    except TypeError:
        return None


def leaf_of(position: int, stamp_json: str, stream: bytes, topic: str, state: bytes) -> bytes:
    """RFC 9162 leaf hash of `store.canonical_bytes` (version 1: every record's stream
    holds its creation event alone)."""
    return _sha256(
        b"\x00"
        + (
            f'{{"position":{position},"recorded_at":{stamp_json},'
            f'"state":{_json_string(state.decode("utf-8", "surrogateescape"))},'
            f'"stream":"{_hyphenated(stream)}","topic":{_json_string(topic)},'
            f'"version":1}}'
        ).encode("ascii")
    ).digest()


# --- stage 1-2: stateless -----------------------------------------------------------

#: One record as prepared, what the writer's common path needs and no more (the hand-over
#: is paid twice, pickled and unpickled): index in its block, line number, kind, id,
#: stream (16 bytes), references flattened (namespace, id, ...), state (None: the writer
#: decides it through the project's `enter`) and leaf (None: the writer hashes).
Prepared = tuple[int, int, str, str, bytes, tuple[str, ...], bytes | None, bytes | None]
_Refusal = tuple[str, str | None, str | None, int | None, int | None]


def _record_of(line: bytes, number: int, file: str, index: int) -> Any:
    """The validated `Record` of one line, or None for a blank line; RecordError located."""
    item = _quick_json(line)
    if item is _NOTHING:
        text = line.decode("utf-8")
        if not text.strip():
            return None
        item = _precise_json(text.strip(), file, index, number)
    try:
        return validate_record(item)
    except RecordError as error:
        raise error.located(file=file, index=index, line=number) from None


def prepare_block(
    file: str,
    first_line: int,
    lines: Sequence[bytes],
    user: str,
    leaves: tuple[int, str] | None,
) -> tuple[list[Prepared], _Refusal | None, float]:
    """Stages 1-2 of a block of lines and each record's state (and its leaf if `leaves`
    = (position of the block's first record, record time as JSON)); the block's
    refusal, if any, and this process's CPU so far."""
    out: list[Prepared] = []
    refusal: _Refusal | None = None
    index = 0
    number = first_line - 1
    try:
        for line in lines:
            number += 1
            record = _record_of(line, number, file, index + 1)
            if record is None:
                continue
            index += 1
            data = record.data
            kind = record.kind
            if kind in REGISTRY_KINDS:
                namespace, bounds = kind, None
            else:
                namespace, bounds = "occurrence", date_bounds(data["date"])
            digest = content_digest(data)
            folded = record.id.casefold()
            stream = _stream(namespace, folded)
            refs: list[str] = []
            for ref in references_of(kind, data):
                refs.append(ref.namespace)
                refs.append(ref.id)
            state = leaf = None
            if kind not in _SLOW_KINDS:
                state = encode_state(kind, data, digest, bounds, user)
                if state is not None and leaves is not None:
                    leaf = leaf_of(leaves[0] + index - 1, leaves[1], stream, TOPICS[kind], state)
            out.append((index, number, kind, record.id, stream, tuple(refs), state, leaf))
    except RecordError as error:
        refusal = (error.message, error.field, error.file, error.index, error.line)
    return out, refusal, time.process_time()


def _blocks(path: str) -> Iterator[tuple[int, list[bytes]]]:
    number = 1
    with open(path, "rb") as handle:
        while True:
            lines = handle.readlines(BLOCK_BYTES)
            if not lines:
                return
            if number == 1:
                lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
            yield number, lines
            number += len(lines)


def _block_task(args: tuple[Any, ...]) -> tuple[list[Prepared], _Refusal | None, float, int]:
    gc.disable()
    out, refusal, cpu = prepare_block(*args)
    return out, refusal, cpu, os.getpid()


# --- stage 3-4: the writer -----------------------------------------------------------


class Writer:
    """The stateful part, in log order: registry checks, positions, leaves, inserts."""

    def __init__(self, db: sqlite3.Connection, user: str, lookup: bool, path: str) -> None:
        self.db = db
        self.user = user
        self.path = path
        head = db.execute(
            "SELECT size, root, frontier, recorded_at FROM ledger_events_merkle "
            "ORDER BY size DESC LIMIT 1"
        ).fetchone()
        last = db.execute("SELECT max(id) FROM ledger_events").fetchone()[0] or 0
        if head is None:
            self.frontier, previous = CompactRange(), None
        else:
            self.frontier = CompactRange.from_json(json.loads(head[2]))
            previous = head[3]
            if self.frontier.size != head[0] or self.frontier.root() != head[1]:
                raise SystemExit("the last tree head does not match its compact range")
        if self.frontier.size != last:
            raise SystemExit("the last tree head does not cover the log")
        # One record time per transaction, after the previous one's (`append_rows`);
        # ledger.store itself imports SQLAlchemy, a third of a second to start.
        from datetime import timedelta

        from ledger.dates import format_timestamp, parse_timestamp

        now = format_timestamp(datetime.now(UTC))
        after = (
            ""
            if previous is None
            else format_timestamp(parse_timestamp(previous) + timedelta(microseconds=1))
        )
        self.recorded_at = max(now, after)
        self.stamp_json = _json_string(self.recorded_at)
        self.position = last  # the last position written or queued
        #: The store held nothing when the write lock was taken: the dict is the ledger.
        self.lookups = lookup or last > 0
        #: (namespace, id case folded) -> id as registered, for everything entered so far
        #: (and, when looking up, everything found in the store; None: not there).
        self.seen: dict[tuple[str, str], str | None] = {}
        self.retracted: set[tuple[str, str]] = set()
        self.rows: list[tuple[Any, ...]] = []
        #: The queued rows' states by stream, for the slow path's registry (no flush).
        self.queued: dict[bytes, tuple[str, bytes]] = {}
        self.added = 0
        self.unchanged = 0
        self._slow: Any = None
        if self.lookups:
            self._load_retractions()

    # -- the common path --------------------------------------------------------------

    def take(
        self, items: Sequence[Prepared], base: int, assumed: int, lines: Sequence[bytes], first: int
    ) -> None:
        """Decide and queue a batch of prepared records (`base`: records before their
        block in the file; `assumed`: the position the worker gave the block's first
        record when it made their leaves; `lines`, `first`: the block's lines and the
        first one's number, for the records the project's `enter` decides)."""
        if self.lookups:
            self._prefetch(items)
        seen = self.seen
        retracted = self.retracted
        rows = self.rows
        for item in items:
            index, number, kind, ident, stream, refs, state, leaf = item
            namespace = kind if kind in REGISTRY_KINDS else "occurrence"
            folded = ident.casefold()
            slow = state is None or seen.get((namespace, folded)) is not None
            if not slow:
                for i in range(0, len(refs), 2):
                    ref_ns, ref_id = refs[i], refs[i + 1]
                    ref_folded = ref_id.casefold()
                    for ns in _LOOKED_UP_IN[ref_ns]:
                        known = seen.get((ns, ref_folded))
                        if known is not None:
                            if known != ref_id or (
                                ref_ns != "record" and (ns, ref_folded) in retracted
                            ):
                                slow = True
                            break
                    else:
                        slow = True
                    if slow:
                        break
            if slow or state is None:
                self._enter_slowly(lines[number - first], number, base + index)
                continue
            seen[(namespace, folded)] = ident
            self.position += 1
            topic = TOPICS[kind]
            if leaf is None or assumed + index - 1 != self.position:
                leaf = leaf_of(self.position, self.stamp_json, stream, topic, state)
            rows.append((self.position, stream, 1, topic, state, self.recorded_at, leaf))
            self.added += 1
        self.flush()

    def flush(self) -> None:
        if self.rows:
            self.frontier.extend([row[6] for row in self.rows])
            self.db.executemany(_EVENT_INSERT, self.rows)
            self.rows.clear()
            self.queued.clear()

    def queued_state(self, stream: bytes) -> tuple[str, bytes] | None:
        """(topic, state) of a row queued but not yet written, by its stream."""
        if not self.queued and self.rows:
            self.queued = {row[1]: (row[3], row[4]) for row in self.rows}
        return self.queued.get(stream)

    def finish(self) -> None:
        self.flush()
        if self.added:
            self.db.execute(
                "INSERT INTO ledger_events_merkle (size, root, frontier, recorded_at) "
                "VALUES (?, ?, ?, ?)",
                (
                    self.frontier.size,
                    self.frontier.root(),
                    json.dumps(self.frontier.to_json()),
                    self.recorded_at,
                ),
            )

    # -- the store ----------------------------------------------------------------------

    def _prefetch(self, items: Sequence[Prepared]) -> None:
        """One SELECT ... IN per batch: each record's own stream and every reference not
        yet known in each place it may point (as `StoreRegistry.prefetch` asks)."""
        seen = self.seen
        wanted: dict[bytes, tuple[str, str]] = {}
        for item in items:
            kind, ident, stream, refs = item[2], item[3], item[4], item[5]
            namespace = kind if kind in REGISTRY_KINDS else "occurrence"
            folded = ident.casefold()
            if (namespace, folded) not in seen:
                wanted[stream] = (namespace, folded)
            for i in range(0, len(refs), 2):
                ref_folded = refs[i + 1].casefold()
                for ns in _LOOKED_UP_IN[refs[i]]:
                    key = (ns, ref_folded)
                    if key not in seen:
                        wanted[_stream(ns, ref_folded)] = key
                    elif seen[key] is not None:
                        break
        streams = list(wanted)
        for start in range(0, len(streams), 500):
            chunk = streams[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for stream, state in self.db.execute(
                "SELECT originator_id, state FROM ledger_events "
                f"WHERE originator_version = 1 AND originator_id IN ({marks})",
                chunk,
            ):
                seen[wanted[bytes(stream)]] = orjson.loads(state)["record"]["id"]
            for stream in chunk:
                seen.setdefault(wanted[stream], None)

    def _load_retractions(self) -> None:
        for (state,) in self.db.execute(
            "SELECT state FROM ledger_events WHERE topic = 'ledger.events:Retracted'"
        ):
            event = orjson.loads(state)
            target_ns = event.get("target_namespace", "occurrence")
            if target_ns in REGISTRY_KINDS:
                self.retracted.add((target_ns, str(event["record"]["target"]).casefold()))

    # -- the rare path: the project's own decision ----------------------------------------

    def _enter_slowly(self, line: bytes, number: int, index: int) -> None:
        """Decide one record with `ledger.aggregates.enter` and encode it with the
        ledger's mapper; its registry reads the queued rows, then the store."""
        if self._slow is None:
            self._slow = _SlowPath(self)
        record = _record_of(line, number, self.path, index)
        try:
            row, known = self._slow.enter(record)
        except RecordError as error:
            raise error.located(file=self.path, index=index, line=number) from None
        key = (record.namespace, record.id.casefold())
        if row is None:
            self.unchanged += 1  # the records after it take a position earlier than assumed
            self.seen.setdefault(key, known.id)
            return
        self.seen[key] = known.id
        if known.kind == "retraction" and known.target_namespace in REGISTRY_KINDS:
            self.retracted.add((known.target_namespace, str(known.record["target"]).casefold()))
        stream, _version, topic, state = row
        assert isinstance(stream, UUID)
        self.position += 1
        leaf = leaf_of(self.position, self.stamp_json, stream.bytes, topic, state)
        self.rows.append((self.position, stream.bytes, 1, topic, state, self.recorded_at, leaf))
        self.queued.clear()  # remade with this row on the next question
        self.added += 1


class _SlowPath:
    """`ledger.aggregates.enter` over a registry made of the writer's dict and the store
    (the rows before the record are written, in this transaction), and the ledger's own
    mapper for the event's row."""

    def __init__(self, writer: Writer) -> None:
        # The library's own mapper and JSON transcoder, registered as the application
        # registers them: `LedgerMapper` writes the same bytes (its transcoder takes the
        # library's way for every amendment, and uses orjson only where the bytes are the
        # library's), but ledger.eventstore imports SQLAlchemy, a third of a second.
        from eventsourcing.persistence import (
            DatetimeAsISO,
            DecimalAsStr,
            JSONTranscoder,
            Mapper,
            UUIDAsHex,
        )

        transcoder = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)
        self.mapper: Any = Mapper(transcoder=transcoder)
        self.writer = writer
        self.registry: dict[tuple[str, str], Any] = {}
        self.amendments: dict[tuple[str, str], list[Any]] = {}
        if writer.lookups:
            for (state,) in writer.db.execute(
                "SELECT state FROM ledger_events WHERE topic IN "
                "('ledger.events:Corrected', 'ledger.events:Retracted') ORDER BY id"
            ):
                self._index(self._known(orjson.loads(state), amendment=True))

    def _known(self, state: dict[str, Any], *, amendment: bool) -> Any:
        from ledger.aggregates import Known

        return Known(
            id=state["record"]["id"],
            kind=state["record"]["kind"],
            digest=state["digest"],
            record=state["record"],
            recorded_by=state["recorded_by"],
            target_namespace=state.get("target_namespace", "occurrence") if amendment else None,
            result=state.get("result") if amendment else None,
        )

    def _index(self, known: Any) -> None:
        if known.target_namespace is not None:
            key = (known.target_namespace, str(known.record["target"]).casefold())
            self.amendments.setdefault(key, []).append(known)

    # the `ledger.aggregates.Registry` port
    def find(self, namespace: str, key: str) -> Any:
        """A registry record is read from the store once, then kept (as the ledger's
        registry keeps them for the import: they never change, amendments aside)."""
        folded = key.casefold()
        if self.writer.seen.get((namespace, folded)) is None and not self.writer.lookups:
            return None
        kept = self.registry.get((namespace, folded))
        if kept is not None:
            return kept
        known = self._read(namespace, folded)
        if known is not None and namespace in REGISTRY_KINDS:
            self.registry[(namespace, folded)] = known
        return known

    def _read(self, namespace: str, folded: str) -> Any:
        stream = _stream(namespace, folded)
        row = (
            self.writer.queued_state(stream)
            or self.writer.db.execute(
                "SELECT topic, state FROM ledger_events "
                "WHERE originator_version = 1 AND originator_id = ?",
                (stream,),
            ).fetchone()
        )
        if row is None:
            return None
        topic, state = row
        return self._known(
            orjson.loads(state), amendment=topic.endswith(("Corrected", "Retracted"))
        )

    def amendments_of(self, namespace: str, key: str) -> list[Any]:
        return self.amendments.get((namespace, key.casefold()), [])

    def retraction(self, namespace: str, key: str) -> Any:
        for known in self.amendments.get((namespace, key.casefold()), ()):
            if known.kind == "retraction":
                return known
        return None

    def mentions(self, ident: str) -> list[Any]:
        self.writer.flush()  # a scan of the store: the queued rows first
        needle = json.dumps(ident)
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [
            self._known(orjson.loads(state), amendment=topic.endswith(("Corrected", "Retracted")))
            for topic, state in self.writer.db.execute(
                "SELECT topic, state FROM ledger_events "
                "WHERE CAST(state AS TEXT) LIKE ? ESCAPE '\\' ORDER BY id",
                (f"%{escaped}%",),
            )
        ]

    def enter(self, record: Any) -> tuple[Any, Any]:
        from ledger.aggregates import Known, enter

        registry = _Port(self)
        event = enter(record, registry, self.writer.user)
        if event is None:
            existing = self.find(record.namespace, record.id)
            return None, existing
        known = Known.made(
            event.record["id"],
            event.record["kind"],
            event.digest,
            event.record,
            event.recorded_by,
            getattr(event, "target_namespace", None),
            getattr(event, "result", None),
        )
        self._index(known)
        stored = self.mapper.to_stored_event(event)
        row = (stored.originator_id, stored.originator_version, stored.topic, stored.state)
        return row, known


class _Port:
    """The `Registry` protocol's names over `_SlowPath` (its `amendments` is a dict)."""

    def __init__(self, slow: _SlowPath) -> None:
        self.find = slow.find
        self.amendments = slow.amendments_of
        self.retraction = slow.retraction
        self.mentions = slow.mentions


# --- the runs ---------------------------------------------------------------------------


#: SQLite's page cache for the import's connection, in MB (0: SQLite's default, 2 MB,
#: which the ledger keeps): ``--cache-mb N`` (environment: IMPORT_PROBE_CACHE_MB).
CACHE_MB = int(os.environ.get("IMPORT_PROBE_CACHE_MB", "0"))


def _connect(url: str) -> sqlite3.Connection:
    """A connection set up as `ledger.database` sets up the ledger's."""
    if not url.startswith("sqlite:///"):
        raise SystemExit("the probe writes to SQLite only")
    sqlite3.register_adapter(bytes, bytes)  # as ledger.database does (no adapter lookup)
    db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    if CACHE_MB:
        db.execute(f"PRAGMA cache_size=-{CACHE_MB * 1024}")
    return db


def init(url: str) -> None:
    """The ledger's schema, made by its own Alembic migrations (`ledger init` does this)."""
    from ledger.database import engine_for
    from ledger.schema import ensure_schema

    ensure_schema(engine_for(url))


def run(url: str, path: str, mode: str, workers: int = 1, lookup: bool = False) -> dict[str, Any]:
    """Import `path` into the ledger at `url` the probe's way; what it measured. The
    collector is kept out of the way as the ledger's import keeps it, and put back as it
    was (the probe's test runs it inside a test session)."""
    with frozen_out(disabled=True):
        return _run(url, path, mode, workers, lookup)


def _run(url: str, path: str, mode: str, workers: int, lookup: bool) -> dict[str, Any]:
    start = time.perf_counter()
    cpu0 = time.process_time()
    user = _user()
    pool = None
    if mode != "one":
        # Forked before the database is opened, so no worker holds its connection.
        pool = multiprocessing.get_context("fork").Pool(workers)
    db = _connect(url)
    db.execute("BEGIN IMMEDIATE")
    writer = Writer(db, user, lookup, path)
    workers_cpu: dict[int, float] = {}
    try:
        base = 0
        if pool is None:
            for first, lines in _blocks(path):
                items, refusal, _cpu = prepare_block(path, first, lines, user, None)
                _take(writer, items, base, 0, lines, first)
                if refusal is not None:
                    _raise(refusal, base)
                base += len(items)
        else:
            leaves = mode == "split-leaf"
            blocks = _blocks(path)
            pending: deque[Any] = deque()
            position = writer.position + 1

            def submit() -> None:
                nonlocal position
                block = next(blocks, None)
                if block is not None:
                    first, lines = block
                    where = (position, writer.stamp_json) if leaves else None
                    task = pool.apply_async(_block_task, ((path, first, lines, user, where),))
                    pending.append((position, first, lines, task))
                    # The next block's first position if every record enters and no
                    # line is blank; the writer rehashes a record whose position differs.
                    position += len(lines)

            for _ in range(2 * workers + 1):
                submit()
            while pending:
                assumed, first, lines, result = pending.popleft()
                items, refusal, cpu, pid = result.get()
                workers_cpu[pid] = cpu
                submit()
                _take(writer, items, base, assumed, lines, first)
                if refusal is not None:
                    _raise(refusal, base)
                base += len(items)
        writer.finish()
        committing = time.perf_counter()
        db.execute("COMMIT")
        commit = time.perf_counter() - committing
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        db.close()
    wall = time.perf_counter() - start
    return {
        "mode": mode,
        "workers": workers if pool is not None else 0,
        "lookups": writer.lookups,
        "added": writer.added,
        "unchanged": writer.unchanged,
        "wall": round(wall, 3),
        "commit": round(commit, 3),
        "writer_cpu": round(time.process_time() - cpu0, 3),
        "workers_cpu": round(sum(workers_cpu.values()), 3),
        "imports": round(IMPORTED - STARTED, 3),
    }


def _take(
    writer: Writer,
    items: list[Prepared],
    base: int,
    assumed: int,
    lines: Sequence[bytes],
    first: int,
) -> None:
    for start in range(0, len(items), BATCH):
        writer.take(items[start : start + BATCH], base, assumed, lines, first)


def _raise(refusal: _Refusal, base: int) -> None:
    message, field, file, at, line = refusal
    raise RecordError(
        message, field=field, file=file, index=None if at is None else base + at, line=line
    )


def _user() -> str:
    """Who is recording, as `ledger.application.default_user` and `recording_user` say
    (without importing the application)."""
    import getpass

    from ledger.records import recording_user

    name = os.environ.get("LEDGER_USER")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return recording_user(name)


# --- each stage alone ---------------------------------------------------------------------


def _each(
    label: str,
    work: Callable[..., Any],
    inputs: Sequence[Any],
    table: list[tuple[str, float]],
    *,
    star: bool = False,
    repeat: int = 3,
) -> None:
    """CPU µs per input of `work` over all `inputs`, results dropped as they come (as a
    pipeline drops them: kept, a million results' fresh pages would be timed too), the
    least of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        if star:
            for args in inputs:
                work(*args)
        else:
            for value in inputs:
                work(value)
        best = min(best, time.process_time() - start)
    table.append((label, best / len(inputs) * 1e6))


def stages(path: str) -> None:
    """Each stage over the whole file in this process, its inputs made beforehand by the
    stages before it (µs/record of CPU); the C-level work alone beside the project's calls."""
    import pickle

    import msgspec

    from ledger.records import _STRUCTS

    folder = f"/tmp/import_probe_stages_{os.getpid()}"
    os.makedirs(folder, exist_ok=True)
    gc.disable()
    table: list[tuple[str, float]] = []
    user = _user()
    lines = [line for _first, block in _blocks(path) for line in block]
    n = len(lines)
    _each("read the lines (readlines, 1 MB blocks)", lambda p: list(_blocks(p)), [path], table)
    table[-1] = (table[-1][0], table[-1][1] / n)
    _each("parse: reading._quick_json (orjson loads, dumps, compare)", _quick_json, lines, table)
    _each("  orjson.loads alone", orjson.loads, lines, table)
    _each("  json.loads (the floor's parse)", json.loads, lines, table)
    items = [orjson.loads(x) for x in lines]
    pairs = [(x, _STRUCTS[x["kind"]]) for x in items]
    _each("validate: records.validate_record", validate_record, items, table)
    _each(
        "  msgspec.convert into the kind's struct alone", msgspec.convert, pairs, table, star=True
    )
    converted = [msgspec.convert(x, st) for x, st in pairs]
    _each("  msgspec.to_builtins of the struct alone", msgspec.to_builtins, converted, table)
    records = [validate_record(x) for x in items]
    kinds = [r.kind for r in records]
    datas = [r.data for r in records]
    dates = [d["date"] for k, d in zip(kinds, datas, strict=True) if k not in REGISTRY_KINDS]
    _each("date bounds: vocabulary.date_bounds (per record)", date_bounds, dates, table)
    table[-1] = (table[-1][0], table[-1][1] * len(dates) / n)
    bounds = [
        date_bounds(d["date"]) if k not in REGISTRY_KINDS else None
        for k, d in zip(kinds, datas, strict=True)
    ]
    _each("digest: vocabulary.content_digest", content_digest, datas, table)
    sort = [(d, None, orjson.OPT_SORT_KEYS) for d in datas]
    _each("  orjson.dumps(sort_keys) alone", orjson.dumps, sort, table, star=True)
    sorted_json = [orjson.dumps(d, option=orjson.OPT_SORT_KEYS) for d in datas]
    _each("  sha256 alone", _sha256, sorted_json, table)
    digests = [content_digest(d) for d in datas]
    keys = [
        ("occurrence" if k not in REGISTRY_KINDS else k, r.id.casefold())
        for k, r in zip(kinds, records, strict=True)
    ]
    _each("stream id: uuid5 as 16 bytes (_stream)", _stream, keys, table, star=True)
    names = [_NAMESPACE_BYTES + f"{ns}:{f}".encode() for ns, f in keys]
    _each("  sha1 alone", _sha1, names, table)
    _each(
        "references: vocabulary.references_of",
        references_of,
        list(zip(kinds, datas, strict=True)),
        table,
        star=True,
    )
    encoding = list(zip(kinds, datas, digests, bounds, [user] * n, strict=True))
    _each(
        "state: encode_state (timestamp, dict, orjson.dumps)",
        encode_state,
        encoding,
        table,
        star=True,
    )
    _each("  datetime.now(UTC) spelled by orjson alone", lambda _: _now_iso(), lines, table)
    states = [encode_state(*args) or b"" for args in encoding]
    _each(
        "  orjson.dumps of the state alone", orjson.dumps, [orjson.loads(s) for s in states], table
    )
    stamp = _json_string("2026-12-01T00:00:00.000000Z")
    streams = [_stream(ns, f) for ns, f in keys]
    topics = [TOPICS.get(k, "ledger.events:Corrected") for k in kinds]
    hashing = [
        (i + 1, stamp, st, t, s)
        for i, (st, t, s) in enumerate(zip(streams, topics, states, strict=True))
    ]
    _each("leaf: canonical bytes + sha256 (leaf_of)", leaf_of, hashing, table, star=True)
    canon = [
        b"\x00"
        + (
            f'{{"position":{i + 1},"recorded_at":{stamp},'
            f'"state":{_json_string(s.decode())},'
            f'"stream":"{_hyphenated(st)}","topic":{_json_string(t)},"version":1}}'
        ).encode()
        for i, (st, t, s) in enumerate(zip(streams, topics, states, strict=True))
    ]
    _each("  sha256 of the canonical bytes alone", _sha256, canon, table)
    leaves = [leaf_of(*args) for args in hashing]
    _each(
        "Merkle frontier: CompactRange.extend",
        lambda ls: CompactRange().extend(ls),
        [leaves],
        table,
    )
    table[-1] = (table[-1][0], table[-1][1] / n)
    rows = [
        (i + 1, st, 1, t, s, "2026-12-01T00:00:00.000000Z", lf)
        for i, (st, t, s, lf) in enumerate(zip(streams, topics, states, leaves, strict=True))
    ]
    count = [0]

    def insert(sql: str, values: list[tuple[Any, ...]], make: Callable[[str], None]) -> None:
        count[0] += 1
        url = f"sqlite:///{folder}/insert-{count[0]}.db"
        make(url)
        db = _connect(url)
        start = time.process_time()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(sql, values)
        db.execute("COMMIT")
        spent = time.process_time() - start
        db.close()
        insert_times.append(spent)

    def bare(url: str) -> None:
        db = _connect(url)
        db.execute("CREATE TABLE bench_raw (position INTEGER PRIMARY KEY, kind TEXT, record TEXT)")
        db.close()

    insert_times: list[float] = []
    for _ in range(3):
        insert(_EVENT_INSERT, rows, init)
    table.append(
        (
            "insert: executemany into ledger_events (its indexes), commit",
            min(insert_times) / n * 1e6,
        )
    )
    _each(
        "  the floor's json.dumps of each record",
        lambda x: json.dumps(x, separators=(",", ":")),
        items,
        table,
    )
    floor_rows = [
        (i + 1, k, json.dumps(x, separators=(",", ":")))
        for i, (k, x) in enumerate(zip(kinds, items, strict=True))
    ]
    insert_times.clear()
    for _ in range(3):
        insert("INSERT INTO bench_raw VALUES (?, ?, ?)", floor_rows, bare)
    table.append(("  the floor's executemany into bench_raw, commit", min(insert_times) / n * 1e6))
    # The writer's own work (registry checks, rows, frontier, inserts), states and leaves
    # made beforehand as the split-leaf mode's worker makes them.
    prepared: list[Prepared] = []
    for i, (k, r, st, s, lf) in enumerate(
        zip(kinds, records, streams, states, leaves, strict=True)
    ):
        refs: list[str] = []
        for ref in references_of(k, r.data):
            refs += [ref.namespace, ref.id]
        fast = k not in _SLOW_KINDS
        prepared.append((i + 1, i + 1, k, r.id, st, tuple(refs), s if fast else None, lf))
    chunks = [prepared[i : i + 5000] for i in range(0, n, 5000)]
    _each(
        "hand-over: pickle.dumps of the prepared records (the worker)", pickle.dumps, chunks, table
    )
    table[-1] = (table[-1][0], table[-1][1] * len(chunks) / n)
    pickled = [pickle.dumps(chunk) for chunk in chunks]
    _each("hand-over: pickle.loads of them (the writer)", pickle.loads, pickled, table)
    table[-1] = (table[-1][0], table[-1][1] * len(chunks) / n)
    writes: list[float] = []
    for attempt in range(3):
        url = f"sqlite:///{folder}/writer-{attempt}.db"
        init(url)
        db = _connect(url)
        start = time.process_time()
        db.execute("BEGIN IMMEDIATE")
        writer = Writer(db, user, False, path)
        _take(writer, prepared, 0, 1, lines, 1)
        writer.finish()
        db.execute("COMMIT")
        writes.append(time.process_time() - start)
        db.close()
    table.append(
        ("writer: checks, rows, frontier, inserts (states, leaves given)", min(writes) / n * 1e6)
    )
    for label, us in table:
        print(f"| {label} | {us:.1f} |")
    print(f"records: {n}; the writer added {writer.added}")
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    os.rmdir(folder)


# --- interleaved fresh-process runs ------------------------------------------------------

#: What `compare` runs: the raw floor, the ledger's import, the probe's modes.
VARIANTS: dict[str, list[str]] = {
    "raw floor": ["-m", "benchmarks.steps", "raw-import"],
    "ledger import": ["-m", "benchmarks.steps", "import"],
    "probe one": ["-m", "benchmarks.import_probe", "one"],
    "probe split": ["-m", "benchmarks.import_probe", "split"],
    "probe split-leaf": ["-m", "benchmarks.import_probe", "split-leaf"],
    "probe split-leaf 2 workers": ["-m", "benchmarks.import_probe", "split-leaf", "--workers", "2"],
}


def compare(path: str, repeat: int, names: list[str]) -> None:
    """Each variant in a fresh process on a fresh database (its schema made beforehand, in
    another process, but for the raw floor's bare table), interleaved, `repeat` rounds:
    wall seconds and CPU seconds (``os.wait4``: the process and the children it reaped,
    the probe's pool included; the ledger's workers are the fork server's children, so
    their CPU is what its step prints, added here), one JSON line per run, then medians."""
    import statistics
    import subprocess

    folder = f"/tmp/import_probe_{os.getpid()}"
    os.makedirs(folder, exist_ok=True)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    try:
        for round_ in range(repeat):
            for name in names:
                db = f"{folder}/{round_}-{name.replace(' ', '_')}.db"
                url = f"sqlite:///{db}"
                if name != "raw floor":
                    init(url)
                cmd = [sys.executable, *VARIANTS[name][:3], url, path, *VARIANTS[name][3:]]
                start = time.perf_counter()
                child = subprocess.Popen(cmd, stdout=subprocess.PIPE)
                assert child.stdout is not None
                out = child.stdout.read()
                _, status, usage = os.wait4(child.pid, 0)
                wall = time.perf_counter() - start
                child.returncode = os.waitstatus_to_exitcode(status)
                if child.returncode != 0:
                    raise SystemExit(f"{name} failed ({child.returncode})")
                lines = out.decode().strip().splitlines()
                said = json.loads(lines[-1]) if lines else {}
                cpu = usage.ru_utime + usage.ru_stime
                if name == "ledger import":
                    cpu += said.get("workers_cpu", 0.0)
                results[name].append((wall, cpu))
                rss = usage.ru_maxrss / 1024  # the largest of the process and its children
                print(
                    json.dumps(
                        {
                            "variant": name,
                            "wall": round(wall, 3),
                            "cpu": round(cpu, 3),
                            "rss_mb": round(rss),
                        }
                    ),
                    json.dumps(said),
                    flush=True,
                )
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(db + suffix):
                        os.unlink(db + suffix)
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)
    floor = (
        statistics.median(wall for wall, _cpu in results["raw floor"])
        if ("raw floor" in results)
        else None
    )
    print("| variant | wall, median (s) | runs (s) | CPU, median (s) | x raw floor |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        wall = statistics.median(w for w, _c in runs)
        cpu = statistics.median(c for _w, c in runs)
        ratio = f"{floor / wall:.2f}x" if floor else ""
        shown = ", ".join(f"{w:.2f}" for w, _c in runs)
        print(f"| {name} | {wall:.2f} | {shown} | {cpu:.2f} | {ratio} |")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    workers = 1
    lookup = "--lookup" in args
    if lookup:
        args.remove("--lookup")
    if "--cache-mb" in args:
        at = args.index("--cache-mb")
        global CACHE_MB
        CACHE_MB = int(args[at + 1])
        del args[at : at + 2]
    if "--workers" in args:
        at = args.index("--workers")
        workers = int(args[at + 1])
        del args[at : at + 2]
    if args[0] == "init":
        init(args[1])
        return
    if args[0] == "stages":
        stages(args[1])
        return
    if args[0] == "compare":
        repeat = 3
        if "--repeat" in args:
            at = args.index("--repeat")
            repeat = int(args[at + 1])
            del args[at : at + 2]
        compare(args[1], repeat, args[2:] or list(VARIANTS))
        return
    mode, url, path = args
    print(json.dumps(run(url, path, mode, workers, lookup)))


if __name__ == "__main__":
    main()
