"""Text from records and from errors, shown as text: never run by the terminal.

Record text and command-line values are data. Printed raw, an escape sequence in a
`--user` name could rewrite the terminal, a bidirectional override could reorder what
an analyst reads, and a 5,000-digit value pasted into an error message buries the
message. These functions make such text visible and short; the CLI escapes Rich markup
separately (it builds tables from `rich.text.Text`, which is never parsed as markup).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

#: Bidirectional overrides and isolates (FORMAT.md refuses them on input; old rows may
#: still hold them) and the lone surrogates that hostile input can smuggle in.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVISIBLE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_INVISIBLE_KEEPING_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")

#: JSON leaves these raw with ensure_ascii=False: C1 controls (\x9b starts a terminal
#: sequence), bidi controls, line separators and lone surrogates.
_RAW_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")

#: A value longer than this is cut in messages, keeping its start and saying its length.
LONGEST_SHOWN = 80
#: Runs without a space longer than this are cut in messages (paths stay whole).
LONGEST_RUN = 240
_LONG_RUN = re.compile(rf"\S{{{LONGEST_RUN + 1},}}")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_lines: bool = False) -> str:
    """`text` with control, bidirectional-override characters and lone surrogates shown as
    escapes (``\\x1b``, ``\\u202e``); newlines and tabs too unless `keep_lines`."""
    pattern = _INVISIBLE_KEEPING_LINES if keep_lines else _INVISIBLE
    return pattern.sub(_escaped, text)


def shorten(value: str, limit: int = LONGEST_SHOWN) -> str:
    """A value cut to about `limit` characters, saying how long it was."""
    if len(value) <= limit:
        return value
    return f"{value[: limit - 20]}…({len(value):,} characters)"


def message(text: str, *, keep_lines: bool = False) -> str:
    """An error message fit for a terminal: every run of more than 240 characters without a
    space is cut (a pasted number, a huge id), and invisible characters are shown."""
    cut = _LONG_RUN.sub(lambda match: shorten(match.group()), text)
    return visible(cut, keep_lines=keep_lines)


def json_chunks(data: Any, indent: int, pieces: int = 8192) -> Iterator[str]:
    """`json_text(data, indent)` in parts as the encoder produces them, for data too big to
    hold as one string (its lists may be read as they are encoded). With an indent the
    encoder is the same pure-Python one `json.dumps` uses, so the text is the same; its
    small pieces are joined `pieces` at a time (escaping looks at one character only)."""
    encoded = json.JSONEncoder(ensure_ascii=False, indent=indent, default=str).iterencode(data)
    while batch := list(islice(encoded, pieces)):
        yield _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", "".join(batch))


def json_text(data: Any, indent: int | None = None) -> str:
    """JSON of `data`, readable (not ASCII-escaped) yet safe to print: the characters a
    terminal would act on are written as \\u escapes, which parse back to the same data."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
