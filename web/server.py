"""Running the application: uvicorn on the loopback unless told otherwise.

With ``workers`` above 1, uvicorn starts that many processes, each building the
application from the environment (`from_environment`): each has its own engine, write
side and kept answers, and the database serialises their catch-ups and writes as it
does for any processes (a CLI import beside a server, two servers).

Requests are logged by `web.access` rather than by uvicorn (which would cost more than
a kept answer), in uvicorn's format, at the levels uvicorn would log them.

Each server process, once its application is built, moves every object it has out of
the garbage collector's sight (`settled`).
"""

from __future__ import annotations

import gc
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp

ENV_URL, ENV_TOKENS, ENV_CACHE = "LEDGER_SERVE_DB", "LEDGER_SERVE_TOKENS", "LEDGER_SERVE_CACHE"
ENV_ACCESS = "LEDGER_SERVE_ACCESS_LOG"
#: uvicorn's levels at which it logs each request.
LOGGED = ("trace", "debug", "info")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def from_environment() -> ASGIApp:
    """The application each worker process builds (uvicorn's factory)."""
    from web.app import create_app

    tokens = os.environ.get(ENV_TOKENS)
    app = create_app(
        os.environ[ENV_URL],
        tokens=Path(tokens) if tokens else None,
        cache_entries=int(os.environ.get(ENV_CACHE, "1024")),
    )
    return settled(logged(app, os.environ.get(ENV_ACCESS) == "1"))


def settled(app: ASGIApp) -> ASGIApp:
    """The application, with everything the process holds so far frozen (`gc.freeze`).

    A server under load keeps promoting objects of requests in flight to the oldest
    generation, and each time enough have been, the collector walks all of it: some
    130,000 objects of the application, SQLAlchemy and the driver, every few seconds,
    each pass a pause of tens of milliseconds in which no request is answered (the p99
    of `benchmarks/serve.py` on PostgreSQL). Frozen, they are never walked again, and a
    full pass covers only what was made since. They live as long as the process anyway;
    what is garbage now is collected first, so nothing is kept that would have been freed.
    """
    gc.collect()
    gc.freeze()
    return app


def logged(app: ASGIApp, access_log: bool) -> ASGIApp:
    """The application, with the access log outermost when there is one."""
    from web.access import AccessLog

    return AccessLog(app) if access_log else app


def serve(
    url: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    tokens: Path | None = None,
    cache_entries: int = 1024,
    workers: int = 1,
    log_level: str = "info",
) -> None:
    """Serve the ledger at `url` until interrupted (Ctrl-C stops it cleanly)."""
    import uvicorn

    from web.app import create_app

    app = create_app(url, tokens=tokens, cache_entries=cache_entries)
    app.state.service.ledger  # noqa: B018 - open (or refuse) the ledger before the first request
    access_log = log_level in LOGGED
    if workers <= 1:
        uvicorn.run(
            settled(logged(app, access_log)),
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            server_header=False,
        )
        return
    os.environ[ENV_URL] = url
    os.environ[ENV_CACHE] = str(cache_entries)
    os.environ[ENV_ACCESS] = "1" if access_log else "0"
    if tokens is not None:
        os.environ[ENV_TOKENS] = str(tokens)
    uvicorn.run(
        "web.server:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        server_header=False,
    )
