"""What a correction makes of the record it amends: one answer for read models and audits.

Since corrections carry their `result` (the corrected record, decided and validated
once, when the write side admitted them), the read side takes that and never validates
again. Events written before that carry none; for them alone the correction is applied
anew, with the validation code imported only then, so only older ledgers pay for it.
"""

from __future__ import annotations

from typing import Any

from ledger.events import Corrected


def corrected(before: dict[str, Any], correction: Corrected) -> dict[str, Any]:
    """The record `before` as `correction` leaves it (its interchange form)."""
    result = getattr(correction, "result", None)
    if result is not None:
        return dict(result)
    return _applied_anew(before, correction.record.get("set") or {})


def _applied_anew(before: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A correction recorded without its result (an older ledger), applied as the write
    side applied it when it admitted it."""
    from ledger.records import apply_correction
    from ledger.vocabulary import Record

    target = Record(kind=before["kind"], id=before["id"], data=before)
    return apply_correction(target, changes).data
