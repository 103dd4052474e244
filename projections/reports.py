"""Audit reports: what the ledger says about an agreement, and the evidence for each claim.

An audit report exists so that a reader who does not trust us can check us. So it does
not summarise the read models and stop: it lists every underlying event with its log
position, record time, author and leaf hash, cites its sources with attribution, quote
and reliability, shows each correction or retraction beside what it superseded, and
flags statements that contradict each other instead of picking a winner. It is built on
one checkpoint, taken *before* anything else is read, and includes nothing recorded
after it, so the size and root in its footer commit to exactly the events it shows and
`ledger verify --checkpoint` / `ledger prove` can check them.

`build_report` returns plain JSON-serializable data (what `ledger audit --format json`
prints); `render` turns that data into Markdown, one standalone HTML file (inline CSS and
an inline SVG timeline, no network) or JSON. Keeping the data and its presentation apart
means the three formats can never disagree about the facts.

The log is read twice, streaming: a first pass learns which occurrences concern the
agreements in scope and which were amended (small sets), the second emits the events.
Only the report itself and those small indexes are ever held in memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ledger.aggregates import namespace_of
from ledger.application import LoggedEvent
from ledger.checkpoints import Checkpoint
from ledger.dates import format_timestamp, parse_date
from ledger.display import json_text, visible
from ledger.errors import LedgerError, TamperingDetected
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
from projections.queries import Queries, When
from projections.versions import corrected

if TYPE_CHECKING:
    from ledger.application import Ledger

FORMATS = ("md", "html", "json")
TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Stances that answer another statement's account of an agreement rather than take sides.
CORRECTIVE = frozenset({"clarify", "deny"})
POSITIVE = frozenset({"support", "reaffirm"})
NEGATIVE = frozenset({"oppose", "condemn"})
#: FORMAT.md, "Contested claims": an answering stance, against an earlier claim of these.
ANSWERING = CORRECTIVE | NEGATIVE
ANSWERABLE = POSITIVE | {"neutral"}
#: How soon an answer on the same subject must follow the claim to answer it.
CONTEST_WINDOW = timedelta(days=30)


class ReportError(LedgerError, ValueError):
    """A report was asked for in a format the ledger does not write."""


# --- building ------------------------------------------------------------------------


def build_report(
    app: Ledger, agreement_id: str | None = None, when: When | None = None
) -> dict[str, Any]:
    """The audit report of one agreement (or, without an id, of the whole ledger).

    The checkpoint is taken first and record time is pinned to it, so the read-model
    answers (state, endorsements) and the event list describe the same prefix of the
    log, the one the cited root commits to. Raises `NotFound` for an unknown agreement.
    """
    head = checkpoint(app)
    when = when or When()
    if head.timestamp and (when.known_at is None or when.known_at > head.timestamp):
        when = replace(when, known_at=head.timestamp)
    queries = Queries(app.url, catch_up=partial(catch_up, app))
    states: dict[str, dict[str, Any]] = {}
    if agreement_id is not None:
        state = queries.agreement(agreement_id, when)
        states[state["id"]] = state
    index = _Index.scan(app, head, when, set(states) if states else None)
    for ident in index.agreements:
        if ident not in states:
            states[ident] = queries.agreement(ident, when)
    builder = _Builder(index, set(states), whole=agreement_id is None)
    for logged in _log(app, head.size, when):
        builder.add(logged)
    sections = []
    for ident, state in states.items():
        endorsements = queries.endorsements(ident, when)
        sections.append(builder.section(state, endorsements, when.as_of))
    report: dict[str, Any] = {
        "generated_at": format_timestamp(datetime.now(UTC)),
        "checkpoint": head.to_json(),
        "scope": "ledger" if agreement_id is None else next(iter(states)),
        "as_of": when.as_of.isoformat(),
        "known_at": when.known_at,
        "agreements": sections,
        "sources": builder.cited_sources(),
        "actors": builder.named_actors(),
    }
    if agreement_id is None:
        report["events"] = builder.events
        report["amendments"] = builder.amendments
        report["timeline"] = builder.timeline(builder.versions.values())
    return report


def _log(
    app: Ledger, size: int, when: When, tree: CompactRange | None = None
) -> Iterator[LoggedEvent]:
    """The log up to the checkpoint, as known at `when.known_at`, one page at a time.

    Like `Ledger.log`, but bounded by the checkpoint's size, so no event recorded after
    the checkpoint is ever read. Every row is rehashed and refused if it no longer
    matches its leaf; given `tree`, every leaf (shown or not) is appended to it, so the
    caller can check that they hash to the root the report cites.
    """
    for entry in app.recorder.iter_log(upto=size):
        entry.vouched()
        if tree is not None:
            tree.append(entry.leaf_hash)
        if when.known_at is not None and entry.recorded_at > when.known_at:
            continue
        yield LoggedEvent(entry, app.decode(entry.stream, entry.version, entry.topic, entry.state))


def _is_amendment(logged: LoggedEvent) -> bool:
    return isinstance(logged.event, Corrected | Retracted)


@dataclass
class _Index:
    """What the first pass learns: scope, links to agreements, amendments, registries."""

    agreements: list[str] = field(default_factory=list)
    links: dict[str, set[str]] = field(default_factory=dict)
    #: Amendments of each record, by (namespace, case-folded id).
    amended: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: Sources and actors as the ledger reads them at the report's moment (corrected).
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def scan(cls, app: Ledger, head: Checkpoint, when: When, scope: set[str] | None) -> _Index:
        """One pass over the log. `scope` None means every agreement registered.

        It also checks that the log's leaves hash to the root the report will cite.
        """
        index = cls()
        wanted = set(scope or ())
        tree = CompactRange()
        for logged in _log(app, head.size, when, tree):
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
                for ident in agreements_of(changed):
                    if ident in wanted and event.target_namespace == "occurrence":
                        index.links.setdefault(record["target"], set()).add(ident)
            elif isinstance(event, Occurred):
                for ident in agreements_of(record):
                    if ident in wanted:
                        index.links.setdefault(record["id"], set()).add(ident)
                    # An answer naming a claim (or a revocation naming its notice) belongs
                    # with the agreements of what it names.
                    elif ident in index.links:
                        index.links.setdefault(record["id"], set()).update(index.links[ident])
                target = record.get("target") if record.get("kind") == "revocation" else None
                if target in index.links:
                    index.links.setdefault(record["id"], set()).update(index.links[target])
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

    def __init__(self, index: _Index, scope: set[str], *, whole: bool) -> None:
        self.index = index
        self.scope = scope
        self.whole = whole
        self.events: list[dict[str, Any]] = []
        self.amendments: list[dict[str, Any]] = []
        self.by_agreement: dict[str, dict[str, list[dict[str, Any]]]] = {
            ident: {"events": [], "amendments": [], "versions": []} for ident in scope
        }
        #: The current version of every occurrence some timeline shows, by occurrence id.
        self.versions: dict[str, dict[str, Any]] = {}
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
            agreements = self.index.links.get(record["target"], set()) & self.scope
        else:
            agreements = self.index.links.get(record.get("id", ""), set()) & self.scope
        if not (agreements or self.whole):
            return
        shown = self._event(logged, sorted(agreements))
        if self.whole:
            self.events.append(shown)
        for ident in agreements:
            self.by_agreement[ident]["events"].append(shown)
        if _is_amendment(logged):
            amendment = self._amend(logged, shown)
            if self.whole:
                self.amendments.append(amendment)
            for ident in agreements:
                self.by_agreement[ident]["amendments"].append(amendment)
        elif isinstance(logged.event, Occurred):
            version = self._version(logged)
            self.versions[record["id"]] = version
            for ident in agreements:
                self.by_agreement[ident]["versions"].append(version)
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
            version = self.versions.get(record["target"])
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
        span = parse_date(after["date"])
        version.update(
            record=after,
            earliest=span.earliest.isoformat() if span.earliest else None,
            latest=span.latest.isoformat() if span.latest else None,
        )
        if version["status"] != "retracted":
            version["status"] = "corrected"
        self._mention(after)
        return amendment

    def section(
        self, state: dict[str, Any], endorsements: list[dict[str, Any]], as_of: date
    ) -> dict[str, Any]:
        """One agreement: the `agreement ID --json` answer plus the evidence behind it."""
        gathered = self.by_agreement[state["id"]]
        for participant in state.get("participants", []):
            for successor in participant.get("successors") or []:
                self.mentioned[str(successor)] = None
        for endorsement in endorsements:
            version = self.versions.get(endorsement["occurrence"])
            endorsement["citations"] = self.citations(version["record"]) if version else []
            self.mentioned[str(endorsement["actor"])] = None
        return {
            **state,
            "endorsements": endorsements,
            "events": gathered["events"],
            "amendments": gathered["amendments"],
            "timeline": self.timeline(gathered["versions"]),
            "contested": contested_claims(
                state["id"], [self._claim(v) for v in gathered["versions"] if _stated(v, as_of)]
            ),
        }

    def timeline(self, versions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Occurrences as the ledger now reads them, oldest first (earliest day, position)."""
        rows = [
            {
                "id": v["id"],
                "kind": v["kind"],
                "date": v["record"]["date"],
                "earliest": v["earliest"],
                "latest": v["latest"],
                "summary": v["record"].get("summary"),
                "position": v["position"],
                "status": v["status"],
            }
            for v in versions
        ]
        return sorted(rows, key=lambda r: (r["earliest"] or "", r["position"]))

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


def _stated(version: dict[str, Any], as_of: date) -> bool:
    """A current (not retracted) statement that had at least possibly been made by `as_of`."""
    return (
        version["kind"] == "statement"
        and version["status"] != "retracted"
        and (version["earliest"] is None or version["earliest"] <= as_of.isoformat())
    )


# --- contested claims -----------------------------------------------------------------


def conflict(first: str, second: str) -> str | None:
    """Why two stances about one agreement disagree, or None when they do not.

    A clarification or denial answers some other account of the agreement (the media's
    "new agreement" against an official "it is the 2023 pact"), so it conflicts with any
    stance that is not itself corrective; support and opposition conflict plainly.
    """
    pair = {first, second}
    if len(pair) < 2:
        return None
    if pair & POSITIVE and pair & NEGATIVE:
        return "stance"
    if len(pair & CORRECTIVE) == 1:
        return "characterisation"
    return None


def _order(statement: Mapping[str, Any]) -> tuple[str, int]:
    return (statement.get("earliest") or "", int(statement.get("position") or 0))


def _soon_after(claim: Mapping[str, Any], answer: Mapping[str, Any]) -> bool:
    """Whether the answer may have come within 30 days of the claim (both days known)."""
    if not claim.get("latest") or not answer.get("earliest"):
        return False
    gap = date.fromisoformat(answer["earliest"]) - date.fromisoformat(claim["latest"])
    return gap <= CONTEST_WINDOW


def answer_to(claim: Mapping[str, Any], answer: Mapping[str, Any]) -> str | None:
    """How a statement answers an earlier claim (FORMAT.md, "Contested claims"), or None.

    It answers when another actor, later, names the claim's occurrence in `about`, or
    speaks about the same agreement or actor within 30 days with an answering stance
    (deny, clarify, oppose, condemn) against a support, reaffirmation or neutral report.
    Statements months apart that merely differ are not a contest.
    """
    if answer["actor"] == claim["actor"] or _order(answer) <= _order(claim):
        return None
    stances = (str(claim.get("stance")), str(answer.get("stance")))
    if claim["id"] in (answer.get("about") or []):
        return conflict(*stances) or "reference"
    if stances[0] not in ANSWERABLE or stances[1] not in ANSWERING:
        return None
    if not set(claim.get("about") or []) & set(answer.get("about") or []):
        return None
    if not _soon_after(claim, answer):
        return None
    return "stance" if stances[1] in NEGATIVE and stances[0] in POSITIVE else "characterisation"


def contested_claims(agreement: str, claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each claim about one agreement that a later statement answers, with its answers.

    One contest per claim and answering stance: the claim on one side, every answer in
    that stance on the other, so a reader sees who said what and who answered it.
    """
    ordered = sorted(claims, key=_order)
    found = []
    for i, claim in enumerate(ordered):
        sides: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for answer in ordered[i + 1 :]:
            why = answer_to(claim, answer)
            if why is not None:
                stance = str(answer.get("stance"))
                sides.setdefault(stance, (why, []))[1].append(answer)
        for stance, (why, answers) in sides.items():
            found.append(
                {
                    "agreement": agreement,
                    "conflict": why,
                    "claim": claim["id"],
                    "stances": [str(claim.get("stance")), stance],
                    "sides": [
                        {"stance": str(claim.get("stance")), "statements": [claim]},
                        {"stance": stance, "statements": answers},
                    ],
                }
            )
    return found


# --- rendering ------------------------------------------------------------------------


def render(report: dict[str, Any], fmt: str) -> str:
    """The report as Markdown, one standalone HTML file, or JSON (the data as built)."""
    if fmt == "json":
        return json_text(report, indent=2) + "\n"
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")
    env = _environment(html=fmt == "html")
    template = env.get_template(f"report.{fmt}.j2")
    checkpoint_json = json.dumps(report["checkpoint"], ensure_ascii=False)
    return template.render(report=report, checkpoint_json=checkpoint_json, layout=timeline_layout)


def _environment(*, html: bool) -> Environment:
    """HTML autoescapes everything (record text is never markup); Markdown escapes cells."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_shown,
    )
    env.filters["md"] = md_cell
    env.filters["code"] = md_code
    env.filters["jsonline"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    return env


#: Characters that mean something in Markdown inline text, each escaped with a backslash
#: (`&`, `<`, `>` become entities, so HTML in record text stays text too).
_MD_ESCAPES = {c: "\\" + c for c in "\\`*_[]#!|~"} | {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
}
_MD_TABLE = str.maketrans(_MD_ESCAPES)


def _one_line(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return visible(" ".join(text.split()))


def _shown(value: Any) -> Any:
    """Every value a template prints: control characters shown as escapes, never raw.
    Markup (a macro's output, already built from shown values) is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value, keep_lines=True)
    return value


def md_cell(value: Any) -> str:
    """Record text shown as text in Markdown: inside a table cell, no link, image, emphasis
    or HTML of its own, and no terminal control sequence if the file is printed."""
    if value is None:
        return ""
    return _one_line(value).translate(_MD_TABLE)


def md_code(value: Any) -> str:
    """A Markdown code span holding `value` exactly: fenced with one backquote more than the
    longest run in it, so a backquote in the value cannot close it (``a`b`` → ````a`b````)."""
    if value is None:
        return ""
    text = _one_line(value).replace("|", "\\|")  # a table splits on | even in code spans
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# --- the SVG timeline -------------------------------------------------------------------

MAX_MARKS = 300
"""Rows drawn at most: past that a picture stops being readable; the tables list them all."""

_KIND_CLASSES = {
    "signing": "endorse",
    "approval": "endorse",
    "ratification": "endorse",
    "entry_into_force": "endorse",
    "implementation": "endorse",
    "withdrawal": "negative",
    "termination": "negative",
    "suspension": "negative",
    "revocation": "endorse",
    "threat": "negative",
    "accusation": "negative",
    "statement": "statement",
    "proposal": "statement",
    "visit": "contact",
    "meeting": "contact",
}


def timeline_layout(rows: list[dict[str, Any]], width: int = 1100) -> dict[str, Any] | None:
    """Coordinates for the HTML timeline: one row per occurrence on one date axis.

    A date known to the day is a dot; a range (``[2025-08-11..2025-08-13]``, ``2025-08``)
    is a bar from its earliest to its latest day, so uncertainty is drawn, not hidden; an
    open end runs to the edge of the axis. Computed here, drawn by the template, so that
    every label reaches the SVG through autoescaping. None when nothing has a known day.
    """
    shown = rows[:MAX_MARKS]
    days = [date.fromisoformat(day) for r in shown for day in (r["earliest"], r["latest"]) if day]
    if not days:
        return None
    lo, hi = min(days), max(days)
    pad = timedelta(days=max(10, (hi - lo).days // 30))
    # A margin either side, but never past year 1 or 9999 (`0050` is a valid date).
    start = lo - pad if lo - date.min > pad else date.min
    end = hi + pad if date.max - hi > pad else date.max
    span = (end - start).days
    left, right, top, row = 330.0, width - 20.0, 34.0, 22.0

    def x(day: date) -> float:
        return round(left + (day - start).days / span * (right - left), 1)

    marks = []
    for i, r in enumerate(shown):
        earliest = date.fromisoformat(r["earliest"]) if r["earliest"] else None
        latest = date.fromisoformat(r["latest"]) if r["latest"] else None
        x1 = x(earliest) if earliest else left
        x2 = x(latest) if latest else right
        label = r["id"] if len(r["id"]) <= 44 else r["id"][:43] + "…"
        marks.append(
            {
                "y": top + i * row + row / 2,
                "x1": x1,
                "x2": max(x2, x1 + 3),
                "point": earliest is not None and earliest == latest,
                "open_start": earliest is None,
                "open_end": latest is None,
                "label": label,
                "title": f"{r['date']} · {r['kind']} · {r['id']}: {r.get('summary') or ''}",
                "cls": _KIND_CLASSES.get(r["kind"], "other"),
                "status": r["status"].replace(" ", "-"),
            }
        )
    height = top + len(shown) * row + 16
    ticks = [{"x": x(day), "label": text} for day, text in _ticks(start, end)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": right,
        "top": top,
        "bottom": height - 10,
        "ticks": ticks,
        "marks": marks,
        "omitted": len(rows) - len(shown),
    }


def _ticks(start: date, end: date) -> list[tuple[date, str]]:
    """About ten axis ticks on calendar boundaries: years, months or days by the span."""
    span = (end - start).days
    if span > 3 * 365:
        step = max(1, (end.year - start.year) // 10)
        return [(date(y, 1, 1), str(y)) for y in range(start.year + 1, end.year + 1, step)]
    if span > 90:
        months = (end.year - start.year) * 12 + end.month - start.month
        step = max(1, months // 10)
        found = []
        for m in range(1, months + 1, step):
            y, mo = divmod(start.month - 1 + m, 12)
            found.append((date(start.year + y, mo + 1, 1), f"{start.year + y}-{mo + 1:02d}"))
        return found
    step = max(1, span // 10)
    return [
        (start + timedelta(days=d), (start + timedelta(days=d)).isoformat())
        for d in range(step, span, step)
    ]
