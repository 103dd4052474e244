"""The garbage collector around bulk work (`ledger.collector.frozen_out`)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from ledger.collector import frozen_out


@pytest.fixture
def thawed() -> Iterator[None]:
    """Nothing frozen during the test, and the process's own freeze put back after it."""
    before = gc.get_freeze_count()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.freeze() if before else None
        gc.enable()


class _Node:
    other: object


def _cycles(count: int) -> list[weakref.ref[_Node]]:
    """Garbage that only the collector frees (each node refers to itself)."""
    refs = []
    for _ in range(count):
        node = _Node()
        node.other = node
        refs.append(weakref.ref(node))
    return refs


def test_what_lives_before_is_frozen_for_the_block_then_thawed(thawed: None) -> None:
    with frozen_out():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_freeze_made_before_is_kept_and_nothing_of_the_block_is_frozen_for_good(
    thawed: None,
) -> None:
    """A process that froze its start-up (a server, the command line) keeps its freeze; the
    block's cyclic garbage stays collectable (it was frozen for good, and leaked)."""
    gc.freeze()
    start = gc.get_freeze_count()
    with frozen_out(disabled=True):
        refs = _cycles(5000)
        assert all(ref() is not None for ref in refs)  # no pass meanwhile
    assert gc.get_freeze_count() == start
    gc.collect()
    assert all(ref() is None for ref in refs)
    gc.unfreeze()


def test_disabled_turns_automatic_passes_off_for_the_block_only(thawed: None) -> None:
    with frozen_out(disabled=True):
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with frozen_out(disabled=True):
        pass
    assert not gc.isenabled()  # as it was
