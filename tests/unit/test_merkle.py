"""RFC 9162 hashing and proofs: public vectors, the RFC's own definitions, and tampering.

The vectors show we agree with other implementations; the slicing reference below is
RFC 9162 §2.1 transcribed literally, so agreement with it for every small tree shows the
fast iterative code computes the same trees, not just trees that happen to verify.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

REPO = Path(__file__).resolve().parents[2]
# The in-repo copy keeps the tests self-contained; the sibling shared/ folder is the
# fallback for checkouts that have not copied it.
VECTOR_DIRS = (
    REPO / "tests" / "vectors" / "rfc9162",
    REPO.parent / "shared" / "vectors" / "rfc9162",
)
VECTORS = next((path for path in VECTOR_DIRS if path.is_dir()), VECTOR_DIRS[0])
VECTOR_FILES = sorted(VECTORS.rglob("*.json"))

MAX_SIZE = 64


# --- RFC 9162 §2.1, transcribed with list slicing -------------------------------------
# The reference hashes with hashlib itself, not with the module's node_hash, and remembers
# each subtree's hash: it stays independent of the code under test, and the exhaustive
# tests below (every tree to 64 leaves) spend their time in that code, which keeps each
# mutant's run short under mutmut (README, "Mutation testing").


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@functools.cache
def _mth(leaves: tuple[bytes, ...]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _k(n)
    return _node(_mth(leaves[:k]), _mth(leaves[k:]))


def reference_mth(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (RFC 9162 §2.1.1), recursion and slices as written."""
    return _mth(tuple(leaves))


def reference_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1)."""
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_mth(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_mth(leaves[:k])]


def reference_subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (RFC 9162 §2.1.4.1)."""
    n = len(leaves)
    if m == n:
        return [] if complete else [reference_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], complete), reference_mth(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_mth(leaves[:k])]


# Hashed here, not with leaf_hash: the module must load even when the code under test is
# broken (a mutant of leaf_hash), so that its tests fail rather than vanish.
LEAVES = tuple(hashlib.sha256(b"\x00" + f"event {i}".encode()).digest() for i in range(MAX_SIZE))


def flip(value: bytes, bit: int = 0) -> bytes:
    """The same hash with one bit changed."""
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


# --- public vectors ------------------------------------------------------------------


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _run_vector(case: dict[str, Any]) -> None:
    proof = [_b64(item) for item in case.get("proof") or []]
    if "leafIdx" in case:
        verify_inclusion(
            case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"])
        )
    else:
        verify_consistency(
            case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), proof
        )


def test_the_vector_copy_holds_every_kind_of_case() -> None:
    folders = {path.relative_to(VECTORS).parts[:2] for path in VECTOR_FILES}
    for kind in ("inclusion", "consistency"):
        for folder in ("0", "1", "2", "3", "4", "additional"):
            assert (kind, folder) in folders, (kind, folder)
    assert ("inclusion", "single-entry") in folders
    assert (VECTORS / "LICENSE").is_file()
    assert len(VECTOR_FILES) >= 190


@pytest.mark.parametrize(
    "path", VECTOR_FILES, ids=[str(p.relative_to(VECTORS)) for p in VECTOR_FILES]
)
def test_every_public_vector_verifies_or_is_refused_as_it_says(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    if case["wantErr"]:
        # Only ProofError is acceptable: anything else escapes and fails the test.
        with pytest.raises(ProofError):
            _run_vector(case)
    else:
        _run_vector(case)


# --- hashing and roots ---------------------------------------------------------------


def test_leaf_and_node_hashes_use_the_rfc_domain_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )


def test_the_empty_tree_hashes_to_the_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_hash([]) == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT


def test_roots_of_the_rfc_6962_test_tree_match_the_published_values() -> None:
    # The eight leaves and roots used by every CT implementation's tests.
    data = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        bytes(range(0x50, 0x58)),
        bytes(range(0x60, 0x70)),
    ]
    roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    leaves = [leaf_hash(item) for item in data]
    for size, expected in enumerate(roots, start=1):
        assert root_hash(leaves[:size]).hex() == expected


def test_root_hash_and_compact_range_match_the_rfc_definition_for_every_size_to_64() -> None:
    tree = CompactRange()
    for size in range(MAX_SIZE + 1):
        expected = reference_mth(LEAVES[:size])
        assert root_hash(LEAVES[:size]) == expected
        assert tree.size == size
        assert tree.root() == expected
        assert len(tree.hashes) == size.bit_count()
        if size < MAX_SIZE:
            tree.append(LEAVES[size])


def test_a_stored_compact_range_continues_exactly_where_it_left_off() -> None:
    for split in range(MAX_SIZE + 1):
        first = CompactRange()
        first.extend(LEAVES[:split])
        stored = json.loads(json.dumps(first.to_json()))
        restored = CompactRange.from_json(stored)
        assert restored == first
        restored.extend(LEAVES[split:])
        assert restored.root() == root_hash(LEAVES)


def test_compact_range_json_is_size_and_hex_hashes_largest_subtree_first() -> None:
    tree = CompactRange()
    tree.extend(LEAVES[:6])
    assert tree.to_json() == {
        "size": 6,
        "hashes": [reference_mth(LEAVES[:4]).hex(), reference_mth(LEAVES[4:6]).hex()],
    }


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"size": 3, "hashes": [LEAVES[0].hex()]}, "of size 3 holds 2 hashes, got 1"),
        ({"size": 1, "hashes": ["zz" * 32]}, "hashes[0] is not 64 hex digits"),
        ({"size": 1, "hashes": [LEAVES[0].hex()[:-2]]}, "hashes[0] is not 64 hex digits"),
        ({"size": 1, "hashes": [7]}, "hashes[0] is not 64 hex digits"),
        ({"size": -1, "hashes": []}, "non-negative integer, got -1"),
        ({"size": True, "hashes": [LEAVES[0].hex()]}, "'size' must be an integer, got True"),
        ({"size": "1", "hashes": [LEAVES[0].hex()]}, "'size' must be an integer, got '1'"),
        ({"size": 0}, "'hashes' must be a list, got None"),
    ],
)
def test_a_compact_range_that_is_not_what_to_json_wrote_is_refused_saying_why(
    data: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError) as refused:
        CompactRange.from_json(data)
    assert reason in str(refused.value)


@pytest.mark.parametrize("size", [True, "1", 1.0, None, -1])
def test_a_compact_range_is_built_only_from_a_non_negative_integer_size(size: Any) -> None:
    # True would pass for 1 (bool is an int) and 1.0 has no bit count: both are refused
    # with the same message as a negative size, not with a TypeError from deep inside.
    with pytest.raises(ValueError, match=r"^a compact range size is a non-negative integer, got "):
        CompactRange(size, [LEAVES[0]])


def test_a_compact_range_is_never_equal_to_something_else() -> None:
    assert (CompactRange() == EMPTY_ROOT) is False
    assert (CompactRange() == {"size": 0, "hashes": []}) is False


def test_compact_ranges_are_equal_only_with_the_same_size_and_the_same_subtrees() -> None:
    one, other = CompactRange(), CompactRange()
    one.append(LEAVES[0])
    other.append(LEAVES[1])
    assert one != other  # the same size, another leaf: another log
    other = CompactRange()
    other.extend(LEAVES[:2])
    assert one != other
    assert one == CompactRange.from_json(one.to_json())


def test_raw_entries_passed_instead_of_leaf_hashes_are_refused() -> None:
    with pytest.raises(ValueError, match="leaf_hash"):
        root_hash([b"not a hash"])
    with pytest.raises(ValueError):
        CompactRange().append(b"")


def test_copying_a_compact_range_leaves_the_original_untouched() -> None:
    tree = CompactRange()
    tree.extend(LEAVES[:5])
    trial = tree.copy()
    trial.append(LEAVES[5])
    assert tree.size == 5
    assert trial.size == 6


# --- inclusion -----------------------------------------------------------------------


def test_inclusion_proofs_match_the_rfc_definition_and_verify_for_every_leaf_to_64() -> None:
    for size in range(1, MAX_SIZE + 1):
        leaves = LEAVES[:size]
        root = reference_mth(leaves)
        for index in range(size):
            proof = inclusion_proof(index, leaves)
            assert proof == reference_path(index, leaves), (index, size)
            verify_inclusion(index, size, leaves[index], proof, root)


def test_tampered_inclusion_proofs_leaves_roots_and_positions_are_refused() -> None:
    # The proofs and roots come from the reference: this test is about the verifier alone.
    for size in range(1, MAX_SIZE + 1):
        leaves = LEAVES[:size]
        root = reference_mth(leaves)
        for index in range(size):
            proof = reference_path(index, leaves)
            refused: list[tuple[int, int, bytes, list[bytes], bytes]] = [
                (index, size, flip(leaves[index]), proof, root),
                (index, size, leaves[index], proof, flip(root, 255)),
                (index, size, leaves[index], [*proof, root], root),
                # Not size + 1: a path can fit two sizes; the signed checkpoint vouches
                # for the size, as in RFC 9162, so it is not the proof's to defend.
                (index, size * 2, leaves[index], proof, root),
                (index + size, size, leaves[index], proof, root),
            ]
            refused += [
                (index, size, leaves[index], [*proof[:i], flip(p, 77), *proof[i + 1 :]], root)
                for i, p in enumerate(proof)
            ]
            if proof:
                refused.append((index, size, leaves[index], proof[:-1], root))
                refused.append((index, size, leaves[index], proof[1:], root))
            if size > 1:
                other = (index + 1) % size
                refused.append((other, size, leaves[index], proof, root))
            for case in refused:
                with pytest.raises(ProofError):
                    verify_inclusion(*case)


def test_asking_for_a_proof_of_a_leaf_outside_the_tree_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^leaf index 3 is not in a tree of size 3$"):
        inclusion_proof(3, LEAVES[:3])
    with pytest.raises(ValueError, match=r"^leaf index -1 is not in a tree of size 3$"):
        inclusion_proof(-1, LEAVES[:3])
    with pytest.raises(ValueError, match=r"^leaf index 0 is not in a tree of size 0$"):
        inclusion_proof(0, [])


# --- consistency ---------------------------------------------------------------------


def test_consistency_proofs_match_the_rfc_definition_and_verify_for_all_sizes_to_64() -> None:
    roots = [reference_mth(LEAVES[:size]) for size in range(MAX_SIZE + 1)]
    for size2 in range(1, MAX_SIZE + 1):
        leaves = LEAVES[:size2]
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(size1, leaves)
            assert proof == reference_subproof(size1, leaves, True), (size1, size2)
            verify_consistency(size1, size2, roots[size1], roots[size2], proof)


def test_tampered_consistency_proofs_roots_and_sizes_are_refused() -> None:
    # The proofs and roots come from the reference: this test is about the verifier alone.
    roots = [reference_mth(LEAVES[:size]) for size in range(MAX_SIZE + 1)]
    for size2 in range(2, MAX_SIZE + 1):
        for size1 in range(1, size2):
            proof = reference_subproof(size1, LEAVES[:size2], True)
            root1, root2 = roots[size1], roots[size2]
            refused: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
                (size1, size2, flip(root1), root2, proof),
                (size1, size2, root1, flip(root2), proof),
                (size1, size2, root2, root1, proof),
                (size1, size2, root1, root2, []),
                (size1, size2, root1, root2, proof[:-1]),
                (size1, size2, root1, root2, [*proof, root1]),
                (size1, size2, root1, root2, [root1, *proof]),
                (size2, size1, root2, root1, proof),
                (0, size2, EMPTY_ROOT, root2, proof),
            ]
            refused += [
                (size1, size2, root1, root2, [*proof[:i], flip(p, 200), *proof[i + 1 :]])
                for i, p in enumerate(proof)
            ]
            if size1 + 1 < size2:
                refused.append((size1 + 1, size2, root1, root2, proof))
            # Not size2 + 1: as with inclusion, the signed checkpoint vouches for sizes.
            refused.append((size1, size2 * 2, root1, root2, proof))
            for case in refused:
                with pytest.raises(ProofError):
                    verify_consistency(*case)


def test_a_consistency_check_says_which_sizes_it_refuses() -> None:
    root3, root5 = root_hash(LEAVES[:3]), root_hash(LEAVES[:5])
    with pytest.raises(ProofError, match="size1 5 is not between 0 and size2 3"):
        verify_consistency(5, 3, root5, root3, consistency_proof(3, LEAVES[:5]))
    with pytest.raises(ProofError, match="size1 -1 is not between 0 and size2 3"):
        verify_consistency(-1, 3, root3, root3, [])
    with pytest.raises(ValueError, match="needs 0 < size1 <= 4, got size1=0"):
        consistency_proof(0, LEAVES[:4])


def _refusals() -> list[tuple[Any, str]]:
    # Built from the reference alone: it runs at import, to parametrize the test below.
    leaves = LEAVES[:5]
    root3, root5 = reference_mth(leaves[:3]), reference_mth(leaves)
    path = reference_path(0, leaves)
    proof = reference_subproof(3, leaves, True)
    return [
        (
            lambda: verify_inclusion(5, 5, leaves[0], path, root5),
            "leaf index 5 is not in a tree of size 5",
        ),
        (lambda: verify_inclusion(0, 5, b"abc", path, root5), "the leaf hash is 3 bytes, not 32"),
        (
            lambda: verify_inclusion(0, 5, leaves[0], [path[0], b"abc"], root5),
            "proof[1] is 3 bytes, not a 32-byte hash",
        ),
        (
            lambda: verify_inclusion(0, 5, leaves[0], [*path, root5], root5),
            "the proof has more hashes than a tree of size 5 needs",
        ),
        (
            lambda: verify_inclusion(0, 5, leaves[0], path[:-1], root5),
            "the proof has fewer hashes than a tree of size 5 needs",
        ),
        (
            lambda: verify_inclusion(0, 5, leaves[1], path, root5),
            "the proof does not lead to the root: leaf 0 is not in this tree (computed ",
        ),
        (
            lambda: verify_consistency(5, 5, root5, root5, [root5]),
            "the trees have the same size, so the proof must be empty",
        ),
        (
            lambda: verify_consistency(5, 5, root5, root3, []),
            "two different roots for the same tree size 5",
        ),
        (
            lambda: verify_consistency(3, 5, root3, root5, []),
            "the proof is empty but the tree sizes differ",
        ),
        (
            lambda: verify_consistency(3, 5, root3, root5, [*proof, root5]),
            "the proof has more hashes than sizes 3 -> 5 need",
        ),
        (
            lambda: verify_consistency(3, 5, root3, root5, proof[:-1]),
            "the proof has fewer hashes than sizes 3 -> 5 need",
        ),
        (
            lambda: verify_consistency(3, 5, flip(root3), root5, proof),
            "the proof does not lead to root1 of the tree of size 3",
        ),
        (
            lambda: verify_consistency(3, 5, root3, flip(root5), proof),
            "the proof does not lead to root2 of the tree of size 5",
        ),
    ]


@pytest.mark.parametrize("case", range(len(_refusals())))
def test_a_refused_proof_says_what_is_wrong_with_it(case: int) -> None:
    attempt, reason = _refusals()[case]
    with pytest.raises(ProofError) as refused:
        attempt()
    assert str(refused.value).startswith(reason), str(refused.value)


def test_equal_sizes_need_equal_roots_and_an_empty_proof() -> None:
    root = root_hash(LEAVES[:5])
    verify_consistency(5, 5, root, root, [])
    assert consistency_proof(5, LEAVES[:5]) == []
    with pytest.raises(ProofError):
        verify_consistency(5, 5, root, flip(root), [])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, root, root, [root])


def test_a_consistency_proof_from_the_empty_tree_is_neither_made_nor_accepted() -> None:
    with pytest.raises(ValueError):
        consistency_proof(0, LEAVES[:4])
    for size2 in (0, 4):
        with pytest.raises(
            ProofError,
            match=r"^a consistency proof from the empty tree proves nothing \(size1 = 0\)$",
        ):
            verify_consistency(0, size2, EMPTY_ROOT, root_hash(LEAVES[:size2]), [])
    with pytest.raises(ValueError):
        consistency_proof(5, LEAVES[:4])


# --- property ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.binary(max_size=8), min_size=1, max_size=300),
    picks=st.tuples(st.integers(min_value=0), st.integers(min_value=0)),
)
def test_any_log_proves_its_leaves_and_its_prefixes(
    data: list[bytes], picks: tuple[int, int]
) -> None:
    leaves = [leaf_hash(item) for item in data]
    size = len(leaves)
    index, size1 = picks[0] % size, picks[1] % size + 1
    root = root_hash(leaves)
    assert root == reference_mth(leaves)
    proof = inclusion_proof(index, leaves)
    assert proof == reference_path(index, leaves)
    verify_inclusion(index, size, leaves[index], proof, root)
    cons = consistency_proof(size1, leaves)
    assert cons == reference_subproof(size1, leaves, True)
    verify_consistency(size1, size, root_hash(leaves[:size1]), root, cons)
