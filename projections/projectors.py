"""What each projection does with a batch of events.

A projection follows eventsourcing's `Projection` (a name, and a view that is a
tracking recorder), but it is fed a page of events at a time: the rows for the whole
page and one tracking record are written in one transaction, which is what makes
catch-up both exactly-once and fast (see `projections.catchup`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Table, and_, insert, select, update
from sqlalchemy.orm import Session

from ledger.dates import parse_date
from ledger.events import (
    ActorRegistered,
    AgreementRegistered,
    Corrected,
    Occurred,
    PostHeld,
    Recorded,
    Retracted,
    SourceRegistered,
)
from ledger.records import Record, actors_of, apply_correction
from ledger.store import LogEntry
from projections import models
from projections.state import endorsement_acts

Batch = Sequence[tuple[LogEntry, Recorded]]


def dumps(record: dict[str, Any]) -> str:
    """Records as JSON text, byte-identical however often they are rebuilt."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Projection(ABC):
    """A read model kept by catch-up: its name (tracking key, ≤ 32 chars) and tables."""

    name: str
    tables: tuple[Table, ...]

    @abstractmethod
    def process(self, session: Session, batch: Batch) -> None:
        """Write the rows for a page of events, inside the caller's transaction."""


class RegistryProjection(Projection):
    """Sources, actors, posts and agreements, looked up by case-folded id."""

    name = "registry"
    tables = models.PROJECTION_TABLES["registry"]
    namespaces: ClassVar[dict[type[Recorded], str]] = {
        SourceRegistered: "source",
        ActorRegistered: "actor",
        PostHeld: "post",
        AgreementRegistered: "agreement",
    }

    def process(self, session: Session, batch: Batch) -> None:
        rows = []
        for entry, event in batch:
            namespace = self.namespaces.get(type(event))
            if namespace is None:
                continue
            record = event.record
            rows.append(
                {
                    "namespace": namespace,
                    "key": record["id"].casefold(),
                    "id": record["id"],
                    "kind": record["kind"],
                    "holder": record.get("holder"),
                    "record": dumps(record),
                    "position": entry.position,
                    "recorded_at": entry.recorded_at,
                }
            )
        if rows:
            session.execute(insert(models.registry), rows)


class OccurrenceProjection(Projection):
    """Occurrence versions, who and what each involves, endorsements, and amendments."""

    name = "occurrences"
    tables = models.PROJECTION_TABLES["occurrences"]

    def process(self, session: Session, batch: Batch) -> None:
        rows = _Rows()
        for entry, event in batch:
            if isinstance(event, Corrected | Retracted):
                self._amend(session, entry, event, rows)
            elif isinstance(event, Occurred):
                rows.add_version(
                    vid=entry.position,
                    position=entry.position,
                    known_from=entry.recorded_at,
                    record=event.record,
                    earliest=event.earliest,
                    latest=event.latest,
                    retracted=False,
                )
        rows.flush(session)

    def _amend(self, session: Session, entry: LogEntry, event: Occurred, rows: _Rows) -> None:
        amendment = event.record
        rows.amendments.append(
            {
                "position": entry.position,
                "id": amendment["id"],
                "kind": amendment["kind"],
                "target": amendment["target"],
                "date": amendment["date"],
                "recorded_at": entry.recorded_at,
                "recorded_by": event.recorded_by,
                "record": dumps(amendment),
            }
        )
        current = rows.close_current(session, amendment["target"], entry.recorded_at)
        if current is None:  # the write side only lets amendments of recorded occurrences in
            return
        record = json.loads(current["record"])
        earliest, latest = current["earliest"], current["latest"]
        if isinstance(event, Corrected):
            target = Record(kind=record["kind"], id=record["id"], data=record)
            record = apply_correction(target, amendment["set"]).data
            span = parse_date(record["date"])
            earliest = span.earliest.isoformat() if span.earliest else None
            latest = span.latest.isoformat() if span.latest else None
        rows.add_version(
            vid=entry.position,
            position=current["position"],
            known_from=entry.recorded_at,
            record=record,
            earliest=earliest,
            latest=latest,
            retracted=isinstance(event, Retracted) or current["retracted"],
        )


class _Rows:
    """Rows gathered for one executemany per table."""

    def __init__(self) -> None:
        self.versions: list[dict[str, Any]] = []
        self.actors: list[dict[str, Any]] = []
        self.agreements: list[dict[str, Any]] = []
        self.endorsements: list[dict[str, Any]] = []
        self.amendments: list[dict[str, Any]] = []
        # The current version of each occurrence added in this page, still unwritten: an
        # amendment of it closes the pending row instead of flushing and updating it.
        self.current: dict[str, dict[str, Any]] = {}

    def close_current(
        self, session: Session, occurrence: str, known_until: str
    ) -> dict[str, Any] | None:
        """Close the occurrence's current version as of `known_until`; return that version."""
        pending = self.current.pop(occurrence, None)
        if pending is not None:
            pending["known_until"] = known_until
            return pending
        t = models.occurrences
        row = session.execute(
            select(t).where(and_(t.c.occurrence == occurrence, t.c.known_until.is_(None)))
        ).first()
        if row is None:
            return None
        session.execute(update(t).where(t.c.vid == row.vid).values(known_until=known_until))
        return dict(row._mapping)

    def add_version(
        self,
        *,
        vid: int,
        position: int,
        known_from: str,
        record: dict[str, Any],
        earliest: str | None,
        latest: str | None,
        retracted: bool,
    ) -> None:
        self.versions.append(
            {
                "vid": vid,
                "occurrence": record["id"],
                "kind": record["kind"],
                "date": record["date"],
                "earliest": earliest,
                "latest": latest,
                "position": position,
                "known_from": known_from,
                "known_until": None,
                "retracted": retracted,
                "record": dumps(record),
            }
        )
        self.current[record["id"]] = self.versions[-1]
        if retracted:
            return  # a retracted version is never an answer; its links would only be noise
        seen: set[tuple[str, str]] = set()
        for role, actor in actors_of(Record(kind=record["kind"], id=record["id"], data=record)):
            if (role, actor) not in seen:
                seen.add((role, actor))
                self.actors.append({"vid": vid, "seq": len(seen), "actor": actor, "role": role})
        for agreement in agreements_of(record):
            self.agreements.append({"vid": vid, "agreement": agreement})
        # An `about` id may name an actor or an agreement; rows for an actor are harmless,
        # since endorsements are only ever asked for by agreement id.
        for seq, act in enumerate(endorsement_acts(record, lambda _id: True), start=1):
            self.endorsements.append(
                {
                    "vid": vid,
                    "seq": seq,
                    "agreement": act.agreement,
                    "actor": act.actor,
                    "act": act.act,
                    "on_behalf_of": act.on_behalf_of,
                    "method": act.method,
                }
            )

    def flush(self, session: Session) -> None:
        for table, rows in (
            (models.occurrences, self.versions),
            (models.occurrence_actors, self.actors),
            (models.occurrence_agreements, self.agreements),
            (models.endorsements, self.endorsements),
            (models.amendments, self.amendments),
        ):
            if rows:
                session.execute(insert(table), rows)
                rows.clear()
        self.current.clear()


def agreements_of(record: dict[str, Any]) -> list[str]:
    """Agreements an occurrence concerns: its `agreement`, or any id it is `about`."""
    found: list[str] = []
    if record.get("agreement"):
        found.append(record["agreement"])
    about = record.get("about") or []
    for item in [about] if isinstance(about, str) else about:
        if item not in found:
            found.append(item)
    return found


PROJECTIONS: dict[str, Projection] = {
    p.name: p for p in (RegistryProjection(), OccurrenceProjection())
}
