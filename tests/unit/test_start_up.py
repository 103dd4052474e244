"""Commands load their modules with the garbage collector paused, and always resume it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

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


def test_a_server_freezes_what_it_holds_once_built_and_collects_its_garbage_first() -> None:
    from web.server import settled

    class Cycle:
        me: object

    garbage = Cycle()
    garbage.me = garbage
    gone = weakref.ref(garbage)
    del garbage
    held = [Cycle()]
    app = object()
    try:
        assert settled(app) is app  # type: ignore[arg-type]
        assert gone() is None  # collected, not frozen
        assert gc.get_freeze_count() > 0
        assert not any(o is held for o in gc.get_objects())  # out of the collector's sight
    finally:
        gc.unfreeze()


def test_each_server_process_settles_its_application_once_built(tmp_path: Path) -> None:
    code = (
        "import gc\n"
        "from web.server import from_environment\n"
        "before = gc.get_freeze_count()\n"
        "from_environment()\n"
        "print(gc.get_freeze_count() > before + 10_000)\n"
    )
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = str(Path(sys.executable).with_name("ledger"))
    subprocess.run([ledger, "--db", url, "init"], capture_output=True, check=True)
    env = {**os.environ, "LEDGER_SERVE_DB": url}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True"
