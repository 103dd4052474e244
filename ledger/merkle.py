"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs over the event log.

The log's tamper evidence is only worth something if any independent RFC 9162 verifier
agrees with us bit for bit, so this module follows RFC 9162 §2.1 literally (the
verifiers are the §2.1.3.2 and §2.1.4.2 algorithms step by step) and is checked
against the public transparency-dev test vectors. It is pure: no I/O, no clock, so the
write side, the read side and the CLI can all share it.

Proof construction never recurses over list slices: each proof is a list of subtree
hashes over disjoint leaf ranges, which are found by walking the RFC's recursion as a
loop and then hashed with the same stack fold as the root, so a proof costs at most one
pass of hashing over the leaves.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ledger.errors import LedgerError

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}): RFC 9162 defines the empty tree's hash as the hash of the empty string."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(LedgerError, ValueError):
    """A proof does not show what it claims; the data or the proof was altered."""


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry; the 0x00 prefix keeps a leaf from passing as an inner node."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children; the 0x01 prefix is the domain separation RFC 9162 requires."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _check_leaf(value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(
            f"a leaf hash is {HASH_SIZE} bytes, got {len(value)}: pass leaf_hash(data), not data"
        )


class CompactRange:
    """The frontier of a log: roots of the perfect subtrees covering leaves [0, size).

    Persisting this (one hash per set bit of `size`, so at most 64) after each write lets
    the ledger append and produce a checkpoint root without rehashing the whole log.
    `hashes` runs left to right, i.e. largest subtree first.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        stack = list(hashes)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"a compact range size is a non-negative integer, got {size!r}")
        if len(stack) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} holds {size.bit_count()} hashes, got {len(stack)}"
            )
        for value in stack:
            _check_leaf(value)
        self._size = size
        self._hashes = stack

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Perfect-subtree roots, largest (leftmost) first; a copy, so the range stays intact."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash (not the raw entry) at position `size`."""
        self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add leaf hashes in log order; the loop is inlined because it is the hot path."""
        stack = self._hashes
        size = self._size
        pop = stack.pop
        push = stack.append
        sha256 = hashlib.sha256
        prefix = _NODE_PREFIX
        for value in leaf_hashes:
            if len(value) != HASH_SIZE:
                _check_leaf(value)
            size += 1
            # Each trailing zero bit of the new size closes one perfect subtree.
            carry = size
            while not carry & 1:
                value = sha256(prefix + pop() + value).digest()
                carry >>= 1
            push(value)
        self._size = size

    def root(self) -> bytes:
        """MTH of the covered leaves: RFC 9162 folds the perfect subtrees from the right."""
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for value in reversed(self._hashes[:-1]):
            result = node_hash(value, result)
        return result

    def to_json(self) -> dict[str, Any]:
        """Plain data for storage beside the log: ``{"size": n, "hashes": [hex, ...]}``."""
        return {"size": self._size, "hashes": [value.hex() for value in self._hashes]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CompactRange:
        """Rebuild a stored range, refusing anything that is not exactly what to_json wrote."""
        size = data.get("size")
        hashes = data.get("hashes")
        if not isinstance(size, int) or isinstance(size, bool):
            raise ValueError(f"compact range 'size' must be an integer, got {size!r}")
        if not isinstance(hashes, list):
            raise ValueError(f"compact range 'hashes' must be a list, got {hashes!r}")
        decoded = []
        for position, text in enumerate(hashes):
            if not isinstance(text, str) or len(text) != 2 * HASH_SIZE:
                raise ValueError(f"compact range hashes[{position}] is not 64 hex digits")
            try:
                decoded.append(bytes.fromhex(text))
            except ValueError:
                raise ValueError(f"compact range hashes[{position}] is not 64 hex digits") from None
        return cls(size, decoded)

    def copy(self) -> CompactRange:
        """An independent range, so a caller can try appends without touching the original."""
        return CompactRange(self._size, self._hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


def root_hash(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH(D[0:n]) over leaf hashes, in one pass and n - 1 node hashes."""
    tree = CompactRange()
    tree.extend(leaf_hashes)
    return tree.root()


def _split(n: int) -> int:
    """The RFC's k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) without copying the slice."""
    return root_hash(map(leaf_hashes.__getitem__, range(start, end)))


def _path_ranges(index: int, size: int) -> Iterator[tuple[int, int]]:
    """Leaf ranges whose roots form PATH(index, D[0:size]), leaf level first.

    Walks RFC 9162 §2.1.3.1's recursion from the root down; each step contributes the
    sibling subtree, and the RFC appends them on the way back up, hence the reversal.
    """
    ranges = []
    low, high = 0, size
    while high - low > 1:
        middle = low + _split(high - low)
        if index < middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
    return reversed(ranges)


def _subproof_ranges(size1: int, size2: int) -> Iterator[tuple[int, int]]:
    """Leaf ranges whose roots form PROOF(size1, D[0:size2]) = SUBPROOF(size1, D, true).

    The same loop over RFC 9162 §2.1.4.1's recursion: `complete` is the RFC's flag `b`,
    which drops the old root from the proof while it is a subtree the verifier already has.
    """
    ranges = []
    low, high = 0, size2
    complete = True
    while size1 != high:
        middle = low + _split(high - low)
        if size1 <= middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
            complete = False  # tested only for truth: a falsy mutant (None) is equivalent
    if not complete:
        ranges.append((low, high))
    return reversed(ranges)


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[0:n]) for the tree over all of `leaf_hashes` (RFC 9162 §2.1.3.1).

    To prove against an older tree head, pass the first `size` leaf hashes only. Raises
    ValueError when the index is not in the tree: there is nothing to prove then.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    return [_range_root(leaf_hashes, start, end) for start, end in _path_ranges(index, size)]


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(size1, D[0:n]) that the tree of size `size1` is a prefix (RFC 9162 §2.1.4.1).

    RFC 9162 defines it for 0 < size1 <= n (empty when equal); the empty tree is a
    prefix of every tree without proof, so size1 = 0 raises ValueError like any
    out-of-range size.
    """
    size2 = len(leaf_hashes)
    if not 0 < size1 <= size2:
        raise ValueError(f"a consistency proof needs 0 < size1 <= {size2}, got size1={size1}")
    return [_range_root(leaf_hashes, start, end) for start, end in _subproof_ranges(size1, size2)]


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise ProofError(
                f"proof[{position}] is {len(value)} bytes, not a {HASH_SIZE}-byte hash"
            )


def _same(calculated: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(calculated, expected)


def verify_inclusion(
    index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree (`tree_size`, `root`).

    RFC 9162 §2.1.3.2 step by step; raises ProofError naming the first thing wrong.
    """
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is not in a tree of size {tree_size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"the leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
    _check_proof_hashes(proof)
    fn, sn = index, tree_size - 1
    result = leaf_hash
    for sibling in proof:
        if sn == 0:
            raise ProofError(f"the proof has more hashes than a tree of size {tree_size} needs")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"the proof has fewer hashes than a tree of size {tree_size} needs")
    if not _same(result, root):
        raise ProofError(
            f"the proof does not lead to the root: leaf {index} is not in this tree "
            f"(computed {result.hex()})"
        )


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (`size1`, `root1`) is a prefix of the tree (`size2`, `root2`).

    RFC 9162 §2.1.4.2 step by step. Equal sizes need an empty proof and equal roots.
    size1 = 0 is refused, as in the RFC and the transparency-dev vectors: the empty tree
    is trivially a prefix, so a caller holding an empty checkpoint needs no proof.
    """
    if size1 < 0 or size2 < size1:
        raise ProofError(f"size1 {size1} is not between 0 and size2 {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing (size1 = 0)")
    if size1 == size2:
        if proof:
            raise ProofError("the trees have the same size, so the proof must be empty")
        if not _same(root1, root2):
            raise ProofError(f"two different roots for the same tree size {size1}")
        return
    if not proof:
        raise ProofError("the proof is empty but the tree sizes differ")
    _check_proof_hashes(proof)
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        # The old tree is a single perfect subtree of the new one: its root starts the path.
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for value in path[1:]:
        if sn == 0:
            raise ProofError(f"the proof has more hashes than sizes {size1} -> {size2} need")
        if fn & 1 or fn == sn:
            first = node_hash(value, first)
            second = node_hash(value, second)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, value)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"the proof has fewer hashes than sizes {size1} -> {size2} need")
    if not _same(first, root1):
        raise ProofError(f"the proof does not lead to root1 of the tree of size {size1}")
    if not _same(second, root2):
        raise ProofError(f"the proof does not lead to root2 of the tree of size {size2}")
