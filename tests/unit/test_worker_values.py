"""What a reading worker works out for each record, by its own quick ways, is exactly
what the record's kept properties would work out: the stream id (as hex) and the date
bounds are stored, so a quick way that differed would split one record's history in two
or misplace it in time."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.dates import parse_date
from ledger.vocabulary import date_bounds, stream_hex, stream_id


@settings(max_examples=300)
@given(
    st.sampled_from(["actor", "agreement", "source", "occurrence"]),
    st.text(min_size=1, max_size=40),
)
def test_a_stream_id_as_hex_is_the_uuid5_the_ledger_names_the_stream_by(
    namespace: str, key: str
) -> None:
    assert stream_hex(namespace, key) == stream_id(namespace, key).hex


def test_a_stream_id_as_hex_does_not_depend_on_how_the_id_is_cased() -> None:
    assert stream_hex("actor", "IRQ") == stream_hex("actor", "irq")
    assert stream_hex("actor", "irq") != stream_hex("agreement", "irq")


@settings(max_examples=300)
@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_a_plain_day_is_its_own_bounds(day: dt.date) -> None:
    text = day.isoformat()
    assert date_bounds(text) == parse_date(text).iso_bounds == (text, text)


@pytest.mark.parametrize(
    "text",
    ["2025-08", "2025", "2025-08-14~", "2025-08-14?", "[2025-08-11..2025-08-13]", "[..2025-08-13]"],
)
def test_other_dates_have_the_bounds_parse_date_gives(text: str) -> None:
    assert date_bounds(text) == parse_date(text).iso_bounds


@pytest.mark.parametrize("text", ["2021-02-30", "2025-13-01", "0000-01-01", "2025-W01-1"])
def test_a_day_the_calendar_does_not_hold_is_refused_as_parse_date_refuses_it(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(text)
    with pytest.raises(ValueError) as again:
        date_bounds(text)
    assert str(again.value) == str(caught.value)
