"""Interchange records: checked strictly, normalized once, identified stably.

Analysts write records by hand, so the checks are forgiving where the meaning is plain
(a bare id where a list is expected, a bare source id for a citation, an unquoted YAML
date) and strict everywhere else: a field a kind does not have, an unknown enumeration
value or a malformed id is refused with the field's path, never guessed at.

A validated `Record` carries its normalized interchange form in `data`. That form is
what export writes and what content comparison and digests use, so importing an export
yields the same records, and re-importing a file adds nothing.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import hashlib
import math
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import msgspec

from ledger.countries import USER_ASSIGNED_TEXT, is_state_code, iso_country
from ledger.dates import parse_date
from ledger.errors import RecordError
from ledger.vocabulary import (
    ACTOR_TYPES,
    AGREEMENT_TYPES,
    IMPLEMENTATION_STATUSES,
    KINDS,
    OCCURRENCE_KINDS,
    RATIFICATION_METHODS,
    REFERENCE_PATHS,
    REGISTRY_KINDS,
    RELATION_TYPES,
    RELIABILITIES,
    SOURCE_TYPES,
    STANCES,
    Record,
    canonical_json,
)

__all__ = [
    "KINDS",
    "MAX_TEXT",
    "Record",
    "apply_correction",
    "field_names",
    "fields_of",
    "list_field_names",
    "recording_user",
    "required_field_names",
    "struct_of",
    "validate_record",
]

MAX_TEXT = 100_000
MAX_ITEMS = 10_000
MAX_ID = 200
_MAX_DEPTH = 20

#: An id (FORMAT.md v1.1): matched case-insensitively, shown as first registered.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_STATE_CODE = re.compile(r"[A-Za-z]{3}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_ISO_PUBLISHED = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?"
)


# --- values -------------------------------------------------------------------------


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false (YAML reads yes/no/on/off that way: quote them)"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


# Unicode categories Cc (C0, DEL, C1) and Cs (lone surrogates); prose may hold \t and \n.
_CONTROL_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Bidirectional embeddings, overrides and isolates: they reorder how the text around them
# is shown ("Trojan Source"), so a name could read differently from what it says.
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _clean(value: Any, *, multiline: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_describe(value)}")
    text = value.strip()
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"is {len(text)} characters long; at most {MAX_TEXT} are allowed")
    _refuse_hidden_characters(text, _CONTROL_IN_TEXT if multiline else _CONTROL_IN_NAME)
    return text


def _refuse_hidden_characters(text: str, control: re.Pattern[str]) -> None:
    found = control.search(text)
    if found:
        raise ValueError(
            f"contains a control character (U+{ord(found.group()):04X}) at position {found.start()}"
        )
    found = _BIDI_CONTROL.search(text)
    if found:
        raise ValueError(
            f"contains a bidirectional override or isolate character "
            f"(U+{ord(found.group()):04X}) at position {found.start()}"
        )


def _name(value: Any) -> str:
    """One line of text: names, titles, places, tags."""
    return _clean(value, multiline=False)


def _text(value: Any) -> str:
    """Prose that may span lines: summaries, quotes, provisions, reasons."""
    return _clean(value, multiline=True)


def _id_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        raise ValueError("expected one id, not a list")
    if not isinstance(value, str):
        raise ValueError(f"expected an id (text), got {_describe(value)}")
    text = value.strip()
    if not text:
        raise ValueError("an id must not be empty")
    if len(text) > MAX_ID:
        raise ValueError(f"an id is at most {MAX_ID} characters, this one has {len(text)}")
    return text


def _slug(value: Any) -> str:
    """A record's own id: kept as written (the ledger shows it as first registered)."""
    text = _id_text(value)
    if not _ID.fullmatch(text):
        raise ValueError(
            f"{_short(text)} is not a valid id: ids are slugs of letters, digits, '.', '_' "
            "and '-', starting with a letter or digit (e.g. 'signing-mou-2025', 'NATO')"
        )
    return text


def _ref(value: Any) -> str:
    """An id pointing at another record; kept as written, matched case-insensitively later."""
    text = _id_text(value)
    if not _ID.fullmatch(text):
        raise ValueError(
            f"{_short(text)} is not a valid id reference: expected letters, digits, '.', '_' "
            "and '-', starting with a letter or digit (e.g. 'IRQ', 'krg-interior-ministry')"
        )
    return text


def _edtf(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str | datetime.date):
        raise ValueError(f"expected an EDTF date such as 2025-08-14, got {_describe(value)}")
    if isinstance(value, int):
        # YAML reads an unquoted year (`date: 2025`) as a number; it still means the year.
        if not 1 <= value <= 9999:
            raise ValueError(f"{value} is not a valid EDTF date")
        value = f"{value:04d}"
    return parse_date(value).edtf


def _published(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = _name(value)
    if _ISO_PUBLISHED.fullmatch(text):
        try:
            datetime.datetime.fromisoformat(text)
            return text
        except ValueError:
            pass
    raise ValueError(
        f"{_short(text)} is not an ISO date or date and time (e.g. 2025-08-14 or 2025-08-14T10:21)"
    )


def _url(value: Any) -> str:
    text = _name(value)
    if not _URL.fullmatch(text):
        raise ValueError(f"{_short(text)} is not a URL (e.g. https://example.org/page)")
    return text


def _reliability(value: Any) -> str:
    text = _name(value).upper()
    if text not in RELIABILITIES:
        raise ValueError(f"{_short(text)} is not an Admiralty source reliability: one of A-F")
    return text


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _name(value)
        if text not in options:
            raise ValueError(f"{_short(text)} is not one of: {', '.join(options)}")
        return text

    return check


def _as_list(value: Any) -> Any:
    """A lone value where a list is expected is a list of one; too long a list is refused
    before its items are checked one by one."""
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list) and len(value) > MAX_ITEMS:
        raise ValueError(f"has {len(value)} items; at most {MAX_ITEMS} are allowed")
    return value


def _distinct(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value.casefold() in seen:
            raise ValueError(f"lists {_short(value)} twice")
        seen.add(value.casefold())
    return values


def _citation(value: Any) -> Any:
    return {"source": value} if isinstance(value, str) else value


def _signatory(value: Any) -> Any:
    return {"actor": value} if isinstance(value, str) else value


def _json_value(value: Any, depth: int = 0) -> Any:
    """Correction values are free-form until applied; keep them JSON-clean and bounded."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"is nested more than {_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite")
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"has {len(value)} items; at most {MAX_ITEMS} are allowed")
        return [_json_value(item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"has {len(value)} entries; at most {MAX_ITEMS} are allowed")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"field names must be text, got {_describe(key)}")
            out[key] = _json_value(item, depth + 1)
        return out
    raise ValueError(f"unsupported value: {_describe(value)}")


def _changes(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of field to new value, got {_describe(value)}")
    if not value:
        raise ValueError("must name at least one field to change")
    changes: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValueError(f"field names must be text, got {_describe(key)}")
        try:
            changes[key] = _json_value(item, 1)
        except ValueError as error:
            raise ValueError(f"the new {_short(key)} {error}") from None
    return changes


# --- declarations -------------------------------------------------------------------
#
# Each kind is a msgspec Struct; its fields' types carry every constraint that can be
# declared (patterns, lengths, enumerations) in `Meta`, and name their value form in
# `Meta.extra["form"]`. Two things are built from these declarations alone: the fast
# check (msgspec converting a record into its Struct, in C) and the precise check
# (`_Checker`, which walks the same declarations in Python, accepts the format's
# shorthands and says exactly what is wrong). A record msgspec accepts is already in its
# normal form; one it refuses is checked again precisely, for its normal form or for the
# message. `ledger.reference` documents the format from the same declarations.

_NAME_CONTROLS = "\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
_TEXT_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
#: Already clean: not padded with spaces (the precise check strips them), no hidden
#: characters (it explains them) and, in prose, no carriage return (it normalises it).
_CLEAN_NAME = rf"\A(?!\s)[^{_NAME_CONTROLS}]*(?<!\s)\Z"
_CLEAN_TEXT = rf"\A(?!\s)[^{_TEXT_CONTROLS}]*(?<!\s)\Z"


def _one_of(options: tuple[str, ...]) -> str:
    return r"\A(?:" + "|".join(re.escape(option) for option in options) + r")\Z"


def _form(form: str, pattern: str, max_length: int = MAX_TEXT, **extra: Any) -> msgspec.Meta:
    return msgspec.Meta(
        pattern=pattern, min_length=1, max_length=max_length, extra={"form": form, **extra}
    )


def _choice_of(options: tuple[str, ...]) -> msgspec.Meta:
    return _form("choice", _one_of(options), choices=options)


Name = Annotated[str, _form("name", _CLEAN_NAME)]
Text = Annotated[str, _form("text", _CLEAN_TEXT)]
Slug = Annotated[str, _form("slug", _ID.pattern.join((r"\A", r"\Z")), MAX_ID)]
Ref = Annotated[str, _form("ref", _ID.pattern.join((r"\A", r"\Z")), MAX_ID)]
Edtf = Annotated[str, msgspec.Meta(extra={"form": "edtf"})]
Published = Annotated[str, msgspec.Meta(extra={"form": "published"})]
Url = Annotated[str, _form("url", rf"\A[A-Za-z][A-Za-z0-9+.-]*:[^\s{_NAME_CONTROLS}]+\Z")]
Reliability = Annotated[str, _form("reliability", _one_of(RELIABILITIES), choices=RELIABILITIES)]
Changes = Annotated[dict[str, Any], msgspec.Meta(extra={"form": "changes"})]
_ITEMS = msgspec.Meta(max_length=MAX_ITEMS)
_SOME_ITEMS = msgspec.Meta(min_length=1, max_length=MAX_ITEMS)
_DISTINCT = msgspec.Meta(extra={"distinct": True})
NameList = Annotated[list[Name], _ITEMS]
TextList = Annotated[list[Text], _ITEMS]
Refs = Annotated[list[Ref], _ITEMS, _DISTINCT]
RequiredRefs = Annotated[list[Ref], _SOME_ITEMS, _DISTINCT]


class _Part(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A structure inside a record (a citation, a signatory, a relation)."""


class Citation(_Part):
    source: Ref
    attribution: Name | None = None
    quote: Text | None = None


class Signatory(_Part):
    actor: Ref
    on_behalf_of: Ref | None = None


class Relation(_Part):
    type: Annotated[str, _choice_of(RELATION_TYPES)]
    target: Ref


#: A bare id where a structure is expected stands for the structure's first field.
Citations = Annotated[list[Ref | Citation], _ITEMS]
Signatories = Annotated[list[Ref | Signatory], _SOME_ITEMS]


class _Kind(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True, tag_field="kind"
):
    """One kind of record; its tag is the record's `kind`."""


class SourceRecord(_Kind, tag="source", kw_only=True):
    id: Slug
    title: Name
    publisher: Name | None = None
    published: Published | None = None
    url: Url | None = None
    type: Annotated[str, _choice_of(SOURCE_TYPES)] | None = None
    reliability: Reliability | None = None


class ActorRecord(_Kind, tag="actor", kw_only=True):
    id: Slug  # a state's is its ISO 3166 code: settled once `type` is known
    name: Name
    type: Annotated[str, _choice_of(ACTOR_TYPES)]
    aliases: NameList = msgspec.field(default_factory=list)
    part_of: Ref | None = None
    country: Ref | None = None
    start: Edtf | None = None  # when it came into existence
    end: Edtf | None = None  # when it ceased to exist: a dissolved state
    successors: Refs = msgspec.field(default_factory=list)  # the actors that succeeded it


class PostRecord(_Kind, tag="post", kw_only=True):
    id: Slug | None = None  # optional: without one, the ledger derives it from the content
    holder: Ref
    title: Name
    organization: Ref
    start: Edtf | None = None
    end: Edtf | None = None
    sources: Citations = msgspec.field(default_factory=list)


class AgreementRecord(_Kind, tag="agreement", kw_only=True):
    id: Slug
    title: Name
    type: Annotated[str, _choice_of(AGREEMENT_TYPES)]
    parties: Refs = msgspec.field(default_factory=list)
    provisions: TextList = msgspec.field(default_factory=list)
    relations: Annotated[list[Relation], _ITEMS] = msgspec.field(default_factory=list)
    aliases: NameList = msgspec.field(default_factory=list)


class _Occurrence(_Kind, kw_only=True):
    id: Slug | None = None
    date: Edtf
    place: Name | None = None
    summary: Text | None = None
    sources: Citations = msgspec.field(default_factory=list)
    tags: NameList = msgspec.field(default_factory=list)


class SigningRecord(_Occurrence, tag="signing", kw_only=True):
    agreement: Ref
    signatories: Signatories
    overseen_by: Refs = msgspec.field(default_factory=list)


class ApprovalRecord(_Occurrence, tag="approval", kw_only=True):
    agreement: Ref
    by: Ref
    on_behalf_of: Ref | None = None


class RatificationRecord(_Occurrence, tag="ratification", kw_only=True):
    agreement: Ref
    by: Ref
    method: Annotated[str, _choice_of(RATIFICATION_METHODS)] = "ratification"


class EntryIntoForceRecord(_Occurrence, tag="entry_into_force", kw_only=True):
    agreement: Ref
    for_: Refs = msgspec.field(default_factory=list, name="for")


class WithdrawalRecord(_Occurrence, tag="withdrawal", kw_only=True):
    agreement: Ref
    by: Ref
    effective: Edtf | None = None


class TerminationRecord(_Occurrence, tag="termination", kw_only=True):
    agreement: Ref
    by: Ref | None = None


class SuspensionRecord(_Occurrence, tag="suspension", kw_only=True):
    agreement: Ref
    by: Ref | None = None
    until: Edtf | None = None


class RevocationRecord(_Occurrence, tag="revocation", kw_only=True):
    target: Ref
    by: Ref
    reason: Text | None = None


class ImplementationRecord(_Occurrence, tag="implementation", kw_only=True):
    agreement: Ref
    status: Annotated[str, _choice_of(IMPLEMENTATION_STATUSES)]
    by: Refs = msgspec.field(default_factory=list)


class VisitRecord(_Occurrence, tag="visit", kw_only=True):
    visitor: Ref
    host: Ref
    purpose: Text | None = None
    about: Refs = msgspec.field(default_factory=list)


class MeetingRecord(_Occurrence, tag="meeting", kw_only=True):
    participants: RequiredRefs
    about: Refs = msgspec.field(default_factory=list)


class StatementRecord(_Occurrence, tag="statement", kw_only=True):
    by: Ref
    stance: Annotated[str, _choice_of(STANCES)]
    about: Refs = msgspec.field(default_factory=list)
    quote: Text | None = None


class ProposalRecord(_Occurrence, tag="proposal", kw_only=True):
    by: Ref
    to: Ref | None = None
    about: Refs = msgspec.field(default_factory=list)


class AccusationRecord(_Occurrence, tag="accusation", kw_only=True):
    by: Ref
    against: RequiredRefs
    about: Refs = msgspec.field(default_factory=list)


class ThreatRecord(_Occurrence, tag="threat", kw_only=True):
    by: Ref
    against: RequiredRefs
    condition: Text | None = None


class CorrectionRecord(_Occurrence, tag="correction", kw_only=True):
    target: Ref
    set_: Changes = msgspec.field(name="set")
    reason: Text


class RetractionRecord(_Occurrence, tag="retraction", kw_only=True):
    target: Ref
    reason: Text


# --- the precise check, built from the declarations -----------------------------------


@dataclass(frozen=True)
class Form:
    """A single value checked by the form's own function (`FORMS`); `choices` for an
    enumeration."""

    form: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nullable:
    """An optional field: null is the same as leaving it out."""

    inner: Node


@dataclass(frozen=True)
class ListOf:
    """A list; a lone value is a list of one, null an empty list."""

    item: Node
    at_least_one: bool
    distinct: bool


@dataclass(frozen=True)
class Part:
    """A structure inside a record (`Citation`, `Signatory`, `Relation`)."""

    struct: type[msgspec.Struct]


@dataclass(frozen=True)
class Shorthand:
    """A structure that a bare id may stand for: the id is its first field."""

    struct: type[msgspec.Struct]


Node = Form | Nullable | ListOf | Part | Shorthand


@dataclass(frozen=True)
class FieldSpec:
    """One declared field: its interchange name, whether it is required, its default
    (None for none or an empty one) and how its value is checked."""

    key: str
    required: bool
    default: Any
    node: Node


def _node(annotation: Any) -> Node:
    metas: list[msgspec.Meta] = []
    if get_origin(annotation) is Annotated:
        annotation, *extras = get_args(annotation)
        metas = [meta for meta in extras if isinstance(meta, msgspec.Meta)]
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) < len(get_args(annotation)):
            (inner,) = members
            return Nullable(_node(inner))
        (struct,) = [arg for arg in members if _is_struct(arg)]
        return Shorthand(struct)
    if origin is list:
        (item,) = get_args(annotation)
        return ListOf(
            _node(item),
            at_least_one=any((meta.min_length or 0) > 0 for meta in metas),
            distinct=any((meta.extra or {}).get("distinct") for meta in metas),
        )
    if _is_struct(annotation):
        return Part(annotation)
    extra: dict[str, Any] = {}
    for meta in metas:
        extra.update(meta.extra or {})
    return Form(extra["form"], tuple(extra.get("choices", ())))


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


@functools.cache
def fields_of(struct: type[msgspec.Struct]) -> tuple[FieldSpec, ...]:
    """A struct's fields in the order they are declared, base class first (msgspec puts
    keyword-only fields of a subclass first; messages and the reference list them so)."""
    hints = get_type_hints(struct, include_extras=True)
    infos = {info.name: info for info in msgspec.structs.fields(struct)}
    order = [
        name
        for klass in reversed(struct.__mro__)
        for name in vars(klass).get("__annotations__", {})
        if name in infos
    ]
    specs = []
    for name in dict.fromkeys(order):
        info = infos[name]
        default = (
            None if info.required or info.default in (None, msgspec.NODEFAULT) else info.default
        )
        specs.append(FieldSpec(info.encode_name, info.required, default, _node(hints[name])))
    return tuple(specs)


FORMS: dict[str, Callable[[Any], Any]] = {
    "name": _name,
    "text": _text,
    "slug": _slug,
    "ref": _ref,
    "edtf": _edtf,
    "published": _published,
    "url": _url,
    "reliability": _reliability,
    "changes": _changes,
}


class _Refused(Exception):
    """The first problem found, where it is; `reason` is "missing" or "extra" when the
    message depends on the record's kind."""

    def __init__(self, loc: tuple[str | int, ...], message: str, reason: str = "") -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.reason = reason


def _check_fields(
    struct: type[msgspec.Struct], value: Mapping[Any, Any], loc: tuple[str | int, ...]
) -> dict[str, Any]:
    """Every declared field in order, then any field not declared: the first problem wins."""
    out: dict[str, Any] = {}
    specs = fields_of(struct)
    for spec in specs:
        if spec.key not in value:
            if spec.required:
                raise _Refused((*loc, spec.key), "", "missing")
            if spec.default is not None:
                out[spec.key] = spec.default
            continue
        checked = _check_value(spec.node, value[spec.key], (*loc, spec.key))
        if checked is None or checked == [] or checked == {}:
            continue
        out[spec.key] = checked
    known = _keys_of(struct)
    for key in value:
        if key not in known:
            raise _Refused((*loc, key), "", "extra")
    return out


@functools.cache
def _keys_of(struct: type[msgspec.Struct]) -> frozenset[str]:
    return frozenset(spec.key for spec in fields_of(struct))


def _check_value(node: Node, value: Any, loc: tuple[str | int, ...]) -> Any:
    if isinstance(node, Form):
        check = _choice(node.choices) if node.form == "choice" else FORMS[node.form]
        try:
            return check(value)
        except ValueError as error:
            raise _Refused(loc, str(error)) from None
    if isinstance(node, Nullable):
        return None if value is None else _check_value(node.inner, value, loc)
    if isinstance(node, ListOf):
        try:
            items = _as_list(value)
        except ValueError as error:
            raise _Refused(loc, str(error)) from None
        if not isinstance(items, list):
            raise _Refused(loc, f"expected a list, got {_describe(items)}")
        checked = [_check_value(node.item, item, (*loc, i)) for i, item in enumerate(items)]
        if node.at_least_one and not checked:
            raise _Refused(loc, "must not be empty")
        if node.distinct:
            try:
                _distinct(checked)
            except ValueError as error:
                raise _Refused(loc, str(error)) from None
        return checked
    if isinstance(node, Shorthand) and isinstance(value, str):
        value = {fields_of(node.struct)[0].key: value}
    if not isinstance(value, Mapping):
        raise _Refused(loc, f"expected a mapping of field names to values, got {_describe(value)}")
    return _check_fields(node.struct, value, loc)


# --- the fast check -------------------------------------------------------------------


#: A year, month or day, perhaps qualified: `ledger.dates` reads these without edtf.
_PLAIN_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?[~?%]?")


def _edtf_text(text: str) -> str:
    """A plain year, month or day (most dates) is seen at once, by the test `ledger.dates`
    applies to it; any other date is worked out once per spelling."""
    match = _PLAIN_DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
        try:
            if datetime.date(int(year), int(month or 1), int(day or 1)).year >= 1:
                return text
        except ValueError:
            pass
    return _edtf_once(text)


@functools.lru_cache(maxsize=16384)
def _edtf_once(text: str) -> str:
    return _edtf(text)


#: What msgspec cannot declare, checked in Python after it: by form.
_PYTHON_FORMS: dict[str, Callable[[Any], Any]] = {
    "edtf": _edtf_text,
    "published": _published,
    "changes": _changes,
}


@dataclass(frozen=True)
class _Plan:
    """What the fast check does for one kind beyond msgspec's conversion."""

    struct: type[msgspec.Struct]
    order: tuple[str, ...]
    python_checks: tuple[tuple[str, Callable[[Any], Any]], ...]
    distinct: tuple[str, ...]
    shorthands: tuple[tuple[str, str], ...]
    defaults: tuple[tuple[str, Any], ...]


def _plan(struct: type[msgspec.Struct]) -> _Plan:
    checks, distinct, shorthands, defaults = [], [], [], []
    for spec in fields_of(struct):
        node = spec.node.inner if isinstance(spec.node, Nullable) else spec.node
        if isinstance(node, Form) and node.form in _PYTHON_FORMS:
            checks.append((spec.key, _PYTHON_FORMS[node.form]))
        if isinstance(node, ListOf):
            if node.distinct:
                distinct.append(spec.key)
            if isinstance(node.item, Shorthand):
                shorthands.append((spec.key, fields_of(node.item.struct)[0].key))
            item = node.item
            for part in (item.struct,) if isinstance(item, Part | Shorthand) else ():
                _only_declared(part)
        if spec.default is not None:
            defaults.append((spec.key, spec.default))
    order = ("kind", *(spec.key for spec in fields_of(struct)))
    return _Plan(struct, order, tuple(checks), tuple(distinct), tuple(shorthands), tuple(defaults))


def _only_declared(struct: type[msgspec.Struct]) -> None:
    """The fast check runs Python checks on a record's own fields only: a structure inside
    it must be checked by its declarations alone."""
    for spec in fields_of(struct):
        node = spec.node.inner if isinstance(spec.node, Nullable) else spec.node
        if not isinstance(node, Form) or node.form in _PYTHON_FORMS:
            raise TypeError(f"{struct.__name__}.{spec.key}: the fast check cannot take it")


def _fast(raw: Any) -> dict[str, Any] | None:
    """The normal form of a record already written in it, or None: then the precise check
    decides (shorthands, unquoted YAML values, spaces to strip, or a refusal to explain)."""
    kind = raw.get("kind") if isinstance(raw, dict) else None
    plan = _PLANS.get(kind) if isinstance(kind, str) else None
    if plan is None:
        return None
    try:
        data: dict[str, Any] = msgspec.to_builtins(msgspec.convert(raw, plan.struct))
    except (msgspec.ValidationError, UnicodeEncodeError):
        # msgspec reads some text as UTF-8 to check it (a pattern, an item of a list of
        # constrained text) and a lone surrogate cannot be: the precise check names the
        # field and the character, as it does for every other field.
        return None
    for key, check in plan.python_checks:
        value = data.get(key)
        if value is not None:
            try:
                data[key] = check(value)
            except ValueError:
                return None
    for key in plan.distinct:
        values = data.get(key)
        if values and len({value.casefold() for value in values}) != len(values):
            return None
    for key, first in plan.shorthands:
        items = data.get(key)
        if items:
            data[key] = [{first: item} if isinstance(item, str) else item for item in items]
    for key, default in plan.defaults:
        data.setdefault(key, default)
    return {key: data[key] for key in plan.order if key in data}


_STRUCTS: dict[str, type[_Kind]] = {
    struct.__struct_config__.tag: struct  # type: ignore[misc]
    for struct in (
        SourceRecord,
        ActorRecord,
        PostRecord,
        AgreementRecord,
        SigningRecord,
        ApprovalRecord,
        RatificationRecord,
        EntryIntoForceRecord,
        WithdrawalRecord,
        TerminationRecord,
        SuspensionRecord,
        RevocationRecord,
        ImplementationRecord,
        VisitRecord,
        MeetingRecord,
        StatementRecord,
        ProposalRecord,
        AccusationRecord,
        ThreatRecord,
        CorrectionRecord,
        RetractionRecord,
    )
}
_PLANS = {kind: _plan(struct) for kind, struct in _STRUCTS.items()}


def field_names(kind: str) -> tuple[str, ...]:
    """The fields a kind has, as written in the interchange format (without `kind`)."""
    return tuple(spec.key for spec in fields_of(_STRUCTS[kind]))


def required_field_names(kind: str) -> tuple[str, ...]:
    """The fields a record of this kind must have (without `kind`), as declared."""
    return tuple(spec.key for spec in fields_of(_STRUCTS[kind]) if spec.required)


def list_field_names(kind: str) -> tuple[str, ...]:
    """The fields of a kind that hold lists, for callers that build records from flags."""
    return tuple(spec.key for spec in fields_of(_STRUCTS[kind]) if isinstance(spec.node, ListOf))


def struct_of(kind: str) -> type[msgspec.Struct]:
    """The struct that declares records of `kind`: its fields, their types and constraints
    are what both checks and the format's reference (`ledger.reference`) are built from."""
    return _STRUCTS[kind]


#: Every field some correction could set: checked again as the target's kind on entry.
_AMENDABLE_FIELDS = frozenset(
    name
    for kind in (*REGISTRY_KINDS, *OCCURRENCE_KINDS)
    for name in field_names(kind)
    if name != "id"
)


def validate_record(raw: Mapping[str, Any]) -> Record:
    """Check one interchange record and return its normalized form.

    Raises RecordError naming the first problem's field path (``signatories[1].actor``).
    """
    try:
        data = _fast(raw) or _precise(raw)
    except RecursionError:
        raise RecordError("the record is nested too deeply") from None
    kind = data["kind"]
    _check(kind, data)
    if "id" not in data:
        data["id"] = _derived_id(data)
    return Record(kind, data["id"], data)


def apply_correction(target: Record, changes: Mapping[str, Any]) -> Record:
    """The target as corrected: `changes` replace whole top-level fields, None removes one.

    The result is checked as the target's kind, so a correction can never produce a
    record that could not have been imported. Errors name ``set.<field>``.
    """
    if not isinstance(changes, Mapping) or not changes:
        raise RecordError("a correction must set at least one field", field="set")
    allowed = set(field_names(target.kind)) - {"id"}
    for name in changes:
        if name in ("kind", "id"):
            raise RecordError(
                f"a correction cannot change '{name}'; retract the record and record it anew",
                field=f"set.{name}",
            )
        if name not in allowed:
            raise RecordError(
                f"{_article(target.kind)} {target.kind} record has no field {_short(str(name))}",
                field=f"set.{name}",
            )
    merged = dict(target.data)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    try:
        corrected = validate_record(merged)
    except RecordError as error:
        top = (error.field or "").split(".")[0].split("[")[0]
        field = f"set.{error.field}" if top in changes else "set"
        raise RecordError(error.message, field=field) from None
    return corrected


def recording_user(name: str) -> str:
    """Who is recording, checked as any name is: audits show it beside every record.

    A control or bidirectional character could make an audit line read as someone else,
    and the read models keep at most `MAX_ID` characters of it.
    """
    text = name.strip()
    where = "the recording user (--user or $LEDGER_USER)"
    if not text:
        raise RecordError(f"{where} must not be empty")
    if len(text) > MAX_ID:
        raise RecordError(f"{where} is {len(text)} characters long; at most {MAX_ID} are allowed")
    try:
        _refuse_hidden_characters(text, _CONTROL_IN_NAME)
    except ValueError as error:
        raise RecordError(f"{where} {error}") from None
    return text


# --- helpers ------------------------------------------------------------------------


def _precise(raw: Any) -> dict[str, Any]:
    """The record checked field by field from its declarations: its normal form, or the
    first problem as a RecordError naming the field's path."""
    if not isinstance(raw, Mapping):
        raise RecordError(
            f"a record must be a mapping of field names to values, got {_describe(raw)}"
        )
    for key in raw:
        if not isinstance(key, str):
            raise RecordError(f"field names must be text, got {_describe(key)}", field=str(key))
    kind = raw.get("kind")
    if kind is None:
        raise RecordError(f"a record needs a 'kind' (one of: {', '.join(KINDS)})", field="kind")
    if not isinstance(kind, str) or kind not in _STRUCTS:
        shown = _short(kind) if isinstance(kind, str) else _describe(kind)
        close = difflib.get_close_matches(kind, KINDS, n=2) if isinstance(kind, str) else []
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise RecordError(
            f"unknown kind {shown}: {hint}expected one of {', '.join(KINDS)}", field="kind"
        )
    body = {key: value for key, value in raw.items() if key != "kind"}
    try:
        return {"kind": kind, **_check_fields(_STRUCTS[kind], body, ())}
    except _Refused as refused:
        raise RecordError(_message(kind, refused), field=_path(refused.loc)) from None


def _check(kind: str, data: dict[str, Any]) -> None:
    """Rules that span fields, which the models check one at a time."""
    if kind == "actor":
        data["id"] = _actor_id(data["id"], data["type"])
        for field in ("part_of", "country"):
            if data.get(field, "").casefold() == data["id"].casefold():
                raise RecordError("an actor cannot refer to itself", field=field)
        for index, successor in enumerate(data.get("successors", [])):
            if successor.casefold() == data["id"].casefold():
                raise RecordError("an actor cannot succeed itself", field=f"successors[{index}]")
        _check_period(data, "the actor")
    elif kind == "agreement":
        for index, relation in enumerate(data.get("relations", [])):
            if relation["target"].casefold() == data["id"].casefold():
                raise RecordError(
                    "an agreement cannot relate to itself", field=f"relations[{index}].target"
                )
    elif kind == "post":
        _check_period(data, "the post")
    elif kind == "correction":
        for name in data["set"]:
            if name in ("kind", "id"):
                raise RecordError(
                    f"a correction cannot change '{name}'; retract the record and record it anew",
                    field=f"set.{name}",
                )
            if name not in _AMENDABLE_FIELDS:
                raise RecordError(f"no record has a field {_short(name)}", field=f"set.{name}")


def _actor_id(ident: str, actor_type: str) -> str:
    """A state's id is its ISO 3166 code, in upper case; no other actor may take one."""
    if actor_type == "state":
        if not _STATE_CODE.fullmatch(ident) or not is_state_code(ident):
            raise RecordError(
                f"a state's id must be its ISO 3166-1 alpha-3 code (e.g. IRQ), the ISO 3166-3 "
                f"code of a former country (e.g. SUN), or a user-assigned code "
                f"({USER_ASSIGNED_TEXT}); {_short(ident)} is none of these",
                field="id",
            )
        return ident.upper()
    country = iso_country(ident)
    if country is not None:
        raise RecordError(
            f"{_short(ident)} is the ISO 3166 code of {country}; only a state may take it as "
            f"its id: choose a name-like id for this {actor_type}",
            field="id",
        )
    return ident


def _check_period(data: Mapping[str, Any], what: str) -> None:
    """A `start` and `end` that cannot both be true are refused, naming `end`."""
    if "start" in data and "end" in data:
        start, end = parse_date(data["start"]), parse_date(data["end"])
        if start.earliest and end.latest and start.earliest > end.latest:
            raise RecordError(f"{what} ends before it starts", field="end")


def _derived_id(data: Mapping[str, Any]) -> str:
    """A stable id from content: re-importing a record without an id adds nothing.

    Referenced ids are hashed in lower case because the ledger matches them without
    regard to case; ``IRQ`` and ``irq`` are the same record.
    """
    view = {key: value for key, value in data.items() if key != "id"}
    copied: set[str] = set()
    for top, many, inner in _REFERENCE_STEPS[data["kind"]]:
        value = view.get(top)
        if value is None:
            continue
        if inner is None:
            view[top] = [item.lower() for item in value] if many else value.lower()
            continue
        if top not in copied:  # the record's own data stays as written
            value = view[top] = [dict(item) for item in value]
            copied.add(top)
        for item in value:
            if item.get(inner) is not None:
                item[inner] = item[inner].lower()
    digest = hashlib.sha256(canonical_json(view).encode("utf-8")).hexdigest()[:12]
    if data["kind"] == "post":
        middle = _slugify(data["holder"])
    else:
        middle = _slugify(data["date"]) or "undated"
    return f"{data['kind']}-{middle}-{digest}"


def _reference_steps(path: str) -> tuple[str, bool, str | None]:
    """``agreement`` → (agreement, False, None); ``about[]`` → (about, True, None);
    ``signatories[].actor`` → (signatories, True, actor): the only shapes references take."""
    top, _, inner = path.partition("[].")
    if inner:
        return top, True, inner
    if "." in path:
        raise ValueError(f"a reference path the derived id cannot follow: {path}")
    return path.removesuffix("[]"), path.endswith("[]"), None


_REFERENCE_STEPS = {
    kind: tuple(_reference_steps(path) for path, _namespace, _role in paths)
    for kind, paths in REFERENCE_PATHS.items()
}


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(kind: str, refused: _Refused) -> str:
    loc = refused.loc
    name = str(loc[-1])
    where = f"{_article(kind)} {kind} record" if len(loc) == 1 else "this entry"
    if refused.reason == "missing":
        return f"{where} needs '{name}'"
    if refused.reason == "extra":
        if len(loc) == 1:
            return (
                f"{_article(kind)} {kind} record has no field {_short(name)} (its fields: "
                + ", ".join(field_names(kind))
                + ")"
            )
        return f"unknown field {_short(name)}"
    return refused.message
