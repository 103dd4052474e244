"""Every point where the ledger touches the eventsourcing libraries beyond their public API.

The ledger keeps the libraries' public contract: its events are the library's event
classes, stored through the library's `Mapper` with a `JSONTranscoder` (subclassed, as
the library invites), by a recorder that passes the library's recorder conformance
suites, with the library's tracking records. Three things the public API does not
offer; each is done here, and only here, so that an upgrade of eventsourcing or
eventsourcing-sqlalchemy is checked in one place:

* `insert_tracking`: a tracking record written in a transaction the caller already
  holds. Catch-up writes read-model rows and moves its tracking record in one
  transaction (so a crash can neither apply a page twice nor skip one); the public
  `TrackingRecorder.insert_tracking` opens a transaction of its own, and the recorder's
  `_insert_tracking(session, tracking)` is the only call that takes the caller's.
* `WritingSessions.transaction`: which sessions are about to write. A SQLite write
  transaction must begin with ``BEGIN IMMEDIATE`` (a deferred one that read first fails
  with SQLITE_BUSY_SNAPSHOT when another writer commits), and only the library's
  `Transaction` knows whether it was opened with ``commit=True``: its `session` and
  `nested_level` are attributes without an underscore but not documented, so they are
  read here. The session is bound to an engine whose connections carry the
  ``ledger_write`` execution option, which is what `ledger.database` looks at when it
  begins a transaction (before, it peeked into the library's context variable).
* `LedgerTranscoder`: public API (a `JSONTranscoder` subclass), kept here because it
  must stay byte-for-byte compatible with the library's own encoding of what the
  ledger stores, and is checked against it.

The recorder's writes override the public `insert_events` (no private hook), and the
application keeps its tracking recorder as an attribute of its own class.

Two places lean on how the library's objects are built rather than on a private name;
they are listed here so that an upgrade checks them too:

* `LedgerMapper.stored_row`: the import appends (stream, version, topic, state) tuples
  rather than `StoredEvent`s (public classes, but frozen dataclasses whose construction
  cost as much as encoding the state); it writes a UTC timestamp as the library's
  ``datetime_iso`` transcoding does, with orjson's spelling of the same text.
* `ledger.events.new_event`: the decision makes each event by filling its instance
  dictionary in field order, as the library's dataclass constructor would. It lives in
  the domain module (the domain may not import this one, which imports
  eventsourcing_sqlalchemy); tests/unit/test_aggregates.py holds it to the constructor
  for every event class, and tests/unit/test_transcoder.py the stored bytes to the
  library's mapper.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Tracking,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore, Transaction

from ledger.events import Recorded

if TYPE_CHECKING:
    from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session


#: Execution option set on every connection of a session that will write.
WRITE_OPTION = "ledger_write"


def insert_tracking(
    recorder: SQLAlchemyTrackingRecorder, session: Session, name: str, position: int
) -> None:
    """Move projection `name`'s tracking record to `position`, inside `session`'s
    transaction (the public `insert_tracking` would open a transaction of its own).

    Refused with the library's IntegrityError when the record is already at `position`,
    as the library's own call refuses it.
    """
    recorder._insert_tracking(session, Tracking(name, position))


class WritingSessions(SQLAlchemyDatastore):
    """A datastore whose write transactions say so to the database driver's connection.

    Mixed into the ledger's datastore: sessions of ``transaction(commit=True)`` are bound
    to `writing_engine`, the same engine and pool with ``ledger_write`` set on each
    connection, so that the SQLite ``begin`` hook can choose ``BEGIN IMMEDIATE``.
    """

    writing_engine: Engine

    def transaction(self, commit: bool) -> Transaction:
        transaction = super().transaction(commit)
        if commit and transaction.nested_level == 0:
            transaction.session.bind = self.writing_engine
        return transaction


def writing_engine(engine: Engine) -> Engine:
    """The engine whose connections are marked as beginning a write transaction."""
    return engine.execution_options(**{WRITE_OPTION: True})


class LedgerTranscoder(JSONTranscoder):
    """The library's JSON transcoder, encoding and decoding through orjson.

    Stored bytes mean what the library's `JSONTranscoder` makes of them: a registered
    type (datetime, Decimal, UUID…) is written as ``{"_type_": name, "_data_": …}`` and
    read back as that type, compact separators, text as UTF-8. orjson writes and reads
    the same JSON in a third of the time, but it spells some values its own way (a UUID
    as a plain string, NaN as null, floats such as ``1e+16`` as ``1e16``) and has no
    hook for each mapping it reads. So orjson is used only where its answer is known
    to be the library's:

    * encoding: for states whose values are text, whole numbers, booleans, None, lists,
      mappings and datetimes (which orjson hands to the registered transcoding); any
      other value (a float, a UUID, …) is encoded by the library's encoder;
    * decoding: where the bytes hold at most the one transcoded mapping an event's
      ``timestamp`` is, no ``\\u`` escape (which could spell a key orjson would not
      see) and no run of 19 digits (orjson reads an integer past 64 bits as a float);
      anything else is decoded by the library's decoder.

    Events written by the library's own transcoder decode to the same values, and this
    transcoder's bytes decode by the library's (tests/unit/test_transcoder.py).
    """

    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def encode(self, obj: Any) -> bytes:
        if not _plain(obj):
            return super().encode(obj)
        return self.encode_plain(obj)

    def encode_plain(self, obj: Any) -> bytes:
        """Encode what the caller knows holds only the values `encode` checks for (the
        check is a walk through every value: half of what orjson saves)."""
        try:
            return orjson.dumps(obj, default=self._encode_obj, option=self._OPTIONS)
        except TypeError:  # lone surrogates, integers past 64 bits: the library's way
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        marks = data.count(b'"_type_"')
        if marks <= 1 and b"\\u" not in data and _LONG_DIGITS not in data.translate(_DIGITS):
            try:
                state = orjson.loads(data)
            except orjson.JSONDecodeError:
                return super().decode(data)  # NaN, huge numbers…: the library's reading
            if marks == 0:
                return state
            if type(state) is dict:
                stamp = state.get("timestamp")
                if type(stamp) is dict and len(stamp) == 2 and "_data_" in stamp:
                    state["timestamp"] = self._decode_obj(stamp)
                    return state
        return super().decode(data)


#: Digits enough to spell an integer orjson cannot hold (it reads those as floats),
#: looked for with every ASCII digit read as ``0``: the same test as the regular
#: expression ``\d{19}`` on bytes, at a tenth of its cost (searching for that expression
#: took as much of a replay's decoding as orjson's reading).
_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_LONG_DIGITS = b"0" * 19


class LedgerMapper(Mapper[UUID]):
    """The library's mapper, encoding the ledger's own events without a type check.

    A `Recorded` event's state is known: text and None besides its ``timestamp``
    (a datetime), and its ``record`` and ``result``, validated interchange data (text,
    whole numbers, booleans, null, lists, mappings). Only a correction's free-form
    values may hold a float, so corrections take `LedgerTranscoder.encode`'s checked way.
    Other events, and any cipher or compressor, take the library's way.
    """

    transcoder: LedgerTranscoder

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        originator_id, originator_version, topic, state = self.stored_row(domain_event)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=state,
        )

    def stored_row(self, domain_event: DomainEventProtocol[UUID]) -> StoredRow:
        """What `to_stored_event` stores, as a plain tuple (stream, version, topic,
        state): the import appends its events this way (`LedgerRecorder.append_rows`),
        since a `StoredEvent` is a frozen dataclass, whose construction alone cost as
        much as encoding the event's state."""
        if (
            not isinstance(domain_event, Recorded)
            or self.cipher is not None
            or self.compressor is not None
            or domain_event.record.get("kind") == "correction"
        ):
            stored = super().to_stored_event(domain_event)
            return stored.originator_id, stored.originator_version, stored.topic, stored.state
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        topic, encoded = self.encoded_state(type(domain_event), state)
        return originator_id, originator_version, topic, encoded

    def encoded_state(
        self, event_class: type[Recorded], state: dict[str, Any]
    ) -> tuple[str, bytes]:
        """(topic, stored state) of a `Recorded` event of `event_class` whose fields,
        originator id and version aside, are `state` (in the event's field order;
        changed in place). `stored_row`'s encoding, and the import's reading workers',
        which encode each record entered as read before the writer decides on it
        (`ledger.parallel_reading`): one way, so the bytes are the same either way."""
        class_version = getattr(event_class, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        stamp = state.get("timestamp")
        if type(stamp) is datetime and stamp.tzinfo is UTC:
            iso = type(self.transcoder.types.get(datetime)) is DatetimeAsISO
            if iso:  # the library's transcoding, spelled by orjson (a tenth of the cost)
                state["timestamp"] = {"_type_": DatetimeAsISO.name, "_data_": _iso(stamp)}
        return get_topic(event_class), self.transcoder.encode_plain(state)


def _iso(stamp: datetime) -> str:
    """`stamp.isoformat()` for a datetime in UTC, as orjson writes it (RFC 3339: the same
    text, ``+00:00`` and microseconds when there are any), without the formatting
    `isoformat` does through C's printf (a twentieth of the writer's time per event)."""
    return orjson.dumps(stamp)[1:-1].decode()


#: A stored event's fields as `LedgerMapper.stored_row` gives them: stream, version,
#: topic and state.
StoredRow = tuple[UUID | str, int, str, bytes]

_PLAIN_LEAVES = (str, int, bool, type(None), datetime)


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether orjson encodes `value` as the library's encoder does (see LedgerTranscoder).

    Walks mappings and lists; deeper than 64 levels is left to the library's encoder.
    """
    kind = type(value)
    if kind is dict:
        if depth > 64:
            return False
        for key, item in value.items():
            if type(key) is not str or not _plain(item, depth + 1):
                return False
        return True
    if kind is list:
        if depth > 64:
            return False
        return all(_plain(item, depth + 1) for item in value)
    return kind in _PLAIN_LEAVES


def ledger_mapper() -> LedgerMapper:
    """The mapper the `Ledger` application makes (its factory's, with the transcodings
    `Application.register_transcodings` registers), for a process that has no
    application: the import's reading workers encode states with it."""
    transcoder = LedgerTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return LedgerMapper(transcoder=transcoder)
