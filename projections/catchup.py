"""Catch-up: bring read models up to the log, a page at a time, exactly once.

eventsourcing-sqlalchemy has no `subscribe()` on SQLite, so the library's
`ProjectionRunner` cannot run there, and one transaction per event is slow. Instead a
page of the log is read once, every projection that is behind writes its rows for the
page, and its tracking record (eventsourcing's tracking recorder) moves to the page's
last position — all in one transaction. A crash loses at most the page in flight, which
is rolled back with its tracking record, so nothing is applied twice or skipped.

Catch-up transactions are serialised like writers (BEGIN IMMEDIATE on SQLite, a lock on
the tracking table on PostgreSQL), so two processes catching up at once cannot both
apply the same page.

Private eventsourcing API used here, until it moves to the one module of the store that
holds every contact with the library: the tracking record is written with
`SQLAlchemyTrackingRecorder._insert_tracking(session, tracking)`, the only way to write
it in the caller's transaction (the public `insert_tracking` commits one of its own,
which would break exactly-once); and `tracking_recorder` keeps the recorder it makes on
the application object (`_tracking_recorder`), so it is made once per ledger.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from ledger.errors import TamperingDetected, UnknownName
from ledger.events import Recorded
from projections.freshness import freshness
from projections.projectors import PROJECTIONS, Projection, driver_cursor

if TYPE_CHECKING:
    from ledger.application import Ledger

PAGE_SIZE = 2000
#: A catch-up that applied at least this many events, and a tenth of the log (the
#: tables grew by as much as autovacuum waits for), refreshes the planner's statistics.
ANALYZE_AFTER = 1000
Progress = Callable[[int, int], None]


def tracking_recorder(app: Ledger) -> SQLAlchemyTrackingRecorder:
    recorder = getattr(app, "_tracking_recorder", None)
    if recorder is None:
        recorder = app.factory.tracking_recorder()
        app._tracking_recorder = recorder  # type: ignore[attr-defined]
    # The ledger's factory is eventsourcing_sqlalchemy's; the base class promises only a
    # TrackingRecorder, and catch-up needs the SQLAlchemy one's transactions.
    assert isinstance(recorder, SQLAlchemyTrackingRecorder)
    return recorder


def _selected(names: Iterable[str] | None) -> list[Projection]:
    if names is None:
        return list(PROJECTIONS.values())
    unknown = [n for n in names if n not in PROJECTIONS]
    if unknown:
        raise UnknownName(f"unknown projection {unknown[0]!r}; known: {', '.join(PROJECTIONS)}")
    return [PROJECTIONS[n] for n in names]


def with_requirements(projections: list[Projection]) -> list[Projection]:
    """The projections and those they read from, in the order they must process a page."""
    wanted = {p.name for p in projections}
    for projection in projections:
        wanted.update(projection.requires)
    return [p for p in PROJECTIONS.values() if p.name in wanted]


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE ledger_tracking IN EXCLUSIVE MODE"))


def positions(app: Ledger, names: Iterable[str] | None = None) -> dict[str, int]:
    """How far each projection has got (0: nothing applied)."""
    wanted = [p.name for p in _selected(names)]
    with app.engine.connect() as connection:
        return freshness(connection, wanted).positions


def catch_up(
    app: Ledger,
    names: Iterable[str] | None = None,
    upto: int | None = None,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
) -> int:
    """Apply every event the selected projections have not seen; returns how many pages.

    Catch-up is serialised, so a read-model row it finds already there was not put there
    by catch-up at this tracking position: the tracking record was moved back (or rows
    added) by hand. That is reported as such, never as a database traceback; replay
    rebuilds both from the log.
    """
    try:
        return _catch_up(app, names, upto, page_size, progress)
    except IntegrityError as error:
        raise TamperingDetected(
            "the read models already hold rows past the position their tracking record "
            "says they reached (the tracking position was moved back?): run `ledger replay`"
        ) from error


class Entry(NamedTuple):
    """An event's place in the log, as projections read it (see `projectors.Place`)."""

    position: int
    recorded_at: str


_PAGE_SQL = (
    "SELECT id, originator_id, originator_version, topic, state, recorded_at "
    "FROM ledger_events WHERE id > {mark} AND id <= {mark} ORDER BY id LIMIT {mark}"
)


def read_page(
    app: Ledger, session: Session, after: int, upto: int, limit: int
) -> list[tuple[Entry, Recorded]]:
    """Events after `after` (up to `upto`, at most `limit`), decoded by the ledger's mapper.

    Read with the driver's own cursor in the caller's transaction, and decoded straight
    through eventsourcing's `Mapper`: the recorder's `select_log` builds and checks an
    audit `LogEntry` per row, which projections never need.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _PAGE_SQL.format(mark="%s" if postgres else "?")
    with driver_cursor(session, statement) as cursor:
        cursor.execute(statement, (after, upto, limit))
        rows = cursor.fetchall()
    to_domain_event = app.mapper.to_domain_event
    page: list[tuple[Entry, Recorded]] = []
    for position, stream, version, topic, state, recorded_at in rows:
        if not isinstance(stream, UUID):
            stream = UUID(bytes=bytes(stream))
        event = to_domain_event(StoredEvent(stream, version, topic, bytes(state)))
        page.append((Entry(position, recorded_at), event))  # type: ignore[arg-type]
    return page


def _catch_up(
    app: Ledger,
    names: Iterable[str] | None,
    upto: int | None,
    page_size: int,
    progress: Progress | None,
) -> int:
    projections = with_requirements(_selected(names))
    tracking = tracking_recorder(app)
    head = target = -1  # the log's last position at the first look, and how far to go
    pages = 0
    applied = 0
    # Bulk work: what is alive before it (modules, the mapper…) is frozen out of the
    # collector's scans, which otherwise rescan it for every page's garbage (unless the
    # process froze it already, e.g. the CLI after start-up: that freeze is not ours).
    froze = gc.get_freeze_count() == 0
    if froze:
        gc.freeze()
    try:
        while True:
            with app.recorder.transaction(commit=True) as session:
                _lock(session)
                state = freshness(session.connection(), [p.name for p in projections])
                if target < 0:
                    head = state.head
                    target = head if upto is None else min(upto, head)
                done = state.positions
                start = min(done.values())
                if progress is not None:
                    progress(start, target)
                if start >= target:
                    break
                last = start
                while True:
                    # One event more than the page, to see whether the page ends a transaction.
                    batch = read_page(app, session, last, target, page_size + 1)
                    following = batch[page_size:]
                    batch = batch[:page_size]
                    if not batch:
                        break
                    last = batch[-1][0].position
                    for projection in projections:
                        seen = done[projection.name]
                        if batch[0][0].position > seen:
                            projection.process(session, batch)
                        else:
                            behind = [item for item in batch if item[0].position > seen]
                            if behind:
                                projection.process(session, behind)
                    if progress is not None:
                        progress(last, target)
                    # A page never ends inside a write transaction (its events share one
                    # record time), or a query could see part of an import: go on in the
                    # same commit.
                    if not following or following[0][0].recorded_at != batch[-1][0].recorded_at:
                        break
                if last == start:
                    break
                applied += last - start
                for projection in projections:
                    if last > done[projection.name]:
                        # The library's tracking insert is private; see the module docstring.
                        tracking._insert_tracking(session, Tracking(projection.name, last))
            pages += 1
    finally:
        if froze:
            gc.unfreeze()
    if applied >= max(ANALYZE_AFTER, head // 10):
        _analyze(app, projections)
    return pages


def _analyze(app: Ledger, projections: list[Projection]) -> None:
    """Refresh PostgreSQL's planner statistics of read models that just grew a lot.

    Right after a replay or a large import autovacuum has not analyzed the tables yet
    (it waits for the same 10 % growth, then up to a minute), and with the stale
    estimates the planner chose a nested loop for `timeline --agreement` that took 1.5 s
    instead of 5 ms at 20k events (0.3 s at 4.5k). ANALYZE samples a fixed number of
    rows, so it costs well under a second at any size. SQLite's planner needs no
    statistics for these queries.
    """
    with app.recorder.transaction(commit=True) as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        names = ", ".join(model.name for p in projections for model in p.tables)
        session.execute(text(f"ANALYZE {names}"))


def reset(app: Ledger, names: Iterable[str] | None = None) -> None:
    """Empty the selected read models and forget how far they had got, in one transaction."""
    projections = _selected(names)
    tracking = tracking_recorder(app)
    table = tracking.tracking_table
    with app.recorder.transaction(commit=True) as session:
        _lock(session)
        for projection in projections:
            for model in reversed(projection.tables):
                session.execute(delete(model))
            session.execute(delete(table).where(table.c.application_name == projection.name))


def replay(
    app: Ledger,
    names: Iterable[str] | None = None,
    upto: int | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Rebuild read models from the log alone. Killed half-way, the next catch-up resumes."""
    names = [p.name for p in _selected(names)]
    reset(app, names)
    catch_up(app, names, upto=upto, progress=progress)
    return positions(app, names)
