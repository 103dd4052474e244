"""Answers given again, unchanged, until the log grows.

Every read model is a function of the log alone, so the answer to one question (path,
parameters, and today's date, the default `as_of`) is the same for as long as the log
holds the same events. A GET answer is kept with the log position it was computed at,
and reused only while the log's head is still there: one indexed read per request
instead of the query. An answer is kept only when the head did not move while it was
computed, so a cached answer is never one that raced an import. The cache is bounded in
entries and bytes (least recently used out first), so memory stays flat however many
requests come.

Right after an import every kept answer is stale, and many clients asking the same
question at once would each run the same query (32 clients: 32 copies of a 100 ms query
contending for one interpreter). Instead the first computes it and the others wait for
its answer: it is of the log at the same head each of them read after arriving, so it
is as live as their own would have been. If it cannot be kept (an error, too large, the
log grew meanwhile) each computes its own, as before.

A kept answer costs only what giving it again must: it is checked before anything else
the application does (`LedgerApp` calls this first, outside FastAPI's own middleware), and
it is kept whole, as the two ASGI messages that send it: the headers the application gave
it (the security headers among them), its ETag, the 304 for a client that already holds
it. Giving it again allocates nothing but the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.compression import accepted_encodings

MAX_ANSWER = 4 * 1024 * 1024
#: Not kept: static files (the file server handles them), and what changed "until now",
#: whose answer names the moment it was asked.
UNKEPT = ("/static/", "/api/changes")
MAX_BYTES = 64 * 1024 * 1024
DAY = 86_400
#: The end of every 304: nothing.
EMPTY: Message = {"type": "http.response.body", "body": b""}


@dataclass(frozen=True)
class Answer:
    """An answer as sent, ready to send again: its messages are built once, when kept,
    and handed to the server as they are (uvicorn reads them, never changes them)."""

    head: int
    body: bytes
    etag: bytes
    #: ``http.response.start`` with every header, the ETag among them.
    start: Message
    #: ``http.response.body``, whole.
    whole: Message
    #: ``http.response.start`` of the 304 for a client that holds this answer already.
    not_modified: Message

    @classmethod
    def of(cls, head: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        """The answer of status 200 with `headers` (any ETag replaced by its own) and
        `body`."""
        etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
        kept = [(k, v) for k, v in headers if k.lower() != b"etag"]
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*kept, (b"etag", etag)],
        }
        unchanged = [(k, v) for k, v in kept if k.lower() != b"content-length"]
        return cls(
            head,
            body,
            etag,
            start,
            {"type": "http.response.body", "body": body},
            {
                "type": "http.response.start",
                "status": 304,
                "headers": [*unchanged, (b"etag", etag)],
            },
        )

    def held_by(self, scope: Scope) -> bool:
        """Whether the client says it holds this answer already (If-None-Match)."""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                return self.etag in [t.strip() for t in value.split(b",")]
        return False


class Answers:
    """ASGI middleware keeping GET answers keyed by the question and the log's head."""

    def __init__(
        self, app: ASGIApp, head: Callable[[], int | Awaitable[int]], entries: int = 1024
    ) -> None:
        self.app = app
        self.head = head
        self.entries = entries
        self._kept: OrderedDict[tuple[Any, ...], Answer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        #: Answers being computed, by question and head: who asks meanwhile waits for it.
        self._computing: dict[tuple[Any, ...], asyncio.Future[Answer | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.entries <= 0
            or scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"].startswith(UNKEPT)
        ):
            await self.app(scope, receive, send)
            return
        # Today (UTC, as `When` takes it), as a day number: the default `as_of`; and the
        # encodings the client takes, as it said them: the application compresses for
        # those that take gzip (`web.compression`), so an answer is kept per way of asking.
        key = (
            scope["path"],
            scope["query_string"],
            int(time.time()) // DAY,
            accepted_encodings(scope),
        )
        try:
            head = await self._head_now()
        except Exception:
            # The database is unreachable, locked, gone: nothing may be given again, and
            # the application answers (its error pages say what is wrong, as the CLI
            # would, with the security headers) rather than the server's bare 500.
            await self.app(scope, receive, send)
            return
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept.head == head:
                self._kept.move_to_end(key)
            else:
                kept = None
        if kept is not None:
            await self._replay(kept, scope, send)
            return
        computing = self._computing.get((key, head))
        if computing is not None:
            kept = await asyncio.shield(computing)
            if kept is not None:
                await self._replay(kept, scope, send)
                return
            await self._compute(key, head, scope, receive, send)
            return
        computing = asyncio.get_running_loop().create_future()
        self._computing[(key, head)] = computing

        def known(answer: Answer | None) -> None:
            if self._computing.get((key, head)) is computing:
                del self._computing[(key, head)]
            if not computing.done():
                computing.set_result(answer)

        try:
            await self._compute(key, head, scope, receive, send, known)
        finally:
            known(None)  # failed or cancelled before its answer was whole

    async def _compute(
        self,
        key: tuple[Any, ...],
        head: int,
        scope: Scope,
        receive: Receive,
        send: Send,
        known: Callable[[Answer | None], None] | None = None,
    ) -> None:
        """Ask the application, sending its answer on; keep it if it may be given again.

        Whoever waits is told (`known`) as soon as the answer is whole, before its last
        part is sent: a slow client of the first asker holds up no one else."""
        started: dict[str, Any] = {}
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                # Past MAX_ANSWER nothing is gathered: a streamed answer (a whole-ledger
                # audit) passes through without being held here.
                size += len(message.get("body", b""))
                if size <= MAX_ANSWER:
                    chunks.append(message.get("body", b""))
                else:
                    chunks.clear()
                if not message.get("more_body", False):
                    whole = size <= MAX_ANSWER
                    answer = (
                        await self._keepable(key, head, started, b"".join(chunks))
                        if whole
                        else None
                    )
                    if known is not None:
                        known(answer)
            await send(message)

        await self.app(scope, receive, capture)

    async def _head_now(self) -> int:
        """The log's head as read after now: a plain call on SQLite (tens of microseconds,
        cheaper inline than any hand-over), awaited where it is a round trip
        (PostgreSQL: `web.heads`)."""
        head = self.head()
        return head if isinstance(head, int) else await head

    async def _keepable(
        self, key: tuple[Any, ...], head: int, started: dict[str, Any], body: bytes
    ) -> Answer | None:
        """The answer, kept, if it may be given again; else None."""
        if started.get("status") != 200 or len(body) > MAX_ANSWER:
            return None
        try:
            if await self._head_now() != head:
                return None  # an import landed meanwhile: this answer may be of either log
        except Exception:
            return None  # no telling whether it did: the answer is sent, not kept
        answer = Answer.of(head, list(started.get("headers", [])), body)
        self._keep(key, answer)
        return answer

    def _keep(self, key: tuple[Any, ...], answer: Answer) -> None:
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._kept[key] = answer
            self._bytes += len(answer.body)
            while len(self._kept) > self.entries or self._bytes > MAX_BYTES:
                _key, dropped = self._kept.popitem(last=False)
                self._bytes -= len(dropped.body)

    @staticmethod
    async def _replay(answer: Answer, scope: Scope, send: Send) -> None:
        if answer.held_by(scope):
            await send(answer.not_modified)
            await send(EMPTY)
            return
        await send(answer.start)
        await send(answer.whole)
