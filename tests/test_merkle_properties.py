"""Hypothesis: random trees up to a few thousand leaves, both suites. Every proof
verifies; any bit flip, truncation, extension, wrong index or wrong size fails; the
incremental tree's roots equal the naive recursive root; native and pure-Python
verifiers agree on everything."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import given, settings, strategies as st

from ledger_core import merkle, proofs
from ledger_core.merkle import MerkleTree

SUITES = st.sampled_from(["blake3", "sha256"])
HASHER = {"blake3": merkle.BLAKE3, "sha256": merkle.SHA256}


@functools.lru_cache(maxsize=8)
def built_tree(suite: str, size: int, seed: int) -> MerkleTree:
    tree = MerkleTree(suite)
    hashes = np.random.default_rng(seed).integers(0, 256, size=(size, 32), dtype=np.uint8)
    # Appended in uneven batches, so that batch edges fall anywhere.
    rng = np.random.default_rng(seed + 1)
    done = 0
    while done < size:
        step = int(rng.integers(1, 700))
        tree.extend_hashes(hashes[done : done + step])
        done += step
    return tree


def both_verify_inclusion(suite, leaf, index, size, proof, root) -> bool:
    native = merkle.verify_inclusion(suite, index, size, leaf, proof, root)
    pure = proofs.verify_inclusion(suite, index, size, leaf, proof, root)
    assert native is pure, "native and pure-Python verifiers disagree"
    return native


def both_verify_consistency(suite, old, new, old_root, new_root, proof) -> bool:
    native = merkle.verify_consistency(suite, old, new, proof, old_root, new_root)
    pure = proofs.verify_consistency(suite, old, new, proof, old_root, new_root)
    assert native is pure, "native and pure-Python verifiers disagree"
    return native


def flip(proof, element: int, bit: int):
    changed = bytearray(proof[element])
    changed[bit // 8] ^= 1 << (bit % 8)
    return proof[:element] + [bytes(changed)] + proof[element + 1 :]


def path_sides(level: int, index: int, size: int):
    """Which side the node on the path stands at, for each level that has a sibling in the
    tree of `size` leaves: the shape of the sibling path (from the tree's definition)."""
    sides = []
    while level < (size - 1).bit_length():
        if ((index ^ 1) << level) < size:
            sides.append(index & 1)
        level, index = level + 1, index >> 1
    return sides


def inclusion_shape(index: int, size: int):
    return path_sides(0, index, size)


def consistency_shape(old: int, new: int):
    level = (old & -old).bit_length() - 1
    return ((old >> level) == 1, path_sides(level, (old >> level) - 1, new))


tree_params = st.tuples(SUITES, st.integers(1, 3000), st.integers(0, 3))


@given(tree_params, st.data())
def test_inclusion_proofs_verify_and_every_mutation_fails(params, data):
    suite, size_now, seed = params
    tree = built_tree(suite, size_now, seed)
    size = data.draw(st.integers(1, size_now), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root, leaf = tree.root(size), tree.leaf_hash(index)
    proof = list(tree.inclusion_proof(index, size).hashes)
    assert both_verify_inclusion(suite, leaf, index, size, proof, root)

    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        assert not both_verify_inclusion(suite, leaf, index, size, flip(proof, element, bit), root)
        assert not both_verify_inclusion(suite, leaf, index, size, proof[:-1], root)
        assert not both_verify_inclusion(suite, leaf, index, size, proof[1:], root)
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    assert not both_verify_inclusion(suite, leaf, index, size, proof + [extra], root)
    assert not both_verify_inclusion(suite, leaf, index, size, [extra] + proof, root)
    bit = data.draw(st.integers(0, 255), label="leaf bit")
    assert not both_verify_inclusion(suite, flip([leaf], 0, bit)[0], index, size, proof, root)
    assert not both_verify_inclusion(suite, leaf, index, size, proof, flip([root], 0, bit)[0])

    # A wrong index or size fails, except where the RFC 9162 verifier cannot tell: a size
    # (or index) whose proof has the same shape gives the same computation, so only the
    # root binds the size (checkpoints sign size and root together).
    other_index = data.draw(st.integers(0, size), label="other index")
    if other_index != index:
        expected = other_index < size and inclusion_shape(other_index, size) == inclusion_shape(index, size)
        assert both_verify_inclusion(suite, leaf, other_index, size, proof, root) is expected
    other_size = data.draw(st.integers(0, 4 * size + 2), label="other size")
    if other_size != size:
        expected = index < other_size and inclusion_shape(index, other_size) == inclusion_shape(index, size)
        assert both_verify_inclusion(suite, leaf, index, other_size, proof, root) is expected


@given(tree_params, st.data())
def test_consistency_proofs_verify_and_every_mutation_fails(params, data):
    suite, size_now, seed = params
    tree = built_tree(suite, size_now, seed)
    new = data.draw(st.integers(1, size_now), label="new")
    old = data.draw(st.integers(1, new), label="old")
    old_root, new_root = tree.root(old), tree.root(new)
    proof = list(tree.consistency_proof(old, new).hashes)
    assert both_verify_consistency(suite, old, new, old_root, new_root, proof)
    assert (proof == []) is (old == new)
    if old == new:
        assert not both_verify_consistency(suite, old, new, old_root, new_root, [old_root])
        return
    element = data.draw(st.integers(0, len(proof) - 1), label="element")
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not both_verify_consistency(suite, old, new, old_root, new_root, flip(proof, element, bit))
    assert not both_verify_consistency(suite, old, new, old_root, new_root, proof[:-1])
    assert not both_verify_consistency(suite, old, new, old_root, new_root, proof[1:])
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    assert not both_verify_consistency(suite, old, new, old_root, new_root, proof + [extra])
    assert not both_verify_consistency(suite, old, new, new_root, old_root, proof)
    assert not both_verify_consistency(suite, old, new, flip([old_root], 0, bit)[0], new_root, proof)
    assert not both_verify_consistency(suite, old, new, old_root, flip([new_root], 0, bit)[0], proof)
    assert not both_verify_consistency(suite, 0, new, old_root, new_root, proof)
    shape = consistency_shape(old, new)
    wrong_olds = {old - 1, old + 1, old ^ 2, data.draw(st.integers(0, new), label="wrong old")}
    for wrong_old in wrong_olds - {old}:
        expected = 0 < wrong_old < new and consistency_shape(wrong_old, new) == shape
        assert both_verify_consistency(suite, wrong_old, new, old_root, new_root, proof) is expected
    wrong_news = {new - 1, new + 1, 2 * new, data.draw(st.integers(0, 4 * new), label="wrong new")}
    for wrong_new in wrong_news - {new}:
        expected = old < wrong_new and consistency_shape(old, wrong_new) == shape
        assert both_verify_consistency(suite, old, wrong_new, old_root, new_root, proof) is expected


def naive_root(suite, hashes):
    if not hashes:
        return HASHER[suite].empty_root()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return HASHER[suite].hash_children(naive_root(suite, hashes[:k]), naive_root(suite, hashes[k:]))


@settings(max_examples=100)
@given(SUITES, st.lists(st.binary(max_size=80), max_size=150), st.lists(st.integers(1, 40), max_size=10))
def test_incremental_roots_equal_the_naive_root_at_every_size(suite, leaves, batches):
    tree = MerkleTree(suite)
    hashes = []
    done = 0
    for step in batches + [len(leaves)]:
        batch = leaves[done : done + step]
        tree.extend(batch)
        hashes += [HASHER[suite].hash_leaf(leaf) for leaf in batch]
        done += len(batch)
        assert tree.root() == naive_root(suite, hashes)
    assert tree.size == len(leaves)
    for n in range(len(leaves) + 1):
        assert tree.root(n) == naive_root(suite, hashes[:n])
    assert proofs.root(suite, hashes) == tree.root()


@given(
    SUITES,
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**64 + 5),
    st.integers(0, 2**64 + 5),
    st.lists(st.binary(min_size=30, max_size=33), max_size=6),
    st.binary(min_size=31, max_size=33),
)
def test_verifiers_agree_on_arbitrary_inputs(suite, leaf, index, size, proof, root):
    native = merkle.verify_inclusion(suite, index, size, leaf, proof, root)
    pure = proofs.verify_inclusion(suite, index, size, leaf, proof, root)
    assert native is pure
    native = merkle.verify_consistency(suite, index, size, proof, leaf, root)
    pure = proofs.verify_consistency(suite, index, size, proof, leaf, root)
    assert native is pure
