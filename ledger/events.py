"""The ledger's domain events: one explicit class per record kind, named in the past tense.

Every record is an immutable fact, so every event is the creation event of its own
stream, carrying the record in its normalized interchange form (what `ledger export`
writes back out), who entered it, and the digest that makes re-import idempotent.
Corrections and retractions are facts too: they point at what they amend and leave it
as it was recorded.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.dates import is_qualified, parse_date


class Recorded(Aggregate.Created):
    """A record entered the ledger."""

    record: dict[str, Any]
    recorded_by: str
    digest: str


class SourceRegistered(Recorded):
    """A source (report, statement, treaty text) the ledger can cite."""


class ActorRegistered(Recorded):
    """A state, organization, body, person, group or media outlet."""


class PostHeld(Recorded):
    """A person held a post (title in an organization) over a period."""


class AgreementRegistered(Recorded):
    """An agreement exists as a thing that can be signed, approved, ratified."""


class Occurred(Recorded):
    """Something happened on a date that may be uncertain.

    ``earliest``/``latest`` are the ISO days that bound the EDTF ``record["date"]``
    (None for an open end); they are stored so that readers never re-parse EDTF.

    Version 2: a qualified date (``?``, ``~``, ``%``) is bounded one unit of its
    precision wider on each side (FORMAT.md v1.1). Version 1 events stored the strict
    bounds; they are upcast on reading, so a ledger written before needs no rewrite.
    """

    class_version: ClassVar[int] = 2

    earliest: str | None
    latest: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Bound a qualified date as FORMAT.md v1.1 does; other dates are unchanged."""
        date = (state.get("record") or {}).get("date")
        if isinstance(date, str) and is_qualified(date):
            state["earliest"], state["latest"] = parse_date(date).iso_bounds


class Signed(Occurred):
    pass


class Approved(Occurred):
    pass


class Ratified(Occurred):
    pass


class EnteredIntoForce(Occurred):
    pass


class Withdrew(Occurred):
    pass


class Terminated(Occurred):
    pass


class Suspended(Occurred):
    pass


class Revoked(Occurred):
    """A withdrawal or suspension notice was revoked; the notice itself stays as it was."""


class ImplementationReported(Occurred):
    pass


class Visited(Occurred):
    pass


class Met(Occurred):
    pass


class StatementMade(Occurred):
    pass


class Proposed(Occurred):
    pass


class Accused(Occurred):
    pass


class Threatened(Occurred):
    pass


class Amended(Occurred):
    """A correction or retraction of an earlier record, dated by its publication.

    ``target_namespace`` says what the record's ``target`` names: "occurrence", or the
    registry kind ("source", "actor", "post", "agreement"). Ids are unique per namespace,
    so the target's id alone could name an actor and an agreement at once; the decision
    settles which, and readers never guess. Events recorded before registry records could
    be amended (class versions 1 and 2, upcast as every occurrence is) lack it: they all
    amended occurrences.

    Version 4 carries ``result``: for a correction, the corrected record in its
    interchange form, exactly as the decision worked it out (the target as already
    corrected, with this correction's changes applied and checked), so that readers never
    apply and re-validate a correction themselves. A retraction's ``result`` is None, as
    is that of every amendment recorded before version 4 (upcast): readers fall back to
    applying those themselves.
    """

    target_namespace: str
    result: dict[str, Any] | None
    class_version: ClassVar[int] = 4

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state.setdefault("target_namespace", "occurrence")

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        state.setdefault("result", None)


class Corrected(Amended):
    """Fields of an earlier record were corrected; what was recorded stays as it was."""


class Retracted(Amended):
    """An earlier record was retracted; it stays in the log and in audit output."""


EVENT_CLASSES: dict[str, type[Recorded]] = {
    "source": SourceRegistered,
    "actor": ActorRegistered,
    "post": PostHeld,
    "agreement": AgreementRegistered,
    "signing": Signed,
    "approval": Approved,
    "ratification": Ratified,
    "entry_into_force": EnteredIntoForce,
    "withdrawal": Withdrew,
    "termination": Terminated,
    "suspension": Suspended,
    "revocation": Revoked,
    "implementation": ImplementationReported,
    "visit": Visited,
    "meeting": Met,
    "statement": StatementMade,
    "proposal": Proposed,
    "accusation": Accused,
    "threat": Threatened,
    "correction": Corrected,
    "retraction": Retracted,
}


#: Each event class's fields, in the order its constructor sets them (`new_event`).
FIELDS: dict[type[Recorded], tuple[str, ...]] = {
    cls: tuple(field.name for field in dataclasses.fields(cls)) for cls in EVENT_CLASSES.values()
}


def new_event(event_class: type[Recorded], fields: dict[str, Any]) -> Recorded:
    """The event `event_class(**fields)` would make, made without running its constructor.

    The library's events are frozen dataclasses: the constructor sets each field through
    ``object.__setattr__`` (a call through a wrapper per field), then checks that the
    originator id is a UUID; for the import's one event per record that was a tenth of
    the writer's time. Here the new instance's attributes are set in one step, in the
    order the constructor sets them (which is the order the library's `Mapper` stores
    them in), when `fields` names exactly the class's fields, in that order, with a UUID
    as originator id; otherwise the constructor is called and says what is wrong. This
    leans on how the library's events hold their state (their instance dictionary, as
    its `Mapper` reads it with ``vars``): tests/unit/test_aggregates.py holds the result
    to the constructor's for every event class.
    """
    if tuple(fields) != FIELDS.get(event_class) or type(fields["originator_id"]) is not UUID:
        return event_class(**fields)
    event = event_class.__new__(event_class)
    vars(event).update(fields)
    return event
