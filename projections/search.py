"""Full-text search over the ledger's records, with each engine's own index.

The `lookups` projection keeps one document per record version (`searchable_text`): its
id, names, aliases, titles, summaries, quotes and the like. SQLite answers from an FTS5
table, PostgreSQL from a `tsvector` column with a GIN index; both are asked the same
question — every word of the query, as a word or the start of one — and only documents
of records current at `known_at` (and occurrences begun by `as_of`) are answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from projections import models

#: Fields whose text is searched, in the order a match is reported.
TEXT_FIELDS = (
    "name",
    "title",
    "aliases",
    "summary",
    "purpose",
    "condition",
    "quote",
    "place",
    "publisher",
    "provisions",
)
_WORD = re.compile(r"[^\W_]+")


def searchable_text(record: Mapping[str, Any]) -> str:
    """The text a record is found by: its id, its own text fields, and its sources' quotes
    and attributions (one per line, so a phrase never runs from one field into the next).

    The lines of `text_fields`, gathered without naming each field: every replay indexes
    every record version.
    """
    lines = [str(record["id"])]
    get = record.get
    for name in TEXT_FIELDS:
        value = get(name)
        if not value:
            continue
        if isinstance(value, str):
            lines.append(value)
        elif isinstance(value, list):
            lines.extend(item for item in value if isinstance(item, str) and item)
    for citation in get("sources") or ():
        if isinstance(citation, dict | Mapping):
            attribution, quote = citation.get("attribution"), citation.get("quote")
            if attribution:
                lines.append(attribution)
            if quote:
                lines.append(quote)
    return "\n".join(lines)


def text_fields(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, text) for every searchable piece of a record, lists item by item."""
    found: list[tuple[str, str]] = []
    for name in TEXT_FIELDS:
        value = record.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                found.append((name, item))
    for index, citation in enumerate(record.get("sources") or []):
        if not isinstance(citation, Mapping):
            continue
        for name in ("attribution", "quote"):
            if citation.get(name):
                found.append((f"sources[{index}].{name}", citation[name]))
    return found


def words(query: str) -> list[str]:
    """The words of a query as both engines' tokenizers see them (letters and digits)."""
    return _WORD.findall(query.casefold())


def matching(record: Mapping[str, Any], terms: list[str]) -> list[dict[str, str]]:
    """The fields of a found record that hold one of the query's words (or a word starting
    with it), so an answer can show why it was found."""
    shown = []
    for field, value in [("id", str(record["id"])), *text_fields(record)]:
        tokens = words(value)
        if any(token.startswith(term) for term in terms for token in tokens):
            shown.append({"field": field, "text": value})
    return shown


def match_condition(connection: Connection, terms: list[str]) -> tuple[Any, ColumnElement[Any]]:
    """(condition, rank) for documents holding every term, in the engine's own terms.

    The terms are letters and digits only (`words`), so quoting them cannot change the
    query's syntax; they are passed as a bound parameter all the same.
    """
    if connection.dialect.name == "postgresql":
        query = func.to_tsquery("simple", " & ".join(f"{term}:*" for term in terms))
        document: ColumnClause[Any] = literal_column("rm_search.document")
        return document.op("@@")(query), func.ts_rank(document, query).desc()
    expression = " AND ".join(f'"{term}"*' for term in terms)
    condition = text("rm_search MATCH :fts").bindparams(fts=expression)
    return condition, func.bm25(literal_column("rm_search"))


def search(
    connection: Connection,
    terms: list[str],
    current: ColumnElement[bool],
    registered: ColumnElement[bool],
    limit: int,
) -> list[dict[str, Any]]:
    """Records matching every term, best first: each with its kind, id and record."""
    s, o, r = models.search, models.occurrences, models.registry
    condition, rank = match_condition(connection, terms)
    query = (
        select(
            s.c.namespace,
            s.c.ref,
            o.c.record.label("occurrence_record"),
            r.c.record.label("registry_record"),
        )
        .select_from(s)
        .outerjoin(o, and_(s.c.namespace == "occurrence", o.c.vid == s.c.ref))
        .outerjoin(
            r,
            and_(
                s.c.namespace != "occurrence",
                r.c.namespace == s.c.namespace,
                r.c.key == s.c.key,
                r.c.vid == s.c.ref,
            ),
        )
        .where(
            condition,
            or_(
                and_(s.c.namespace == "occurrence", o.c.vid.is_not(None), current),
                and_(s.c.namespace != "occurrence", r.c.key.is_not(None), registered),
            ),
        )
        .order_by(rank, s.c.ref)
        .limit(limit)
    )
    answers = []
    for row in connection.execute(query):
        record = json.loads(row.occurrence_record or row.registry_record)
        answers.append({"namespace": row.namespace, "ref": row.ref, "record": record})
    return answers
