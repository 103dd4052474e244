"""The log's head on PostgreSQL, read without stalling the server and shared by requests.

A kept answer may be given only if the log's head is where it was when the answer was
computed, so every request reads the head. On SQLite that read is a few tens of
microseconds in the process itself and is made inline. On PostgreSQL it is a round trip
to the server: made inline, it stalls the event loop for every request in turn, and
under 32 clients the requests queue behind each other's round trips.

Here the read is asynchronous (psycopg's own async connection, on the server's event
loop) and shared: a request takes the first read that *starts after it arrived*, so its
answer is still as live as one of its own read would be (an import that committed before
the request came is seen), while all the requests that arrive during one read share the
next. At most one read is in flight, and one queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

HeadRead = Callable[[], Awaitable[int]]


class SharedHeadReads:
    """Hands each caller the result of a read that began after it asked."""

    def __init__(self, read: HeadRead) -> None:
        self._read = read
        self._running: asyncio.Future[int] | None = None
        #: The next read, not started yet: whoever asks now will be given its result.
        self._queued: asyncio.Future[int] | None = None
        #: Held so the loop's weak reference is not the read's only one.
        self._task: asyncio.Task[None] | None = None
        #: Whether the running read has sent its query (before that, it can be joined).
        self._asked = False

    async def __call__(self) -> int:
        if self._running is not None and not self._asked:
            # Started but its query not yet sent (the task has not run): it begins after
            # this request arrived, so it is this request's read too.
            return await asyncio.shield(self._running)
        if self._queued is None:
            self._queued = asyncio.get_running_loop().create_future()
            if self._running is None:
                self._start()
        queued = self._queued if self._queued is not None else self._running
        assert queued is not None
        # Shielded: a client that goes away does not cancel a read others wait for.
        return await asyncio.shield(queued)

    def _start(self) -> None:
        future, self._queued = self._queued, None
        assert future is not None
        self._running = future
        self._asked = False
        self._task = asyncio.ensure_future(self._read_into(future))

    async def _read_into(self, future: asyncio.Future[int]) -> None:
        self._asked = True
        try:
            future.set_result(await self._read())
        except BaseException as error:  # every waiter sees the failure, as its own read would
            future.set_exception(error)
            future.exception()  # retrieved here too: no "never retrieved" warning if none waits
        finally:
            self._running = None
            if self._queued is not None:
                self._start()


class PostgresHead:
    """One autocommit connection of its own (each SELECT sees the latest commit), opened
    on first use in the server's loop and opened again after a dropped link."""

    def __init__(self, conninfo: str, query: str) -> None:
        self._conninfo = conninfo
        self._query = query
        self._connection: Any = None

    async def __call__(self) -> int:
        import psycopg

        for attempt in (1, 2):
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True
                    )
                cursor = await self._connection.execute(self._query)
                row = await cursor.fetchone()
                return int(row[0] or 0) if row else 0
            except psycopg.OperationalError:
                self._connection = None  # a server restart, a dropped link: reopen
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def conninfo_of(url: Any) -> str:
    """The libpq connection string of a SQLAlchemy URL (`postgresql+psycopg://…`)."""
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))
