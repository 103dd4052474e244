"""Reader processes for the concurrency trials (run as a script, not collected by pytest).

    python reliability_children.py ROLE URL SPEC STOP OUT

ROLE is one of:

* ``log``: reads the whole raw log in one snapshot, over and over;
* ``queries``: asks `Queries.timeline` (which first catches the read models up) over
  and over;
* ``models``: reads the read-model tables in one snapshot without catching up first,
  as every query does once it has found them fresh;
* ``tail``: follows the log like a subscriber, asking only for positions after the
  last one it saw (``select_notifications``), and records every position it is given.

SPEC is a JSON file describing, per imported file, the ids only that file holds and
what the timeline must show once that file's import is visible. Readers run until the
STOP file exists, then write what they saw to OUT as JSON: how many reads, and every
violation (a file partly visible = a half-applied import; for the tailer, a position
skipped, repeated or out of order).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Any


def _half_applied(visible: set[str], spec: dict[str, Any]) -> list[str]:
    problems = []
    for name, part in spec["files"].items():
        own = set(part["own"])
        seen = own & visible
        if seen and seen != own:
            problems.append(f"{name}: {len(seen)} of {len(own)} of its records visible")
    for block, ids in spec["shared"].items():
        seen = set(ids) & visible
        if seen and seen != set(ids):
            problems.append(f"shared block {block}: {len(seen)} of {len(ids)} visible")
    return problems


def read_log(app: Any, spec: dict[str, Any]) -> list[str]:
    """The raw log in one statement (one snapshot): positions, and whose streams are in it."""
    from sqlalchemy import select

    from ledger.aggregates import stream_id

    table = app.recorder.events_table
    with app.recorder.transaction(commit=False) as session:
        rows = session.execute(select(table.c.id, table.c.originator_id).order_by(table.c.id)).all()
    problems = []
    positions = [row[0] for row in rows]
    if positions != list(range(1, len(positions) + 1)):
        problems.append(f"log has a gap: {len(positions)} events, last {positions[-1:]}")
    streams = {row[1] for row in rows}
    if "streams" not in spec:  # every id of the spec, mapped to its stream once
        spec["streams"] = {
            stream_id("occurrence", record_id): record_id
            for ids in [*(p["own"] for p in spec["files"].values()), *spec["shared"].values()]
            for record_id in ids
        }
    ids = {spec["streams"][s] for s in streams if s in spec["streams"]}
    return problems + _half_applied(ids, spec)


def read_queries(app: Any, spec: dict[str, Any]) -> list[str]:
    from functools import partial

    from projections.catchup import catch_up
    from projections.queries import Queries, When

    rows = Queries(app.url, catch_up=partial(catch_up, app)).timeline(
        When(as_of=date(9999, 12, 31))
    )
    shown = {row["id"]: row for row in rows}
    problems = []
    # The timeline shows occurrences: a file is visible if any of its own occurrences is.
    visible_ids = set(shown)
    for name, part in spec["files"].items():
        expected = set(part["timeline"])
        seen = expected & visible_ids
        if not seen:
            continue
        if seen != expected:
            problems.append(f"{name}: {len(seen)} of {len(expected)} occurrences shown")
        retracted = set(part["retracted"]) & visible_ids
        if retracted:
            problems.append(f"{name}: retracted {sorted(retracted)[:3]} still shown")
        for target, summary in part["corrected"].items():
            if target in shown and shown[target]["summary"] != summary:
                problems.append(f"{name}: {target} shown without its correction")
    for block, ids in spec["shared_timeline"].items():
        seen = set(ids) & visible_ids
        if seen and seen != set(ids):
            problems.append(f"shared block {block}: {len(seen)} of {len(ids)} shown")
    return problems


def read_models(app: Any, spec: dict[str, Any]) -> list[str]:
    """The read models as any query finds them once it has decided they are fresh."""
    from sqlalchemy import select

    from ledger.database import read_only
    from projections import models

    with app.recorder.transaction(commit=False) as session:
        read_only(session.connection())
        versions = set(session.execute(select(models.occurrences.c.occurrence)).scalars())
        amendments = set(session.execute(select(models.amendments.c.id)).scalars())
    return _half_applied(versions | amendments, spec)


def tail(app: Any, state: dict[str, Any]) -> list[str]:
    last = state.setdefault("last", 0)
    notes = app.recorder.select_notifications(last + 1, 500)
    problems = []
    for note in notes:
        if note.id != last + 1:
            problems.append(f"after position {last} the tailer was given {note.id}")
        last = note.id
    state["last"] = last
    state["batch"] = len(notes)
    state["seen"] = state.get("seen", 0) + len(notes)
    return problems


def main(role: str, url: str, spec_path: str, stop_path: str, out_path: str) -> None:
    from ledger.application import Ledger

    spec = json.loads(Path(spec_path).read_text())
    app = Ledger(url, create=False)
    reads, problems, errors = 0, [], []
    state: dict[str, Any] = {}
    stop = Path(stop_path)
    while True:
        writers_done = stop.exists()  # checked before reading: this read sees all writes
        try:
            if role == "log":
                found = read_log(app, spec)
            elif role == "queries":
                found = read_queries(app, spec)
            elif role == "models":
                found = read_models(app, spec)
            else:
                found = tail(app, state)
        except Exception:  # a reader must never fail; report it rather than die silently
            errors.append(traceback.format_exc(limit=3))
            found = []
        reads += 1
        if reads == 1:
            Path(out_path).with_suffix(".ready").touch()
        problems.extend(p for p in found if p not in problems)
        if writers_done and not (role == "tail" and state.get("batch")):
            break
        # The tailer and the read-model reader poll hard; the heavier readers leave the
        # writers some of the machine's CPU.
        time.sleep(0.002 if role in ("tail", "models") else 0.02)
    app.close()
    Path(out_path).write_text(
        json.dumps(
            {
                "reads": reads,
                "problems": problems[:50],
                "errors": errors[:5],
                "last": state.get("last"),
                "seen": state.get("seen"),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:6])
