"""The verifiable Merkle log: an append-only RFC 9162 tree, its proofs and verifiers.

Two hash suites share the RFC 9162 tree shape (docs/FORMAT.md is normative):

* ``"blake3"`` (the default): leaf(d) = BLAKE3-keyed(K_LEAF, d), node(l, r) =
  BLAKE3-keyed(K_NODE, l || r), empty tree = BLAKE3-keyed(K_NODE, ""), with the keys
  derived by BLAKE3 derive_key from fixed context strings;
* ``"sha256"``: RFC 9162 exactly (leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || l || r)),
  so its proofs check with the transparency-dev tools.

:class:`MerkleTree` keeps every complete subtree hash once (about two hashes, 64 bytes,
per leaf) in native memory and answers roots, inclusion proofs and consistency proofs
at the current size and at every past size. The verifiers here run in native code;
:mod:`ledger_core.proofs` has the same verifiers in pure Python for auditors.

Sizes and indexes out of range raise :class:`~ledger_core.errors.OutOfRangeError` (a
``ValueError``); a malformed proof never raises, it verifies ``False``.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

import numpy as np

from ledger_core import _native
from ledger_core._buffers import as_bytes, as_items, as_rows, resolve_threads
from ledger_core.errors import InvalidArgumentError, OutOfRangeError

HASH_LEN: int = _native.MERKLE_HASH_LEN
"""Bytes in every leaf, node and root hash (32)."""

SUITES = ("blake3", "sha256")
"""The hash suites, default first."""

DEFAULT_SUITE = "blake3"

MAX_PROOF_LEN: int = _native.MERKLE_MAX_PROOF_COUNT
"""The most hashes any proof holds (one per level of a 2^64 tree, plus one)."""

_SUITE_IDS = {"blake3": _native.MERKLE_SUITE_BLAKE3, "sha256": _native.MERKLE_SUITE_SHA256}
_UINT64_MAX = (1 << 64) - 1


def _suite_id(suite: str) -> int:
    if suite not in _SUITE_IDS:
        raise InvalidArgumentError(f"suite must be one of {SUITES}, got {suite!r}")
    ident = _SUITE_IDS[suite]
    if not _native.merkle_suite_available(ident):
        raise InvalidArgumentError(
            f"merkle suite {suite!r} is not built into this ledger_core (its hash primitive is missing)"
        )
    return ident


def available_suites() -> tuple:
    """The suites this build supports (both, once BLAKE3 is built in)."""
    return tuple(s for s in SUITES if _native.merkle_suite_available(_SUITE_IDS[s]))


def _count(value: Any, name: str) -> int:
    """A non-negative int that fits uint64, or TypeError / OutOfRangeError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < 0 or value > _UINT64_MAX:
        raise OutOfRangeError(f"{name} must be between 0 and 2**64 - 1, got {value}")
    return value


def _verify_count(value: Any) -> Optional[int]:
    """Like _count for the verifiers: None instead of an exception."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return None
    value = int(value)
    return value if 0 <= value <= _UINT64_MAX else None


def _joined_proof(proof: Any) -> Optional[bytes]:
    """The proof hashes concatenated, or None when it is not a sequence of 32-byte strings."""
    if proof is None:
        return b""
    if isinstance(proof, (bytes, bytearray, memoryview, str)):
        return None
    if not isinstance(proof, (list, tuple)):
        try:
            proof = list(proof)
        except TypeError:
            return None
    if len(proof) > MAX_PROOF_LEN:
        return None
    try:
        # join accepts only bytes-like items; the lengths are then checked one by one
        # (a 31- and a 33-byte item would join to the right total).
        joined = b"".join(proof)
    except TypeError:
        return None
    if proof and set(map(len, proof)) != {HASH_LEN}:
        return None
    return joined if len(joined) == HASH_LEN * len(proof) else None


def _as_buffer(value: Any) -> Optional[bytes]:
    """bytes of a bytes-like value, or None (a verifier then answers False)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return None


def leaf_hash(suite: str, data: Any) -> bytes:
    """leaf(data) in `suite` (32 bytes): what :meth:`MerkleTree.append` stores for data."""
    return _native.merkle_leaf_hash(_suite_id(suite), as_bytes(data, "data"))


def node_hash(suite: str, left: Any, right: Any) -> bytes:
    """node(left, right) in `suite`; left and right are 32-byte hashes."""
    return _native.merkle_node_hash(
        _suite_id(suite), as_bytes(left, "left"), as_bytes(right, "right")
    )


def empty_root(suite: str) -> bytes:
    """The root of the tree of no leaves in `suite`."""
    return _native.merkle_empty_root(_suite_id(suite))


def verify_inclusion(
    suite: str, leaf_hash: Any, index: int, size: int, proof: Sequence[bytes], root: Any
) -> bool:
    """True when `proof` (RFC 9162 2.1.3.2) shows leaf `index` with `leaf_hash` in the tree
    of `size` leaves whose root is `root`.

    Anything malformed (wrong lengths or types, index >= size, a proof too long or too
    short) is False, never an exception; only an unknown suite raises.
    """
    ident = _suite_id(suite)
    leaf, root_b, joined = _as_buffer(leaf_hash), _as_buffer(root), _joined_proof(proof)
    index_i, size_i = _verify_count(index), _verify_count(size)
    if leaf is None or root_b is None or joined is None or index_i is None or size_i is None:
        return False
    return bool(_native.merkle_verify_inclusion(ident, leaf, index_i, size_i, joined, root_b))


def verify_consistency(
    suite: str, old_size: int, new_size: int, old_root: Any, new_root: Any, proof: Sequence[bytes]
) -> bool:
    """True when `proof` (RFC 9162 2.1.4.2) shows the tree of `new_size` leaves with root
    `new_root` extends the tree of `old_size` leaves with root `old_root`.

    A proof from size 0 is always False (it proves nothing; the transparency-dev
    verifiers reject it too). Equal sizes need an empty proof and equal roots. Anything
    malformed is False, never an exception; only an unknown suite raises.
    """
    ident = _suite_id(suite)
    old_b, new_b, joined = _as_buffer(old_root), _as_buffer(new_root), _joined_proof(proof)
    old_i, new_i = _verify_count(old_size), _verify_count(new_size)
    if old_b is None or new_b is None or joined is None or old_i is None or new_i is None:
        return False
    return bool(_native.merkle_verify_consistency(ident, old_i, new_i, old_b, new_b, joined))


class MerkleTree:
    """An append-only RFC 9162 Merkle tree held in native memory.

    ``MerkleTree(suite="blake3")``. Leaves are numbered from 0 in append order. Every
    complete subtree hash is stored once (about 64 bytes per leaf); roots and proofs at
    any past size read O(log n) of them. Appends release the GIL for large batches; a
    tree may be shared between threads (a lock serialises appends against readers).
    """

    def __init__(self, suite: str = DEFAULT_SUITE, *, _lending: bool = True) -> None:
        # _lending=False (tests only) stores nodes through copies, the path a store
        # without addressable memory takes.
        self._suite = suite
        self._tree = _native.MerkleTree(_suite_id(suite), bool(_lending))

    @property
    def suite(self) -> str:
        """The hash suite ("blake3" or "sha256")."""
        return self._suite

    @property
    def size(self) -> int:
        """The number of leaves."""
        return int(self._tree.size)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"MerkleTree(suite={self._suite!r}, size={self.size})"

    def append(self, data: Any) -> int:
        """Append one leaf (its bytes; leaf() hashes them). Returns its index."""
        return int(self._tree.append_one(as_bytes(data, "data")))

    def extend(self, items: Any, threads: Optional[int] = None) -> int:
        """Append many leaves at once; returns the index of the first.

        `items` is an (N, k) uint8 array (N leaves of k bytes), a (buffer, offsets) pair
        (leaf i is buffer[offsets[i]:offsets[i + 1]], N + 1 offsets) or a sequence of
        bytes-like objects. Leaves and parents are hashed in SIMD batches, large batches
        on `threads` threads (None: all cores).
        """
        normalised = as_items(items, "items")
        workers = resolve_threads(threads)
        if normalised[0] == "fixed":
            return int(self._tree.append_fixed(normalised[1], workers))
        return int(self._tree.append_var(normalised[1], normalised[2], workers))

    def extend_hashes(self, leaf_hashes: Any, threads: Optional[int] = None) -> int:
        """Append leaves given by their leaf hashes (already leaf()-hashed, 32 bytes each):
        an (N, 32) uint8 array or a sequence of 32-byte strings. Returns the first index.
        Parents of large batches are hashed on `threads` threads (None: all cores)."""
        rows = as_rows(leaf_hashes, HASH_LEN, "leaf_hashes")
        return int(self._tree.append_hashes(rows, resolve_threads(threads)))

    def reserve(self, leaf_count: int) -> None:
        """Allocate and touch the memory for `leaf_count` leaves in all (64 bytes each) now,
        so that appends up to that size pay no page faults. Does not change the size;
        a count at or below the current size does nothing."""
        self._tree.reserve(_count(leaf_count, "leaf_count"))

    def root(self, size: Optional[int] = None) -> bytes:
        """The root at `size` leaves (default: now). OutOfRangeError past the size."""
        return self._tree.root(self.size if size is None else _count(size, "size"))

    def leaf_hash(self, index: int) -> bytes:
        """The stored leaf hash of leaf `index`."""
        return self._tree.leaf_hash(_count(index, "index"))

    def inclusion_proof(self, index: int, size: Optional[int] = None) -> List[bytes]:
        """RFC 9162 2.1.3.1 proof that leaf `index` is in the tree of `size` leaves
        (default: now). Needs index < size <= self.size."""
        index = _count(index, "index")
        size = self.size if size is None else _count(size, "size")
        return self._tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: Optional[int] = None) -> List[bytes]:
        """RFC 9162 2.1.4.1 proof that the tree of `new_size` leaves (default: now) extends
        the tree of `old_size` leaves. Needs 0 < old_size <= new_size <= self.size: a
        proof from the empty tree proves nothing and raises OutOfRangeError."""
        old_size = _count(old_size, "old_size")
        new_size = self.size if new_size is None else _count(new_size, "new_size")
        return self._tree.consistency_proof(old_size, new_size)

    def memory_bytes(self) -> int:
        """Bytes of native memory held by node hashes."""
        return int(self._tree.memory_bytes())


__all__ = [
    "HASH_LEN",
    "SUITES",
    "DEFAULT_SUITE",
    "MAX_PROOF_LEN",
    "MerkleTree",
    "available_suites",
    "leaf_hash",
    "node_hash",
    "empty_root",
    "verify_inclusion",
    "verify_consistency",
]
