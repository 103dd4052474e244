"""Compressed answers for clients that take them, as RFC 9110 says they take them.

Starlette's `GZipMiddleware` compresses when "gzip" appears anywhere in Accept-Encoding,
so a client saying ``gzip;q=0`` ("anything but gzip") would get gzip. `Compression`
reads the header by the RFC's rules (an encoding is acceptable when named, or covered
by ``*``, with a weight above zero) and lets the middleware compress only then.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Receive, Scope, Send


def accepted_encodings(scope: Scope) -> bytes:
    """The request's Accept-Encoding, as sent (empty if none): what `Compression` reads,
    and what `web.answers` keeps an answer by."""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return bytes(value)
    return b""


def takes_gzip(accept_encoding: bytes) -> bool:
    """Whether a client sending this Accept-Encoding accepts a gzip-coded answer."""
    weights: dict[bytes, float] = {}
    for item in accept_encoding.lower().split(b","):
        name, *parameters = (part.strip() for part in item.split(b";"))
        weight = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition(b"=")
            if key.strip() == b"q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0  # an unreadable weight grants nothing
        if name:
            weights[name] = weight
    for name in (b"gzip", b"x-gzip", b"*"):
        if name in weights:
            return weights[name] > 0
    return False


class Compression(GZipMiddleware):
    """`GZipMiddleware`, asked to compress only for a client that takes gzip."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            said = accepted_encodings(scope)
            if said and not takes_gzip(said):
                headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
                scope = {**scope, "headers": headers}
        await super().__call__(scope, receive, send)
