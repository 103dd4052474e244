"""What each projection does with a batch of events.

A projection follows eventsourcing's `Projection` (a name, and a view that is a
tracking recorder), but it is fed a page of events at a time: the rows for the whole
page and one tracking record are written in one transaction, which is what makes
catch-up both exactly-once and fast (see `projections.catchup`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

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
from ledger.records import apply_correction
from ledger.store import LogEntry
from ledger.vocabulary import Record, actors_of, agreements_of
from projections import models
from projections.search import searchable_text
from projections.state import endorsement_acts

Batch = Sequence[tuple[LogEntry, Recorded]]


def dumps(record: dict[str, Any]) -> str:
    """Records as JSON text, byte-identical however often they are rebuilt."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Projection(ABC):
    """A read model kept by catch-up: its name (tracking key, ≤ 32 chars) and tables.

    `requires` names projections whose rows this one reads while it processes a page;
    catch-up brings them along first, in the same transaction.
    """

    name: str
    tables: tuple[Table, ...]
    requires: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def process(self, session: Session, batch: Batch) -> None:
        """Write the rows for a page of events, inside the caller's transaction."""


class RegistryProjection(Projection):
    """Sources, actors, posts and agreements, looked up by case-folded id, as versions.

    A correction or retraction of a registry record closes its current version and
    opens the next, exactly as `OccurrenceProjection` does for occurrences, so
    `--known-at` before a correction still reads the record as it was.
    """

    name = "registry"
    tables = models.PROJECTION_TABLES["registry"]
    namespaces: ClassVar[dict[type[Recorded], str]] = {
        SourceRegistered: "source",
        ActorRegistered: "actor",
        PostHeld: "post",
        AgreementRegistered: "agreement",
    }

    def process(self, session: Session, batch: Batch) -> None:
        versions: list[dict[str, Any]] = []
        current: dict[tuple[str, str], dict[str, Any]] = {}  # written in this page
        amended = {
            (e.target_namespace, str(e.record["target"]).casefold())
            for _, e in batch
            if isinstance(e, Amended) and e.target_namespace in self.namespaces.values()
        }
        stored = _current_registry_rows(session, amended)
        closed: list[dict[str, Any]] = []
        for entry, event in batch:
            namespace = self.namespaces.get(type(event))
            if namespace is not None:
                record = event.record
                row = _registry_row(entry, namespace, record, entry.position, entry.recorded_at)
                versions.append(row)
                current[(namespace, row["key"])] = row
                continue
            if not isinstance(event, Amended) or event.target_namespace == "occurrence":
                continue
            key = (event.target_namespace, str(event.record["target"]).casefold())
            before = current.pop(key, None)
            if before is not None:
                before["known_until"] = entry.recorded_at
            else:
                before = stored.pop(key, None)
                if before is None:  # the write side only amends records it knows
                    continue
                closed.append({"closed_vid": before["vid"], "closed_at": entry.recorded_at})
            record = json.loads(before["record"])
            if isinstance(event, Corrected) and not before["retracted"]:
                target = Record(kind=record["kind"], id=record["id"], data=record)
                record = apply_correction(target, event.record["set"]).data
            row = _registry_row(entry, key[0], record, before["position"], before["recorded_at"])
            row["retracted"] = isinstance(event, Retracted) or before["retracted"]
            versions.append(row)
            current[key] = row
        if closed:
            t = models.registry
            session.execute(
                update(t)
                .where(t.c.vid == bindparam("closed_vid"))
                .values(known_until=bindparam("closed_at")),
                closed,
            )
        if versions:
            session.execute(insert(models.registry), versions)


def _registry_row(
    entry: LogEntry, namespace: str, record: dict[str, Any], position: int, recorded_at: str
) -> dict[str, Any]:
    return {
        "vid": entry.position,
        "namespace": namespace,
        "key": record["id"].casefold(),
        "id": record["id"],
        "kind": record["kind"],
        "holder": record.get("holder"),
        "record": dumps(record),
        "position": position,
        "recorded_at": recorded_at,
        "known_from": entry.recorded_at,
        "known_until": None,
        "retracted": False,
    }


def _current_registry_rows(
    session: Session, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The current versions of these registry records, written by earlier pages."""
    t = models.registry
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for namespace, key in sorted(keys):
        for row in session.execute(select(t).where(t.c.namespace == namespace, t.c.key == key)):
            if row.known_until is None:
                found[(namespace, key)] = dict(row._mapping)
    return found


class OccurrenceProjection(Projection):
    """Occurrence versions, who and what each involves, endorsements, and amendments."""

    name = "occurrences"
    tables = models.PROJECTION_TABLES["occurrences"]

    def process(self, session: Session, batch: Batch) -> None:
        rows = _Rows(session)
        amended = {e.record["target"] for _, e in batch if _amends_occurrence(e)}
        revoked = {e.record["target"] for _, e in batch if isinstance(e, Revoked)}
        rows.load_current(session, amended | revoked)
        for entry, event in batch:
            if isinstance(event, Amended):
                self._amend(entry, event, rows)
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

    def _amend(self, entry: LogEntry, event: Amended, rows: _Rows) -> None:
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
        if not _amends_occurrence(event):
            return  # a registry record's versions are the registry projection's
        current = rows.close_current(amendment["target"], entry.recorded_at)
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


def _amends_occurrence(event: Recorded) -> bool:
    return isinstance(event, Amended) and event.target_namespace == "occurrence"


class _Rows:
    """Rows gathered for one executemany per table."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.versions: list[dict[str, Any]] = []
        self.actors: list[dict[str, Any]] = []
        self.agreements: list[dict[str, Any]] = []
        self.endorsements: list[dict[str, Any]] = []
        self.amendments: list[dict[str, Any]] = []
        # The current version of each occurrence added in this page, still unwritten: an
        # amendment of it closes the pending row instead of flushing and updating it.
        self.current: dict[str, dict[str, Any]] = {}
        # Current versions written by earlier pages that this page amends or revokes,
        # loaded in one query, and those it closed: one executemany of updates at flush.
        self.stored: dict[str, dict[str, Any]] = {}
        self.closed: list[dict[str, Any]] = []

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
                    self.stored[row.occurrence] = dict(row._mapping)

    def notice(self, occurrence: str) -> dict[str, Any] | None:
        """The record of a revoked notice as it stands when its revocation is projected.

        The same version in a replay as in catch-up, since both see the log in order:
        in this page, or loaded with the page's revocations, or (for a revocation that
        is itself being corrected) looked up now.
        """
        version: Mapping[Any, Any] | None = self.current.get(occurrence) or self.stored.get(
            occurrence
        )
        if version is None:
            t = models.occurrences
            version = (
                self.session.execute(
                    select(t).where(t.c.occurrence == occurrence, t.c.known_until.is_(None))
                )
                .mappings()
                .first()
            )
        return None if version is None else dict(json.loads(version["record"]))

    def close_current(self, occurrence: str, known_until: str) -> dict[str, Any] | None:
        """Close the occurrence's current version as of `known_until`; return that version."""
        pending = self.current.pop(occurrence, None)
        if pending is not None:
            pending["known_until"] = known_until
            return pending
        row = self.stored.pop(occurrence, None)
        if row is not None:
            self.closed.append({"closed_vid": row["vid"], "closed_at": known_until})
        return row

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
        notice = self.notice(record["target"]) if record["kind"] == "revocation" else None
        # A revocation concerns the agreement of the notice it revokes.
        for agreement in agreements_of(notice if notice is not None else record):
            self.agreements.append({"vid": vid, "agreement": agreement})
        # An `about` id may name an actor or an agreement; rows for an actor are harmless,
        # since endorsements are only ever asked for by agreement id.
        for seq, act in enumerate(endorsement_acts(record, lambda _id: True, notice), start=1):
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
        if self.closed:
            t = models.occurrences
            session.execute(
                update(t)
                .where(t.c.vid == bindparam("closed_vid"))
                .values(known_until=bindparam("closed_at")),
                self.closed,
            )
            self.closed.clear()
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


class LookupProjection(Projection):
    """The full-text index and the citations of every record version, for `search`,
    `sources` and `source`.

    Registry records come from their events. A corrected version, of an occurrence or of
    a registry record, is read back from the row the occurrences or registry projection
    has just written for it (its vid is the event's position), so a correction is
    indexed as corrected without applying it a second time; retracted versions are never
    answers, so they are not indexed.
    """

    name = "lookups"
    tables = models.PROJECTION_TABLES["lookups"]
    requires = ("registry", "occurrences")

    def process(self, session: Session, batch: Batch) -> None:
        documents: list[dict[str, Any]] = []
        cited: list[dict[str, Any]] = []

        def add(namespace: str, ref: int, record: dict[str, Any]) -> None:
            documents.append(
                {
                    "namespace": namespace,
                    "ref": ref,
                    "key": record["id"].casefold(),
                    "body": searchable_text(record),
                }
            )
            for seq, citation in enumerate(record.get("sources") or [], start=1):
                cited.append(
                    {
                        "namespace": namespace,
                        "ref": ref,
                        "seq": seq,
                        "key": record["id"].casefold(),
                        "source": citation["source"].casefold(),
                        "attribution": citation.get("attribution"),
                        "quote": citation.get("quote"),
                    }
                )

        versions: list[int] = []
        registry_versions: list[int] = []
        for entry, event in batch:
            namespace = RegistryProjection.namespaces.get(type(event))
            if namespace is not None:
                add(namespace, entry.position, event.record)
            elif isinstance(event, Amended) and event.target_namespace != "occurrence":
                registry_versions.append(entry.position)
            elif isinstance(event, Occurred):
                versions.append(entry.position)
        r = models.registry
        for start in range(0, len(registry_versions), 500):
            for row in session.execute(
                select(r.c.vid, r.c.namespace, r.c.record).where(
                    r.c.vid.in_(registry_versions[start : start + 500]), r.c.retracted.is_(False)
                )
            ):
                add(row.namespace, row.vid, json.loads(row.record))
        t = models.occurrences
        for start in range(0, len(versions), 500):
            for row in session.execute(
                select(t.c.vid, t.c.record).where(
                    t.c.vid.in_(versions[start : start + 500]), t.c.retracted.is_(False)
                )
            ):
                add("occurrence", row.vid, json.loads(row.record))
        if documents:
            session.execute(insert(models.search), documents)
        if cited:
            session.execute(insert(models.citations), cited)


PROJECTIONS: dict[str, Projection] = {
    p.name: p for p in (RegistryProjection(), OccurrenceProjection(), LookupProjection())
}
