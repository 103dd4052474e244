"""Which clients get gzip (`web.compression`): those whose Accept-Encoding grants it."""

from __future__ import annotations

import pytest

from web.compression import takes_gzip


@pytest.mark.parametrize(
    "said",
    [
        b"gzip",
        b"gzip, deflate",
        b"deflate, gzip;q=0.5",
        b"GZIP",
        b"x-gzip",
        b"*",
        b"br;q=1, *;q=0.1",
    ],
)
def test_a_client_naming_gzip_or_anything_with_a_weight_above_zero_takes_it(said: bytes) -> None:
    assert takes_gzip(said)


@pytest.mark.parametrize(
    "said",
    [
        b"",
        b"identity",
        b"br, zstd",
        b"gzip;q=0",
        b"gzip; q=0.0, deflate",
        b"*;q=0",
        b"gzip;q=x",
        b"gzipped",
        b"*, gzip;q=0",
    ],
)
def test_a_client_not_naming_gzip_or_refusing_it_gets_the_plain_answer(said: bytes) -> None:
    assert not takes_gzip(said)
