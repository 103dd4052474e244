"""Tampering as an attacker with write access to the database would do it.

Shared by the tamper-evidence tests: append-only triggers dropped (SQLite) or disabled
(PostgreSQL, as the owner), rows edited with SQL, and a log rewritten together with its
leaf hashes and tree heads using nothing but the documented canonical bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from ledger.merkle import CompactRange, leaf_hash
from ledger.store import canonical_bytes

SIGNING = 32  # the memorandum's signing, in Baghdad
MEMORANDUM = "iq-ir-security-mou-2025"


def as_attacker(url: str, *tables: str) -> Attack:
    """`with as_attacker(url, "ledger_events") as conn:` edits that table freely."""
    return Attack(url, tables)


class Attack:
    """A connection with the append-only triggers of `tables` out of the way."""

    def __init__(self, url: str, tables: Iterable[str]) -> None:
        self.engine = create_engine(url)
        self.tables = list(tables)

    def __enter__(self) -> Connection:
        self.context = self.engine.begin()
        conn = self.context.__enter__()
        for table in self.tables:
            if self.engine.dialect.name == "postgresql":
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                for action in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))
        return conn

    def __exit__(self, *exc: object) -> None:
        self.context.__exit__(*exc)
        self.engine.dispose()


def stored_state(conn: Connection, position: int) -> bytes:
    value = conn.execute(
        text("SELECT state FROM ledger_events WHERE id = :p"), {"p": position}
    ).scalar_one()
    return bytes(value)


def move_signing_to_tehran(conn: Connection) -> bytes:
    """Change the signing's place in its stored row; returns the new state."""
    state = stored_state(conn, SIGNING)
    assert b'"place":"Baghdad"' in state
    forged = state.replace(b'"place":"Baghdad"', b'"place":"Tehran"')
    conn.execute(
        text("UPDATE ledger_events SET state = :s WHERE id = :p"), {"s": forged, "p": SIGNING}
    )
    return forged


def rewrite_consistently(url: str) -> None:
    """Move the signing to Tehran and rewrite its leaf and every tree head to agree.

    The attacker knows the documented canonical bytes, so the log then hashes
    perfectly; only a checkpoint kept elsewhere can tell.
    """
    with as_attacker(url, "ledger_events", "ledger_events_merkle") as conn:
        move_signing_to_tehran(conn)
        rows = conn.execute(
            text(
                "SELECT id, originator_id, originator_version, topic, state, recorded_at "
                "FROM ledger_events ORDER BY id"
            )
        ).all()
        heads = conn.execute(text("SELECT size FROM ledger_events_merkle")).scalars().all()
        conn.execute(text("DELETE FROM ledger_events_merkle"))
        tree = CompactRange()
        for position, stream, version, topic, state, recorded_at in rows:
            leaf = leaf_hash(
                canonical_bytes(
                    position, recorded_at, stream_id(stream), version, topic, bytes(state)
                )
            )
            conn.execute(
                text("UPDATE ledger_events SET leaf_hash = :h WHERE id = :p"),
                {"h": leaf, "p": position},
            )
            tree.append(leaf)
            if tree.size in heads:
                conn.execute(
                    text(
                        "INSERT INTO ledger_events_merkle (size, root, frontier, recorded_at) "
                        "VALUES (:n, :r, :f, :t)"
                    ),
                    {
                        "n": tree.size,
                        "r": tree.root(),
                        "f": json.dumps(tree.to_json()),
                        "t": recorded_at,
                    },
                )


def stream_id(stored: object) -> UUID:
    """A stream id as the driver returns it raw: a UUID, 16 bytes (SQLite) or text."""
    if isinstance(stored, UUID):
        return stored
    if isinstance(stored, bytes | memoryview):
        return UUID(bytes=bytes(stored))
    return UUID(str(stored))
