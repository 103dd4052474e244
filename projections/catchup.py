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

The tracking record moves inside the page's transaction through
`ledger.eventstore.insert_tracking`, the one module that holds every contact with the
library beyond its public API (and says why each is needed).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from ledger.collector import frozen_out
from ledger.database import driver_cursor
from ledger.errors import TamperingDetected, UnknownName
from ledger.events import Recorded
from ledger.eventstore import insert_tracking
from projections.freshness import freshness
from projections.projectors import PROJECTIONS, Projection

if TYPE_CHECKING:
    from ledger.application import Ledger

PAGE_SIZE = 2000
#: A catch-up that applied at least this many events, and a tenth of the log (the
#: tables grew by as much as autovacuum waits for), refreshes the planner's statistics.
ANALYZE_AFTER = 1000
Progress = Callable[[int, int], None]


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
    "FROM ledger_events WHERE id > {mark} AND id <= {mark} ORDER BY id"
)
_NEXT_SQL = "SELECT min(id) FROM ledger_events WHERE id > {mark} AND id <= {mark}"


def read_page(
    app: Ledger, session: Session, after: int, upto: int, limit: int
) -> list[tuple[Entry, Recorded]]:
    """Events after `after` (up to `upto`, at most `limit`), decoded by the ledger's mapper.

    Read with the driver's own cursor in the caller's transaction, and decoded straight
    through eventsourcing's `Mapper`: the recorder's `select_log` builds and checks an
    audit `LogEntry` per row, which projections never need.

    Each query asks for a range of positions no longer than the rows still wanted, not
    for "the next `limit` rows up to `upto`": PostgreSQL plans that one from statistics
    of the log, and without them (autovacuum not yet run, or off) it fetched every row
    up to `upto` and sorted them for each page, which made a replay quadratic (at 100k
    events, 2 of its 11 s). The writer leaves no position unused (`ledger.store`), so
    one range is a page; a position missing all the same (a row changed by hand) is
    skipped with one look-up of the next one (`min(id)`, read from the key).
    """
    return _decode(app, _fetch(session, after, upto, limit))


def _fetch(session: Session, after: int, upto: int, limit: int) -> list[tuple[Any, ...]]:
    """The stored rows `read_page` decodes."""
    postgres = session.get_bind().dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    statement = _PAGE_SQL.format(mark=mark)
    rows: list[tuple[Any, ...]] = []
    with driver_cursor(session.connection(), statement) as cursor:
        low = after
        while len(rows) < limit and low < upto:
            high = min(upto, low + limit - len(rows))
            cursor.execute(statement, (low, high))
            found = cursor.fetchall()
            if not found and high < upto:  # a gap in the positions: go to its end
                cursor.execute(_NEXT_SQL.format(mark=mark), (high, upto))
                following = cursor.fetchone()
                if following is None or following[0] is None:
                    break
                high = int(following[0]) - 1
            rows.extend(found)
            low = high
    return rows


def _decode(app: Ledger, rows: list[tuple[Any, ...]]) -> list[tuple[Entry, Recorded]]:
    to_domain_event = app.mapper.to_domain_event
    page: list[tuple[Entry, Recorded]] = []
    for position, stream, version, topic, state, recorded_at in rows:
        if not isinstance(stream, UUID):
            stream = UUID(bytes=bytes(stream))
        event = to_domain_event(StoredEvent(stream, version, topic, bytes(state)))
        page.append((Entry(position, recorded_at), event))  # type: ignore[arg-type]
    return page


def read_ahead(
    app: Ledger, session: Session, after: int, upto: int, limit: int
) -> Generator[list[tuple[Entry, Recorded]], None, None]:
    """`read_page` page after page up to `upto`, each page decoded in a thread while the
    caller writes the rows of the one before.

    In a PostgreSQL replay the client and the server otherwise took turns: the client
    decoded a page while the server idled, then waited while the server took the page's
    rows. The thread decodes the next page while the caller waits for the server (the
    driver lets go of the interpreter's lock while it waits). Only decoding moves: the
    stored rows are read in the caller's thread and transaction, before it writes the
    page before them, and the projections still process every page in order, in that
    one thread and transaction, so what they read of their own earlier rows is as
    without the thread. Closing the iterator (the caller failed or was interrupted)
    waits for the page being decoded, drops it, and leaves the transaction to the caller.
    """
    decoder = ThreadPoolExecutor(1, thread_name_prefix="decode-ahead")
    try:
        rows = _fetch(session, after, upto, limit)
        decoding = decoder.submit(_decode, app, rows) if rows else None
        while decoding is not None:
            page = decoding.result()
            rows = _fetch(session, page[-1][0].position, upto, limit)
            decoding = decoder.submit(_decode, app, rows) if rows else None
            yield page
    finally:
        decoder.shutdown(wait=True, cancel_futures=True)


def _catch_up(
    app: Ledger,
    names: Iterable[str] | None,
    upto: int | None,
    page_size: int,
    progress: Progress | None,
) -> int:
    projections = with_requirements(_selected(names))
    tracking = app.tracking_recorder
    head = target = -1  # the log's last position at the first look, and how far to go
    pages = 0
    applied = 0
    with frozen_out():
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
                last = _apply(app, session, projections, done, target, page_size, progress)
                if last == start:
                    break
                applied += last - start
                for projection in projections:
                    if last > done[projection.name]:
                        insert_tracking(tracking, session, projection.name, last)
            pages += 1
    if applied >= max(ANALYZE_AFTER, head // 10):
        _analyze(app, projections)
    return pages


def _apply(
    app: Ledger,
    session: Session,
    projections: list[Projection],
    done: dict[str, int],
    target: int,
    page_size: int,
    progress: Progress | None,
    to_target: bool = False,
) -> int:
    """Apply pages of events after `done` in `session`'s transaction; the last position
    applied. It stops at the end of a write transaction of the log (the caller commits
    there), or with `to_target` only at `target`."""
    last = min(done.values())
    if to_target:
        pages = read_ahead(app, session, last, target, page_size)
        try:
            for batch in pages:
                last = batch[-1][0].position
                _process(session, projections, done, batch)
                if progress is not None:
                    progress(last, target)
        finally:
            pages.close()
        return last
    while True:
        # One event more than the page, to see whether the page ends a transaction.
        batch = read_page(app, session, last, target, page_size + 1)
        following = batch[page_size:]
        batch = batch[:page_size]
        if not batch:
            return last
        last = batch[-1][0].position
        _process(session, projections, done, batch)
        if progress is not None:
            progress(last, target)
        # A page never ends inside a write transaction (its events share one record
        # time), or a query could see part of an import: go on in the same commit.
        if not following:
            return last
        if following[0][0].recorded_at != batch[-1][0].recorded_at:
            return last


def _process(
    session: Session,
    projections: list[Projection],
    done: dict[str, int],
    batch: list[tuple[Entry, Recorded]],
) -> None:
    """Every projection writes its rows for the events of `batch` it has not seen."""
    for projection in projections:
        seen = done[projection.name]
        if batch[0][0].position > seen:
            projection.process(session, batch)
        else:
            behind = [item for item in batch if item[0].position > seen]
            if behind:
                projection.process(session, behind)


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
        session.execute(text(f"ANALYZE {_table_names(projections)}"))


def _table_names(projections: list[Projection]) -> str:
    return ", ".join(model.name for p in projections for model in p.tables)


def reset(app: Ledger, names: Iterable[str] | None = None) -> None:
    """Empty the selected read models and forget how far they had got, in one transaction."""
    projections = _selected(names)
    with app.recorder.transaction(commit=True) as session:
        _lock(session)
        _empty(app, session, projections)


def _empty(app: Ledger, session: Session, projections: list[Projection]) -> None:
    table = app.tracking_recorder.tracking_table
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
    """Rebuild read models from the log alone.

    SQLite: reset, then catch up; killed half-way, the next catch-up resumes. PostgreSQL:
    one transaction that loads the emptied tables in bulk (`_rebuild`); killed half-way,
    it leaves the read models as they were, and the next catch-up goes on from there.
    """
    selected = _selected(names)
    names = [p.name for p in selected]
    if app.engine.dialect.name == "postgresql":
        _rebuild(app, selected, upto, progress)
    else:
        reset(app, names)
        catch_up(app, names, upto=upto, progress=progress)
    return positions(app, names)


#: Memory for each index PostgreSQL builds at the end of a rebuild, in place of the
#: server's `maintenance_work_mem` (64 MB unless set): a GIN build gathers its entries
#: in it and writes them out each time it fills, and a B-tree sorts in it.
INDEX_BUILD_MEMORY = "256MB"


def _rebuild(
    app: Ledger, selected: list[Projection], upto: int | None, progress: Progress | None
) -> None:
    """Replay on PostgreSQL as a bulk load: empty the tables, drop the indexes nothing
    reads while they fill, load, build the indexes again, commit.

    Kept up to date row by row, the indexes were about half of the server's work in a
    replay (at 100k events, 6–10 s of its CPU for `COPY` with them, 2 s without, the
    full-text GIN index and the keys most); built once from the loaded tables, 2 s.
    PostgreSQL's DDL is transactional, so a replay killed half-way, or refused, leaves
    the schema and the rows as they were. The indexes are built from their definitions
    in the catalog (those the migrations made), so nothing here restates the schema.
    Rows are deleted, not truncated: a query whose snapshot began before the commit
    still reads the old rows, as it reads their old tracking records. The tables are
    locked while the transaction lasts, so queries wait for the rebuilt read models
    instead of catching up themselves.
    """
    projections = with_requirements(selected)
    rebuilt = {p.name for p in selected}
    kept = {str(index.name) for p in projections for index in p.reads}
    tables = [model.name for p in selected for model in p.tables]
    with frozen_out(), app.recorder.transaction(commit=True) as session:
        _lock(session)
        state = freshness(session.connection(), [p.name for p in projections])
        target = state.head if upto is None else min(upto, state.head)
        done = {n: 0 if n in rebuilt else at for n, at in state.positions.items()}
        _empty(app, session, selected)
        indexes = _unread_indexes(session, tables, kept)
        for drop, _create in indexes:
            session.execute(text(drop))
        if progress is not None:
            progress(0, target)
        last = _apply(app, session, projections, done, target, PAGE_SIZE, progress, True)
        for projection in projections:
            if last > done[projection.name]:
                insert_tracking(app.tracking_recorder, session, projection.name, last)
        session.execute(text(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"))
        for _drop, create in indexes:
            session.execute(text(create))
        if last >= ANALYZE_AFTER:  # every row is new: see `_analyze`
            session.execute(text(f"ANALYZE {_table_names(projections)}"))


def _unread_indexes(session: Session, tables: list[str], kept: set[str]) -> list[tuple[str, str]]:
    """How to drop, and to make again, each index of these tables that no projection
    reads while it writes (`Projection.reads`): the index, or the key constraint it
    enforces, exactly as the catalog defines it."""
    rows = session.execute(
        text(
            "SELECT i.relname, quote_ident(n.nspname), quote_ident(t.relname),"
            " quote_ident(i.relname), pg_get_indexdef(x.indexrelid),"
            " quote_ident(c.conname), pg_get_constraintdef(c.oid)"
            " FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid"
            " JOIN pg_class t ON t.oid = x.indrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = t.oid"
            " WHERE n.nspname = current_schema() AND t.relname = ANY(:tables)"
            " ORDER BY t.relname, i.relname"
        ),
        {"tables": tables},
    )
    found: list[tuple[str, str]] = []
    for name, schema, table, index, definition, constraint, constraint_definition in rows:
        if name in kept:
            continue
        if constraint is None:
            found.append((f"DROP INDEX {schema}.{index}", definition))
        else:
            found.append(
                (
                    f"ALTER TABLE {schema}.{table} DROP CONSTRAINT {constraint}",
                    f"ALTER TABLE {schema}.{table} ADD CONSTRAINT {constraint} "
                    + constraint_definition,
                )
            )
    return found
