"""The Merkle log: the RFC 9162 / transparency-dev vectors (sha256 suite), the blake3
suite against an independent root computed with the `blake3` package, every way of
appending, roots and proofs at past sizes, and argument errors."""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path

import blake3 as blake3_ref
import numpy as np

import ledger_core
import pytest

from ledger_core import merkle, proofs
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, OutOfRangeError
from ledger_core.merkle import MerkleTree

from conftest import VECTORS, load_vectors
from merkle_reference import K_LEAF, K_NODE, ref_leaf, ref_node, ref_root

RFC = VECTORS / "rfc9162"
REFERENCE = load_vectors("rfc9162/rfc6962_reference_roots.json")
REFERENCE_LEAVES = [bytes.fromhex(h) for h in REFERENCE["leaf_inputs_hex"]]




def vector_files(kind: str):
    files = sorted((RFC / kind).rglob("*.json"))
    if not files:
        pytest.fail(f"no {kind} vectors under {RFC} (set LEDGER_CORE_SHARED)")
    return files


def b64(value):
    return base64.b64decode(value) if value else b""


def b64_proof(proof):
    return [] if proof is None else [b64(p) for p in proof]


VERIFIERS = {
    "native": (merkle.verify_inclusion, merkle.verify_consistency),
    "pure": (proofs.verify_inclusion, proofs.verify_consistency),
}
HASHER = {"blake3": merkle.BLAKE3, "sha256": merkle.SHA256}


def packed(buffer, offsets):
    """Leaves in one buffer with N + 1 offsets (issue 12 item 2: a tuple is always a
    sequence of items, so the packed layout is said by type)."""
    return ledger_core.Packed(buffer, offsets)


def random_leaf_hashes(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, 32), dtype=np.uint8)


# --- the sha256 suite is RFC 9162 ---------------------------------------------------------


def test_reference_leaf_hashes_and_roots_for_sizes_0_to_8():
    tree = MerkleTree("sha256")
    assert tree.root().hex() == REFERENCE["root_by_tree_size_hex"]["0"]
    for i, leaf in enumerate(REFERENCE_LEAVES):
        assert tree.append(leaf) == i
        assert tree.leaf_hash(i).hex() == REFERENCE["leaf_hashes_hex"][i]
        assert merkle.SHA256.hash_leaf(leaf).hex() == REFERENCE["leaf_hashes_hex"][i]
        assert tree.root().hex() == REFERENCE["root_by_tree_size_hex"][str(i + 1)]
    for size, root in REFERENCE["root_by_tree_size_hex"].items():
        assert tree.root(int(size)).hex() == root


def test_tessera_testdata_log_root():
    data = REFERENCE["tessera_testdata_log"]
    tree = MerkleTree("sha256")
    tree.extend([e.encode() for e in data["entries_utf8_in_order"]])
    assert tree.size == 15
    assert tree.root() == base64.b64decode(data["root_size15_b64"])


@pytest.mark.parametrize("verifier", sorted(VERIFIERS))
@pytest.mark.parametrize("path", vector_files("inclusion"), ids=lambda p: str(p.relative_to(RFC)))
def test_inclusion_vectors(path, verifier):
    case = json.loads(path.read_text())
    verify = VERIFIERS[verifier][0]
    ok = verify("sha256", case["leafIdx"], case["treeSize"], b64(case["leafHash"]), b64_proof(case["proof"]), b64(case["root"]))
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("verifier", sorted(VERIFIERS))
@pytest.mark.parametrize("path", vector_files("consistency"), ids=lambda p: str(p.relative_to(RFC)))
def test_consistency_vectors(path, verifier):
    case = json.loads(path.read_text())
    verify = VERIFIERS[verifier][1]
    root1, root2 = b64(case["root1"]), b64(case["root2"])
    ok = verify("sha256", case["size1"], case["size2"], b64_proof(case["proof"]), root1, root2)
    # One deliberate difference from transparency-dev: at equal sizes they compare roots of
    # any length ("sizes are equal (one)" has 12-byte roots and wantErr false); a root that
    # is not 32 bytes is malformed here, False at every size (issue 12 item 5).
    want = not case["wantErr"] and len(root1) == len(root2) == 32
    assert ok is want, case["desc"]


def _reference_tree() -> MerkleTree:
    tree = MerkleTree("sha256")
    tree.extend(REFERENCE_LEAVES)
    return tree


def test_tree_produces_the_happy_path_proofs_of_the_vectors():
    tree = _reference_tree()
    checked = 0
    for path in vector_files("inclusion"):
        case = json.loads(path.read_text())
        if case["desc"] != "happy path" or case["treeSize"] > tree.size:
            continue
        if tree.root(case["treeSize"]) != b64(case["root"]):
            continue
        assert tree.leaf_hash(case["leafIdx"]) == b64(case["leafHash"])
        assert tree.inclusion_proof(case["leafIdx"], case["treeSize"]).hashes == b64_proof(case["proof"])
        checked += 1
    for path in vector_files("consistency"):
        case = json.loads(path.read_text())
        if case["desc"] != "happy path" or case["size2"] > tree.size or case["size1"] == 0:
            continue
        if tree.root(case["size2"]) != b64(case["root2"]):
            continue
        assert tree.root(case["size1"]) == b64(case["root1"])
        assert tree.consistency_proof(case["size1"], case["size2"]).hashes == b64_proof(case["proof"])
        checked += 1
    assert checked >= 4


def test_rfc6962_example_proofs_of_the_seven_leaf_tree():
    """RFC 6962 2.1.3: the 7-leaf tree a..g, proofs named by their nodes."""
    tree = MerkleTree("sha256")
    tree.extend(REFERENCE_LEAVES[:7])
    leaf = [tree.leaf_hash(i) for i in range(7)]
    node = merkle.SHA256.hash_children  # noqa: E731
    g, h = node(leaf[0], leaf[1]), node(leaf[2], leaf[3])
    i, k = node(leaf[4], leaf[5]), node(g, h)
    l_ = node(i, leaf[6])
    assert tree.inclusion_proof(0).hashes == [leaf[1], h, l_]
    assert tree.inclusion_proof(3).hashes == [leaf[2], g, l_]
    assert tree.inclusion_proof(4).hashes == [leaf[5], leaf[6], k]
    assert tree.inclusion_proof(6).hashes == [i, k]
    assert tree.consistency_proof(3, 7).hashes == [leaf[2], leaf[3], g, l_]
    assert tree.consistency_proof(4, 7).hashes == [l_]
    assert tree.consistency_proof(6, 7).hashes == [i, leaf[6], k]


# --- the blake3 suite against the blake3 package ------------------------------------------


def test_blake3_keys_and_empty_root_match_the_blake3_package():
    assert proofs.K_LEAF == K_LEAF and proofs.K_NODE == K_NODE
    assert merkle.BLAKE3.empty_root() == blake3_ref.blake3(b"", key=K_NODE).digest()
    assert MerkleTree().root() == merkle.BLAKE3.empty_root()
    assert MerkleTree().hasher is merkle.BLAKE3


@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 70000])
def test_blake3_leaf_hash_matches_the_blake3_package(length):
    data = np.random.default_rng(length).integers(0, 256, size=length, dtype=np.uint8).tobytes()
    assert merkle.BLAKE3.hash_leaf(data) == ref_leaf("blake3", data)
    tree = MerkleTree()
    tree.append(data)
    tree.extend([data, data])
    tree.extend(np.frombuffer(data, np.uint8).reshape(1, length) if length else np.zeros((1, 0), np.uint8))
    assert [tree.leaf_hash(i) for i in range(4)] == [ref_leaf("blake3", data)] * 4


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_roots_at_every_size_match_the_independent_recursive_root(suite):
    rng = np.random.default_rng(7)
    leaves = [rng.integers(0, 256, size=int(rng.integers(0, 200)), dtype=np.uint8).tobytes() for _ in range(140)]
    leaf_hashes = [ref_leaf(suite, leaf) for leaf in leaves]
    tree = MerkleTree(suite)
    for n, leaf in enumerate(leaves):
        assert tree.root() == ref_root(suite, leaf_hashes[:n])
        tree.append(leaf)
    for n in range(len(leaves) + 1):
        assert tree.root(n) == ref_root(suite, leaf_hashes[:n])


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_large_batch_root_matches_the_independent_root(suite):
    hashes = random_leaf_hashes(70_001, 3)
    tree = MerkleTree(suite)
    assert tree.extend_hashes(hashes) == 0
    rows = [bytes(r) for r in hashes]
    assert tree.root() == ref_root(suite, rows)
    assert tree.root(65_536) == ref_root(suite, rows[:65_536])
    assert tree.root(40_000) == ref_root(suite, rows[:40_000])


# --- appending ----------------------------------------------------------------------------


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_every_way_of_appending_gives_the_same_tree(suite):
    rng = np.random.default_rng(11)
    fixed = rng.integers(0, 256, size=(37, 48), dtype=np.uint8)
    as_list = [bytes(r) for r in fixed]
    buffer = fixed.tobytes()
    offsets = np.arange(0, 48 * 38, 48, dtype=np.uint64)
    one_by_one = MerkleTree(suite)
    for row in as_list:
        one_by_one.append(row)
    trees = [MerkleTree(suite) for _ in range(4)]
    assert trees[0].extend(fixed) == 0
    assert trees[1].extend(as_list) == 0
    assert trees[2].extend(packed(buffer, offsets)) == 0
    assert trees[3].extend_hashes([HASHER[suite].hash_leaf(r) for r in as_list]) == 0
    for tree in trees:
        assert tree.size == 37
        assert tree.root() == one_by_one.root()
        assert [tree.leaf_hash(i) for i in range(37)] == [one_by_one.leaf_hash(i) for i in range(37)]


def test_extend_returns_the_first_index_and_batches_split_anywhere():
    hashes = random_leaf_hashes(5000, 5)
    whole = MerkleTree()
    whole.extend_hashes(hashes)
    pieces = MerkleTree()
    cuts = [0, 1, 2, 3, 8, 9, 100, 1023, 1024, 1025, 3000, 4999, 5000]
    for lo, hi in zip(cuts, cuts[1:]):
        assert pieces.extend_hashes(hashes[lo:hi]) == lo
        assert pieces.size == hi
        assert pieces.root() == whole.root(hi)
    assert pieces.root() == whole.root()


def test_empty_batches_change_nothing():
    tree = MerkleTree()
    assert tree.extend([]) == 0
    assert tree.extend_hashes(np.zeros((0, 32), np.uint8)) == 0
    tree.append(b"x")
    assert tree.extend([]) == 1
    assert tree.size == 1


def test_variable_length_leaves_through_offsets():
    items = [b"", b"a", b"bc" * 600, b"", b"d" * 1025]
    buffer = b"".join(items)
    offsets = np.cumsum([0] + [len(i) for i in items]).astype(np.uint64)
    tree = MerkleTree()
    tree.extend(packed(buffer, offsets))
    assert [tree.leaf_hash(i) for i in range(5)] == [ref_leaf("blake3", i) for i in items]


def test_concurrent_readers_while_appending_see_consistent_roots():
    hashes = random_leaf_hashes(200_000, 9)
    reference = MerkleTree()
    reference.extend_hashes(hashes)
    tree = MerkleTree()
    tree.extend_hashes(hashes[:1000])
    errors = []

    def reader():
        for _ in range(200):
            size = tree.size
            if tree.root(size) != reference.root(size):
                errors.append(size)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for lo in range(1000, 200_000, 39_800):
        tree.extend_hashes(hashes[lo : lo + 39_800])
    for t in threads:
        t.join()
    assert not errors
    assert tree.root() == reference.root()


# --- proofs at past sizes -----------------------------------------------------------------


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_every_proof_of_a_small_tree_verifies_at_every_size(suite):
    tree = MerkleTree(suite)
    tree.extend([bytes([i]) * (i % 7) for i in range(33)])
    for size in range(1, 34):
        root = tree.root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert merkle.verify_inclusion(suite, index, size, tree.leaf_hash(index), proof.hashes, root)
            assert proof.verify(tree.leaf_hash(index), root)
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            assert merkle.verify_consistency(suite, old, size, proof.hashes, tree.root(old), root)
            assert proof.verify(tree.root(old), root)
            assert (proof.hashes == []) is (old == size)


def test_proof_lengths_are_logarithmic():
    tree = MerkleTree()
    tree.extend_hashes(random_leaf_hashes(100_003, 1))
    assert len(tree.inclusion_proof(0).hashes) == 17
    assert len(tree.inclusion_proof(100_002).hashes) <= 17
    assert len(tree.consistency_proof(1).hashes) <= 17
    assert len(tree.consistency_proof(65_537).hashes) <= 2 * 17


# --- errors -------------------------------------------------------------------------------


def test_out_of_range_sizes_and_indexes_raise_value_errors():
    tree = MerkleTree()
    tree.extend([b"a", b"b", b"c"])
    bad_calls = [
        lambda: tree.root(4),
        lambda: tree.leaf_hash(3),
        lambda: tree.inclusion_proof(3),
        lambda: tree.inclusion_proof(0, 4),
        lambda: tree.inclusion_proof(2, 2),
        lambda: tree.inclusion_proof(0, 0),
        lambda: tree.consistency_proof(0),  # a proof from the empty tree proves nothing
        lambda: tree.consistency_proof(0, 0),
        lambda: tree.consistency_proof(3, 2),
        lambda: tree.consistency_proof(1, 4),
        lambda: tree.root(-1),
        lambda: tree.leaf_hash(2**64),
    ]
    for call in bad_calls:
        with pytest.raises(OutOfRangeError):
            call()
        with pytest.raises(ValueError):
            call()
    assert MerkleTree().root(0) == merkle.BLAKE3.empty_root()


def test_wrong_types_and_hashers_raise():
    tree = MerkleTree()
    with pytest.raises(InvalidTypeError):
        tree.root(1.0)
    with pytest.raises(TypeError):
        tree.append("text")
    with pytest.raises(InvalidTypeError):
        tree.leaf_hash(True)
    with pytest.raises(InvalidArgumentError):
        MerkleTree("md5")
    with pytest.raises(InvalidTypeError, match="hasher"):
        MerkleTree(["blake3"])  # was "unhashable type" (issue 12 item 8)
    with pytest.raises(InvalidArgumentError):
        merkle.verify_inclusion("md5", 0, 1, bytes(32), [], bytes(32))
    with pytest.raises(ValueError):
        tree.extend_hashes(np.zeros((2, 31), np.uint8))
    with pytest.raises(ValueError):
        tree.extend_hashes([bytes(32), bytes(33)])
    assert tree.size == 0


def test_hashers_and_their_names_are_interchangeable():
    for name, hasher in HASHER.items():
        tree = MerkleTree(name)
        assert tree.hasher is hasher and MerkleTree(hasher).hasher is hasher
        assert MerkleTree(getattr(proofs, name.upper())).hasher is hasher
        assert hasher.name == name and repr(hasher) == f"ledger_core.merkle.{name.upper()}"
        assert hasher.hash_leaf(b"a") == ref_leaf(name, b"a")
        assert hasher.hash_children(bytes(32), bytes(range(32))) == ref_node(name, bytes(32), bytes(range(32)))
        assert hasher.empty_root() == ref_root(name, [])
    assert merkle.HASHERS == (merkle.BLAKE3, merkle.SHA256)
    assert merkle.available_hashers() == merkle.HASHERS
    with pytest.raises(AttributeError):
        merkle.BLAKE3.name = "sha256"
    with pytest.raises(InvalidArgumentError, match="left"):
        merkle.SHA256.hash_children(bytes(31), bytes(32))
    with pytest.raises(TypeError, match="data"):  # the class: test_api_errors_merkle.py
        merkle.BLAKE3.hash_leaf(None)


def test_proofs_carry_hasher_index_size_and_are_frozen():
    tree = MerkleTree("sha256")
    tree.extend([b"a", b"b", b"c"])
    proof = tree.inclusion_proof(1)
    assert (proof.hasher, proof.index, proof.size) == (merkle.SHA256, 1, 3)
    assert isinstance(proof, merkle.InclusionProof) and isinstance(proof, proofs.InclusionProof)
    assert proof.hashes == [tree.leaf_hash(0), tree.leaf_hash(2)] and isinstance(proof.hashes, list)
    for mutate in (lambda: setattr(proof, "index", 2), lambda: proof.hashes.append(bytes(32)),
                   lambda: proof.hashes.__setitem__(0, bytes(32))):
        with pytest.raises((AttributeError, TypeError)):
            mutate()
    assert proof.hashes == [tree.leaf_hash(0), tree.leaf_hash(2)]
    assert hash(proof) == hash(tree.inclusion_proof(1)) and proof == tree.inclusion_proof(1)
    for mutate in (lambda: setattr(proof, "hasher", merkle.BLAKE3), lambda: setattr(proof, "extra", 1),
                   lambda: delattr(proof, "size")):
        with pytest.raises(AttributeError):
            mutate()
    import copy
    import pickle

    for other in (pickle.loads(pickle.dumps(proof)), copy.deepcopy(proof), copy.copy(proof)):
        assert other == proof and type(other) is merkle.InclusionProof and other.hasher is merkle.SHA256
    # A proof built by hand equals the tree's, and carries claims only when given.
    assert merkle.InclusionProof("sha256", 1, 3, list(proof.hashes)) == proof
    assert merkle.InclusionProof("sha256", 1, 3, proof.hashes, root=tree.root()) != proof
    assert repr(proof).startswith("InclusionProof(hasher=ledger_core.merkle.SHA256, index=1, size=3, hashes=[")
    assert proof.verify(tree.leaf_hash(1), tree.root()) and not proof.verify(tree.leaf_hash(0), tree.root())
    cproof = tree.consistency_proof(2, 3)
    assert (cproof.hasher, cproof.size1, cproof.size2, cproof.hashes) == (merkle.SHA256, 2, 3, [tree.leaf_hash(2)])
    assert cproof.verify(tree.root(2), tree.root()) and not cproof.verify(tree.root(), tree.root(2))


# --- docs/FORMAT.md -----------------------------------------------------------------------

FORMAT_MD = Path(__file__).resolve().parents[1] / "docs" / "FORMAT.md"


def fenced_block(text: str, tag: str) -> str:
    match = re.search(rf"^```{tag}\n(.*?)^```$", text, re.S | re.M)
    assert match, f"no ```{tag} block in {FORMAT_MD}"
    return match.group(1)


def test_format_md_worked_examples():
    text = FORMAT_MD.read_text(encoding="utf-8")
    documented = {}
    for line in fenced_block(text, "merkle-examples").splitlines():
        name, _, values = line.partition("=")
        documented[name.strip()] = [bytes.fromhex(v) for v in values.split()]
    assert documented.pop("K_LEAF") == [K_LEAF] and documented.pop("K_NODE") == [K_NODE]
    for suite in ("blake3", "sha256"):
        tree = MerkleTree(suite)
        tree.extend([b"a", b"b", b"c"])
        leaves = [ref_leaf(suite, x) for x in (b"a", b"b", b"c")]
        expected = {
            "empty": [ref_root(suite, [])],
            "leaf(a)": [leaves[0]],
            "leaf(b)": [leaves[1]],
            "leaf(c)": [leaves[2]],
            "node(a, b)": [ref_node(suite, leaves[0], leaves[1])],
            "root(a, b, c)": [ref_root(suite, leaves)],
            "inclusion(0, 3)": tree.inclusion_proof(0).hashes,
            "inclusion(2, 3)": tree.inclusion_proof(2).hashes,
            "consistency(2, 3)": tree.consistency_proof(2).hashes,
        }
        for name, value in expected.items():
            assert documented.pop(f"{suite} {name}") == value, f"{suite} {name}"
        root = tree.root()
        assert merkle.verify_inclusion(suite, 0, 3, leaves[0], expected["inclusion(0, 3)"], root)
        assert proofs.verify_inclusion(suite, 2, 3, leaves[2], expected["inclusion(2, 3)"], root)
        assert proofs.verify_consistency(suite, 2, 3, expected["consistency(2, 3)"], tree.root(2), root)
    assert not documented, f"undocumented-by-test examples: {sorted(documented)}"

    tree = MerkleTree("blake3")
    tree.extend([b"a", b"b", b"c"])
    documented_json = fenced_block(text, "proof-json-examples").splitlines()
    assert documented_json == [
        tree.inclusion_proof(0).to_json(leaf_hash=tree.leaf_hash(0), root=tree.root()),
        tree.consistency_proof(2).to_json(root1=tree.root(2), root2=tree.root()),
        tree.inclusion_proof(2).to_json(),
    ]
    for line in documented_json:
        assert proofs.from_json(line).to_json() == line == merkle.from_json(line).to_json()
    assert proofs.from_json(documented_json[0]).verify(ref_leaf("blake3", b"a"), tree.root())
    assert proofs.from_json(documented_json[1]).verify(tree.root(2), tree.root())

    from ledger_core import checkpoint

    note = fenced_block(text, "checkpoint-example")
    tree = MerkleTree("blake3")
    tree.extend([b"a", b"b", b"c"])
    seed = bytes(32)
    origin = "example.com/ledger/blake3"
    assert note == checkpoint.sign(checkpoint.Checkpoint(origin, 3, tree.root()), seed)
    public_key = checkpoint.public_key_of(seed)
    assert public_key.hex() in text and checkpoint.verifier_key(origin, public_key) in text
    assert checkpoint.verify(note, public_key, origin).root == tree.root()


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_thread_counts_build_the_same_tree(suite):
    hashes = random_leaf_hashes(100_000, 21)
    rows = np.random.default_rng(22).integers(0, 256, size=(9_000, 40), dtype=np.uint8)
    trees = {}
    for threads in (1, 2, None):
        tree = MerkleTree(suite)
        tree.extend_hashes(hashes[:33_333], threads=threads)
        tree.extend_hashes(hashes[33_333:], threads=threads)
        tree.extend(rows, threads=threads)
        tree.extend([bytes(r) for r in rows[:3000]], threads=threads)
        trees[threads] = tree
    assert trees[1].root() == trees[2].root() == trees[None].root()
    assert trees[1].root(77_777) == trees[2].root(77_777)
    with pytest.raises(ValueError):
        trees[1].extend_hashes(hashes[:10], threads=0)
    with pytest.raises(TypeError):
        trees[1].extend(rows, threads="2")


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_a_store_that_does_not_lend_memory_builds_the_same_tree(suite):
    """The get()/put() path of the node-store interface (what an LMDB store takes)."""
    hashes = random_leaf_hashes(150_000, 31)
    lending, copying = MerkleTree(suite), merkle._copying_tree(suite)
    for tree in (lending, copying):
        for lo, hi in ((0, 1), (1, 70_000), (70_000, 70_003), (70_003, 150_000)):
            tree.extend_hashes(hashes[lo:hi], threads=2)
        tree.extend([b"x", b"yy"])
    assert copying.root() == lending.root()
    for size in (1, 2, 3, 65_537, 150_002):
        assert copying.root(size) == lending.root(size)
        assert copying.inclusion_proof(size - 1, size) == lending.inclusion_proof(size - 1, size)
        assert copying.consistency_proof(1, size) == lending.consistency_proof(1, size)
    assert copying.memory_bytes() >= 64 * 150_002


def test_reserve_changes_nothing_visible():
    hashes = random_leaf_hashes(50_000, 41)
    reserved, plain = MerkleTree(), MerkleTree()
    reserved.reserve(40_000)
    assert reserved.size == 0 and reserved.root() == plain.root()
    assert reserved.memory_bytes() >= 64 * 40_000 - 64 * 20
    for tree in (reserved, plain):
        tree.extend_hashes(hashes)
    reserved.reserve(10)
    assert reserved.root() == plain.root() and reserved.size == 50_000
    with pytest.raises(MemoryError):
        reserved.reserve(2**63)
    assert reserved.root() == plain.root()
    with pytest.raises(OutOfRangeError):
        reserved.reserve(-1)


@pytest.mark.parametrize("first", [0, 1, 1000, 65_536, 131_071])
def test_batches_spanning_aligned_chunks_split_over_threads(first):
    """A batch with two or more chunks of 2^16 leaves aligned to 2^16 runs as parallel tasks;
    heads and tails of every length around the alignment must join them correctly."""
    hashes = random_leaf_hashes(first + 3 * 65_536 + 777, 50 + first)
    serial, parallel = MerkleTree(), MerkleTree()
    for tree, threads in ((serial, 1), (parallel, 2)):
        tree.extend_hashes(hashes[:first], threads=threads)
        tree.extend_hashes(hashes[first:], threads=threads)
    assert parallel.root() == serial.root()
    total = len(hashes)
    for size in (first + 1, 65_536, 131_072, 196_608, 262_144, total - 1, total):
        if 0 < size <= total:
            assert parallel.root(size) == serial.root(size)
            assert parallel.inclusion_proof(size - 1, size) == serial.inclusion_proof(size - 1, size)
    if first == 1000:
        assert parallel.root() == ref_root("blake3", [bytes(r) for r in hashes])


def test_leaf_batches_spanning_aligned_chunks_split_over_threads():
    rows = np.random.default_rng(61).integers(0, 256, size=(270_000, 8), dtype=np.uint8)
    serial, parallel = MerkleTree(), MerkleTree()
    serial.extend(rows, threads=1)
    parallel.extend(rows[:5], threads=2)
    parallel.extend(rows[5:], threads=2)
    assert parallel.root() == serial.root()
    assert parallel.leaf_hash(269_999) == ref_leaf("blake3", bytes(rows[269_999]))


def test_merkle_proofs_verify_natively_and_proofs_proofs_in_python(monkeypatch):
    tree = MerkleTree("sha256")
    tree.extend([b"a", b"b", b"c"])
    calls = []
    real = merkle._native.merkle_verify_inclusion

    def spy(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(merkle._native, "merkle_verify_inclusion", spy)
    proof = tree.inclusion_proof(2)
    assert proof.verify(tree.leaf_hash(2), tree.root()) and len(calls) == 1
    pure = proofs.InclusionProof("sha256", 2, 3, proof.hashes)
    assert pure.verify(tree.leaf_hash(2), tree.root()) and len(calls) == 1
