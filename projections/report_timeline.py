"""The audit report's SVG timeline: where each occurrence is drawn on one date axis.

Computed in Python and drawn by `templates/_timeline.svg.j2`, so that every label reaches
the SVG through the template's autoescaping. The server's timeline pages draw the same
picture (web.pages). Date arithmetic only: no storage, no templates.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import islice
from typing import Any

MAX_MARKS = 300
"""Rows drawn at most: past that a picture stops being readable; the tables list them all."""

_KIND_CLASSES = {
    "signing": "endorse",
    "approval": "endorse",
    "ratification": "endorse",
    "entry_into_force": "endorse",
    "implementation": "endorse",
    "withdrawal": "negative",
    "termination": "negative",
    "suspension": "negative",
    "revocation": "endorse",
    "threat": "negative",
    "accusation": "negative",
    "statement": "statement",
    "proposal": "statement",
    "visit": "contact",
    "meeting": "contact",
}


def timeline_layout(rows: list[dict[str, Any]], width: int = 1100) -> dict[str, Any] | None:
    """Coordinates for the HTML timeline: one row per occurrence on one date axis.

    A date known to the day is a dot; a range (``[2025-08-11..2025-08-13]``, ``2025-08``)
    is a bar from its earliest to its latest day, so uncertainty is drawn, not hidden; an
    open end runs to the edge of the axis. Computed here, drawn by the template, so that
    every label reaches the SVG through autoescaping. None when nothing has a known day.
    """
    shown = list(islice(rows, MAX_MARKS))
    days = [date.fromisoformat(day) for r in shown for day in (r["earliest"], r["latest"]) if day]
    if not days:
        return None
    lo, hi = min(days), max(days)
    pad = timedelta(days=max(10, (hi - lo).days // 30))
    # A margin either side, but never past year 1 or 9999 (`0050` is a valid date).
    start = lo - pad if lo - date.min > pad else date.min
    end = hi + pad if date.max - hi > pad else date.max
    span = (end - start).days
    left, right, top, row = 330.0, width - 20.0, 34.0, 22.0

    def x(day: date) -> float:
        return round(left + (day - start).days / span * (right - left), 1)

    marks = []
    for i, r in enumerate(shown):
        earliest = date.fromisoformat(r["earliest"]) if r["earliest"] else None
        latest = date.fromisoformat(r["latest"]) if r["latest"] else None
        x1 = x(earliest) if earliest else left
        x2 = x(latest) if latest else right
        label = r["id"] if len(r["id"]) <= 44 else r["id"][:43] + "…"
        marks.append(
            {
                "y": top + i * row + row / 2,
                "x1": x1,
                "x2": max(x2, x1 + 3),
                "point": earliest is not None and earliest == latest,
                "open_start": earliest is None,
                "open_end": latest is None,
                "label": label,
                "title": f"{r['date']} · {r['kind']} · {r['id']}: {r.get('summary') or ''}",
                "cls": _KIND_CLASSES.get(r["kind"], "other"),
                "status": r["status"].replace(" ", "-"),
            }
        )
    height = top + len(shown) * row + 16
    ticks = [{"x": x(day), "label": text} for day, text in _ticks(start, end)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": right,
        "top": top,
        "bottom": height - 10,
        "ticks": ticks,
        "marks": marks,
        "omitted": len(rows) - len(shown),
    }


def _ticks(start: date, end: date) -> list[tuple[date, str]]:
    """About ten axis ticks on calendar boundaries: years, months or days by the span."""
    span = (end - start).days
    if span > 3 * 365:
        step = max(1, (end.year - start.year) // 10)
        return [(date(y, 1, 1), str(y)) for y in range(start.year + 1, end.year + 1, step)]
    if span > 90:
        months = (end.year - start.year) * 12 + end.month - start.month
        step = max(1, months // 10)
        found = []
        for m in range(1, months + 1, step):
            y, mo = divmod(start.month - 1 + m, 12)
            found.append((date(start.year + y, mo + 1, 1), f"{start.year + y}-{mo + 1:02d}"))
        return found
    step = max(1, span // 10)
    return [
        (start + timedelta(days=d), (start + timedelta(days=d)).isoformat())
        for d in range(step, span, step)
    ]
