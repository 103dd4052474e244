"""How thorough this run is, for the property tests that decide it by their example count.

CI runs the README's command, the whole suite at full strength. The fast path, `pytest -m
"not slow"`, leaves out the kill and concurrency trials and tries each hypothesis
property on a tenth of its examples: every property still runs, on fewer random cases.
tests/conftest.py sets `THOROUGH` from the run's marker expression before any test module
is imported.
"""

from __future__ import annotations

THOROUGH = True


def examples(full: int) -> int:
    """`full` examples in a thorough run, a tenth of them (at least 20) on the fast path."""
    return full if THOROUGH else max(full // 10, 20)
