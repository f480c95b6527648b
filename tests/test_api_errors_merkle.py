"""A table of bad inputs fed to every public function of merkle, proofs and checkpoint
(issue 7 item 1, issue 12 item 8): wrong type, None, wrong length, negative and huge
ints (2**63, 2**64), bools, str where bytes go, unknown hashers, threads 0/-1/10**9.
Each row asserts the exception class (a LedgerError that is also the TypeError or
ValueError a caller would catch) and that the message names the argument."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ledger_core
from ledger_core import checkpoint, merkle, proofs
from ledger_core.checkpoint import Checkpoint
from ledger_core.errors import (
    InvalidArgumentError,
    InvalidTypeError,
    LedgerError,
    MalformedInputError,
    NativeMemoryError,
    OutOfRangeError,
)

SEED = bytes(range(32))
PUBLIC = checkpoint.public_key_of(SEED)
ORIGIN = "example.com/log"
NOTE = checkpoint.sign(Checkpoint(ORIGIN, 3, bytes(32)), SEED)
H = bytes(32)


def tree(hasher="blake3", size=3):
    t = merkle.MerkleTree(hasher)
    t.extend_hashes([bytes([i]) * 32 for i in range(size)])
    return t


def inclusion(module):
    return module.InclusionProof("blake3", 0, 1, [])


def consistency(module):
    return module.ConsistencyProof("sha256", 1, 1, [])


T, V = InvalidTypeError, InvalidArgumentError
R, M = OutOfRangeError, MalformedInputError

# (id, call, expected class, a word the message must name)
ROWS = []


def row(ident, call, cls, named):
    ROWS.append(pytest.param(call, cls, named, id=ident))


for mod_name, mod in (("merkle", merkle), ("proofs", proofs)):
    p = mod_name + "."
    # hashers
    row(p + "Hasher unknown", lambda mod=mod: mod.Hasher("md5"), V, "hasher")
    row(p + "Hasher None", lambda mod=mod: mod.Hasher(None), T, "hasher")
    row(p + "Hasher bytes", lambda mod=mod: mod.Hasher(b"blake3"), T, "hasher")
    row(p + "hash_children short", lambda mod=mod: mod.BLAKE3.hash_children(H[:31], H), V, "left")
    row(p + "hash_children long", lambda mod=mod: mod.SHA256.hash_children(H, H + b"x"), V, "right")
    row(p + "hash_children str", lambda mod=mod: mod.SHA256.hash_children("a" * 32, H), T, "left")
    row(p + "hash_children None", lambda mod=mod: mod.SHA256.hash_children(H, None), T, "right")
    row(p + "hash_leaf None", lambda mod=mod: mod.BLAKE3.hash_leaf(None), T, "data")
    row(p + "hash_leaf str", lambda mod=mod: mod.SHA256.hash_leaf("text"), T, "data")
    row(p + "hash_leaf int", lambda mod=mod: mod.SHA256.hash_leaf(5), T, "data")
    # verifiers: programming errors raise (content is False: test_merkle_forms.py)
    for verify, args in (("verify_inclusion", (0, 1, H, [], H)), ("verify_consistency", (1, 1, [], H, H))):
        row(f"{p}{verify} unknown hasher", lambda mod=mod, v=verify, a=args: getattr(mod, v)("md5", *a), V, "hasher")
        row(f"{p}{verify} hasher None", lambda mod=mod, v=verify, a=args: getattr(mod, v)(None, *a), T, "hasher")
        row(f"{p}{verify} hasher list", lambda mod=mod, v=verify, a=args: getattr(mod, v)(["blake3"], *a), T, "hasher")
    row(p + "verify_inclusion index None", lambda mod=mod: mod.verify_inclusion("blake3", None, 1, H, [], H), T, "index")
    row(p + "verify_inclusion index bool", lambda mod=mod: mod.verify_inclusion("blake3", False, 1, H, [], H), T, "index")
    row(p + "verify_inclusion size float", lambda mod=mod: mod.verify_inclusion("blake3", 0, 1.0, H, [], H), T, "size")
    row(p + "verify_inclusion size str", lambda mod=mod: mod.verify_inclusion("blake3", 0, "1", H, [], H), T, "size")
    row(p + "verify_inclusion leaf_hash None", lambda mod=mod: mod.verify_inclusion("blake3", 0, 1, None, [], H), T, "leaf_hash")
    row(p + "verify_inclusion leaf_hash str", lambda mod=mod: mod.verify_inclusion("blake3", 0, 1, "0" * 32, [], H), T, "leaf_hash")
    row(p + "verify_inclusion root None", lambda mod=mod: mod.verify_inclusion("blake3", 0, 1, H, [], None), T, "root")
    row(p + "verify_inclusion proof None", lambda mod=mod: mod.verify_inclusion("blake3", 0, 1, H, None, H), T, "proof")
    row(p + "verify_inclusion proof str", lambda mod=mod: mod.verify_inclusion("blake3", 0, 1, H, "ab", H), T, "proof")
    row(p + "verify_inclusion proof bytes", lambda mod=mod: mod.verify_inclusion("blake3", 0, 1, H, H, H), T, "proof")
    row(p + "verify_inclusion proof[0] None", lambda mod=mod: mod.verify_inclusion("blake3", 0, 2, H, [None], H), T, "proof[0]")
    row(p + "verify_consistency size1 None", lambda mod=mod: mod.verify_consistency("blake3", None, 1, [], H, H), T, "size1")
    row(p + "verify_consistency size2 bool", lambda mod=mod: mod.verify_consistency("blake3", 1, True, [], H, H), T, "size2")
    row(p + "verify_consistency root1 str", lambda mod=mod: mod.verify_consistency("blake3", 1, 1, [], "r", H), T, "root1")
    row(p + "verify_consistency root2 None", lambda mod=mod: mod.verify_consistency("blake3", 1, 1, [], H, None), T, "root2")
    row(p + "verify_consistency proof int", lambda mod=mod: mod.verify_consistency("blake3", 1, 2, 7, H, H), T, "proof")
    # proof types
    for cls_name, counts in (("InclusionProof", ("index", "size")), ("ConsistencyProof", ("size1", "size2"))):
        def make(*args, mod=mod, cls_name=cls_name, **kw):
            return getattr(mod, cls_name)(*args, **kw)
        row(f"{p}{cls_name} hasher unknown", lambda make=make: make("md5", 0, 1, []), V, "hasher")
        row(f"{p}{cls_name} hasher None", lambda make=make: make(None, 0, 1, []), T, "hasher")
        row(f"{p}{cls_name} {counts[0]} negative", lambda make=make: make("blake3", -1, 1, []), R, counts[0])
        row(f"{p}{cls_name} {counts[1]} 2**64", lambda make=make: make("blake3", 0, 2**64, []), R, counts[1])
        row(f"{p}{cls_name} {counts[0]} bool", lambda make=make: make("blake3", True, 1, []), T, counts[0])
        row(f"{p}{cls_name} {counts[1]} float", lambda make=make: make("blake3", 0, 1.5, []), T, counts[1])
        row(f"{p}{cls_name} {counts[1]} None", lambda make=make: make("blake3", 0, None, []), T, counts[1])
        row(f"{p}{cls_name} hashes None", lambda make=make: make("blake3", 0, 1, None), T, "hashes")
        row(f"{p}{cls_name} hashes str", lambda make=make: make("blake3", 0, 1, "ab"), T, "hashes")
        row(f"{p}{cls_name} hashes[1] short", lambda make=make: make("blake3", 0, 1, [H, H[:31]]), V, "hashes[1]")
        row(f"{p}{cls_name} hashes[0] str", lambda make=make: make("blake3", 0, 1, ["00" * 32]), T, "hashes[0]")
        row(f"{p}{cls_name} 66 hashes", lambda make=make: make("blake3", 0, 1, [H] * 66), V, "hashes")
        row(f"{p}{cls_name} (n, 31) array", lambda make=make: make("blake3", 0, 1, np.zeros((2, 31), np.uint8)), V, "hashes")
    row(p + "InclusionProof root short", lambda mod=mod: mod.InclusionProof("blake3", 0, 1, [], root=H[:3]), V, "root")
    row(p + "InclusionProof leaf_hash str", lambda mod=mod: mod.InclusionProof("blake3", 0, 1, [], leaf_hash="x"), T, "leaf_hash")
    row(p + "ConsistencyProof root1 short", lambda mod=mod: mod.ConsistencyProof("blake3", 1, 1, [], root1=b""), V, "root1")
    row(p + "InclusionProof.verify leaf_hash None", lambda mod=mod: inclusion(mod).verify(None, H), T, "leaf_hash")
    row(p + "InclusionProof.verify root str", lambda mod=mod: inclusion(mod).verify(H, "r"), T, "root")
    row(p + "ConsistencyProof.verify root1 None", lambda mod=mod: consistency(mod).verify(None, H), T, "root1")
    row(p + "InclusionProof.to_json size 2**63", lambda mod=mod: mod.InclusionProof("blake3", 0, 2**63, []).to_json(), R, "size")
    row(p + "ConsistencyProof.to_json size2 2**63",
        lambda mod=mod: mod.ConsistencyProof("blake3", 1, 2**63, []).to_json(), R, "size2")
    row(p + "InclusionProof.to_json root short", lambda mod=mod: inclusion(mod).to_json(root=H[:5]), V, "root")
    row(p + "ConsistencyProof.to_json root2 str", lambda mod=mod: consistency(mod).to_json(root2="r"), T, "root2")
    # JSON readers (strictness rules: test_proofs.py)
    row(p + "from_json None", lambda mod=mod: mod.from_json(None), T, "text")
    row(p + "from_json int", lambda mod=mod: mod.from_json(5), T, "text")
    row(p + "from_json bad UTF-8", lambda mod=mod: mod.from_json(b"\xff"), M, "UTF-8")
    row(p + "from_json not JSON", lambda mod=mod: mod.from_json("{"), M, "JSON")
    row(p + "InclusionProof.from_json consistency",
        lambda mod=mod: mod.InclusionProof.from_json(consistency(mod).to_json()), M, "type")
    row(p + "ConsistencyProof.from_json size2 huge",
        lambda mod=mod: mod.ConsistencyProof.from_json(consistency(mod).to_json().replace('"size2": 1', '"size2": ' + str(2**64))),
        M, "size2")

# merkle only: the tree
row("merkle.MerkleTree unknown", lambda: merkle.MerkleTree("md5"), V, "hasher")
row("merkle.MerkleTree list (was 'unhashable type')", lambda: merkle.MerkleTree(["blake3"]), T, "hasher")
row("merkle.MerkleTree None", lambda: merkle.MerkleTree(None), T, "hasher")
row("merkle.MerkleTree bytes", lambda: merkle.MerkleTree(b"sha256"), T, "hasher")
row("merkle.MerkleTree.append None", lambda: tree().append(None), T, "data")
row("merkle.MerkleTree.append str", lambda: tree().append("text"), T, "data")
row("merkle.MerkleTree.append int", lambda: tree().append(5), T, "data")
row("merkle.MerkleTree.extend None", lambda: tree().extend(None), T, "items")
row("merkle.MerkleTree.extend bytes", lambda: tree().extend(b"abc"), T, "items")
row("merkle.MerkleTree.extend str", lambda: tree().extend("abc"), T, "items")
row("merkle.MerkleTree.extend [None]", lambda: tree().extend([b"a", None]), T, "items[1]")
row("merkle.MerkleTree.extend 3-D array", lambda: tree().extend(np.zeros((2, 2, 2), np.uint8)), V, "items")
row("merkle.MerkleTree.extend_hashes None", lambda: tree().extend_hashes(None), T, "leaf_hashes")
row("merkle.MerkleTree.extend_hashes (2, 31)", lambda: tree().extend_hashes(np.zeros((2, 31), np.uint8)), V,
    "leaf_hashes")
row("merkle.MerkleTree.extend_hashes [33 bytes]", lambda: tree().extend_hashes([H, H + b"x"]), V, "leaf_hashes[1]")
row("merkle.MerkleTree.extend_hashes float array", lambda: tree().extend_hashes(np.zeros((2, 32))), T, "leaf_hashes")
for threads, cls in ((0, V), (-1, V), (10**9, V), (2**64, V), (True, T), (1.5, T), ("2", T)):
    row(f"merkle.MerkleTree.extend threads={threads!r}", lambda t=threads: tree().extend([b"a"], threads=t), cls,
        "threads")
    row(f"merkle.MerkleTree.extend_hashes threads={threads!r}", lambda t=threads: tree().extend_hashes([H], threads=t),
        cls, "threads")
row("merkle.MerkleTree.extend threads positional", lambda: tree().extend([b"a"], 1), TypeError, "positional")
for method, args, named in (("root", (), "size"), ("leaf_hash", (), "index"), ("reserve", (), "leaf_count"),
                            ("inclusion_proof", (), "index"), ("consistency_proof", (), "size1")):
    call = lambda m=method: getattr(tree(), m)  # noqa: E731
    row(f"merkle.MerkleTree.{method} -1", lambda c=call: c()(-1), R, named)
    row(f"merkle.MerkleTree.{method} 2**64", lambda c=call: c()(2**64), R, named)
    row(f"merkle.MerkleTree.{method} bool", lambda c=call: c()(True), T, named)
    row(f"merkle.MerkleTree.{method} float", lambda c=call: c()(1.0), T, named)
    row(f"merkle.MerkleTree.{method} str", lambda c=call: c()("1"), T, named)
    if method != "reserve":
        row(f"merkle.MerkleTree.{method} 2**63 (past the size)", lambda c=call: c()(2**63), R, named.split("1")[0])
row("merkle.MerkleTree.reserve 2**63 (no memory)", lambda: tree().reserve(2**63), NativeMemoryError, "reserve")
row("merkle.MerkleTree.inclusion_proof size past", lambda: tree().inclusion_proof(0, 4), R, "size")
row("merkle.MerkleTree.inclusion_proof size None is now", lambda: tree().inclusion_proof(3, None), R, "index")
row("merkle.MerkleTree.consistency_proof size2 bool", lambda: tree().consistency_proof(1, True), T, "size2")
row("merkle.MerkleTree.consistency_proof from 0", lambda: tree().consistency_proof(0), R, "empty tree")

# proofs only
row("proofs.root unknown hasher", lambda: proofs.root("md5", []), V, "hasher")
row("proofs.root leaf_hashes[1] short", lambda: proofs.root("sha256", [H, H[:1]]), V, "leaf_hashes[1]")
row("proofs.root leaf_hashes[0] None", lambda: proofs.root("sha256", [None]), T, "leaf_hashes[0]")
row("proofs.blake3_hash None", lambda: proofs.blake3_hash(None), T, "data")
row("proofs.blake3_hash str", lambda: proofs.blake3_hash("text"), T, "data")
row("proofs.blake3_hash length -1", lambda: proofs.blake3_hash(b"", -1), R, "length")
row("proofs.blake3_hash length 2**64", lambda: proofs.blake3_hash(b"", 2**64), R, "length")
row("proofs.blake3_hash length bool", lambda: proofs.blake3_hash(b"", True), T, "length")
row("proofs.blake3_hash length float", lambda: proofs.blake3_hash(b"", 32.0), T, "length")
row("proofs.blake3_keyed_hash key short", lambda: proofs.blake3_keyed_hash(b"k", b""), V, "key")
row("proofs.blake3_keyed_hash key str", lambda: proofs.blake3_keyed_hash("k" * 32, b""), T, "key")
row("proofs.blake3_keyed_hash data None", lambda: proofs.blake3_keyed_hash(H, None), T, "data")
row("proofs.blake3_derive_key context bytes", lambda: proofs.blake3_derive_key(b"ctx", b""), T, "context")
row("proofs.blake3_derive_key context surrogate", lambda: proofs.blake3_derive_key("\ud800", b""), V, "context")
row("proofs.blake3_derive_key material str", lambda: proofs.blake3_derive_key("ctx", "m"), T, "material")
row("proofs.blake3_derive_key length 2**63", lambda: proofs.blake3_derive_key("ctx", b"", 2**63), R, "length")

# checkpoint
row("checkpoint.Checkpoint origin None", lambda: Checkpoint(None, 1, H), T, "origin")
row("checkpoint.Checkpoint origin surrogate", lambda: Checkpoint("o\udc80", 1, H), M, "origin")
row("checkpoint.Checkpoint size -1", lambda: Checkpoint(ORIGIN, -1, H), M, "size")
row("checkpoint.Checkpoint size 2**64", lambda: Checkpoint(ORIGIN, 2**64, H), M, "size")
row("checkpoint.Checkpoint size bool", lambda: Checkpoint(ORIGIN, True, H), T, "size")
row("checkpoint.Checkpoint size str", lambda: Checkpoint(ORIGIN, "1", H), T, "size")
row("checkpoint.Checkpoint root str", lambda: Checkpoint(ORIGIN, 1, "r" * 32), T, "root")
row("checkpoint.Checkpoint root short", lambda: Checkpoint(ORIGIN, 1, H[:31]), M, "root")
row("checkpoint.Checkpoint extensions str", lambda: Checkpoint(ORIGIN, 1, H, "ext"), T, "extensions")
row("checkpoint.Checkpoint.from_text None", lambda: Checkpoint.from_text(None), T, "text")
row("checkpoint.Checkpoint.from_text bytes", lambda: Checkpoint.from_text(b"o\n1\n"), T, "text")
row("checkpoint.Checkpoint.from_text 5000 digits",
    lambda: Checkpoint.from_text("o\n" + "9" * 5000 + "\nAAAA\n"), M, "size")
row("checkpoint.Checkpoint.from_text surrogate", lambda: Checkpoint.from_text("\ud800\n1\nAAAA\n"), M, "text")
row("checkpoint.key_id name None", lambda: checkpoint.key_id(None, PUBLIC), T, "name")
row("checkpoint.key_id name space", lambda: checkpoint.key_id("a b", PUBLIC), M, "name")
row("checkpoint.key_id public_key None", lambda: checkpoint.key_id(ORIGIN, None), T, "public_key")
row("checkpoint.key_id public_key str", lambda: checkpoint.key_id(ORIGIN, "k" * 32), T, "public_key")
row("checkpoint.key_id public_key short", lambda: checkpoint.key_id(ORIGIN, PUBLIC[:31]), V, "public_key")
row("checkpoint.verifier_key public_key int", lambda: checkpoint.verifier_key(ORIGIN, 5), T, "public_key")
row("checkpoint.parse_verifier_key None (was AttributeError)", lambda: checkpoint.parse_verifier_key(None), T, "vkey")
row("checkpoint.parse_verifier_key garbage", lambda: checkpoint.parse_verifier_key("x"), M, "vkey")
row("checkpoint.public_key_of None", lambda: checkpoint.public_key_of(None), T, "signing_key")
row("checkpoint.public_key_of short seed", lambda: checkpoint.public_key_of(b"seed"), V, "signing_key")
row("checkpoint.sign checkpoint str", lambda: checkpoint.sign("o\n1\n", SEED), T, "checkpoint")
row("checkpoint.sign name None is the origin, name int", lambda: checkpoint.sign(Checkpoint(ORIGIN, 1, H), SEED, 5), T,
    "name")
row("checkpoint.sign signing_key str", lambda: checkpoint.sign(Checkpoint(ORIGIN, 1, H), "s" * 32), T, "signing_key")
row("checkpoint.verify note None", lambda: checkpoint.verify(None, PUBLIC, ORIGIN), T, "note")
row("checkpoint.verify note surrogate (was UnicodeEncodeError)",
    lambda: checkpoint.verify(NOTE.replace("\n3\n", "\n\udc80\n"), PUBLIC, ORIGIN), M, "note")
row("checkpoint.verify public_key None", lambda: checkpoint.verify(NOTE, None, ORIGIN), T, "public_key")
row("checkpoint.verify public_key 32-char str", lambda: checkpoint.verify(NOTE, "k" * 32, ORIGIN), T, "public_key")
row("checkpoint.verify public_key 33 bytes", lambda: checkpoint.verify(NOTE, PUBLIC + b"\0", ORIGIN), V, "public_key")
row("checkpoint.verify name None", lambda: checkpoint.verify(NOTE, PUBLIC, None), T, "name")
row("checkpoint.verify origin bytes", lambda: checkpoint.verify(NOTE, PUBLIC, ORIGIN, origin=b"o"), T, "origin")
row("checkpoint.verify note bad UTF-8", lambda: checkpoint.verify(b"\xff", PUBLIC, ORIGIN), M, "note")


@pytest.mark.parametrize("call, cls, named", ROWS)
def test_bad_input_raises_a_ledger_error_naming_the_argument(call, cls, named):
    with pytest.raises(Exception) as info:
        call()
    error = info.value
    assert isinstance(error, cls), f"{type(error).__name__}: {error}"
    if cls is not TypeError:  # the positional-threads row: Python's own signature check
        assert isinstance(error, LedgerError), f"{type(error).__name__} is not a LedgerError: {error}"
        builtin = TypeError if issubclass(cls, TypeError) else MemoryError if issubclass(cls, MemoryError) else ValueError
        assert isinstance(error, builtin)
    assert re.search(re.escape(named), str(error)), f"message does not name {named!r}: {error}"


def test_every_public_function_is_in_the_table():
    """The table covers each name in the three modules' __all__ that can be called."""
    ids = " ".join(p.id for p in ROWS)
    for module in (merkle, proofs, checkpoint):
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or isinstance(obj, type) and issubclass(obj, BaseException):
                continue
            if name in ("available_hashers", "ProofHashes", "hasher_name", "verifier_hash", "verifier_count",
                        "verifier_proof"):
                continue  # no arguments, or exercised through every verifier row above
            assert f"{module.__name__.split('.')[-1]}.{name}" in ids or name in ids, f"{module.__name__}.{name}"
