"""Audit reports byte for byte: the pinned reports of `report_fixture`'s ledger, every format.

The reports are written as they are produced (the whole-ledger report of a big ledger
never sits in memory), and what they say must not change with how they are written: each
format of each scope is compared with the pinned file, on both engines.
"""

from __future__ import annotations

import io

import pytest
from report_fixture import FORMATS, PINNED, PINNED_WHEN, SCOPES, build, comparable, pinned_name

from ledger.application import Ledger
from ledger.integrity import checkpoint
from ledger.merkle import CompactRange
from projections.queries import When
from projections.report_rendering import render
from projections.reports import build_report, write_report


@pytest.fixture(scope="module")
def pinned_ledger(shared_url: str) -> Ledger:
    app = Ledger(shared_url)
    build(app)
    return app


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scope", SCOPES)
def test_the_report_written_as_it_is_produced_is_the_pinned_one(
    pinned_ledger: Ledger, scope: str | None, fmt: str
) -> None:
    out = io.StringIO()
    write_report(pinned_ledger, out, fmt, scope, PINNED_WHEN)
    expected = (PINNED / pinned_name(scope, fmt)).read_text(encoding="utf-8")
    assert comparable(out.getvalue()) == expected


def test_the_log_up_to_a_checkpoint_shows_what_was_known_and_hashes_every_leaf(
    pinned_ledger: Ledger,
) -> None:
    head = checkpoint(pinned_ledger)
    entries = list(pinned_ledger.recorder.iter_log())
    known_at = entries[100].recorded_at  # an import's stamp: later ones are not shown
    shown = [e for e in entries if e.recorded_at <= known_at]
    tree = CompactRange()

    logged = list(pinned_ledger.log(upto=head.size - 3, known_at=known_at, tree=tree))

    assert [e.entry.position for e in logged] == [e.position for e in shown]
    assert tree.size == head.size - 3  # leaves recorded after `known_at` are hashed too
    whole = CompactRange()
    whole.extend(e.leaf_hash for e in entries[: head.size - 3])
    assert tree.root() == whole.root()
    assert [e.entry.position for e in pinned_ledger.log(upto=5)] == [1, 2, 3, 4, 5]


def test_an_audit_as_known_earlier_shows_only_what_was_known_and_cites_the_whole_checkpoint(
    pinned_ledger: Ledger,
) -> None:
    entries = list(pinned_ledger.recorder.iter_log())
    known_at = entries[100].recorded_at
    report = build_report(pinned_ledger, when=When(known_at=known_at))

    assert report["checkpoint"]["size"] == len(entries)
    assert [e["position"] for e in report["events"]] == [
        e.position for e in entries if e.recorded_at <= known_at
    ]
    assert "lebanon-stop-dated" not in render(report, "md")
