"""An independent reference of the two Merkle hash suites (docs/FORMAT.md), built on the
`blake3` package and hashlib only, shared by the tests that check the native tree and
verifiers against it."""

from __future__ import annotations

import hashlib
from typing import List, Sequence

import blake3 as blake3_ref

LEAF_CONTEXT = "ledger_core 2026-11-27 merkle leaf v1"
NODE_CONTEXT = "ledger_core 2026-11-27 merkle node v1"
K_LEAF = blake3_ref.blake3(b"", derive_key_context=LEAF_CONTEXT).digest()
K_NODE = blake3_ref.blake3(b"", derive_key_context=NODE_CONTEXT).digest()


def ref_leaf(suite: str, data: bytes) -> bytes:
    if suite == "blake3":
        return blake3_ref.blake3(data, key=K_LEAF).digest()
    return hashlib.sha256(b"\x00" + data).digest()


def ref_node(suite: str, left: bytes, right: bytes) -> bytes:
    if suite == "blake3":
        return blake3_ref.blake3(left + right, key=K_NODE).digest()
    return hashlib.sha256(b"\x01" + left + right).digest()


def ref_empty(suite: str) -> bytes:
    return blake3_ref.blake3(b"", key=K_NODE).digest() if suite == "blake3" else hashlib.sha256(b"").digest()


def ref_root(suite: str, leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of RFC 9162 2.1.1, recursively, over leaf hashes."""
    n = len(leaf_hashes)
    if n == 0:
        return ref_empty(suite)
    if n == 1:
        return bytes(leaf_hashes[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return ref_node(suite, ref_root(suite, leaf_hashes[:k]), ref_root(suite, leaf_hashes[k:]))


# --- RFC 9162 proofs ------------------------------------------------------------------------


def ref_path(suite: str, m: int, leaves: Sequence[bytes]) -> List[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return ref_path(suite, m, leaves[:k]) + [ref_root(suite, leaves[k:])]
    return ref_path(suite, m - k, leaves[k:]) + [ref_root(suite, leaves[:k])]


def ref_subproof(suite: str, m: int, leaves: Sequence[bytes], complete: bool) -> List[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if complete else [ref_root(suite, leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return ref_subproof(suite, m, leaves[:k], complete) + [ref_root(suite, leaves[k:])]
    return ref_subproof(suite, m - k, leaves[k:], False) + [ref_root(suite, leaves[:k])]


def ref_verify_inclusion(suite: str, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2; False for anything malformed (docs/FORMAT.md)."""
    if not (0 <= index < size < 2**64) or len(leaf) != 32 or len(root) != 32:
        return False
    if any(len(p) != 32 for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = ref_node(suite, p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = ref_node(suite, r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def ref_verify_consistency(suite: str, m: int, n: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """RFC 9162 2.1.4.2; a proof from size 0 proves nothing (False); False for anything
    malformed (docs/FORMAT.md)."""
    if not (0 < m <= n < 2**64) or len(root1) != 32 or len(root2) != 32:
        return False
    if any(len(p) != 32 for p in proof):
        return False
    if m == n:
        return len(proof) == 0 and root1 == root2
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # m a power of two: the old root is the first node of the walk
        path.insert(0, root1)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = ref_node(suite, c, fr)
            sr = ref_node(suite, c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = ref_node(suite, sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2
