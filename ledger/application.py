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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

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
from ledger.database import explain, require_ledger
from ledger.errors import RecordError, RetryableError
from ledger.events import Corrected, Recorded, Retracted
from ledger.eventstore import LedgerMapper, LedgerTranscoder
from ledger.records import recording_user
from ledger.schema import ensure_schema, is_current
from ledger.store import LedgerFactory, LedgerRecorder, LogEntry
from ledger.vocabulary import REGISTRY_KINDS, Record, canonical_json, stream_name

if TYPE_CHECKING:
    from ledger.merkle import CompactRange
    from ledger.reading import RawRecord

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
        self.caches: dict[str, dict[str, Known | None]] = {
            namespace: {} for namespace in (*REGISTRY_KINDS, "occurrence")
        }
        self.pending: list[Known] = []
        #: What this batch found the store not to hold: forgotten when the batch is
        #: written (see `end_batch`).
        self.missing: list[tuple[dict[str, Known | None], str]] = []
        self._amendments: dict[tuple[str, str], list[Known]] | None = None
        self._retractions: dict[tuple[str, str], list[Known]] | None = None

    def find(self, namespace: str, key: str) -> Known | None:
        cache = self.caches[namespace]
        folded = key.casefold()
        try:
            return cache[folded]
        except KeyError:
            self._fetch({stream_name(namespace, key): (cache, folded)})
            return cache[folded]

    def prefetch(self, records: Iterable[Record], *, own_ids: bool = True) -> None:
        """Fetch at once what deciding on `records` will ask: each one's own id, and every
        reference in each place it may point, up to the first place already known to
        hold it (the decision looks no further). One loop: it runs for every reference.

        Without `own_ids`, an own id that nothing else here asks about is not looked
        for but taken as not stored: the caller lets the store's unique index say so
        when the records' events are appended (`LedgerRecorder.append_new_rows`), and
        decides again with a registry of its own if it did not hold.
        """
        wanted: dict[str, tuple[dict[str, Known | None], str]] = {}
        streams: dict[str, UUID] = {}
        assumed: list[tuple[dict[str, Known | None], str]] = []
        caches = self.caches
        for record in records:
            namespace = record.namespace
            cache = caches[namespace]
            folded = record.id.casefold()
            if folded not in cache:
                if own_ids:
                    name = stream_name(namespace, record.id)
                    wanted[name] = cache, folded
                    streams[name] = record.stream  # worked out already, maybe by a worker
                else:
                    assumed.append((cache, folded))
            for ref in record.references:
                folded = ref.id.casefold()
                for namespace in LOOKED_UP_IN.get(ref.namespace) or (ref.namespace,):
                    cache = caches[namespace]
                    known = cache.get(folded, _UNKNOWN)
                    if known is _UNKNOWN:
                        wanted[stream_name(namespace, ref.id)] = cache, folded
                    elif known is not None:
                        break
        if wanted:
            self._fetch(wanted, streams)
        for cache, folded in assumed:  # after the fetch: a reference may have found it
            cache.setdefault(folded, None)

    def _fetch(
        self,
        wanted: dict[str, tuple[dict[str, Known | None], str]],
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
            if known.target_namespace is None:
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
        found.extend(k for k in self.pending if needle in canonical_json(k.record).casefold())
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

    def import_records(
        self, items: Iterable[tuple[RawRecord | None, Record]], recorded_by: str | None = None
    ) -> ImportResult:
        """Enter records in one transaction: all of them, or (on any refusal) none.

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
        # import, what was there before is frozen out of its passes, and leftovers are
        # collected young every few batches, then everything is put back as it was. (Each
        # young pass walks every live object made since the last, the records read ahead
        # included: one per batch was a tenth of the import.)
        collecting, frozen = gc.isenabled(), gc.get_freeze_count()
        gc.freeze()
        gc.disable()
        try:
            with self.recorder.transaction(commit=True) as session:
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
                    events = self._decide_batch(batch, registry, user, result)
                    self._append(session, events, result)
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
        finally:
            if not frozen:  # else whoever froze first keeps what it froze, and ours
                gc.unfreeze()
            if collecting:
                gc.enable()
        return result

    def _enter_optimistically(
        self,
        batch: list[tuple[RawRecord | None, Record]],
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
            events = self._decide_batch(batch, registry, user, result, own_ids=False)
            if self._append(session, events, result, new_only=True):
                return True
        except RecordError:
            pass
        result.added, result.unchanged, result.first_position, result.last_position = counts
        return False

    def _append(
        self, session: Any, events: list[Recorded], result: ImportResult, *, new_only: bool = False
    ) -> bool:
        """Append the events (True); with `new_only`, nothing if any stream is stored
        already (False)."""
        if not events:
            return True
        # Straight to the mapper and the recorder, as the library's `EventStore.put`
        # does: `save()` would check each aggregate against runtime Protocols (~10 % of
        # an import), and `put` makes a `StoredEvent`, a `Notification` and a
        # `Recording` per event (frozen dataclasses), of which the import reads the
        # position.
        rows = list(map(self.mapper.stored_row, events))
        if new_only:
            positions = self.recorder.append_new_rows(session, rows)
            if positions is None:
                return False
        else:
            positions = self.recorder.append_rows(session, rows)
        if result.first_position is None:
            result.first_position = positions[0]
        result.last_position = positions[-1]
        return True

    def _decide_batch(
        self,
        batch: list[tuple[RawRecord | None, Record]],
        registry: StoreRegistry,
        user: str,
        result: ImportResult,
        *,
        own_ids: bool = True,
    ) -> list[Recorded]:
        registry.prefetch((record for _, record in batch), own_ids=own_ids)
        events: list[Recorded] = []
        for raw, record in batch:
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
            events.append(event)
            result.added += 1
        return events

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
