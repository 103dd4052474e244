"""Finding a record by what people call it, and saying what they may have meant.

Analysts type `Russia` for `RUS` and `New START` for an agreement's slug: an id that is
not one resolves through the names, titles and aliases of the records of that kind,
case-insensitively. One that names nothing is refused with the closest known ids (by
difflib's ratio over ids, names and aliases, and by the start of a word), never answered
with an empty list. Pure functions over (id, record) pairs; no I/O.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from ledger.errors import LedgerError

Known = Iterable[tuple[str, Mapping[str, Any]]]


class NotFound(LedgerError):
    """The id names nothing the ledger knows (at that moment)."""


def names_of(record: Mapping[str, Any]) -> list[str]:
    """Everything a record answers to: its id, name or title, and aliases."""
    names = [str(record["id"])]
    for field in ("name", "title"):
        if isinstance(record.get(field), str):
            names.append(record[field])
    names.extend(alias for alias in record.get("aliases") or [] if isinstance(alias, str))
    return names


def named(wanted: str, known: Known) -> list[str]:
    """Ids of the records whose id, name, title or an alias is `wanted` (any case)."""
    key = wanted.strip().casefold()
    found: list[str] = []
    for record_id, record in known:
        if key in (name.casefold() for name in names_of(record)) and record_id not in found:
            found.append(record_id)
    return found


def suggestions(wanted: str, known: Known, limit: int = 3) -> list[tuple[str, str]]:
    """(id, label) of the records whose names come closest to `wanted`, best first."""
    key = wanted.strip().casefold()
    index: dict[str, str] = {}
    labels: dict[str, str] = {}
    starts: list[str] = []
    for record_id, record in known:
        labels[record_id] = str(record.get("name") or record.get("title") or "")
        for name in names_of(record):
            folded = name.casefold()
            index.setdefault(folded, record_id)
            if key and any(word.startswith(key) for word in folded.replace("-", " ").split()):
                starts.append(record_id)
    close = [index[n] for n in difflib.get_close_matches(key, list(index), n=limit * 3)]
    ordered: list[str] = []
    for record_id in [*close, *starts]:
        if record_id not in ordered:
            ordered.append(record_id)
    return [(record_id, labels[record_id]) for record_id in ordered[:limit]]


def did_you_mean(options: list[tuple[str, str]]) -> str:
    """ "; did you mean RUS (Russia) or rus-duma?" — or nothing when there is no option."""
    if not options:
        return ""
    shown = [f"{i} ({label})" if label and label != i else i for i, label in options]
    return "; did you mean " + " or ".join(shown) + "?"


def not_found(namespace: str, wanted: str, known: Known, suffix: str = "") -> NotFound:
    return NotFound(
        f"no {namespace} {wanted!r} in the ledger{suffix}"
        + did_you_mean(suggestions(wanted, known))
    )


def choice_hint(value: str, choices: Iterable[str]) -> str:
    """For closed sets (kinds, statuses): the close ones, else the whole set."""
    options = list(choices)
    close = difflib.get_close_matches(value.casefold(), options, n=3, cutoff=0.5)
    if close:
        return "; did you mean " + " or ".join(close) + "?"
    return "; expected one of: " + ", ".join(options)
