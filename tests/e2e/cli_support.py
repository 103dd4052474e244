"""Helpers for the end-to-end tests: run the `ledger` command through click's CliRunner.

Results keep stdout and stderr apart, so a test can check that `--json` output is JSON
and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "ledger" / "examples" / "iraq-iran-2025.yaml"
README = REPO / "README.md"
DATA = Path(__file__).resolve().parent / "data"
MULTILATERAL = DATA / "multilateral-treaty.yaml"

Cli = Callable[..., Result]


def invoke(
    url: str,
    args: Sequence[str],
    *,
    input: str | None = None,
    env: Mapping[str, str | None] | None = None,
    expect: int | None = 0,
) -> Result:
    """Run `ledger --db URL ARGS`; by default insist it succeeded, showing why if not."""
    import cli

    runner = CliRunner()
    result = runner.invoke(
        cli.main, ["--db", url, *[str(a) for a in args]], input=input, env=dict(env or {})
    )
    if expect is not None:
        assert result.exit_code == expect, (
            f"ledger {' '.join(map(str, args))} exited {result.exit_code}, expected {expect}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
        )
    return result


def json_of(result: Result) -> Any:
    """The command's stdout, which must be JSON and nothing else."""
    return json.loads(result.stdout)


def ask(cli: Cli, *args: str) -> Any:
    """The parsed `--json` answer of one command."""
    return json_of(cli(*args, "--json"))
