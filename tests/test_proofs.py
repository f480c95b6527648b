"""ledger_core.proofs, the auditor's stand-alone verifier: its pure-Python BLAKE3 against
the published vectors and the blake3 package, its suites against the native ones, and
that it runs with nothing but the standard library."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import blake3 as blake3_ref
import pytest
from hypothesis import given, settings, strategies as st

from ledger_core import merkle, proofs
from ledger_core.merkle import MerkleTree

from conftest import load_vectors

BLAKE3_VECTORS = load_vectors("blake3/test_vectors.json")
PROOFS_FILE = Path(proofs.__file__)


def vector_input(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


# Full tree mode with extended output, every published length (up to 100 chunks).
@pytest.mark.parametrize("case", BLAKE3_VECTORS["cases"], ids=lambda c: f"len{c['input_len']}")
def test_pure_blake3_matches_the_published_vectors(case):
    data = vector_input(case["input_len"])
    key = BLAKE3_VECTORS["key"].encode()
    context = BLAKE3_VECTORS["context_string"]
    expected = {m: bytes.fromhex(case[m]) for m in ("hash", "keyed_hash", "derive_key")}
    assert proofs.blake3_hash(data, len(expected["hash"])) == expected["hash"]
    assert proofs.blake3_keyed_hash(key, data, len(expected["keyed_hash"])) == expected["keyed_hash"]
    assert proofs.blake3_derive_key(context, data, len(expected["derive_key"])) == expected["derive_key"]
    assert proofs.blake3_hash(data) == expected["hash"][:32]


@settings(max_examples=40)
@given(st.binary(max_size=5000), st.binary(min_size=32, max_size=32), st.text(max_size=40))
def test_pure_blake3_matches_the_blake3_package(data, key, context):
    assert proofs.blake3_hash(data) == blake3_ref.blake3(data).digest()
    assert proofs.blake3_keyed_hash(key, data) == blake3_ref.blake3(data, key=key).digest()
    assert proofs.blake3_derive_key(context, data) == blake3_ref.blake3(data, derive_key_context=context).digest()


def test_suite_keys():
    assert proofs.K_LEAF == blake3_ref.blake3(b"", derive_key_context=proofs.LEAF_KEY_CONTEXT).digest()
    assert proofs.K_NODE == blake3_ref.blake3(b"", derive_key_context=proofs.NODE_KEY_CONTEXT).digest()
    assert proofs.K_LEAF != proofs.K_NODE


@pytest.mark.parametrize("suite", proofs.SUITES)
@pytest.mark.parametrize("length", [0, 1, 31, 32, 64, 65, 1024, 1025, 3000])
def test_pure_suite_hashes_equal_the_native_ones(suite, length):
    data = vector_input(length)
    assert proofs.leaf_hash(suite, data) == merkle.leaf_hash(suite, data)
    left, right = hashlib.sha256(data).digest(), hashlib.sha256(data + b"r").digest()
    assert proofs.node_hash(suite, left, right) == merkle.node_hash(suite, left, right)
    assert proofs.empty_root(suite) == merkle.empty_root(suite)


def test_sha256_suite_is_rfc9162():
    assert proofs.leaf_hash("sha256", b"") == hashlib.sha256(b"\x00").digest()
    assert proofs.node_hash("sha256", bytes(32), bytes(32)) == hashlib.sha256(b"\x01" + bytes(64)).digest()
    assert proofs.empty_root("sha256") == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("suite", proofs.SUITES)
def test_pure_root_and_verifiers_on_a_native_tree(suite):
    tree = MerkleTree(suite)
    leaves = [bytes([i]) * i for i in range(21)]
    tree.extend(leaves)
    hashes = [proofs.leaf_hash(suite, leaf) for leaf in leaves]
    assert proofs.root(suite, hashes) == tree.root()
    assert proofs.root(suite, []) == tree.root(0)
    for size in (1, 2, 7, 8, 13, 21):
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proofs.verify_inclusion(suite, hashes[index], index, size, proof, tree.root(size))
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            assert proofs.verify_consistency(suite, old, size, tree.root(old), tree.root(size), proof)


def test_unknown_suite_raises():
    with pytest.raises(ValueError):
        proofs.leaf_hash("md5", b"")
    with pytest.raises(ValueError):
        proofs.verify_inclusion("md5", bytes(32), 0, 1, [], bytes(32))


def test_runs_with_only_this_file_and_the_standard_library(tmp_path):
    """Copied alone into an empty folder and run with -S -I (no site-packages, no
    environment, no current directory on the path): it must
    import, verify a blake3-suite proof made by the native tree, and load no third-party
    or ledger_core module."""
    tree = MerkleTree("blake3")
    tree.extend([b"invoice %d" % i for i in range(11)])
    proof = tree.inclusion_proof(6)
    consistency = tree.consistency_proof(5)
    (tmp_path / "auditor_proofs.py").write_bytes(PROOFS_FILE.read_bytes())
    script = f"""
import sys
sys.path.insert(0, {str(tmp_path)!r})
import auditor_proofs as p
leaf = p.leaf_hash("blake3", b"invoice 6")
assert p.verify_inclusion("blake3", leaf, 6, 11, {proof!r}, {tree.root()!r})
assert not p.verify_inclusion("blake3", leaf, 5, 11, {proof!r}, {tree.root()!r})
assert p.verify_consistency("blake3", 5, 11, {tree.root(5)!r}, {tree.root()!r}, {consistency!r})
loaded = [m for m in sys.modules if m.split(".")[0] in ("ledger_core", "numpy", "nacl", "blake3")]
assert not loaded, loaded
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_sizes_may_be_any_integer_type_but_not_bool():
    import numpy as np

    tree = MerkleTree("sha256")
    tree.extend([b"a", b"b", b"c"])
    proof, root, leaf = tree.inclusion_proof(1), tree.root(), tree.leaf_hash(1)
    for verify in (proofs.verify_inclusion, merkle.verify_inclusion):
        assert verify("sha256", leaf, np.int64(1), np.uint32(3), proof, root)
        assert not verify("sha256", leaf, True, 3, proof, root)
        assert not verify("sha256", leaf, 1.0, 3, proof, root)
