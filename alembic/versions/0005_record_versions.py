"""Corrections and retractions of any record: registry rows kept as versions on the
record-time axis, and the amendments found without reading the whole log.

* `rm_registry` is rebuilt with one row per version of a source, actor, post or
  agreement (`vid`, `known_from`, `known_until`, `retracted`), as `rm_occurrences`
  already is. Every read model is emptied with the projections' tracking records (the
  lookups read registry versions), so the next query rebuilds them from the log; the
  log itself is not touched.
* Two partial indexes on `ledger_events.topic` find corrections and retractions (a few
  per cent of a ledger) for the write side's checks, at no cost to other inserts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.String(200)
STAMP = sa.String(27)
AMENDMENT_TOPICS = {
    "ix_ledger_events_corrected": "ledger.events:Corrected",
    "ix_ledger_events_retracted": "ledger.events:Retracted",
}


def upgrade() -> None:
    for name, topic in AMENDMENT_TOPICS.items():
        where = sa.text(f"topic = '{topic}'")
        op.create_index(name, "ledger_events", ["id"], sqlite_where=where, postgresql_where=where)
    op.drop_table("rm_registry")
    op.create_table(
        "rm_registry",
        sa.Column("vid", POSITION, autoincrement=False, nullable=False),
        sa.Column("namespace", sa.String(16), nullable=False),
        sa.Column("key", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("holder", ID),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("recorded_at", STAMP, nullable=False),
        sa.Column("known_from", STAMP, nullable=False),
        sa.Column("known_until", STAMP),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("vid", name="pk_rm_registry"),
    )
    op.create_index("ix_rm_registry_namespace_key", "rm_registry", ["namespace", "key"])
    op.create_index("ix_rm_registry_holder", "rm_registry", ["holder"])
    _forget_read_models()


#: Every read model but rm_registry (which is recreated empty), in the order to empty them.
OTHER_READ_MODELS = (
    "rm_citations",
    "rm_search",
    "rm_amendments",
    "rm_endorsements",
    "rm_occurrence_agreements",
    "rm_occurrence_actors",
    "rm_occurrences",
)


def _forget_read_models() -> None:
    for table in OTHER_READ_MODELS:
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM ledger_tracking")


def downgrade() -> None:
    op.drop_table("rm_registry")
    op.create_table(
        "rm_registry",
        sa.Column("namespace", sa.String(16), nullable=False),
        sa.Column("key", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("holder", ID),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("recorded_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("namespace", "key", name="pk_rm_registry"),
    )
    op.create_index("ix_rm_registry_holder", "rm_registry", ["holder"])
    _forget_read_models()
    for name in AMENDMENT_TOPICS:
        op.drop_index(name, table_name="ledger_events")
