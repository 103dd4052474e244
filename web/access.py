"""The access log: a line per request on standard output, written a batch at a time.

uvicorn's own access log goes through `logging` and flushes the stream on every line:
about 60 µs a request on this project's benchmark machine, more than giving a kept
answer costs (issue 14). This log writes the same lines (uvicorn's plain format, so
``ledger serve``'s output reads as before) into a list, and writes the list out once per
turn of the event loop: the requests answered in one turn cost one write between them,
and each line is out before the server waits for anything more (it is never held back
by a quiet server).
"""

from __future__ import annotations

import asyncio
import http
import sys
from typing import TextIO
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PHRASES = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}


class AccessLog:
    """ASGI middleware: ``INFO:     CLIENT - "METHOD PATH HTTP/V" STATUS PHRASE`` per
    request, as uvicorn prints it, once the response has begun."""

    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self.stream = stream
        self._lines: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.line(scope, message["status"])
            await send(message)

        await self.app(scope, receive, logged)

    def line(self, scope: Scope, status: int) -> None:
        client = scope.get("client")
        address = f"{client[0]}:{client[1]}" if client else ""
        path = quote(scope["path"])
        if scope["query_string"]:
            path = f"{path}?{scope['query_string'].decode('ascii')}"
        if not self._lines:
            asyncio.get_running_loop().call_soon(self.flush)
        self._lines.append(
            f"INFO:     {address} - "
            f'"{scope["method"]} {path} HTTP/{scope["http_version"]}" '
            f"{PHRASES.get(status, f'{status} ')}\n"
        )

    def flush(self) -> None:
        """Write out the lines of this turn of the event loop."""
        lines, self._lines = self._lines, []
        stream = self.stream or sys.stdout
        try:
            stream.write("".join(lines))
            stream.flush()
        except (OSError, ValueError):  # stdout closed or gone: the requests still count
            pass
