"""Tamper evidence over the stored log: checkpoints, verification, inclusion proofs.

The recorder keeps, in the same transaction as the events, each event's leaf hash and a
tree head (size, root, compact range) per write; so a checkpoint is one row read.
Verification trusts none of that: it recomputes every leaf from the stored rows, then
the roots of every stored tree head, and (given an earlier checkpoint) proves that
checkpoint's tree is a prefix of today's log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ledger.checkpoints import Checkpoint
from ledger.errors import LedgerError
from ledger.merkle import (
    CompactRange,
    ProofError,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
)

if TYPE_CHECKING:
    from ledger.application import Ledger


class TamperingDetected(LedgerError):
    """The stored log does not hash to what was committed to."""


@dataclass
class Verification:
    size: int
    root: bytes
    checked_heads: int = 0
    checkpoint: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)
    first_bad_position: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def checkpoint(app: Ledger, known_at: str | None = None) -> Checkpoint:
    """The tree head of the whole log as committed by the last write (no rehashing).

    With `known_at` (a record-time stamp), the head as it stood then: the checkpoint a
    client fetched at that moment, which later proofs can be checked against.
    """
    head = app.recorder.tree_head(known_at=known_at)
    return Checkpoint(size=head.size, root=head.root, timestamp=head.recorded_at or "")


def verify(app: Ledger, against: Checkpoint | None = None) -> Verification:
    """Recompute the log's hashes from the stored rows; report the first bad position."""
    heads = {h.size: h for h in app.recorder.tree_heads()}
    tree = CompactRange()
    leaves: list[bytes] = []
    result = Verification(size=0, root=tree.root())
    expected_position = 0
    for entry in app.recorder.iter_log():
        expected_position += 1
        if entry.position != expected_position:
            _problem(
                result,
                entry.position,
                f"position {expected_position} is missing (next stored is {entry.position})",
            )
            expected_position = entry.position
        leaf = entry.recomputed_leaf()
        if leaf != entry.leaf_hash:
            _problem(
                result,
                entry.position,
                f"position {entry.position}: stored event does not match its leaf hash",
            )
        tree.append(leaf)
        leaves.append(leaf)
        head = heads.get(tree.size)
        if head is not None:
            result.checked_heads += 1
            if head.root != tree.root():
                _problem(
                    result,
                    entry.position,
                    f"tree head at size {tree.size} does not match the recomputed root",
                )
    result.size, result.root = tree.size, tree.root()
    if heads and max(heads) != tree.size:
        _problem(
            result,
            tree.size + 1,
            f"the last tree head says {max(heads)} events, the log holds {tree.size}",
        )
    if against is not None:
        result.checkpoint = against
        _check_prefix(result, against, leaves)
    return result


def _problem(result: Verification, position: int, message: str) -> None:
    result.problems.append(message)
    if result.first_bad_position is None or position < result.first_bad_position:
        result.first_bad_position = position


def _check_prefix(result: Verification, old: Checkpoint, leaves: list[bytes]) -> None:
    if old.size > len(leaves):
        _problem(
            result,
            len(leaves) + 1,
            f"the checkpoint has {old.size} events but the log only {len(leaves)}: "
            "events were removed",
        )
        return
    if old.size == 0:
        return  # the empty tree is a prefix of every log
    proof = consistency_proof(old.size, leaves)
    try:
        verify_consistency(old.size, len(leaves), old.root, result.root, proof)
    except ProofError:
        # Stored leaves that no longer match their rows were named above, one by one;
        # this catches a log rewritten together with its hashes.
        _problem(
            result,
            1,
            f"the log is not an extension of the checkpoint of size {old.size}: "
            f"its first {old.size} events no longer hash to the checkpoint's root",
        )


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
    """Inclusion proof of the event at `position` in the tree of a checkpoint (default: now)."""
    size = at.size if at is not None else app.recorder.tree_head().size
    if not 1 <= position <= size:
        raise LedgerError(f"position {position} is not in a log of {size} events")
    leaves = app.recorder.leaf_hashes(upto=size)
    if len(leaves) != size:
        raise TamperingDetected(f"the log holds {len(leaves)} events, the checkpoint {size}")
    tree = CompactRange()
    tree.extend(leaves)
    if at is not None and tree.root() != at.root:
        raise TamperingDetected(
            f"the log's first {size} events do not hash to the checkpoint's root: "
            "run `ledger verify` to find where"
        )
    return InclusionProof(
        index=position - 1,
        tree_size=size,
        leaf_hash=leaves[position - 1],
        proof=inclusion_proof(position - 1, leaves),
        root=tree.root(),
    )
