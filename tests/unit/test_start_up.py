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
