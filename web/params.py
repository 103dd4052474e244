"""Query parameters as the CLI's options: the same names, the same parsing, the same messages.

Every read takes `as_of` and `known_at` where the question has them; a parameter the
question does not take is refused (422) rather than ignored, so a typo never yields an
answer to some other question. An empty value (an empty form field) means absent, as
an empty option does on the command line.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant

from projections.queries import When
from web.errors import BadParameter

AS_OF = "Valid time: the world on that day (YYYY-MM-DD). Default: today."
KNOWN_AT = (
    "Record time: only what the ledger had recorded by then (ISO date or datetime; a bare "
    "date means the end of that day, UTC). Default: now."
)

AsOf = Annotated[str | None, Query(description=AS_OF, examples=["2025-08-10"])]
KnownAt = Annotated[str | None, Query(description=KNOWN_AT, examples=["2026-01-01"])]


def parse_when(as_of: str | None, known_at: str | None) -> When:
    try:
        day = When.parse(as_of or None, None).as_of if as_of else None
    except ValueError as error:
        raise BadParameter("as_of", str(error)) from None
    try:
        stamp = When.parse(None, known_at or None).known_at
    except ValueError as error:
        raise BadParameter("known_at", str(error)) from None
    return When(as_of=day, known_at=stamp) if day else When(known_at=stamp)


def time_axes(as_of: AsOf = None, known_at: KnownAt = None) -> When:
    """Both time axes, parsed by the same function the CLI's --as-of and --known-at use."""
    return parse_when(as_of, known_at)


def record_time(known_at: KnownAt = None) -> str | None:
    """Record time alone, for questions about the log (which has no valid time)."""
    return parse_when(None, known_at).known_at


def day(name: str, value: str | None, *, end: bool = False) -> date | None:
    """A day filter (`from`, `to`), read as the CLI reads --from and --to: any EDTF date,
    `from` its first possible day, `to` its last (2023-06 to: the 30th)."""
    from ledger.dates import parse_date

    if not value:
        return None
    try:
        span = parse_date(value)
    except ValueError as error:
        raise BadParameter(name, str(error)) from None
    return span.latest if end else span.earliest


def closed(name: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    """A value of a closed set (kinds, statuses), matched in any case, as the CLI matches
    it; anything else is refused with the CLI's message and the closest values."""
    from projections.naming import choice_hint

    if not value:
        return None
    for choice in choices:
        if choice.casefold() == value.casefold():
            return choice
    raise BadParameter(name, f"unknown {name} {value!r}{choice_hint(value, choices)}")


def stamp(name: str, value: str | None) -> str | None:
    """A record-time parameter (`since`, `until`) read as the CLI reads --since/--until."""
    if not value:
        return None
    try:
        return When.parse(None, value).known_at
    except ValueError as error:
        raise BadParameter(name, str(error)) from None


def needed_stamp(name: str, value: str) -> str:
    """A record-time parameter the question cannot do without (`since`).

    An empty value is absent, and refused as FastAPI refuses a missing one: read as no
    stamp, it would answer a question nobody asked.
    """
    found = stamp(name, value)
    if found is None:
        raise BadParameter(name, f"{name}: Field required")
    return found


def text(value: str | None) -> str | None:
    return value or None


_known: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {str(p.alias) for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def only_known_parameters(request: Request) -> None:
    """Refuse a parameter the question does not take, naming those it does."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _known.get(id(route))
    if known is None:
        known = frozenset(_query_names(dependant))
        _known[id(route)] = known
    for name in request.query_params:
        if name not in known:
            takes = ", ".join(sorted(known)) or "no parameters"
            raise BadParameter(name, f"unknown parameter '{name}'; this question takes: {takes}")
        given = request.query_params.getlist(name)
        if len(given) > 1:
            # Which one would win is the framework's choice, not the asker's: refuse.
            shown = ", ".join(repr(value) for value in given)
            raise BadParameter(
                name, f"'{name}' is given {len(given)} times ({shown}): give it once"
            )
