"""Check the read models against what the log rebuilds: the read side's tamper evidence.

Queries and audits answer from the read models, and the Merkle log vouches only for
the log; a row of `rm_registry` edited with SQL would be believed until the next
replay. So `ledger verify` rebuilds every projection from the (verified) log into a
scratch SQLite database, up to the position its tracking record says it reached, with
the very projectors catch-up uses, and compares the two table by table, row by row in
primary-key order, naming the table and the record that differ. Both sides are read as
streams (the live side inside one read snapshot), so memory stays flat at any size;
the time is that of a replay.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, create_engine, event, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from ledger import database
from projections import models
from projections.catchup import PAGE_SIZE, read_page, with_requirements
from projections.freshness import freshness
from projections.projectors import PROJECTIONS, Projection

if TYPE_CHECKING:
    from ledger.application import Ledger

#: Differences named per table before the rest are only counted.
SHOWN_PER_TABLE = 5
_FETCH = 2000


@dataclass(frozen=True)
class Difference:
    """One record of a read-model table that is not what the log rebuilds."""

    table: str
    key: dict[str, Any]
    what: str

    def __str__(self) -> str:
        key = ", ".join(f"{name}={value!r}" for name, value in self.key.items())
        return f"read model {self.table}, record ({key}): {self.what}"


@dataclass
class ReadModelCheck:
    """The outcome: how far each projection was checked, and what differs."""

    positions: dict[str, int]
    differences: list[Difference] = field(default_factory=list)
    #: Differences beyond those named, per table.
    more: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.problems and not self.more

    def messages(self) -> list[str]:
        found = [*self.problems, *map(str, self.differences)]
        found += [f"read model {t}: {n} more records differ" for t, n in self.more.items()]
        return found


def check_read_models(app: Ledger) -> ReadModelCheck:
    """Rebuild every projection in a scratch database and compare it with the live one."""
    engine = database.engine_for(app.url)
    with engine.connect() as live, tempfile.TemporaryDirectory() as scratch_dir:
        database.read_only(live)
        fresh = freshness(live)
        reached, last = fresh.positions, fresh.head
        check = ReadModelCheck(positions=reached)
        for name, position in reached.items():
            if position > last:
                check.problems.append(
                    f"projection {name} says it reached position {position}, but the log "
                    f"ends at {last}: run `ledger replay`"
                )
        _past_tracking(check, live)
        # Projections at one position are rebuilt together; a projection reads those it
        # requires as they were at its own position, so each position gets its own pass.
        by_position: dict[int, list[Projection]] = {}
        for name, position in reached.items():
            by_position.setdefault(min(position, last), []).append(PROJECTIONS[name])
        for number, (position, group) in enumerate(sorted(by_position.items())):
            scratch = _scratch_engine(Path(scratch_dir) / f"rebuilt-{number}.db")
            try:
                _rebuild(app, scratch, with_requirements(group), position)
                with scratch.connect() as rebuilt:
                    for projection in group:
                        for table in projection.tables:
                            _compare(check, table, live, rebuilt)
            finally:
                scratch.dispose()
    return check


def _past_tracking(check: ReadModelCheck, live: Connection) -> None:
    """Rows a projection wrote after the position its tracking says it reached.

    Catch-up writes rows and moves tracking in one transaction, so this happens only
    when the tracking record was moved back by hand; it is named as such, since each
    such row would otherwise only show up as "not in what the log rebuilds".
    """
    for name, projection in PROJECTIONS.items():
        reached = check.positions[name]
        beyond = max(
            (
                (live.execute(select(func.max(table.c[column]))).scalar() or 0, table.name)
                for table in projection.tables
                for column in ("vid", "position")
                if column in table.c
            ),
            default=(0, ""),
        )
        if beyond[0] > reached:
            check.problems.append(
                f"read model {beyond[1]} holds rows of position {beyond[0]}, past position "
                f"{reached} its tracking record says projection {name} reached (was the "
                "tracking position moved back?): run `ledger replay`"
            )


def _scratch_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        # A scratch copy thrown away at the end: durability would only cost time.
        dbapi_connection.execute("PRAGMA journal_mode=OFF")
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    models.metadata.create_all(engine)
    return engine


def _rebuild(app: Ledger, scratch: Engine, projections: list[Projection], upto: int) -> None:
    """Feed the log up to `upto` to the projections, a page at a time, as catch-up does."""
    if not upto:
        return
    with (
        Session(scratch) as session,
        session.begin(),
        app.recorder.transaction(commit=False) as live,
    ):
        after = 0
        while page := read_page(app, live, after, upto, PAGE_SIZE):
            _feed(session, projections, page)
            after = page[-1][0].position


def _feed(session: Session, projections: Sequence[Projection], page: list[Any]) -> None:
    if page:
        for projection in projections:
            projection.process(session, page)


def _ordered(connection: Connection, table: Table) -> Iterator[tuple[Any, ...]]:
    """Rows in primary-key order, compared byte-wise on both engines (collation "C")."""
    keys = []
    for column in table.primary_key.columns:
        is_text = column.type.python_type is str
        postgres = connection.dialect.name == "postgresql"
        keys.append(column.collate("C") if is_text and postgres else column)
    query = select(*table.columns).order_by(*keys).execution_options(yield_per=_FETCH)
    for row in connection.execute(query):
        yield tuple(row)


def _sort_key(values: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    """Keys comparable whatever type a hand-edited row holds (SQLite's own order)."""
    return tuple(
        (0, v) if isinstance(v, int | float) else (1, v) if isinstance(v, str) else (2, repr(v))
        for v in values
    )


def _compare(check: ReadModelCheck, table: Table, live: Connection, rebuilt: Connection) -> None:
    names = [c.name for c in table.columns]
    key_at = [names.index(c.name) for c in table.primary_key.columns]
    # Versioned tables are keyed by position (vid): name the record too, so the message
    # says which source, actor, post, agreement or occurrence was touched.
    shown_at = key_at + [names.index(n) for n in ("namespace", "id", "occurrence") if n in names]

    def key_of(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(row[i] for i in key_at)

    found = 0

    def differs(row: tuple[Any, ...], what: str) -> None:
        nonlocal found
        found += 1
        if found <= SHOWN_PER_TABLE:
            key = {names[i]: row[i] for i in dict.fromkeys(shown_at)}
            check.differences.append(Difference(table.name, key, what))
        else:
            check.more[table.name] = found - SHOWN_PER_TABLE

    ours, theirs = _ordered(live, table), _ordered(rebuilt, table)
    mine, truth = next(ours, None), next(theirs, None)
    while mine is not None or truth is not None:
        if truth is None or (
            mine is not None and _sort_key(key_of(mine)) < _sort_key(key_of(truth))
        ):
            assert mine is not None
            differs(mine, "not in what the log rebuilds (run `ledger replay`)")
            mine = next(ours, None)
        elif mine is None or _sort_key(key_of(truth)) < _sort_key(key_of(mine)):
            differs(truth, "missing: the log rebuilds it (run `ledger replay`)")
            truth = next(theirs, None)
        else:
            changed = [n for n, a, b in zip(names, mine, truth, strict=True) if a != b]
            if changed:
                columns = "column" if len(changed) == 1 else "columns"
                differs(
                    mine,
                    f"{columns} {', '.join(changed)} not what the log rebuilds "
                    "(run `ledger replay`)",
                )
            mine, truth = next(ours, None), next(theirs, None)
