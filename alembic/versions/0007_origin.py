"""The ledger's settings, first of them its origin: the name its signed checkpoints carry.

A C2SP checkpoint note starts with an origin line naming the log it is for; checking it
is what keeps a note signed for one log from passing as a note of another. A ledger
that already holds events keeps the name its notes were signed with until now
("diplomacy-ledger"); a new one gets a name of its own, which `ledger init --origin`
may replace while the log is still empty. A downgrade forgets the origin: upgraded
again, a ledger with events is named "diplomacy-ledger", and notes signed with the
forgotten name no longer match it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The origin every signed checkpoint carried before this revision.
LEGACY_ORIGIN = "diplomacy-ledger"


def upgrade() -> None:
    settings = op.create_table(
        "ledger_settings",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_ledger_settings"),
    )
    has_events = op.get_bind().execute(sa.text("SELECT 1 FROM ledger_events LIMIT 1")).first()
    origin = LEGACY_ORIGIN if has_events else f"{LEGACY_ORIGIN}/{uuid.uuid4().hex[:12]}"
    op.bulk_insert(settings, [{"name": "origin", "value": origin}])


def downgrade() -> None:
    op.drop_table("ledger_settings")
