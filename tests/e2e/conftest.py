"""End-to-end fixtures: the `ledger` command on both engines.

`cli` runs against the test's own fresh database (`db_url`). Tests that only read may
share one ledger per module and engine (`shared_url`), which saves building the same
ledger dozens of times; `another_db_url` is a second fresh database for round trips. The
databases themselves come from tests/conftest.py, the one home of both engines.
"""

from __future__ import annotations

from typing import Any

import pytest
from cli_support import EXAMPLE, Cli, invoke
from click.testing import Result


@pytest.fixture
def cli(db_url: str) -> Cli:
    """`cli("agreement", "x", "--json")` runs the command against this test's database."""

    def run(*args: Any, **kwargs: Any) -> Result:
        return invoke(db_url, args, **kwargs)

    return run


@pytest.fixture(scope="module")
def example(shared_url: str) -> Cli:
    """The example, imported once per engine for modules whose tests only read; a module
    whose tests write overrides it with a per-test ledger of its own."""
    invoke(shared_url, ["import", EXAMPLE])

    def run(*args: Any, **kwargs: Any) -> Result:
        return invoke(shared_url, args, **kwargs)

    return run
