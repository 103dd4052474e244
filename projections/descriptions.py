"""One line that says what an occurrence was, for timelines and search answers.

A record's own summary says it best; without one, the line is generated from the
record's fields (who signed for whom, who visited whom, what stance a statement took),
so that a timeline never shows an empty description. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Record = Mapping[str, Any]


def _and(items: Sequence[str]) -> str:
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(item) for item in value]


def _by(record: Record, field: str = "by") -> str:
    names = _and(_ids(record.get(field)))
    return f" by {names}" if names else ""


def _about(record: Record) -> str:
    about = _and(_ids(record.get("about")))
    return f" about {about}" if about else ""


def signatories(record: Record) -> str:
    """ "qasim-al-araji for IRQ and ali-larijani for IRN"."""
    return _and(
        [
            f"{s['actor']} for {s['on_behalf_of']}" if s.get("on_behalf_of") else s["actor"]
            for s in record.get("signatories") or []
            if isinstance(s, Mapping)
        ]
    )


def _signing(r: Record) -> str:
    line = f"signed by {signatories(r)}"
    overseen = _and(_ids(r.get("overseen_by")))
    return f"{line}, overseen by {overseen}" if overseen else line


def _approval(r: Record) -> str:
    behalf = f" for {r['on_behalf_of']}" if r.get("on_behalf_of") else ""
    return f"approved{_by(r)}{behalf}"


def _ratification(r: Record) -> str:
    return f"{r.get('method', 'ratification')}{_by(r)}"


def _entry_into_force(r: Record) -> str:
    parties = _and(_ids(r.get("for")))
    return f"entered into force for {parties}" if parties else "entered into force"


def _withdrawal(r: Record) -> str:
    effective = f", effective {r['effective']}" if r.get("effective") else ""
    return f"withdrawal{_by(r)}{effective}"


def _suspension(r: Record) -> str:
    until = f" until {r['until']}" if r.get("until") else ""
    return f"suspended{_by(r)}{until}"


def _implementation(r: Record) -> str:
    return f"implementation {str(r.get('status', '')).replace('_', ' ')}{_by(r)}".strip()


def _visit(r: Record) -> str:
    purpose = f": {r['purpose']}" if r.get("purpose") else ""
    return f"{r.get('visitor')} visits {r.get('host')}{purpose}"


def _meeting(r: Record) -> str:
    return f"meeting of {_and(_ids(r.get('participants')))}{_about(r)}"


def _statement(r: Record) -> str:
    quote = f': "{r["quote"]}"' if r.get("quote") else ""
    return f"{r.get('by')} ({r.get('stance')}){_about(r)}{quote}"


def _proposal(r: Record) -> str:
    to = f" to {r['to']}" if r.get("to") else ""
    return f"proposal{_by(r)}{to}{_about(r)}"


def _accusation(r: Record) -> str:
    return f"{r.get('by')} accuses {_and(_ids(r.get('against')))}{_about(r)}"


def _threat(r: Record) -> str:
    condition = f" if {r['condition']}" if r.get("condition") else ""
    return f"{r.get('by')} threatens {_and(_ids(r.get('against')))}{condition}"


_GENERATED: dict[str, Callable[[Record], str]] = {
    "signing": _signing,
    "approval": _approval,
    "ratification": _ratification,
    "entry_into_force": _entry_into_force,
    "withdrawal": _withdrawal,
    "termination": lambda r: f"terminated{_by(r)}",
    "suspension": _suspension,
    "implementation": _implementation,
    "visit": _visit,
    "meeting": _meeting,
    "statement": _statement,
    "proposal": _proposal,
    "accusation": _accusation,
    "threat": _threat,
}


def generated(kind: str, record: Record) -> str:
    """A line made from the record's fields; a kind this module does not know yet gets
    its name and who did it."""
    make = _GENERATED.get(kind)
    return make(record) if make else f"{kind.replace('_', ' ')}{_by(record)}"


def describe(kind: str, record: Record) -> str:
    """The record's summary, else a generated line."""
    summary = record.get("summary")
    return summary if isinstance(summary, str) and summary else generated(kind, record)
