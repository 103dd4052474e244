"""Running the application: uvicorn on the loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
from pathlib import Path


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    url: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    tokens: Path | None = None,
    cache_entries: int = 1024,
    log_level: str = "info",
) -> None:
    """Serve the ledger at `url` until interrupted (Ctrl-C stops it cleanly)."""
    import uvicorn

    from web.app import create_app

    app = create_app(url, tokens=tokens, cache_entries=cache_entries)
    app.state.service.ledger  # noqa: B018 - open (or refuse) the ledger before the first request
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
