"""Interchange files → raw records, each with the place it came from.

Reading is separate from validation so that a syntax error anywhere in a file is
reported before any record is considered, and so that every later refusal can still
name the file, the record's index and its line. Files are untrusted input: YAML aliases
(the "billion laughs" expansion) are refused and nesting is bounded, so a hostile file
gets a message, not a hung process or a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, Protocol, TextIO

import orjson
import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from ledger.errors import RecordError
from ledger.records import Record, validate_record

__all__ = [
    "STDIN",
    "STDIN_NAME",
    "RawRecord",
    "iter_records",
    "read_content",
    "read_file",
    "read_records",
]

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


#: A record as a reading worker hands it to the import when the writer can usually append
#: it as read (`ledger.parallel_reading`, ``slim``): [index in its file, line, kind, id,
#: stream id (hyphenated), references (field, namespace, id), its stored state (bytes) up
#: to ``"recorded_by":`` and from the field after it on, the same two spelled as in its
#: leaf's canonical bytes, file]. A list, not a class: the import takes a million.
Slim = list[Any]


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
    return list(_validated(read_file(path, stdin)))


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


def _sniff(text: str, file: str = STDIN_NAME) -> list[RawRecord]:
    start = text.lstrip()
    if start.startswith("["):
        try:
            return _read_json(text, file)
        except RecordError as json_error:
            try:
                return _read_yaml(text, file)
            except RecordError:
                raise json_error from None
    if start.startswith("{"):
        return _read_jsonl(text, file)
    return _read_yaml(text, file)


def read_content(
    content: bytes, name: str, fmt: str | None = None
) -> list[tuple[RawRecord, Record]]:
    """Records sent whole rather than in a file (a web request's body), validated.

    `fmt` is ``yaml``, ``json`` or ``jsonl``; None guesses it as for standard input.
    Every refusal names `name` where an import names the file.
    """
    text = _decode(content, name)
    if fmt is None:
        raws = _sniff(text, name)
    else:
        reader = _READERS.get(f".{fmt}")
        if reader is None:
            raise RecordError(
                f"cannot read the format {fmt!r}: expected yaml, json or jsonl", file=name
            )
        raws = reader(text, name)
    return list(_validated(raws))


# --- YAML ---------------------------------------------------------------------------

# libyaml's parser when it is there: the records are built from parser events rather
# than through PyYAML's composer and constructor, which is an order of magnitude faster
# on large imports and lets aliases, repeated keys and depth be checked on the way.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


class Mark(Protocol):
    """Where the parser was: yaml.error.Mark, or the C parser's own (the CSafeLoader's)."""

    @property
    def line(self) -> int: ...


def _line(mark: Mark | None) -> int | None:
    """The 1-based line of a mark; yaml's stubs let an event carry none."""
    return mark.line + 1 if mark is not None else None


_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()
_TAG = "tag:yaml.org,2002:"
_SCALARS: dict[str, Callable[[ScalarNode], Any]] = {
    _TAG + "null": lambda node: None,
    _TAG + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _TAG + "float": _CONSTRUCTOR.construct_yaml_float,
    _TAG + "str": lambda node: node.value,
}
_NOTHING = object()


class _YamlRefused(Exception):
    """Valid YAML the ledger will not read, with where it is."""

    def __init__(self, message: str, mark: Mark | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None


class _Frame:
    """A list or mapping being built, and for a mapping the key waiting for its value."""

    __slots__ = ("key", "mark", "value")

    def __init__(self, value: list[Any] | dict[Any, Any], mark: Mark | None) -> None:
        self.value = value
        self.mark = mark
        self.key: Any = _NOTHING


def _read_yaml(text: str, file: str) -> list[RawRecord]:
    try:
        return list(_yaml_records(text, file))
    except _YamlRefused as refusal:
        raise RecordError(refusal.message, file=file, line=refusal.line) from None
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


def _yaml_records(text: str, file: str) -> Iterator[RawRecord]:
    """Records of every document in turn; each document must be a list of records."""
    index = 0
    stack: list[_Frame] = []
    root: Any = _NOTHING
    root_mark: Mark | None = None
    item_lines: list[int | None] = []
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise _YamlRefused(
                "invalid YAML: aliases (*name) are not allowed in ledger files; write the "
                "value out",
                event.start_mark,
            )
        if isinstance(event, yaml.DocumentStartEvent):
            root, root_mark, item_lines = _NOTHING, None, []
            continue
        if isinstance(event, yaml.DocumentEndEvent):
            if root is _NOTHING or root is None:
                continue  # an empty document, e.g. after a trailing ---
            if not isinstance(root, list):
                raise _YamlRefused(
                    "a YAML document must be a list of records, each starting with '- '",
                    root_mark,
                )
            for item, line in zip(root, item_lines, strict=True):
                index += 1
                yield RawRecord(file, index, line, item)
            continue
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise _YamlRefused(
                    f"invalid YAML: nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
            _check_tag(
                event.tag,
                "seq" if isinstance(event, yaml.SequenceStartEvent) else "map",
                event.start_mark,
            )
            if len(stack) == 1 and isinstance(stack[0].value, list):
                item_lines.append(_line(event.start_mark))
            container: list[Any] | dict[Any, Any] = (
                [] if isinstance(event, yaml.SequenceStartEvent) else {}
            )
            stack.append(_Frame(container, event.start_mark))
            continue
        if isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            frame = stack.pop()
            value: Any = frame.value
            mark = frame.mark
        elif isinstance(event, yaml.ScalarEvent):
            if len(stack) == 1 and isinstance(stack[0].value, list):
                item_lines.append(_line(event.start_mark))
            value = _scalar(event)
            mark = event.start_mark
        else:
            continue  # stream start and end
        if not stack:
            root, root_mark = value, mark
        else:
            _add(stack[-1], value, mark)
    if stack:  # the parser reports an unfinished document first; this is a safeguard
        raise _YamlRefused("invalid YAML: the file ends inside a list or mapping", None)


def _add(frame: _Frame, value: Any, mark: Mark | None) -> None:
    if isinstance(frame.value, list):
        frame.value.append(value)
    elif frame.key is _NOTHING:
        try:
            repeated = value in frame.value
        except TypeError:
            raise _YamlRefused(
                "invalid YAML: a field name must be text, not a list or mapping", mark
            ) from None
        if repeated:
            raise _YamlRefused(f"invalid YAML: found the key {value!r} twice", mark)
        frame.key = value
    else:
        frame.value[frame.key] = value
        frame.key = _NOTHING


def _scalar(event: yaml.ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        # yaml's stubs leave Resolver.resolve unannotated; it returns the tag, a str.
        tag = _RESOLVER.resolve(ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
    if tag == _TAG + "str":
        return event.value
    if tag == _TAG + "merge":
        raise _YamlRefused(
            "invalid YAML: merge keys (<<) are not allowed in ledger files; write the fields out",
            event.start_mark,
        )
    if tag == _TAG + "int" and len(event.value) > MAX_DIGITS:
        raise _YamlRefused(
            f"invalid YAML: a number of {len(event.value):,} digits is longer than any field takes",
            event.start_mark,
        )
    # yaml's stubs give a node only the pure-Python Mark, though CSafeLoader's carry its own.
    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)  # type: ignore[arg-type]
    if tag == _TAG + "timestamp":
        try:
            return _CONSTRUCTOR.construct_yaml_timestamp(node)
        except ValueError:
            return event.value  # an impossible day (2021-02-30) is for the date check to explain
    construct = _SCALARS.get(tag)
    if construct is None:
        raise _YamlRefused(f"invalid YAML: the tag {tag!r} is not supported", event.start_mark)
    try:
        return construct(node)
    except (ValueError, yaml.YAMLError):
        raise _YamlRefused(
            f"invalid YAML: {event.value!r} is not a valid {tag.removeprefix(_TAG)}",
            event.start_mark,
        ) from None


def _check_tag(tag: str | None, kind: str, mark: Mark | None) -> None:
    if tag not in (None, "!", _TAG + kind):
        raise _YamlRefused(f"invalid YAML: the tag {tag!r} is not supported", mark)


# --- JSON ---------------------------------------------------------------------------


class _Refused(ValueError):
    """Valid JSON the ledger will not read."""


class _Duplicate(_Refused):
    """A JSON object naming one key twice; the last would silently win."""


#: Python refuses to turn longer digit strings into integers (CVE-2020-10735).
MAX_DIGITS = 4300


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise _Refused(f"a number of {digits:,} digits is longer than any field takes")
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(f"found the key {key!r} twice")
        result[key] = value
    return result


def _no_constant(name: str) -> NoReturn:
    raise _Duplicate(f"{name} is not a number JSON allows")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_int=_integer
)


def json_value(text: str) -> Any:
    """One JSON value read by the ledger's rules: no repeated keys, no NaN, no numbers past
    Python's digit limit. `json.JSONDecodeError` for text that is not JSON at all; a
    `ValueError` saying why for JSON the ledger refuses."""
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise _Refused("the data is nested too deeply") from None


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
            except _Refused as error:
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
    return list(_jsonl_records(enumerate(text.split("\n"), start=1), file))


def _jsonl_records(
    lines: Iterable[tuple[int, str | bytes]], file: str, index: int = 0
) -> Iterator[RawRecord]:
    """Numbered lines → records; blank lines are skipped, each line is one JSON record.

    `index` is the number of records before these lines (a worker reads part of a file).
    """
    for number, line in lines:
        item = _quick_json(line)
        if item is _NOTHING:
            text = line if isinstance(line, str) else _decoded(line, number, file)
            if not text.strip():
                continue
            item = _precise_json(text.strip(), file, index + 1, number)
        index += 1
        yield RawRecord(file, index, number, item)


def _quick_json(line: str | bytes) -> Any:
    """orjson's reading of a line when it is certainly the standard reader's too: the line
    is exactly what orjson writes for the value (compact, no key twice, no NaN, no number
    it could not hold), as export and the benchmarks write it; else _NOTHING."""
    stripped = line.strip()
    if not stripped:
        return _NOTHING
    try:
        item = orjson.loads(stripped)
        same = orjson.dumps(item) == (
            stripped if isinstance(stripped, bytes) else stripped.encode("utf-8")
        )
    except (ValueError, TypeError):  # not JSON orjson reads, or a lone surrogate
        return _NOTHING
    return item if same else _NOTHING


def _precise_json(text: str, file: str, index: int, number: int) -> Any:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise RecordError(
            f"invalid JSON: {error.msg} (column {error.colno}); JSON Lines holds one "
            "record per line",
            file=file,
            index=index,
            line=number,
        ) from None
    except _Refused as error:
        raise RecordError(f"invalid JSON: {error}", file=file, index=index, line=number) from None
    except RecursionError:
        raise RecordError(
            "the data is nested too deeply", file=file, index=index, line=number
        ) from None


def _decoded(line: bytes, number: int, file: str) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        _read_path(file)  # the whole-file reader's message, with its byte and line
        raise


def _stream_jsonl(path: str) -> Iterator[RawRecord]:
    """A JSON Lines file a line at a time: a million records never sit in memory at once."""
    with _open(path) as handle:
        yield from _jsonl_records(_numbered(handle), path)


def _open(path: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as error:
        raise RecordError(f"cannot read the file: {error.strerror or error}", file=path) from None


def _numbered(handle: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(handle, start=1):
        yield number, raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw


#: A JSON Lines file at least this large is read and checked by a pool of workers.
POOL_MIN_BYTES = 8 << 20


def iter_records(
    paths: Iterable[str],
    stdin: TextIO | None = None,
    workers: int | None = None,
    *,
    slim: bool = False,
) -> Iterator[tuple[RawRecord, Record] | Slim]:
    """Read and validate several files for one import, streaming JSON Lines files.

    One pass: the import consumes records as they are read and checked, so a million
    JSON Lines records never sit in memory at once (YAML, JSON and standard input are
    read whole, being hand-written and small). A refusal half-way is raised inside the
    import's transaction, which then writes nothing. A large JSON Lines file is parsed
    and validated by `workers` processes (by default one per core, when there are two or more,
    from POOL_MIN_BYTES on; 0: never), its records still handed on in file order. The
    workers' fork server is started by this call, not by the first record asked for, so
    that it starts while the caller opens the ledger.

    With `slim` (what `Ledger.import_records` is given by ``ledger import``), the pool's
    workers hand a record that a writer can usually append as read over as a `Slim`
    row, its stored state already encoded, in place of (RawRecord, Record): see
    `ledger.parallel_reading`.
    """
    paths = list(paths)
    counts = [_workers_for(path, workers) for path in paths]
    if any(counts):
        from ledger.parallel_reading import start_workers

        start_workers()  # now, so that it starts while the caller gets ready to import
    return _records_of(paths, counts, stdin, slim)


def _records_of(
    paths: list[str], counts: list[int], stdin: TextIO | None, slim: bool
) -> Iterator[tuple[RawRecord, Record] | Slim]:
    for path, count in zip(paths, counts, strict=True):
        if not _streamable(path):
            yield from read_records(path, stdin)
        elif count > 0:
            from ledger.parallel_reading import pooled_jsonl

            yield from pooled_jsonl(path, count, slim=slim)
        else:
            yield from _validated(_stream_jsonl(path))


def _workers_for(path: str, workers: int | None) -> int:
    """How many workers will read `path` (0: it is read in this process)."""
    if not _streamable(path):
        return 0
    if workers is not None:
        return workers
    try:
        large = os.path.getsize(path) >= POOL_MIN_BYTES
    except OSError:
        return 0  # the reader says why
    # One worker per core, the importing process beside them: since workers hand over
    # records ready to append, the writer needs about two thirds of what a worker
    # does, and on two cores a second worker takes up the time the writer leaves
    # (a 100k import 4-9 % faster than with one). On one core there is nothing to share.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if large and cores and cores > 1 else 0


def _streamable(path: str) -> bool:
    return path != STDIN and Path(path).suffix.lower() == ".jsonl"


def _validated(raws: Iterable[RawRecord]) -> Iterator[tuple[RawRecord, Record]]:
    for raw in raws:
        try:
            record = validate_record(raw.data)
        except RecordError as error:
            raise error.located(file=raw.file, index=raw.index, line=raw.line) from None
        yield raw, record


_READERS: dict[str, Callable[[str, str], list[RawRecord]]] = {
    ".yaml": _read_yaml,
    ".yml": _read_yaml,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
}
