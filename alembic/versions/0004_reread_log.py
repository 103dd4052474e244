"""Read models are rebuilt: the reading of the log changed (FORMAT.md v1.1).

Qualified dates are now bounded one unit of their precision wider (the events are
upcast on reading, never rewritten), suspensions and revocations are endorsement acts,
and revocations are linked to the agreement of the notice they revoke. Read models
built by an older program hold none of that, so all of them are emptied here with the
projections' tracking records, and the next query rebuilds them from the log alone.
No table changes and no event is touched.

Revision ID: 0004
Revises: 0007
Create Date: 2026-12-01
"""

from alembic import op

revision = "0004"
down_revision = "0007"
branch_labels = None
depends_on = None

READ_MODELS = (
    "rm_citations",
    "rm_search",
    "rm_amendments",
    "rm_endorsements",
    "rm_occurrence_agreements",
    "rm_occurrence_actors",
    "rm_occurrences",
    "rm_registry",
)


def _forget_read_models() -> None:
    for table in READ_MODELS:
        op.execute(f"DELETE FROM {table}")
    # Every projection starts again together, so none reads rows another has yet to rebuild.
    op.execute("DELETE FROM ledger_tracking")


def upgrade() -> None:
    _forget_read_models()


def downgrade() -> None:
    # The older program reads the log its own way: it rebuilds from nothing too.
    _forget_read_models()
