"""A ledger whose audit reports are pinned byte for byte (tests/integration/data/reports/).

The example and the treaty histories of the end-to-end tests, then amendments of every
sort a report shows: an occurrence redated, a meeting retracted, a source retitled, an
actor renamed, an agreement retracted, an occurrence moved onto an agreement by a
correction, and record text that is markup. Record time
comes from a clock that ticks one second per write, so leaf hashes and roots are the same
on every run; only the moment the report was generated is left out of the comparison.

``python tests/integration/report_fixture.py`` rewrites the pinned files: only when the
reports are meant to change, and read the diff.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ledger import store
from ledger.application import Ledger
from ledger.dates import format_timestamp
from ledger.records import validate_record
from projections.queries import When

ROOT = Path(__file__).resolve().parents[2]
PINNED = Path(__file__).resolve().parent / "data" / "reports"
FILES = [
    ROOT / "ledger" / "examples" / "iraq-iran-2025.yaml",
    *(ROOT / "tests" / "e2e" / "data" / name for name in ("states.yaml",)),
    *sorted(p for p in (ROOT / "tests" / "e2e" / "data").glob("*.yaml") if p.name != "states.yaml"),
]
#: The reports pinned: the whole ledger, and two agreements (one amended, one not).
SCOPES = (None, "iq-ir-security-mou-2025", "new-start")
FORMATS = ("md", "html", "json")

AMENDMENTS: list[dict[str, Any]] = [
    {
        "kind": "correction",
        "id": "lebanon-stop-dated",
        "date": "2025-08-20",
        "target": "larijani-regional-tour-lebanon",
        "set": {"date": "2025-08-15"},
        "reason": "A later report dates the Beirut stop to 15 August",
        "sources": ["peregraf-2025-08-14"],
    },
    {
        "kind": "retraction",
        "id": "no-separate-meeting",
        "date": "2025-08-21",
        "target": "sudani-larijani-meeting-2025-08",
        "reason": "It was the signing itself",
    },
    {
        "kind": "correction",
        "id": "peregraf-retitled",
        "date": "2025-08-22",
        "target": "peregraf-2025-08-14",
        "set": {"title": "Peregraf: the memorandum, <em>annotated</em>"},
        "reason": "The publisher retitled the piece",
    },
    {
        "kind": "correction",
        "id": "iran-renamed",
        "date": "2025-08-22",
        "target": "IRN",
        "set": {"name": "Islamic Republic of Iran"},
        "reason": "Official name",
    },
    {
        "kind": "statement",
        "id": "hostile-text",
        "date": "2025-08-20",
        "by": "IRN",
        "stance": "support",
        "about": ["iq-ir-security-mou-2025"],
        "summary": "<script>alert('x')</script> | *bold* `tick`",
        "quote": "</td></tr><b>bold</b>",
        "sources": [{"source": "peregraf-2025-08-14", "attribution": "an [aide](x)"}],
    },
    {
        "kind": "statement",
        "id": "answer-to-hostile",
        "date": "2025-08-25",
        "by": "IRQ",
        "stance": "deny",
        "about": ["hostile-text", "iq-ir-security-mou-2025"],
        "summary": "Baghdad denies it",
    },
    {
        "kind": "correction",
        "id": "beijing-meeting-on-the-1998-agreement",
        "date": "2023-04-07",
        "target": "beijing-foreign-ministers-2023-04-06",
        "set": {"about": ["sa-ir-general-cooperation-1998"]},
        "reason": "The ministers met on the 1998 agreement",
    },
    {
        "kind": "agreement",
        "id": "short-lived-accord",
        "title": "An accord recorded by mistake",
        "type": "memorandum-of-understanding",
        "parties": ["IRQ", "IRN"],
    },
    {
        "kind": "retraction",
        "id": "no-such-accord",
        "date": "2025-09-01",
        "target": "short-lived-accord",
        "reason": "Recorded by mistake",
    },
]


#: The day the pinned reports are as of: a report's default is today, and a pinned file
#: must not go stale at midnight.
PINNED_WHEN = When(as_of=date(2026, 11, 30))


def _clock() -> Iterator[str]:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while True:
        moment += timedelta(seconds=1)
        yield format_timestamp(moment)


@contextmanager
def ticking_clock() -> Iterator[None]:
    """Record times one second apart, the same on every run."""
    ticks = _clock()
    real = store.utcnow
    store.utcnow = lambda: next(ticks)
    try:
        yield
    finally:
        store.utcnow = real


def _import(app: Ledger, records: list[dict[str, Any]], by: str) -> None:
    app.import_records([(None, validate_record(r)) for r in records], by)


def build(app: Ledger) -> None:
    """Fill an empty ledger with the pinned content (one write per file or amendment)."""
    with ticking_clock():
        _import(app, yaml.safe_load(FILES[0].read_text(encoding="utf-8")), "alice")
        for path in FILES[1:]:
            _import(app, yaml.safe_load(path.read_text(encoding="utf-8")), "carol")
        for amendment in AMENDMENTS:
            _import(app, [amendment], "bob")


_GENERATED = re.compile(r"(Generated |\"generated_at\": \")[0-9T:.+Z-]+")


_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_SHORT_HASH = re.compile(r"\b([0-9a-f]{16})…")


def comparable(text: str) -> str:
    """The report with what differs by run replaced: the moment it was built, and hashes.

    An event's stored state carries the library's own timestamp of its creation, so leaf
    hashes and roots differ by run; each distinct hash becomes ``<hash N>`` in order of
    first appearance (its 16-digit prefix too), so which row shows which hash still counts.
    """
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"<hash {numbers.setdefault(match.group(), len(numbers) + 1)}>"

    text = _HASH.sub(number, _GENERATED.sub(r"\1<generated>", text))
    prefixes = {full[:16]: n for full, n in numbers.items()}
    return _SHORT_HASH.sub(lambda m: f"<hash {prefixes.get(m.group(1), '?')}>…", text)


def pinned_name(scope: str | None, fmt: str) -> str:
    return f"{scope or 'ledger'}.{fmt}"


def main() -> None:
    import tempfile

    from projections.report_rendering import render
    from projections.reports import build_report

    PINNED.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = Ledger(f"sqlite:///{folder}/pinned.db")
        build(app)
        for scope in SCOPES:
            report = build_report(app, scope, when=PINNED_WHEN)
            for fmt in FORMATS:
                text = comparable(render(report, fmt))
                (PINNED / pinned_name(scope, fmt)).write_text(text, encoding="utf-8")
        app.close()


if __name__ == "__main__":
    main()
