"""What every request shares: one read side, one write side, the tokens, the log's head.

A server answers from many threads at once; they share one `Queries` (so one engine and
its connection pool per database, no set-up per request) and its one write side, which
catches up the read models under a lock: one writer at a time in this process, and the
database's own lock against every other process (a CLI import, another server).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ledger import database
from projections.queries import Queries
from web.errors import Unauthorized, WritesOff
from web.tokens import Tokens

if TYPE_CHECKING:
    from ledger.application import ImportResult, Ledger

#: What a request body may hold: an import of this size belongs to `ledger import`.
MAX_BODY = 16 * 1024 * 1024
BODY_NAME = "request body"


class Service:
    def __init__(self, url: str, *, tokens: Path | None = None) -> None:
        self.url = url
        self.queries = Queries(url)
        self.tokens = Tokens(tokens) if tokens is not None else None

    @property
    def ledger(self) -> Ledger:
        """The write side, shared (opened once, on first need)."""
        return self.queries.ledger

    def head(self) -> int:
        """The log's last position: one indexed read, made before answers are reused."""
        with self.queries.engine.connect() as connection:
            return connection.execute(select(func.max(database.log_table.c.id))).scalar() or 0

    def writer(self, authorization: str | None) -> str:
        """Who a write is recorded as: the name of the bearer token, or a refusal."""
        if self.tokens is None:
            raise WritesOff(
                "this server does not accept writes: start it with --allow-writes --tokens FILE"
            )
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a write needs an 'Authorization: Bearer TOKEN' header")
        holder = self.tokens.holder(token.strip())
        if holder is None:
            raise Unauthorized("unknown token: ask for one made by `ledger token add NAME`")
        return holder

    def write(self, content: bytes, fmt: str | None, recorded_by: str) -> ImportResult:
        """Records in the interchange format, entered exactly as `ledger import` enters them:
        the same validation, one transaction, all or nothing, the same messages."""
        from ledger.reading import read_content
        from projections.catchup import catch_up

        records = read_content(content, BODY_NAME, fmt)
        with self.queries.writing:
            result = self.ledger.import_records(records, recorded_by)
            catch_up(self.ledger)
        return result
