"""Lookups: a full-text index of every record's names, titles, summaries and quotes in
each engine's own full-text machinery (SQLite FTS5, PostgreSQL tsvector with a GIN
index), and which records cite which source.

Both are read models of a new projection, `lookups`: it starts with no tracking record,
so the next query fills them from the log, as a replay would.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.String(200)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # The unicode61 tokenizer folds case and (with remove_diacritics 2) accents, so
        # "Sudani" finds "al-Sudani" and "Peshmerga" finds "Pêşmerge" only where it should.
        op.execute(
            "CREATE VIRTUAL TABLE rm_search USING fts5("
            "namespace UNINDEXED, ref UNINDEXED, key UNINDEXED, body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.create_table(
            "rm_search",
            sa.Column("namespace", sa.String(16), nullable=False),
            sa.Column("ref", POSITION, autoincrement=False, nullable=False),
            sa.Column("key", ID, nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("namespace", "ref", name="pk_rm_search"),
        )
        # 'simple': names and ids in many languages, so no English stemming or stop words.
        op.execute(
            "ALTER TABLE rm_search ADD COLUMN document tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED"
        )
        op.execute("CREATE INDEX ix_rm_search_document ON rm_search USING gin (document)")

    op.create_table(
        "rm_citations",
        sa.Column("namespace", sa.String(16), nullable=False),
        sa.Column("ref", POSITION, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", ID, nullable=False),
        sa.Column("source", ID, nullable=False),
        sa.Column("attribution", sa.Text()),
        sa.Column("quote", sa.Text()),
        sa.PrimaryKeyConstraint("namespace", "ref", "seq", name="pk_rm_citations"),
    )
    op.create_index("ix_rm_citations_source_ref", "rm_citations", ["source", "ref"])
    op.execute("DELETE FROM ledger_tracking WHERE application_name = 'lookups'")


def downgrade() -> None:
    op.drop_table("rm_citations")
    op.drop_table("rm_search")
    op.execute("DELETE FROM ledger_tracking WHERE application_name = 'lookups'")
