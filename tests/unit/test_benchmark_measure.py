"""The benchmark runner's `measure`: each child's own peak memory, not its parent's.

On Linux a child's ``ru_maxrss`` starts at its parent's high-water mark, so a runner that
had grown to 100 MB reported every command of its 1M run at ≥ 101 MB (RESULTS.md).
"""

from __future__ import annotations

import sys

from benchmarks.run import measure

GROW = "x = bytearray({mb} * 1024 * 1024)\nfor i in range(0, len(x), 4096): x[i] = 1\n"


def test_a_small_child_of_a_grown_runner_reports_its_own_peak_not_the_runner_s() -> None:
    grown = bytearray(150 * 1024 * 1024)
    for i in range(0, len(grown), 4096):
        grown[i] = 1
    small = measure([sys.executable, "-c", "pass"])
    assert small["rss_mb"] < 60
    del grown


def test_a_child_s_own_growth_wall_cpu_and_output_are_reported() -> None:
    big = measure([sys.executable, "-c", GROW.format(mb=120) + "print('done')"])
    assert big["rss_mb"] >= 120
    assert big["stdout"] == "done\n"
    assert big["wall"] >= big["cpu"] > 0
