"""Records out in the interchange format, streamed so that a large ledger never sits in memory.

What is written is each record exactly as it was entered (normalized), in log order, so
that references always come after what they name and `ledger import` of the output
rebuilds the same ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

import yaml

FORMATS = ("yaml", "json", "jsonl")


def write_records(records: Iterable[dict[str, Any]], fmt: str, stream: TextIO) -> int:
    """Write records to `stream` in `fmt`; returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    count = 0
    if fmt == "json":
        stream.write("[")
    for record in records:
        if fmt == "yaml":
            stream.write(yaml.safe_dump([record], sort_keys=False, allow_unicode=True, width=100))
        elif fmt == "json":
            stream.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        else:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    if fmt == "json":
        stream.write("\n]\n" if count else "]\n")
    if fmt == "yaml" and count == 0:
        stream.write("[]\n")
    return count
