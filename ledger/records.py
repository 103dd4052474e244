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
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

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
    RELATION_TYPES,
    RELIABILITIES,
    SOURCE_TYPES,
    STANCES,
    Record,
    canonical_json,
    walk,
)

__all__ = [
    "KINDS",
    "MAX_TEXT",
    "Record",
    "apply_correction",
    "field_names",
    "list_field_names",
    "model_of",
    "required_field_names",
    "validate_record",
]

MAX_TEXT = 100_000
MAX_ITEMS = 10_000
MAX_ID = 200
_MAX_DEPTH = 20

_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
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
    found = (_CONTROL_IN_TEXT if multiline else _CONTROL_IN_NAME).search(text)
    if found:
        raise ValueError(
            f"contains a control character (U+{ord(found.group()):04X}) at position {found.start()}"
        )
    return text


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
    text = _id_text(value)
    if not _SLUG.fullmatch(text):
        raise ValueError(
            f"{_short(text)} is not a valid id: ids are lower-case slugs of letters a-z, "
            "digits, '.', '_' and '-', starting with a letter or digit (e.g. 'signing-mou-2025')"
        )
    return text


def _ref(value: Any) -> str:
    """An id pointing at another record; kept as written, matched case-insensitively later."""
    text = _id_text(value)
    if not _REF.fullmatch(text):
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
    return _json_value(value)


Name = Annotated[str, BeforeValidator(_name)]
Text = Annotated[str, BeforeValidator(_text)]
Slug = Annotated[str, BeforeValidator(_slug)]
Ref = Annotated[str, BeforeValidator(_ref)]
Edtf = Annotated[str, BeforeValidator(_edtf)]
NameList = Annotated[list[Name], BeforeValidator(_as_list)]
TextList = Annotated[list[Text], BeforeValidator(_as_list)]
Refs = Annotated[list[Ref], BeforeValidator(_as_list), AfterValidator(_distinct)]
RequiredRefs = Annotated[
    list[Ref], BeforeValidator(_as_list), AfterValidator(_distinct), Field(min_length=1)
]


# --- models -------------------------------------------------------------------------


class _Model(BaseModel):
    # defer_build: a model's validator is built on its first use, not at import, so the
    # queries (which never validate) start ~0.1 s sooner; an import builds each once.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Citation(_Model):
    source: Ref
    attribution: Name | None = None
    quote: Text | None = None


class Signatory(_Model):
    actor: Ref
    on_behalf_of: Ref | None = None


class Relation(_Model):
    type: Annotated[str, BeforeValidator(_choice(RELATION_TYPES))]
    target: Ref


Citations = Annotated[
    list[Annotated[Citation, BeforeValidator(_citation)]], BeforeValidator(_as_list)
]


class SourceModel(_Model):
    id: Slug
    title: Name
    publisher: Name | None = None
    published: Annotated[str, BeforeValidator(_published)] | None = None
    url: Annotated[str, BeforeValidator(_url)] | None = None
    type: Annotated[str, BeforeValidator(_choice(SOURCE_TYPES))] | None = None
    reliability: Annotated[str, BeforeValidator(_reliability)] | None = None


class ActorModel(_Model):
    id: Ref  # a slug, or a state's alpha-3 code: settled once `type` is known
    name: Name
    type: Annotated[str, BeforeValidator(_choice(ACTOR_TYPES))]
    aliases: NameList = []
    part_of: Ref | None = None
    country: Ref | None = None
    start: Edtf | None = None  # when it came into existence
    end: Edtf | None = None  # when it ceased to exist: a dissolved state
    successors: Refs = []  # the actors that succeeded it


class PostModel(_Model):
    id: Slug | None = None  # posts have no analyst id; export writes the derived one
    holder: Ref
    title: Name
    organization: Ref
    start: Edtf | None = None
    end: Edtf | None = None
    sources: Citations = []


class AgreementModel(_Model):
    id: Slug
    title: Name
    type: Annotated[str, BeforeValidator(_choice(AGREEMENT_TYPES))]
    parties: Refs = []
    provisions: TextList = []
    relations: Annotated[list[Relation], BeforeValidator(_as_list)] = []
    aliases: NameList = []


class _Occurrence(_Model):
    id: Slug | None = None
    date: Edtf
    place: Name | None = None
    summary: Text | None = None
    sources: Citations = []
    tags: NameList = []


class SigningModel(_Occurrence):
    agreement: Ref
    signatories: Annotated[
        list[Annotated[Signatory, BeforeValidator(_signatory)]],
        BeforeValidator(_as_list),
        Field(min_length=1),
    ]
    overseen_by: Refs = []


class ApprovalModel(_Occurrence):
    agreement: Ref
    by: Ref
    on_behalf_of: Ref | None = None


class RatificationModel(_Occurrence):
    agreement: Ref
    by: Ref
    method: Annotated[str, BeforeValidator(_choice(RATIFICATION_METHODS))] = "ratification"


class EntryIntoForceModel(_Occurrence):
    agreement: Ref
    for_: Refs = Field(default=[], alias="for")


class WithdrawalModel(_Occurrence):
    agreement: Ref
    by: Ref
    effective: Edtf | None = None


class TerminationModel(_Occurrence):
    agreement: Ref
    by: Ref | None = None


class SuspensionModel(_Occurrence):
    agreement: Ref
    by: Ref | None = None
    until: Edtf | None = None


class RevocationModel(_Occurrence):
    target: Ref
    by: Ref
    reason: Text | None = None


class ImplementationModel(_Occurrence):
    agreement: Ref
    status: Annotated[str, BeforeValidator(_choice(IMPLEMENTATION_STATUSES))]
    by: Refs = []


class VisitModel(_Occurrence):
    visitor: Ref
    host: Ref
    purpose: Text | None = None
    about: Refs = []


class MeetingModel(_Occurrence):
    participants: RequiredRefs
    about: Refs = []


class StatementModel(_Occurrence):
    by: Ref
    stance: Annotated[str, BeforeValidator(_choice(STANCES))]
    about: Refs = []
    quote: Text | None = None


class ProposalModel(_Occurrence):
    by: Ref
    to: Ref | None = None
    about: Refs = []


class AccusationModel(_Occurrence):
    by: Ref
    against: RequiredRefs
    about: Refs = []


class ThreatModel(_Occurrence):
    by: Ref
    against: RequiredRefs
    condition: Text | None = None


class CorrectionModel(_Occurrence):
    target: Ref
    set_: Annotated[dict[str, Any], BeforeValidator(_changes)] = Field(alias="set")
    reason: Text


class RetractionModel(_Occurrence):
    target: Ref
    reason: Text


_MODELS: dict[str, type[_Model]] = {
    "source": SourceModel,
    "actor": ActorModel,
    "post": PostModel,
    "agreement": AgreementModel,
    "signing": SigningModel,
    "approval": ApprovalModel,
    "ratification": RatificationModel,
    "entry_into_force": EntryIntoForceModel,
    "withdrawal": WithdrawalModel,
    "termination": TerminationModel,
    "suspension": SuspensionModel,
    "revocation": RevocationModel,
    "implementation": ImplementationModel,
    "visit": VisitModel,
    "meeting": MeetingModel,
    "statement": StatementModel,
    "proposal": ProposalModel,
    "accusation": AccusationModel,
    "threat": ThreatModel,
    "correction": CorrectionModel,
    "retraction": RetractionModel,
}


def field_names(kind: str) -> tuple[str, ...]:
    """The fields a kind has, as written in the interchange format (without `kind`)."""
    model = _MODELS[kind]
    return tuple(info.alias or name for name, info in model.model_fields.items())


def required_field_names(kind: str) -> tuple[str, ...]:
    """The fields a record of this kind must have (without `kind`), as declared."""
    model = _MODELS[kind]
    return tuple(
        info.alias or name for name, info in model.model_fields.items() if info.is_required()
    )


def list_field_names(kind: str) -> tuple[str, ...]:
    """The fields of a kind that hold lists, for callers that build records from flags."""
    model = _MODELS[kind]
    return tuple(
        info.alias or name
        for name, info in model.model_fields.items()
        if get_origin(info.annotation) is list
    )


def model_of(kind: str) -> type[BaseModel]:
    """The pydantic model that checks records of `kind`: its fields and validators are the
    declarations the format's reference (`ledger.reference`) is generated from."""
    return _MODELS[kind]


_OCCURRENCE_FIELDS = frozenset(
    name for kind in OCCURRENCE_KINDS for name in field_names(kind) if name != "id"
)


def validate_record(raw: Mapping[str, Any]) -> Record:
    """Check one interchange record and return its normalized form.

    Raises RecordError naming the first problem's field path (``signatories[1].actor``).
    """
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
    if not isinstance(kind, str) or kind not in _MODELS:
        shown = _short(kind) if isinstance(kind, str) else _describe(kind)
        close = difflib.get_close_matches(kind, KINDS, n=2) if isinstance(kind, str) else []
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise RecordError(
            f"unknown kind {shown}: {hint}expected one of {', '.join(KINDS)}", field="kind"
        )
    body = {key: value for key, value in raw.items() if key != "kind"}
    try:
        model = _MODELS[kind].model_validate(body)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise RecordError(_message(kind, first), field=_path(first["loc"])) from None
    except RecursionError:
        raise RecordError("the record is nested too deeply") from None
    data: dict[str, Any] = {"kind": kind, **_dump(model)}
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


# --- helpers ------------------------------------------------------------------------


def _dump(model: BaseModel) -> dict[str, Any]:
    """The interchange form: aliases as keys, absent and empty optionals left out."""
    out: dict[str, Any] = {}
    values = model.__dict__
    for name, key in _keys(type(model)):
        value = _plain(values[name])
        if value is None or value == [] or value == {}:
            continue
        out[key] = value
    return out


@functools.cache
def _keys(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """(attribute, interchange key) of each field, worked out once per model."""
    return tuple((name, info.alias or name) for name, info in model.model_fields.items())


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _dump(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _check(kind: str, data: dict[str, Any]) -> None:
    """Rules that span fields, which the models check one at a time."""
    if kind == "actor":
        if data["type"] == "state":
            if not _STATE_CODE.fullmatch(data["id"]):
                raise RecordError(
                    f"a state's id must be its ISO 3166-1 alpha-3 code (three letters, e.g. "
                    f"IRQ), not {_short(data['id'])}",
                    field="id",
                )
            data["id"] = data["id"].upper()
        elif not _SLUG.fullmatch(data["id"]):
            raise RecordError(_slug_message(data["id"]), field="id")
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
            if name not in _OCCURRENCE_FIELDS:
                raise RecordError(f"no occurrence has a field {_short(name)}", field=f"set.{name}")


def _check_period(data: Mapping[str, Any], what: str) -> None:
    """A `start` and `end` that cannot both be true are refused, naming `end`."""
    if "start" in data and "end" in data:
        start, end = parse_date(data["start"]), parse_date(data["end"])
        if start.earliest and end.latest and start.earliest > end.latest:
            raise RecordError(f"{what} ends before it starts", field="end")


def _slug_message(text: str) -> str:
    try:
        _slug(text)
    except ValueError as error:
        return str(error)
    return f"{_short(text)} is not a valid id"


def _derived_id(data: Mapping[str, Any]) -> str:
    """A stable id from content: re-importing a record without an id adds nothing.

    Referenced ids are hashed in lower case because the ledger matches them without
    regard to case; ``IRQ`` and ``irq`` are the same record.
    """
    view = json.loads(canonical_json({k: v for k, v in data.items() if k != "id"}))
    for path, _namespace, _role in REFERENCE_PATHS[data["kind"]]:
        for _field, container, key in walk(view, path):
            container[key] = container[key].lower()
    digest = hashlib.sha256(canonical_json(view).encode("utf-8")).hexdigest()[:12]
    if data["kind"] == "post":
        middle = _slugify(data["holder"])
    else:
        middle = _slugify(data["date"]) or "undated"
    return f"{data['kind']}-{middle}-{digest}"


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


def _message(kind: str, error: ErrorDetails) -> str:
    kind_type = error["type"]
    loc = error["loc"]
    name = str(loc[-1]) if loc else ""
    where = f"{_article(kind)} {kind} record" if len(loc) == 1 else "this entry"
    if kind_type == "missing":
        return f"{where} needs '{name}'"
    if kind_type == "extra_forbidden":
        if len(loc) == 1:
            return (
                f"{_article(kind)} {kind} record has no field {_short(name)} (its fields: "
                + ", ".join(field_names(kind))
                + ")"
            )
        return f"unknown field {_short(name)}"
    if kind_type == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        return str(cause) if cause is not None else error["msg"]
    if kind_type == "too_short":
        return "must not be empty"
    if kind_type in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of field names to values, got {_describe(error['input'])}"
    if kind_type == "list_type":
        return f"expected a list, got {_describe(error['input'])}"
    if kind_type == "string_type":
        return f"expected text, got {_describe(error['input'])}"
    return error["msg"]
