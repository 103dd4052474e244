"""The ledger application: get what the decision needs, decide, save — in one transaction.

It only orchestrates: `ledger.aggregates` decides, the recorder in `ledger.store`
writes. An import is one transaction however many files and records it holds, so a
refused record leaves the ledger exactly as it was.
"""

from __future__ import annotations

import functools
import gc
import getpass
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.utils import get_topic
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder

from ledger.aggregates import LOOKED_UP_IN, Known, enter, namespace_of, stream_id
from ledger.collector import frozen_out
from ledger.database import explain, require_ledger
from ledger.errors import RecordError, RetryableError
from ledger.events import EVENT_CLASSES, Corrected, Recorded, Retracted
from ledger.eventstore import LedgerMapper, LedgerTranscoder, StoredRow
from ledger.reading import RawRecord
from ledger.records import recording_user
from ledger.schema import ensure_schema, is_current
from ledger.store import LedgerFactory, LedgerRecorder, LogEntry
from ledger.vocabulary import REGISTRY_KINDS, Record, canonical_json, stream_name

if TYPE_CHECKING:
    from ledger.merkle import CompactRange
    from ledger.reading import Slim

    #: What an import is given: a record as read and validated (the raw record, for
    #: where it was, or None), or a reading worker's slim row (`ledger.parallel_reading`).
    Item = tuple[RawRecord | None, Record] | Slim

DEFAULT_URL = "sqlite:///ledger.db"
#: Records decided and written per round trip inside the one import transaction.
BATCH_SIZE = 1000
#: Batches between two young garbage collections during an import.
COLLECT_EVERY = 20


def default_user() -> str:
    """Who is recording: $LEDGER_USER, else the operating system's user."""
    user = os.environ.get("LEDGER_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class ImportResult:
    added: int = 0
    unchanged: int = 0
    first_position: int | None = None
    last_position: int | None = None


class ImportInterrupted(KeyboardInterrupt):
    """Ctrl-C arrived as an import was committing, and the commit went through.

    `result` is what was imported. `certain` is False when the interrupt came during the
    commit and the ledger could not be asked afterwards whether it had gone through.
    An interrupt before the commit is a plain KeyboardInterrupt: nothing was written.
    """

    def __init__(self, result: ImportResult, *, certain: bool = True) -> None:
        super().__init__(result)
        self.result = result
        self.certain = certain


@dataclass(frozen=True)
class LoggedEvent:
    """A stored event decoded for display: what `ledger log` and audits show."""

    entry: LogEntry
    event: Recorded

    @property
    def type(self) -> str:
        return type(self.event).__name__

    @property
    def record(self) -> dict[str, Any]:
        return self.event.record

    def to_json(self) -> dict[str, Any]:
        """The entry as `ledger log --json` and the web API's log show it (CLI.md)."""
        return {
            "position": self.entry.position,
            "recorded_at": self.entry.recorded_at,
            "recorded_by": self.event.recorded_by,
            "stream": str(self.entry.stream),
            "version": self.entry.version,
            "type": self.type,
            "data": self.record,
            "hash": self.entry.leaf_hash.hex(),
        }


class StoreRegistry:
    """The `Registry` port over the event store, seen from inside the write transaction.

    Registry records (sources, actors, agreements) are few and looked up constantly, so
    they are cached for the whole import; occurrences are fetched a batch at a time.
    Corrections and retractions are few (a partial index on their topics finds them) and
    are read once per import, on the first question that needs them.

    The caches hold one mapping per namespace, keyed by the id case folded (what a
    stream's name is made of, see `stream_name`), so the millions of lookups of a large
    import hash the id as written, folded, and make no name; a name, and a stream id,
    are made only for what is fetched.
    """

    def __init__(self, app: Ledger, session: Any) -> None:
        self.app = app
        self.session = session
        self.caches: dict[str, dict[str, Kept]] = {
            namespace: {} for namespace in (*REGISTRY_KINDS, "occurrence")
        }
        self.pending: list[Known | Entered] = []
        #: What this batch found the store not to hold: forgotten when the batch is
        #: written (see `end_batch`).
        self.missing: list[tuple[dict[str, Kept], str]] = []
        self._amendments: dict[tuple[str, str], list[Known]] | None = None
        self._retractions: dict[tuple[str, str], list[Known]] | None = None

    def find(self, namespace: str, key: str) -> Known | None:
        cache = self.caches[namespace]
        folded = key.casefold()
        try:
            known = cache[folded]
        except KeyError:
            self._fetch({stream_name(namespace, key): (cache, folded)})
            known = cache[folded]
        if type(known) is Entered:
            known = cache[folded] = known.known(self.app.mapper.transcoder.decode)
        assert not isinstance(known, Entered)
        return known

    def prefetch(self, items: Iterable[Item], *, own_ids: bool = True) -> None:
        """Fetch at once what deciding on `records` will ask: each one's own id, and every
        reference in each place it may point, up to the first place already known to
        hold it (the decision looks no further). One loop: it runs for every reference.

        Without `own_ids`, an own id that nothing else here asks about is not looked
        for but taken as not stored: the caller lets the store's unique index say so
        when the records' events are appended (`LedgerRecorder.append_new_rows`), and
        decides again with a registry of its own if it did not hold.
        """
        wanted: dict[str, tuple[dict[str, Kept], str]] = {}
        streams: dict[str, UUID] = {}
        assumed: list[tuple[dict[str, Kept], str]] = []
        caches = self.caches
        for item in items:
            refs: Iterable[Sequence[str]]
            if type(item) is list:  # a slim row
                kind, ident, stream, refs = item[2], item[3], item[4], item[5]
                namespace = kind if kind in REGISTRY_KINDS else "occurrence"
            else:
                record = item[1]
                namespace, ident, stream, refs = (
                    record.namespace,
                    record.id,
                    record.stream,
                    record.references,
                )
            cache = caches[namespace]
            folded = ident.casefold()
            if folded not in cache:
                if own_ids:
                    name = stream_name(namespace, ident)
                    wanted[name] = cache, folded
                    # worked out already, maybe by a worker
                    streams[name] = stream if type(stream) is UUID else UUID(stream)
                else:
                    assumed.append((cache, folded))
            for _, ref_namespace, ref_id in refs:
                folded = ref_id.casefold()
                for namespace in LOOKED_UP_IN.get(ref_namespace) or (ref_namespace,):
                    cache = caches[namespace]
                    known = cache.get(folded, _UNKNOWN)
                    if known is _UNKNOWN:
                        wanted[stream_name(namespace, ref_id)] = cache, folded
                    elif known is not None:
                        break
        if wanted:
            self._fetch(wanted, streams)
        for cache, folded in assumed:  # after the fetch: a reference may have found it
            cache.setdefault(folded, None)

    def _fetch(
        self,
        wanted: dict[str, tuple[dict[str, Kept], str]],
        streams: dict[str, UUID] | None = None,
    ) -> None:
        """Load the streams named in `wanted` into the cache and key each is mapped to;
        a name the store does not hold is cached as None. `streams`: ids already worked
        out."""
        names = list(wanted)
        streams = streams or {}
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            ids = [streams.get(name) or _stream_of(name) for name in chunk]
            for uid, known in self._load(ids):
                name = stream_name(known.namespace, known.id)
                if name not in wanted:  # the stored id names its stream as asked; if not,
                    name = chunk[ids.index(uid)]  # the stream id says what was asked
                cache, folded = wanted[name]
                cache[folded] = known
            for name in chunk:
                cache, folded = wanted[name]
                if folded not in cache:
                    cache[folded] = None
                    self.missing.append((cache, folded))

    def _load(self, ids: list[UUID]) -> Iterator[tuple[UUID, Known]]:
        """The records whose streams are `ids`, straight from the driver: one query, no
        statement compiled per batch (SQLAlchemy's handling of it was most of a lookup)."""
        for uid, topic, state in self.app.recorder.select_first_events(self.session, ids):
            yield uid, _known(self.app.decode(uid, 1, topic, state))

    def amendments(self, namespace: str, key: str) -> list[Known]:
        if self._amendments is None:
            self._amendments = self._load_amendments(retractions_only=False)
        return self._amendments.get((namespace, key.casefold()), [])

    def retracted(self) -> dict[tuple[str, str], list[Known]]:
        """The retractions known to this import, by (namespace, id case folded) of what
        each retracts, loaded if they were not: the writer's check of a slim row asks it
        for every reference to a registry record. Kept up to date by `add`."""
        if self._retractions is None:
            self._retractions = self._load_amendments(retractions_only=True)
        return self._retractions

    def retraction(self, namespace: str, key: str) -> Known | None:
        """Asked of every reference to a registry record, so answered from retractions
        alone (a few thousand in a million records) unless all amendments are loaded."""
        index = self._amendments
        if index is None:
            if self._retractions is None:
                self._retractions = self._load_amendments(retractions_only=True)
            index = self._retractions
        for amendment in index.get((namespace, key.casefold()), ()):
            if amendment.kind == "retraction":
                return amendment
        return None

    def _load_amendments(self, *, retractions_only: bool) -> dict[tuple[str, str], list[Known]]:
        """Amendments in the store (earlier batches included) and in the batch being decided."""
        index: dict[tuple[str, str], list[Known]] = {}
        topics = (
            [get_topic(Retracted)]
            if retractions_only
            else [get_topic(Corrected), get_topic(Retracted)]
        )
        stored = self.app.recorder.select_by_topics(self.session, topics)
        decoded = (_known(self.app.decode(e.stream, e.version, e.topic, e.state)) for e in stored)
        for known in [*decoded, *self.pending]:
            if not isinstance(known, Known) or known.target_namespace is None:
                continue
            if retractions_only and known.kind != "retraction":
                continue
            index.setdefault(_amended_key(known), []).append(known)
        return index

    def mentions(self, ident: str) -> list[Known]:
        needle = json.dumps(ident).casefold()
        found = [
            _known(self.app.decode(entry.stream, entry.version, entry.topic, entry.state))
            for entry in self.app.recorder.select_mentioning(self.session, json.dumps(ident))
        ]
        decode = self.app.mapper.transcoder.decode
        for known in self.pending:
            if type(known) is Entered:
                known = known.known(decode)
            assert not isinstance(known, Entered)
            if needle in canonical_json(known.record).casefold():
                found.append(known)
        return found

    def add(self, event: Recorded) -> None:
        """Make a record decided in this batch visible to the rest of the batch."""
        record = event.record
        namespace = namespace_of(record["kind"])
        known = Known.made(
            record["id"],
            record["kind"],
            event.digest,
            record,
            f"{event.recorded_by}, earlier in this same import",
            getattr(event, "target_namespace", None),
            getattr(event, "result", None),
        )
        self.caches[namespace][known.id.casefold()] = known
        self.pending.append(known)
        if known.target_namespace is not None:
            amendment = known.as_amendment()
            for index in (self._amendments, self._retractions):
                if index is not None and (index is self._amendments or known.kind == "retraction"):
                    index.setdefault(_amended_key(amendment), []).append(amendment)

    def end_batch(self) -> None:
        """The batch is written: its entries are in the store, where queries find them.
        Registry records stay cached for the whole import; occurrences for the batch.
        So do the ids found missing: a reference that may name any record is looked for
        in every namespace, and each miss kept for the whole import grew a million-record
        import by tens of megabytes; one asked again is fetched again. A miss of a
        registry record's id in another namespace is kept (bounded by the registry, and
        asked again for every reference to it)."""
        caches = self.caches
        caches["occurrence"].clear()
        self.pending.clear()
        registry = [caches[namespace] for namespace in REGISTRY_KINDS]
        for cache, folded in self.missing:
            if cache.get(folded, _UNKNOWN) is None and all(
                other.get(folded) is None for other in registry
            ):
                del cache[folded]
        self.missing.clear()


#: Not in a cache at all (None in a cache: known not to be in the store).
_UNKNOWN: Any = object()


class Entered:
    """A record this import appended as read, from a reading worker's slim row: what the
    registry keeps of it (its id, kind and stored state) until a decision asks about it,
    when its `Known` is read from the state. Most records are never asked about again,
    and making each one's `Known`, a dictionary of its data included, was the writer's
    time (``Ledger.import_records``)."""

    __slots__ = ("id", "kind", "state")
    #: Never an amendment: those always take the full path.
    target_namespace = None

    def __init__(self, id: str, kind: str, state: bytes) -> None:
        self.id = id
        self.kind = kind
        self.state = state

    def known(self, decode: Callable[[bytes], Any]) -> Known:
        """The `Known` the full path would have kept of it (`StoreRegistry.add`)."""
        state = decode(self.state)
        return Known.made(
            self.id,
            self.kind,
            state["digest"],
            state["record"],
            f"{state['recorded_by']}, earlier in this same import",
            None,
            None,
        )


#: What a registry's cache holds for an id: a record, one appended as read in this
#: import, or None (not in the store).
Kept = Known | Entered | None
#: json's C encoder of one string, as `LedgerRecorder.append_rows` spells a state.
_json_string: Callable[[str], str] = json.encoder.encode_basestring_ascii
#: Each kind's event topic (a slim row's event is of its kind's class).
_TOPICS = {kind: get_topic(event_class) for kind, event_class in EVENT_CLASSES.items()}


def _as_registered(
    refs: list[list[str]],
    caches: dict[str, dict[str, Kept]],
    retracted: dict[tuple[str, str], list[Known]],
) -> bool:
    """Whether every reference names what the registry holds (after `prefetch`), spelled
    as registered, and no retracted registry record: what `enter` would find, checked
    without asking it. False on any doubt (the full path then decides)."""
    for _, namespace, ident in refs:
        folded = ident.casefold()
        for place in LOOKED_UP_IN.get(namespace) or (namespace,):
            known = caches[place].get(folded, _UNKNOWN)
            if known is None:
                continue
            if known is _UNKNOWN or known.id != ident:
                return False
            if (place, folded) in retracted and place in REGISTRY_KINDS and namespace != "record":
                return False
            break
        else:
            return False
    return True


def _amended_key(amendment: Known) -> tuple[str, str]:
    assert amendment.target_namespace is not None
    return amendment.target_namespace, str(amendment.record["target"]).casefold()


def _stream_of(name: str) -> UUID:
    namespace, _, key = name.partition(":")
    return stream_id(namespace, key)


def _known(event: Recorded) -> Known:
    return Known(
        id=event.record["id"],
        kind=event.record["kind"],
        digest=event.digest,
        record=event.record,
        recorded_by=event.recorded_by,
        target_namespace=getattr(event, "target_namespace", None),
        result=getattr(event, "result", None),
    )


class Ledger(Application[UUID]):
    """The diplomacy ledger's write side (eventsourcing Application named ``ledger``)."""

    name = "ledger"
    recorder: LedgerRecorder
    mapper: LedgerMapper

    def __init__(self, url: str = DEFAULT_URL, *, create: bool = True) -> None:
        require_ledger(url, create=create)
        super().__init__(
            env={
                "PERSISTENCE_MODULE": get_topic(LedgerFactory),
                "SQLALCHEMY_URL": url,
                "CREATE_TABLE": "n",
                "MAPPER_TOPIC": get_topic(LedgerMapper),
                "TRANSCODER_TOPIC": get_topic(LedgerTranscoder),
            }
        )
        self.url = url
        if not is_current(self.engine):
            ensure_schema(self.engine, create=create)

    @property
    def engine(self) -> Any:
        return self.recorder.datastore.engine

    @functools.cached_property
    def tracking_recorder(self) -> SQLAlchemyTrackingRecorder:
        """The recorder of the read models' tracking records, on this ledger's datastore."""
        recorder = self.factory.tracking_recorder()
        assert isinstance(recorder, SQLAlchemyTrackingRecorder)  # LedgerFactory's
        return recorder

    # -- writing -------------------------------------------------------------------

    def import_records(self, items: Iterable[Item], recorded_by: str | None = None) -> ImportResult:
        """Enter records in one transaction: all of them, or (on any refusal) none.

        `items` may hold a reading worker's slim rows (`ledger.parallel_reading`): each
        is appended as the worker encoded it when the registry confirms what the worker
        took for granted (its id new, every reference naming a record spelled as
        registered and not retracted); on any doubt it is decided by `enter`, as a
        record read here would be. The stored rows are the same either way.

        Ctrl-C before the commit raises KeyboardInterrupt and nothing is written; one that
        lands while the commit is under way raises `ImportInterrupted` if the commit went
        through, which the ledger tells by looking for the transaction's record time.
        """
        user = recording_user(recorded_by or default_user())
        result = ImportResult()
        iterator = iter(items)
        info: dict[str, Any] = {}
        committing = False
        # What the import builds is acyclic and short-lived, and the garbage collector's
        # passes over a heap of a million records' objects cost ~15 %: it is off for the
        # import, what was there before is frozen out of its passes (`frozen_out`), and
        # leftovers are collected young every few batches. (Each young pass walks every
        # live object made since the last, the records read ahead included: one per
        # batch was a tenth of the import.)
        try:
            with frozen_out(disabled=True), self.recorder.transaction(commit=True) as session:
                info = session.info
                self.recorder.lock_for_writing(session)
                registry = StoreRegistry(self, session)
                # New records' own ids are not looked up, batch after batch, but left
                # to the store's unique index, until one is found taken (a re-import,
                # a file overlapping the ledger): from then on they are looked up.
                optimistic = True
                for count in itertools.count(1):
                    batch = list(itertools.islice(iterator, BATCH_SIZE))
                    if not batch:
                        break
                    if optimistic:
                        if self._enter_optimistically(batch, registry, user, result, session):
                            registry.end_batch()
                            continue
                        # An own id was taken, or a refusal may have come of taking it
                        # as free: decided again, as if never tried, from a fresh registry
                        # (the store is as it was before the batch).
                        optimistic = False
                        registry = StoreRegistry(self, session)
                    rows, texts = self._decide_batch(batch, registry, user, result)
                    self._append(session, rows, texts, result)
                    registry.end_batch()
                    if count % COLLECT_EVERY == 0:
                        gc.collect(0)
                committing = True
        except KeyboardInterrupt:
            stamp = info.get("ledger_recorded_at")
            if not committing or stamp is None:
                raise
            try:
                written = self.recorder.committed_at(stamp)
            except BaseException:  # a second Ctrl-C, or the database gone: cannot tell
                raise ImportInterrupted(result, certain=False) from None
            if written:
                raise ImportInterrupted(result) from None
            raise
        except IntegrityError as error:
            raise RetryableError(
                "another writer entered some of these records at the same moment; "
                "nothing was written: run the same command again"
            ) from error
        except OperationalError as error:
            raise explain(error, self.url) from error
        return result

    def _enter_optimistically(
        self,
        batch: list[Item],
        registry: StoreRegistry,
        user: str,
        result: ImportResult,
        session: Any,
    ) -> bool:
        """Decide and append `batch` taking every new record's own id as free; True if it
        was. False when the store refused an id, or the decision refused a record (which
        may have come of taking its id as free, e.g. a re-imported retraction judged as
        a new one): then nothing of the batch is written, `result` is as it was, and
        `registry` is of no further use.
        """
        counts = result.added, result.unchanged, result.first_position, result.last_position
        try:
            rows, texts = self._decide_batch(batch, registry, user, result, own_ids=False)
            if self._append(session, rows, texts, result, new_only=True):
                return True
        except RecordError:
            pass
        result.added, result.unchanged, result.first_position, result.last_position = counts
        return False

    def _append(
        self,
        session: Any,
        rows: list[StoredRow],
        texts: list[str | None],
        result: ImportResult,
        *,
        new_only: bool = False,
    ) -> bool:
        """Append the events' rows (True); with `new_only`, nothing if any stream is
        stored already (False)."""
        if not rows:
            return True
        if new_only:
            positions = self.recorder.append_new_rows(session, rows, texts)
            if positions is None:
                return False
        else:
            positions = self.recorder.append_rows(session, rows, texts)
        if result.first_position is None:
            result.first_position = positions[0]
        result.last_position = positions[-1]
        return True

    def _decide_batch(
        self,
        batch: list[Item],
        registry: StoreRegistry,
        user: str,
        result: ImportResult,
        *,
        own_ids: bool = True,
    ) -> tuple[list[StoredRow], list[str | None]]:
        """The batch decided, as the rows of its events (`LedgerMapper.stored_row`'s),
        and each one's state as its leaf spells it where a worker spelled it.

        Events go straight to the mapper and the recorder, as the library's
        `EventStore.put` does: `save()` would check each aggregate against runtime
        Protocols (~10 % of an import), and `put` makes a `StoredEvent`, a
        `Notification` and a `Recording` per event (frozen dataclasses), of which the
        import reads the position. A slim row the registry confirms is its own event's
        row, the user's name put back in its state; nothing else is made of it.
        """
        registry.prefetch(batch, own_ids=own_ids)
        rows: list[StoredRow] = []
        texts: list[str | None] = []  # each state as its leaf spells it, where known
        caches = registry.caches
        pending = registry.pending
        retracted = registry.retracted()
        spelled: bytes | None = None
        user_text = ""
        try:
            spelled = orjson.dumps(user)
            user_text = _json_string(spelled.decode())[1:-1]
        except TypeError:  # not text orjson spells as the mapper would: every row decided
            spelled = None
        for item in batch:
            raw: RawRecord | None
            if type(item) is list:
                kind, ident, stream, refs, head, tail, spelled_head, spelled_tail = item[2:10]
                cache = caches[kind if kind in REGISTRY_KINDS else "occurrence"]
                folded = ident.casefold()
                if (
                    spelled is not None
                    and cache.get(folded, _UNKNOWN) is None
                    and _as_registered(refs, caches, retracted)
                ):
                    state = head + spelled + tail
                    texts.append(spelled_head + user_text + spelled_tail)
                    entered = Entered(ident, kind, state)
                    cache[folded] = entered
                    pending.append(entered)
                    rows.append((stream, 1, _TOPICS[kind], state))
                    result.added += 1
                    continue
                raw, record = self._read_slim(item)
            else:
                raw, record = item[0], item[1]
            try:
                event = enter(record, registry, user)
            except RecordError as error:
                if raw is None:
                    raise
                raise error.located(file=raw.file, index=raw.index, line=raw.line) from None
            if event is None:
                result.unchanged += 1
                continue
            registry.add(event)
            rows.append(self.mapper.stored_row(event))
            texts.append(None)
            result.added += 1
        return rows, texts

    def _read_slim(self, item: Slim) -> tuple[RawRecord, Record]:
        """A slim row as the full path takes it: its record, read back from the state
        the worker encoded (the record as validated, its digest and date bounds)."""
        index, line, _, _, stream, refs, head, tail, _, _, path = item
        state = self.mapper.transcoder.decode(head + b'""' + tail)
        data = state["record"]
        bounds = (state.get("earliest"), state.get("latest"))
        record = Record.prepared(data, state["digest"], bounds, UUID(stream), refs)
        return RawRecord(path, index, line, data), record

    # -- reading -------------------------------------------------------------------

    def decode(self, stream: UUID, version: int, topic: str, state: bytes) -> Recorded:
        event = self.mapper.to_domain_event(
            StoredEvent(originator_id=stream, originator_version=version, topic=topic, state=state)
        )
        assert isinstance(event, Recorded)
        return event

    # Application.log is the library's deprecated alias of `notification_log`, a property;
    # the ledger's `log` is its own method, and nothing here reads the library's.
    def log(  # type: ignore[override]
        self,
        after: int = 0,
        limit: int | None = None,
        known_at: str | None = None,
        *,
        upto: int | None = None,
        tree: CompactRange | None = None,
    ) -> Iterator[LoggedEvent]:
        """The raw log in order, decoded; streams a page at a time.

        Each row is rehashed before it is shown beside its leaf hash, and refused
        (TamperingDetected, naming its position) if it no longer matches. With `known_at`
        (a record-time stamp), only the events recorded by then: record time only grows
        along the log (each write's stamp is after the last), so they are a prefix of it
        and the walk stops at the first event recorded later. `upto` bounds it at a
        position (a checkpoint's size: nothing recorded after it is read). Given `tree`,
        every leaf up to `upto`, shown or recorded after `known_at`, is rehashed and
        appended to it, so the caller can check that they hash to a checkpoint's root.
        """
        for count, entry in enumerate(self.recorder.iter_log(after=after, upto=upto)):
            later = known_at is not None and entry.recorded_at > known_at
            if (limit is not None and count >= limit) or (later and tree is None):
                return
            entry.vouched()
            if tree is not None:
                tree.append(entry.leaf_hash)
                if later:
                    continue
            event = self.decode(entry.stream, entry.version, entry.topic, entry.state)
            yield LoggedEvent(entry, event)

    # -- naming --------------------------------------------------------------------

    @property
    def origin(self) -> str:
        """The origin line of this ledger's signed checkpoints (see `ledger.origin`)."""
        from ledger.origin import origin_of

        with self.recorder.transaction(commit=False) as session:
            return origin_of(session.connection())

    def name_origin(self, origin: str) -> bool:
        """Set the origin while the log is empty; True if it changed."""
        from ledger.origin import set_origin

        with self.recorder.transaction(commit=True) as session:
            self.recorder.lock_for_writing(session)
            events = self.recorder.last_position(session)
            return set_origin(session.connection(), origin, events)

    def export(self) -> Iterator[dict[str, Any]]:
        """Every record as entered, in log order (so references come before their use)."""
        for logged in self.log():
            yield logged.record

    def find(self, namespace: str, key: str) -> Known | None:
        try:
            with self.recorder.transaction(commit=False) as session:
                return StoreRegistry(self, session).find(namespace, key)
        except PersistenceError:
            return None
