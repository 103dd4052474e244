"""The ledger's orjson transcoder and mapper mean what the library's JSON transcoder means.

Old ledgers were written by eventsourcing's `JSONTranscoder`: whatever it wrote must
decode to the same values, and whatever the ledger writes now must decode by it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.aggregates import Entry, stream_id
from ledger.events import Corrected, Signed
from ledger.eventstore import LedgerMapper, LedgerTranscoder


def _registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


LIBRARY = _registered(JSONTranscoder())
LEDGER = _registered(LedgerTranscoder())

leaves = (
    st.text()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.booleans()
    | st.none()
    | st.floats()
    | st.uuids()
    | st.datetimes(timezones=st.just(UTC))
    | st.decimals(allow_nan=False)
    | st.sampled_from(["_type_", "_data_", '"_type_"', "\\u0041", "\x00\x1f\x7f", "\u2028"])
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(["_type_", "_data_"]), inner)
    ),
    max_leaves=12,
)
states = st.dictionaries(st.text(max_size=8), values, max_size=6)


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (the library reads its own NaN back as NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def _encodable(state: dict[str, Any]) -> bool:
    try:
        LIBRARY.encode(state)
    except (UnicodeEncodeError, ValueError):
        return False
    return True


def _outcome(decode: Any, data: bytes) -> Any:
    """What decoding gives: the value, or the kind of error (some states the library
    writes it cannot read back, such as ``{"_type_": [], "_data_": 1}``)."""
    try:
        return decode(data)
    except Exception as error:
        return type(error)


@settings(max_examples=150, deadline=None)
@given(states)
def test_what_the_library_wrote_decodes_to_the_same_values(state: dict[str, Any]) -> None:
    if not _encodable(state):
        return
    stored = LIBRARY.encode(state)
    assert _same(_outcome(LEDGER.decode, stored), _outcome(LIBRARY.decode, stored))


@settings(max_examples=150, deadline=None)
@given(states)
def test_what_the_ledger_writes_the_library_reads_as_written(state: dict[str, Any]) -> None:
    if not _encodable(state):
        return
    written = _outcome(LIBRARY.decode, LEDGER.encode(state))
    assert _same(written, _outcome(LIBRARY.decode, LIBRARY.encode(state)))


@pytest.mark.parametrize("number", [-(2**63) - 1, 2**64, 10**30, 2**70])
def test_integers_past_64_bits_decode_as_the_integers_the_library_reads(number: int) -> None:
    """orjson reads them as floats (found by the property above, -2**63 - 1)."""
    stored = LIBRARY.encode({"n": number, "t": datetime(2025, 8, 11, tzinfo=UTC)})
    decoded = LEDGER.decode(stored)["n"]
    assert decoded == number and type(decoded) is int


@given(st.binary(max_size=60) | st.text(alphabet="0123456789٣x", max_size=60).map(str.encode))
def test_the_long_digits_test_is_the_regular_expression_it_replaced(data: bytes) -> None:
    """The decoder looks for 19 ASCII digits in a row with `bytes.translate` (a tenth of
    the cost of a regular expression); it must answer as ``\\d{19}`` on bytes does."""
    import re

    from ledger import eventstore

    expected = re.search(rb"\d{19}", data) is not None
    assert (eventstore._LONG_DIGITS in data.translate(eventstore._DIGITS)) is expected


def test_values_orjson_would_spell_otherwise_keep_the_library_meaning() -> None:
    stamp = datetime(2025, 8, 11, 12, 30, tzinfo=UTC)
    ident = uuid4()
    state = {"timestamp": stamp, "x": {"id": ident, "n": float("nan"), "d": Decimal("1.5")}}
    decoded = LIBRARY.decode(LEDGER.encode(state))
    assert decoded["timestamp"] == stamp
    assert decoded["x"]["id"] == ident and isinstance(decoded["x"]["id"], UUID)
    assert math.isnan(decoded["x"]["n"])
    assert decoded["x"]["d"] == Decimal("1.5")


def _signed(**record: Any) -> Signed:
    return Signed(  # type: ignore[call-arg]
        originator_id=stream_id("occurrence", "s-1"),
        originator_version=1,
        timestamp=datetime(2025, 8, 11, tzinfo=UTC),
        originator_topic="ledger.aggregates:Occurrence",
        record={"kind": "signing", "id": "s-1", "date": "2025-08-11", **record},
        recorded_by="alice",
        digest="0" * 64,
        earliest="2025-08-11",
        latest="2025-08-11",
    )


def test_the_ledger_mapper_stores_the_library_mappers_bytes_for_the_ledgers_events() -> None:
    library = Mapper[UUID](transcoder=LIBRARY)
    ledger = LedgerMapper(transcoder=LEDGER)
    for event in (
        _signed(place="Bagdad — بغداد", signatories=[{"actor": "IRQ"}], n=3, ok=True),
        _signed(quote='a\n"quoted" line\x1f', about=None),
    ):
        assert ledger.to_stored_event(event) == library.to_stored_event(event)
        assert ledger.to_domain_event(ledger.to_stored_event(event)) == event
        stored = library.to_stored_event(event)  # the import appends these fields
        fields = (stored.originator_id, stored.originator_version, stored.topic, stored.state)
        assert ledger.stored_row(event) == fields


def test_a_corrections_free_form_values_keep_the_library_spelling() -> None:
    correction = Corrected(  # type: ignore[call-arg]
        originator_id=stream_id("occurrence", "fix"),
        originator_version=1,
        timestamp=datetime(2025, 9, 1, tzinfo=UTC),
        originator_topic="ledger.aggregates:Amendment",
        record={"kind": "correction", "id": "fix", "target": "s-1", "set": {"n": 1e16}},
        recorded_by="alice",
        digest="0" * 64,
        earliest="2025-09-01",
        latest="2025-09-01",
        target_namespace="occurrence",
        result={"kind": "signing", "id": "s-1", "n": 1e16},
    )
    library = Mapper[UUID](transcoder=LIBRARY)
    ledger = LedgerMapper(transcoder=LEDGER)
    assert ledger.to_stored_event(correction) == library.to_stored_event(correction)
    assert b"1e+16" in ledger.to_stored_event(correction).state
    assert ledger.stored_row(correction)[3] == library.to_stored_event(correction).state


def test_an_entry_is_what_its_creation_event_names_as_originator() -> None:
    event = _signed()
    assert event.originator_topic.endswith("Occurrence")
    assert isinstance(event.mutate(None), Entry)


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_timestamp_in_utc_is_stored_as_the_librarys_transcoding_spells_it(
    stamp: datetime,
) -> None:
    """The mapper writes a UTC timestamp's text with orjson, not `isoformat`: same text."""
    event = _signed(place="here")
    object.__setattr__(event, "timestamp", stamp)
    library = Mapper[UUID](transcoder=LIBRARY)
    ledger = LedgerMapper(transcoder=LEDGER)
    assert ledger.stored_row(event)[3] == library.to_stored_event(event).state
    assert ledger.to_domain_event(ledger.to_stored_event(event)).timestamp == stamp
