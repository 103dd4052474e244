"""Alembic environment: the ledger passes its own connection; a bare `alembic` call builds one."""

import os

from alembic import context
from sqlalchemy import create_engine

config = context.config


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=None,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "LEDGER_DB", "sqlite:///ledger.db"
    )
    with create_engine(url).connect() as conn:
        run_migrations(conn)
        conn.commit()
