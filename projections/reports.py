"""Audit reports: what the ledger says about an agreement, and the evidence for each claim.

An audit report exists so that a reader who does not trust us can check us. So it does
not summarise the read models and stop: it lists every underlying event with its log
position, record time, author and leaf hash, cites its sources with attribution, quote
and reliability, shows each correction or retraction beside what it superseded, and
flags statements that contradict each other instead of picking a winner. It is built on
one checkpoint, taken *before* anything else is read, and includes nothing recorded
after it, so the size and root in its footer commit to exactly the events it shows and
`ledger verify --checkpoint` / `ledger prove` can check them.

`open_report` gathers the report's data; `write_report` writes it as Markdown, one
standalone HTML file (inline CSS and an inline SVG timeline, no network) or JSON (the
data itself, what `build_report` returns whole for small reports), by way of
`projections.report_rendering`. Keeping the data and its presentation apart means the
three formats can never disagree about the facts. Which statements contest a claim is
the format's rule, in `projections.contests`.

The log is read twice, streaming: a first pass learns which occurrences concern the
agreements in scope and which were amended, the second gathers the events, amendments
and current versions. What grows with the log goes to a scratch database on disk
(`projections.report_scratch`) and is read back a row at a time while the report is
written, as it is produced: only the registries (sources, actors) and the amendment
index are held in memory, so a whole-ledger report of a million events stays small.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ledger.aggregates import namespace_of
from ledger.application import LoggedEvent
from ledger.checkpoints import Checkpoint
from ledger.dates import format_timestamp, parse_date
from ledger.errors import TamperingDetected
from ledger.events import (
    ActorRegistered,
    AgreementRegistered,
    Amended,
    Corrected,
    Occurred,
    Retracted,
    SourceRegistered,
)
from ledger.integrity import checkpoint
from ledger.merkle import CompactRange
from ledger.vocabulary import Record, actors_of, agreements_of
from projections.catchup import catch_up
from projections.contests import contested_claims
from projections.queries import Queries, When, timeline_row
from projections.report_rendering import check_format, render_pieces
from projections.report_scratch import Rows, Scratch, mapped, materialized
from projections.versions import corrected

if TYPE_CHECKING:
    from ledger.application import Ledger


def build_report(
    app: Ledger, agreement_id: str | None = None, when: When | None = None
) -> dict[str, Any]:
    """The audit report's data, whole in memory: for small reports and tests.

    What `ledger audit --format json` writes (`write_report` writes it without holding it).
    """
    with open_report(app, agreement_id, when) as report:
        return materialized(report)  # type: ignore[no-any-return]


def write_report(
    app: Ledger,
    out: TextIO,
    fmt: str,
    agreement_id: str | None = None,
    when: When | None = None,
) -> None:
    """Gather the report, then write it to `out` in `fmt` as it is produced."""
    check_format(fmt)
    with open_report(app, agreement_id, when) as report:
        for piece in render_pieces(report, fmt):
            out.write(piece)


@contextmanager
def open_report(
    app: Ledger, agreement_id: str | None = None, when: When | None = None
) -> Iterator[dict[str, Any]]:
    """The audit report of one agreement (or, without an id, of the whole ledger).

    Its long lists (events, amendments, timelines, agreements) are read from a scratch
    database as they are iterated, and only while the context is open.

    The checkpoint is taken first and record time is pinned to it, so the read-model
    answers (state, endorsements) and the event list describe the same prefix of the
    log, the one the cited root commits to. Raises `NotFound` for an unknown agreement.
    """
    head = checkpoint(app)
    when = when or When()
    if head.timestamp and (when.known_at is None or when.known_at > head.timestamp):
        when = replace(when, known_at=head.timestamp)
    queries = Queries(app.url, catch_up=partial(catch_up, app))
    first: dict[str, Any] | None = None
    if agreement_id is not None:
        first = queries.agreement(agreement_id, when)
    with tempfile.TemporaryDirectory(prefix="ledger-audit-") as folder:
        scratch = Scratch(Path(folder))
        try:
            yield _gather(app, queries, head, when, first, scratch)
        finally:
            scratch.close()


def _gather(
    app: Ledger,
    queries: Queries,
    head: Checkpoint,
    when: When,
    first: dict[str, Any] | None,
    scratch: Scratch,
) -> dict[str, Any]:
    """Both passes over the log, then each agreement's section, into `scratch`."""
    index = _Index.scan(app, head, when, {first["id"]} if first else None, scratch)
    scope = [first["id"]] if first else list(dict.fromkeys(index.agreements))
    builder = _Builder(index, set(scope), whole=first is None, scratch=scratch)
    for logged in app.log(upto=head.size, known_at=when.known_at):
        builder.add(logged)
    scratch.finish()
    for seq, ident in enumerate(scope):
        state = first if first is not None else queries.agreement(ident, when)
        endorsements = queries.endorsements(ident, when)
        scratch.add_section(seq, builder.section(state, endorsements, when.as_of))
    report: dict[str, Any] = {
        "generated_at": format_timestamp(datetime.now(UTC)),
        "checkpoint": head.to_json(),
        "scope": "ledger" if first is None else first["id"],
        "as_of": when.as_of.isoformat(),
        "known_at": when.known_at,
        "agreements": mapped(scratch.sections(), builder.with_evidence),
        "sources": builder.cited_sources(),
        "actors": builder.named_actors(),
    }
    if first is None:
        report["events"] = scratch.events()
        report["amendments"] = scratch.amendments()
        report["timeline"] = timeline(scratch.versions(timeline=True))
    return report


def _is_amendment(logged: LoggedEvent) -> bool:
    return isinstance(logged.event, Corrected | Retracted)


@dataclass
class _Index:
    """What the first pass learns: scope, links to agreements, amendments, registries.

    Links (which agreements each occurrence concerns) grow with the log: they are kept
    in the scratch database.
    """

    links: Scratch
    agreements: list[str] = field(default_factory=list)
    #: Amendments of each record, by (namespace, case-folded id).
    amended: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: Sources and actors as the ledger reads them at the report's moment (corrected).
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def scan(
        cls, app: Ledger, head: Checkpoint, when: When, scope: set[str] | None, links: Scratch
    ) -> _Index:
        """One pass over the log. `scope` None means every agreement registered.

        It also checks that the log's leaves hash to the root the report will cite.
        """
        index = cls(links)
        wanted = set(scope or ())
        tree = CompactRange()
        for logged in app.log(upto=head.size, known_at=when.known_at, tree=tree):
            event, record = logged.event, logged.record
            if isinstance(event, SourceRegistered):
                index.sources[record["id"]] = record
            elif isinstance(event, ActorRegistered):
                index.actors[record["id"]] = record
            elif isinstance(event, AgreementRegistered):
                if scope is None:
                    wanted.add(record["id"])
                    index.agreements.append(record["id"])
            elif isinstance(event, Amended):
                key = (event.target_namespace, record["target"].casefold())
                index.amended.setdefault(key, []).append(_amendment_ref(logged))
                if event.target_namespace in ("source", "actor"):
                    index.amend_registry(event)
                    continue
                if event.target_namespace == "agreement" and isinstance(event, Retracted):
                    index.drop_agreement(record["target"], wanted)
                    continue
                # A correction may move an occurrence onto an agreement: count it as linked.
                changed = (record.get("set") or {}) if isinstance(event, Corrected) else {}
                if event.target_namespace == "occurrence":
                    moved = [i for i in agreements_of(changed) if i in wanted]
                    links.link(record["target"], moved)
            elif isinstance(event, Occurred):
                linked: set[str] = set()
                for ident in agreements_of(record):
                    if ident in wanted:
                        linked.add(ident)
                    else:
                        # An answer naming a claim (or a revocation naming its notice)
                        # belongs with the agreements of what it names.
                        linked |= links.links(ident)
                target = record.get("target") if record.get("kind") == "revocation" else None
                if target is not None:
                    linked |= links.links(target)
                links.link(record["id"], linked)
        if tree.size != head.size or tree.root() != head.root:
            raise TamperingDetected(
                f"the log's first {head.size} events do not hash to the tree head's root: "
                "no audit is built on it (run `ledger verify` to find where)"
            )
        return index

    def drop_agreement(self, ident: str, wanted: set[str]) -> None:
        """A retracted agreement has no state to report; its events stay in the ledger's."""
        wanted.discard(ident)
        if ident in self.agreements:
            self.agreements.remove(ident)

    def amend_registry(self, event: Amended) -> None:
        """Apply a correction of a source or actor, so citations and names read as corrected."""
        records = self.sources if event.target_namespace == "source" else self.actors
        target = event.record["target"]
        before = records.get(target)
        if before is None or not isinstance(event, Corrected):
            return  # a retracted source or actor is named by nothing live: keep what it said
        records[target] = corrected(before, event)


def _amendment_ref(logged: LoggedEvent) -> dict[str, Any]:
    record = logged.record
    return {
        "position": logged.entry.position,
        "id": record["id"],
        "kind": record["kind"],
        "reason": record.get("reason"),
    }


class _Builder:
    """The second pass: events, amendments beside what they superseded, current versions."""

    def __init__(self, index: _Index, scope: set[str], *, whole: bool, scratch: Scratch) -> None:
        self.index = index
        self.scope = scope
        self.whole = whole
        #: Events, amendments, and the current version of every occurrence some timeline
        #: shows (by occurrence id), each under the agreements it concerns.
        self.gathered = scratch
        #: The current version of every registry record, by (namespace, case-folded id).
        self.registry: dict[tuple[str, str], dict[str, Any]] = {}
        self.cited: dict[str, None] = {}
        self.mentioned: dict[str, None] = {}

    def add(self, logged: LoggedEvent) -> None:
        record = logged.record
        event = logged.event
        if isinstance(event, AgreementRegistered):
            agreements = {record["id"]} & self.scope
        elif isinstance(event, Amended) and event.target_namespace == "agreement":
            agreements = {record["target"]} & self.scope
        elif isinstance(event, Amended) and event.target_namespace != "occurrence":
            agreements = set()  # sources, actors, posts: the ledger-wide report shows them
        elif isinstance(event, Amended):
            agreements = self.index.links.links(record["target"]) & self.scope
        else:
            agreements = self.index.links.links(record.get("id", "")) & self.scope
        if not (agreements or self.whole):
            return
        position = logged.entry.position
        shown = self._event(logged, sorted(agreements))
        self.gathered.add_event(position, shown, agreements)
        if _is_amendment(logged):
            amendment = self._amend(logged, shown)
            self.gathered.write_back()  # the version it amended, if an occurrence's
            self.gathered.add_amendment(position, amendment, agreements)
        elif isinstance(logged.event, Occurred):
            self.gathered.add_version(self._version(logged))
        else:
            key = (namespace_of(record["kind"]), record["id"].casefold())
            self.registry[key] = {"position": logged.entry.position, "record": record}

    def _event(self, logged: LoggedEvent, agreements: list[str]) -> dict[str, Any]:
        record = logged.record
        self._mention(record)
        return {
            "position": logged.entry.position,
            "recorded_at": logged.entry.recorded_at,
            "recorded_by": logged.event.recorded_by,
            "type": logged.type,
            "kind": record.get("kind"),
            "id": record.get("id"),
            "date": record.get("date"),
            "hash": logged.entry.leaf_hash.hex(),
            "record": record,
            "sources": self.citations(record),
            "agreements": agreements,
            "amended_by": [] if _is_amendment(logged) else self._amended_by(logged),
        }

    def _amended_by(self, logged: LoggedEvent) -> list[dict[str, Any]]:
        """Later corrections and retractions of this record, so the original row says so."""
        record = logged.record
        return self.index.amended.get((namespace_of(record["kind"]), record["id"].casefold()), [])

    def _mention(self, record: Mapping[str, Any]) -> None:
        kind, ident = str(record.get("kind")), str(record.get("id"))
        if kind == "actor":
            self.mentioned[ident] = None
        elif kind == "agreement":
            for party in record.get("parties") or []:
                self.mentioned[party] = None
        elif kind not in ("source", "correction", "retraction"):
            for _role, actor in actors_of(Record(kind=kind, id=ident, data=dict(record))):
                self.mentioned[actor] = None

    def citations(self, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A record's sources resolved: who published it, how reliable, who said what."""
        found = []
        for citation in record.get("sources") or []:
            cited = citation if isinstance(citation, Mapping) else {"source": citation}
            ident = str(cited.get("source"))
            source = self.index.sources.get(ident, {})
            self.cited[ident] = None
            found.append(
                {
                    "source": ident,
                    "title": source.get("title"),
                    "publisher": source.get("publisher"),
                    "published": source.get("published"),
                    "reliability": source.get("reliability"),
                    "attribution": cited.get("attribution"),
                    "quote": cited.get("quote"),
                }
            )
        return found

    def _version(self, logged: LoggedEvent) -> dict[str, Any]:
        event = logged.event
        assert isinstance(event, Occurred)
        return {
            "id": logged.record["id"],
            "kind": logged.record["kind"],
            "position": logged.entry.position,
            "earliest": event.earliest,
            "latest": event.latest,
            "status": "as recorded",
            "record": logged.record,
        }

    def _amend(self, logged: LoggedEvent, event: dict[str, Any]) -> dict[str, Any]:
        """The amendment beside the version it superseded and the version it produced."""
        record = logged.record
        amended = logged.event
        assert isinstance(amended, Amended)
        if amended.target_namespace == "occurrence":
            version = self.gathered.check_out(record["target"])
        else:
            version = self.registry.get((amended.target_namespace, record["target"].casefold()))
        amendment = {
            "position": logged.entry.position,
            "recorded_at": logged.entry.recorded_at,
            "recorded_by": logged.event.recorded_by,
            "id": record["id"],
            "kind": record["kind"],
            "date": record.get("date"),
            "target": record["target"],
            "target_kind": version["record"]["kind"] if version else None,
            "reason": record.get("reason"),
            "set": record.get("set"),
            "sources": event["sources"],
            "superseded": None,
            "result": None,
        }
        if version is None:  # the write side only admits amendments of known records
            return amendment
        before = version["record"]
        amendment["superseded"] = {"position": version["position"], "record": before}
        if isinstance(logged.event, Retracted):
            version["status"] = "retracted"
            return amendment
        assert isinstance(amended, Corrected)
        after = corrected(before, amended)
        amendment["result"] = after
        if amended.target_namespace != "occurrence":
            version["record"] = after
            self._mention(after)
            return amendment
        earliest, latest = parse_date(after["date"]).iso_bounds
        version.update(record=after, earliest=earliest, latest=latest)
        if version["status"] != "retracted":
            version["status"] = "corrected"
        self._mention(after)
        return amendment

    def section(
        self, state: dict[str, Any], endorsements: list[dict[str, Any]], as_of: date
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        """What one agreement's section says besides its lists: its state (the `agreement
        ID --json` answer), its endorsements with their sources, and its contested claims.

        Made for every agreement before anything is written: the actors they mention
        are named from the report's first line on.
        """
        ident = state["id"]
        for participant in state.get("participants", []):
            for successor in participant.get("successors") or []:
                self.mentioned[str(successor)] = None
        for endorsement in endorsements:
            version = self.gathered.version(endorsement["occurrence"])
            endorsement["citations"] = self.citations(version["record"]) if version else []
            self.mentioned[str(endorsement["actor"])] = None
        claims = [self._claim(v) for v in self.gathered.versions(ident) if _stated(v, as_of)]
        return state, endorsements, contested_claims(ident, claims)

    def with_evidence(
        self, section: tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]
    ) -> dict[str, Any]:
        """One agreement: its section plus the evidence behind it, read as it is written."""
        state, endorsements, contested = section
        ident = state["id"]
        return {
            **state,
            "endorsements": endorsements,
            "events": self.gathered.events(ident),
            "amendments": self.gathered.amendments(ident),
            "timeline": timeline(self.gathered.versions(ident, timeline=True)),
            "contested": contested,
        }

    def _claim(self, version: dict[str, Any]) -> dict[str, Any]:
        record = version["record"]
        actor = str(record.get("by"))
        return {
            "id": record["id"],
            "position": version["position"],
            "date": record["date"],
            "earliest": version["earliest"],
            "latest": version["latest"],
            "about": list(record.get("about") or []),
            "actor": actor,
            "actor_name": self.index.actors.get(actor, {}).get("name"),
            "stance": record.get("stance"),
            "summary": record.get("summary"),
            "quote": record.get("quote"),
            "status": version["status"],
            "sources": self.citations(record),
        }

    def cited_sources(self) -> list[dict[str, Any]]:
        return [self.index.sources[i] for i in self.cited if i in self.index.sources]

    def named_actors(self) -> dict[str, str]:
        """Display names of the actors the report mentions, so readers need no lookup."""
        names = {}
        for ident in self.mentioned:
            actor = self.index.actors.get(ident)
            if actor is not None:
                names[ident] = actor["name"]
        return names


def timeline(versions: Rows) -> Rows:
    """Occurrences as the ledger now reads them, in the order of `versions` (the scratch
    database reads them oldest first: earliest day, then position)."""
    return mapped(versions, _timeline_row)


def _timeline_row(version: dict[str, Any]) -> dict[str, Any]:
    record = version["record"]
    return {
        **timeline_row(
            version["id"],
            version["kind"],
            record["date"],
            version["earliest"],
            version["latest"],
            record,
        ),
        "position": version["position"],
        "status": version["status"],
    }


def _stated(version: dict[str, Any], as_of: date) -> bool:
    """A current (not retracted) statement that had at least possibly been made by `as_of`."""
    return (
        version["kind"] == "statement"
        and version["status"] != "retracted"
        and (version["earliest"] is None or version["earliest"] <= as_of.isoformat())
    )
