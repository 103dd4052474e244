"""What each projection does with a batch of events.

A projection follows eventsourcing's `Projection` (a name, and a view that is a
tracking recorder), but it is fed a page of events at a time: the rows for the whole
page and one tracking record are written in one transaction, which is what makes
catch-up both exactly-once and fast (see `projections.catchup`).

Replay is bulk work: each row is a plain tuple (a list while a later event of the same
page may still close it), and each table gets one `executemany` per page straight on
the driver's cursor (PostgreSQL: `COPY`), not through SQLAlchemy's statement machinery,
which cost more than the inserts themselves.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from sqlalchemy import Index, PrimaryKeyConstraint, Table, select
from sqlalchemy.orm import Session

from ledger import database
from ledger.database import driver_cursor
from ledger.dates import parse_date
from ledger.events import (
    ActorRegistered,
    AgreementRegistered,
    Amended,
    Corrected,
    Occurred,
    PostHeld,
    Recorded,
    Retracted,
    Revoked,
    SourceRegistered,
)
from ledger.vocabulary import Record, actors_of, agreements_of, canonical_json, record_json
from projections import models
from projections.search import searchable_text
from projections.state import endorsement_acts
from projections.versions import corrected


class Place(Protocol):
    """Where an event sits in the log: all a projection needs of its row."""

    @property
    def position(self) -> int: ...

    @property
    def recorded_at(self) -> str: ...


Batch = Sequence[tuple[Place, Recorded]]
Row = list[Any] | tuple[Any, ...]


def _columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns)


def insert_rows(session: Session, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows (values in the table's column order) in the session's transaction
    (`ledger.database.insert_rows`: `COPY` on PostgreSQL)."""
    if rows:
        database.insert_rows(session.connection(), table.name, _columns(table), rows)


def close_versions(session: Session, table: Table, closed: Sequence[tuple[str, int]]) -> None:
    """Set `known_until` of versions written by earlier pages: (known_until, vid) pairs."""
    if not closed:
        return
    mark = "%s" if session.get_bind().dialect.name == "postgresql" else "?"
    statement = f"UPDATE {table.name} SET known_until = {mark} WHERE vid = {mark}"
    with driver_cursor(session.connection(), statement) as cursor:
        cursor.executemany(statement, closed)


class Projection(ABC):
    """A read model kept by catch-up: its name (tracking key, ≤ 32 chars) and tables.

    `requires` names projections whose rows this one reads while it processes a page;
    catch-up brings them along first, in the same transaction. `reads` are the indexes
    and keys it finds rows by while it writes: a rebuild keeps them while the tables
    fill and builds the others afterwards (see `catchup._rebuild`).
    """

    name: str
    tables: tuple[Table, ...]
    requires: ClassVar[tuple[str, ...]] = ()
    reads: ClassVar[tuple[Index | PrimaryKeyConstraint, ...]] = ()

    @abstractmethod
    def process(self, session: Session, batch: Batch) -> None:
        """Write the rows for a page of events, inside the caller's transaction."""


#: Registry event classes and the namespace each registers in.
REGISTERED: dict[type[Recorded], str] = {
    SourceRegistered: "source",
    ActorRegistered: "actor",
    PostHeld: "post",
    AgreementRegistered: "agreement",
}

# Column positions of the version rows (models.registry, models.occurrences).
_REGISTRY_RECORD, _REGISTRY_UNTIL, _REGISTRY_RETRACTED = 6, 10, 11
_OCCURRENCE_UNTIL = 8


class RegistryProjection(Projection):
    """Sources, actors, posts and agreements, looked up by case-folded id, as versions.

    A correction or retraction of a registry record closes its current version and
    opens the next, exactly as `OccurrenceProjection` does for occurrences, so
    `--known-at` before a correction still reads the record as it was.
    """

    name = "registry"
    tables = models.PROJECTION_TABLES["registry"]
    reads = (
        models.index_on(models.registry, "namespace", "key"),  # records amended
        models.registry.primary_key,  # versions closed
    )
    namespaces = REGISTERED

    def process(self, session: Session, batch: Batch) -> None:
        namespaces = self.namespaces
        versions: list[list[Any]] = []
        # The current version of each record written in this page: its row (still
        # unwritten, so a later amendment closes it in place) and its record.
        current: dict[tuple[str, str], tuple[list[Any], dict[str, Any]]] = {}
        amended = {
            (e.target_namespace, str(e.record["target"]).casefold())
            for _, e in batch
            if isinstance(e, Amended) and e.target_namespace != "occurrence"
        }
        stored = _current_registry_rows(session, amended) if amended else {}
        closed: list[tuple[str, int]] = []
        for place, event in batch:
            namespace = namespaces.get(type(event))
            if namespace is not None:
                record = event.record
                row = _registry_row(
                    place, namespace, record, place.position, place.recorded_at, validated=True
                )
                versions.append(row)
                current[(namespace, row[2])] = (row, record)
                continue
            if not isinstance(event, Amended) or event.target_namespace == "occurrence":
                continue
            key = (event.target_namespace, str(event.record["target"]).casefold())
            pending = current.pop(key, None)
            if pending is not None:
                before, record = pending
                before[_REGISTRY_UNTIL] = place.recorded_at
            else:
                found = stored.pop(key, None)
                if found is None:  # the write side only amends records it knows
                    continue
                before = list(found)
                record = json.loads(before[_REGISTRY_RECORD])
                closed.append((place.recorded_at, before[0]))
            retracted = bool(before[_REGISTRY_RETRACTED])
            if isinstance(event, Corrected) and not retracted:
                record = corrected(record, event)
            row = _registry_row(place, key[0], record, before[7], before[8])
            row[_REGISTRY_RETRACTED] = isinstance(event, Retracted) or retracted
            versions.append(row)
            current[key] = (row, record)
        close_versions(session, models.registry, closed)
        insert_rows(session, models.registry, versions)


def _registry_row(
    place: Place,
    namespace: str,
    record: dict[str, Any],
    position: int,
    recorded_at: str,
    *,
    validated: bool = False,
) -> list[Any]:
    """A row of models.registry, in its column order; `validated`: the record is as its
    event holds it, not as corrected (see `record_json`)."""
    ident = record["id"]
    return [
        place.position,  # vid
        namespace,
        ident.casefold(),  # key
        ident,
        record["kind"],
        record.get("holder"),
        record_json(record) if validated else canonical_json(record),
        position,
        recorded_at,
        place.recorded_at,  # known_from
        None,  # known_until
        False,  # retracted
    ]


def _current_registry_rows(
    session: Session, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The current versions of these registry records, written by earlier pages."""
    t = models.registry
    found: dict[tuple[str, str], tuple[Any, ...]] = {}
    for namespace, key in sorted(keys):
        for row in session.execute(select(t).where(t.c.namespace == namespace, t.c.key == key)):
            if row.known_until is None:
                found[(namespace, key)] = tuple(row)
    return found


class OccurrenceProjection(Projection):
    """Occurrence versions, who and what each involves, endorsements, and amendments."""

    name = "occurrences"
    tables = models.PROJECTION_TABLES["occurrences"]
    reads = (
        models.index_on(models.occurrences, "occurrence"),  # occurrences amended, revoked
        models.occurrences.primary_key,  # versions closed
    )

    def process(self, session: Session, batch: Batch) -> None:
        rows = _Rows(session)
        amended = {e.record["target"] for _, e in batch if _amends_occurrence(e)}
        revoked = {e.record["target"] for _, e in batch if isinstance(e, Revoked)}
        if amended or revoked:
            rows.load_current(session, amended | revoked)
        add_version = rows.add_version
        for place, event in batch:
            if isinstance(event, Amended):
                self._amend(place, event, rows)
            elif isinstance(event, Occurred):
                add_version(
                    place.position,
                    place.position,
                    place.recorded_at,
                    event.record,
                    event.earliest,
                    event.latest,
                    False,
                    validated=True,
                )
        rows.flush(session)

    def _amend(self, place: Place, event: Amended, rows: _Rows) -> None:
        amendment = event.record
        rows.amendments.append(
            (
                place.position,
                amendment["id"],
                amendment["kind"],
                amendment["target"],
                amendment["date"],
                place.recorded_at,
                event.recorded_by,
                record_json(amendment),
            )
        )
        if not _amends_occurrence(event):
            return  # a registry record's versions are the registry projection's
        current = rows.close_current(amendment["target"], place.recorded_at)
        if current is None:  # the write side only lets amendments of recorded occurrences in
            return
        row, record = current
        earliest, latest = row[4], row[5]
        if isinstance(event, Corrected):
            record = corrected(record, event)
            earliest, latest = parse_date(record["date"]).iso_bounds
        rows.add_version(
            place.position,
            row[6],  # where the occurrence was first recorded
            place.recorded_at,
            record,
            earliest,
            latest,
            isinstance(event, Retracted) or bool(row[9]),
        )


def _amends_occurrence(event: Recorded) -> bool:
    return isinstance(event, Amended) and event.target_namespace == "occurrence"


#: A version row of models.occurrences and its record, decoded.
_Version = tuple[list[Any], dict[str, Any]]


class _Rows:
    """Rows gathered for one executemany per table."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.versions: list[list[Any]] = []
        self.actors: list[tuple[Any, ...]] = []
        self.agreements: list[tuple[Any, ...]] = []
        self.endorsements: list[tuple[Any, ...]] = []
        self.amendments: list[tuple[Any, ...]] = []
        # The current version of each occurrence added in this page, still unwritten: an
        # amendment of it closes the pending row instead of flushing and updating it.
        self.current: dict[str, _Version] = {}
        # Current versions written by earlier pages that this page amends or revokes,
        # loaded in one query, and those it closed: one executemany of updates at flush.
        self.stored: dict[str, _Version] = {}
        self.closed: list[tuple[str, int]] = []

    def load_current(self, session: Session, occurrences: set[str]) -> None:
        """The current versions of these occurrences, looked up by occurrence id only.

        `known_until IS NULL` is tested here, not in SQL: given both conditions, SQLite
        chose the index on `known_until` (which nearly every row matches) over the one
        on `occurrence`, and a replay of 1M events scanned the whole table per page.
        """
        t = models.occurrences
        wanted = sorted(occurrences)
        for start in range(0, len(wanted), 500):
            for row in session.execute(
                select(t).where(t.c.occurrence.in_(wanted[start : start + 500]))
            ):
                if row.known_until is None:
                    self.stored[row.occurrence] = (list(row), json.loads(row.record))

    def notice(self, occurrence: str) -> dict[str, Any] | None:
        """The record of a revoked notice as it stands when its revocation is projected.

        The same version in a replay as in catch-up, since both see the log in order:
        in this page, or loaded with the page's revocations, or (for a revocation that
        is itself being corrected) looked up now.
        """
        version = self.current.get(occurrence) or self.stored.get(occurrence)
        if version is not None:
            return version[1]
        t = models.occurrences
        record = self.session.execute(
            select(t.c.record).where(t.c.occurrence == occurrence, t.c.known_until.is_(None))
        ).scalar()
        return None if record is None else dict(json.loads(record))

    def close_current(self, occurrence: str, known_until: str) -> _Version | None:
        """Close the occurrence's current version as of `known_until`; return that version."""
        pending = self.current.pop(occurrence, None)
        if pending is not None:
            pending[0][_OCCURRENCE_UNTIL] = known_until
            return pending
        stored = self.stored.pop(occurrence, None)
        if stored is not None:
            self.closed.append((known_until, stored[0][0]))
        return stored

    def add_version(
        self,
        vid: int,
        position: int,
        known_from: str,
        record: dict[str, Any],
        earliest: str | None,
        latest: str | None,
        retracted: bool,
        *,
        validated: bool = False,
    ) -> None:
        """A version of an occurrence and its links; `validated`: its record is as its
        event holds it, not as corrected (see `record_json`)."""
        ident, kind = record["id"], record["kind"]
        row = [
            vid,
            ident,
            kind,
            record["date"],
            earliest,
            latest,
            position,
            known_from,
            None,  # known_until
            retracted,
            record_json(record) if validated else canonical_json(record),
        ]
        self.versions.append(row)
        self.current[ident] = (row, record)
        if retracted:
            return  # a retracted version is never an answer; its links would only be noise
        # actors_of names each (role, actor) pair once.
        for seq, (role, actor) in enumerate(actors_of(Record(kind, ident, record)), start=1):
            self.actors.append((vid, seq, actor, role))
        notice = self.notice(record["target"]) if kind == "revocation" else None
        # A revocation concerns the agreement of the notice it revokes.
        for agreement in agreements_of(notice if notice is not None else record):
            self.agreements.append((vid, agreement))
        # An `about` id may name an actor or an agreement; rows for an actor are harmless,
        # since endorsements are only ever asked for by agreement id.
        for seq, act in enumerate(endorsement_acts(record, _anything, notice), start=1):
            self.endorsements.append(
                (vid, seq, act.agreement, act.actor, act.act, act.on_behalf_of, act.method)
            )

    def flush(self, session: Session) -> None:
        close_versions(session, models.occurrences, self.closed)
        self.closed.clear()
        for table, rows in (
            (models.occurrences, self.versions),
            (models.occurrence_actors, self.actors),
            (models.occurrence_agreements, self.agreements),
            (models.endorsements, self.endorsements),
            (models.amendments, self.amendments),
        ):
            insert_rows(session, table, rows)
            rows.clear()
        self.current.clear()


def _anything(_ident: str) -> bool:
    return True


class LookupProjection(Projection):
    """The full-text index and the citations of every record version, for `search`,
    `sources` and `source`.

    A record as registered or recorded is indexed from its event. A version made by a
    correction or retraction, of an occurrence or of a registry record, is read back
    from the row the occurrences or registry projection has just written for it (its
    vid is the event's position), so a correction is indexed as corrected without
    applying it a second time; retracted versions are never answers, so they are not
    indexed.
    """

    name = "lookups"
    tables = models.PROJECTION_TABLES["lookups"]
    requires = ("registry", "occurrences")
    reads = (models.registry.primary_key, models.occurrences.primary_key)  # versions amended

    def process(self, session: Session, batch: Batch) -> None:
        documents: list[tuple[Any, ...]] = []
        cited: list[tuple[Any, ...]] = []

        def add(namespace: str, ref: int, record: dict[str, Any]) -> None:
            key = record["id"].casefold()
            documents.append((namespace, ref, key, searchable_text(record)))
            for seq, citation in enumerate(record.get("sources") or (), start=1):
                cited.append(
                    (
                        namespace,
                        ref,
                        seq,
                        key,
                        citation["source"].casefold(),
                        citation.get("attribution"),
                        citation.get("quote"),
                    )
                )

        namespaces = RegistryProjection.namespaces
        amended: list[int] = []
        registry_amended: list[int] = []
        for place, event in batch:
            namespace = namespaces.get(type(event))
            if namespace is not None:
                add(namespace, place.position, event.record)
            elif isinstance(event, Amended):
                if event.target_namespace == "occurrence":
                    amended.append(place.position)
                else:
                    registry_amended.append(place.position)
            elif isinstance(event, Occurred):
                # As recorded: the version its event made, never retracted at first.
                add("occurrence", place.position, event.record)
        r = models.registry
        for start in range(0, len(registry_amended), 500):
            for row in session.execute(
                select(r.c.vid, r.c.namespace, r.c.record).where(
                    r.c.vid.in_(registry_amended[start : start + 500]), r.c.retracted.is_(False)
                )
            ):
                add(row.namespace, row.vid, json.loads(row.record))
        t = models.occurrences
        for start in range(0, len(amended), 500):
            for row in session.execute(
                select(t.c.vid, t.c.record).where(
                    t.c.vid.in_(amended[start : start + 500]), t.c.retracted.is_(False)
                )
            ):
                add("occurrence", row.vid, json.loads(row.record))
        documents.sort(key=_document_order)
        insert_rows(session, models.search, documents)
        insert_rows(session, models.citations, cited)


def _document_order(document: tuple[Any, ...]) -> int:
    return int(document[1])


PROJECTIONS: dict[str, Projection] = {
    p.name: p for p in (RegistryProjection(), OccurrenceProjection(), LookupProjection())
}
