"""The interchange format's reference (`ledger format [KIND]`), generated from the validator.

Which kinds exist, which fields each has, which are required, what values they take
(their validators, enumerations and defaults) and what each id refers to are read from
the declarations `ledger.records` validates with (its pydantic models) and from
`ledger.vocabulary`; the date table is worked out by `ledger.dates` itself. Only the
meanings, the examples and the rules spanning records are prose (`ledger.reference_notes`).
So a field added to a model shows up here at once, and tests/unit/test_reference.py fails
until its meaning is written: the reference and the validator cannot drift apart.
"""

from __future__ import annotations

import inspect
import textwrap
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from annotated_types import MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ledger import reference_notes as notes
from ledger.dates import parse_date
from ledger.records import MAX_ID, MAX_ITEMS, MAX_TEXT, field_names, model_of
from ledger.vocabulary import (
    AMENDMENT_KINDS,
    KINDS,
    OCCURRENCE_KINDS,
    REFERENCE_PATHS,
    REGISTRY_KINDS,
    RELIABILITIES,
)

#: Lines are wrapped to this width, so the reference reads in an 88-column terminal.
WIDTH = 88

#: The value form each of the validator's checks stands for, by the check's name.
VALUE_FORMS: dict[str, str] = {
    "_slug": "an id",
    "_ref": "an id",
    "_edtf": "an EDTF date (see Dates)",
    "_name": "one line of text",
    "_text": "text",
    "_published": "an ISO 8601 date, or date and time",
    "_url": "a URL",
    "_reliability": f"one of {', '.join(RELIABILITIES)}",
    "_changes": "a mapping of field name to new value",
}
#: What the validator's shorthand and list checks add to a form, by the check's name.
SHORTHANDS: dict[str, str] = {
    "_as_list": "a lone value is a list of one",
    "_distinct": "none twice",
    "_citation": "a bare source id stands for {source: ID}",
    "_signatory": "a bare actor id stands for {actor: ID}",
}
#: The enumeration check (`records._choice`) keeps its values in this closure variable.
_CHOICE_VALUES = "options"

_REFERS_TO = {
    "actor": "the id of an actor",
    "agreement": "the id of an agreement",
    "source": "the id of a source",
    "occurrence": "the id of a record",
    "any": "the id of an actor or an agreement",
}


class UndocumentedError(LookupError):
    """The validator knows something the reference notes do not explain yet."""


@dataclass(frozen=True)
class FieldDoc:
    """One field of a kind as the validator declares it, with its meaning."""

    name: str
    required: bool
    form: str
    meaning: str
    default: Any = None
    parts: tuple[FieldDoc, ...] = ()


@dataclass(frozen=True)
class KindDoc:
    """One kind: which family it is in, what it says, its fields, and an example."""

    kind: str
    family: str
    summary: str
    fields: tuple[FieldDoc, ...]
    example: Mapping[str, Any]


def family_of(kind: str) -> str:
    if kind in REGISTRY_KINDS:
        return "registry"
    if kind in AMENDMENT_KINDS:
        return "amendment"
    return "occurrence"


def common_occurrence_fields() -> tuple[str, ...]:
    """The fields every occurrence has (its date, id, place, summary, sources, tags)."""
    kinds = [*OCCURRENCE_KINDS, *AMENDMENT_KINDS]
    shared = set.intersection(*(set(field_names(kind)) for kind in kinds))
    return tuple(name for name in field_names(kinds[0]) if name in shared)


def kind_doc(kind: str) -> KindDoc:
    """Everything the reference says about `kind`; UndocumentedError names what is missing."""
    if kind not in notes.KINDS:
        raise UndocumentedError(f"kind {kind!r} has no summary in notes.KINDS")
    if kind not in notes.EXAMPLES:
        raise UndocumentedError(f"kind {kind!r} has no example in notes.EXAMPLES")
    model = model_of(kind)
    fields = tuple(_field_doc(kind, (), name, info) for name, info in model.model_fields.items())
    return KindDoc(kind, family_of(kind), notes.KINDS[kind], fields, notes.EXAMPLES[kind])


def _field_doc(kind: str, parents: tuple[str, ...], attribute: str, info: FieldInfo) -> FieldDoc:
    name = info.alias or attribute
    path = (*parents, name)
    form, model = _form(kind, path, info.annotation, list(info.metadata))
    parts: tuple[FieldDoc, ...] = ()
    if model is not None:
        parts = tuple(_field_doc(kind, path, n, i) for n, i in model.model_fields.items())
    default = None if info.is_required() or info.default in (None, []) else info.default
    return FieldDoc(name, info.is_required(), form, _meaning(kind, path), default, parts)


def _meaning(kind: str, path: tuple[str, ...]) -> str:
    """The kind's own meaning of a field, else its family's, else the field's anywhere."""
    dotted = ".".join(path)
    found = (
        notes.FIELDS_OF_KIND.get(f"{kind}.{dotted}")
        or notes.FIELDS_OF_FAMILY.get(f"{family_of(kind)}.{dotted}")
        or notes.FIELDS.get(dotted)
    )
    if found is None:
        raise UndocumentedError(
            f"field {kind}.{dotted} has no meaning in ledger/reference_notes.py "
            "(FIELDS_OF_KIND, FIELDS_OF_FAMILY or FIELDS)"
        )
    return found


def _form(
    kind: str, path: tuple[str, ...], annotation: Any, metadata: list[Any]
) -> tuple[str, type[BaseModel] | None]:
    """How a value of this field is written, from its type and the checks on it."""
    form, remarks, model = _parts_of_form(kind, path, annotation, metadata)
    return (f"{form} ({'; '.join(remarks)})" if remarks else form), model


def _parts_of_form(
    kind: str, path: tuple[str, ...], annotation: Any, metadata: list[Any]
) -> tuple[str, list[str], type[BaseModel] | None]:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *more = get_args(annotation)
        return _parts_of_form(kind, path, base, [*metadata, *more])
    if origin in (Union, types.UnionType):
        (present,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _parts_of_form(kind, path, present, metadata)
    checks = [getattr(item, "func", None) for item in metadata]
    remarks = [SHORTHANDS[c.__name__] for c in checks if c is not None and c.__name__ in SHORTHANDS]
    if any(isinstance(item, MinLen) and item.min_length > 0 for item in metadata):
        remarks.insert(0, "at least one")
    if origin is list:
        (item,) = get_args(annotation)
        each, more, model = _parts_of_form(kind, path, item, [])
        return f"a list, each {each}", [*remarks, *more], model
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        keys = [
            (info.alias or name) + ("" if info.is_required() else "?")
            for name, info in annotation.model_fields.items()
        ]
        return "{" + ", ".join(keys) + "}", remarks, annotation
    forms = [form for c in checks if c is not None and (form := _value_form(kind, path, c))]
    if len(forms) != 1:
        raise UndocumentedError(f"field {kind}.{'.'.join(path)}: no one value form in {checks}")
    return forms[0], remarks, None


def _value_form(kind: str, path: tuple[str, ...], check: Callable[..., Any]) -> str | None:
    if check.__name__ in SHORTHANDS:
        return None
    values = inspect.getclosurevars(check).nonlocals.get(_CHOICE_VALUES)
    if values is not None:
        return "one of " + ", ".join(values)
    if check.__name__ not in VALUE_FORMS:
        raise UndocumentedError(
            f"field {kind}.{'.'.join(path)} is checked by {check.__name__}, which VALUE_FORMS "
            "does not describe"
        )
    if check.__name__ == "_ref":
        return _REFERS_TO.get(_namespace(kind, path) or "", "an id")
    return VALUE_FORMS[check.__name__]


def _namespace(kind: str, path: tuple[str, ...]) -> str | None:
    dotted = ".".join(path)
    for where, namespace, _role in REFERENCE_PATHS.get(kind, ()):
        if where.replace("[]", "") == dotted:
            return namespace
    return None


# --- rendering (Markdown, readable as plain text) --------------------------------------


def render(kind: str | None = None) -> str:
    """The whole reference, or the section of one kind."""
    if kind is not None:
        return _kind_section(kind_doc(kind), level="#")
    out = [
        f"# The ledger interchange format (v{notes.VERSION})",
        notes.INTRODUCTION,
        "## Files",
        notes.FILES,
        "## Records and ids",
        notes.IDS.format(max_id=MAX_ID),
        "## Text",
        notes.TEXT.format(max_text=f"{MAX_TEXT:,}", max_items=f"{MAX_ITEMS:,}"),
        "## Kinds",
        _kinds_table(),
        textwrap.fill(
            "Every occurrence and amendment has "
            + ", ".join(f"`{name}`" for name in common_occurrence_fields())
            + "; of these only `date` is required (the table leaves them out).",
            width=WIDTH,
        ),
        "## Dates",
        notes.DATES,
        _dates_table(),
        "## Corrections and retractions",
        notes.AMENDMENTS,
        "## Re-import and conflicts",
        notes.REIMPORT,
        "## Endorsements",
        notes.ENDORSEMENTS,
    ]
    for family, kinds in (
        ("registry", REGISTRY_KINDS),
        ("occurrence", OCCURRENCE_KINDS),
        ("amendment", AMENDMENT_KINDS),
    ):
        out += [f"## {family.capitalize()} kinds", notes.FAMILIES[family]]
        out += [_kind_section(kind_doc(kind), level="###") for kind in kinds]
    return "\n\n".join(out) + "\n"


def _kinds_table() -> str:
    common = set(common_occurrence_fields()) - {"date"}
    rows = ["| kind | family | required | optional |", "|---|---|---|---|"]
    for kind in KINDS:
        doc = kind_doc(kind)
        required = [f"`{f.name}`" for f in doc.fields if f.required]
        optional = [
            f"`{f.name}`"
            for f in doc.fields
            if not f.required and not (doc.family != "registry" and f.name in common)
        ]
        rows.append(
            f"| `{kind}` | {doc.family} | {', '.join(required)} | {', '.join(optional) or '–'} |"
        )
    return "\n".join(rows)


def _dates_table() -> str:
    rows = ["| form | example | earliest day | latest day | certain |", "|---|---|---|---|---|"]
    for what, example in notes.DATE_FORMS:
        span = parse_date(example)
        earliest = span.earliest.isoformat() if span.earliest else "open"
        latest = span.latest.isoformat() if span.latest else "open"
        certain = "no" if span.qualified else "yes"
        rows.append(f"| {what} | `{example}` | {earliest} | {latest} | {certain} |")
    return "\n".join(rows)


def _kind_section(doc: KindDoc, level: str) -> str:
    lines = [f"{level} `{doc.kind}` ({doc.family})", "", doc.summary, ""]
    lines.append("Fields (`kind` is always required):")
    lines.append("")
    for field in doc.fields:
        lines += _field_lines(field, indent="")
    lines += ["", "Example:", "", "```yaml", _yaml([dict(doc.example)]).rstrip(), "```"]
    return "\n".join(lines)


def _field_lines(field: FieldDoc, indent: str) -> list[str]:
    need = "required" if field.required else "optional"
    default = f" Default: `{field.default}`." if field.default is not None else ""
    text = f"`{field.name}` ({need}): {field.form}. {field.meaning}{default}"
    lines = textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=f"{indent}- ",
        subsequent_indent=f"{indent}  ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    for part in field.parts:
        lines += _field_lines(part, indent + "  ")
    return lines


def _yaml(records: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(records, sort_keys=False, allow_unicode=True, width=WIDTH)
