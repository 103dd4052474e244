"""Interchange files → raw records, each with the place it came from.

Reading is separate from validation so that a syntax error anywhere in a file is
reported before any record is considered, and so that every later refusal can still
name the file, the record's index and its line. Files are untrusted input: YAML aliases
(the "billion laughs" expansion) are refused and nesting is bounded, so a hostile file
gets a message, not a hung process or a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ledger.errors import RecordError
from ledger.records import Record, validate_record

__all__ = ["STDIN", "STDIN_NAME", "RawRecord", "read_file", "read_records"]

STDIN = "-"
STDIN_NAME = "<stdin>"
MAX_DEPTH = 50

_JSON_SPACE = " \t\r\n"


@dataclass(frozen=True)
class RawRecord:
    """One record as read, before validation; `index` counts from 1 within its file."""

    file: str
    index: int
    line: int | None
    data: Any


def read_file(path: str, stdin: TextIO | None = None) -> list[RawRecord]:
    """All records of one file, or RecordError naming the file (and line) if it is unreadable.

    ``-`` reads standard input and guesses the format from its first character: ``[``
    is JSON (or a YAML flow list), ``{`` is JSON Lines, anything else YAML.
    """
    if path == STDIN:
        text = _read_stream(stdin if stdin is not None else sys.stdin)
        return _sniff(text)
    reader = _READERS.get(Path(path).suffix.lower())
    if reader is None:
        raise RecordError(
            f"cannot tell the format of {path!r}: expected a .yaml, .yml, .json or .jsonl file, "
            "or - for standard input",
            file=path,
        )
    return reader(_read_path(path), path)


def read_records(path: str, stdin: TextIO | None = None) -> list[tuple[RawRecord, Record]]:
    """Read and validate a whole file; the first refusal is raised with its place filled in."""
    checked = []
    for raw in read_file(path, stdin):
        try:
            record = validate_record(raw.data)
        except RecordError as error:
            raise error.located(file=raw.file, index=raw.index, line=raw.line) from None
        checked.append((raw, record))
    return checked


# --- sources ------------------------------------------------------------------------


def _read_path(path: str) -> str:
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise RecordError(f"cannot read the file: {error.strerror or error}", file=path) from None
    return _decode(content, path)


def _read_stream(stream: TextIO) -> str:
    try:
        text = stream.read()
    except UnicodeDecodeError as error:
        raise RecordError(
            f"the input is not UTF-8 text ({error.reason})", file=STDIN_NAME
        ) from None
    except OSError as error:
        raise RecordError(f"cannot read standard input: {error}", file=STDIN_NAME) from None
    if isinstance(text, bytes):
        return _decode(text, STDIN_NAME)
    return text.removeprefix("\ufeff")


def _decode(content: bytes, file: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise RecordError(
            f"the file is not UTF-8 text (byte {error.start + 1}: {error.reason})",
            file=file,
            line=line,
        ) from None


def _sniff(text: str) -> list[RawRecord]:
    start = text.lstrip()
    if start.startswith("["):
        try:
            return _read_json(text, STDIN_NAME)
        except RecordError as json_error:
            try:
                return _read_yaml(text, STDIN_NAME)
            except RecordError:
                raise json_error from None
    if start.startswith("{"):
        return _read_jsonl(text, STDIN_NAME)
    return _read_yaml(text, STDIN_NAME)


# --- YAML ---------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader without aliases, with bounded nesting and no silently repeated keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ComposerError(
                None,
                None,
                "YAML aliases (*name) are not allowed in ledger files; write the value out",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"the data is nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            self.flatten_mapping(node)
            seen: set[Any] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in seen
                except TypeError:
                    break  # unhashable: the parent explains that better
                if repeated:
                    raise ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found the key {key!r} twice",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def construct_lenient_timestamp(self, node: ScalarNode) -> Any:
        """An impossible day (2021-02-30) stays text, for the date check to explain."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_lenient_timestamp)


def _read_yaml(text: str, file: str) -> list[RawRecord]:
    records: list[RawRecord] = []
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is None and isinstance(node, ScalarNode):
                continue  # an empty document, e.g. after a trailing ---
            if not isinstance(node, SequenceNode) or not isinstance(data, list):
                raise RecordError(
                    "a YAML document must be a list of records, each starting with '- '",
                    file=file,
                    line=node.start_mark.line + 1,
                )
            for item_node, item in zip(node.value, data, strict=True):
                records.append(
                    RawRecord(file, len(records) + 1, item_node.start_mark.line + 1, item)
                )
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "unreadable YAML"
        if error.context and error.problem:
            problem = f"{problem} ({error.context})"
        raise RecordError(
            f"invalid YAML: {problem}",
            file=file,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except yaml.YAMLError as error:
        raise RecordError(f"invalid YAML: {error}", file=file) from None
    except RecursionError:
        raise RecordError("the data is nested too deeply", file=file) from None
    finally:
        loader.dispose()
    return records


# --- JSON ---------------------------------------------------------------------------


class _Duplicate(ValueError):
    """A JSON object naming one key twice; the last would silently win."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(f"found the key {key!r} twice")
        result[key] = value
    return result


def _no_constant(name: str) -> NoReturn:
    raise _Duplicate(f"{name} is not a number JSON allows")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _JSON_SPACE:
        position += 1
    return position


def _read_json(text: str, file: str) -> list[RawRecord]:
    records: list[RawRecord] = []
    line, counted = 1, 0

    def line_at(position: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, position)
        counted = position
        return line

    position = _skip(text, 0)
    if position >= len(text) or text[position] != "[":
        raise RecordError(
            "a JSON file must hold a list of records ([{...}, {...}])",
            file=file,
            line=line_at(position) if position < len(text) else None,
        )
    position = _skip(text, position + 1)
    if position < len(text) and text[position] == "]":
        position += 1
    else:
        while True:
            start = line_at(position)
            try:
                item, position = _DECODER.raw_decode(text, position)
            except json.JSONDecodeError as error:
                raise RecordError(
                    f"invalid JSON: {error.msg} (column {error.colno})",
                    file=file,
                    line=error.lineno,
                ) from None
            except _Duplicate as error:
                raise RecordError(
                    f"invalid JSON: {error}", file=file, index=len(records) + 1, line=start
                ) from None
            except RecursionError:
                raise RecordError(
                    "the data is nested too deeply", file=file, index=len(records) + 1, line=start
                ) from None
            records.append(RawRecord(file, len(records) + 1, start, item))
            position = _skip(text, position)
            if position < len(text) and text[position] == ",":
                position = _skip(text, position + 1)
                continue
            if position < len(text) and text[position] == "]":
                position += 1
                break
            _json_expected(text, position, file, line_at, "',' or ']' after a record")
    position = _skip(text, position)
    if position < len(text):
        _json_expected(text, position, file, line_at, "nothing after the closing ']'")
    return records


def _json_expected(
    text: str, position: int, file: str, line_at: Callable[[int], int], what: str
) -> NoReturn:
    if position >= len(text):
        raise RecordError(f"invalid JSON: the file ends early, expected {what}", file=file)
    raise RecordError(f"invalid JSON: expected {what}", file=file, line=line_at(position))


def _read_jsonl(text: str, file: str) -> list[RawRecord]:
    records: list[RawRecord] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        index = len(records) + 1
        try:
            item = _DECODER.decode(line.strip())
        except json.JSONDecodeError as error:
            raise RecordError(
                f"invalid JSON: {error.msg} (column {error.colno}); JSON Lines holds one "
                "record per line",
                file=file,
                index=index,
                line=number,
            ) from None
        except _Duplicate as error:
            raise RecordError(
                f"invalid JSON: {error}", file=file, index=index, line=number
            ) from None
        except RecursionError:
            raise RecordError(
                "the data is nested too deeply", file=file, index=index, line=number
            ) from None
        records.append(RawRecord(file, index, number, item))
    return records


_READERS: dict[str, Callable[[str, str], list[RawRecord]]] = {
    ".yaml": _read_yaml,
    ".yml": _read_yaml,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
}
