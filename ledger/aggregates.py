"""Deciding what enters the ledger: no I/O, no clock, no database.

A record enters as the creation event of its own stream, or not at all. The decision
needs to know what the ledger already holds, which it asks of a `Registry` (a port: the
application backs it with the event store, tests with a dict). The rules:

* an id already taken by the same content adds nothing (re-import is idempotent);
* an id taken by different content is refused: the analyst sends a correction;
* every reference must name something registered (matched case-insensitively), and is
  rewritten to the registered spelling so that answers never depend on how it was typed;
* a correction or retraction must target an occurrence that is not itself one, and a
  correction's changes must make a valid record of the target's kind;
* a revocation must target a withdrawal or suspension, by the actor who gave it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.errors import RecordError
from ledger.events import EVENT_CLASSES, Occurred
from ledger.records import apply_correction
from ledger.vocabulary import AMENDMENT_KINDS, REVOCABLE_KINDS, Record, Reference

#: Fixed namespace for the ledger's stream ids: uuid5(LEDGER_NAMESPACE, "actor:irq").
LEDGER_NAMESPACE = UUID("6f1c7d2e-5b0a-5e7c-9a3d-2c4b8e1f0a71")

#: Where an `about` reference may point, in the order it is looked up.
ANY_NAMESPACES = ("actor", "agreement", "occurrence")


def namespaces_of(ref: Reference) -> tuple[str, ...]:
    """Where a reference is looked up, in order: `about` may name more than one kind."""
    return ANY_NAMESPACES if ref.namespace == "any" else (ref.namespace,)


@functools.lru_cache(maxsize=1 << 16)
def stream_id(namespace: str, key: str) -> UUID:
    """The stream of a record: stable, and the same however the id's case is written.

    Remembered: an import asks for the same id when it prefetches, when a record refers
    to it and when it creates the stream, and uuid5 was ~8 % of an import's time.
    """
    return uuid5(LEDGER_NAMESPACE, f"{namespace}:{key.casefold()}")


@dataclass(frozen=True)
class Known:
    """What the decision needs to know of a record already in the ledger."""

    id: str
    kind: str
    digest: str
    record: dict[str, Any]
    recorded_by: str


class Registry(Protocol):
    def find(self, namespace: str, key: str) -> Known | None:
        """The record registered under this id in this namespace, if any."""


class Entry(Aggregate):
    """One record in the ledger: immutable once entered."""

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


def enter(record: Record, registry: Registry, recorded_by: str) -> Entry | None:
    """Decide whether `record` enters the ledger: the new entry, or None if already there."""
    data = _resolve_references(record, registry)
    if record.kind in AMENDMENT_KINDS:
        _check_amendment(record, data, registry)
    elif record.kind == "revocation":
        _check_revocation(data, registry)
    resolved = Record(kind=record.kind, id=data["id"], data=data)
    existing = registry.find(record.namespace, record.id)
    if existing is not None:
        if existing.digest == resolved.digest:
            return None
        raise RecordError(
            f"id '{record.id}' is already taken by a different {existing.kind} "
            f"(entered by {existing.recorded_by}); send a correction instead",
            field="id",
        )
    event_class = EVENT_CLASSES[record.kind]
    kwargs: dict[str, Any] = {"record": data, "recorded_by": recorded_by, "digest": resolved.digest}
    aggregate_class: type[Entry] = Entry
    if issubclass(event_class, Occurred):
        span = record.span
        assert span is not None
        kwargs["earliest"] = span.earliest.isoformat() if span.earliest else None
        kwargs["latest"] = span.latest.isoformat() if span.latest else None
        aggregate_class = Occurrence
    return aggregate_class._create(event_class, id=stream_id(record.namespace, record.id), **kwargs)


def _resolve_references(record: Record, registry: Registry) -> dict[str, Any]:
    """The record's data with every reference checked and spelled as registered."""
    respelled: list[tuple[str, str]] = []
    for ref in record.references:
        for namespace in namespaces_of(ref):
            known = registry.find(namespace, ref.id)
            if known is not None:
                if known.id != ref.id:
                    respelled.append((ref.field, known.id))
                break
        else:
            what = "actor, agreement or occurrence" if ref.namespace == "any" else ref.namespace
            raise RecordError(f"unknown {what} '{ref.id}'", field=ref.field)
    # A copy only when something is spelled differently, or when the caller will amend it.
    data = _copy(record.data) if respelled or record.kind in AMENDMENT_KINDS else record.data
    for field, registered in respelled:
        _rewrite(data, field, registered)
    return data


def _check_amendment(record: Record, data: dict[str, Any], registry: Registry) -> None:
    target = registry.find("occurrence", data["target"])
    assert target is not None  # references were resolved above
    if target.kind in AMENDMENT_KINDS:
        raise RecordError(
            f"'{target.id}' is a {target.kind}; a {record.kind} must target an occurrence",
            field="target",
        )
    if record.kind == "correction":
        target_record = Record(kind=target.kind, id=target.id, data=target.record)
        corrected = apply_correction(target_record, data["set"])
        # What the correction sets must name registered things too, spelled as registered
        # (else answers would depend on how the correction typed them); errors name `set.`.
        try:
            spelled = _resolve_references(corrected, registry)
        except RecordError as error:
            raise RecordError(error.message, field=f"set.{error.field}") from None
        for name in data["set"]:
            if name in spelled:
                data["set"][name] = spelled[name]


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
        while rest:
            index, _, rest = rest.partition("]")
            parts.append(int(index))
            rest = rest.removeprefix("[")
    return parts
