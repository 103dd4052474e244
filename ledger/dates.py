"""Dates as analysts write them (EDTF) and as the ledger records time.

Sources rarely give an exact day, so every occurrence date is an EDTF string that the
ledger turns into the earliest and latest day it can have been: those two days are what
sorting and ``--as-of`` work with. The `edtf` package's fuzzy bounds pad ``~``/``?``
dates by a year or more, which would make an "approximately August 2025" event look
possibly past in mid-2024; its strict bounds ignore the qualifier altogether, which made
``1988-05-28?`` as certain as ``1988-05-28``. FORMAT.md takes the middle road: a date
qualified ``?``, ``~`` or ``%`` widens its strict bounds by one unit of its own precision
on each side (``1988-05-28?`` is 1988-05-27 to 1988-05-29, ``2025-08~`` July to
September), and is never certain.

Record time (when the ledger learnt something) is a separate, exact UTC timestamp
stored as fixed-width text so that comparing strings compares times.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
import functools
import io
import math
import re
import time
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edtf.parser.parser_classes import EDTFObject

__all__ = [
    "DateSpan",
    "format_timestamp",
    "is_qualified",
    "parse_as_of",
    "parse_date",
    "parse_known_at",
    "parse_timestamp",
]

# Longer strings are never real dates; refusing them early keeps the parser (pyparsing,
# which backtracks) away from hostile input.
_MAX_EDTF_LENGTH = 200

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?",
    re.IGNORECASE,
)
_DAY_TOKEN = re.compile(r"(?<![\dX])\d{4}-\d{2}-\d{2}(?![\dX])")
_RANGE = re.compile(r"([\dX-]*\d[\dX]*)\s*\.\.\s*([\dX-]*\d[\dX]*)")
_HINT = " (examples: 2025-08-14, 2025-08, 2025-08~, [2025-08-11..2025-08-13], [..2025-08-13])"
_PLAIN = r"\d{4}(?:-\d{2}(?:-\d{2})?)?"
_FAST_SINGLE = re.compile(rf"(?P<a>{_PLAIN})[~?%]?")
_FAST_RANGE = re.compile(rf"\[(?P<a>{_PLAIN})?\.\.(?P<b>{_PLAIN})?\]")
_FAST_INTERVAL = re.compile(rf"(?:(?P<a>{_PLAIN})[~?%]?|\.\.)/(?:(?P<b>{_PLAIN})[~?%]?|\.\.)")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


@dataclass(frozen=True)
class DateSpan:
    """An EDTF date with the first and last day it can denote (None: open end)."""

    edtf: str
    earliest: datetime.date | None
    latest: datetime.date | None

    @property
    def qualified(self) -> bool:
        """Whether the date is qualified uncertain or approximate: then never certain."""
        return is_qualified(self.edtf)

    @property
    def iso_bounds(self) -> tuple[str | None, str | None]:
        """The first and last day as ISO text, as the events and the read models store
        them (None: an open end)."""
        return (
            self.earliest.isoformat() if self.earliest else None,
            self.latest.isoformat() if self.latest else None,
        )


def parse_date(value: str | datetime.date | datetime.datetime) -> DateSpan:
    """The span of days an EDTF date can denote, refusing anything a calendar can't hold.

    YAML hands over unquoted dates as `date` objects; they are the same day as their
    ISO text. A `datetime` is reduced to its calendar day: occurrence dates are days.
    """
    return _span(_as_text(value))


@functools.lru_cache(maxsize=4096)
def _span(text: str) -> DateSpan:
    # The edtf parser takes tens of milliseconds per date, too slow for imports of
    # thousands of records, so the common valid shapes are computed directly; anything
    # else, and every invalid date, goes through edtf and its checks.
    strict = _fast_span(text) or _edtf_span(text)
    return _widened(strict) if is_qualified(text) else strict


_QUALIFIER = re.compile(r"[?~%]")
_TOKEN = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
_ENDS = re.compile(r"/|\.\.|,")


def is_qualified(text: str) -> bool:
    """Whether an EDTF date carries an uncertain (?), approximate (~) or both (%) mark."""
    return _QUALIFIER.search(text) is not None


def _widened(span: DateSpan) -> DateSpan:
    """Strict bounds widened by one unit of precision where the date is qualified.

    In an interval, a range or a set (``1988-05-28?/1988-06``, ``{2025-08-11?,2025-08-13}``)
    each end widens by its own precision, and only if that end is qualified; a single
    date widens on both sides.
    """
    parts = _ENDS.split(span.edtf)
    first, last = parts[0], parts[-1]
    earliest, latest = span.earliest, span.latest
    if earliest is not None and is_qualified(first):
        tokens = _precision_tokens(first)
        earliest = _step(earliest, tokens[0].count("-") if tokens else 0, -1)
    if latest is not None and is_qualified(last):
        tokens = _precision_tokens(last)
        latest = _step(latest, tokens[-1].count("-") if tokens else 0, +1)
    return DateSpan(span.edtf, earliest, latest)


def _precision_tokens(end: str) -> list[str]:
    """The dates of one end, read without their qualifiers: a mark on one component
    (`2004-?06-11`, the month alone uncertain) leaves the date's precision a day."""
    return _TOKEN.findall(_QUALIFIER.sub("", end))


def _step(day: datetime.date, dashes: int, direction: int) -> datetime.date:
    """One day, month or year (by `dashes` in the token) before or after a bound.

    An earliest bound is the first day of its month or year, a latest bound the last, so
    the result is again the first (or last) day of the unit before (or after) it.
    `direction` is -1 (back) or +1 (on).
    """
    backwards = direction == -1
    try:
        if dashes >= 2:
            return day + datetime.timedelta(days=direction)
        if dashes == 1:
            month = day.year * 12 + day.month - 1 + direction
            year, month = divmod(month, 12)
            last = calendar.monthrange(year, month + 1)[1]
            return datetime.date(year, month + 1, 1 if backwards else last)
        if backwards:
            return datetime.date(day.year - 1, 1, 1)
        return datetime.date(day.year + 1, 12, 31)
    except (ValueError, OverflowError):
        return datetime.date.min if backwards else datetime.date.max


def _edtf_span(text: str) -> DateSpan:
    parsed = _parse_edtf(text)
    try:
        for node in _nodes(parsed):
            _check_node(node)
        earliest, latest = _node_bounds(parsed)
    except _Refused as refused:
        raise ValueError(f"{text!r} is not a valid EDTF date: {refused}") from None
    except Exception:  # edtf fails in many ways on odd input; none is our bug
        raise ValueError(
            f"{text!r} is not a valid EDTF date: its earliest and latest days cannot be "
            f"worked out{_HINT}"
        ) from None
    # The whole is one of the nodes checked above: its days are real and in order.
    return DateSpan(text, earliest, latest)


_Days = tuple[datetime.date, datetime.date, int]


def _fast_span(text: str) -> DateSpan | None:
    """The span of a plain day, month or year, or a range or interval of them; None if the
    text is anything else or is invalid, so that edtf decides and explains."""
    match = _FAST_SINGLE.fullmatch(text)
    if match:
        days = _days(match["a"])
        return DateSpan(text, days[0], days[1]) if days else None
    match = _FAST_RANGE.fullmatch(text) or _FAST_INTERVAL.fullmatch(text)
    if not match or not (match["a"] or match["b"]):
        return None
    lower = _days(match["a"]) if match["a"] else None
    upper = _days(match["b"]) if match["b"] else None
    if (match["a"] and lower is None) or (match["b"] and upper is None):
        return None
    if lower and upper and (lower[0] > upper[1] or (text[0] == "[" and lower[2] != upper[2])):
        return None
    return DateSpan(text, lower[0] if lower else None, upper[1] if upper else None)


def _days(token: str) -> _Days | None:
    """First day, last day and precision (number of parts) of YYYY, YYYY-MM or YYYY-MM-DD.

    The precisions are only compared with each other: a range's ends must share one.
    """
    parts = [int(part) for part in token.split("-")]
    year, precision = parts[0], len(parts)
    if year < 1:
        return None
    try:
        if precision == 1:
            return datetime.date(year, 1, 1), datetime.date(year, 12, 31), precision
        if precision == 2:
            first = datetime.date(year, parts[1], 1)
            last_day = calendar.monthrange(year, parts[1])[1]
            return first, first.replace(day=last_day), precision
        day = datetime.date(year, parts[1], parts[2])
        return day, day, precision
    except ValueError:
        return None


def parse_as_of(value: str | datetime.date) -> datetime.date:
    """The day for ``--as-of``: valid time is counted in whole days."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and _ISO_DAY.fullmatch(text):
        try:
            return datetime.date.fromisoformat(text)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a valid day: {error}") from None
    raise ValueError(f"{value!r} is not a valid day: expected YYYY-MM-DD, e.g. 2025-08-14")


def parse_known_at(value: str | datetime.datetime) -> datetime.datetime:
    """The record-time limit for ``--known-at``, as an aware UTC datetime.

    A bare day means "by the end of that day (UTC)", because an analyst asking what was
    known on 2025-08-14 expects what was recorded during that day to count. A datetime
    without an offset is taken as UTC, the zone record time is kept in.
    """
    if isinstance(value, datetime.datetime):
        return _to_utc(value)
    # Not text: refused below, as any non-date. (Any other text that is no date, "XXXX" say,
    # in place of "" is refused the same way: that mutant is equivalent.)
    text = value.strip() if isinstance(value, str) else ""
    if _ISO_DAY.fullmatch(text):
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a valid day: {error}") from None
        return datetime.datetime.combine(day, datetime.time.max, tzinfo=datetime.UTC)
    if _ISO_DATETIME.fullmatch(text):
        # Since Python 3.11 fromisoformat reads `date -Ins`'s comma and nanoseconds itself,
        # cutting them to microseconds (earlier, never later, than the moment meant).
        try:
            return _to_utc(datetime.datetime.fromisoformat(text))
        except ValueError as error:
            raise ValueError(f"{value!r} is not a valid timestamp: {error}") from None
    raise ValueError(
        f"{value!r} is not a valid timestamp: expected an ISO day (2025-08-14) or date and "
        "time (2025-08-14T10:21:00Z, 2025-08-14T12:21+02:00)"
    )


def format_timestamp(dt: datetime.datetime) -> str:
    """Record time as fixed-width UTC text, so that string order is time order.

    A naive datetime is taken as UTC, the same rule as ``--known-at``.
    """
    utc = _to_utc(dt)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def parse_timestamp(value: str) -> datetime.datetime:
    """The inverse of `format_timestamp`; anything else is refused, not guessed."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a stored timestamp: expected YYYY-MM-DDTHH:MM:SS.ffffffZ"
        )
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a stored timestamp: {error}") from None


class _Refused(Exception):
    """A reason a parsed EDTF date is still unacceptable."""


def _as_text(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a valid EDTF date: expected text such as 2025-08")
    text = value.strip()
    if not text:
        raise ValueError("an empty date is not a valid EDTF date")
    if len(text) > _MAX_EDTF_LENGTH:
        raise ValueError(
            f"{text[:40]!r}... is not a valid EDTF date: longer than {_MAX_EDTF_LENGTH} characters"
        )
    return text


def _precheck(text: str) -> None:
    """Say plainly what edtf would only report as "invalid input near position N"."""
    for match in _DAY_TOKEN.finditer(text):
        try:
            datetime.date.fromisoformat(match.group())
        except ValueError as error:
            raise ValueError(
                f"{text!r} is not a valid EDTF date: {match.group()} is not a calendar day "
                f"({error})"
            ) from None
    # Both ends hold a digit (the pattern says so); a year's minus sign is not a part.
    for lower, upper in _RANGE.findall(text):
        if lower.lstrip("-").count("-") != upper.lstrip("-").count("-"):
            raise ValueError(
                f"{text!r} is not a valid EDTF date: the ends of '{lower}..{upper}' have "
                "different precisions; write both as days, months or years, e.g. "
                "[2022-01-01..2025-08-14]"
            )


def _edtf() -> ModuleType:
    """The edtf parser classes, imported on first need.

    edtf (and pyparsing under it) costs ~75 ms to import, and plain days, months and
    ranges never reach it: a query, which parses no date, should not pay for it.
    """
    from edtf.parser import parser_classes

    return parser_classes


def _parse_edtf(text: str) -> EDTFObject:
    import edtf
    from edtf.parser.edtf_exceptions import EDTFParseException

    _precheck(text)
    # edtf prints a diagnostic to standard output for some invalid input; that would
    # corrupt `--json` output, so its stdout is swallowed here. (With None in place of the
    # StringIO, print writes nothing either: that mutant is equivalent.)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            # Never None: parse_edtf parses all of the text or raises. Anything else that
            # goes wrong with what it returns is refused by _edtf_span's catch-all.
            parsed: EDTFObject = edtf.parse_edtf(text)
        except Exception as error:
            # edtf quotes the raw input ("... format near '0\ud800'. Please provide ..."); the
            # text is already shown escaped by repr, and a raw lone surrogate would make the
            # message unprintable.
            reason = (
                str(error).partition(" near ")[0]
                if isinstance(error, EDTFParseException)
                else "edtf cannot read it"
            )
            raise ValueError(f"{text!r} is not a valid EDTF date: {reason}{_HINT}") from None
    return parsed


def _nodes(obj: EDTFObject) -> list[EDTFObject]:
    """Every part of a parsed date, since a set's bounds never look at its middle items, nor
    an interval's at the first day of its last end (``2025-08-11/XXXX-08``: year 0).

    An interval's first end shares its earliest day with the interval, checked with it, and
    a year, month or day that has a real first day has a real last one: visiting it finds
    nothing more, and "lower" misspelt below is an equivalent mutant. (A qualified date's
    inner `date` has the date's own days: not visited.)
    """
    found = [obj]
    children: list[Any] = list(getattr(obj, "objects", None) or ())
    children += [getattr(obj, name, None) for name in ("lower", "upper")]
    for child in children:
        if isinstance(child, _edtf().EDTFObject):
            found.extend(_nodes(child))
    return found


def _check_node(node: EDTFObject) -> None:
    """Each node's days are real and in order. (A range's ends of different precisions
    never get here: `_precheck` explains them, and edtf's grammar refuses them.)"""
    if isinstance(node, _edtf().UnspecifiedIntervalSection):
        return  # an open or unknown end has no day of its own
    earliest, latest = _node_bounds(node)
    if earliest is not None and latest is not None and earliest > latest:
        raise _Refused(f"'{node}' ends before it begins")


def _node_bounds(node: EDTFObject) -> tuple[datetime.date | None, datetime.date | None]:
    """Strict bounds, except that an unknown interval end (``2016-04-22/``) is open.

    edtf invents a day ten years away for an unknown end; the ledger would rather say
    it does not know than answer from an invented day.
    """
    unspecified = _edtf().UnspecifiedIntervalSection
    if isinstance(getattr(node, "lower", None), unspecified):
        earliest = None
    else:
        earliest = _bound(node.lower_strict())
    if isinstance(getattr(node, "upper", None), unspecified):
        latest = None
    else:
        latest = _bound(node.upper_strict())
    return earliest, latest


def _bound(value: time.struct_time | float) -> datetime.date | None:
    if isinstance(value, float) and math.isinf(value):
        return None  # an open end ([..2025-08-13, 2025-09-01])
    if not isinstance(value, time.struct_time):
        # edtf gives nothing else: a safety net, never reached, so that its message
        # emptied (None) is an equivalent mutant.
        raise _Refused(f"unexpected bound {value!r}")
    year, month, day = value.tm_year, value.tm_mon, value.tm_mday
    if not 1 <= year <= 9999:
        raise _Refused(f"year {year} is outside the years 1 to 9999")
    try:
        return datetime.date(year, month, day)
    except ValueError as error:
        day_text = f"{year:04d}-{month:02d}-{day:02d}"
        raise _Refused(f"{day_text} is not a calendar day ({error})") from None


def _to_utc(dt: datetime.datetime) -> datetime.datetime:
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        return dt.replace(tzinfo=datetime.UTC)
    return dt.astimezone(datetime.UTC)
