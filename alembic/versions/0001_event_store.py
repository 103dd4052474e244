"""The event store: eventsourcing's stored events (plus record time and leaf hash),
the Merkle tree heads, and the projections' tracking records.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy_utils.types.uuid import UUIDType

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_events",
        sa.Column("id", POSITION, primary_key=True, autoincrement=True),
        sa.Column("originator_id", UUIDType(), nullable=False),
        sa.Column("originator_version", POSITION, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", sa.String(27), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_index(
        "ledger_events_aggregate_idx",
        "ledger_events",
        ["originator_id", "originator_version"],
        unique=True,
    )
    op.create_table(
        "ledger_events_merkle",
        sa.Column("size", POSITION, primary_key=True),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(27), nullable=False),
    )
    op.create_table(
        "ledger_tracking",
        sa.Column("application_name", sa.String(32), primary_key=True),
        sa.Column("notification_id", POSITION),
    )


def downgrade() -> None:
    op.drop_table("ledger_tracking")
    op.drop_table("ledger_events_merkle")
    op.drop_index("ledger_events_aggregate_idx", table_name="ledger_events")
    op.drop_table("ledger_events")
