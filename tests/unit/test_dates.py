"""EDTF dates become the earliest and latest day they can denote, and nothing fuzzier."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.dates import (
    DateSpan,
    format_timestamp,
    parse_as_of,
    parse_date,
    parse_known_at,
    parse_timestamp,
)

D = dt.date
HINT = " (examples: 2025-08-14, 2025-08, 2025-08~, [2025-08-11..2025-08-13], [..2025-08-13])"


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("2023-03-19", D(2023, 3, 19), D(2023, 3, 19)),
        ("2025-08", D(2025, 8, 1), D(2025, 8, 31)),
        ("2025", D(2025, 1, 1), D(2025, 12, 31)),
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29)),
        ("2025-08~", D(2025, 7, 1), D(2025, 9, 30)),
        ("2025-08?", D(2025, 7, 1), D(2025, 9, 30)),
        ("2025-08%", D(2025, 7, 1), D(2025, 9, 30)),
        ("2025-08-14~", D(2025, 8, 13), D(2025, 8, 15)),
        ("[2025-08-11..2025-08-13]", D(2025, 8, 11), D(2025, 8, 13)),
        ("[2022-01-01..2025-08-14]", D(2022, 1, 1), D(2025, 8, 14)),
        ("[2025-08..2025-09]", D(2025, 8, 1), D(2025, 9, 30)),
        ("[..2025-08-13]", None, D(2025, 8, 13)),
        ("[2025-08-11..]", D(2025, 8, 11), None),
        ("[2025-08-11, 2025-08-20..2025-08-25]", D(2025, 8, 11), D(2025, 8, 25)),
        ("2016-04-22/2016-04-23", D(2016, 4, 22), D(2016, 4, 23)),
        ("2016-04-22/..", D(2016, 4, 22), None),
        ("../2016-04-23", None, D(2016, 4, 23)),
        ("2016-04-22/", D(2016, 4, 22), None),
        ("/2016-04-23", None, D(2016, 4, 23)),
        ("2016-04/2016-05~", D(2016, 4, 1), D(2016, 6, 30)),
        ("{2025-08-11,2025-08-13}", D(2025, 8, 11), D(2025, 8, 13)),
        ("[..2025-08-13, 2025-09-01]", None, D(2025, 9, 1)),
        ("201X", D(2010, 1, 1), D(2019, 12, 31)),
        ("2025-XX", D(2025, 1, 1), D(2025, 12, 31)),
        ("2025-02-XX", D(2025, 2, 1), D(2025, 2, 28)),
        ("9999-12-31", D(9999, 12, 31), D(9999, 12, 31)),
    ],
)
def test_each_edtf_form_spans_exactly_its_strict_days(
    text: str, earliest: dt.date | None, latest: dt.date | None
) -> None:
    assert parse_date(text) == DateSpan(text, earliest, latest)


def test_approximate_month_widens_by_one_month_each_side_not_by_edtfs_fuzz() -> None:
    span = parse_date("2025-08~")
    assert (span.earliest, span.latest) == (D(2025, 7, 1), D(2025, 9, 30))


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("1988-05-28?", D(1988, 5, 27), D(1988, 5, 29)),
        ("2025-01-01~", D(2024, 12, 31), D(2025, 1, 2)),
        ("2025-12%", D(2025, 11, 1), D(2026, 1, 31)),
        ("1991?", D(1990, 1, 1), D(1992, 12, 31)),
        ("1993-03-12/1993-06-12?", D(1993, 3, 12), D(1993, 6, 13)),
        ("1988-05-28?/..", D(1988, 5, 27), None),
        ("{2025-08-11?,2025-08-13}", D(2025, 8, 10), D(2025, 8, 13)),
        ("?2004-06-11", D(2004, 6, 10), D(2004, 6, 12)),
        # A qualifier inside the date (the month alone uncertain) leaves its precision a
        # day: it widens by a day, not by the year before the mark.
        ("2004-?06-11", D(2004, 6, 10), D(2004, 6, 12)),
        ("2004-06-~11", D(2004, 6, 10), D(2004, 6, 12)),
        ("2004-%06", D(2004, 5, 1), D(2004, 7, 31)),
    ],
)
def test_a_qualified_date_widens_by_one_unit_of_its_precision_on_each_qualified_side(
    text: str, earliest: dt.date | None, latest: dt.date | None
) -> None:
    span = parse_date(text)
    assert (span.earliest, span.latest) == (earliest, latest)
    assert span.qualified


def test_a_qualified_decade_widens_by_a_year_on_each_side() -> None:
    assert parse_date("156X~") == DateSpan("156X~", D(1559, 1, 1), D(1570, 12, 31))


def test_widening_past_the_first_or_last_day_a_calendar_holds_stops_there() -> None:
    assert parse_date("0001?") == DateSpan("0001?", D(1, 1, 1), D(2, 12, 31))
    assert parse_date("9999~") == DateSpan("9999~", D(9998, 1, 1), D(9999, 12, 31))


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("{0001-01-01,0001-01-03}", D(1, 1, 1), D(1, 1, 3)),
        ("{9999-12-29,9999-12-31}", D(9999, 12, 29), D(9999, 12, 31)),
    ],
)
def test_the_first_and_last_years_a_calendar_holds_are_dates(
    text: str, earliest: dt.date, latest: dt.date
) -> None:
    assert parse_date(text) == DateSpan(text, earliest, latest)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0000", "'0000' is not a valid EDTF date: year 0 is outside the years 1 to 9999"),
        ("Y10000", "'Y10000' is not a valid EDTF date: year 10000 is outside the years 1 to 9999"),
        (
            "{2025-08-01,2025-08-25..2025-08-20,2025-08-30}",  # a set's middle item too
            "'{2025-08-01,2025-08-25..2025-08-20,2025-08-30}' is not a valid EDTF date: "
            "'2025-08-25..2025-08-20' ends before it begins",
        ),
        (
            "2016-04-23/2016-04-22",
            "'2016-04-23/2016-04-22' is not a valid EDTF date: "
            "'2016-04-23/2016-04-22' ends before it begins",
        ),
        (  # an interval's last end whose first day is in year 0
            "2025-08-11/XXXX-08",
            "'2025-08-11/XXXX-08' is not a valid EDTF date: year 0 is outside the years 1 to 9999",
        ),
        (  # a partly qualified day that no calendar holds (the day check reads plain days)
            "2025-?02-30",
            "'2025-?02-30' is not a valid EDTF date: 2025-02-30 is not a calendar day "
            "(day is out of range for month)",
        ),
        (  # edtf reads it, but cannot work out its days
            "2025-02-3X",
            "'2025-02-3X' is not a valid EDTF date: its earliest and latest days cannot be "
            "worked out" + HINT,
        ),
        (  # edtf's own reason, without the raw input it quotes
            "garbage",
            "'garbage' is not a valid EDTF date: Error at position 0: Invalid input or format"
            + HINT,
        ),
        (  # edtf's reason says no more than where, whatever the input holds
            "x near y. Please provide z",
            "'x near y. Please provide z' is not a valid EDTF date: Error at position 0: "
            "Invalid input or format" + HINT,
        ),
        (  # edtf fails in a way of its own: its internals are no reason to show
            "2025-1X",
            "'2025-1X' is not a valid EDTF date: edtf cannot read it" + HINT,
        ),
        (
            "[2022..2025-08-14]",
            "'[2022..2025-08-14]' is not a valid EDTF date: the ends of '2022..2025-08-14' have "
            "different precisions; write both as days, months or years, e.g. "
            "[2022-01-01..2025-08-14]",
        ),
        (  # both ends are months: unspecified digits of a year are no part of a date either
            "[XXXX-08..2025-09]",
            "'[XXXX-08..2025-09]' is not a valid EDTF date: Error at position 8: Invalid input "
            "or format" + HINT,
        ),
        (
            "[2025-08..XXXX-09]",
            "'[2025-08..XXXX-09]' is not a valid EDTF date: Error at position 10: Invalid input "
            "or format" + HINT,
        ),
        (  # both ends are years: the minus sign of a year before 1 is no part of a date
            "[-0100..2025]",
            "'[-0100..2025]' is not a valid EDTF date: year -100 is outside the years 1 to 9999",
        ),
        (
            "[-0200..-0100]",
            "'[-0200..-0100]' is not a valid EDTF date: year -200 is outside the years 1 to 9999",
        ),
        (12, "12 is not a valid EDTF date: expected text such as 2025-08"),
        ("  ", "an empty date is not a valid EDTF date"),
        (
            "x" * 201,
            f"{'x' * 40!r}... is not a valid EDTF date: longer than 200 characters",
        ),
    ],
)
def test_a_refused_date_says_why(text: object, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_date(text)  # type: ignore[arg-type]
    assert str(refused.value) == reason


def test_a_date_of_two_hundred_characters_is_still_read() -> None:
    days = [f"2025-08-{day:02d}" for day in range(1, 19)]
    text = "{" + ",".join(days[:17]) + ", " + days[17] + "}"
    assert len(text) == 200
    assert parse_date(text) == DateSpan(text, D(2025, 8, 1), D(2025, 8, 18))


def test_an_unqualified_date_is_not_qualified_and_keeps_its_strict_days() -> None:
    span = parse_date("1988-05-28")
    assert (span.earliest, span.latest, span.qualified) == (D(1988, 5, 28), D(1988, 5, 28), False)


def test_one_of_a_set_spans_from_its_first_to_its_last_day() -> None:
    span = parse_date("[2025-08-11..2025-08-13]")
    assert (span.earliest, span.latest) == (D(2025, 8, 11), D(2025, 8, 13))


def test_open_start_has_no_earliest_day() -> None:
    span = parse_date("[..2025-08-13]")
    assert (span.earliest, span.latest) == (None, D(2025, 8, 13))


def test_yaml_date_objects_are_the_same_day_as_their_iso_text() -> None:
    assert parse_date(D(2023, 3, 19)) == parse_date("2023-03-19")


def test_a_datetime_is_reduced_to_its_calendar_day() -> None:
    span = parse_date(dt.datetime(2025, 8, 14, 10, 21))
    assert span == DateSpan("2025-08-14", D(2025, 8, 14), D(2025, 8, 14))


def test_surrounding_whitespace_is_not_part_of_the_date() -> None:
    assert parse_date(" 2025-08 ").edtf == "2025-08"


@pytest.mark.parametrize(
    "text",
    [
        "2021-02-30",
        "2025-02-29",
        "2025-13",
        "2025-00",
        "garbage",
        "",
        "   ",
        "2025-08-11..2025-08-13",
        "[2025-08-13..2025-08-11]",
        "2016-04-23/2016-04-22",
        "[2025-01-01, 2025-02-29, 2025-03-01]",
        "[2025-13..2026-01]",
        "[2025-01..2025-13]",
        "2025-13/..",
        "0000",
        "-0100",
        "XXXX-08",
        "Y170000002",
        "2025-1X",
        "2025-08-X5",
        "x" * 500,
    ],
)
def test_invalid_dates_are_refused_with_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid EDTF date"):
        parse_date(text)


def test_an_impossible_day_is_named_in_the_message() -> None:
    with pytest.raises(ValueError, match=r"'2021-02-30' is not a valid EDTF date: .*calendar day"):
        parse_date("2021-02-30")


@pytest.mark.parametrize("text", ["[2022..2025-08-14]", "[2022-01..2025-08-14]", "[2022..2025-08]"])
def test_the_ends_of_a_range_must_share_one_precision(text: str) -> None:
    with pytest.raises(ValueError, match="different precisions"):
        parse_date(text)


@pytest.mark.parametrize("value", [2025, None, ["2025"], 20.5])
def test_a_date_must_be_text_or_a_date(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)  # type: ignore[arg-type]


def test_refusing_odd_input_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError):
        parse_date("2025-1X")
    assert capsys.readouterr().out == ""


def test_as_of_takes_an_iso_day() -> None:
    assert parse_as_of("2025-08-14") == D(2025, 8, 14)
    assert parse_as_of(D(2025, 8, 14)) == D(2025, 8, 14)


@pytest.mark.parametrize("text", ["2025-08", "14/08/2025", "2025-02-30", "tomorrow", ""])
def test_as_of_refuses_anything_but_a_day(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid day"):
        parse_as_of(text)


def test_as_of_takes_a_day_with_surrounding_whitespace() -> None:
    assert parse_as_of(" 2025-08-14\n") == D(2025, 8, 14)


@pytest.mark.parametrize("value", ["2025-08", "14/08/2025", 20250814])
def test_as_of_says_which_form_it_expects(value: object) -> None:
    with pytest.raises(ValueError, match="is not a valid day: expected YYYY-MM-DD"):
        parse_as_of(value)  # type: ignore[arg-type]


def test_known_at_a_day_means_the_end_of_that_day_in_utc() -> None:
    assert parse_known_at("2025-08-14") == dt.datetime(
        2025, 8, 14, 23, 59, 59, 999999, tzinfo=dt.UTC
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-08-14T10:21:00", dt.datetime(2025, 8, 14, 10, 21, tzinfo=dt.UTC)),
        ("2025-08-14T10:21", dt.datetime(2025, 8, 14, 10, 21, tzinfo=dt.UTC)),
        ("2025-08-14T10:21:00Z", dt.datetime(2025, 8, 14, 10, 21, tzinfo=dt.UTC)),
        ("2025-08-14T12:21:00+02:00", dt.datetime(2025, 8, 14, 10, 21, tzinfo=dt.UTC)),
        ("2025-08-14 10:21:00.5", dt.datetime(2025, 8, 14, 10, 21, 0, 500000, tzinfo=dt.UTC)),
        # `date -Ins`: a comma, nanoseconds (cut to microseconds, never rounded up)
        (
            "2025-08-14T12:21:00,123456789+02:00",
            dt.datetime(2025, 8, 14, 10, 21, 0, 123456, tzinfo=dt.UTC),
        ),
        ("2025-08-14T10:21:00,5Z", dt.datetime(2025, 8, 14, 10, 21, 0, 500000, tzinfo=dt.UTC)),
        ("2025-08-14T12:21:00+02", dt.datetime(2025, 8, 14, 10, 21, tzinfo=dt.UTC)),
    ],
)
def test_known_at_takes_a_datetime_naive_meaning_utc(text: str, expected: dt.datetime) -> None:
    result = parse_known_at(text)
    assert result == expected
    assert result.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("yesterday", "expected an ISO day (2025-08-14) or date and time (2025-08-14T10:21:00Z"),
        ("", "expected an ISO day"),
        ("2025", "expected an ISO day"),
        (20250814, "expected an ISO day"),
        ("2025-08-14T25:00", "'2025-08-14T25:00' is not a valid timestamp: hour must be in"),
        ("2025-02-30", "'2025-02-30' is not a valid day: day is out of range"),
    ],
)
def test_known_at_refuses_what_is_not_a_timestamp_saying_why(value: object, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_known_at(value)  # type: ignore[arg-type]
    assert reason in str(refused.value)


def test_known_at_given_a_datetime_is_the_same_moment_in_utc() -> None:
    paris_summer = dt.timezone(dt.timedelta(hours=2))
    known = parse_known_at(dt.datetime(2025, 8, 14, 12, 21, tzinfo=paris_summer))
    assert known == dt.datetime(2025, 8, 14, 10, 21, tzinfo=dt.UTC)
    assert known.utcoffset() == dt.timedelta(0)


def test_stored_timestamps_are_fixed_width_utc() -> None:
    moment = dt.datetime(2025, 8, 14, 12, 21, 5, 42, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_timestamp(moment) == "2025-08-14T10:21:05.000042Z"
    assert format_timestamp(dt.datetime(5, 1, 2)) == "0005-01-02T00:00:00.000000Z"


def test_stored_timestamps_are_utc_whatever_the_zone_of_the_machine_or_the_moment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        # A zone whose offset depends on the day (summer time), not a fixed offset.
        moment = dt.datetime(2025, 8, 14, 12, 21, tzinfo=ZoneInfo("Europe/Paris"))
        assert format_timestamp(moment) == "2025-08-14T10:21:00.000000Z"
        assert parse_known_at(moment) == dt.datetime(2025, 8, 14, 10, 21, tzinfo=dt.UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_stored_timestamps_sort_as_text_in_time_order() -> None:
    moments = [
        dt.datetime(2025, 8, 14, 10, 0, 0, 1, tzinfo=dt.UTC),
        dt.datetime(2025, 8, 14, 9, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(999, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2025, 8, 14, 10, 0, tzinfo=dt.UTC),
    ]
    assert sorted(format_timestamp(m) for m in moments) == [
        format_timestamp(m) for m in sorted(moments)
    ]


def test_a_stored_timestamp_reads_back_as_the_same_moment() -> None:
    moment = dt.datetime(2025, 8, 14, 10, 21, 5, 42, tzinfo=dt.UTC)
    assert parse_timestamp(format_timestamp(moment)) == moment


@pytest.mark.parametrize(
    "text", ["2025-08-14T10:21:05Z", "2025-08-14", "2025-08-14T10:21:05.000042"]
)
def test_only_the_stored_timestamp_shape_reads_back(text: str) -> None:
    with pytest.raises(ValueError, match="not a stored timestamp"):
        parse_timestamp(text)


def test_a_stored_timestamp_of_the_right_shape_but_no_real_moment_says_why() -> None:
    with pytest.raises(ValueError) as refused:
        parse_timestamp("2025-13-14T10:21:05.000042Z")
    assert "'2025-13-14T10:21:05.000042Z' is not a stored timestamp: month must be in" in str(
        refused.value
    )


FAST_FORMS = [
    "0001",
    "2025",
    "2025-08",
    "2024-02",
    "2025-08-14",
    "2025-08-14?",
    "2025%",
    "[2025-08-11..2025-08-13]",
    "[2025..2026]",
    "[..2025-08]",
    "[2025-08-31..]",
    "2016-04-22/2016-04-23",
    "2016-04-22/2016-04-22",
    "2016/2017-05~",
    "2016/2016-05",
    "../2016-04",
    "2016-04-22/..",
]


@pytest.mark.parametrize("text", FAST_FORMS)
def test_the_shortcut_for_common_forms_agrees_with_edtf(text: str) -> None:
    from ledger.dates import _edtf_span, _fast_span

    assert _fast_span(text) == _edtf_span(text)


@given(
    year=st.integers(1000, 9999),
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    other=st.integers(0, 800),
    shape=st.sampled_from(["[{a}..{b}]", "{a}/{b}", "{a}", "{a}~", "[..{b}]", "{a}/.."]),
    precision=st.integers(1, 3),
)
@settings(max_examples=25, deadline=None, derandomize=True, database=None)
def test_the_shortcut_never_disagrees_with_edtf(
    year: int, month: int, day: int, other: int, shape: str, precision: int
) -> None:
    from ledger.dates import _edtf_span, _fast_span

    def token(moment: dt.date) -> str:
        return moment.isoformat()[: {1: 4, 2: 7, 3: 10}[precision]]

    try:
        start = D(year, month, day)
    except ValueError:
        start = D(year, month, 28)
    end = start + dt.timedelta(days=min(other, (D(9999, 12, 31) - start).days))
    text = shape.format(a=token(start), b=token(end))
    fast = _fast_span(text)
    if fast is not None:
        assert fast == _edtf_span(text)


@pytest.mark.parametrize("text", ["0\ud800", "\ud8000", "2025-01-0\udc80", "[\ud800..2020]"])
def test_a_refused_date_with_a_lone_surrogate_gives_a_printable_message(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_date(text)
    str(refused.value).encode("utf-8")  # would raise UnicodeEncodeError if echoed raw


def test_a_spans_iso_bounds_are_the_days_as_events_and_read_models_store_them() -> None:
    assert parse_date("2025-08").iso_bounds == ("2025-08-01", "2025-08-31")
    assert parse_date("../2025-08-14").iso_bounds == (None, "2025-08-14")
    assert parse_date("2025-08-14/..").iso_bounds == ("2025-08-14", None)
