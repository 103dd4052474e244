"""What every request shares: one read side, one write side, the tokens, the log's head.

A server answers from many threads at once; they share one `Queries` (so one engine and
its connection pool per database, no set-up per request) and one write side, over which
the read models are caught up (the catch-up this service hands its `Queries`) under a
lock: one writer at a time in this process, and the database's own lock against every
other process (a CLI import, another server).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import database
from projections.queries import Queries
from web.errors import Unauthorized, WritesOff
from web.tokens import Tokens

if TYPE_CHECKING:
    from ledger.application import ImportResult, Ledger

#: What a request body may hold: an import of this size belongs to `ledger import`.
MAX_BODY = 16 * 1024 * 1024
BODY_NAME = "request body"
HEAD_QUERY = f"SELECT max(id) FROM {database.log_table.name}"


class Service:
    def __init__(self, url: str, *, tokens: Path | None = None) -> None:
        self.url = url
        self.queries = Queries(url, catch_up=self.catch_up)
        self._ledger: Ledger | None = None
        self.tokens = Tokens(tokens) if tokens is not None else None
        self._head_lock = threading.Lock()
        self._head_connection: Any = None
        self._head_raw: Any = None

    @property
    def ledger(self) -> Ledger:
        """The write side, shared (opened once, on first need; it refuses a missing or
        other schema)."""
        with self.queries.writing:
            if self._ledger is None:
                from ledger.application import Ledger

                self._ledger = Ledger(self.url, create=False)
        return self._ledger

    def catch_up(self) -> None:
        """What the read side calls when a question finds the read models behind."""
        from projections.catchup import catch_up

        catch_up(self.ledger)

    def head(self) -> int:
        """The log's last position on SQLite: one indexed read, made before answers are
        reused (PostgreSQL's is `web.heads`, see `head_reader`).

        Asked on every request, so it skips SQLAlchemy's connection and transaction
        machinery (about a millisecond a time): one connection of its own, outside the
        pool, where each SELECT (no transaction open) sees the latest commit.
        """
        with self._head_lock:
            for attempt in (1, 2):
                try:
                    if self._head_connection is None:
                        raw = self.queries.engine.raw_connection()
                        connection = raw.driver_connection
                        raw.detach()  # its own: never handed to a query, never counted
                        self._head_raw = raw
                        self._head_connection = connection
                    cursor = self._head_connection.cursor()
                    try:
                        cursor.execute(HEAD_QUERY)
                        row = cursor.fetchone()
                    finally:
                        cursor.close()
                    return int(row[0] or 0) if row else 0
                except Exception:
                    self._head_connection = None  # a server restart, a dropped link: reopen
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def head_reader(self) -> Callable[[], int | Awaitable[int]]:
        """How the server reads the head before reusing an answer: inline on SQLite (a
        read in the process is cheaper than any hand-over), shared and asynchronous on
        PostgreSQL (a round trip: `web.heads`)."""
        if self.queries.engine.dialect.name != "postgresql":
            return self.head
        from web.heads import PostgresHead, SharedHeadReads, conninfo_of

        return SharedHeadReads(PostgresHead(conninfo_of(self.queries.engine.url), HEAD_QUERY))

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
