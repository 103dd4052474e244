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
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_ANSWER = 4 * 1024 * 1024
#: Not kept: static files (the file server handles them), and what changed "until now",
#: whose answer names the moment it was asked.
UNKEPT = ("/static/", "/api/changes")
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    head: int
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes


class Answers:
    """ASGI middleware keeping GET answers keyed by the question and the log's head."""

    def __init__(
        self, app: ASGIApp, head: Callable[[], int], entries: int = 1024, prefix: str = "/"
    ) -> None:
        self.app = app
        self.head = head
        self.entries = entries
        self.prefix = prefix
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
        today = datetime.now(UTC).date()
        key = (scope["path"], scope["query_string"], today)
        head = self.head()  # tens of microseconds: cheaper inline than a thread hop
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

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answer = self._keepable(key, head, started, b"".join(chunks))
                    if known is not None:
                        known(answer)
            await send(message)

        await self.app(scope, receive, capture)

    def _keepable(
        self, key: tuple[Any, ...], head: int, started: dict[str, Any], body: bytes
    ) -> Answer | None:
        """The answer, kept, if it may be given again; else None."""
        if started.get("status") != 200 or len(body) > MAX_ANSWER:
            return None
        if self.head() != head:
            return None  # an import landed meanwhile: this answer may be of either log
        headers = [(k, v) for k, v in started.get("headers", []) if k.lower() != b"etag"]
        etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
        answer = Answer(head, 200, headers, body, etag)
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
        asked = dict(scope.get("headers") or []).get(b"if-none-match")
        if asked is not None and answer.etag in [t.strip() for t in asked.split(b",")]:
            headers = [(k, v) for k, v in answer.headers if k.lower() != b"content-length"]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*answer.headers, (b"etag", answer.etag)]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
