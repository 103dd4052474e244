"""What the ledger learned between two record times.

Records added, corrected and retracted are read from the read models' record-time
columns (a registry row's `recorded_at`, an occurrence's first version's `known_from`,
an amendment's `recorded_at`). Agreements that changed are found by asking the
agreement question twice — known at `since`, and known at `until` — for each agreement
that something recorded in between concerns, and keeping those whose status or
participants differ: the same answer `ledger agreement --known-at` gives, so the two
can never disagree.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from ledger.dates import format_timestamp
from projections import models
from projections.descriptions import describe
from projections.naming import NotFound

if TYPE_CHECKING:
    from projections.queries import Queries


def _between(column: Any, since: str, until: str) -> Any:
    return and_(column > since, column <= until)


def learned(queries: Queries, since: str, until: str | None, as_of: date) -> dict[str, Any]:
    """Records added, corrected and retracted after `since` and by `until` (record-time
    stamps; `until` None: now), and the agreements whose answer as of `as_of` changed."""
    from projections.queries import When

    until = until or format_timestamp(datetime.now(UTC))
    r, t = models.registry, models.occurrences
    a, links = models.amendments, models.occurrence_agreements
    added: list[dict[str, Any]] = []
    touched: list[str] = []
    with queries.snapshot() as connection:
        for row in connection.execute(
            select(r.c.namespace, r.c.record, r.c.recorded_at)
            .where(r.c.vid == r.c.position, _between(r.c.recorded_at, since, until))
            .order_by(r.c.position)
        ):
            record = json.loads(row.record)
            added.append(_added(record, row.recorded_at, record.get("title") or record.get("name")))
            if row.namespace == "agreement":
                touched.append(record["id"])
        for row in connection.execute(
            select(t.c.record, t.c.known_from)
            .where(t.c.vid == t.c.position, _between(t.c.known_from, since, until))
            .order_by(t.c.position)
        ):
            record = json.loads(row.record)
            added.append(_added(record, row.known_from, describe(record["kind"], record)))
        amendments = [
            {
                **json.loads(row.record),
                "recorded_at": row.recorded_at,
                "recorded_by": row.recorded_by,
            }
            for row in connection.execute(
                select(a.c.record, a.c.recorded_at, a.c.recorded_by)
                .where(_between(a.c.recorded_at, since, until))
                .order_by(a.c.position)
            )
        ]
        # Agreements whose own record was corrected or retracted in between.
        touched += connection.execute(
            select(r.c.id).where(
                r.c.namespace == "agreement",
                r.c.vid != r.c.position,
                _between(r.c.known_from, since, until),
            )
        ).scalars()
        # Every version of an occurrence recorded or amended in between, so that a
        # retraction (whose own version links to nothing) still names its agreements.
        changed = select(t.c.occurrence).where(_between(t.c.known_from, since, until))
        touched += connection.execute(
            select(links.c.agreement)
            .join(t, t.c.vid == links.c.vid)
            .where(t.c.occurrence.in_(changed))
            .distinct()
        ).scalars()
    agreements = []
    seen: set[str] = set()
    for agreement_id in touched:
        if agreement_id.casefold() in seen:
            continue
        seen.add(agreement_id.casefold())
        before = _answer(queries, agreement_id, When(as_of=as_of, known_at=since))
        after = _answer(queries, agreement_id, When(as_of=as_of, known_at=until))
        if after is None or before == after:
            continue
        agreements.append(
            {
                "id": after["id"],
                "title": after["title"],
                "status": {"before": before and before["status"], "after": after["status"]},
                "participants": {
                    "before": before["participants"] if before else [],
                    "after": after["participants"],
                },
            }
        )
    return {
        "since": since,
        "until": until,
        "as_of": as_of.isoformat(),
        "added": added,
        "corrected": [_amendment(x) for x in amendments if x["kind"] == "correction"],
        "retracted": [_amendment(x) for x in amendments if x["kind"] == "retraction"],
        "agreements": agreements,
    }


def _added(record: dict[str, Any], recorded_at: str, description: str | None) -> dict[str, Any]:
    return {
        "kind": record["kind"],
        "id": record["id"],
        "date": record.get("date"),
        "recorded_at": recorded_at,
        "description": description,
    }


def _amendment(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "target": record["target"],
        "date": record["date"],
        "set": record.get("set"),
        "reason": record["reason"],
        "recorded_at": record["recorded_at"],
        "recorded_by": record["recorded_by"],
    }


def _answer(queries: Queries, agreement_id: str, when: Any) -> dict[str, Any] | None:
    """The agreement's status and participants (actor and status) as known then."""
    try:
        state = queries.agreement(agreement_id, when)
    except NotFound:
        return None
    return {
        "id": state["id"],
        "title": state["title"],
        "status": state["status"],
        "participants": [
            {"actor": p["actor"], "status": p["status"]} for p in state["participants"]
        ],
    }
