"""Questions analysts ask, answered from the read models on two time axes.

`When` carries both axes: ``as_of`` (valid time: the world on that day) and
``known_at`` (record time: only what the ledger had recorded by then, corrections and
retractions included). Every answer is plain data shaped as CLI.md promises; nothing
here returns an aggregate or replays the log. Each query first brings the read models
up to the log, then reads in one snapshot.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, and_, case, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from ledger import database
from ledger.dates import DateSpan, is_qualified, parse_date
from ledger.errors import LedgerError, RetryableError
from ledger.schema import ensure_schema, is_current
from ledger.vocabulary import Record, actors_of, agreements_of
from projections import models
from projections.descriptions import describe
from projections.freshness import at_transaction_boundaries, freshness
from projections.naming import NotFound, named, not_found
from projections.state import (
    DEPENDENT_RELATIONS,
    Fact,
    Happened,
    agreement_state,
    as_day,
    happened,
    source_ids,
)

__all__ = ["CatchUp", "EmptyRange", "NotFound", "Queries", "StaleReadModels", "When"]


class StaleReadModels(LedgerError):
    """The read models are behind the log and no catch-up was handed over."""


class EmptyRange(LedgerError):
    """A timeline asked from a day after the day it is asked to: nothing could answer,
    and an empty list would read as "nothing happened" rather than "the range is back to
    front" (`--from 2025 --to 2024`)."""


@dataclass(frozen=True)
class When:
    """The two time axes of a question. Defaults: the world today, as known now."""

    as_of: date = field(default_factory=lambda: datetime.now(UTC).date())
    known_at: str | None = None  # a fixed-width record-time stamp (ledger.dates.format_timestamp)

    @classmethod
    def parse(cls, as_of: str | None = None, known_at: str | None = None) -> When:
        """Both axes from what a person typed (the CLI's options, the web's parameters).

        Raises ValueError with the message both front ends show.
        """
        from ledger.dates import format_timestamp, parse_as_of, parse_known_at

        kwargs: dict[str, Any] = {}
        if as_of:
            kwargs["as_of"] = parse_as_of(as_of)
        if known_at:
            kwargs["known_at"] = format_timestamp(parse_known_at(known_at))
        return cls(**kwargs)


SNAPSHOT_ATTEMPTS = 50


def _certain(row: Any, as_of: date) -> bool:
    """Whether an occurrence row's date puts it certainly before `as_of` (FORMAT.md: an
    uncertain or approximate date never does)."""
    earliest, latest = as_day(row.earliest), as_day(row.latest)
    return happened(earliest, latest, as_of, qualified=is_qualified(row.date)) is Happened.YES


@dataclass
class _Parts:
    """What `timeline --include-parts` follows besides the actor itself."""

    bodies: list[str] = field(default_factory=list)
    posts: dict[str, list[DateSpan]] = field(default_factory=dict)  # holder -> post spans
    group: set[str] = field(default_factory=set)  # the actor and its bodies, case-folded

    def involved(self, row: dict[str, Any]) -> bool:
        """Whether a timeline row involves the group, or a holder while in post: a post
        whose span may overlap the occurrence's days counts."""
        earliest, latest = as_day(row["earliest"]), as_day(row["latest"])
        via: list[str] = []
        direct = False
        for actor in row["actors"]:
            if actor.casefold() in self.group:
                direct = True
                if actor in self.bodies:
                    via.append(actor)
            elif any(
                (span.earliest is None or latest is None or latest >= span.earliest)
                and (span.latest is None or earliest is None or earliest <= span.latest)
                for span in self.posts.get(actor, [])
            ):
                via.append(actor)
        row["via"] = via
        return direct or bool(via)


def timeline_row(
    ident: str,
    kind: str,
    day: str,
    earliest: str | None,
    latest: str | None,
    record: Mapping[str, Any],
) -> dict[str, Any]:
    """What every timeline row starts with, the timeline's and the audit report's: one
    occurrence as the ledger now reads it (its current version's date and summary)."""
    return {
        "id": ident,
        "kind": kind,
        "date": day,
        "earliest": earliest,
        "latest": latest,
        "summary": record.get("summary"),
    }


#: What brings the read models up to the log when a question finds them behind (see
#: `projections.catchup.catch_up`): handed over by whoever holds the write side.
CatchUp = Callable[[], object]


class Queries:
    """The read side's Python API; the CLI is a thin layer over it.

    It reads the read models through SQLAlchemy Core alone, and never builds the write
    side: when the read models are behind the log, it calls the catch-up it was handed
    (the CLI and the server hand one over their ledger), or, handed none, refuses to
    answer from read models that are behind. So a question asked of a fresh ledger
    starts about as fast as Python and SQLAlchemy do.
    """

    def __init__(self, url: str, catch_up: CatchUp | None = None) -> None:
        database.require_ledger(url, create=False)  # a question never creates a ledger
        self.url = url
        self.engine = database.engine_for(url)
        self.catch_up = catch_up
        self._schema_checked = False
        # One catch-up at a time per process: a server answers from many threads, and
        # they share this one read side (other processes are kept out by the database).
        self.writing = threading.RLock()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """One consistent view of read models caught up with the log.

        The freshness check is made inside the snapshot. When the read models are
        behind, the catch-up handed over runs (serialised with any other doing the same)
        and the check is made again; an import committed meanwhile may leave the view a
        little behind, but never inside a write transaction: such a view is refused and
        taken again.

        The first snapshot also checks the schema's revision, in the same transaction:
        one connection, one transaction for a question's whole life (each round trip
        to a PostgreSQL server counts in a one-question process). Only a revision that
        is not plainly the newest leaves it, for `ensure_schema` to refuse or accept.
        """
        caught_up = False
        for _attempt in range(SNAPSHOT_ATTEMPTS):
            with self.engine.connect() as connection, connection.begin() as transaction:
                database.read_only(connection)
                state = None
                if self._schema_checked or is_current(connection):
                    self._schema_checked = True
                    state = freshness(connection)
                    behind = state.behind
                    if (caught_up or not behind) and at_transaction_boundaries(
                        connection, state.positions.values(), state.head
                    ):
                        yield connection
                        return
                else:
                    transaction.rollback()  # PostgreSQL: a missing version table aborted it
            if state is None:
                ensure_schema(self.engine, create=False)  # refuses a missing or other schema
                self._schema_checked = True
                continue
            if behind and not caught_up:
                if self.catch_up is None:
                    raise StaleReadModels(
                        f"the read models are behind the log (at position "
                        f"{min(state.positions.values())} of {state.head}): run "
                        "`ledger replay`, or ask through `ledger`, which catches them up"
                    )
                with self.writing:
                    self.catch_up()
                caught_up = True
                continue
            time.sleep(0.05)
        raise RetryableError("the read models are being rebuilt by another process; try again")

    # -- conditions ----------------------------------------------------------------

    @staticmethod
    def _current(when: When) -> ColumnElement[bool]:
        """The version of each occurrence that was current at `known_at` (or now)."""
        return _live_version(models.occurrences, when)

    @staticmethod
    def _begun(when: When) -> ColumnElement[bool]:
        """Happened or possibly happened by `as_of`: its earliest day is not after it."""
        t = models.occurrences
        return or_(t.c.earliest.is_(None), t.c.earliest <= when.as_of.isoformat())

    @staticmethod
    def _registered(when: When) -> ColumnElement[bool]:
        """The version of each registry record current at `known_at` (or now), unless retracted."""
        return _live_version(models.registry, when)

    def _lookup(
        self, connection: Connection, namespace: str, key: str, when: When
    ) -> dict[str, Any]:
        """The record `key` names: its id (any case), else its name, title or an alias.

        Only a miss by id reads the namespace's other records, to match names and to
        suggest the closest ones.
        """
        r = models.registry
        row = connection.execute(
            select(r.c.record).where(
                r.c.namespace == namespace,
                r.c.key == key.strip().casefold(),
                self._registered(when),
            )
        ).first()
        if row is not None:
            return dict(json.loads(row.record))
        known = {
            found.id: json.loads(found.record)
            for found in connection.execute(
                select(r.c.id, r.c.record).where(r.c.namespace == namespace, self._registered(when))
            )
        }
        ids = named(key, known.items())
        if len(ids) == 1:
            return dict(known[ids[0]])
        if len(ids) > 1:
            raise NotFound(
                f"{key!r} names {len(ids)} {namespace}s ({', '.join(ids)}); give one of their ids"
            )
        suffix = f" as known at {when.known_at}" if when.known_at else ""
        retracted = connection.execute(
            select(r.c.id).where(
                r.c.namespace == namespace,
                r.c.key == key.strip().casefold(),
                r.c.retracted.is_(True),
                r.c.known_from <= when.known_at if when.known_at else r.c.retracted,
            )
        ).first()
        if retracted is not None:
            raise NotFound(f"{namespace} '{retracted.id}' was retracted{suffix}")
        raise not_found(namespace, key, known.items(), suffix)

    def _facts(self, connection: Connection, agreement: str, when: When) -> list[Fact]:
        """Every current occurrence of the agreement, those after `as_of` included: an
        entry into force still to come for a state tells that it is not yet a party."""
        t, link = models.occurrences, models.occurrence_agreements
        rows = connection.execute(
            select(t)
            .join(link, link.c.vid == t.c.vid)
            .where(link.c.agreement == agreement, self._current(when))
        ).all()  # one fetch of hundreds of rows, not a driver call per row
        return [self._fact(row) for row in rows]

    def _ended_actors(self, connection: Connection, when: When) -> dict[str, dict[str, Any]]:
        """Actors that ceased to exist (an `end`), by id: few, and read in one query."""
        r = models.registry
        rows = connection.execute(
            select(r.c.record).where(
                r.c.namespace == "actor",
                r.c.record.like('%"end":"%'),
                self._registered(when),
            )
        )
        found: dict[str, dict[str, Any]] = {}
        for row in rows:
            record = json.loads(row.record)
            if record.get("end"):
                found[record["id"]] = record
        return found

    def _related_by(
        self, connection: Connection, agreement: str, when: When
    ) -> list[dict[str, str]]:
        """Other agreements' relations to this one, in the order they were registered.

        Targets are stored as registered, so a LIKE on the JSON text finds the few
        candidates without reading every agreement; each is then checked exactly.
        """
        r = models.registry
        needle = json.dumps(agreement, ensure_ascii=False)
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = connection.execute(
            select(r.c.record)
            .where(
                r.c.namespace == "agreement",
                r.c.record.like(f'%"target":{escaped}%', escape="\\"),
                self._registered(when),
            )
            .order_by(r.c.position)
        )
        found = []
        for row in rows:
            record = json.loads(row.record)
            for relation in record.get("relations") or []:
                if str(relation.get("target")).casefold() == agreement.casefold():
                    found.append({"type": relation.get("type"), "source": record["id"]})
        return found

    def _state(
        self,
        connection: Connection,
        agreement: dict[str, Any],
        when: When,
        known: dict[str, dict[str, Any]],
        actors: dict[str, dict[str, Any]],
        seen: frozenset[str] = frozenset(),
        *,
        related_by: bool = False,
    ) -> dict[str, Any]:
        """One agreement's answer, with the answers of the agreements it amends or
        implements (it ends when they end), each worked out once per question.

        `related_by` (incoming relations) costs a pass over the agreements, so only the
        one-agreement question asks for it, not the listing of every agreement.
        """
        ident = agreement["id"]
        if ident in known:
            return known[ident]
        parents = []
        for relation in agreement.get("relations") or []:
            target = str(relation.get("target"))
            if relation.get("type") not in DEPENDENT_RELATIONS or target in seen | {ident}:
                continue
            try:
                parent = self._lookup(connection, "agreement", target, when)
            except NotFound:
                continue
            parents.append(self._state(connection, parent, when, known, actors, seen | {ident}))
        state = agreement_state(
            agreement,
            self._facts(connection, ident, when),
            when.as_of,
            actors=actors,
            parents=parents,
            related_by=self._related_by(connection, ident, when) if related_by else (),
        )
        known[ident] = state
        return state

    @staticmethod
    def _fact(row: Any) -> Fact:
        return Fact.of(json.loads(row.record), row.position, row.earliest, row.latest)

    # -- agreements ----------------------------------------------------------------

    def agreement(self, agreement_id: str, when: When | None = None) -> dict[str, Any]:
        """State, participants, signings and relations of one agreement."""
        when = when or When()
        with self.snapshot() as connection:
            agreement = self._lookup(connection, "agreement", agreement_id, when)
            actors = self._ended_actors(connection, when)
            state = dict(self._state(connection, agreement, when, {}, actors, related_by=True))
        state["as_of"] = when.as_of.isoformat()
        state["known_at"] = when.known_at
        return state

    def agreements(
        self, when: When | None = None, status: str | None = None, party: str | None = None
    ) -> list[dict[str, Any]]:
        """Every agreement with its status, optionally only those in a status or with a party."""
        when = when or When()
        r = models.registry
        answers = []
        with self.snapshot() as connection:
            if party is not None:
                party = self._lookup(connection, "actor", party, when)["id"]
            rows = connection.execute(
                select(r.c.record)
                .where(r.c.namespace == "agreement", self._registered(when))
                .order_by(r.c.position)
            ).all()
            known: dict[str, dict[str, Any]] = {}
            actors = self._ended_actors(connection, when)
            for row in rows:
                agreement = json.loads(row.record)
                state = self._state(connection, agreement, when, known, actors)
                members = {p["actor"].casefold() for p in state["participants"]}
                if status and state["status"] != status:
                    continue
                if party and party.casefold() not in members:
                    continue
                answers.append(
                    {
                        key: state[key]
                        for key in ("id", "title", "type", "status", "status_certain", "parties")
                    }
                )
        return answers

    def endorsements(self, agreement_id: str, when: When | None = None) -> list[dict[str, Any]]:
        """Who endorsed the agreement and when, oldest first (earliest day, then record order)."""
        when = when or When()
        t, e = models.occurrences, models.endorsements
        with self.snapshot() as connection:
            agreement = self._lookup(connection, "agreement", agreement_id, when)
            rows = connection.execute(
                select(t, e.c.actor, e.c.act, e.c.on_behalf_of, e.c.method)
                .join(e, e.c.vid == t.c.vid)
                .where(e.c.agreement == agreement["id"], self._current(when), self._begun(when))
                .order_by(
                    case((t.c.earliest.is_(None), 0), else_=1), t.c.earliest, t.c.position, e.c.seq
                )
            ).all()
        answers = []
        for row in rows:
            record = json.loads(row.record)
            answers.append(
                {
                    "date": row.date,
                    "earliest": row.earliest,
                    "latest": row.latest,
                    "actor": row.actor,
                    "act": row.act,
                    "on_behalf_of": row.on_behalf_of,
                    "method": row.method,
                    "occurrence": row.occurrence,
                    "sources": source_ids(record),
                    "certain": _certain(row, when.as_of),
                }
            )
        return answers

    # -- timeline and actors ---------------------------------------------------------

    def timeline(
        self,
        when: When | None = None,
        *,
        actor: str | None = None,
        agreement: str | None = None,
        kind: str | None = None,
        from_: date | None = None,
        to: date | None = None,
        include_parts: bool = False,
    ) -> list[dict[str, Any]]:
        """Occurrences oldest first; `actor` matches any role the actor plays in them.

        With `include_parts`, also those of the actor's bodies (`part_of`, at any depth)
        and of the people whose posts were in it or them when the occurrence may have
        happened.
        """
        if from_ is not None and to is not None and from_ > to:
            raise EmptyRange(
                f"nothing can fall between from {from_.isoformat()} and to {to.isoformat()}:"
                " the range ends before it begins"
            )
        when = when or When()
        t = models.occurrences
        query = select(t).where(self._current(when), self._begun(when))
        parts = _Parts()
        with self.snapshot() as connection:
            # Joined from the link tables, not `vid IN (…)`: given that, SQLite walked
            # every current occurrence through the `known_until` index (O(log size) now).
            if actor is not None:
                known = self._lookup(connection, "actor", actor, when)
                a = models.occurrence_actors
                parts = self._parts(connection, known["id"], when) if include_parts else parts
                wanted = [known["id"], *parts.bodies, *parts.posts]
                vids = select(a.c.vid).where(a.c.actor.in_(wanted)).distinct().subquery()
                query = query.join(vids, vids.c.vid == t.c.vid)
            if agreement is not None:
                known = self._lookup(connection, "agreement", agreement, when)
                g = models.occurrence_agreements
                vids = select(g.c.vid).where(g.c.agreement == known["id"]).distinct().subquery()
                query = query.join(vids, vids.c.vid == t.c.vid)
            if kind is not None:
                query = query.where(t.c.kind == kind)
            if from_ is not None:
                query = query.where(or_(t.c.latest.is_(None), t.c.latest >= from_.isoformat()))
            if to is not None:
                query = query.where(or_(t.c.earliest.is_(None), t.c.earliest <= to.isoformat()))
            query = query.order_by(
                case((t.c.earliest.is_(None), 0), else_=1), t.c.earliest, t.c.position
            )
            rows = connection.execute(query).all()
            agreement_ids = self._agreement_ids(connection, rows, when)
        answers = [self._timeline_row(row, agreement_ids, when) for row in rows]
        if include_parts and actor is not None:
            answers = [row for row in answers if parts.involved(row)]
        return answers

    def _parts(self, connection: Connection, state: str, when: When) -> _Parts:
        """The bodies of `state` (through `part_of`, transitively) and the people who held
        posts in the state or those bodies, with the spans of their posts."""
        r = models.registry
        children: dict[str, list[str]] = {}
        for row in connection.execute(
            select(r.c.id, r.c.record).where(r.c.namespace == "actor", self._registered(when))
        ):
            parent = json.loads(row.record).get("part_of")
            if parent:
                children.setdefault(parent.casefold(), []).append(row.id)
        parts = _Parts()
        group = {state.casefold()}
        queue = [state]
        while queue:
            for child in children.get(queue.pop().casefold(), []):
                if child.casefold() not in group:
                    group.add(child.casefold())
                    parts.bodies.append(child)
                    queue.append(child)
        for row in connection.execute(
            select(r.c.record).where(r.c.namespace == "post", self._registered(when))
        ):
            post = json.loads(row.record)
            if post["organization"].casefold() in group:
                span = DateSpan(
                    "",
                    parse_date(post["start"]).earliest if post.get("start") else None,
                    parse_date(post["end"]).latest if post.get("end") else None,
                )
                parts.posts.setdefault(post["holder"], []).append(span)
        parts.group = group
        return parts

    def _agreement_ids(self, connection: Connection, rows: Sequence[Any], when: When) -> set[str]:
        """Which of the ids these occurrences mention are agreements (not actors)."""
        candidates = {a for row in rows for a in agreements_of(json.loads(row.record))}
        r = models.registry
        found: set[str] = set()
        ids = sorted(candidates)
        for start in range(0, len(ids), 500):
            found.update(
                connection.execute(
                    select(r.c.id).where(
                        r.c.namespace == "agreement",
                        r.c.id.in_(ids[start : start + 500]),
                        self._registered(when),
                    )
                ).scalars()
            )
        return found

    @staticmethod
    def _timeline_row(row: Any, agreement_ids: set[str], when: When) -> dict[str, Any]:
        record = json.loads(row.record)
        actors: list[str] = []
        for _role, actor in actors_of(Record(kind=row.kind, id=row.occurrence, data=record)):
            if actor not in actors:
                actors.append(actor)
        return {
            **timeline_row(row.occurrence, row.kind, row.date, row.earliest, row.latest, record),
            "place": record.get("place"),
            "description": describe(row.kind, record),
            "stance": record.get("stance") if row.kind == "statement" else None,
            "actors": actors,
            "agreements": [a for a in agreements_of(record) if a in agreement_ids],
            "sources": source_ids(record),
            "certain": _certain(row, when.as_of),
            "recorded_position": row.position,
        }

    def actor(self, actor_id: str, when: When | None = None) -> dict[str, Any]:
        """An actor, the posts it held, and the occurrences it took part in."""
        when = when or When()
        r = models.registry
        with self.snapshot() as connection:
            actor = self._lookup(connection, "actor", actor_id, when)
            posts = [
                json.loads(row.record)
                for row in connection.execute(
                    select(r.c.record)
                    .where(
                        r.c.namespace == "post", r.c.holder == actor["id"], self._registered(when)
                    )
                    .order_by(r.c.position)
                )
            ]
        return {
            **actor,
            "posts": posts,
            "occurrences": self.timeline(when, actor=actor["id"]),
        }

    def names(self, ids: Iterable[str], when: When | None = None) -> dict[str, str]:
        """Display names of the actors, agreements and sources these ids name, by id.

        For pages that show ids (as every answer does) beside what a reader calls them;
        ids that name nothing are left out.
        """
        when = when or When()
        r = models.registry
        keys = sorted({str(i).casefold() for i in ids if i})
        found: dict[str, str] = {}
        with self.snapshot() as connection:
            for start in range(0, len(keys), 500):
                rows = connection.execute(
                    select(r.c.id, r.c.record).where(
                        r.c.namespace.in_(("actor", "agreement", "source")),
                        r.c.key.in_(keys[start : start + 500]),
                        self._registered(when),
                    )
                )
                for row in rows:
                    record = json.loads(row.record)
                    found[row.id] = record.get("name") or record.get("title") or row.id
        return found

    def sources(self, ids: Sequence[str], when: When | None = None) -> dict[str, dict[str, Any]]:
        """Source records by id, for reports that cite them."""
        when = when or When()
        r = models.registry
        with self.snapshot() as connection:
            rows = connection.execute(
                select(r.c.record).where(r.c.namespace == "source", self._registered(when))
            )
            every = {json.loads(row.record)["id"]: json.loads(row.record) for row in rows}
        return {i: every[i] for i in ids if i in every}

    # -- sources, search and what changed -------------------------------------------

    def _citing(self, when: When) -> Any:
        """Citations by records current at `known_at`: occurrence versions begun by
        `as_of`, and posts."""
        c, t, r = models.citations, models.occurrences, models.registry
        return (
            select(
                c.c.source,
                c.c.namespace,
                c.c.ref,
                c.c.seq,
                c.c.attribution,
                c.c.quote,
                t.c.record.label("occurrence_record"),
                r.c.record.label("registry_record"),
            )
            .select_from(c)
            .outerjoin(t, and_(c.c.namespace == "occurrence", t.c.vid == c.c.ref))
            .outerjoin(
                r,
                and_(
                    c.c.namespace == "post",
                    r.c.namespace == "post",
                    r.c.key == c.c.key,
                    r.c.vid == c.c.ref,
                ),
            )
            .where(
                or_(
                    and_(c.c.namespace == "occurrence", self._current(when), self._begun(when)),
                    and_(c.c.namespace == "post", r.c.namespace == "post", self._registered(when)),
                )
            )
        )

    def source_list(self, when: When | None = None) -> list[dict[str, Any]]:
        """Every source, in the order registered, with how many records cite it."""
        when = when or When()
        r = models.registry
        with self.snapshot() as connection:
            sources = [
                json.loads(row.record)
                for row in connection.execute(
                    select(r.c.record)
                    .where(r.c.namespace == "source", self._registered(when))
                    .order_by(r.c.position)
                )
            ]
            citing = self._citing(when).subquery()
            counts = dict(
                connection.execute(
                    select(citing.c.source, func.count(func.distinct(citing.c.ref))).group_by(
                        citing.c.source
                    )
                )
                .tuples()
                .all()
            )
        return [
            {
                "id": source["id"],
                "title": source.get("title"),
                "publisher": source.get("publisher"),
                "published": source.get("published"),
                "type": source.get("type"),
                "reliability": source.get("reliability"),
                "url": source.get("url"),
                "cited_by": counts.get(source["id"].casefold(), 0),
            }
            for source in sources
        ]

    def source(self, source_id: str, when: When | None = None) -> dict[str, Any]:
        """One source and every record that cites it, with the attribution and quote."""
        when = when or When()
        c = models.citations
        with self.snapshot() as connection:
            source = self._lookup(connection, "source", source_id, when)
            rows = connection.execute(
                self._citing(when)
                .where(c.c.source == source["id"].casefold())
                .order_by(c.c.ref, c.c.seq)
            ).all()
        citations = []
        for row in rows:
            record = json.loads(row.occurrence_record or row.registry_record)
            citations.append(
                {
                    "kind": record["kind"],
                    "id": record["id"],
                    "date": record.get("date"),
                    "description": (
                        describe(record["kind"], record)
                        if row.namespace == "occurrence"
                        else f"{record['holder']}: {record['title']} ({record['organization']})"
                    ),
                    "attribution": row.attribution,
                    "quote": row.quote,
                }
            )
        return {**source, "citations": citations}

    def search(self, text: str, when: When | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Records whose names, aliases, titles, summaries or quotes hold every word of
        `text` (or words starting with them), best match first."""
        from projections import search as full_text

        when = when or When()
        terms = full_text.words(text)
        if not terms:
            raise LedgerError(f"nothing to search for in {text!r}: give a word or two")
        with self.snapshot() as connection:
            found = full_text.search(
                connection,
                terms,
                and_(self._current(when), self._begun(when)),
                self._registered(when),
                limit,
            )
        answers = []
        for item in found:
            record = item["record"]
            kind = record["kind"]
            if item["namespace"] == "occurrence":
                label = describe(kind, record)
            elif kind == "post":
                label = f"{record['holder']}: {record['title']} ({record['organization']})"
            else:
                label = record.get("name") or record.get("title")
            answers.append(
                {
                    "kind": kind,
                    "id": record["id"],
                    "date": record.get("date"),
                    "label": label,
                    "matches": full_text.matching(record, terms),
                }
            )
        return answers

    def changes(self, since: str, until: str | None = None, as_of: date | None = None) -> Any:
        """What the ledger learned after record time `since` and by `until` (or now)."""
        from projections.changes import learned

        return learned(self, since, until, as_of or When().as_of)


def _live_version(table: Table, when: When) -> ColumnElement[bool]:
    """Occurrences and registry records keep their versions alike on the record-time
    axis: the one current at `known_at` (or now), unless it was retracted."""
    if when.known_at is None:
        known: ColumnElement[bool] = table.c.known_until.is_(None)
    else:
        known = and_(
            table.c.known_from <= when.known_at,
            or_(table.c.known_until.is_(None), table.c.known_until > when.known_at),
        )
    return and_(known, table.c.retracted.is_(False))
