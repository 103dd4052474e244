"""`ledger serve`: the ledger on the web, a sibling of cli.py over the same Python API.

`create_app` builds the ASGI application: the JSON API under /api (its OpenAPI
description at /openapi.json), the pages and their static stylesheet. Refusals are
the ledger's own errors with the CLI's messages (`web.errors`), as JSON under /api and
as a page elsewhere; every response carries the security headers (`web.security`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.errors import LedgerError
from web import api, pages
from web.answers import Answers
from web.compression import Compression
from web.errors import body_of, status_of
from web.security import SecurityHeaders
from web.service import Service

STATIC = Path(__file__).resolve().parent / "static"


class LedgerApp(FastAPI):
    """FastAPI with the security headers outermost, so even its own 500 page has them,
    and the kept answers before all of it: an answer given again, headers and all, costs
    none of FastAPI's middleware (its error pages, exception handlers, telemetry)."""

    kept: Answers | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.kept is not None:
            await self.kept(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def afresh(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The answer worked out by the application: what the kept answers ask for."""
        await super().__call__(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(url: str, *, tokens: Path | None = None, cache_entries: int = 1024) -> FastAPI:
    """The application for the ledger at `url`; writes only when `tokens` is given."""
    service = Service(url, tokens=tokens)
    app = LedgerApp(
        title="Diplomacy ledger",
        summary="The ledger's answers, the same as `ledger … --json`.",
        version="1",
        docs_url=None,  # the interactive docs load scripts from a CDN the policy refuses
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.service = service
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Answers run to hundreds of kilobytes of JSON (an agreement's timeline), which
    # compress about tenfold: less to send is what most shortens a reader's wait on a
    # real network, and on the loopback too. Nothing secret is ever in an answer for a
    # compressed size to leak (BREACH): tokens travel in, never back out. Level 6, not
    # the middleware's 9: most of the gain at a third of the CPU, paid once per kept
    # answer but on every request of a server started with `--cache-entries 0`.
    app.add_middleware(Compression, minimum_size=1024, compresslevel=6)

    @app.exception_handler(LedgerError)
    async def refused(request: Request, error: LedgerError) -> Response:
        status = status_of(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 503:
            headers = {"Retry-After": "1"}
        if _wants_json(request):
            return JSONResponse(body_of(error), status_code=status, headers=headers)
        return pages.error_page(request, status, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        name = str((first.get("loc") or ("", "?"))[-1])
        message = f"{name}: {first.get('msg', 'invalid value')}"
        if _wants_json(request):
            body = {"error": message, "status": 422, "parameter": name}
            return JSONResponse(body, status_code=422)
        return pages.error_page(request, 422, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        message = str(error.detail)
        if error.status_code == 404:
            message = f"nothing at {request.url.path}"
        if _wants_json(request):
            body = {"error": message, "status": error.status_code}
            return JSONResponse(body, status_code=error.status_code, headers=error.headers)
        return pages.error_page(request, error.status_code, message)

    if cache_entries > 0:
        app.kept = Answers(app.afresh, head=service.head_reader(), entries=cache_entries)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/openapi"))
