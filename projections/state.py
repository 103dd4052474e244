"""What an agreement's state is on a given day, read from the facts the ledger holds.

The read models (each occurrence's endorsement acts), the CLI (`agreement ID --json`)
and the tests must all read the same facts the same way, and that reading is where
subtle mistakes live: dates known only to a range, withdrawals that take effect a year
after notice, states that leave and rejoin. So it lives here once, as pure functions
over plain dicts and dates, with no storage, no I/O and no clock: the caller says which
day (`as_of`) it wants, and the same facts always give the same answer.

Uncertain dates are never guessed at. Every answer is computed twice: a *reported*
reading, in which whatever possibly happened by `as_of` is taken to have happened,
and a *certain* reading, in which only what certainly happened counts. The reported
reading is what we show; the two disagreeing on the agreement's status is exactly what
`status_certain: false` tells the user (and on a participant's row, its `certain`).
A date qualified ``?``, ``~`` or ``%`` never certainly happened, however long ago.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeAlias

from ledger.dates import is_qualified, parse_date

Bounds: TypeAlias = tuple[date | None, date | None]
"""Earliest and latest possible day of an EDTF date; None is an open end."""

DateBounds: TypeAlias = Callable[[str], Bounds]
"""Turns an EDTF string into its bounds; injectable so callers and tests control parsing."""

AgreementTest: TypeAlias = Callable[[str], bool] | Collection[str]
"""Tells agreement ids from actor ids in a statement's `about`, which mixes both."""

Day: TypeAlias = date
"""A calendar day, named so inside `Fact`, whose field `date` (the EDTF text) hides the type."""


# --- when ----------------------------------------------------------------------------


class Happened(enum.Enum):
    """Whether an occurrence had happened by a day: FORMAT.md's three answers."""

    YES = "yes"
    POSSIBLY = "possibly"
    NO = "no"


def happened(
    earliest: date | None, latest: date | None, as_of: date, *, qualified: bool = False
) -> Happened:
    """Answer "had it happened by `as_of`?" without guessing inside a date's range.

    An open latest end can never give YES: "on or after X" might still be in the future.
    An open earliest end can never give NO for the same reason. A `qualified` date
    (``1988-05-28?``) is never certain (FORMAT.md), even past its latest day: the source
    itself doubts it, so YES becomes POSSIBLY.
    """
    if latest is not None and latest <= as_of:
        return Happened.POSSIBLY if qualified else Happened.YES
    if earliest is not None and earliest > as_of:
        return Happened.NO
    return Happened.POSSIBLY


def edtf_bounds(value: str) -> Bounds:
    """Bounds of a second date in a record, by the ledger's one EDTF parser.

    Occurrence dates arrive already bounded (the event log stores their days); only
    withdrawal `effective` and suspension `until` are parsed on read, and they must be
    read exactly as the write side reads dates, hence no parser of our own.
    """
    span = parse_date(str(value))
    return span.earliest, span.latest


# --- facts ---------------------------------------------------------------------------


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
    earliest: Day | None
    latest: Day | None
    position: int
    sources: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        record: dict[str, Any],
        position: int,
        earliest: Day | str | None,
        latest: Day | str | None,
    ) -> Fact:
        """The fact one version of an occurrence states: its id, kind, date and sources
        read from the record itself, as the read model's columns are; the bounds as days
        or as the ISO days the log and the read model store (None, an open end)."""
        return cls(
            occurrence=record["id"],
            kind=record["kind"],
            record=record,
            date=record["date"],
            earliest=as_day(earliest),
            latest=as_day(latest),
            position=position,
            sources=tuple(source_ids(record)),
        )

    @property
    def qualified(self) -> bool:
        """Whether its date is qualified uncertain or approximate: never certain."""
        return is_qualified(self.date)

    def happened(self, as_of: Day) -> Happened:
        """Whether it had happened by `as_of`, its date's qualification included."""
        return happened(self.earliest, self.latest, as_of, qualified=self.qualified)

    @property
    def sort_key(self) -> tuple[Day, int]:
        """FORMAT.md: "Sorting uses the earliest day, then the order of recording".

        An open earliest end sorts first: "on or before X" may be the oldest of all.
        """
        return (self.earliest or Day.min, self.position)


def as_day(bound: Day | str | None) -> Day | None:
    """A date bound as a day: the log and the read models store ISO days, None for an
    open end."""
    return date.fromisoformat(bound) if isinstance(bound, str) else bound


def source_ids(record: Mapping[str, Any]) -> list[str]:
    """The ids of the sources a record cites, in the order it cites them."""
    return [citation["source"] for citation in record.get("sources") or ()]


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


def secondary_happened(
    fact: Fact, key: str, as_of: date, bounds: DateBounds = edtf_bounds
) -> Happened | None:
    """Whether a record's second date (`effective`, `until`) had come by `as_of`.

    None when the record leaves it out. A qualified second date is never certain.
    """
    value = fact.record.get(key)
    if value is None:
        return None
    return happened(*bounds(str(value)), as_of, qualified=is_qualified(str(value)))


def effect_happened(fact: Fact, as_of: date, bounds: DateBounds = edtf_bounds) -> Happened:
    """Whether a withdrawal had taken effect by `as_of` (its `effective`, else its date)."""
    found = secondary_happened(fact, "effective", as_of, bounds)
    return found if found is not None else fact.happened(as_of)


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
    record: Mapping[str, Any],
    is_agreement: AgreementTest,
    target: Mapping[str, Any] | None = None,
) -> list[EndorsementAct]:
    """The endorsement acts one occurrence amounts to, in the order the record lists them.

    `is_agreement` is needed because a statement's `about` mixes agreements and actors
    and only the registry knows which is which; a statement about a state is not an
    endorsement of it. A revocation names no agreement: `target` is the notice it
    revokes, whose agreement it concerns (without it, a revocation endorses nothing).
    Kinds that endorse nothing give an empty list.
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
    if kind == "suspension":
        return [EndorsementAct(record["agreement"], record.get("by"), "suspended", None, None)]
    if kind == "revocation":
        if target is None or not target.get("agreement"):
            return []
        return [EndorsementAct(target["agreement"], record.get("by"), "revoked", None, None)]
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


# --- agreement state -----------------------------------------------------------------

_LADDER = ("registered", "proposed", "approved", "signed", "in_force")
_RANK_OF_KIND = {
    "proposal": 1,
    "approval": 2,
    "signing": 3,
    "ratification": 3,
    "entry_into_force": 4,
}
_STATE_KINDS = frozenset(_RANK_OF_KIND) | {"withdrawal", "suspension", "termination", "revocation"}
#: Relations by which an agreement lives only as long as the one it points at.
DEPENDENT_RELATIONS = frozenset({"amends", "implements"})


@dataclass(frozen=True)
class _Reading:
    """How one reading treats uncertainty.

    `counts`: which answers make an occurrence (or a withdrawal's effect, or an actor's
    end) count as happened. `ends`: which answers make a suspension's `until` count as
    passed. The reported reading leans towards change having happened but keeps a
    suspension on until it has certainly ended (a suspension is shown until it is
    certainly over); the certain reading is the opposite on both, so any uncertainty
    that matters makes the two disagree. `parent_status` names the key of a parent
    agreement's answer that this reading reads (an amendment ends with what it amends).
    """

    counts: frozenset[Happened]
    ends: frozenset[Happened]
    parent_status: str


_REPORTED = _Reading(
    counts=frozenset({Happened.YES, Happened.POSSIBLY}),
    ends=frozenset({Happened.YES}),
    parent_status="status",
)
_CERTAIN = _Reading(
    counts=frozenset({Happened.YES}),
    ends=frozenset({Happened.YES, Happened.POSSIBLY}),
    parent_status="certain_status",
)


@dataclass
class _Track:
    """Everything one participant did, in sorted order, within one reading.

    `named_in` holds every entry into force naming it in `for`, happened or not: such an
    entry decides when the agreement is in force for it (FORMAT.md), so a state whose
    accession is deposited but whose entry into force is still to come is `contracting`.
    `notices` holds its withdrawals, happened or not, to tell which membership a coming
    entry into force belongs to.
    """

    actor: str
    signings: list[Fact] = field(default_factory=list)
    consents: list[Fact] = field(default_factory=list)
    withdrawals: list[Fact] = field(default_factory=list)
    suspensions: list[Fact] = field(default_factory=list)
    named_in: list[Fact] = field(default_factory=list)
    notices: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class _Context:
    """What every participant's row is read against, within one reading."""

    as_of: date
    reading: _Reading
    bounds: DateBounds
    general_entries: tuple[Fact, ...]
    terminated: bool
    bilateral: bool
    counted: frozenset[str]
    revoked: Mapping[str, Fact]
    actors: Mapping[str, Mapping[str, Any]]

    def counts(self, when: Happened | None) -> bool:
        return when in self.reading.counts


@dataclass(frozen=True)
class _StatusReading:
    """An agreement's status, signings and participants as one `_Reading` gives them.

    `agreement_state` makes two, the reported and the certain, and compares them.
    """

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


def _later(first: Fact, second: Fact) -> Fact:
    # Two facts never share a sort key (each has its own position in the log), so `>=`
    # here is an equivalent mutant; as are `>=` and `<=` for the comparisons of sort keys
    # in _participant, which all compare a withdrawal with a fact of another kind.
    return second if second.sort_key > first.sort_key else first


def _revoked_before_effect(withdrawal: Fact, revocation: Fact | None, bounds: DateBounds) -> bool:
    """A withdrawal revoked on or before its effective date never takes effect (FORMAT.md).

    Read generously: if the revocation may have come by the last possible effective day,
    the notice is taken as revoked; a revocation after the effect changes nothing, since
    a state that has left must consent anew to come back.
    """
    if revocation is None:
        return False
    _earliest, effective = effective_bounds(withdrawal, bounds)
    return effective is None or revocation.earliest is None or revocation.earliest <= effective


def _in_effect(suspension: Fact, context: _Context) -> bool:
    """A suspension is in effect until its `until` (by this reading) or its revocation."""
    if suspension.occurrence in context.revoked:
        return False
    until = secondary_happened(suspension, "until", context.as_of, context.bounds)
    return until is None or until not in context.reading.ends


def _dissolution(actor: str, context: _Context) -> list[str] | None:
    """The successors of an actor that had ceased to exist by `as_of`, else None."""
    record = context.actors.get(actor) or {}
    end = record.get("end")
    if end is None:
        return None
    when = happened(*context.bounds(str(end)), context.as_of, qualified=is_qualified(str(end)))
    if not context.counts(when):
        return None
    return [str(s) for s in record.get("successors") or []]


def _participant(track: _Track, context: _Context) -> dict[str, Any]:
    """One row of the UN-Treaty-Collection-style table, from what this participant did.

    The participant's current membership begins with its latest joining act (its
    latest consent, else its latest signing). A withdrawal before that act belongs to
    an earlier membership and is reported as `previous_withdrawal`; the first
    withdrawal after it is the live one. Only entries into force naming it after the
    previous withdrawal count for the current membership; a general entry into force
    stands whenever it was, since the agreement stayed in force for the others.
    """
    consent = track.consents[-1] if track.consents else None
    joined = consent or (track.signings[-1] if track.signings else None)
    # Sort keys of distinct facts never tie (see _later): `>=` and `<=` in the comparisons
    # of a withdrawal with a joining act, here and below, are equivalent mutants.
    live = [w for w in track.withdrawals if joined is None or w.sort_key > joined.sort_key]
    earlier = [w for w in track.withdrawals if joined is not None and w.sort_key < joined.sort_key]
    withdrawal = live[0] if live else None
    previous = earlier[-1] if earlier else None

    def current(fact: Fact) -> bool:
        # A signing or entry into force against a withdrawal: `>=` is equivalent (no tie).
        return previous is None or fact.sort_key > previous.sort_key

    def this_membership(entry: Fact) -> bool:
        """Not before the previous withdrawal, and not after a withdrawal still to come."""
        # (date.min, -1) sorts before every fact, whose positions count from 0: -2 in its
        # place is an equivalent mutant.
        start = joined.sort_key if joined is not None else (date.min, -1)
        # Notices are withdrawals, never the joining act nor the entry, and (date.min, -1)
        # is no fact's key: `<=` in place of either `<` is an equivalent mutant.
        return current(entry) and not any(
            start < w.sort_key < entry.sort_key for w in track.notices
        )

    consent_json: dict[str, str] | None = None
    if consent is not None:
        consent_json = {
            "method": str(consent.record.get("method") or "ratification"),
            "date": consent.date,
        }
    elif context.bilateral and context.general_entries and track.signings:
        # A bilateral agreement in force binds both signatories: consent by signature.
        # The last signing is `joined`, later than `previous` by construction, so some
        # signing is always current: dropping the default None is an equivalent mutant.
        consent = next((s for s in track.signings if current(s)), None)
        if consent is not None:
            consent_json = {"method": "signature", "date": consent.date}

    in_force: Fact | None = None
    named = [e for e in track.named_in if this_membership(e)]
    if named:
        if named[0].occurrence in context.counted:
            in_force = named[0]
    elif consent is not None and context.general_entries:
        in_force = _later(context.general_entries[0], consent)

    suspension = next((s for s in reversed(track.suspensions) if _in_effect(s, context)), None)
    successors = _dissolution(track.actor, context)
    if successors is not None:
        status = "dissolved"
    elif context.terminated:
        status = "terminated"
    elif withdrawal is not None:
        effect = effect_happened(withdrawal, context.as_of, context.bounds)
        status = "withdrawn" if context.counts(effect) else "withdrawing"
    elif suspension is not None:
        status = "suspended"
    elif consent is not None:
        status = "party" if in_force is not None else "contracting"
    elif track.signings:
        status = "signatory"
    else:
        status = "negotiating"

    return {
        "actor": track.actor,
        "status": status,
        "signed": track.signings[0].date if track.signings else None,
        "consent": consent_json,
        "in_force": in_force.date if in_force is not None else None,
        "withdrawal": _withdrawal_json(withdrawal),
        "suspension": (
            None
            if suspension is None
            else {"date": suspension.date, "until": suspension.record.get("until")}
        ),
        "successors": successors or [],
        "previous_withdrawal": _withdrawal_json(previous),
    }


def _read_status(
    parties: Sequence[str],
    facts: Sequence[Fact],
    as_of: date,
    reading: _Reading,
    bounds: DateBounds,
    actors: Mapping[str, Mapping[str, Any]],
    parents: Sequence[Mapping[str, Any]],
) -> _StatusReading:
    """Status, signings and participants under one reading; `facts` are sorted."""
    tracks: dict[str, _Track] = {p: _Track(p) for p in parties}

    def track(actor: str) -> _Track:
        return tracks.setdefault(actor, _Track(actor))

    counted = [f for f in facts if f.happened(as_of) in reading.counts]
    revoked: dict[str, Fact] = {}
    for fact in counted:
        if fact.kind == "revocation":
            revoked.setdefault(str(fact.record.get("target")), fact)

    rank = 0
    terminated = any(p.get(reading.parent_status) == "terminated" for p in parents)
    suspensions: list[Fact] = []
    signings: list[Fact] = []
    general_entries: list[Fact] = []
    for fact in counted:
        record = fact.record
        rank = max(rank, _RANK_OF_KIND.get(fact.kind, 0))
        if fact.kind == "signing":
            signings.append(fact)
            for signatory in record.get("signatories") or []:
                # Two signatories for one state put the signing twice in its track: harmless,
                # since a track's signings are read for their first, their last and any.
                track(signatory.get("on_behalf_of") or signatory["actor"]).signings.append(fact)
        elif fact.kind == "ratification":
            track(record["by"]).consents.append(fact)
        elif fact.kind == "entry_into_force":
            for actor in record.get("for") or []:
                track(actor)
            if not record.get("for"):
                general_entries.append(fact)
        elif fact.kind == "withdrawal":
            notice = track(record["by"])
            if not _revoked_before_effect(fact, revoked.get(fact.occurrence), bounds):
                notice.withdrawals.append(fact)
        elif fact.kind == "suspension":
            if record.get("by"):
                track(record["by"]).suspensions.append(fact)
            else:
                suspensions.append(fact)
        elif fact.kind == "termination":
            terminated = True
    for fact in facts:  # entries into force naming a participant and notices, happened or not
        if fact.kind == "entry_into_force":
            for actor in fact.record.get("for") or []:
                if actor in tracks:
                    tracks[actor].named_in.append(fact)
        elif fact.kind == "withdrawal" and fact.record.get("by") in tracks:
            tracks[fact.record["by"]].notices.append(fact)

    context = _Context(
        as_of=as_of,
        reading=reading,
        bounds=bounds,
        general_entries=tuple(general_entries),
        terminated=terminated,
        bilateral=len(parties) == 2,
        counted=frozenset(f.occurrence for f in counted),
        revoked=revoked,
        actors=actors,
    )
    participants = tuple(_participant(t, context) for t in tracks.values())
    if terminated:
        status = "terminated"
    elif any(_in_effect(s, context) for s in suspensions):
        status = "suspended"
    else:
        status = _LADDER[rank]
    return _StatusReading(status, tuple(signings), participants)


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
        "certain": fact.happened(as_of) is Happened.YES,
    }


def _uncertain(facts: Sequence[Fact], as_of: date, bounds: DateBounds) -> list[str]:
    """Ids of state-changing occurrences whose date, or second date, is not certain by `as_of`."""
    found: list[str] = []
    for fact in facts:
        when = fact.happened(as_of)
        if fact.kind not in _STATE_KINDS or when is Happened.NO:
            continue
        key = {"withdrawal": "effective", "suspension": "until"}.get(fact.kind)
        # `or True` here is an equivalent mutant: a record has no None key, so
        # secondary_happened answers None for it as the guard does.
        second = secondary_happened(fact, key, as_of, bounds) if key else None
        if when is Happened.POSSIBLY or second is Happened.POSSIBLY:
            found.append(fact.occurrence)
    return found


def _own_facts(facts: Sequence[Fact], agreement_id: str) -> list[Fact]:
    """This agreement's facts, sorted: those naming it, and revocations of its notices."""
    own = [f for f in facts if _concerns(f.record, agreement_id)]
    notices = {f.occurrence for f in own}
    own += [
        f
        for f in facts
        if f.kind == "revocation"
        and str(f.record.get("target")) in notices
        and f.occurrence not in notices
    ]
    return sorted(own, key=_sort_key)


def agreement_state(
    agreement: Mapping[str, Any],
    facts: Sequence[Fact],
    as_of: date,
    *,
    actors: Mapping[str, Mapping[str, Any]] | None = None,
    parents: Sequence[Mapping[str, Any]] = (),
    related_by: Sequence[Mapping[str, Any]] = (),
    bounds: DateBounds = edtf_bounds,
) -> dict[str, Any]:
    """The `agreement ID --json` answer for `agreement` as of the day `as_of`.

    `facts` are this agreement's occurrences (corrected, retractions removed) in any
    order, those dated after `as_of` included (an entry into force still to come for a
    state decides that the state is not yet a party); others are ignored, and
    occurrences that had not happened by `as_of` never count otherwise. `actors` are
    the actor records of participants that may have ceased to exist (`end`,
    `successors`); `parents` the answers, as of the same day, for the agreements this
    one `amends` or `implements`, whose end is its end; `related_by` the incoming
    relations, passed through.

    Status (FORMAT.md, "Agreements and participants through time"), the first that
    applies: terminated (a termination, or a parent terminated); suspended (a
    suspension without `by` in effect: not revoked, and its `until`, if any, not
    certainly passed); else the highest rung reached: registered < proposed (a proposal
    about it) < approved < signed (a signing or a consent) < in_force (any entry into
    force, general or for some participants). A suspension `by` a party suspends that
    party only.

    Participants: the agreement's `parties` in their order, then everyone else by first
    appearance: signatories (for their `on_behalf_of` state, else themselves),
    consenting states, suspending and withdrawing states and those named in a
    party-specific entry into force. Per participant, the first that applies:
    dissolved (its `end` has come; `successors` named), terminated, withdrawn (its
    withdrawal took effect and it has not consented since), withdrawing (notice given,
    effect to come, not revoked), suspended (a suspension by it in effect), party
    (consented, and in force for it), contracting (consented, not yet in force for it),
    signatory, negotiating. In force for it: from the entry into force naming it in
    `for` (that date), else from the later of the general entry into force and its
    consent; in a bilateral agreement (two `parties`) a general entry into force makes
    each signatory a party, consent by signature. A withdrawal revoked on or before its
    effective date never takes effect; a suspension ends when revoked.

    `status` is the reported reading (whatever possibly happened counts);
    `certain_status` the certain one. `status_certain` is true when the two agree on
    the status: it is about the status alone; each participant row says with `certain`
    (extra key) whether both readings give that row.

    Extra keys: `as_of` (ISO day), `certain_status`, `uncertain_occurrences` (ids of
    state-changing occurrences, or their second dates, not certain by `as_of`), per
    signing `certain`, per participant `certain` and `previous_withdrawal`.
    """
    agreement_id = str(agreement["id"])
    parties = [str(p) for p in agreement.get("parties") or []]
    known = actors or {}
    ordered = _own_facts(facts, agreement_id)
    reported = _read_status(parties, ordered, as_of, _REPORTED, bounds, known, parents)
    certain = _read_status(parties, ordered, as_of, _CERTAIN, bounds, known, parents)
    sure = {p["actor"]: p for p in certain.participants}
    return {
        "id": agreement_id,
        "title": agreement.get("title"),
        "type": agreement.get("type"),
        "parties": parties,
        "status": reported.status,
        "status_certain": reported.status == certain.status,
        "relations": [
            {"type": r.get("type"), "target": r.get("target")}
            for r in agreement.get("relations") or []
        ],
        "related_by": [{"type": r.get("type"), "source": r.get("source")} for r in related_by],
        "signings": [_signing_json(f, as_of) for f in reported.signings],
        "participants": [
            {**p, "certain": sure.get(p["actor"]) == p} for p in reported.participants
        ],
        "as_of": as_of.isoformat(),
        "certain_status": certain.status,
        "uncertain_occurrences": _uncertain(ordered, as_of, bounds),
    }
