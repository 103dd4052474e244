"""The ledger's origin: the one name its signed checkpoints carry (C2SP tlog-checkpoint).

A note's signature covers its origin line, so checking that line against the ledger's
own origin keeps a checkpoint signed for another log (by the same key, say) from
passing as one of this log. The name lives in the database (`ledger_settings`, created
by migration 0007), so every command and every machine reading the ledger agrees on it.
It can be chosen while the log is empty (`ledger init --origin`); once events exist,
checkpoints may have been signed with it and it never changes.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text, insert, select, update
from sqlalchemy.engine import Connection

from ledger.checkpoints import Checkpoint as _Checkpoint
from ledger.checkpoints import CheckpointError, checkpoint_body
from ledger.errors import LedgerError
from ledger.store import metadata

#: Ledgers whose schema predates the setting signed their checkpoints with this origin.
LEGACY_ORIGIN = "diplomacy-ledger"

settings = Table(
    "ledger_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text(), nullable=False),
)


def origin_of(connection: Connection) -> str:
    """The ledger's origin name."""
    value = connection.execute(select(settings.c.value).where(settings.c.name == "origin")).scalar()
    return value if isinstance(value, str) and value else LEGACY_ORIGIN


def set_origin(connection: Connection, origin: str, events: int) -> bool:
    """Name the ledger; refused once it holds events under another name. True if changed."""
    try:
        checkpoint_body(_Checkpoint(0, bytes(32)), origin)
    except CheckpointError as error:
        raise LedgerError(f"--origin {origin!r}: {error}") from None
    current = origin_of(connection)
    if current == origin:
        return False
    if events:
        raise LedgerError(
            f"the ledger's origin is {current!r} and it holds {events} events: checkpoints "
            "may have been signed with that name, so it cannot change"
        )
    found = connection.execute(select(settings.c.name).where(settings.c.name == "origin"))
    if found.first() is None:
        connection.execute(insert(settings).values(name="origin", value=origin))
    else:
        connection.execute(update(settings).where(settings.c.name == "origin").values(value=origin))
    return True


def check_origin(found: str | None, expected: str, what: str) -> None:
    """Refuse a checkpoint that names another log; one that names none (JSON of old) passes."""
    if found is not None and found != expected:
        raise CheckpointError(
            f"{what} is for the log {found!r}, but this ledger's origin is {expected!r}"
        )
