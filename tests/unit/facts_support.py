"""Facts built by hand for the pure state tests, as the read side builds them from rows.

The occurrence read model stores a normalized record and its date bounds as ISO days;
these helpers take the same two and make the `Fact` the queries would make.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from projections.state import Fact


def fact(
    record: Mapping[str, Any], position: int, earliest: date | str | None, latest: date | str | None
) -> Fact:
    """A fact with bounds given by hand (days or ISO strings), as the event log stores them."""
    return Fact(
        occurrence=str(record["id"]),
        kind=str(record["kind"]),
        record=dict(record),
        date=str(record["date"]),
        earliest=_day(earliest),
        latest=_day(latest),
        position=position,
        sources=tuple(entry["source"] for entry in record.get("sources") or ()),
    )


def _day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value
