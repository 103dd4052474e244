"""What an audit report gathers from the log, kept on disk while the report is written.

A whole-ledger report lists every event, every amendment and the current version of
every occurrence, each also under every agreement it concerns; held in memory, a
million-event ledger's report took gigabytes before a byte was written. So the passes
over the log write what they learn into a scratch SQLite database in a temporary folder
(thrown away with it: no journal, no syncing), and the report reads it back a row at a
time, in the order it is written out: memory stays flat at any size.

Rows are pickled: the report's values come back exactly as they were gathered (the same
types, the same key order), so a streamed report is byte for byte the one built in
memory. The file is this process's own, written and read by nothing else.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE links (
    occurrence TEXT NOT NULL, agreement TEXT NOT NULL, PRIMARY KEY (occurrence, agreement)
) WITHOUT ROWID;
CREATE TABLE events (position INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE event_agreements (
    agreement TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (agreement, position)
) WITHOUT ROWID;
CREATE TABLE amendments (position INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE amendment_agreements (
    agreement TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (agreement, position)
) WITHOUT ROWID;
CREATE TABLE versions (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL UNIQUE, earliest TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE sections (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
"""
#: Timeline order, as `Queries.timeline` orders it: earliest day (unknown first), position.
_TIMELINE_ORDER = "ORDER BY v.earliest, v.position"
#: Rows written per `executemany`.
_BATCH = 2000


def _dump(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class Rows(list):  # type: ignore[type-arg]
    """A list read from the scratch database each time it is iterated, never held.

    A `list` so that the JSON encoder and the templates take it for one (both only
    iterate it, ask its length and whether it is empty); its own storage stays empty.
    """

    def __init__(self, produce: Callable[[], Iterator[Any]], count: Callable[[], int]) -> None:
        super().__init__()
        self._produce = produce
        self._count = count

    def __iter__(self) -> Iterator[Any]:
        return self._produce()

    def __len__(self) -> int:
        return self._count()

    def __bool__(self) -> bool:
        return self._count() > 0

    def __getitem__(self, index: Any) -> Any:
        return list(self._produce())[index]

    def __eq__(self, other: object) -> bool:
        return list(self._produce()) == other

    __hash__ = None

    def __repr__(self) -> str:
        return f"Rows({len(self)} rows)"


def mapped(rows: Rows, convert: Callable[[Any], Any]) -> Rows:
    """`rows`, each converted as it is read."""
    return Rows(lambda: map(convert, rows), rows.__len__)


def materialized(value: Any) -> Any:
    """`value` with every `Rows` in it read into a plain list (for small reports)."""
    if isinstance(value, Rows):
        return [materialized(item) for item in value]
    if isinstance(value, dict):
        return {key: materialized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [materialized(item) for item in value]
    return value


class Scratch:
    """The scratch database of one report; `close` (or the folder's removal) ends it."""

    def __init__(self, folder: Path) -> None:
        # Written by the passes, read while the report is written out: a web response
        # may read it from another thread than the one that built it (never two at once).
        self.db = sqlite3.connect(folder / "report.db", check_same_thread=False)
        self.db.executescript(_SCHEMA)
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        #: Versions handed out by `version`, changed in place, until `write_back`.
        self._checked_out: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self.db.close()

    # -- writing ---------------------------------------------------------------------

    def _queue(self, table: str, row: tuple[Any, ...]) -> None:
        pending = self._pending.setdefault(table, [])
        pending.append(row)
        if len(pending) >= _BATCH:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._pending.pop(table, [])
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def flush(self) -> None:
        for table in list(self._pending):
            self._flush(table)

    def link(self, occurrence: str, agreements: Iterable[str]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO links VALUES (?, ?)", [(occurrence, a) for a in agreements]
        )

    def add_event(self, position: int, event: dict[str, Any], agreements: Iterable[str]) -> None:
        self._queue("events", (position, _dump(event)))
        for agreement in agreements:
            self._queue("event_agreements", (agreement, position))

    def add_amendment(
        self, position: int, amendment: dict[str, Any], agreements: Iterable[str]
    ) -> None:
        self._queue("amendments", (position, _dump(amendment)))
        for agreement in agreements:
            self._queue("amendment_agreements", (agreement, position))

    def add_version(self, version: dict[str, Any]) -> None:
        row = (version["id"], version["position"], version["earliest"] or "", _dump(version))
        self._queue("versions", row)

    def finish(self) -> None:
        """Everything gathered: written out, and the whole timeline's order indexed."""
        self.write_back()
        self.flush()
        self.db.execute("CREATE INDEX versions_timeline ON versions (earliest, position)")
        self.db.commit()

    def write_back(self) -> None:
        """Store the versions `version` handed out, as they were changed since."""
        for ident, version in self._checked_out.items():
            self.db.execute(
                "UPDATE versions SET earliest = ?, data = ? WHERE id = ?",
                (version["earliest"] or "", _dump(version), ident),
            )
        self._checked_out.clear()

    def add_section(self, seq: int, section: Any) -> None:
        self.db.execute("INSERT INTO sections VALUES (?, ?)", (seq, _dump(section)))

    # -- reading ---------------------------------------------------------------------

    def links(self, occurrence: str) -> set[str]:
        query = "SELECT agreement FROM links WHERE occurrence = ?"
        return {row[0] for row in self.db.execute(query, (occurrence,))}

    def version(self, occurrence: str) -> dict[str, Any] | None:
        """The current version of an occurrence, to read."""
        self._flush("versions")
        row = self.db.execute("SELECT data FROM versions WHERE id = ?", (occurrence,)).fetchone()
        return None if row is None else pickle.loads(row[0])

    def check_out(self, occurrence: str) -> dict[str, Any] | None:
        """The current version of an occurrence, to change: `write_back` stores it."""
        if occurrence not in self._checked_out:
            version = self.version(occurrence)
            if version is None:
                return None
            self._checked_out[occurrence] = version
        return self._checked_out[occurrence]

    def _rows(self, query: str, params: tuple[Any, ...] = ()) -> Rows:
        count = f"SELECT count(*) FROM ({query})"

        def produce() -> Iterator[Any]:
            for (data,) in self.db.execute(query, params):
                yield pickle.loads(data)

        return Rows(produce, lambda: int(self.db.execute(count, params).fetchone()[0]))

    def events(self, agreement: str | None = None) -> Rows:
        """Every event gathered, or those of one agreement, in log order."""
        if agreement is None:
            return self._rows("SELECT data FROM events ORDER BY position")
        return self._rows(
            "SELECT e.data FROM event_agreements a JOIN events e ON e.position = a.position "
            "WHERE a.agreement = ? ORDER BY a.position",
            (agreement,),
        )

    def amendments(self, agreement: str | None = None) -> Rows:
        if agreement is None:
            return self._rows("SELECT data FROM amendments ORDER BY position")
        return self._rows(
            "SELECT m.data FROM amendment_agreements a JOIN amendments m "
            "ON m.position = a.position WHERE a.agreement = ? ORDER BY a.position",
            (agreement,),
        )

    def versions(self, agreement: str | None = None, *, timeline: bool = False) -> Rows:
        """Current versions of occurrences (of one agreement): in log order, or the
        timeline's order."""
        order = _TIMELINE_ORDER if timeline else "ORDER BY v.position"
        if agreement is None:
            return self._rows(f"SELECT v.data FROM versions v {order}")
        return self._rows(
            "SELECT v.data FROM event_agreements a JOIN versions v ON v.position = a.position "
            f"WHERE a.agreement = ? {order}",
            (agreement,),
        )

    def sections(self) -> Rows:
        return self._rows("SELECT data FROM sections ORDER BY seq")
