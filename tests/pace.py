"""How thorough this run is, for the property tests that decide it by their example count.

CI runs the README's command, the whole suite at full strength. The fast path, `pytest -m
"not slow"`, leaves out the kill and concurrency trials and tries each hypothesis
property on a tenth of its examples: every property still runs, on fewer random cases.
tests/conftest.py sets `THOROUGH` from the run's marker expression before any test module
is imported.
"""

from __future__ import annotations

THOROUGH = True


def examples(full: int, *, at_least: int = 20) -> int:
    """`full` examples in a thorough run, a tenth of them (at least `at_least`) on the fast
    path. A property that asserts it tried every kind of case needs enough draws for that
    to hold by more than luck: six kinds in 20 draws miss one about one run in six."""
    return full if THOROUGH else max(full // 10, at_least)
