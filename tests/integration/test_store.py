"""The event store's promises, checked against the rows on SQLite and PostgreSQL.

Events go in through the application's own ``LedgerRecorder``; what is checked is read
back from the tables themselves, so a promise kept only in memory would not pass.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ledger import store as ledger_store
from ledger.application import Ledger
from ledger.merkle import CompactRange, leaf_hash, root_hash
from ledger.store import LedgerRecorder, canonical_bytes

APPEND_ONLY_TABLES = ("ledger_events", "ledger_events_merkle")


def events(stream: UUID, versions: range, state: bytes = b'{"n":1}') -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=stream,
            originator_version=version,
            topic="tests.integration:Happened",
            state=state + str(version).encode(),
        )
        for version in versions
    ]


def rows(recorder: LedgerRecorder) -> list[Any]:
    """Every stored event row, in position order, straight from the table."""
    table = recorder.events_table
    with recorder.transaction(commit=False) as session:
        return list(session.execute(select(table).order_by(table.c.id)))


def heads(recorder: LedgerRecorder) -> list[Any]:
    table = recorder.heads_table
    with recorder.transaction(commit=False) as session:
        return list(session.execute(select(table).order_by(table.c.size)))


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The append-only tables' full contents, to show that nothing changed."""
    with engine.connect() as connection:
        return {
            table: [
                tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            ]
            for table in APPEND_ONLY_TABLES
        }


def write_three_transactions(recorder: LedgerRecorder) -> list[list[int]]:
    first, second = uuid4(), uuid4()
    return [
        list(recorder.insert_events(events(first, range(1, 4)))),
        list(recorder.insert_events(events(second, range(1, 2)))),
        list(recorder.insert_events(events(first, range(4, 9)) + events(second, range(2, 4)))),
    ]


# -- positions, leaves and tree heads --------------------------------------------------


def test_positions_are_contiguous_from_one_across_several_writes(ledger: Ledger) -> None:
    written = write_three_transactions(ledger.recorder)

    assert written == [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11]]
    assert [row.id for row in rows(ledger.recorder)] == list(range(1, 12))
    assert ledger.recorder.max_notification_id() == 11


def test_every_stored_leaf_hash_is_the_hash_of_its_rows_canonical_bytes(ledger: Ledger) -> None:
    write_three_transactions(ledger.recorder)
    # State that is not UTF-8 must still hash to something of its own.
    ledger.recorder.insert_events(events(uuid4(), range(1, 3), state=b"\xff\xfe\x00raw"))

    stored = rows(ledger.recorder)
    assert len(stored) == 13
    for row in stored:
        expected = leaf_hash(
            canonical_bytes(
                row.id,
                row.recorded_at,
                row.originator_id,
                row.originator_version,
                row.topic,
                bytes(row.state),
            )
        )
        assert bytes(row.leaf_hash) == expected, f"position {row.id}"
    assert len({bytes(row.leaf_hash) for row in stored}) == len(stored)


def test_a_leaf_can_be_recomputed_from_the_documented_json_without_the_ledger(
    ledger: Ledger,
) -> None:
    stream = uuid4()
    ledger.recorder.insert_events(events(stream, range(1, 2)))

    (row,) = rows(ledger.recorder)
    document = (
        f'{{"position":1,"recorded_at":"{row.recorded_at}","state":"{{\\"n\\":1}}1",'
        f'"stream":"{stream}","topic":"tests.integration:Happened","version":1}}'
    )
    assert json.loads(document)["stream"] == str(stream)
    assert bytes(row.leaf_hash) == hashlib.sha256(b"\x00" + document.encode("ascii")).digest()


def test_the_latest_tree_head_covers_every_leaf_and_counts_them(ledger: Ledger) -> None:
    write_three_transactions(ledger.recorder)

    leaves = [bytes(row.leaf_hash) for row in rows(ledger.recorder)]
    stored_heads = heads(ledger.recorder)
    latest = stored_heads[-1]
    assert latest.size == len(leaves) == 11
    assert bytes(latest.root) == root_hash(leaves)
    head = ledger.recorder.tree_head()
    assert (head.size, head.root) == (11, root_hash(leaves))
    assert head.frontier.root() == head.root


def test_each_write_leaves_a_tree_head_for_the_log_as_it_then_was(ledger: Ledger) -> None:
    write_three_transactions(ledger.recorder)

    leaves = [bytes(row.leaf_hash) for row in rows(ledger.recorder)]
    stored_heads = heads(ledger.recorder)
    assert [head.size for head in stored_heads] == [3, 4, 11]
    for head in stored_heads:
        assert bytes(head.root) == root_hash(leaves[: head.size])
        frontier = CompactRange.from_json(json.loads(head.frontier))
        assert frontier.size == head.size
        assert frontier.root() == bytes(head.root)


def test_concurrent_writers_leave_a_contiguous_log_and_a_consistent_tree(ledger: Ledger) -> None:
    writers, writes, batch = 4, 8, 5
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(writes):
                ledger.recorder.insert_events(events(uuid4(), range(1, batch + 1)))
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    total = writers * writes * batch
    stored = rows(ledger.recorder)
    assert [row.id for row in stored] == list(range(1, total + 1))
    stored_heads = heads(ledger.recorder)
    assert [head.size for head in stored_heads] == list(range(batch, total + 1, batch))
    assert bytes(stored_heads[-1].root) == root_hash(bytes(row.leaf_hash) for row in stored)


# -- record time -----------------------------------------------------------------------


def test_record_time_is_one_value_per_transaction_and_never_decreases(ledger: Ledger) -> None:
    written = write_three_transactions(ledger.recorder)
    with ledger.recorder.transaction(commit=True) as session:
        # Two saves in one transaction, as an import of several batches does.
        ledger.recorder.insert_events(events(uuid4(), range(1, 3)), session=session)
        ledger.recorder.insert_events(events(uuid4(), range(1, 4)), session=session)
    written.append(list(range(12, 17)))

    by_position = {row.id: row.recorded_at for row in rows(ledger.recorder)}
    per_transaction = [{by_position[position] for position in batch} for batch in written]
    assert all(len(times) == 1 for times in per_transaction)
    times = [next(iter(times)) for times in per_transaction]
    assert times == sorted(times)
    assert [by_position[p] for p in sorted(by_position)] == sorted(by_position.values())
    assert [head.recorded_at for head in heads(ledger.recorder)] == [
        times[0],
        times[1],
        times[2],
        times[3],
        times[3],
    ]


def test_record_time_does_not_run_backwards_when_the_clock_does(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.recorder.insert_events(events(uuid4(), range(1, 2)))
    (first,) = rows(ledger.recorder)

    monkeypatch.setattr(ledger_store, "utcnow", lambda: "2000-01-01T00:00:00.000000Z")
    ledger.recorder.insert_events(events(uuid4(), range(1, 2)))

    later = rows(ledger.recorder)[1]
    assert later.recorded_at >= first.recorded_at
    assert not later.recorded_at.startswith("2000-")
    assert heads(ledger.recorder)[-1].recorded_at == later.recorded_at


# -- append-only, enforced by the database ---------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_events SET topic = 'forged' WHERE id = 2",
        "DELETE FROM ledger_events WHERE id = 3",
        "UPDATE ledger_events_merkle SET root = root WHERE size = 3",
        "DELETE FROM ledger_events_merkle",
    ],
)
def test_the_database_refuses_to_change_or_delete_stored_events_and_tree_heads(
    ledger: Ledger, statement: str
) -> None:
    write_three_transactions(ledger.recorder)
    before = snapshot(ledger.engine)

    with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as connection:
        connection.execute(text(statement))

    assert snapshot(ledger.engine) == before


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_postgresql_refuses_to_truncate_the_log(postgres_url: str, table: str) -> None:
    app = Ledger(postgres_url)
    try:
        write_three_transactions(app.recorder)
        before = snapshot(app.engine)

        with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table}"))

        assert snapshot(app.engine) == before
    finally:
        app.close()


# -- a refused write writes nothing ----------------------------------------------------


@pytest.mark.parametrize("where", ["first", "middle", "last", "twice in the batch"])
def test_a_duplicate_stream_version_writes_nothing_at_all(ledger: Ledger, where: str) -> None:
    stream = uuid4()
    write_three_transactions(ledger.recorder)
    ledger.recorder.insert_events(events(stream, range(1, 3)))
    before = snapshot(ledger.engine)

    fresh = events(uuid4(), range(1, 3))
    duplicate = events(stream, range(2, 3))
    batch = {
        "first": duplicate + fresh,
        "middle": fresh[:1] + duplicate + fresh[1:],
        "last": fresh + duplicate,
        "twice in the batch": fresh + fresh[-1:],
    }[where]
    with pytest.raises(IntegrityError):
        ledger.recorder.insert_events(batch)

    assert snapshot(ledger.engine) == before
    with ledger.recorder.transaction(commit=False) as session:
        count = session.execute(select(func.count()).select_from(ledger.recorder.events_table))
        assert count.scalar() == 13
    # The refused write used no position up: the next one carries straight on.
    assert list(ledger.recorder.insert_events(fresh)) == [14, 15]
    assert heads(ledger.recorder)[-1].size == 15


def test_on_sqlite_a_write_transaction_takes_the_write_lock_as_it_begins(
    ledger: Ledger,
) -> None:
    """BEGIN IMMEDIATE for the recorder's write transactions (a deferred one that read
    first would fail when another writer commits), plain BEGIN for reads."""
    if ledger.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the events table instead")
    begun: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    from sqlalchemy import event

    event.listen(ledger.engine, "before_cursor_execute", seen)
    try:
        with ledger.recorder.transaction(commit=True) as session:
            session.execute(text("SELECT 1"))
            with ledger.recorder.transaction(commit=False) as nested:  # the same one
                nested.execute(text("SELECT 1"))
        with ledger.recorder.transaction(commit=False) as session:
            session.execute(text("SELECT 1"))
    finally:
        event.remove(ledger.engine, "before_cursor_execute", seen)
    assert begun == ["BEGIN IMMEDIATE", "BEGIN"]
