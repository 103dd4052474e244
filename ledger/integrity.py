"""Tamper evidence over the stored log: checkpoints, verification, inclusion proofs.

The recorder keeps, in the same transaction as the events, each event's leaf hash and a
tree head (size, root, compact range) per write; so a checkpoint is one row read.
Verification trusts none of that: it recomputes every leaf from the stored rows, then
the roots of every stored tree head, checks that every write transaction has its head,
and (given an earlier checkpoint) proves that checkpoint's tree is a prefix of today's
log. `verify_since` does the same for what was appended after a trusted checkpoint
only, so a daily check costs the day's events. `rebuild_heads` mends deleted tree heads,
but only over leaves it has just verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ledger.checkpoints import Checkpoint
from ledger.errors import LedgerError, TamperingDetected
from ledger.merkle import (
    CompactRange,
    inclusion_proof,
)
from ledger.store import LogEntry, TreeHead

if TYPE_CHECKING:
    from ledger.application import Ledger

__all__ = [
    "InclusionProof",
    "TamperingDetected",
    "Verification",
    "checkpoint",
    "prove",
    "rebuild_heads",
    "verify",
    "verify_since",
]


@dataclass
class Verification:
    size: int
    root: bytes
    checked_heads: int = 0
    checkpoint: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)
    #: The first position known to be bad; None when nothing is, or when the damage
    #: has no known position (a log rewritten with its hashes, seen only by a checkpoint).
    first_bad_position: int | None = None
    #: With `since`: the trusted checkpoint's size; events up to it were not rehashed.
    since: int | None = None
    #: Sizes at which a write transaction ended but no tree head is stored.
    missing_heads: list[int] = field(default_factory=list)
    #: The problem that reports them (the one `rebuild_heads` can mend).
    missing_heads_problem: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def checkpoint(app: Ledger, known_at: str | None = None) -> Checkpoint:
    """The tree head of the whole log as committed by the last write (no rehashing).

    Refused when the last head does not cover the log (heads deleted or altered): a
    checkpoint is something people sign and publish, and must never commit to a tree
    the ledger did not write. With `known_at` (a record-time stamp), the head as it stood
    then: the checkpoint a client fetched at that moment, which later proofs can be
    checked against (a proof recomputes its root from the leaves).
    """
    head = app.recorder.check_heads(refusing="no checkpoint is made of it")
    if known_at is not None:
        head = app.recorder.tree_head(known_at=known_at)
    return Checkpoint(size=head.size, root=head.root, timestamp=head.recorded_at or "")


class _Walk:
    """Recompute leaves and tree heads over a run of the log, collecting problems.

    Every stored head is checked where the recomputed tree reaches its size. A write
    transaction's events share one record time and its last write stores a head, so
    where the record time changes (and at the end of the log) a head must exist.
    """

    def __init__(self, result: Verification, heads: dict[int, TreeHead], tree: CompactRange):
        self.result = result
        self.heads = heads
        self.tree = tree
        self.previous: LogEntry | None = None

    def add(self, entry: LogEntry, expected_position: int) -> bytes:
        """Take the next entry; returns its recomputed leaf."""
        if entry.position != expected_position:
            _problem(
                self.result,
                expected_position,
                f"position {expected_position} is missing (next stored is {entry.position})",
            )
        previous = self.previous
        if previous is not None and entry.recorded_at != previous.recorded_at:
            self._ends_transaction()
        leaf = entry.recomputed_leaf()
        if entry.malformed is not None:
            _problem(self.result, entry.position, f"position {entry.position}: {entry.malformed}")
        elif leaf != entry.leaf_hash:
            _problem(
                self.result,
                entry.position,
                f"position {entry.position}: stored event does not match its leaf hash",
            )
        self.tree.append(leaf)
        self.previous = entry
        head = self.heads.get(self.tree.size)
        if head is not None:
            self._check_head(head, entry)
        return leaf

    def finish(self) -> None:
        if self.previous is not None:
            self._ends_transaction()

    def _ends_transaction(self) -> None:
        if self.tree.size not in self.heads:
            self.result.missing_heads.append(self.tree.size)

    def _check_head(self, head: TreeHead, last: LogEntry) -> None:
        self.result.checked_heads += 1
        size = self.tree.size
        if head.malformed is not None:
            problem = f"tree head at size {size} is {head.malformed}"
        elif head.root != self.tree.root():
            problem = f"tree head at size {size} does not match the recomputed root"
        elif head.frontier != self.tree:
            problem = f"tree head at size {size}: its compact range does not match the log"
        elif head.recorded_at != last.recorded_at:
            problem = f"tree head at size {size} has another record time than its last event"
        else:
            return
        _problem(self.result, last.position, problem)


def _report_heads(result: Verification, heads: dict[int, TreeHead], start: int) -> None:
    """Problems with tree heads as a whole: missing, or past the end of the log."""
    missing = result.missing_heads
    if missing:
        stored = [size for size in heads if size > start]
        if not stored:
            what = f"no tree heads are stored for the log's {result.size - start} events"
        else:
            shown = ", ".join(map(str, missing[:5])) + (" …" if len(missing) > 5 else "")
            what = f"{len(missing)} tree heads are missing (sizes {shown})"
        result.missing_heads_problem = (
            f"{what}: tree heads were deleted; `ledger rebuild-heads` rebuilds them "
            "from the verified leaves"
        )
        _problem(result, missing[0], result.missing_heads_problem)
    beyond = [size for size in heads if size > result.size]
    if beyond:
        _problem(
            result,
            result.size + 1,
            f"the last tree head says {max(beyond)} events, the log holds {result.size}",
        )


def checkpoint_json(head: Checkpoint, origin: str) -> dict[str, object]:
    """What `ledger checkpoint` prints and the web API's checkpoint answers."""
    return {**head.to_json(), "origin": origin}


def verify(app: Ledger, against: Checkpoint | None = None) -> Verification:
    """Recompute the log's hashes from the stored rows; report the first bad position."""
    heads = {h.size: h for h in app.recorder.tree_heads()}
    result = Verification(size=0, root=CompactRange().root())
    walk = _Walk(result, heads, CompactRange())
    #: The root of the log's first `against.size` recomputed leaves, once walked past.
    prefix_root: bytes | None = None
    for expected, entry in enumerate(app.recorder.iter_log(), start=1):
        walk.add(entry, expected)
        if against is not None and walk.tree.size == against.size:
            prefix_root = walk.tree.root()
    walk.finish()
    result.size, result.root = walk.tree.size, walk.tree.root()
    _report_heads(result, heads, 0)
    if against is not None:
        result.checkpoint = against
        _check_prefix(result, against, prefix_root)
    return result


def verify_since(app: Ledger, trusted: Checkpoint) -> Verification:
    """Verify only what was appended after a trusted checkpoint.

    The consistency proof is the stored tree head at the checkpoint's size: its compact
    range must fold to the trusted root (so the first `trusted.size` leaves are the ones
    the checkpoint committed to, without reading them); then the new events' leaves are
    recomputed from their rows and appended to it, and every later tree head must match.
    Rows before the checkpoint are covered by their leaves, which every command that
    shows a row recomputes (a full `verify` recomputes them all).
    """
    result = Verification(size=trusted.size, root=trusted.root, checkpoint=trusted)
    result.since = trusted.size
    last = app.recorder.last_position()
    if trusted.size > last:
        _problem(
            result,
            last + 1,
            f"the checkpoint has {trusted.size} events but the log only {last}: "
            "events were removed",
        )
        return result
    if trusted.size == 0:
        frontier = CompactRange()
    else:
        stored = app.recorder.tree_head_at(trusted.size)
        if stored is None or stored.malformed is not None:
            _problem(
                result,
                trusted.size,
                f"no readable tree head at the checkpoint's size {trusted.size}, so "
                "consistency cannot be shown from it: run a full `ledger verify "
                "--checkpoint` (and `ledger rebuild-heads` if heads were deleted)",
            )
            return result
        frontier = stored.frontier.copy()
        if frontier.size != trusted.size or frontier.root() != trusted.root:
            _not_an_extension(result, trusted)
            return result
    heads = {h.size: h for h in app.recorder.tree_heads() if h.size >= trusted.size}
    walk = _Walk(result, heads, frontier)
    entries = app.recorder.iter_log(after=trusted.size)
    for expected, entry in enumerate(entries, start=trusted.size + 1):
        walk.add(entry, expected)
    walk.finish()
    result.size, result.root = walk.tree.size, walk.tree.root()
    _report_heads(result, heads, trusted.size)
    return result


def _problem(result: Verification, position: int | None, message: str) -> None:
    result.problems.append(message)
    if position is not None and (
        result.first_bad_position is None or position < result.first_bad_position
    ):
        result.first_bad_position = position


def _not_an_extension(result: Verification, old: Checkpoint) -> None:
    # No leaf of the checkpoint's tree is at hand to compare with, so no position is
    # known: saying "position 1" would send the reader to the wrong event.
    _problem(
        result,
        None,
        f"the log is no longer an extension of the checkpoint (size {old.size}, root "
        f"{old.root.hex()}): its first {old.size} events no longer hash to that root",
    )


def _check_prefix(result: Verification, old: Checkpoint, prefix_root: bytes | None) -> None:
    """Whether the log extends the checkpoint: its first `old.size` leaves, recomputed from
    the rows, hash to the checkpoint's root. With every leaf at hand this is what checking
    a consistency proof built from them shows, without holding the leaves (32 MB at 1M)."""
    if old.size > result.size:
        _problem(
            result,
            result.size + 1,
            f"the checkpoint has {old.size} events but the log only {result.size}: "
            "events were removed",
        )
        return
    if old.size == 0:
        return  # the empty tree is a prefix of every log
    if prefix_root != old.root:
        _not_an_extension(result, old)


def rebuild_heads(app: Ledger, against: Checkpoint | None = None) -> int:
    """Store the tree heads that are missing, from leaves verified first; how many.

    Every leaf must recompute from its row, every position be present, and every head
    still stored match; given a checkpoint, the log must also extend it. Anything else
    is refused: new heads over altered leaves would launder the alteration. Heads that
    are present but wrong cannot be mended by inserting (they are append-only), and are
    refused too. Runs under the writer's lock, so no import interleaves.
    """
    recorder = app.recorder
    with recorder.transaction(commit=True) as session:
        recorder.lock_for_writing(session)
        result = verify(app, against)
        missing = set(result.missing_heads)
        blocking = [p for p in result.problems if p is not result.missing_heads_problem]
        if blocking:
            raise TamperingDetected(
                "the tree heads are not rebuilt over a log that fails verification: "
                + "; ".join(blocking)
            )
        if not missing:
            return 0
        rebuilt: list[TreeHead] = []
        tree = CompactRange()
        for entry in recorder.iter_log():
            tree.append(entry.leaf_hash)
            if tree.size in missing:
                rebuilt.append(TreeHead(tree.size, tree.root(), entry.recorded_at, tree.copy()))
        recorder.insert_tree_heads(session, rebuilt)
        return len(rebuilt)


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    proof: list[bytes]
    root: bytes

    def to_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "proof": [p.hex() for p in self.proof],
            "root": self.root.hex(),
        }


def prove(app: Ledger, position: int, at: Checkpoint | None = None) -> InclusionProof:
    """Inclusion proof of the event at `position` in the tree of a checkpoint (default: now).

    The proven event's row is rehashed first: a proof for a stored leaf whose row was
    altered would vouch for data the leaf never committed to.
    """
    if at is None:
        head = app.recorder.check_heads(refusing="no proof is made against it")
        size, root = head.size, head.root
    else:
        size, root = at.size, at.root
    if not 1 <= position <= size:
        raise LedgerError(f"position {position} is not in a log of {size} events")
    entries = app.recorder.select_log(after=position - 1, limit=1)
    if not entries or entries[0].position != position:
        raise TamperingDetected(f"position {position} is missing from the log")
    entries[0].vouched()
    leaves = app.recorder.leaf_hashes(upto=size)
    if len(leaves) != size:
        raise TamperingDetected(f"the log holds {len(leaves)} events, the checkpoint {size}")
    tree = CompactRange()
    tree.extend(leaves)
    if tree.root() != root:
        what = "the checkpoint's root" if at is not None else "the stored tree head's root"
        raise TamperingDetected(
            f"the log's first {size} events do not hash to {what}: "
            "run `ledger verify` to find where"
        )
    return InclusionProof(
        index=position - 1,
        tree_size=size,
        leaf_hash=leaves[position - 1],
        proof=inclusion_proof(position - 1, leaves),
        root=root,
    )
