"""What an agreement's state is on a given day, read from the facts the ledger holds.

The read models, the CLI (`agreement ID --json`, `endorsements ID --json`) and the tests
must all read the same facts the same way, and that reading is where subtle mistakes
live: dates known only to a range, withdrawals that take effect a year after notice,
states that leave and rejoin. So it lives here once, as pure functions over plain
dicts and dates, with no storage, no I/O and no clock: the caller says which day
(`as_of`) it wants, and the same facts always give the same answer.

Uncertain dates are never guessed at. Every answer is computed twice: a *reported*
reading, in which whatever possibly happened by `as_of` is taken to have happened,
and a *certain* reading, in which only what certainly happened counts. The reported
reading is what we show; the two disagreeing is exactly what `status_certain: false`
tells the user.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeAlias

from ledger.dates import parse_date

Bounds: TypeAlias = tuple[date | None, date | None]
"""Earliest and latest possible day of an EDTF date; None is an open end."""

DateBounds: TypeAlias = Callable[[str], Bounds]
"""Turns an EDTF string into its bounds; injectable so callers and tests control parsing."""

AgreementTest: TypeAlias = Callable[[str], bool] | Collection[str]
"""Tells agreement ids from actor ids in a statement's `about`, which mixes both."""


# --- when ----------------------------------------------------------------------------


class Happened(enum.Enum):
    """Whether an occurrence had happened by a day: FORMAT.md's three answers."""

    YES = "yes"
    POSSIBLY = "possibly"
    NO = "no"


def happened(earliest: date | None, latest: date | None, as_of: date) -> Happened:
    """Answer "had it happened by `as_of`?" without guessing inside a date's range.

    An open latest end can never give YES: "on or after X" might still be in the future.
    An open earliest end can never give NO for the same reason.
    """
    if latest is not None and latest <= as_of:
        return Happened.YES
    if earliest is not None and earliest > as_of:
        return Happened.NO
    return Happened.POSSIBLY


def _as_day(value: date | str | None) -> date | None:
    """Accept the ISO strings the event log stores as well as dates, so callers need not."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def edtf_bounds(value: str) -> Bounds:
    """Bounds of a second date in a record, by the ledger's one EDTF parser.

    Occurrence dates arrive already bounded (the event log stores their days); only
    withdrawal `effective` and suspension `until` are parsed on read, and they must be
    read exactly as the write side reads dates, hence no parser of our own.
    """
    span = parse_date(str(value))
    return _as_day(span.earliest), _as_day(span.latest)


# --- facts ---------------------------------------------------------------------------


def source_ids(sources: Sequence[Any] | None) -> tuple[str, ...]:
    """Source ids of a record's `sources`, where analysts may give bare ids or objects."""
    ids: list[str] = []
    for entry in sources or ():
        ident = entry.get("source") if isinstance(entry, Mapping) else entry
        if ident is not None:
            ids.append(str(ident))
    return tuple(ids)


@dataclass(frozen=True)
class Fact:
    """One occurrence as the read side knows it, corrections already applied.

    `position` is where it was first recorded in the log, so a correction does not move
    it in the order of recording, which FORMAT.md uses to break ties between same-day
    occurrences. `record` is excluded from hashing because dicts cannot be hashed.
    """

    occurrence: str
    kind: str
    record: dict[str, Any] = field(hash=False)
    date: str
    earliest: date | None
    latest: date | None
    position: int
    sources: tuple[str, ...] = ()

    @property
    def sort_key(self) -> tuple[date, int]:
        """FORMAT.md: "Sorting uses the earliest day, then the order of recording".

        An open earliest end sorts first: "on or before X" may be the oldest of all.
        """
        return (self.earliest or date.min, self.position)

    @classmethod
    def from_record(
        cls,
        record: Mapping[str, Any],
        *,
        position: int,
        earliest: date | str | None,
        latest: date | str | None,
    ) -> Fact:
        """Build from a normalized record and the bounds stored with its event.

        Bounds are passed in rather than parsed because the event log already carries
        them, and re-parsing EDTF on every read would be both slower and a second
        opinion that could disagree with the first.
        """
        return cls(
            occurrence=str(record["id"]),
            kind=str(record["kind"]),
            record=dict(record),
            date=str(record["date"]),
            earliest=_as_day(earliest),
            latest=_as_day(latest),
            position=position,
            sources=source_ids(record.get("sources")),
        )


def _sort_key(fact: Fact) -> tuple[date, int]:
    return fact.sort_key


def secondary_bounds(fact: Fact, key: str, bounds: DateBounds = edtf_bounds) -> Bounds | None:
    """Bounds of a second date inside a record (withdrawal `effective`, suspension `until`).

    These are not stored with the event, so they are parsed on read. None when the
    record leaves the field out, so each caller decides what absence means.
    """
    value = fact.record.get(key)
    if value is None:
        return None
    return bounds(str(value))


def effective_bounds(fact: Fact, bounds: DateBounds = edtf_bounds) -> Bounds:
    """When a withdrawal takes effect: its `effective`, else (FORMAT.md) its own date."""
    found = secondary_bounds(fact, "effective", bounds)
    return found if found is not None else (fact.earliest, fact.latest)


# --- endorsements --------------------------------------------------------------------


@dataclass(frozen=True)
class EndorsementAct:
    """One act of endorsing (or rejecting) an agreement, derived from an occurrence.

    FORMAT.md makes endorsements derived, never entered, so that "who endorsed what" can
    never drift from the occurrences it summarizes.
    """

    agreement: str
    actor: str | None
    act: str
    on_behalf_of: str | None
    method: str | None


_STANCE_ACTS: dict[str, str] = {
    "reaffirm": "reaffirmed",
    "support": "supported",
    "oppose": "opposed",
    "condemn": "opposed",
    "deny": "denied",
}
"""Stances that take a position on an agreement; clarify and neutral do not endorse."""


def _agreement_test(is_agreement: AgreementTest) -> Callable[[str], bool]:
    if callable(is_agreement):
        return is_agreement
    known = is_agreement
    return lambda ident: ident in known


def endorsement_acts(
    record: Mapping[str, Any], is_agreement: AgreementTest
) -> list[EndorsementAct]:
    """The endorsement acts one occurrence amounts to, in the order the record lists them.

    `is_agreement` is needed because a statement's `about` mixes agreements and actors
    and only the registry knows which is which; a statement about a state is not an
    endorsement of it. Kinds that endorse nothing give an empty list.
    """
    kind = record.get("kind")
    if kind == "approval":
        return [
            EndorsementAct(
                record["agreement"], record.get("by"), "approved", record.get("on_behalf_of"), None
            )
        ]
    if kind == "signing":
        agreement = record["agreement"]
        acts = [
            EndorsementAct(agreement, s.get("actor"), "signed", s.get("on_behalf_of"), None)
            for s in record.get("signatories") or []
        ]
        acts += [
            EndorsementAct(agreement, actor, "oversaw", None, None)
            for actor in record.get("overseen_by") or []
        ]
        return acts
    if kind == "ratification":
        method = record.get("method") or "ratification"
        return [EndorsementAct(record["agreement"], record.get("by"), "ratified", None, method)]
    if kind == "withdrawal":
        return [EndorsementAct(record["agreement"], record.get("by"), "withdrew", None, None)]
    if kind == "termination":
        return [EndorsementAct(record["agreement"], record.get("by"), "terminated", None, None)]
    if kind == "statement":
        act = _STANCE_ACTS.get(str(record.get("stance")))
        if act is None:
            return []
        test = _agreement_test(is_agreement)
        targets: list[str] = []
        for ident in record.get("about") or []:
            if test(ident) and ident not in targets:
                targets.append(ident)
        return [EndorsementAct(t, record.get("by"), act, None, None) for t in targets]
    return []


def endorsements(
    facts: Sequence[Fact],
    agreement_id: str,
    as_of: date,
    is_agreement: AgreementTest | None = None,
) -> list[dict[str, Any]]:
    """Who endorsed `agreement_id` and when, oldest first, as `endorsements ID --json`.

    Acts that only possibly happened by `as_of` are listed with `certain: false` rather
    than dropped, so a user sees everything that may have happened. Without
    `is_agreement`, only `agreement_id` itself is taken for an agreement, which is all
    that filtering to this one agreement needs. `method` is an extra key (ratifications).
    """
    test = _agreement_test(is_agreement if is_agreement is not None else {agreement_id})
    rows: list[dict[str, Any]] = []
    for fact in sorted(facts, key=_sort_key):
        when = happened(fact.earliest, fact.latest, as_of)
        if when is Happened.NO:
            continue
        for act in endorsement_acts(fact.record, test):
            if act.agreement != agreement_id:
                continue
            rows.append(
                {
                    "date": fact.date,
                    "actor": act.actor,
                    "act": act.act,
                    "on_behalf_of": act.on_behalf_of,
                    "method": act.method,
                    "occurrence": fact.occurrence,
                    "sources": list(fact.sources),
                    "certain": when is Happened.YES,
                }
            )
    return rows


# --- agreement state -----------------------------------------------------------------

_LADDER = ("registered", "proposed", "approved", "signed", "in_force")
_RANK_OF_KIND = {
    "proposal": 1,
    "approval": 2,
    "signing": 3,
    "ratification": 3,
    "entry_into_force": 4,
}
_STATE_KINDS = frozenset(_RANK_OF_KIND) | {"withdrawal", "suspension", "termination"}


@dataclass(frozen=True)
class _Reading:
    """How one reading treats uncertainty.

    `counts`: which answers make an occurrence (or a withdrawal's effect) count as
    happened. `ends`: which answers make a suspension's `until` count as passed. The
    reported reading leans towards change having happened but keeps a suspension on
    until it has certainly ended (a suspension is shown until it is certainly over);
    the certain reading is the opposite on both, so any uncertainty that matters makes
    the two disagree.
    """

    counts: frozenset[Happened]
    ends: frozenset[Happened]


_REPORTED = _Reading(
    counts=frozenset({Happened.YES, Happened.POSSIBLY}), ends=frozenset({Happened.YES})
)
_CERTAIN = _Reading(
    counts=frozenset({Happened.YES}), ends=frozenset({Happened.YES, Happened.POSSIBLY})
)


@dataclass
class _Track:
    """Everything one participant did, in sorted order, within one reading."""

    actor: str
    signings: list[Fact] = field(default_factory=list)
    consents: list[Fact] = field(default_factory=list)
    withdrawals: list[Fact] = field(default_factory=list)
    entries: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class _Projection:
    status: str
    signings: tuple[Fact, ...]
    participants: tuple[dict[str, Any], ...]


def _concerns(record: Mapping[str, Any], agreement_id: str) -> bool:
    """Guard against callers passing more than this agreement's facts."""
    if record.get("agreement") == agreement_id:
        return True
    return agreement_id in (record.get("about") or [])


def _withdrawal_json(fact: Fact | None) -> dict[str, str] | None:
    if fact is None:
        return None
    return {"date": fact.date, "effective": str(fact.record.get("effective") or fact.date)}


def _participant(
    track: _Track,
    general_entries: Sequence[Fact],
    anyone_consented: bool,
    as_of: date,
    reading: _Reading,
    bounds: DateBounds,
) -> dict[str, Any]:
    """One row of the UN-Treaty-Collection-style table, from what this participant did.

    The participant's current membership begins with its latest joining act (its
    latest consent, else its latest signing). A withdrawal before that act belongs to
    an earlier membership and is reported as `previous_withdrawal`; the first
    withdrawal after it is the live one. `in_force` only looks at entries into force
    after the previous withdrawal, so a rejoining state is not shown as bound since
    the date it was bound the first time.
    """
    consent = track.consents[-1] if track.consents else None
    joined = consent or (track.signings[-1] if track.signings else None)
    live = [w for w in track.withdrawals if joined is None or w.sort_key > joined.sort_key]
    earlier = [w for w in track.withdrawals if joined is not None and w.sort_key < joined.sort_key]
    withdrawal = live[0] if live else None
    previous = earlier[-1] if earlier else None

    def current(fact: Fact) -> bool:
        return previous is None or fact.sort_key > previous.sort_key

    in_force: str | None = None
    specific = [e for e in track.entries if current(e)]
    general = [e for e in general_entries if current(e)]
    if specific:
        in_force = specific[0].date
    elif general and (consent is not None or not anyone_consented):
        in_force = general[0].date

    if withdrawal is not None:
        effect = happened(*effective_bounds(withdrawal, bounds), as_of)
        status = "withdrawn" if effect in reading.counts else "withdrawing"
    elif consent is not None or not track.signings:
        status = "party"
    else:
        status = "signatory"

    return {
        "actor": track.actor,
        "status": status,
        "signed": track.signings[0].date if track.signings else None,
        "consent": (
            None
            if consent is None
            else {"method": consent.record.get("method") or "ratification", "date": consent.date}
        ),
        "in_force": in_force,
        "withdrawal": _withdrawal_json(withdrawal),
        "previous_withdrawal": _withdrawal_json(previous),
    }


def _suspension_over(fact: Fact, as_of: date, reading: _Reading, bounds: DateBounds) -> bool:
    until = secondary_bounds(fact, "until", bounds)
    if until is None:
        return False
    return happened(*until, as_of) in reading.ends


def _project(
    parties: Sequence[str],
    facts: Sequence[Fact],
    as_of: date,
    reading: _Reading,
    bounds: DateBounds,
) -> _Projection:
    """Status, signings and participants under one reading; `facts` are sorted."""
    tracks: dict[str, _Track] = {p: _Track(p) for p in parties}

    def track(actor: str) -> _Track:
        return tracks.setdefault(actor, _Track(actor))

    rank = 0
    suspended = terminated = False
    signings: list[Fact] = []
    general_entries: list[Fact] = []
    for fact in facts:
        if happened(fact.earliest, fact.latest, as_of) not in reading.counts:
            continue
        record = fact.record
        rank = max(rank, _RANK_OF_KIND.get(fact.kind, 0))
        if fact.kind == "signing":
            signings.append(fact)
            for signatory in record.get("signatories") or []:
                participant = track(signatory.get("on_behalf_of") or signatory["actor"])
                if not participant.signings or participant.signings[-1] is not fact:
                    participant.signings.append(fact)
        elif fact.kind == "ratification":
            track(record["by"]).consents.append(fact)
        elif fact.kind == "entry_into_force":
            if record.get("for"):
                for actor in record["for"]:
                    track(actor).entries.append(fact)
            else:
                general_entries.append(fact)
        elif fact.kind == "withdrawal":
            track(record["by"]).withdrawals.append(fact)
        elif fact.kind == "suspension":
            suspended = suspended or not _suspension_over(fact, as_of, reading, bounds)
        elif fact.kind == "termination":
            terminated = True

    anyone_consented = any(t.consents for t in tracks.values())
    participants = tuple(
        _participant(t, general_entries, anyone_consented, as_of, reading, bounds)
        for t in tracks.values()
    )
    if terminated:
        status = "terminated"
    elif suspended:
        status = "suspended"
    else:
        status = _LADDER[rank]
    return _Projection(status, tuple(signings), participants)


def _signing_json(fact: Fact, as_of: date) -> dict[str, Any]:
    record = fact.record
    return {
        "occurrence": fact.occurrence,
        "date": fact.date,
        "place": record.get("place"),
        "signatories": [
            {"actor": s.get("actor"), "on_behalf_of": s.get("on_behalf_of")}
            for s in record.get("signatories") or []
        ],
        "overseen_by": list(record.get("overseen_by") or []),
        "certain": happened(fact.earliest, fact.latest, as_of) is Happened.YES,
    }


def _uncertain(facts: Sequence[Fact], as_of: date, bounds: DateBounds) -> list[str]:
    """Ids of state-changing occurrences whose date, or second date, straddles `as_of`."""
    found: list[str] = []
    for fact in facts:
        when = happened(fact.earliest, fact.latest, as_of)
        if fact.kind not in _STATE_KINDS or when is Happened.NO:
            continue
        second: Bounds | None = None
        if fact.kind == "withdrawal":
            second = effective_bounds(fact, bounds)
        elif fact.kind == "suspension":
            second = secondary_bounds(fact, "until", bounds)
        second_unsure = second is not None and happened(*second, as_of) is Happened.POSSIBLY
        if when is Happened.POSSIBLY or second_unsure:
            found.append(fact.occurrence)
    return found


def agreement_state(
    agreement: Mapping[str, Any],
    facts: Sequence[Fact],
    as_of: date,
    *,
    bounds: DateBounds = edtf_bounds,
) -> dict[str, Any]:
    """The `agreement ID --json` answer for `agreement` as of the day `as_of`.

    `facts` are this agreement's occurrences (corrected, retractions removed) in any
    order; others are ignored. Occurrences that had not happened by `as_of` never count.

    Status, from the highest rung reached: registered (nothing yet) < proposed (a
    proposal about it) < approved (an approval) < signed (a signing or a consent) <
    in_force (any entry into force, general or for some participants). Above the
    ladder: suspended while a suspension has happened and its `until`, if any, has not
    certainly passed (on the `until` day it is over); terminated once a termination has
    happened, final whatever follows. Only an explicit termination terminates: every
    participant withdrawing does not, and nothing but `until` ends a suspension.

    `status` is the reported reading (whatever possibly happened counts);
    `certain_status` the certain one (only what certainly happened counts, and a
    suspension only while it has certainly not ended). `status_certain` is true when
    the two agree on status, signings and participants. Comparing just these two
    readings is an approximation that holds for the ledger's monotone rules.

    Participants: the agreement's `parties` in their order, then everyone else by first
    appearance: signatories (for their `on_behalf_of` state, else themselves),
    consenting states (`ratification.by`), withdrawing states and those named in a
    party-specific entry into force. Per participant: `signed` is the first signing;
    `consent` the latest consent; `withdrawal` the first withdrawal after the latest
    joining act (consent, else signing) with `effective` defaulting to its date, and
    `previous_withdrawal` (extra key) the last one before it, so rejoining by a new
    consent makes a participant a party again without losing its history. Status:
    withdrawn once the withdrawal's effective date has (possibly, in the reported
    reading) passed, withdrawing between notice and effect; else party with a consent;
    else signatory if it signed; else party (listed in `parties` only). `in_force`: the
    first party-specific entry into force for it, else the first general one if it is
    bound (it consented, or nobody has consented, as with signature-only memoranda);
    after a rejoining, only entries into force later than the previous withdrawal count.

    Extra keys: `as_of` (ISO day), `certain_status`, `uncertain_occurrences` (ids whose
    date or second date straddles `as_of`), and per signing `certain`.
    """
    agreement_id = str(agreement["id"])
    parties = [str(p) for p in agreement.get("parties") or []]
    ordered = sorted((f for f in facts if _concerns(f.record, agreement_id)), key=_sort_key)
    reported = _project(parties, ordered, as_of, _REPORTED, bounds)
    certain = _project(parties, ordered, as_of, _CERTAIN, bounds)

    def by_actor(projection: _Projection) -> list[dict[str, Any]]:
        return sorted(projection.participants, key=lambda p: p["actor"])

    status_certain = (
        reported.status == certain.status
        and [f.occurrence for f in reported.signings] == [f.occurrence for f in certain.signings]
        and by_actor(reported) == by_actor(certain)
    )
    return {
        "id": agreement_id,
        "title": agreement.get("title"),
        "type": agreement.get("type"),
        "parties": parties,
        "status": reported.status,
        "status_certain": status_certain,
        "relations": [
            {"type": r.get("type"), "target": r.get("target")}
            for r in agreement.get("relations") or []
        ],
        "signings": [_signing_json(f, as_of) for f in reported.signings],
        "participants": [dict(p) for p in reported.participants],
        "as_of": as_of.isoformat(),
        "certain_status": certain.status,
        "uncertain_occurrences": _uncertain(ordered, as_of, bounds),
    }
