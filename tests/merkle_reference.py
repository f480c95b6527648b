"""An independent reference of the two Merkle hash suites (docs/FORMAT.md), built on the
`blake3` package and hashlib only, shared by the tests that check the native tree and
verifiers against it."""

from __future__ import annotations

import hashlib
from typing import Sequence

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
