"""Headers every response carries: a strict Content-Security-Policy and its companions.

Pages load only the server's own stylesheet: no script at all (the date controls are
plain GET forms), nothing inline, nothing from elsewhere. Record text is escaped by the
templates, and even a string that slipped through could not run. The audit report is
the one standalone HTML file the CLI also writes, with its styles inline: its response
allows exactly those styles by their SHA-256 (`policy_for_inline_styles`), not inline
styles in general.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; connect-src 'self'"
)
HEADERS = (
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def policy_for_inline_styles(html: str) -> str:
    """The policy, with the exact <style> elements of this page allowed by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode() + "'"
        for css in _STYLE.findall(html)
    )
    return POLICY.replace("style-src 'self'", f"style-src 'self' {hashes}".rstrip())


class SecurityHeaders:
    """ASGI middleware: adds the headers a response has not set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
