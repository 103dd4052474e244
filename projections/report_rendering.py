"""The audit report written out: Markdown, one standalone HTML file, or JSON.

The report's data (`projections.reports`) says what the ledger shows; this module only
presents it, so the three formats can never disagree about the facts. Markdown and HTML
come from the Jinja2 templates beside this module, JSON is the data itself. Every value
a template prints is shown as text: record text can never become markup, a link, or a
terminal control sequence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ledger.display import json_chunks, visible
from ledger.errors import LedgerError
from projections.report_timeline import timeline_layout

FORMATS = ("md", "html", "json")
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: A template's pieces joined per write: the report reaches its file in parts of some
#: tens of kilobytes.
PIECES_PER_PART = 4096


class ReportError(LedgerError, ValueError):
    """A report was asked for in a format the ledger does not write."""


def check_format(fmt: str) -> None:
    """Refuse an unknown format before the report is gathered, so a typo costs no work."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")


def render(report: dict[str, Any], fmt: str) -> str:
    """The report as Markdown, one standalone HTML file, or JSON (the data as built)."""
    return "".join(render_pieces(report, fmt))


def render_pieces(report: dict[str, Any], fmt: str) -> Iterator[str]:
    """The report in `fmt`, in parts of some tens of kilobytes, as it is produced."""
    check_format(fmt)
    if fmt == "json":
        return _then_newline(json_chunks(report, indent=2))
    env = environment(FileSystemLoader(TEMPLATES), html=fmt == "html")
    template = env.get_template(f"report.{fmt}.j2")
    checkpoint_json = json.dumps(report["checkpoint"], ensure_ascii=False)
    pieces = template.generate(
        report=report, checkpoint_json=checkpoint_json, layout=timeline_layout
    )
    return _gathered(pieces)


def _then_newline(parts: Iterable[str]) -> Iterator[str]:
    yield from parts
    yield "\n"


def _gathered(pieces: Iterator[str]) -> Iterator[str]:
    """A template's small pieces (a word, a tag) joined `PIECES_PER_PART` at a time."""
    while batch := list(islice(pieces, PIECES_PER_PART)):
        yield "".join(batch)


def environment(loader: BaseLoader, *, html: bool) -> Environment:
    """How the ledger's templates print record text, the audit report's and the server's
    pages alike: HTML autoescapes everything (record text is never markup), Markdown
    escapes cells, and every printed value shows control characters as escapes."""
    env = Environment(
        loader=loader,
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_shown,
    )
    env.filters["md"] = md_cell
    env.filters["code"] = md_code
    env.filters["jsonline"] = jsonline
    return env


def jsonline(value: Any) -> str:
    """A value as one line of JSON, keys sorted: how the templates show a record's data."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


#: Characters that mean something in Markdown inline text, each escaped with a backslash
#: (`&`, `<`, `>` become entities, so HTML in record text stays text too).
_MD_ESCAPES = {c: "\\" + c for c in "\\`*_[]#!|~"} | {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
}
_MD_TABLE = str.maketrans(_MD_ESCAPES)


def _one_line(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return visible(" ".join(text.split()))


def _shown(value: Any) -> Any:
    """Every value a template prints: control characters shown as escapes, never raw.
    Markup (a macro's output, already built from shown values) is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value, keep_lines=True)
    return value


def md_cell(value: Any) -> str:
    """Record text shown as text in Markdown: inside a table cell, no link, image, emphasis
    or HTML of its own, and no terminal control sequence if the file is printed."""
    if value is None:
        return ""
    return _one_line(value).translate(_MD_TABLE)


def md_code(value: Any) -> str:
    """A Markdown code span holding `value` exactly: fenced with one backquote more than the
    longest run in it, so a backquote in the value cannot close it (``a`b`` → ````a`b````)."""
    if value is None:
        return ""
    text = _one_line(value).replace("|", "\\|")  # a table splits on | even in code spans
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"
