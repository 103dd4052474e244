"""The garbage collector kept out of bulk work's way, and put back as it was.

An import or a replay builds millions of short-lived, acyclic objects; the collector's
passes over them (and over everything the process held before, rescanned on every full
pass) cost a sixth of the work. What the process holds when bulk work starts is frozen
out of the collector's sight (`gc.freeze`) for the work's length, then thawed.

Only when nothing is frozen yet: a process that froze its own start-up (the command line,
a server) keeps that freeze, and the bulk work then freezes nothing of its own. Freezing
again there would move everything young into the permanent generation for good, cyclic
garbage included, which no collection would ever free: a long-lived process (a test
session, a server that imports) grew by every import's leftovers.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen_out"]


@contextmanager
def frozen_out(*, disabled: bool = False) -> Iterator[None]:
    """What is alive now frozen out of the collector's passes until the block ends (unless
    something froze already); with `disabled`, no automatic pass at all meanwhile (the
    caller collects young garbage itself, `gc.collect(0)`, where it suits)."""
    froze = gc.get_freeze_count() == 0
    collecting = gc.isenabled()
    if froze:
        gc.freeze()
    if disabled:
        gc.disable()
    try:
        yield
    finally:
        if froze:
            gc.unfreeze()
        if disabled and collecting:
            gc.enable()
