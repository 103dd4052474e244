"""How far the read models are behind the log: the one freshness check.

Queries ask it before they answer (and hand over to catch-up when behind); catch-up
asks it inside its locked transaction to know where each projection resumes; `verify`
asks it of the live read models it compares. Each projection's tracking record (the
library's tracking table, one row per projection) says the last position it applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, null, select, union_all
from sqlalchemy.engine import Connection

from ledger import database
from projections import models


@dataclass(frozen=True)
class Freshness:
    """The log's last position, and the last position each projection applied (0: none)."""

    head: int
    positions: dict[str, int]

    @property
    def behind(self) -> bool:
        return min(self.positions.values(), default=self.head) < self.head


def freshness(connection: Connection, names: Iterable[str] | None = None) -> Freshness:
    """Read in the caller's transaction, so it agrees with what the caller reads next.

    One statement (the log's head, then a row per projection that has applied
    anything): a question pays one round trip to a database server for it, not two.
    """
    log, tracking = database.log_table, database.tracking_table
    positions = dict.fromkeys(models.PROJECTION_TABLES if names is None else names, 0)
    head: int | None = None
    rows = connection.execute(
        union_all(
            select(null().label("name"), func.max(log.c.id).label("position")),
            select(tracking.c.application_name, func.max(tracking.c.notification_id))
            .where(tracking.c.application_name.in_(list(positions)))
            .group_by(tracking.c.application_name),
        )
    )
    for name, position in rows:
        if name is None:
            head = position
        else:
            positions[name] = position or 0
    return Freshness(head or 0, positions)


def at_transaction_boundaries(connection: Connection, positions: Iterable[int], head: int) -> bool:
    """Whether every position ends a write transaction (or the log).

    Each transaction has its own record time, so a projection at position p stopped
    inside a transaction exactly when event p+1 exists with the same record time.
    `head` is the log's last position as the caller's transaction sees it: a position
    at or past it ends the log there (the rest of a transaction commits with it), so
    read models up to date cost no statement.
    """
    log = database.log_table
    for position in set(positions) - {0}:
        if position >= head:
            continue
        stamps = (
            connection.execute(
                select(log.c.recorded_at).where(log.c.id.in_((position, position + 1)))
            )
            .scalars()
            .all()
        )
        if len(stamps) == 2 and stamps[0] == stamps[1]:
            return False
    return True
