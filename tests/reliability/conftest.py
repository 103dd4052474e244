"""Fixtures of the reliability suite: each test runs once per engine (tests/conftest.py's
`engine_name`), on databases of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import Databases


@pytest.fixture
def databases(engine_name: str, tmp_path: Path) -> Iterator[Databases]:
    """Creates, clones and drops the ledger databases of one test on its engine."""
    from ledger.database import dispose_engines

    dbs = Databases(engine_name, tmp_path, [])
    yield dbs
    dispose_engines()
    dbs.drop_all()
