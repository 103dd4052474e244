"""The event store: eventsourcing's SQLAlchemy recorder, made audit-grade and fast.

The library's recorder inserts through ORM objects and leaves positions to the
database's autoincrement. The ledger needs more from every write, all inside the one
transaction that stores the events:

* positions assigned explicitly under the writer's lock, so the log has no gaps and an
  event's Merkle index is always ``position - 1``;
* a record time stamped by the store (one per transaction, never running backwards);
* each event's RFC 9162 leaf hash over its canonical bytes, and a new tree head (the
  compact range of subtree roots), so a checkpoint never rehashes the log;
* inserts through SQLAlchemy Core ``executemany`` (ORM objects cost most of the time).

Writers are serialised: on SQLite a write transaction starts with ``BEGIN IMMEDIATE``
(the WAL lets readers go on), on PostgreSQL it takes ``LOCK TABLE … IN EXCLUSIVE MODE``
(readers are not blocked). Serial writers also mean a reader tailing the log can never
see position N+1 committed before position N.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy.exc
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.models import StoredEventRecord  # type: ignore[attr-defined]
from eventsourcing_sqlalchemy.recorders import (
    SQLAlchemyApplicationRecorder,
    SQLAlchemyTrackingRecorder,
)
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    cast,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker

from ledger.database import engine_for, insert_rows
from ledger.dates import format_timestamp, parse_timestamp
from ledger.errors import TamperingDetected
from ledger.eventstore import StoredRow, WritingSessions, writing_engine
from ledger.merkle import HASH_SIZE, CompactRange, leaf_hash

#: json's C encoder of one string, escaping everything outside ASCII (lone surrogates too).
_json_string = json.encoder.encode_basestring_ascii

HEADS_SUFFIX = "_merkle"

#: Tables the ledger owns besides the library's; Alembic creates them (see alembic/).
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def heads_table(events_table_name: str, meta: MetaData = metadata) -> Table:
    """One row per write transaction: the tree head after it, and how to extend it."""
    name = events_table_name + HEADS_SUFFIX
    if name in meta.tables:
        return meta.tables[name]
    return Table(
        name,
        meta,
        Column("size", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("root", LargeBinary(32), nullable=False),
        Column("frontier", Text(), nullable=False),
        Column("recorded_at", String(27), nullable=False),
    )


# eventsourcing_sqlalchemy.models opens with a file-wide `# type: ignore`, so mypy sees
# none of its names (hence the ignore on its import too): this base class is unchecked.
class LedgerEventRecord(StoredEventRecord):  # type: ignore[misc]
    """The library's stored-event columns plus record time and leaf hash."""

    __abstract__ = True
    __table_args__ = StoredEventRecord.__table_args__

    recorded_at = Column(String(27), nullable=False)
    leaf_hash = Column(LargeBinary(32), nullable=False)


def canonical_bytes(
    position: int,
    recorded_at: str,
    stream: UUID | str,
    version: int,
    topic: str,
    state: bytes,
) -> bytes:
    """The bytes an event's Merkle leaf commits to.

    A JSON object with keys sorted, no whitespace and only ASCII (RFC 8785 style):
    ``{"position","recorded_at","state","stream","topic","version"}``, where ``state``
    is the stored state bytes as a string (bytes that are not UTF-8 are kept as
    ``\\udcXX`` escapes, so a flipped bit can never hash like the original) and
    ``stream`` is the aggregate id in its canonical hyphenated form. Anyone holding the
    rows can recompute the leaf with a few lines of any language.
    """
    # Written out key by key (in sorted order) with json's own string encoder: the same
    # bytes as json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    # in half the time, which every command that rehashes the rows it shows pays.
    return (
        f'{{"position":{int(position)},"recorded_at":{_json_string(recorded_at)},'
        f'"state":{_json_string(state.decode("utf-8", "surrogateescape"))},'
        f'"stream":{_json_string(str(stream))},"topic":{_json_string(topic)},'
        f'"version":{int(version)}}}'
    ).encode("ascii")


@dataclass(frozen=True)
class LogEntry:
    """One stored event as the audit tools see it: the row, nothing decoded.

    `malformed` says why the row cannot be what the recorder wrote (a state stored as
    text, a leaf hash of the wrong size…), so a row edited by hand is reported at its
    position instead of crashing whoever reads it.
    """

    position: int
    stream: UUID
    version: int
    topic: str
    state: bytes
    recorded_at: str
    leaf_hash: bytes
    malformed: str | None = None

    def recomputed_leaf(self) -> bytes:
        return leaf_hash(
            canonical_bytes(
                self.position, self.recorded_at, self.stream, self.version, self.topic, self.state
            )
        )

    def damage(self) -> str | None:
        """What is wrong with this row, or None when it hashes to its stored leaf."""
        if self.malformed is not None:
            return f"position {self.position}: {self.malformed}"
        if self.recomputed_leaf() != self.leaf_hash:
            return f"position {self.position}: stored event does not match its leaf hash"
        return None

    def vouched(self) -> LogEntry:
        """This entry, once its row is shown to hash to its stored leaf.

        Whatever prints a row beside its leaf hash (log, proofs, audits) goes through
        here: a row altered behind the hash's back is refused, never shown as genuine.
        """
        problem = self.damage()
        if problem is not None:
            raise TamperingDetected(
                f"{problem}: the log was altered; nothing is shown for it "
                "(run `ledger verify` for the whole picture)"
            )
        return self


def _log_entry(row: Sequence[Any]) -> LogEntry:
    """A LogEntry from a stored row, noting (not crashing on) values of the wrong type."""
    position, stream, version, topic, state, recorded_at, leaf = row
    problems = []
    if isinstance(state, str):
        problems.append("its state is stored as text, not bytes")
        state = state.encode("utf-8", "surrogateescape")
    elif not isinstance(state, bytes | bytearray | memoryview):
        problems.append(f"its state is stored as {type(state).__name__}, not bytes")
        state = str(state).encode()
    if not isinstance(leaf, bytes | bytearray | memoryview) or len(leaf) != HASH_SIZE:
        problems.append(f"its leaf hash is not {HASH_SIZE} bytes")
        leaf = b"" if not isinstance(leaf, bytes | bytearray | memoryview) else leaf
    if not isinstance(recorded_at, str) or not isinstance(topic, str):
        problems.append("its record time or topic is not text")
    if not isinstance(version, int):
        problems.append("its version is not an integer")
    return LogEntry(
        position,
        stream,
        version,
        str(topic),
        bytes(state),
        str(recorded_at),
        bytes(leaf),
        "; ".join(problems) or None,
    )


@dataclass(frozen=True)
class TreeHead:
    size: int
    root: bytes
    recorded_at: str | None
    frontier: CompactRange
    #: Why the stored row is unreadable (its frontier is then empty), or None.
    malformed: str | None = None


def _tree_head(row: Any) -> TreeHead:
    """A TreeHead from a stored row; an unreadable compact range is noted, not raised."""
    root = bytes(row.root) if isinstance(row.root, bytes | memoryview) else b""
    try:
        frontier = CompactRange.from_json(json.loads(row.frontier))
    except (TypeError, ValueError) as error:
        return TreeHead(row.size, root, row.recorded_at, CompactRange(), f"unreadable: {error}")
    return TreeHead(row.size, root, row.recorded_at, frontier)


def utcnow() -> str:
    return format_timestamp(datetime.now(UTC))


def _after(stamp: str | None) -> str:
    """The smallest record time later than `stamp` (one microsecond on)."""
    if stamp is None:
        return ""
    return format_timestamp(parse_timestamp(stamp) + timedelta(microseconds=1))


#: Partial indexes (migration 0005) by which the write side finds corrections and
#: retractions, a few per cent of a ledger, without reading the rest.
AMENDMENT_INDEXES = {
    "ix_ledger_events_corrected": "ledger.events:Corrected",
    "ix_ledger_events_retracted": "ledger.events:Retracted",
}


def _declare_amendment_indexes(table: Table) -> None:
    """Declare the migration's partial indexes on the events table, once per table."""
    present = {index.name for index in table.indexes}
    for name, topic in AMENDMENT_INDEXES.items():
        if name not in present:
            where = text(f"topic = '{topic}'")
            Index(name, table.c.id, sqlite_where=where, postgresql_where=where)


#: The stored event's columns in the order `LedgerRecorder.append` binds them.
_EVENT_COLUMNS = (
    "id",
    "originator_id",
    "originator_version",
    "topic",
    "state",
    "recorded_at",
    "leaf_hash",
)


def _same(value: Any) -> Any:
    return value


_uuid_bytes = operator.attrgetter("bytes")


class LedgerRecorder(SQLAlchemyApplicationRecorder):
    """Application recorder that writes positions, record time and the Merkle tree."""

    def __init__(
        self,
        datastore: SQLAlchemyDatastore,
        *,
        events_table_name: str,
        schema_name: str | None = None,
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name, schema_name=schema_name)
        self.events_table: Table = self.events_record_cls.__table__
        _declare_amendment_indexes(self.events_table)
        self.heads_table = heads_table(events_table_name)
        self.tables.append(self.heads_table)

    # -- writing -------------------------------------------------------------------

    def lock_for_writing(self, session: Session) -> None:
        """Serialise writers before anything is read that a write will depend on.

        On SQLite the write transaction's ``BEGIN IMMEDIATE`` has the lock already; on
        PostgreSQL the events table is locked as the library locks it (readers go on).
        """
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"LOCK TABLE {self.events_table_name} IN EXCLUSIVE MODE"))

    def tree_head(self, session: Session | None = None, known_at: str | None = None) -> TreeHead:
        """The latest tree head (empty tree when nothing was ever written); with `known_at`,
        the latest one written by then."""
        query = select(self.heads_table).order_by(self.heads_table.c.size.desc()).limit(1)
        if known_at is not None:
            query = query.where(self.heads_table.c.recorded_at <= known_at)
        if session is None:
            with self.transaction(commit=False) as s:
                row = s.execute(query).first()
        else:
            row = session.execute(query).first()
        if row is None:
            return TreeHead(0, CompactRange().root(), None, CompactRange())
        return _tree_head(row)

    def last_position(self, session: Session | None = None) -> int:
        """The log's last position (0 when empty): one index lookup."""
        query = select(func.max(self.events_table.c.id))
        if session is None:
            with self.transaction(commit=False) as s:
                return s.execute(query).scalar() or 0
        return session.execute(query).scalar() or 0

    def check_heads(
        self, session: Session | None = None, refusing: str = "nothing was written"
    ) -> TreeHead:
        """The latest tree head, refused unless it covers the whole log.

        Without it a write would extend a tree that is not the log's: a deleted head
        once made every later write collide on a position already taken, and fail
        forever with a misleading "run the same command again".
        """
        head = self.tree_head(session)
        last = self.last_position(session)
        problem = None
        if head.malformed is not None:
            problem = f"the last tree head (size {head.size}) is {head.malformed}"
        elif head.size != last:
            problem = (
                f"the last tree head covers {head.size} events but the log holds {last}: "
                "tree heads were deleted"
            )
        elif head.frontier.size != head.size or head.frontier.root() != head.root:
            problem = f"the last tree head (size {head.size}) does not match its own compact range"
        if problem is not None:
            raise TamperingDetected(
                f"{problem}; {refusing}. Run `ledger verify`, then "
                "`ledger rebuild-heads` to rebuild the tree heads from the verified leaves"
            )
        return head

    def committed_at(self, recorded_at: str) -> bool:
        """Whether the write transaction stamped `recorded_at` committed (its tree head
        is there: record times name one transaction each)."""
        t = self.heads_table
        with self.transaction(commit=False) as session:
            found = session.execute(select(t.c.size).where(t.c.recorded_at == recorded_at))
            return found.first() is not None

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        session: Session | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """Append the events at the end of the log, in `session`'s transaction if given.

        Positions, record time, leaf hashes and the new tree head are written with them;
        returns the events' positions.
        """
        if session is not None:
            return self.append(session, stored_events)
        with self.transaction(commit=True) as own:
            return self.append(own, stored_events)

    def append(self, session: Session, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Append `stored_events` in `session`'s transaction; their positions."""
        return self.append_rows(
            session,
            [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored_events],
        )

    def append_rows(self, session: Session, events: Sequence[StoredRow]) -> list[int]:
        """Append events given as (stream, version, topic, state), what a `StoredEvent`
        holds, in `session`'s transaction; their positions.

        The import hands its events over this way (`LedgerMapper.stored_row`): a
        `StoredEvent` is a frozen dataclass, whose construction alone was a tenth of the
        writer's time per event.
        """
        if not events:
            return []
        self.lock_for_writing(session)
        if session.info.get("ledger_heads_checked"):
            head = self.tree_head(session)
        else:
            head = self.check_heads(session)
            session.info["ledger_heads_checked"] = True
        recorded_at = session.info.get("ledger_recorded_at")
        if recorded_at is None:
            # One record time per transaction, strictly after the previous one's, so a
            # record time names one transaction (readers use that to tell whether a read
            # model stopped inside an import).
            recorded_at = max(utcnow(), _after(head.recorded_at))
            session.info["ledger_recorded_at"] = recorded_at
        frontier = head.frontier
        first = head.size + 1
        stamp = _json_string(recorded_at)
        connection = session.connection()
        stream_value = self._stream_value(connection.dialect)
        rows = []
        for position, (stream, version, topic, state) in enumerate(events, first):
            # canonical_bytes, written out inline: this runs for every event imported.
            leaf = leaf_hash(
                f'{{"position":{position},"recorded_at":{stamp},'
                f'"state":{_json_string(state.decode("utf-8", "surrogateescape"))},'
                f'"stream":{_json_string(str(stream))},"topic":{_json_string(topic)},'
                f'"version":{int(version)}}}'.encode("ascii")
            )
            rows.append((position, stream_value(stream), version, topic, state, recorded_at, leaf))
        frontier.extend([row[6] for row in rows])  # the leaves in log order, in one call
        last = first + len(rows) - 1
        # Straight to the driver (executemany, or COPY on PostgreSQL), each value already
        # as the column's type binds it: SQLAlchemy's per-row parameter processing was a
        # quarter of the store.
        insert_rows(connection, self.events_table_name, _EVENT_COLUMNS, rows)
        session.execute(
            insert(self.heads_table).values(
                size=last,
                root=frontier.root(),
                frontier=json.dumps(frontier.to_json()),
                recorded_at=recorded_at,
            )
        )
        self._notify(session)
        return list(range(first, last + 1))

    def append_new_rows(self, session: Session, events: Sequence[StoredRow]) -> list[int] | None:
        """`append_rows`, or None, with nothing written, if a stream among `events` is
        already stored (the unique index on stream and version refuses it).

        The import's way to learn that a new record's id is taken without asking for
        each id first: the rows are appended under a savepoint, and rolled back to it
        if the database refuses one. A transaction that goes on after a refused
        statement needs the savepoint on both databases (PostgreSQL aborts the whole
        transaction otherwise, SQLite keeps the rows inserted before the refused one).
        """
        connection = session.connection()
        connection.exec_driver_sql("SAVEPOINT ledger_append")
        try:
            positions = self.append_rows(session, events)
        except sqlalchemy.exc.IntegrityError:
            connection.exec_driver_sql("ROLLBACK TO SAVEPOINT ledger_append")
            connection.exec_driver_sql("RELEASE SAVEPOINT ledger_append")
            return None
        connection.exec_driver_sql("RELEASE SAVEPOINT ledger_append")
        return positions

    def select_first_events(
        self, session: Session, streams: Sequence[UUID]
    ) -> list[tuple[UUID, str, bytes]]:
        """(stream, topic, state) of the first event of those of `streams` that are stored.

        Straight to the driver, values bound as the column binds them: the import asks
        this of a thousand streams per batch, and SQLAlchemy's statement handling and
        per-value processing were most of the cost of asking.
        """
        if not streams:
            return []
        connection = session.connection()
        dialect = connection.dialect
        bind = self._stream_value(dialect)
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join([mark] * len(streams))
        rows = connection.exec_driver_sql(
            f"SELECT originator_id, topic, state FROM {self.events_table_name} "
            f"WHERE originator_version = 1 AND originator_id IN ({marks})",
            tuple(bind(stream) for stream in streams),
        )
        column_type = self.events_table.c.originator_id.type.dialect_impl(dialect)
        stream_of = column_type.result_processor(dialect, None) or _same
        found = []
        for stream, topic, state in rows:
            uid = stream_of(stream)
            assert isinstance(uid, UUID)  # what the column's type reads a stream id as
            found.append((uid, topic, bytes(state)))
        return found

    def _stream_value(self, dialect: Dialect) -> Callable[[Any], Any]:
        """How the library's UUID column binds a stream id on this database: 16 bytes on
        SQLite; PostgreSQL's driver binds a UUID as its own uuid type."""
        if dialect.name == "postgresql":
            return _same
        column_type = self.events_table.c.originator_id.type.dialect_impl(dialect)
        process = column_type.bind_processor(dialect)
        if process is None:
            return _same
        sample = UUID(int=1 << 100)
        if process(sample) == sample.bytes:
            # What the column's processor makes of a UUID, without its checks and its
            # calls through the type (a few per cent of the store, for every event).
            return _uuid_bytes
        return process

    def _notify(self, session: Session) -> None:
        """Wake whoever follows the log (``ledger serve``, the library's subscriptions):
        PostgreSQL's NOTIFY on the library's channel, sent at commit."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"NOTIFY {self.channel_name}"))

    # -- reading -------------------------------------------------------------------

    def max_notification_id(self) -> int | None:
        with self.transaction(commit=False) as session:
            return session.execute(select(func.max(self.events_table.c.id))).scalar()

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        t = self.events_table
        query = select(t.c.id, t.c.originator_id, t.c.originator_version, t.c.topic, t.c.state)
        if start is not None:
            query = query.where(t.c.id >= start if inclusive_of_start else t.c.id > start)
        if stop is not None:
            query = query.where(t.c.id <= stop)
        if topics:
            query = query.where(t.c.topic.in_(topics))
        query = query.order_by(t.c.id).limit(limit)
        with self.transaction(commit=False) as session:
            return [
                Notification(
                    id=r[0],
                    originator_id=r[1],
                    originator_version=r[2],
                    topic=r[3],
                    state=bytes(r[4]),
                )
                for r in session.execute(query)
            ]

    def select_log(
        self, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[LogEntry]:
        """Stored rows after a position, in log order, with record time and leaf hash."""
        t = self.events_table
        query = select(*self._columns()).where(t.c.id > after)
        if upto is not None:
            query = query.where(t.c.id <= upto)
        query = query.order_by(t.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.transaction(commit=False) as session:
            return [_log_entry(r) for r in session.execute(query)]

    def iter_log(
        self, after: int = 0, upto: int | None = None, page: int = 5000
    ) -> Iterator[LogEntry]:
        """The log in pages, so a million events never sit in memory at once."""
        while True:
            entries = self.select_log(after, page, upto)
            yield from entries
            if len(entries) < page:
                return
            after = entries[-1].position

    def select_by_topics(self, session: Session, topics: Sequence[str]) -> list[LogEntry]:
        """Stored events of these types, in log order.

        Corrections and retractions each have a partial index (migration 0005); the
        topic is written into the SQL as a literal, since neither SQLite nor PostgreSQL's
        generic plans will use a partial index for a condition on a bound parameter.
        """
        t = self.events_table
        found: list[LogEntry] = []
        for topic in topics:
            condition = t.c.topic == literal(topic, literal_execute=True)
            found.extend(self._entries(session, select(*self._columns()).where(condition)))
        return sorted(found, key=lambda entry: entry.position)

    def select_mentioning(self, session: Session, text: str) -> list[LogEntry]:
        """Events whose stored state contains `text`, ignoring ASCII case, in log order.

        A coarse filter for the rare question "what still names this record?" (asked
        before a registry record is retracted): one scan in the database rather than
        decoding every event in Python. Callers check each event they get.
        """
        t = self.events_table
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        if session.get_bind().dialect.name == "postgresql":
            condition = func.convert_from(t.c.state, "UTF8").ilike(pattern, escape="\\")
        else:  # SQLite reads the BLOB's bytes as UTF-8 text; its LIKE ignores ASCII case
            condition = cast(t.c.state, Text()).like(pattern, escape="\\")
        return self._entries(session, select(*self._columns()).where(condition))

    def _columns(self) -> tuple[Any, ...]:
        t = self.events_table
        return (
            t.c.id,
            t.c.originator_id,
            t.c.originator_version,
            t.c.topic,
            t.c.state,
            t.c.recorded_at,
            t.c.leaf_hash,
        )

    @staticmethod
    def _entries(session: Session, query: Any) -> list[LogEntry]:
        return [
            LogEntry(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], bytes(r[6]))
            for r in session.execute(query.order_by(query.selected_columns[0]))
        ]

    def leaf_hashes(self, upto: int | None = None) -> list[bytes]:
        """Stored leaf hashes in log order (32 bytes each: 32 MB for a million)."""
        t = self.events_table
        query = select(t.c.leaf_hash).order_by(t.c.id)
        if upto is not None:
            query = query.where(t.c.id <= upto)
        with self.transaction(commit=False) as session:
            return [bytes(r[0]) for r in session.execute(query)]

    def tree_heads(self) -> list[TreeHead]:
        with self.transaction(commit=False) as session:
            rows = session.execute(select(self.heads_table).order_by(self.heads_table.c.size))
            return [_tree_head(r) for r in rows]

    def tree_head_at(self, size: int) -> TreeHead | None:
        """The stored tree head of exactly `size` events, if one was written."""
        query = select(self.heads_table).where(self.heads_table.c.size == size)
        with self.transaction(commit=False) as session:
            row = session.execute(query).first()
        return None if row is None else _tree_head(row)

    def insert_tree_heads(self, session: Session, heads: Sequence[TreeHead]) -> None:
        """Store rebuilt tree heads (see `ledger.integrity.rebuild_heads`)."""
        session.execute(
            insert(self.heads_table),
            [
                {
                    "size": h.size,
                    "root": h.root,
                    "frontier": json.dumps(h.frontier.to_json()),
                    "recorded_at": h.recorded_at,
                }
                for h in heads
            ],
        )


class LedgerDatastore(WritingSessions):
    base_stored_event_record_cls = LedgerEventRecord

    def __init__(self, *, url: str | None = None, **_: Any) -> None:
        if url is None:
            raise ValueError("the ledger needs a database URL")
        engine = engine_for(url)
        super().__init__(session_maker=sessionmaker(bind=engine, autoflush=False))
        self.engine = engine
        self.writing_engine = writing_engine(engine)


class LedgerFactory(SQLAlchemyFactory):
    """eventsourcing infrastructure factory that builds the ledger's recorders."""

    datastore_class = LedgerDatastore
    application_recorder_class = LedgerRecorder
    tracking_recorder_class = SQLAlchemyTrackingRecorder
