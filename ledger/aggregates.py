"""Deciding what enters the ledger: no I/O, no clock, no database.

A record enters as the creation event of its own stream, or not at all. The decision
needs to know what the ledger already holds, which it asks of a `Registry` (a port: the
application backs it with the event store, tests with a dict). The rules:

* an id already taken by the same content adds nothing (re-import is idempotent);
* an id taken by different content is refused: the analyst sends a correction;
* every reference must name something registered (matched case-insensitively), and is
  rewritten to the registered spelling so that answers never depend on how it was typed;
* a correction or retraction may target any record (an occurrence, a source, an actor,
  a post or an agreement) but not another correction or retraction; a correction's
  changes, applied to the target as already corrected, must make a valid record of the
  target's kind;
* a retracted record is final: it cannot be corrected or retracted again, and nothing
  new may refer to a retracted registry record;
* a registry record that a live record still refers to cannot be retracted (the
  references would be left pointing at nothing).
* a revocation must target a withdrawal or suspension, by the actor who gave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, NoReturn, Protocol

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.errors import RecordError
from ledger.events import EVENT_CLASSES, Occurred, Recorded, new_event
from ledger.records import apply_correction
from ledger.vocabulary import (
    AMENDMENT_KINDS,
    REGISTRY_KINDS,
    REVOCABLE_KINDS,
    Record,
    Reference,
    content_digest,
    references_of,
)
from ledger.vocabulary import stream_id as stream_id  # where the decision names streams

#: Where an `about` reference may point, in the order it is looked up.
ANY_NAMESPACES = ("actor", "agreement", "occurrence")
#: Where a correction's or retraction's `target` may point: a record of any kind.
RECORD_NAMESPACES = ("occurrence", *REGISTRY_KINDS)


#: Where a reference of each namespace is looked up, in order (`namespaces_of`): a
#: table rather than tests, since an import asks it several times per reference.
LOOKED_UP_IN: dict[str, tuple[str, ...]] = {
    "any": ANY_NAMESPACES,
    "record": RECORD_NAMESPACES,
    **{namespace: (namespace,) for namespace in (*REGISTRY_KINDS, "occurrence")},
}


def namespaces_of(ref: Reference) -> tuple[str, ...]:
    """Where a reference is looked up, in order: `about` and `target` may name several kinds."""
    return LOOKED_UP_IN.get(ref.namespace) or (ref.namespace,)


def namespace_of(kind: str) -> str:
    """Where a record of this kind keeps its id: corrections share the occurrences' space."""
    return kind if kind in REGISTRY_KINDS else "occurrence"


@dataclass(frozen=True)
class Known:
    """What the decision needs to know of a record already in the ledger.

    `target_namespace` is set for corrections and retractions: what their target names.
    """

    id: str
    kind: str
    digest: str
    record: dict[str, Any]
    recorded_by: str
    target_namespace: str | None = None
    #: A correction's corrected record, as decided (None: a retraction, or a correction
    #: recorded before the events carried it).
    result: dict[str, Any] | None = None

    @property
    def namespace(self) -> str:
        return namespace_of(self.kind)

    @classmethod
    def made(
        cls,
        id: str,
        kind: str,
        digest: str,
        record: dict[str, Any],
        recorded_by: str,
        target_namespace: str | None,
        result: dict[str, Any] | None,
    ) -> Known:
        """`Known(...)` with every field given, its attributes set in one step rather than
        through the frozen dataclass's constructor (one setter call per field): the
        import makes one for every record it enters."""
        known = cls.__new__(cls)
        vars(known).update(
            id=id,
            kind=kind,
            digest=digest,
            record=record,
            recorded_by=recorded_by,
            target_namespace=target_namespace,
            result=result,
        )
        return known

    def as_amendment(self) -> Known:
        """This correction or retraction as deciding on later amendments of its target
        reads it (`current`, and the messages): its target, its changes when it carries
        no result, and no other field of its record. An import keeps every amendment it
        enters for the rest of the import, and tens of thousands of whole records (a
        correction's record beside its result, the corrected target) were a tenth of a
        million-record import's memory."""
        kept = {"target": self.record["target"]}
        if self.result is None and "set" in self.record:
            kept["set"] = self.record["set"]
        return replace(self, record=kept)


class Registry(Protocol):
    def find(self, namespace: str, key: str) -> Known | None:
        """The record registered under this id in this namespace, if any."""

    def amendments(self, namespace: str, key: str) -> Sequence[Known]:
        """Corrections and retractions of this record, in the order they were recorded."""

    def retraction(self, namespace: str, key: str) -> Known | None:
        """The retraction of this record, if it was retracted."""

    def mentions(self, ident: str) -> Sequence[Known]:
        """Records that may name `ident` (matched without regard to case), as recorded or
        as corrected: every record whose content names it, and every record a correction
        naming it amends. A superset is fine: the decision checks each current version."""


@dataclass(frozen=True)
class Current:
    """A record as the ledger reads it now: corrections applied, and whether retracted."""

    record: dict[str, Any]
    retraction: Known | None


def current(original: Known, amendments: Sequence[Known]) -> Current:
    """The record with its corrections applied in order; a retraction ends the story.

    The write side decides on this, and the projections reach the same result one event
    at a time, so a correction admitted here can always be applied when read.
    """
    record = original.record
    for amendment in amendments:
        if amendment.kind == "retraction":
            return Current(record, amendment)
        if amendment.result is not None:
            record = amendment.result
        else:  # recorded before corrections carried their result
            # Equivalent mutant: `id=None`. apply_correction reads only the target's kind
            # and data (the id is in the data), so no test can tell them apart.
            target = Record(kind=record["kind"], id=record["id"], data=record)
            record = apply_correction(target, amendment.record["set"]).data
    return Current(record, None)


class Entry(Aggregate):
    """One record in the ledger: immutable once entered.

    A record's stream holds its creation event alone, so the decision builds that event
    directly (see `enter`); the aggregate is what the event names as its originator,
    and what it mutates into for anyone who asks the library for it.
    """

    def __init__(self, record: dict[str, Any], recorded_by: str, digest: str) -> None:
        self.record = record
        self.recorded_by = recorded_by
        self.digest = digest

    @property
    def kind(self) -> str:
        return str(self.record["kind"])


class Occurrence(Entry):
    """A dated occurrence; its bounds travel with it so readers need no EDTF parser."""

    def __init__(
        self,
        record: dict[str, Any],
        recorded_by: str,
        digest: str,
        earliest: str | None,
        latest: str | None,
    ) -> None:
        super().__init__(record, recorded_by, digest)
        self.earliest = earliest
        self.latest = latest


class Amendment(Occurrence):
    """A correction or retraction, knowing what kind of record its target is and, for a
    correction, what the target reads as once corrected."""

    def __init__(
        self,
        record: dict[str, Any],
        recorded_by: str,
        digest: str,
        earliest: str | None,
        latest: str | None,
        target_namespace: str,
        result: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(record, recorded_by, digest, earliest, latest)
        self.target_namespace = target_namespace
        self.result = result


_ENTRY_TOPIC = get_topic(Entry)
_OCCURRENCE_TOPIC = get_topic(Occurrence)
_AMENDMENT_TOPIC = get_topic(Amendment)


def enter(record: Record, registry: Registry, recorded_by: str) -> Recorded | None:
    """Decide whether `record` enters the ledger: its stream's creation event, or None if
    it is already there.

    The event is built as the library's aggregate would create it (version 1 of the
    record's own stream, originated by `Entry` or its subclass), without constructing
    the aggregate: a record's stream never holds a second event, so the aggregate would
    only be thrown away (a fifth of the decision's time).
    """
    kind = record.kind
    data = _resolve_references(record, registry)
    namespace = record.namespace
    existing = registry.find(namespace, record.id)
    if existing is not None and existing.id != data["id"]:
        # The same id in another case: compare the content as if spelled as registered.
        data = {**data, "id": existing.id}
    target_namespace = None
    # Equivalent mutant: `result = ""`. It is carried only when target_namespace is set,
    # and then _check_amendment has set it, so no test can tell them apart.
    result = None
    if kind in AMENDMENT_KINDS:
        target_namespace, result = _check_amendment(record, data, registry, existing)
    elif kind == "revocation":
        _check_revocation(data, registry)
    # The record's own digest (worked out by a reading worker, if one read it) unless
    # the decision respelled or amended the data. Equivalent mutant: `... and False`,
    # which always digests the data again; a record's digest is that of its data, so the
    # value is the same (only the time differs) and no test can tell them apart.
    digest = record.digest if data is record.data else content_digest(data)
    if existing is not None:
        if existing.digest == digest:
            return None
        raise RecordError(
            f"id '{record.id}' is already taken by a different {existing.kind} "
            f"(entered by {existing.recorded_by}); send a correction instead",
            field="id",
        )
    event_class = EVENT_CLASSES[kind]
    fields: dict[str, Any] = {
        "originator_id": record.stream,
        "originator_version": 1,
        "timestamp": event_class.create_timestamp(),
        "originator_topic": _ENTRY_TOPIC,
        "record": data,
        "recorded_by": recorded_by,
        "digest": digest,
    }
    if target_namespace is not None or issubclass(event_class, Occurred):
        fields["earliest"], fields["latest"] = record.bounds  # the date is never respelled
        fields["originator_topic"] = _OCCURRENCE_TOPIC
    if target_namespace is not None:
        fields["originator_topic"] = _AMENDMENT_TOPIC
        fields["target_namespace"] = target_namespace
        fields["result"] = result
    return new_event(event_class, fields)


def creation_state(
    kind: str,
    data: dict[str, Any],
    recorded_by: str,
    digest: str,
    bounds: tuple[str | None, str | None],
) -> tuple[type[Recorded], dict[str, Any]]:
    """The class and fields (originator id and version aside, in field order) of the
    event `enter` makes of a record of `kind` that it neither respells nor amends: what
    the import's reading workers encode ahead of the decision. `enter` builds the same
    fields (tests/integration/test_slim_import.py holds the stored bytes equal)."""
    event_class = EVENT_CLASSES[kind]
    state: dict[str, Any] = {
        "timestamp": event_class.create_timestamp(),
        "originator_topic": _ENTRY_TOPIC,
        "record": data,
        "recorded_by": recorded_by,
        "digest": digest,
    }
    if issubclass(event_class, Occurred):
        state["earliest"], state["latest"] = bounds
        state["originator_topic"] = _OCCURRENCE_TOPIC
    return event_class, state


def _resolve_references(record: Record, registry: Registry) -> dict[str, Any]:
    """The record's data with every reference checked and spelled as registered."""
    respelled: list[tuple[str, str]] = []
    find, retraction = registry.find, registry.retraction
    for ref in record.references:
        for namespace in LOOKED_UP_IN.get(ref.namespace) or (ref.namespace,):
            known = find(namespace, ref.id)
            if known is not None:
                if (
                    namespace in REGISTRY_KINDS
                    and ref.namespace != "record"
                    and retraction(namespace, known.id) is not None
                ):
                    _refuse_retracted(namespace, known, registry, ref.field)
                if known.id != ref.id:
                    respelled.append((ref.field, known.id))
                break
        else:
            what = _WHAT.get(ref.namespace, ref.namespace)
            raise RecordError(f"unknown {what} '{ref.id}'", field=ref.field)
    # A copy only when something is spelled differently, or when the caller will amend it.
    data = record.data
    if respelled or record.kind in AMENDMENT_KINDS:
        data = _copy(data)
    for field, registered in respelled:
        _rewrite(data, field, registered)
    return data


_WHAT = {"any": "actor, agreement or occurrence", "record": "record"}


def _refuse_retracted(namespace: str, known: Known, registry: Registry, field: str) -> NoReturn:
    retraction = registry.retraction(namespace, known.id)
    assert retraction is not None  # asked just before
    raise RecordError(
        f"{namespace} '{known.id}' was retracted (by '{retraction.id}'); "
        "a new record cannot refer to it",
        field=field,
    )


def _check_amendment(
    record: Record, data: dict[str, Any], registry: Registry, existing: Known | None
) -> tuple[str, dict[str, Any] | None]:
    """Check a correction or retraction against its target; returns the target's namespace
    and, for a correction, the target as it reads once corrected.

    When the same amendment is already recorded (a re-import), it is judged as it was on
    entry, against the target as amended before it, so that unchanged content compares
    equal and adds nothing.
    """
    if existing is not None and existing.target_namespace is not None:
        namespace = existing.target_namespace
        target = registry.find(namespace, data["target"])
        assert target is not None  # an amendment is only ever entered with its target
        earlier = registry.amendments(namespace, target.id)
        ids = [amendment.id.casefold() for amendment in earlier]
        if existing.id.casefold() in ids:
            earlier = earlier[: ids.index(existing.id.casefold())]
        now = current(target, earlier)
    else:
        namespace, target = _target(record, data["target"], registry)
        if target.kind in AMENDMENT_KINDS:
            raise RecordError(
                f"'{target.id}' is a {target.kind}; a {record.kind} must target a record "
                "that is not itself a correction or retraction",
                field="target",
            )
        now = current(target, registry.amendments(namespace, target.id))
        if now.retraction is not None:
            action = "corrected" if record.kind == "correction" else "retracted again"
            raise RecordError(
                f"{target.kind} '{target.id}' was retracted by '{now.retraction.id}'; "
                f"a retracted record cannot be {action}",
                field="target",
            )
        if record.kind == "retraction" and namespace in REGISTRY_KINDS:
            _refuse_if_referred(namespace, target, registry)
    if record.kind == "correction":
        # Equivalent mutant: `id=None`. The target is read only by apply_correction, which
        # reads its kind and data (the id is in the data), so no test can tell them apart.
        target_now = Record(kind=target.kind, id=target.id, data=now.record)
        return namespace, _check_changes(data, target_now, registry)
    return namespace, None


def _check_changes(data: dict[str, Any], target: Record, registry: Registry) -> dict[str, Any]:
    """The correction applied to the target as it now reads must make a valid record;
    returns that record, which the correction's event carries for its readers.

    What it sets is stored as that record's normalized fields, and must name registered
    things, spelled as registered (else answers would depend on how the correction typed
    them); errors name `set.<field>`.
    """
    corrected = apply_correction(target, data["set"])
    try:
        spelled = _resolve_references(corrected, registry)
    except RecordError as error:
        raise RecordError(error.message, field=f"set.{error.field}") from None
    for name in data["set"]:
        if name in spelled:
            data["set"][name] = spelled[name]
    if spelled is corrected.data:  # nothing respelled: the stored changes make this record
        return corrected.data
    # What applying the stored changes makes, now that they name ids as registered.
    return apply_correction(target, data["set"]).data


def _target(record: Record, ident: str, registry: Registry) -> tuple[str, Known]:
    """The one record the target id names; an id that names several is refused."""
    found = [
        (namespace, known)
        for namespace in RECORD_NAMESPACES
        if (known := registry.find(namespace, ident)) is not None
    ]
    assert found  # references were resolved above
    if len(found) > 1:
        kinds = " and ".join(f"{_article(k.kind)} {k.kind}" for _, k in found)
        raise RecordError(
            f"'{ident}' names {kinds}; a {record.kind} must name exactly one record",
            field="target",
        )
    return found[0]


def _refuse_if_referred(namespace: str, target: Known, registry: Registry) -> None:
    """A registry record stays while any live record names it, as recorded or corrected."""
    seen: set[tuple[str, str]] = set()
    for mention in registry.mentions(target.id):
        if mention.target_namespace is not None:  # a correction: its target is what counts
            amended = registry.find(mention.target_namespace, mention.record["target"])
            if amended is None:
                # Equivalent mutant: `break` for `continue`. A correction enters only with
                # its target, and nothing leaves the ledger, so no test can reach here.
                continue
            mention = amended
        key = (mention.namespace, mention.id.casefold())
        # Equivalent mutants: `and` for `or`, and `seen.add(None)`. `seen` only spares
        # reading a record twice (the answer is the same), and the target itself never
        # names itself (validation refuses a record referring to itself), so no test can
        # tell these apart from the original.
        if key in seen or key == (namespace, target.id.casefold()):
            continue
        seen.add(key)
        now = current(mention, registry.amendments(mention.namespace, mention.id))
        if now.retraction is not None:
            continue
        for ref in references_of(mention.kind, now.record):
            if ref.id.casefold() == target.id.casefold() and namespace in namespaces_of(ref):
                raise RecordError(
                    f"{target.kind} '{target.id}' cannot be retracted: {mention.kind} "
                    f"'{mention.id}' still refers to it ({ref.field}); correct or retract "
                    "that record first",
                    field="target",
                )


def _article(word: str) -> str:
    # Equivalent mutant: `word[:1] in "XXaeiouXX"` reads the same, since no kind of
    # record begins with an X (and no kind is empty), so no test can tell them apart.
    return "an" if word[:1] in "aeiou" else "a"


def _check_revocation(data: dict[str, Any], registry: Registry) -> None:
    """Only a notice can be revoked, and only by whoever gave it (FORMAT.md, `revocation`)."""
    target = registry.find("occurrence", data["target"])
    assert target is not None  # references were resolved above
    if target.kind not in REVOCABLE_KINDS:
        raise RecordError(
            f"'{target.id}' is a {target.kind}; a revocation must target a withdrawal or a "
            "suspension",
            field="target",
        )
    given_by = target.record.get("by")
    if given_by is not None and given_by.casefold() != data["by"].casefold():
        raise RecordError(
            f"the {target.kind} '{target.id}' was given by {given_by}; only {given_by} can "
            "revoke it",
            field="by",
        )


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _rewrite(data: dict[str, Any], path: str, value: str) -> None:
    """Set the value at a dotted path such as ``signatories[1].on_behalf_of``."""
    container: Any = data
    parts = _split_path(path)
    for part in parts[:-1]:
        container = container[part]
    container[parts[-1]] = value


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in path.split("."):
        name, _, rest = piece.partition("[")
        if name:
            parts.append(name)
        # Equivalent mutants: `rpartition` for `partition`, and `rest = None`,
        # `removesuffix("[")` or `removeprefix("XX[XX")` below. They differ only after a
        # second index in a row (``a[0][1]``), and no reference path (vocabulary
        # REFERENCE_PATHS) runs through a list of lists, so no record can tell them apart.
        while rest:
            index, _, rest = rest.partition("]")
            parts.append(int(index))
            rest = rest.removeprefix("[")
    return parts
