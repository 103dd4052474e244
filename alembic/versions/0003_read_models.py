"""Read models: registry, occurrence versions with their links and endorsements, and
amendments (corrections and retractions) for audit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.String(200)
STAMP = sa.String(27)
DAY = sa.String(10)


def upgrade() -> None:
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

    op.create_table(
        "rm_occurrences",
        sa.Column("vid", POSITION, autoincrement=False, nullable=False),
        sa.Column("occurrence", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("date", sa.String(200), nullable=False),
        sa.Column("earliest", DAY),
        sa.Column("latest", DAY),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("known_from", STAMP, nullable=False),
        sa.Column("known_until", STAMP),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("vid", name="pk_rm_occurrences"),
    )
    op.create_index("ix_rm_occurrences_occurrence", "rm_occurrences", ["occurrence"])
    op.create_index(
        "ix_rm_occurrences_known_until_earliest_position",
        "rm_occurrences",
        ["known_until", "earliest", "position"],
    )
    op.create_index("ix_rm_occurrences_kind", "rm_occurrences", ["kind"])

    op.create_table(
        "rm_occurrence_actors",
        sa.Column("vid", POSITION, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("actor", ID, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("vid", "seq", name="pk_rm_occurrence_actors"),
    )
    op.create_index(
        "ix_rm_occurrence_actors_actor_vid", "rm_occurrence_actors", ["actor", "vid"]
    )

    op.create_table(
        "rm_occurrence_agreements",
        sa.Column("vid", POSITION, autoincrement=False, nullable=False),
        sa.Column("agreement", ID, nullable=False),
        sa.PrimaryKeyConstraint("vid", "agreement", name="pk_rm_occurrence_agreements"),
    )
    op.create_index(
        "ix_rm_occurrence_agreements_agreement_vid",
        "rm_occurrence_agreements",
        ["agreement", "vid"],
    )

    op.create_table(
        "rm_endorsements",
        sa.Column("vid", POSITION, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("agreement", ID, nullable=False),
        sa.Column("actor", ID),
        sa.Column("act", sa.String(16), nullable=False),
        sa.Column("on_behalf_of", ID),
        sa.Column("method", sa.String(16)),
        sa.PrimaryKeyConstraint("vid", "seq", name="pk_rm_endorsements"),
    )
    op.create_index(
        "ix_rm_endorsements_agreement_vid", "rm_endorsements", ["agreement", "vid"]
    )

    op.create_table(
        "rm_amendments",
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", ID, nullable=False),
        sa.Column("date", sa.String(200), nullable=False),
        sa.Column("recorded_at", STAMP, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_rm_amendments"),
    )
    op.create_index("ix_rm_amendments_target", "rm_amendments", ["target"])

    # The read models start empty here, so no projection has applied anything to them yet:
    # progress left in the tracking table (by tables a downgrade dropped) would stop
    # catch-up from ever filling them.
    op.execute("DELETE FROM ledger_tracking")


def downgrade() -> None:
    for table in (
        "rm_amendments",
        "rm_endorsements",
        "rm_occurrence_agreements",
        "rm_occurrence_actors",
        "rm_occurrences",
        "rm_registry",
    ):
        op.drop_table(table)
