"""Commands load their modules with the garbage collector paused, and always resume it."""

from __future__ import annotations

import gc

import pytest

from cli import starting_up


def test_collection_is_paused_while_a_command_starts_up_and_runs_again_after() -> None:
    with starting_up():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_runs_again_when_start_up_fails() -> None:
    with pytest.raises(ImportError), starting_up():
        raise ImportError("no driver")
    assert gc.isenabled()


def test_a_start_up_inside_another_leaves_collection_paused_until_the_outer_one_ends() -> None:
    with starting_up():
        with starting_up():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_start_up_under_a_caller_that_paused_collection_leaves_it_paused() -> None:
    gc.disable()
    try:
        with starting_up():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_only_the_ledger_program_freezes_what_start_up_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cli

    with starting_up():
        pass
    assert gc.get_freeze_count() == 0  # a process running many commands keeps collecting all
    monkeypatch.setattr(cli, "one_command", True)
    try:
        with starting_up():
            pass
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_command_line_loads_its_imports_and_commands_with_collection_paused() -> None:
    """Loading click and every command's options is start-up work too: the collector is
    paused from `cli`'s first import to its last line (in a fresh process, as the
    `ledger` program loads it), then runs again, or stays paused for a caller that had
    paused it. Seen from an import hook: whether it collects as `cli` asks for click."""
    import subprocess
    import sys
    from pathlib import Path

    program = (
        "import gc, sys\n"
        "if sys.argv[1] == 'paused': gc.disable()\n"
        "seen = []\n"
        "class Watch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'click': seen.append(gc.isenabled())\n"
        "sys.meta_path.insert(0, Watch())\n"
        "import cli\n"
        "print(seen, gc.isenabled())\n"
    )
    repo = Path(__file__).resolve().parents[2]
    for caller, expected in (("running", "[False] True"), ("paused", "[False] False")):
        done = subprocess.run(
            [sys.executable, "-c", program, caller],
            capture_output=True,
            text=True,
            cwd=repo,
            check=True,
        )
        assert done.stdout.strip() == expected
