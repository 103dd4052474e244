"""`ledger format [KIND]`: the format's reference, shipped with the package, from the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cli as cli_module
from ledger.records import field_names
from ledger.vocabulary import KINDS, STANCES


def run(*args: str) -> object:
    return CliRunner().invoke(cli_module.main, ["format", *args])


def test_the_reference_names_every_kind_and_touches_no_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run()
    assert result.exit_code == 0, result.output
    for kind in KINDS:
        assert f"### `{kind}`" in result.stdout
    assert "## Dates" in result.stdout and "[..2025-08-13]" in result.stdout
    assert list(tmp_path.iterdir()) == []  # no ledger.db made by reading the reference


def test_one_kind_shows_its_fields_values_and_an_example() -> None:
    result = run("statement")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# `statement` (occurrence)")
    for name in field_names("statement"):
        assert f"`{name}`" in result.stdout
    assert "one of " + ", ".join(STANCES) in " ".join(result.stdout.split())
    assert "```yaml\n- kind: statement" in result.stdout


def test_a_kind_in_any_case_is_found() -> None:
    assert run("Entry_Into_Force").stdout.startswith("# `entry_into_force`")


def test_an_unknown_kind_exits_1_naming_the_closest() -> None:
    result = run("sigining")
    assert result.exit_code == 1
    assert "unknown kind 'sigining'" in result.stderr and "signing" in result.stderr
    assert "Traceback" not in result.output
