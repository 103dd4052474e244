"""The interchange format's reference (`ledger format [KIND]`), generated from the validator.

Which kinds exist, which fields each has, which are required, what values they take
(their forms, enumerations and defaults) and what each id refers to are read from
the declarations `ledger.records` validates with (its msgspec structs) and from
`ledger.vocabulary`; the date table is worked out by `ledger.dates` itself. Only the
meanings, the examples and the rules spanning records are prose (`ledger.reference_notes`).
So a field added to a struct shows up here at once, and tests/unit/test_reference.py fails
until its meaning is written: the reference and the validator cannot drift apart.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import yaml

from ledger import reference_notes as notes
from ledger.dates import parse_date
from ledger.records import (
    MAX_ID,
    MAX_ITEMS,
    MAX_TEXT,
    FieldSpec,
    Form,
    ListOf,
    Node,
    Nullable,
    Part,
    Shorthand,
    field_names,
    fields_of,
    struct_of,
)
from ledger.vocabulary import (
    AMENDMENT_KINDS,
    KINDS,
    OCCURRENCE_KINDS,
    REFERENCE_PATHS,
    REGISTRY_KINDS,
)

#: Lines are wrapped to this width, so the reference reads in an 88-column terminal.
WIDTH = 88

#: The value form each of the validator's forms stands for, by the form's name.
VALUE_FORMS: dict[str, str] = {
    "slug": "an id",
    "ref": "an id",
    "edtf": "an EDTF date (see Dates)",
    "name": "one line of text",
    "text": "text",
    "published": "an ISO 8601 date, or date and time",
    "url": "a URL",
    "changes": "a mapping of field name to new value",
}
#: What the precise check accepts beyond a list's items (`records._check_value`).
LONE_VALUE = "a lone value is a list of one"
DISTINCT = "none twice"
AT_LEAST_ONE = "at least one"

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
    fields = tuple(_field_doc(kind, (), spec) for spec in fields_of(struct_of(kind)))
    return KindDoc(kind, family_of(kind), notes.KINDS[kind], fields, notes.EXAMPLES[kind])


def _field_doc(kind: str, parents: tuple[str, ...], spec: FieldSpec) -> FieldDoc:
    path = (*parents, spec.key)
    form, remarks, struct = _parts_of_form(kind, path, spec.node)
    if remarks:
        form = f"{form} ({'; '.join(remarks)})"
    parts: tuple[FieldDoc, ...] = ()
    if struct is not None:
        parts = tuple(_field_doc(kind, path, part) for part in fields_of(struct))
    return FieldDoc(spec.key, spec.required, form, _meaning(kind, path), spec.default, parts)


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


def _parts_of_form(
    kind: str, path: tuple[str, ...], node: Node
) -> tuple[str, list[str], type[msgspec.Struct] | None]:
    """How a value of this field is written, what the checks add to it, and the structure
    whose fields it has, if any: all read from the field's declaration."""
    if isinstance(node, Nullable):
        return _parts_of_form(kind, path, node.inner)
    if isinstance(node, ListOf):
        each, more, struct = _parts_of_form(kind, path, node.item)
        remarks = [AT_LEAST_ONE] if node.at_least_one else []
        remarks.append(LONE_VALUE)
        if node.distinct:
            remarks.append(DISTINCT)
        return f"a list, each {each}", [*remarks, *more], struct
    if isinstance(node, Part | Shorthand):
        specs = fields_of(node.struct)
        keys = [spec.key + ("" if spec.required else "?") for spec in specs]
        remarks = []
        if isinstance(node, Shorthand):
            first = specs[0].key
            remarks.append(f"a bare {first} id stands for {{{first}: ID}}")
        return "{" + ", ".join(keys) + "}", remarks, node.struct
    return _value_form(kind, path, node), [], None


def _value_form(kind: str, path: tuple[str, ...], node: Form) -> str:
    if node.choices:
        return "one of " + ", ".join(node.choices)
    if node.form not in VALUE_FORMS:
        raise UndocumentedError(
            f"field {kind}.{'.'.join(path)} has the form {node.form!r}, which VALUE_FORMS "
            "does not describe"
        )
    if node.form == "ref":
        return _REFERS_TO.get(_namespace(kind, path) or "", "an id")
    return VALUE_FORMS[node.form]


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
        earliest, latest = (day or "open" for day in span.iso_bounds)
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
    return str(yaml.safe_dump(records, sort_keys=False, allow_unicode=True, width=WIDTH))
