"""The interchange format's vocabulary: kinds, enumerations, and what a record refers to.

Kept apart from validation (`ledger.records`, which needs msgspec) so that the read
side — projections and queries — can name kinds, find a record's actors and agreements
and hash its content without importing a validation library at start-up.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID, uuid5

import orjson

from ledger.dates import DateSpan, parse_date

REGISTRY_KINDS = ("source", "actor", "post", "agreement")
OCCURRENCE_KINDS = (
    "signing",
    "approval",
    "ratification",
    "entry_into_force",
    "withdrawal",
    "termination",
    "suspension",
    "revocation",
    "implementation",
    "visit",
    "meeting",
    "statement",
    "proposal",
    "accusation",
    "threat",
)
AMENDMENT_KINDS = ("correction", "retraction")
#: What a revocation may revoke: a notice whose effect is still to come or still lasting.
REVOCABLE_KINDS = ("withdrawal", "suspension")
KINDS = REGISTRY_KINDS + OCCURRENCE_KINDS + AMENDMENT_KINDS

ACTOR_TYPES = ("state", "organization", "body", "person", "group", "media")
SOURCE_TYPES = ("news-report", "official-statement", "treaty-text", "database", "other")
RELIABILITIES = ("A", "B", "C", "D", "E", "F")
AGREEMENT_TYPES = (
    "treaty",
    "memorandum-of-understanding",
    "security-agreement",
    "joint-declaration",
    "other",
)
RELATION_TYPES = ("builds_on", "reaffirms", "identical_to", "amends", "supersedes", "implements")
RATIFICATION_METHODS = ("ratification", "acceptance", "approval", "accession", "succession")
IMPLEMENTATION_STATUSES = (
    "not_started",
    "in_progress",
    "largely_complete",
    "complete",
    "stalled",
    "reversed",
)
#: What `ledger agreements --status` may ask for (projections.state works them out).
AGREEMENT_STATUSES = (
    "registered",
    "proposed",
    "approved",
    "signed",
    "in_force",
    "suspended",
    "terminated",
)
STANCES = ("support", "oppose", "clarify", "reaffirm", "deny", "condemn", "neutral")


# --- references ---------------------------------------------------------------------

# (path, namespace, role): `[]` marks a list; role names an actor's part for actors_of.
_Spec = tuple[tuple[str, str, str | None], ...]
_SOURCES: _Spec = (("sources[].source", "source", None),)
_OCCURRENCE_REFS: dict[str, _Spec] = {
    "signing": (
        ("agreement", "agreement", None),
        ("signatories[].actor", "actor", "signatory"),
        ("signatories[].on_behalf_of", "actor", "on_behalf_of"),
        ("overseen_by[]", "actor", "overseen_by"),
    ),
    "approval": (
        ("agreement", "agreement", None),
        ("by", "actor", "by"),
        ("on_behalf_of", "actor", "on_behalf_of"),
    ),
    "ratification": (("agreement", "agreement", None), ("by", "actor", "by")),
    "entry_into_force": (("agreement", "agreement", None), ("for[]", "actor", "for")),
    "withdrawal": (("agreement", "agreement", None), ("by", "actor", "by")),
    "termination": (("agreement", "agreement", None), ("by", "actor", "by")),
    "suspension": (("agreement", "agreement", None), ("by", "actor", "by")),
    # A revocation names the notice it revokes; its agreement is the notice's.
    "revocation": (("target", "occurrence", None), ("by", "actor", "by")),
    "implementation": (("agreement", "agreement", None), ("by[]", "actor", "by")),
    "visit": (("visitor", "actor", "visitor"), ("host", "actor", "host"), ("about[]", "any", None)),
    "meeting": (("participants[]", "actor", "participant"), ("about[]", "any", None)),
    "statement": (("by", "actor", "by"), ("about[]", "any", None)),
    "proposal": (("by", "actor", "by"), ("to", "actor", "to"), ("about[]", "any", None)),
    "accusation": (
        ("by", "actor", "by"),
        ("against[]", "actor", "against"),
        ("about[]", "any", None),
    ),
    "threat": (("by", "actor", "by"), ("against[]", "actor", "against")),
    "correction": (("target", "record", None),),
    "retraction": (("target", "record", None),),
}
REFERENCE_PATHS: dict[str, _Spec] = {
    "source": (),
    "actor": (
        ("part_of", "actor", "part_of"),
        ("country", "actor", "country"),
        ("successors[]", "actor", "successor"),
    ),
    "post": (
        ("holder", "actor", "holder"),
        ("organization", "actor", "organization"),
        *_SOURCES,
    ),
    "agreement": (("parties[]", "actor", "party"), ("relations[].target", "agreement", None)),
    **{kind: (*spec, *_SOURCES) for kind, spec in _OCCURRENCE_REFS.items()},
}


class Reference(NamedTuple):
    """An id a record points at, where it sits, and what kind of record it must name.

    `namespace` is "actor", "agreement", "source", "occurrence", "any" for `about`,
    which may name an actor, an agreement or an occurrence, or "record" for the target
    of a correction or retraction, which may name a record of any kind.

    A named tuple (immutable, as a frozen dataclass, and made in a third of its time):
    every import and replay makes several per record.
    """

    field: str
    namespace: str
    id: str


@functools.cache
def _steps(path: str) -> tuple[tuple[str, bool], ...]:
    return tuple((part.removesuffix("[]"), part.endswith("[]")) for part in path.split("."))


def walk(data: Any, path: str) -> list[tuple[str, Any, Any]]:
    """(field path, container, key) for every value at `path` (``signatories[].actor``).

    A loop over levels rather than recursive generators: every import and replay walks
    each record's reference paths, and this was several per cent of both.
    """
    steps = _steps(path)
    last = len(steps) - 1
    found: list[tuple[str, Any, Any]] = []
    level: list[tuple[str, Any]] = [("", data)]
    for depth, (name, many) in enumerate(steps):
        deeper: list[tuple[str, Any]] = []
        for prefix, node in level:
            if not isinstance(node, Mapping):
                continue
            value = node.get(name)
            if value is None:
                continue
            here = f"{prefix}.{name}" if prefix else name
            if many:
                if depth == last:
                    found.extend((f"{here}[{i}]", value, i) for i in range(len(value)))
                else:
                    deeper.extend((f"{here}[{i}]", item) for i, item in enumerate(value))
            elif depth == last:
                found.append((here, node, name))
            else:
                deeper.append((here, value))
        level = deeper
    return found


_Finder = Callable[[Mapping[str, Any], list[Reference]], None]


def references_of(kind: str, data: Mapping[str, Any]) -> tuple[Reference, ...]:
    """Every id a record of `kind` names: what `walk` finds along its reference paths.

    Each path is compiled once into a function that looks exactly there, since every
    record of an import is walked (a quarter of the decision's time, walked generically).
    """
    found: list[Reference] = []
    for find in _finders(kind):
        find(data, found)
    return tuple(found)


@functools.cache
def _finders(kind: str) -> tuple[_Finder, ...]:
    return tuple(_finder(path, namespace) for path, namespace, _role in REFERENCE_PATHS[kind])


def _finder(path: str, namespace: str) -> _Finder:
    """A function adding the references at `path` to a list, as `walk` would find them."""
    steps = _steps(path)
    if len(steps) == 1 and not steps[0][1]:
        ((name, _),) = steps

        def one(data: Mapping[str, Any], found: list[Reference]) -> None:
            value = data.get(name)
            if value is not None:
                found.append(Reference(name, namespace, value))

        return one
    if len(steps) == 1:
        ((name, _),) = steps

        def each(data: Mapping[str, Any], found: list[Reference]) -> None:
            values = data.get(name)
            if values is not None:
                for index in range(len(values)):
                    found.append(Reference(f"{name}[{index}]", namespace, values[index]))

        return each
    if len(steps) == 2 and steps[0][1] and not steps[1][1]:
        (outer, _), (inner, _) = steps

        def each_item(data: Mapping[str, Any], found: list[Reference]) -> None:
            items = data.get(outer)
            if items is not None:
                for index, item in enumerate(items):
                    if isinstance(item, Mapping):
                        value = item.get(inner)
                        if value is not None:
                            found.append(Reference(f"{outer}[{index}].{inner}", namespace, value))

        return each_item

    def general(data: Mapping[str, Any], found: list[Reference]) -> None:
        for field, container, key in walk(data, path):
            found.append(Reference(field, namespace, container[key]))

    return general


def actors_of(record: Record) -> list[tuple[str, str]]:
    """(role, actor id) for every actor the record involves, for filtering by actor.

    `about` ids are left out: they may name agreements; `Record.references` has them.
    """
    pairs: list[tuple[str, str]] = []
    data = record.data
    for path, role in _actor_paths(record.kind):
        for actor in _values_at(data, path):
            pair = (role, actor)
            if pair not in pairs:
                pairs.append(pair)
    return pairs


def _values_at(data: Any, path: str) -> list[Any]:
    """The values `walk` finds at `path`, without their field paths."""
    level = [data]
    for name, many in _steps(path):
        deeper: list[Any] = []
        for node in level:
            if not isinstance(node, Mapping):
                continue
            value = node.get(name)
            if value is None:
                continue
            if many:
                deeper.extend(value)
            else:
                deeper.append(value)
        level = deeper
    return level


@functools.cache
def _actor_paths(kind: str) -> tuple[tuple[str, str], ...]:
    """The paths of a kind that name actors in a role (every replay asks, per record)."""
    return tuple(
        (path, role)
        for path, namespace, role in REFERENCE_PATHS[kind]
        if namespace == "actor" and role is not None
    )


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


# --- records ------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """One spelling per content, so equal content has equal digests and derived ids.

    (`json.dumps` with these options, through one encoder made once: every import and
    replay spells each record, and making the encoder was a fifth of the time.)
    """
    return _CANONICAL.encode(value)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a record's data: equal content, equal digest.

    orjson with sorted keys writes the very bytes of `canonical_json` for what records
    hold (text, whole numbers, true/false/null, lists and mappings) in a third of the
    time; every import digests every record. A float is spelled differently by the two
    (``2.5e-05`` against ``0.000025``), and only a correction's free-form values can hold one,
    so anything that is not plainly text, whole numbers or containers goes through
    `canonical_json`, as do values orjson refuses (lone surrogates, integers past 64 bits),
    which keeps every digest the ledger ever stored.
    """
    encoded = _orjson_spelling(data)
    if encoded is None:
        encoded = canonical_json(data).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def record_json(data: Mapping[str, Any]) -> str:
    """`canonical_json` of a record as validated (not as corrected, which may hold a
    float), through orjson where its bytes are the same (see `content_digest`): every
    replay writes the JSON text of every record version, and `json`'s encoder was the
    largest single cost of a replay's own work."""
    encoded = _orjson_spelling(data)
    return canonical_json(data) if encoded is None else encoded.decode("utf-8")


def _orjson_spelling(data: Mapping[str, Any]) -> bytes | None:
    """orjson's sorted-key bytes of a record, where they are `canonical_json`'s; else None."""
    if data.get("kind") in _FREE_FORM_KINDS:
        return None
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # lone surrogates, integers past 64 bits, keys that are not text
        return None


#: Kinds whose records carry free-form values (a correction's `set`), floats among them.
_FREE_FORM_KINDS = frozenset({"correction"})


#: Fixed namespace for the ledger's stream ids: uuid5(LEDGER_NAMESPACE, "actor:irq").
LEDGER_NAMESPACE = UUID("6f1c7d2e-5b0a-5e7c-9a3d-2c4b8e1f0a71")


def stream_name(namespace: str, key: str) -> str:
    """What a record's stream id is made from (``actor:irq``): its namespace and its id,
    case folded, so an id however written names one stream. The import's registry keys
    its caches by it too (a string hashes faster than a UUID is made)."""
    return f"{namespace}:{key.casefold()}"


@functools.lru_cache(maxsize=1 << 16)
def stream_id(namespace: str, key: str) -> UUID:
    """The stream of a record: stable, and the same however the id's case is written.

    Remembered: an import asks for the same id when it prefetches and when a record
    refers to it, and uuid5 was ~8 % of an import's time.
    """
    return uuid5(LEDGER_NAMESPACE, stream_name(namespace, key))


def stream_hex(namespace: str, key: str) -> str:
    """`stream_id` as 32 hex digits, made without a `UUID` object (uuid5's own steps: the
    SHA-1 of the namespace's bytes and the name, its version and variant bits set).

    A reading worker makes one for every record it checks and sends it as text: most
    are occurrences, each named once, so neither `stream_id`'s memory nor a `UUID`
    (whose construction was most of uuid5's time) would be of use there.
    """
    digest = bytearray(
        hashlib.sha1(  # uuid5 is SHA-1 by definition (RFC 4122)
            _NAMESPACE_BYTES + stream_name(namespace, key).encode("utf-8"),
            usedforsecurity=False,
        ).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return digest.hex()


_NAMESPACE_BYTES = LEDGER_NAMESPACE.bytes
_PLAIN_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_bounds(date: str) -> tuple[str | None, str | None]:
    """The first and last ISO day an EDTF date may denote.

    A plain day (most dates) is its own bounds once the calendar holds it; other dates
    repeat across records and are worked out once per spelling.
    """
    if len(date) == 10 and _PLAIN_DAY.fullmatch(date):
        try:
            datetime.date.fromisoformat(date)
        except ValueError:
            pass  # not a real day: parse_date explains
        else:
            return date, date
    return _date_bounds(date)


@functools.lru_cache(maxsize=1 << 14)
def _date_bounds(date: str) -> tuple[str | None, str | None]:
    return parse_date(date).iso_bounds


@dataclass(frozen=True)
class Record:
    """A validated record. `data` is its interchange form, `kind` and `id` included.

    Treat `data` as read-only: it is what export writes and what the digest covers.
    """

    kind: str
    id: str
    data: dict[str, Any]

    @classmethod
    def prepared(
        cls,
        data: dict[str, Any],
        digest: str,
        bounds: tuple[str | None, str | None],
        stream: UUID,
        references: list[list[str]],
    ) -> Record:
        """A record validated elsewhere (by a reading worker), with the digest, date
        bounds, stream id and references worked out there (`references` as lists of
        field, namespace and id), kept as if this record had worked them out itself.

        Its fields and kept properties are set in one step rather than through the
        dataclass's frozen ``__init__``: the importing process makes one per record.
        """
        record = cls.__new__(cls)
        vars(record).update(
            kind=data["kind"],
            id=data["id"],
            data=data,
            digest=digest,
            bounds=bounds,
            stream=stream,
            references=tuple(map(Reference._make, references)),
        )
        return record

    @property
    def namespace(self) -> str:
        """Where the id must be unique: corrections share the occurrences' ids space."""
        return self.kind if self.kind in REGISTRY_KINDS else "occurrence"

    @functools.cached_property
    def stream(self) -> UUID:
        """The id of the record's own stream (`stream_id`). Kept, as `digest` is."""
        return stream_id(self.namespace, self.id)

    @functools.cached_property
    def span(self) -> DateSpan | None:
        """The days an occurrence or amendment may have happened; None for registry records."""
        if self.kind in REGISTRY_KINDS:
            return None
        return parse_date(self.data["date"])

    @functools.cached_property
    def references(self) -> tuple[Reference, ...]:
        """Every id the record names, so the ledger can check each exists and has the right
        kind. Kept: an import asks twice (to prefetch a batch, then to decide)."""
        return references_of(self.kind, self.data)

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON of `data`: equal content, equal digest. Kept, so
        a reading worker can work it out and hand it to the importing process with the
        record (see `ledger.parallel_reading`)."""
        return content_digest(self.data)

    @functools.cached_property
    def bounds(self) -> tuple[str | None, str | None]:
        """The first and last ISO day the record's date may denote (None: an open end).

        Asked of occurrences and amendments only. Kept, as `digest` is: it needs the
        record alone, so a reading worker works it out rather than the importing process.
        """
        return date_bounds(self.data["date"])
