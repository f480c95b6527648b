"""ledger_core.proofs, the auditor's stand-alone verifier: its pure-Python BLAKE3 against
the published vectors and the blake3 package, its hashers against the native ones (on the
blake3-package path and on the fallback path), the proof JSON of docs/FORMAT.md (round
trips and every strictness rule), and that it runs with nothing but the standard library."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import blake3 as blake3_ref
import pytest
from hypothesis import given, settings, strategies as st

from ledger_core import merkle, proofs
from ledger_core.errors import (
    InvalidArgumentError,
    InvalidTypeError,
    LedgerError,
    MalformedInputError,
    OutOfRangeError,
)
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


HASHER_NAMES = ["blake3", "sha256"]


@pytest.fixture(params=["blake3-package", "fallback"])
def blake3_path(request, monkeypatch):
    """Run a test on both BLAKE3 paths of proofs.py: the blake3 package and its own code."""
    assert proofs._blake3_package is not None, "the blake3 package is installed in the test venv"
    if request.param == "fallback":
        monkeypatch.setattr(proofs, "_blake3_package", None)
    return request.param


@pytest.mark.parametrize("name", HASHER_NAMES)
@pytest.mark.parametrize("length", [0, 1, 31, 32, 64, 65, 1024, 1025, 3000])
def test_pure_hashers_equal_the_native_ones(name, length, blake3_path):
    data = vector_input(length)
    pure, native = getattr(proofs, name.upper()), getattr(merkle, name.upper())
    assert pure.hash_leaf(data) == native.hash_leaf(data)
    left, right = hashlib.sha256(data).digest(), hashlib.sha256(data + b"r").digest()
    assert pure.hash_children(left, right) == native.hash_children(left, right)
    assert pure.empty_root() == native.empty_root()


def test_the_fallback_path_really_runs_the_own_blake3(monkeypatch):
    calls = []
    real = proofs._blake3

    def counting(*args):
        calls.append(args[2])
        return real(*args)

    monkeypatch.setattr(proofs, "_blake3", counting)
    proofs.BLAKE3.hash_leaf(b"x")
    assert calls == []  # the package answered
    monkeypatch.setattr(proofs, "_blake3_package", None)
    assert proofs.BLAKE3.hash_leaf(b"x") == merkle.BLAKE3.hash_leaf(b"x")
    assert calls == [proofs._KEYED_HASH]


def test_sha256_hasher_is_rfc9162():
    assert proofs.SHA256.hash_leaf(b"") == hashlib.sha256(b"\x00").digest()
    assert proofs.SHA256.hash_children(bytes(32), bytes(32)) == hashlib.sha256(b"\x01" + bytes(64)).digest()
    assert proofs.SHA256.empty_root() == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("name", HASHER_NAMES)
def test_pure_root_and_verifiers_on_a_native_tree(name, blake3_path):
    tree = MerkleTree(name)
    leaves = [bytes([i]) * i for i in range(21)]
    tree.extend(leaves)
    hashes = [getattr(proofs, name.upper()).hash_leaf(leaf) for leaf in leaves]
    assert proofs.root(name, hashes) == tree.root()
    assert proofs.root(name, []) == tree.root(0)
    for size in (1, 2, 7, 8, 13, 21):
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proofs.verify_inclusion(name, index, size, hashes[index], proof.hashes, tree.root(size))
            pure = proofs.InclusionProof(name, index, size, proof.hashes)
            assert pure.verify(hashes[index], tree.root(size))
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            assert proofs.verify_consistency(name, old, size, proof.hashes, tree.root(old), tree.root(size))


def test_unknown_or_mistyped_hashers_raise():
    with pytest.raises(InvalidArgumentError, match="hasher"):
        proofs.Hasher("md5")
    with pytest.raises(InvalidArgumentError, match="hasher"):
        proofs.verify_inclusion("md5", 0, 1, bytes(32), [], bytes(32))
    with pytest.raises(InvalidTypeError, match="hasher"):
        proofs.verify_consistency(None, 1, 1, [], bytes(32), bytes(32))
    with pytest.raises(InvalidTypeError, match="hasher"):
        proofs.InclusionProof(b"blake3", 0, 1, [])
    # merkle's hashers are proofs' hashers, run natively; each module accepts the other's.
    assert proofs.verify_inclusion(merkle.SHA256, 0, 1, bytes(32), [], bytes(32))
    assert isinstance(merkle.BLAKE3, proofs.Hasher)


def test_runs_with_only_this_file_and_the_standard_library(tmp_path):
    """Copied alone into an empty folder and run with -S -I (no site-packages, so no blake3
    package, no environment, no current directory on the path): it must import, use its
    own BLAKE3, verify proofs made by the native tree, read their JSON, raise its own
    ValueError/TypeError subclasses, and load no third-party or ledger_core module."""
    tree = MerkleTree("blake3")
    tree.extend([b"invoice %d" % i for i in range(11)])
    proof = tree.inclusion_proof(6)
    consistency = tree.consistency_proof(5)
    (tmp_path / "auditor_proofs.py").write_bytes(PROOFS_FILE.read_bytes())
    script = f"""
import sys
sys.path.insert(0, {str(tmp_path)!r})
import auditor_proofs as p
assert p._blake3_package is None
leaf = p.BLAKE3.hash_leaf(b"invoice 6")
assert p.verify_inclusion("blake3", 6, 11, leaf, {list(proof.hashes)!r}, {tree.root()!r})
assert not p.verify_inclusion("blake3", 5, 11, leaf, {list(proof.hashes)!r}, {tree.root()!r})
assert p.verify_consistency("blake3", 5, 11, {list(consistency.hashes)!r}, {tree.root(5)!r}, {tree.root()!r})
parsed = p.from_json({proof.to_json(leaf_hash=tree.leaf_hash(6), root=tree.root())!r})
assert parsed.verify(parsed.leaf_hash, parsed.root) and parsed.index == 6
assert p.from_json({consistency.to_json()!r}).verify({tree.root(5)!r}, {tree.root()!r})
for call, cls, base in ((lambda: p.from_json("[]"), p.MalformedInputError, ValueError),
                        (lambda: p.verify_inclusion("md5", 0, 1, leaf, [], leaf), p.InvalidArgumentError, ValueError),
                        (lambda: p.verify_inclusion("blake3", 0, 1, None, [], leaf), p.InvalidTypeError, TypeError)):
    try:
        call()
    except cls as exc:
        assert isinstance(exc, base) and isinstance(exc, p.ProofError)
    else:
        raise AssertionError("no error")
loaded = [m for m in sys.modules if m.split(".")[0] in ("ledger_core", "numpy", "nacl", "blake3")]
assert not loaded, loaded
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_inside_ledger_core_the_errors_are_ledger_errors():
    with pytest.raises(LedgerError):
        proofs.from_json("[]")
    assert proofs.MalformedInputError is MalformedInputError
    assert proofs.InvalidTypeError is InvalidTypeError


def test_sizes_may_be_any_integer_type_but_bools_and_floats_raise():
    import numpy as np

    tree = MerkleTree("sha256")
    tree.extend([b"a", b"b", b"c"])
    proof, root, leaf = tree.inclusion_proof(1).hashes, tree.root(), tree.leaf_hash(1)
    for verify in (proofs.verify_inclusion, merkle.verify_inclusion):
        assert verify("sha256", np.int64(1), np.uint32(3), leaf, proof, root)
        with pytest.raises(InvalidTypeError, match="index"):
            verify("sha256", True, 3, leaf, proof, root)
        with pytest.raises(InvalidTypeError, match="index"):
            verify("sha256", 1.0, 3, leaf, proof, root)


# --- the proof JSON (docs/FORMAT.md) -------------------------------------------------------


def sample_tree() -> MerkleTree:
    tree = MerkleTree("sha256")
    tree.extend([b"%d" % i for i in range(8)])
    return tree


def test_json_is_exactly_the_documented_shape():
    tree = sample_tree()
    proof = tree.inclusion_proof(5)
    text = proof.to_json()
    assert text == json.dumps({"type": "inclusion", "hasher": "sha256", "index": 5, "size": 8,
                               "hashes": [h.hex() for h in proof.hashes]})
    assert text.startswith('{"type": "inclusion", "hasher": "sha256", "index": 5, "size": 8, "hashes": ["')
    full = json.loads(proof.to_json(leaf_hash=tree.leaf_hash(5), root=tree.root()))
    assert list(full) == ["type", "hasher", "index", "size", "hashes", "leaf_hash", "root"]
    assert full["root"] == tree.root().hex()
    cons = json.loads(tree.consistency_proof(3, 8).to_json(root1=tree.root(3), root2=tree.root()))
    assert list(cons) == ["type", "hasher", "size1", "size2", "hashes", "root1", "root2"]
    assert (cons["size1"], cons["size2"], cons["root2"]) == (3, 8, tree.root().hex())


@pytest.mark.parametrize("module", [proofs, merkle])
def test_json_round_trips_in_both_modules(module):
    tree = sample_tree()
    for proof in (tree.inclusion_proof(5), tree.inclusion_proof(0, 1), tree.consistency_proof(3),
                  tree.consistency_proof(8)):
        kind = module.InclusionProof if isinstance(proof, merkle.InclusionProof) else module.ConsistencyProof
        parsed = kind.from_json(proof.to_json())
        assert type(parsed) is kind and parsed.hasher is getattr(module, "SHA256")
        assert parsed.hashes == proof.hashes and parsed.to_json() == proof.to_json()
        assert type(module.from_json(proof.to_json())) is kind
    inc = tree.inclusion_proof(5)
    parsed = module.InclusionProof.from_json(inc.to_json(leaf_hash=tree.leaf_hash(5), root=tree.root(), indent=2))
    assert (parsed.leaf_hash, parsed.root) == (tree.leaf_hash(5), tree.root())
    assert parsed.verify(parsed.leaf_hash, parsed.root)
    assert parsed.to_json() == inc.to_json(leaf_hash=tree.leaf_hash(5), root=tree.root())
    cons = module.ConsistencyProof.from_json(tree.consistency_proof(3).to_json(root1=tree.root(3), root2=tree.root()))
    assert cons.verify(cons.root1, cons.root2) and (cons.root1, cons.root2) == (tree.root(3), tree.root())


def test_json_refuses_sizes_it_cannot_carry():
    with pytest.raises(OutOfRangeError, match="size"):
        proofs.InclusionProof("blake3", 0, 2**63, []).to_json()
    assert proofs.InclusionProof("blake3", 0, 2**63 - 1, []).to_json()


def good_inclusion() -> dict:
    return {"type": "inclusion", "hasher": "blake3", "index": 5, "size": 8, "hashes": ["ab" * 32, "cd" * 32]}


def good_consistency() -> dict:
    return {"type": "consistency", "hasher": "sha256", "size1": 3, "size2": 8, "hashes": ["ab" * 32]}


def with_(base: dict, **changes) -> str:
    obj = dict(base)
    for key, value in changes.items():
        if value is DROP:
            del obj[key]
        else:
            obj[key] = value
    return json.dumps(obj)


DROP = object()
HEX = "ab" * 32

# (text, the word the message must name, why)
BAD_JSON = [
    ("", "parse", "empty"),
    ("[]", "object", "not an object"),
    ('"inclusion"', "object", "a string"),
    (json.dumps(good_inclusion()) + " {}", "parse", "trailing data"),
    ("\ufeff" + json.dumps(good_inclusion()), "parse", "byte-order mark"),
    (" " * 70000 + "{}", "65536", "too long"),
    ("[" * 60000, "nested", "nested too deeply"),
    ("[" * 500, "pars", "unterminated"),
    (with_(good_inclusion(), type=DROP), "type", "type missing"),
    (with_(good_inclusion(), type="consistency"), "type", "wrong type for the class"),
    (with_(good_inclusion(), type="Inclusion"), "type", "type is case-sensitive"),
    (with_(good_inclusion(), type=[]), "type", "a list as the type (was an unhashable-type TypeError)"),
    (with_(good_inclusion(), type={"a": 1}), "type", "an object as the type"),
    (with_(good_inclusion(), hasher=["blake3"]), "hasher", "a list as the hasher"),
    (with_(good_inclusion(), hasher=DROP), "hasher", "hasher missing"),
    (with_(good_inclusion(), hasher="BLAKE3"), "hasher", "hasher is lowercase"),
    (with_(good_inclusion(), hasher="md5"), "hasher", "unknown hasher"),
    (with_(good_inclusion(), hasher=1), "hasher", "hasher not a string"),
    (with_(good_inclusion(), index=DROP), "index", "index missing"),
    (with_(good_inclusion(), size=DROP), "size", "size missing"),
    (with_(good_inclusion(), hashes=DROP), "hashes", "hashes missing"),
    (with_(good_inclusion(), index=True), "index", "a bool as an int"),
    (with_(good_inclusion(), size=8.0), "8.0", "a float"),
    ('{"type": "inclusion", "hasher": "blake3", "index": 5, "size": 8e0, "hashes": []}', "8e0", "exponent"),
    (with_(good_inclusion(), index=-1), "index", "negative"),
    (with_(good_inclusion(), size=2**63), "size", "2^63"),
    (with_(good_inclusion(), size=10**30), "size", "huge"),
    (with_(good_inclusion(), size="8"), "size", "a string number"),
    (with_(good_inclusion(), size=None), "size", "null"),
    ('{"type": "inclusion", "hasher": "blake3", "index": 5, "size": NaN, "hashes": []}', "NaN", "NaN"),
    ('{"type": "inclusion", "hasher": "blake3", "index": 5, "size": Infinity, "hashes": []}', "Infinity", "Inf"),
    ('{"type": "inclusion", "hasher": "blake3", "index": 5, "size": 1' + "0" * 5000 + ', "hashes": []}',
     "size", "5000 digits (Python's digit limit)"),
    (with_(good_inclusion(), hashes=HEX), "hashes", "hashes not an array"),
    (with_(good_inclusion(), hashes=[HEX] * 66), "hashes", "too many hashes"),
    (with_(good_inclusion(), hashes=[HEX.upper()]), "hashes[0]", "uppercase hex"),
    (with_(good_inclusion(), hashes=[HEX, HEX[:-1]]), "hashes[1]", "odd length"),
    (with_(good_inclusion(), hashes=[HEX[:-2]]), "hashes[0]", "31 bytes"),
    (with_(good_inclusion(), hashes=[HEX + "ab"]), "hashes[0]", "33 bytes"),
    (with_(good_inclusion(), hashes=["zz" * 32]), "hashes[0]", "not hex"),
    (with_(good_inclusion(), hashes=[" " + HEX[1:]]), "hashes[0]", "a space"),
    (with_(good_inclusion(), hashes=[1]), "hashes[0]", "a number"),
    (with_(good_inclusion(), hashes=[None]), "hashes[0]", "null"),
    (with_(good_inclusion(), root=HEX.upper()), "root", "uppercase root"),
    (with_(good_inclusion(), leaf_hash="00"), "leaf_hash", "short leaf hash"),
    (with_(good_inclusion(), root=None), "root", "a null root"),
    (with_(good_inclusion(), root1=HEX), "root1", "the other type's key"),
    (with_(good_inclusion(), extra=1), "extra", "an unknown key"),
    ('{"type": "inclusion", "hasher": "blake3", "index": 5, "index": 5, "size": 8, "hashes": []}', "index",
     "a duplicate key"),
]
BAD_CONSISTENCY_JSON = [
    (with_(good_consistency(), size1=DROP), "size1", "size1 missing"),
    (with_(good_consistency(), size2=-3), "size2", "negative size2"),
    (with_(good_consistency(), size1=True), "size1", "a bool size1"),
    (with_(good_consistency(), root=HEX), "root", "inclusion's key in a consistency proof"),
    (with_(good_consistency(), root2=HEX[1:]), "root2", "odd root2"),
    (with_(good_consistency(), index=0), "index", "inclusion's index"),
    (json.dumps(good_inclusion()), "type", "an inclusion proof"),
]


STRICT_CASES = [(kind, *case) for kind, table in (("inclusion", BAD_JSON), ("consistency", BAD_CONSISTENCY_JSON))
                for case in table]


@pytest.mark.parametrize("kind, text, named, why", STRICT_CASES, ids=[f"{c[0]}: {c[3]}" for c in STRICT_CASES])
def test_strict_json_parsing(kind, text, named, why):
    name = kind.capitalize() + "Proof"
    for parse in (getattr(proofs, name).from_json, getattr(merkle, name).from_json):
        with pytest.raises(MalformedInputError) as excinfo:
            parse(text)
        assert named in str(excinfo.value), (why, str(excinfo.value))


def test_json_accepts_any_whitespace_key_order_and_bytes():
    obj = good_inclusion()
    text = "\n {\n" + ",\n".join(f' "{k}" :\t{json.dumps(v)}' for k, v in reversed(list(obj.items()))) + "}\n"
    assert proofs.InclusionProof.from_json(text) == proofs.InclusionProof.from_json(json.dumps(obj))
    assert proofs.InclusionProof.from_json(json.dumps(obj).encode()) == proofs.InclusionProof.from_json(json.dumps(obj))
    with pytest.raises(MalformedInputError, match="UTF-8"):
        proofs.InclusionProof.from_json(b"\xff" + json.dumps(obj).encode())
    with pytest.raises(InvalidTypeError, match="text"):
        proofs.from_json(None)
    with pytest.raises(MalformedInputError, match="type"):
        proofs.ConsistencyProof.from_json(json.dumps(obj))
    # Parsing checks syntax and ranges only: an index past the size parses and verifies False.
    late = proofs.InclusionProof.from_json(with_(good_inclusion(), index=9))
    assert late.index == 9 and late.verify(bytes(32), bytes(32)) is False
