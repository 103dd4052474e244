"""Record text is shown as text (issue 11), through every output format.

Titles, names, summaries, quotes and authors full of Rich markup (`Pact [/bold]`,
`[link=…]`, `[/]`), Markdown (images, links, emphasis, HTML, pipes), backquotes, and
terminal control sequences (colour, OSC 8 hyperlinks, the one-byte CSI, a bidi
override). Markup and Markdown go in through the importer, as an analyst would type
them. Control characters are refused on input (FORMAT.md v1.1), so they are put into
already-stored rows with the Python API, as an older ledger may hold them; that path
writes real, hash-chained events. Every table, every --json answer and every audit
format must then print them as the text they are: no markup interpreted, no live link
or image, no raw control character, and JSON that parses back to exactly what was stored.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from cli_support import EXAMPLE, Cli, json_of
from markdown_it import MarkdownIt

MOU = "iq-ir-security-mou-2025"
MARKUP = "Pact [/bold] [link=https://evil.example]click[/link] [/] [red]"
MARKDOWN = "![x](https://evil.example/x.png) [verify](https://evil.example) *em* <b>html</b> | a"
TICKS = "a `code` and ``double`` and a lone ` tick"
CONTROL = "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x9b2J \u202eevil"
USER = "[/]" + CONTROL
#: Characters a terminal acts on, which no output may contain raw.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

HOSTILE_YAML = f"""
- kind: source
  id: hostile-source
  title: {json.dumps(MARKDOWN + " " + TICKS)}
  publisher: {json.dumps(MARKUP)}
- kind: actor
  id: hostile-actor
  name: {json.dumps(MARKUP)}
  type: person
  country: IRQ
- kind: agreement
  id: hostile-pact
  title: {json.dumps(MARKUP + " " + MARKDOWN)}
  type: treaty
  parties: [IRQ, IRN]
- kind: statement
  id: hostile-statement
  date: 2025-08-15
  by: hostile-actor
  stance: support
  about: [{MOU}, hostile-pact]
  summary: {json.dumps(MARKDOWN + " " + TICKS + " " + MARKUP)}
  sources:
    - source: hostile-source
      attribution: {json.dumps(MARKUP)}
      quote: {json.dumps(TICKS)}
- kind: correction
  id: hostile-correction
  target: hostile-statement
  date: 2025-08-16
  set: {{summary: {json.dumps(TICKS + " corrected")}}}
  reason: {json.dumps(MARKDOWN)}
- kind: statement
  id: retracted-statement
  date: 2025-08-15
  by: hostile-actor
  stance: support
  about: [{MOU}]
  summary: {json.dumps(TICKS)}
- kind: retraction
  id: hostile-retraction
  target: retracted-statement
  date: 2025-08-16
  reason: {json.dumps(TICKS)}
"""


def _store_control_characters(url: str) -> None:
    """Rows holding control sequences, as a ledger written before FORMAT 1.1 may hold."""
    from ledger import application
    from ledger.application import Ledger
    from ledger.records import validate_record
    from ledger.vocabulary import Record

    clean = validate_record(
        {
            "kind": "meeting",
            "id": "control-meeting",
            "date": "2025-08-17",
            "participants": ["IRQ", "hostile-actor"],
            "summary": "placeholder",
            "place": "placeholder",
        }
    )
    data = {**clean.data, "summary": CONTROL + " " + MARKUP, "place": CONTROL}
    app = Ledger(url)
    # The recording user is checked like any text since FORMAT 1.1; an older ledger's
    # rows were written without that check, so it is stepped around here.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(application, "recording_user", lambda name: name)
        app.import_records([(None, Record(clean.kind, clean.id, data))], recorded_by=USER)
    app.close()


@pytest.fixture
def hostile(cli: Cli, db_url: str, tmp_path: Path) -> str:
    cli("import", EXAMPLE)
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE_YAML, encoding="utf-8")
    cli("--user", "[/bold]", "import", path)
    _store_control_characters(db_url)
    return db_url


TABLES = [
    ["agreements"],
    ["agreement", "hostile-pact"],
    ["agreement", MOU],
    ["endorsements", MOU],
    ["timeline"],
    ["timeline", "--actor", "hostile-actor"],
    ["actor", "hostile-actor"],
    ["log"],
]


def _no_raw_controls(text: str, what: str) -> None:
    found = RAW.search(text)
    assert found is None, f"{what}: raw {found.group()!r} in output"


def test_tables_show_markup_and_control_sequences_as_text(cli: Cli, hostile: str) -> None:
    shown = ""
    for args in TABLES:
        result = cli(*args)
        _no_raw_controls(result.stdout, " ".join(args))
        shown += result.stdout
    flat = re.sub(r"[\s│┃]+", " ", shown)  # tables wrap long cells over lines
    for token in ("[/bold]", "[link=https://evil.example]click[/link]", "[/]", "[red]"):
        assert token in flat, token
    assert "\\x1b[31mred\\x1b[0m" in flat  # the control sequence, visible
    assert "\\x9b2J" in flat and "\\u202eevil" in flat


def test_json_answers_return_the_stored_text_exactly_and_print_no_raw_controls(
    cli: Cli, hostile: str
) -> None:
    found: dict[str, Any] = {}
    for args in TABLES:
        result = cli(*args, "--json")
        _no_raw_controls(result.stdout, " ".join(args))
        found[" ".join(args)] = json.loads(result.stdout)
    assert found["agreement hostile-pact"]["title"] == MARKUP + " " + MARKDOWN
    actor = found["actor hostile-actor"]
    assert actor["name"] == MARKUP
    summaries = {row["id"]: row["summary"] for row in found["timeline"]}
    assert summaries["control-meeting"] == CONTROL + " " + MARKUP
    assert summaries["hostile-statement"] == TICKS + " corrected"
    authors = {row["data"]["id"]: row["recorded_by"] for row in found["log"]}
    assert authors["control-meeting"] == USER and authors["hostile-pact"] == "[/bold]"


def _rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def test_markdown_audits_show_record_text_as_text(cli: Cli, hostile: str) -> None:
    for args in (["audit"], ["audit", "hostile-pact"], ["audit", MOU]):
        markdown = cli(*args, "--format", "md").stdout
        _no_raw_controls(markdown, " ".join(args))
        html = _rendered(markdown)
        assert "<img" not in html and 'evil.example"' not in html  # no image, no link
        assert "<a " not in html and "<b>" not in html and "<em>em</em>" not in html
        text = re.sub(r"<[^>]+>", "", html)
        assert "![x](https://evil.example/x.png)" in text.replace("&quot;", '"')
        assert "<b>html</b>" in text.replace("&lt;", "<").replace("&gt;", ">")
    whole = _rendered(cli("audit").stdout)
    # Code spans hold ids and JSON exactly: a backquote in the value never ends one early.
    spans = [unescape(s) for s in re.findall(r"<code>(.*?)</code>", whole)]
    # The retraction shows the superseded record as JSON in a code span.
    assert any('"summary": "a `code` and ``double`` and a lone ` tick"' in s for s in spans), spans
    assert "hostile-statement" in spans


def test_html_and_json_audits_show_record_text_as_text(cli: Cli, hostile: str) -> None:
    html = cli("audit", "--format", "html").stdout
    _no_raw_controls(html, "audit --format html")
    assert "<b>html</b>" not in html and "&lt;b&gt;html&lt;/b&gt;" in html
    assert '<img src="https://evil.example' not in html and 'href="https://evil.example' not in html
    assert "\\x1b[31mred" in html
    result = cli("audit", "--format", "json")
    _no_raw_controls(result.stdout, "audit --format json")
    report = json_of(result)
    assert report["events"][-1]["record"]["summary"] == CONTROL + " " + MARKUP


def test_a_user_named_like_markup_can_record_and_read_the_log(cli: Cli) -> None:
    cli("--user", "[/]", "import", EXAMPLE)
    assert "[/]" in cli("log").stdout
    cli("--user", "Pact [/bold]", "record", "source", "--id", "s-later", "--title", MARKUP)
    assert "[/bold]" in cli("log").stdout
