"""Read-model tables, shaped so that any date and any moment is answered from indexed rows.

Nothing here is ever replayed to answer a question. Time travel works on two axes:

* valid time: every occurrence row carries the earliest and latest possible day of its
  (possibly corrected) date, so `--as-of D` is a range condition;
* record time: an occurrence, and likewise a source, actor, post or agreement, is kept
  as *versions*. The original is one version; each correction or retraction closes the
  current version (``known_until``) and opens a new one (``known_from``). `--known-at T`
  picks the version current at T; without it, the version with no ``known_until``.

A version's key (``vid``) is the log position of the event that produced it, so the
projection never needs a round trip to learn an id, and a replay produces identical rows.
Records are stored as JSON text, the same bytes on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

POSITION = BigInteger().with_variant(Integer(), "sqlite")
ID = String(200)
STAMP = String(27)
DAY = String(10)

registry = Table(
    "rm_registry",
    metadata,
    # Versions, like occurrences': a correction or retraction of a source, actor, post or
    # agreement closes the current version and opens the next (see the module docstring).
    Column("vid", POSITION, primary_key=True, autoincrement=False),
    Column("namespace", String(16), nullable=False),
    Column("key", ID, nullable=False),  # the id, case-folded: ids match case-insensitively
    Column("id", ID, nullable=False),  # the id as registered
    Column("kind", String(32), nullable=False),
    Column("holder", ID),  # posts: the holder's id
    Column("record", Text, nullable=False),
    Column("position", POSITION, nullable=False),  # where the record was first registered
    Column("recorded_at", STAMP, nullable=False),  # when it was first registered
    Column("known_from", STAMP, nullable=False),
    Column("known_until", STAMP),  # NULL while this version is current
    Column("retracted", Boolean, nullable=False),
    Index(None, "namespace", "key"),
    Index(None, "holder"),
)

occurrences = Table(
    "rm_occurrences",
    metadata,
    Column("vid", POSITION, primary_key=True, autoincrement=False),
    Column("occurrence", ID, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("date", String(200), nullable=False),
    Column("earliest", DAY),  # NULL: open start
    Column("latest", DAY),  # NULL: open end
    Column("position", POSITION, nullable=False),  # where the occurrence was first recorded
    Column("known_from", STAMP, nullable=False),
    Column("known_until", STAMP),  # NULL while this version is current
    Column("retracted", Boolean, nullable=False),
    Column("record", Text, nullable=False),
    Index(None, "occurrence"),
    Index(None, "known_until", "earliest", "position"),
    Index(None, "kind"),
)

occurrence_actors = Table(
    "rm_occurrence_actors",
    metadata,
    Column("vid", POSITION, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("actor", ID, nullable=False),
    Column("role", String(32), nullable=False),
    Index(None, "actor", "vid"),
)

occurrence_agreements = Table(
    "rm_occurrence_agreements",
    metadata,
    Column("vid", POSITION, primary_key=True, autoincrement=False),
    Column("agreement", ID, primary_key=True),
    Index(None, "agreement", "vid"),
)

endorsements = Table(
    "rm_endorsements",
    metadata,
    Column("vid", POSITION, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("agreement", ID, nullable=False),
    Column("actor", ID),
    Column("act", String(16), nullable=False),
    Column("on_behalf_of", ID),
    Column("method", String(16)),
    Index(None, "agreement", "vid"),
)

amendments = Table(
    "rm_amendments",
    metadata,
    Column("position", POSITION, primary_key=True, autoincrement=False),
    Column("id", ID, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("target", ID, nullable=False),
    Column("date", String(200), nullable=False),
    Column("recorded_at", STAMP, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("record", Text, nullable=False),
    Index(None, "target"),
)

# The full-text index: one document per record version (`ref`: an occurrence version's
# vid, a registry record's position). On SQLite it is an FTS5 virtual table; on
# PostgreSQL a table whose generated `document` tsvector column has a GIN index (see
# migration 0006): neither engine's extra machinery is declared here, only the columns
# the projection writes and queries read.
search = Table(
    "rm_search",
    metadata,
    Column("namespace", String(16), primary_key=True),
    Column("ref", POSITION, primary_key=True, autoincrement=False),
    Column("key", ID, nullable=False),  # the record's id, case-folded
    Column("body", Text, nullable=False),
)

# Which record (version) cites which source, with the attribution and quote it gives.
citations = Table(
    "rm_citations",
    metadata,
    Column("namespace", String(16), primary_key=True),
    Column("ref", POSITION, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("key", ID, nullable=False),  # the citing record's id, case-folded
    Column("source", ID, nullable=False),  # case-folded
    Column("attribution", Text),
    Column("quote", Text),
    Index(None, "source", "ref"),
)

#: Tables each projection owns (and empties on replay).
PROJECTION_TABLES: dict[str, tuple[Table, ...]] = {
    "registry": (registry,),
    "occurrences": (
        occurrences,
        occurrence_actors,
        occurrence_agreements,
        endorsements,
        amendments,
    ),
    "lookups": (search, citations),
}


def index_on(table: Table, *columns: str) -> Index:
    """The table's index on exactly these columns, in this order."""
    for index in table.indexes:
        if tuple(column.name for column in index.columns) == columns:
            return index
    raise LookupError(f"{table.name} has no index on {', '.join(columns)}")
