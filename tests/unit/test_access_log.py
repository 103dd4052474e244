"""The access log of `ledger serve` (`web.access`): uvicorn's lines, a write per loop turn.

Issue 14: uvicorn's own access log flushed a `logging` record per request and cost more
than a kept answer. These lines must read as uvicorn's did, and still be out promptly.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from web.access import AccessLog


class Stream(io.StringIO):
    """Standard output, counting the writes that reach it."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


async def answer(scope: Any, receive: Any, send: Any) -> None:
    status = 404 if scope["path"] == "/missing" else 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def request(path: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "http_version": "1.1",
        "client": ("127.0.0.1", 40000),
        "headers": [],
    }


async def ask(log: AccessLog, scope: dict[str, Any]) -> None:
    async def send(message: Any) -> None:
        pass

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    await log(scope, receive, send)


def test_each_request_is_a_line_in_uvicorns_format() -> None:
    async def scenario() -> str:
        stream = Stream()
        log = AccessLog(answer, stream)
        await ask(log, request("/api/timeline", b"agreement=x&as_of=2025-08-10"))
        await ask(log, request("/missing"))
        await ask(log, request("/api/actors/caf\u00e9"))
        await asyncio.sleep(0)
        return stream.getvalue()

    assert asyncio.run(scenario()).splitlines() == [
        'INFO:     127.0.0.1:40000 - "GET /api/timeline?agreement=x&as_of=2025-08-10 HTTP/1.1"'
        " 200 OK",
        'INFO:     127.0.0.1:40000 - "GET /missing HTTP/1.1" 404 Not Found',
        'INFO:     127.0.0.1:40000 - "GET /api/actors/caf%C3%A9 HTTP/1.1" 200 OK',
    ]


def test_requests_answered_in_one_turn_of_the_loop_cost_one_write_and_are_out_after_it() -> None:
    async def scenario() -> None:
        stream = Stream()
        log = AccessLog(answer, stream)
        # five requests answered in the same turn (gather resumes in a later one)
        await asyncio.gather(*(ask(log, request(f"/api/{n}")) for n in range(5)))
        assert stream.writes == 1
        assert len(stream.getvalue().splitlines()) == 5
        await ask(log, request("/api/later"))
        assert stream.writes == 1  # not yet: the loop has not turned
        await asyncio.sleep(0)
        assert stream.writes == 2
        assert stream.getvalue().splitlines()[-1].endswith('"GET /api/later HTTP/1.1" 200 OK')

    asyncio.run(scenario())


def test_lifespan_and_other_scopes_pass_through_unlogged() -> None:
    async def scenario() -> str:
        stream = Stream()
        seen: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["type"])

        await AccessLog(app, stream)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
        await asyncio.sleep(0)
        assert seen == ["lifespan"]
        return stream.getvalue()

    assert asyncio.run(scenario()) == ""
