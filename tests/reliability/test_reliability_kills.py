"""SIGKILL at random moments: nothing half-written, and projections always recover.

A child process (the installed `ledger` console script) imports a generated file of a
few thousand records, or replays a ledger of ten thousand events, and is killed with
SIGKILL after a delay drawn from a seeded `random.Random`, one delay from each slice
of the measured duration of an uninterrupted run (the shorter of two). After every kill:

* the log holds all of that import or none of it, hashes verify, positions are
  contiguous and every tree head is intact;
* no tracking record (and no read-model row) points past what the log holds;
* a restarted catch-up reaches exactly the state of a clean rebuild (`replay`).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from reliability_support import (
    Databases,
    assert_log_well_formed,
    assert_tracking_within_log,
    build_ledger,
    catch_up_then_rebuild,
    chunks,
    clean_rebuild,
    kill_after,
    ledger_state,
    occurrences,
    registry_records,
    restart_catch_up,
    start_ledger,
    stratified_delays,
    timed_run,
    verify_ok,
    write_records,
)

from projections.projectors import PROJECTIONS

pytestmark = pytest.mark.slow

TRIALS = 20
IMPORT_SIZE = 2000  # occurrences (plus every 50th amended) in the file a child imports
REPLAY_SIZE = 10_000  # occurrences in the ledger a child replays
SEED = 20251128


def test_a_killed_import_leaves_all_of_it_or_none_of_it(
    databases: Databases, tmp_path: Path
) -> None:
    base_records = registry_records() + occurrences("base", 200, seed=1)
    base_file = write_records(tmp_path / "base.yaml", base_records)
    big_records = registry_records() + occurrences("big", IMPORT_SIZE, seed=2)
    big_file = write_records(tmp_path / "big.jsonl", big_records)

    base = databases.fresh()
    build_ledger(base, base_file)
    before = ledger_state(base, with_ids=True)
    assert before.size == len(base_records)
    assert clean_rebuild(databases.clone(base)).read_models == before.read_models
    everything = set(before.ids) | {r["id"] for r in big_records}

    durations = []
    for _ in range(2):
        calibration = databases.clone(base)
        durations.append(timed_run(calibration, "import", str(big_file)))
        assert set(ledger_state(calibration, with_ids=True).ids) == everything
        databases.drop(calibration)
    duration = min(durations)

    rng = random.Random(SEED)
    outcomes = {"none": 0, "all": 0, "all, projections behind": 0}
    killed_running = 0
    url = None
    for trial, delay in enumerate(stratified_delays(rng, duration, TRIALS)):
        url = url or databases.clone(base)  # a trial that wrote nothing leaves it as base
        killed_running += kill_after(start_ledger(url, "import", str(big_file)), delay)
        where = f"trial {trial} (killed after {delay:.2f}s of {duration:.2f}s)"

        after = ledger_state(url, with_ids=True)
        assert_log_well_formed(after)
        assert_tracking_within_log(after)
        assert after.log[: before.size] == before.log, f"{where}: earlier events changed"
        verify_ok(url)
        if after.size == before.size:
            outcomes["none"] += 1
            assert after.heads == before.heads, f"{where}: a tree head without its events"
            resumed = restart_catch_up(url)
            assert resumed.read_models == before.read_models, f"{where}: read models changed"
            assert resumed.tracking == before.tracking, where
        else:
            assert set(after.ids) == everything, f"{where}: part of the import was written"
            behind = min(after.tracking.values(), default=0) < after.size
            outcomes["all, projections behind" if behind else "all"] += 1
            resumed, rebuilt = catch_up_then_rebuild(url)
            assert resumed.read_models == rebuilt.read_models, f"{where}: catch-up differs"
            every_projection = dict.fromkeys(PROJECTIONS, after.size)
            assert resumed.tracking == rebuilt.tracking == every_projection, where
            databases.drop(url)
            url = None
    print(f"\n{databases.engine} import kills over {duration:.1f}s: {outcomes}")
    assert killed_running > 0, "every child had finished before its kill: nothing was tested"


def test_a_killed_replay_resumes_to_exactly_a_clean_rebuild(
    databases: Databases, tmp_path: Path
) -> None:
    # Imported in many transactions, as a ledger grows: catch-up commits page by page.
    records = occurrences("rep", REPLAY_SIZE, seed=3)
    files = [write_records(tmp_path / "registry.yaml", registry_records())]
    for n, chunk in enumerate(chunks(records, 500)):
        files.append(write_records(tmp_path / f"part{n}.jsonl", list(chunk)))
    url = databases.fresh()
    build_ledger(url, *files)
    caught_up = ledger_state(url)
    clean = clean_rebuild(url)  # the reference: a clean rebuild of this log
    assert clean.read_models == caught_up.read_models
    assert clean.size > REPLAY_SIZE

    duration = min(timed_run(url, "replay") for _ in range(2))
    assert ledger_state(url).read_models == clean.read_models

    rng = random.Random(SEED + 1)
    interrupted = killed_running = 0
    for trial, delay in enumerate(stratified_delays(rng, duration, TRIALS)):
        killed_running += kill_after(start_ledger(url, "replay"), delay)
        where = f"trial {trial} (killed after {delay:.2f}s of {duration:.2f}s)"

        after = ledger_state(url)
        assert after.log == clean.log and after.heads == clean.heads, f"{where}: log changed"
        assert_tracking_within_log(after)
        if after.read_models != clean.read_models or after.tracking != clean.tracking:
            interrupted += 1
        if databases.engine == "postgres":
            # One transaction (a bulk load): a kill leaves what was there, never part of it.
            assert after.read_models == clean.read_models, f"{where}: part of a rebuild"
            assert after.tracking == clean.tracking, where

        resumed = restart_catch_up(url)  # the next trial starts from what this one left
        assert resumed.read_models == clean.read_models, f"{where}: catch-up differs"
        assert resumed.tracking == clean.tracking, where
    print(f"\n{databases.engine} replay kills over {duration:.1f}s: {interrupted} partial")
    assert killed_running > 0, "every replay had finished before its kill: nothing was tested"
    if databases.engine == "sqlite":  # reset, then catch-up page by page: kills show
        assert interrupted > 0, "no kill landed inside a replay: nothing was tested"
