"""Issue 12 item 6: `merkle` and `proofs` accept the same input forms and answer the same.

The forms are defined once, in ledger_core.proofs (standard library only) and imported by
ledger_core.merkle: every row below runs through both modules. Accepted forms verify True;
malformed content (a wrong length, count or range) verifies False and never raises; a wrong
type raises InvalidTypeError naming the argument; an unknown hasher raises
InvalidArgumentError."""

from __future__ import annotations

import array

import numpy as np
import pytest

from ledger_core import merkle, proofs
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, LedgerError
from ledger_core.merkle import MerkleTree

MODULES = {"merkle": merkle, "proofs": proofs}

TREE = MerkleTree("blake3")
TREE.extend([b"record %d" % i for i in range(13)])
INDEX, SIZE, OLD = 5, 13, 6
LEAF, ROOT, OLD_ROOT = TREE.leaf_hash(INDEX), TREE.root(SIZE), TREE.root(OLD)
PATH = list(TREE.inclusion_proof(INDEX, SIZE).hashes)
CPATH = list(TREE.consistency_proof(OLD, SIZE).hashes)


def hash_forms(value: bytes):
    """Every accepted form of one 32-byte hash."""
    u8 = np.frombuffer(value, np.uint8)
    spaced = np.zeros(64, np.uint8)
    spaced[::2] = u8
    return {
        "bytes": value,
        "bytearray": bytearray(value),
        "memoryview": memoryview(value),
        "uint8 array": u8.copy(),
        "uint32 array": u8.view(np.uint32).copy(),
        "memoryview of uint32 array": memoryview(u8.view(np.uint32).copy()),
        "non-contiguous uint8 array": spaced[::2],
        "(1, 32) array": u8.reshape(1, 32).copy(),
        "array.array": array.array("B", value),
    }


def proof_forms(path):
    rows = np.frombuffer(b"".join(path), np.uint8).reshape(len(path), 32)
    return {
        "list of bytes": list(path),
        "tuple of bytes": tuple(path),
        "list of bytearrays": [bytearray(h) for h in path],
        "list of uint8 arrays": [np.frombuffer(h, np.uint8) for h in path],
        "list of memoryviews of uint32 arrays": [memoryview(np.frombuffer(h, np.uint32)) for h in path],
        "(n, 32) uint8 array": rows.copy(),
        "(n, 32) Fortran-order array": np.asfortranarray(rows),
        "(n, 8) uint32 array": rows.copy().view(np.uint32),
        "generator": (h for h in path),
        "S32 array (np.array of the hashes)": np.array(list(path)),
        "object array of bytes": np.array(list(path) + [None], dtype=object)[:-1],
        "proof.hashes": proofs.ProofHashes(path),
    }


COUNT_FORMS = {"int": int, "numpy int64": np.int64, "numpy uint64": np.uint64, "numpy uint32": np.uint32}


def both(verify_name: str, *args) -> bool:
    answers = {}
    for name, module in MODULES.items():
        answers[name] = getattr(module, verify_name)(*args)
        assert type(answers[name]) is bool
    assert answers["merkle"] is answers["proofs"], f"merkle and proofs disagree: {answers}"
    return answers["merkle"]


@pytest.mark.parametrize("form", list(hash_forms(LEAF)))
def test_every_hash_form_verifies_in_both(form):
    assert both("verify_inclusion", "blake3", INDEX, SIZE, hash_forms(LEAF)[form], PATH, hash_forms(ROOT)[form])
    assert both("verify_consistency", "blake3", OLD, SIZE, CPATH, hash_forms(OLD_ROOT)[form], hash_forms(ROOT)[form])


@pytest.mark.parametrize("form", list(proof_forms(PATH)))
def test_every_proof_form_verifies_in_both(form):
    for module in MODULES.values():  # fresh forms per call: a generator is consumed
        assert module.verify_inclusion("blake3", INDEX, SIZE, LEAF, proof_forms(PATH)[form], ROOT) is True
        assert module.verify_consistency("blake3", OLD, SIZE, proof_forms(CPATH)[form], OLD_ROOT, ROOT) is True
    one_leaf = MerkleTree("sha256")
    one_leaf.append(b"x")
    empty = {"list": [], "tuple": (), "(0, 32) array": np.zeros((0, 32), np.uint8)}
    for value in empty.values():
        assert both("verify_inclusion", "sha256", 0, 1, one_leaf.root(), value, one_leaf.root())


@pytest.mark.parametrize("form", list(COUNT_FORMS))
def test_every_count_form_verifies_in_both(form):
    cast = COUNT_FORMS[form]
    assert both("verify_inclusion", merkle.BLAKE3, cast(INDEX), cast(SIZE), LEAF, PATH, ROOT)
    assert both("verify_consistency", proofs.BLAKE3, cast(OLD), cast(SIZE), CPATH, OLD_ROOT, ROOT)


# Malformed content: False in both, never an exception.
MALFORMED_INCLUSION = {
    "leaf 31 bytes": (INDEX, SIZE, LEAF[:31], PATH, ROOT),
    "leaf 33 bytes": (INDEX, SIZE, LEAF + b"\0", PATH, ROOT),
    "leaf empty": (INDEX, SIZE, b"", PATH, ROOT),
    "leaf 7 uint32 (28 bytes)": (INDEX, SIZE, np.frombuffer(LEAF, np.uint32)[:7], PATH, ROOT),
    "root 3 bytes": (INDEX, SIZE, LEAF, PATH, b"abc"),
    "root 64 bytes": (INDEX, SIZE, LEAF, PATH, ROOT * 2),
    "element 31 bytes": (INDEX, SIZE, LEAF, [PATH[0][:31]] + PATH[1:], ROOT),
    "element 33 bytes": (INDEX, SIZE, LEAF, PATH[:-1] + [PATH[-1] + b"\0"], ROOT),
    "a 31 + a 33 byte element": (INDEX, SIZE, LEAF, [PATH[0][:31], PATH[1] + b"\0"] + PATH[2:], ROOT),
    "(n, 31) array": (INDEX, SIZE, LEAF, np.zeros((len(PATH), 31), np.uint8), ROOT),
    "(n, 33) array": (INDEX, SIZE, LEAF, np.zeros((len(PATH), 33), np.uint8), ROOT),
    "66 elements": (INDEX, SIZE, LEAF, [bytes(32)] * 66, ROOT),
    "(66, 32) array": (INDEX, SIZE, LEAF, np.zeros((66, 32), np.uint8), ROOT),
    "S31 array": (INDEX, SIZE, LEAF, np.array([h[:31] + b"x" for h in PATH], dtype="S31"), ROOT),
    "element missing": (INDEX, SIZE, LEAF, PATH[:-1], ROOT),
    "element extra": (INDEX, SIZE, LEAF, PATH + [bytes(32)], ROOT),
    "empty proof": (INDEX, SIZE, LEAF, [], ROOT),
    "index negative": (-1, SIZE, LEAF, PATH, ROOT),
    "index 2**64": (2**64, SIZE, LEAF, PATH, ROOT),
    "size 2**64": (INDEX, 2**64, LEAF, PATH, ROOT),
    "size 2**64 + 5": (INDEX, 2**64 + 5, LEAF, PATH, ROOT),
    "index == size": (SIZE, SIZE, LEAF, PATH, ROOT),
    "size 0": (0, 0, LEAF, [], ROOT),
}

MALFORMED_CONSISTENCY = {
    "equal sizes, empty roots (issue 12 item 5)": (5, 5, [], b"", b""),
    "equal sizes, 3-byte roots (issue 12 item 5)": (5, 5, [], b"abc", b"abc"),
    "equal sizes, 33-byte roots": (5, 5, [], ROOT + b"\0", ROOT + b"\0"),
    "equal sizes, a proof": (SIZE, SIZE, [ROOT], ROOT, ROOT),
    "size1 0": (0, SIZE, CPATH, OLD_ROOT, ROOT),
    "sizes 0 and 0": (0, 0, [], ROOT, ROOT),
    "size1 > size2": (SIZE, OLD, CPATH, ROOT, OLD_ROOT),
    "size2 2**64": (OLD, 2**64, CPATH, OLD_ROOT, ROOT),
    "size1 negative": (-1, SIZE, CPATH, OLD_ROOT, ROOT),
    "root1 31 bytes": (OLD, SIZE, CPATH, OLD_ROOT[:31], ROOT),
    "root2 3 bytes": (OLD, SIZE, CPATH, OLD_ROOT, b"abc"),
    "element 31 bytes": (OLD, SIZE, [CPATH[0][:31]] + CPATH[1:], OLD_ROOT, ROOT),
    "element missing": (OLD, SIZE, CPATH[:-1], OLD_ROOT, ROOT),
    "element extra": (OLD, SIZE, CPATH + [bytes(32)], OLD_ROOT, ROOT),
    "empty proof": (OLD, SIZE, [], OLD_ROOT, ROOT),
    "66 elements": (OLD, SIZE, [bytes(32)] * 66, OLD_ROOT, ROOT),
}


@pytest.mark.parametrize("case", list(MALFORMED_INCLUSION))
def test_malformed_inclusion_content_is_false_in_both(case):
    assert both("verify_inclusion", "blake3", *MALFORMED_INCLUSION[case]) is False


@pytest.mark.parametrize("case", list(MALFORMED_CONSISTENCY))
def test_malformed_consistency_content_is_false_in_both(case):
    for hasher in ("blake3", "sha256"):
        assert both("verify_consistency", hasher, *MALFORMED_CONSISTENCY[case]) is False


def test_equal_sizes_with_good_roots_still_verify():
    assert both("verify_consistency", "blake3", SIZE, SIZE, [], ROOT, ROOT)
    assert both("verify_consistency", "blake3", SIZE, SIZE, np.zeros((0, 32), np.uint8), ROOT, bytearray(ROOT))
    assert not both("verify_consistency", "blake3", SIZE, SIZE, [], ROOT, OLD_ROOT)


# Wrong types: InvalidTypeError naming the argument, in both.
WRONG_INCLUSION = {
    "leaf_hash None": ((INDEX, SIZE, None, PATH, ROOT), "leaf_hash"),
    "leaf_hash str": ((INDEX, SIZE, LEAF.hex(), PATH, ROOT), "leaf_hash"),
    "leaf_hash int": ((INDEX, SIZE, 5, PATH, ROOT), "leaf_hash"),
    "leaf_hash list of ints": ((INDEX, SIZE, list(LEAF), PATH, ROOT), "leaf_hash"),
    "leaf_hash object array": ((INDEX, SIZE, np.array([LEAF] * 4, dtype=object), PATH, ROOT), "leaf_hash"),
    # An object array's buffer is 8-byte pointers: 4 a row would look like a 32-byte hash.
    "proof (n, 4) object array": ((INDEX, SIZE, LEAF, np.full((len(PATH), 4), b"", object), ROOT), "proof[0]"),
    "root None": ((INDEX, SIZE, LEAF, PATH, None), "root"),
    "root str": ((INDEX, SIZE, LEAF, PATH, "root"), "root"),
    "proof None": ((INDEX, SIZE, LEAF, None, ROOT), "proof"),
    "proof str": ((INDEX, SIZE, LEAF, "text", ROOT), "proof"),
    "proof flat bytes": ((INDEX, SIZE, LEAF, b"".join(PATH), ROOT), "proof"),
    "proof 1-D uint8 array": ((INDEX, SIZE, LEAF, np.frombuffer(b"".join(PATH), np.uint8), ROOT), "proof"),
    "proof int": ((INDEX, SIZE, LEAF, 5, ROOT), "proof"),
    "proof element None": ((INDEX, SIZE, LEAF, PATH[:-1] + [None], ROOT), "proof[3]"),
    "proof element int": ((INDEX, SIZE, LEAF, [1, 2], ROOT), "proof[0]"),
    "proof element hex str": ((INDEX, SIZE, LEAF, [h.hex() for h in PATH], ROOT), "proof[0]"),
    "proof a proof object": ((INDEX, SIZE, LEAF, TREE.inclusion_proof(INDEX), ROOT), "proof.hashes"),
    "index str": (("5", SIZE, LEAF, PATH, ROOT), "index"),
    "index float": ((5.0, SIZE, LEAF, PATH, ROOT), "index"),
    "index bool": ((True, SIZE, LEAF, PATH, ROOT), "index"),
    "size None": ((INDEX, None, LEAF, PATH, ROOT), "size"),
}

WRONG_CONSISTENCY = {
    "root1 None": ((OLD, SIZE, CPATH, None, ROOT), "root1"),
    "root2 str": ((OLD, SIZE, CPATH, OLD_ROOT, "root"), "root2"),
    "proof None": ((OLD, SIZE, None, OLD_ROOT, ROOT), "proof"),
    "proof bytes": ((OLD, SIZE, CPATH[0], OLD_ROOT, ROOT), "proof"),
    "proof a proof object": ((OLD, SIZE, TREE.consistency_proof(OLD), OLD_ROOT, ROOT), "proof.hashes"),
    "size1 bool": ((False, SIZE, CPATH, OLD_ROOT, ROOT), "size1"),
    "size2 float": ((OLD, 13.0, CPATH, OLD_ROOT, ROOT), "size2"),
    # Types are checked before content decides: an equal-size call with a None root raises.
    "equal sizes, root2 None": ((5, 5, [], ROOT, None), "root2"),
}


@pytest.mark.parametrize("case", list(WRONG_INCLUSION))
def test_wrong_types_raise_in_both_inclusion(case):
    args, named = WRONG_INCLUSION[case]
    for module in MODULES.values():
        with pytest.raises(InvalidTypeError, match=r"\b" + named.replace("[", r"\[").replace("]", r"\]")) as info:
            module.verify_inclusion("blake3", *args)
        assert isinstance(info.value, LedgerError) and isinstance(info.value, TypeError)


@pytest.mark.parametrize("case", list(WRONG_CONSISTENCY))
def test_wrong_types_raise_in_both_consistency(case):
    args, named = WRONG_CONSISTENCY[case]
    for module in MODULES.values():
        with pytest.raises(InvalidTypeError, match=named):
            module.verify_consistency("sha256", *args)


@pytest.mark.parametrize("hasher, error", [("md5", InvalidArgumentError), ("BLAKE3", InvalidArgumentError),
                                           (None, InvalidTypeError), (3, InvalidTypeError),
                                           (b"blake3", InvalidTypeError)])
def test_a_wrong_hasher_raises_in_both(hasher, error):
    for module in MODULES.values():
        with pytest.raises(error, match="hasher"):
            module.verify_inclusion(hasher, INDEX, SIZE, LEAF, PATH, ROOT)
        with pytest.raises(error, match="hasher"):
            module.verify_consistency(hasher, 5, 5, [], b"", b"")
