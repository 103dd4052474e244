"""What a correction makes of the record it amends (projections.versions): no I/O."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from ledger.events import Corrected
from projections.versions import corrected

BEFORE = {"kind": "visit", "id": "v1", "date": "2025-08-14", "visitor": "A", "host": "B"}


def correction(state: dict[str, Any]) -> Corrected:
    """A correction event as the mapper makes one from its stored state."""
    event = object.__new__(Corrected)
    object.__setattr__(event, "__dict__", state)
    return event


def test_a_correction_s_result_is_taken_as_decided() -> None:
    # Unlike `set` (which the write side never stores): shows which of the two is read.
    result = {**BEFORE, "date": "2025-08-16"}
    event = correction({"record": {"set": {"date": "2025-08-15"}}, "result": result})
    assert corrected(BEFORE, event) == result


def test_a_correction_without_a_result_is_applied_to_the_record_it_amends() -> None:
    event = correction({"record": {"set": {"date": "2025-08-15", "place": "Baghdad"}}})
    assert corrected(BEFORE, event) == {**BEFORE, "date": "2025-08-15", "place": "Baghdad"}


def test_a_correction_with_a_result_never_loads_the_validation_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ledger.records", None)  # importing it would fail
    result = {**BEFORE, "date": "2025-08-15"}
    event = correction({"record": {"set": {"date": "2025-08-15"}}, "result": result})
    assert corrected(BEFORE, event) == result
    with pytest.raises(ImportError):
        corrected(BEFORE, correction({"record": {"set": {"date": "2025-08-15"}}}))
