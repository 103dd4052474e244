"""The canonical bytes are exactly the documented JSON, whatever a row holds.

`canonical_bytes` writes the object key by key for speed; anyone re-deriving a leaf
uses the README's `json.dumps` line instead, so the two must agree on every input:
non-ASCII text, bytes that are not UTF-8, quotes, control characters.
"""

from __future__ import annotations

import json
import uuid

from hypothesis import given
from hypothesis import strategies as st

from ledger.store import canonical_bytes


def documented(
    position: int, recorded_at: str, stream: uuid.UUID, version: int, topic: str, state: bytes
) -> bytes:
    return json.dumps(
        {
            "position": position,
            "recorded_at": recorded_at,
            "state": state.decode("utf-8", "surrogateescape"),
            "stream": str(stream),
            "topic": topic,
            "version": version,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")


@given(
    position=st.integers(min_value=1, max_value=2**63 - 1),
    recorded_at=st.text(),
    stream=st.uuids(),
    version=st.integers(min_value=1, max_value=2**63 - 1),
    topic=st.text(),
    state=st.binary() | st.text().map(lambda t: t.encode("utf-8", "surrogatepass")),
)
def test_canonical_bytes_are_the_documented_json(
    position: int, recorded_at: str, stream: uuid.UUID, version: int, topic: str, state: bytes
) -> None:
    args = (position, recorded_at, stream, version, topic, state)
    assert canonical_bytes(*args) == documented(*args)
