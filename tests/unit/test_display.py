"""Text shown as text: control characters visible, long values cut, JSON safe to print."""

from __future__ import annotations

import json

from ledger.display import json_text, message, shorten, visible
from projections.report_rendering import md_cell, md_code


def test_control_and_bidi_characters_are_shown_as_escapes() -> None:
    assert visible("a\x1b[31mb\x9bc\u202ed\x00") == "a\\x1b[31mb\\x9bc\\u202ed\\x00"
    assert visible("line\nnext\tcell") == "line\\x0anext\\x09cell"
    assert visible("line\nnext\tcell", keep_lines=True) == "line\nnext\tcell"
    assert visible("Persian\u200cname") == "Persian\u200cname"  # ZWNJ is part of writing


def test_lone_surrogates_are_shown_rather_than_crash_the_terminal() -> None:
    assert visible("bad\udc9bbyte") == "bad\\udc9bbyte"


def test_long_runs_in_messages_are_cut_saying_how_long_they_were() -> None:
    cut = message(f"no agreement '{'9' * 5000}' in the ledger")
    assert len(cut) < 150 and "(5,002 characters)" in cut
    assert message("/a/short/path.db: fine") == "/a/short/path.db: fine"
    assert shorten("x" * 10) == "x" * 10


def test_json_text_parses_back_to_the_same_data_with_nothing_raw_in_it() -> None:
    data = {"a": "x\x1b[31m\x9b\u202e\u2028", "b": ["[/bold]"]}
    text = json_text(data)
    assert json.loads(text) == data
    assert all(c not in text for c in "\x1b\x9b\u202e\u2028")


def test_markdown_cells_show_links_images_and_html_as_text() -> None:
    cell = md_cell("![x](https://e.org/x.png) [v](https://e.org) *e* <b> | & `c`")
    assert cell == (
        "\\!\\[x\\](https://e.org/x.png) \\[v\\](https://e.org) \\*e\\* &lt;b&gt; \\| &amp; \\`c\\`"
    )


def test_a_code_span_is_fenced_past_every_backquote_run_in_it() -> None:
    assert md_code("plain-id") == "`plain-id`"
    assert md_code("a`b``c") == "```a`b``c```"
    assert md_code("`edge`") == "`` `edge` ``"
    assert md_code("a|b") == "`a\\|b`"


def test_the_servers_pages_print_record_text_as_the_html_audit_does() -> None:
    """The pages reuse the audit's templates and its way of printing: a record written
    before the importer refused control characters still cannot disguise itself."""
    from web.pages import ENV

    page = ENV.from_string("<p>{{ text }}</p>{{ data | jsonline }}")
    assert page.render(text="evil\u202etxt.exe <b>", data={"b": 1, "a": "x"}) == (
        "<p>evil\\u202etxt.exe &lt;b&gt;</p>{&#34;a&#34;: &#34;x&#34;, &#34;b&#34;: 1}"
    )
