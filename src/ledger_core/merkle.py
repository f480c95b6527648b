"""The verifiable Merkle log: an append-only RFC 9162 tree, its hashers, typed proofs and
native verifiers.

Two hashers share the RFC 9162 tree shape (docs/FORMAT.md is normative):

* :data:`BLAKE3` (``"blake3"``, the default): leaf(d) = BLAKE3-keyed(K_LEAF, d),
  node(l, r) = BLAKE3-keyed(K_NODE, l || r), empty tree = BLAKE3-keyed(K_NODE, ""), with
  the keys derived by BLAKE3 derive_key from fixed context strings;
* :data:`SHA256` (``"sha256"``): RFC 9162 exactly (leaf = SHA-256(0x00 || d), node =
  SHA-256(0x01 || l || r)), so its proofs check with the transparency-dev tools.

Every function takes a hasher object or its name. :class:`MerkleTree` keeps every
complete subtree hash once (about two hashes, 64 bytes, per leaf) in native memory and
answers roots, :class:`InclusionProof` and :class:`ConsistencyProof` at the current size
and at every past size. The verifiers here run in native code; :mod:`ledger_core.proofs`
has the same verifiers, the same proof types and their JSON in pure Python, and defines
the input forms both accept.

Verdicts: ``verify_*`` answer ``False`` for bad content (a hash, root or proof element of
the wrong length, a wrong count, an index or size out of range) and raise for a
programming error (a wrong type: InvalidTypeError; an unknown hasher:
InvalidArgumentError). A tree's sizes and indexes out of range raise OutOfRangeError.
"""

from __future__ import annotations

from typing import Any, Optional

from ledger_core import _native, proofs
from ledger_core._buffers import as_bytes, as_items, as_rows, resolve_threads
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, OutOfRangeError
from ledger_core.proofs import HASHER_NAMES, ProofHashes

HASH_LEN: int = _native.MERKLE_HASH_LEN
"""Bytes in every leaf, node and root hash (32)."""

MAX_PROOF_LEN: int = _native.MERKLE_MAX_PROOF_COUNT
"""The most hashes any proof holds (one per level of a 2^64 tree, plus one)."""

_NATIVE_IDS = {"blake3": _native.MERKLE_SUITE_BLAKE3, "sha256": _native.MERKLE_SUITE_SHA256}
# What the build supports does not change while the process runs: asked once.
_BUILT = {name: bool(_native.merkle_suite_available(ident)) for name, ident in _NATIVE_IDS.items()}
_UINT64_MAX = (1 << 64) - 1


def _native_id(name: str) -> int:
    """The native suite number of a hasher name, or InvalidArgumentError when not built in."""
    if not _BUILT[name]:
        raise InvalidArgumentError(f"hasher {name!r} is not built into this ledger_core (its hash primitive is missing)")
    return int(_NATIVE_IDS[name])


class Hasher(proofs.Hasher):
    """A Merkle hasher run by the native core: ``name``, ``hash_leaf(data)``,
    ``hash_children(left, right)``, ``empty_root()``. Use :data:`BLAKE3` and
    :data:`SHA256`; a :class:`ledger_core.proofs.Hasher` or a name is accepted wherever
    a hasher is."""

    __slots__ = ()

    @property
    def _native_id(self) -> int:
        return _native_id(self.name)

    def hash_leaf(self, data: Any) -> bytes:
        """leaf(data): the 32-byte hash the tree stores for a leaf of these bytes."""
        return _native.merkle_leaf_hash(self._native_id, as_bytes(data, "data"))

    def hash_children(self, left: Any, right: Any) -> bytes:
        """node(left, right) of two 32-byte hashes."""
        return _native.merkle_node_hash(
            self._native_id, proofs._exact_hash(left, "left"), proofs._exact_hash(right, "right")
        )

    def empty_root(self) -> bytes:
        """The root of the tree of no leaves."""
        return _native.merkle_empty_root(self._native_id)


BLAKE3 = Hasher("blake3")
"""The default hasher: BLAKE3 keyed with K_LEAF / K_NODE (docs/FORMAT.md)."""
SHA256 = Hasher("sha256")
"""RFC 9162 exactly: SHA-256 with the 0x00 / 0x01 prefixes."""
HASHERS = (BLAKE3, SHA256)
"""Both hashers, the default first."""


def _resolve(value: Any) -> Hasher:
    """The hasher object of a hasher or its name (InvalidArgumentError for an unknown
    name, InvalidTypeError for anything else)."""
    return BLAKE3 if proofs.hasher_name(value) == "blake3" else SHA256


def available_hashers() -> tuple:
    """The hashers this build supports (both, once BLAKE3 is built in)."""
    return tuple(h for h in HASHERS if _BUILT[h.name])


def verify_inclusion(hasher: Any, index: Any, size: Any, leaf_hash: Any, proof: Any, root: Any) -> bool:
    """True when `proof` (RFC 9162 2.1.3.2) shows the leaf `index` with hash `leaf_hash` is
    in the tree of `size` leaves whose root is `root`. Natively; answers exactly as
    :func:`ledger_core.proofs.verify_inclusion` (the accepted forms are defined there).
    Bad content is False; a wrong type or an unknown hasher raises."""
    inputs = proofs._inclusion_inputs(hasher, index, size, leaf_hash, proof, root)
    if inputs is None:
        return False
    name, index_i, size_i, leaf, path, root_b = inputs
    ident = _native_id(name)
    return bool(_native.merkle_verify_inclusion(ident, leaf, index_i, size_i, b"".join(path), root_b))


def verify_consistency(hasher: Any, size1: Any, size2: Any, proof: Any, root1: Any, root2: Any) -> bool:
    """True when `proof` (RFC 9162 2.1.4.2) shows the tree of `size2` leaves with root
    `root2` extends the tree of `size1` leaves with root `root1`. A proof from size 0 is
    False; equal sizes need an empty proof and equal 32-byte roots. Natively; answers
    exactly as :func:`ledger_core.proofs.verify_consistency`."""
    inputs = proofs._consistency_inputs(hasher, size1, size2, proof, root1, root2)
    if inputs is None:
        return False
    name, size1_i, size2_i, path, root1_b, root2_b = inputs
    ident = _native_id(name)
    return bool(_native.merkle_verify_consistency(ident, size1_i, size2_i, root1_b, root2_b, b"".join(path)))


class InclusionProof(proofs.InclusionProof):
    """:class:`ledger_core.proofs.InclusionProof` whose hasher is this module's and whose
    :meth:`verify` runs natively. JSON as docs/FORMAT.md (the codec of ``proofs``)."""

    __slots__ = ()

    def verify(self, leaf_hash: Any, root: Any) -> bool:
        """True when this proof shows `leaf_hash` at `index` in the tree whose root at `size`
        is `root` (as :func:`verify_inclusion`, natively)."""
        return verify_inclusion(self._v_hasher, self._v_first, self._v_second, leaf_hash, self._v_hashes, root)

    @classmethod
    def _hasher(cls, value: Any) -> Hasher:
        return _resolve(value)


class ConsistencyProof(proofs.ConsistencyProof):
    """:class:`ledger_core.proofs.ConsistencyProof` whose hasher is this module's and whose
    :meth:`verify` runs natively."""

    __slots__ = ()

    def verify(self, root1: Any, root2: Any) -> bool:
        """True when this proof shows the tree with root `root2` at `size2` extends the tree
        with root `root1` at `size1` (as :func:`verify_consistency`, natively)."""
        return verify_consistency(self._v_hasher, self._v_first, self._v_second, self._v_hashes, root1, root2)

    @classmethod
    def _hasher(cls, value: Any) -> Hasher:
        return _resolve(value)


def from_json(text: Any) -> Any:
    """An :class:`InclusionProof` or :class:`ConsistencyProof` from the proof JSON of
    docs/FORMAT.md, by its ``type`` (MalformedInputError naming the key otherwise)."""
    obj = proofs._decode_json(text, None)
    cls = InclusionProof if obj["type"] == "inclusion" else ConsistencyProof
    return cls._from_object(obj)


def _count(value: Any, name: str) -> int:
    """A non-negative int that fits uint64, or InvalidTypeError / OutOfRangeError naming it."""
    if type(value) is int and 0 <= value <= _UINT64_MAX:
        return value
    if isinstance(value, bool):
        raise InvalidTypeError(f"{name} must be an int, got bool")
    try:
        number = int(value.__index__())
    except (AttributeError, TypeError):
        raise InvalidTypeError(f"{name} must be an int, got {type(value).__name__}") from None
    if number < 0 or number > _UINT64_MAX:
        raise OutOfRangeError(f"{name} must be between 0 and 2**64 - 1, got {number}")
    return number


class MerkleTree:
    """An append-only RFC 9162 Merkle tree held in native memory.

    ``MerkleTree(hasher=merkle.BLAKE3)`` (or ``"sha256"``, ...). Leaves are numbered
    from 0 in append order. Every complete subtree hash is stored once (about 64 bytes
    per leaf); roots and proofs at any past size read O(log n) of them. Appends release
    the GIL for large batches; a tree may be shared between threads (a lock serialises
    appends against readers).
    """

    def __init__(self, hasher: Any = BLAKE3) -> None:
        self._setup(hasher, lending=True)

    def _setup(self, value: Any, lending: bool) -> None:
        # lending=False (tests, through _copying_tree) stores nodes through copies, the
        # path a store without addressable memory takes.
        self._hasher = _resolve(value)
        self._tree = _native.MerkleTree(self._hasher._native_id, lending)

    @property
    def hasher(self) -> Hasher:
        """The tree's hasher (:data:`BLAKE3` or :data:`SHA256`)."""
        return self._hasher

    @property
    def size(self) -> int:
        """The number of leaves."""
        return int(self._tree.size)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"MerkleTree({self._hasher!r}, size={self.size})"

    def append(self, data: Any) -> int:
        """Append one leaf (its bytes; the hasher's hash_leaf hashes them). Returns its index."""
        return int(self._tree.append_one(as_bytes(data, "data")))

    def extend(self, items: Any, *, threads: Optional[int] = None) -> int:
        """Append many leaves at once; returns the index of the first.

        `items` is "many byte strings" as everywhere in ledger_core: an (N, k) uint8
        array (N leaves of k bytes), a :class:`ledger_core.Packed`, an Arrow binary array,
        or a sequence of bytes-like objects (each one leaf). Leaves and parents are
        hashed in SIMD batches, large batches on `threads` threads (None: all cores).
        """
        workers = resolve_threads(threads)
        normalised = as_items(items, "items")
        if normalised[0] == "fixed":
            return int(self._tree.append_fixed(normalised[1], workers))
        return int(self._tree.append_var(normalised[1], normalised[2], workers))

    def extend_hashes(self, leaf_hashes: Any, *, threads: Optional[int] = None) -> int:
        """Append leaves given by their leaf hashes (already hash_leaf()-ed, 32 bytes each):
        an (N, 32) uint8 array or a sequence of 32-byte strings. Returns the first index.
        Parents of large batches are hashed on `threads` threads (None: all cores)."""
        workers = resolve_threads(threads)
        rows = as_rows(leaf_hashes, HASH_LEN, "leaf_hashes")
        return int(self._tree.append_hashes(rows, workers))

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

    def inclusion_proof(self, index: int, size: Optional[int] = None) -> InclusionProof:
        """RFC 9162 2.1.3.1 proof that leaf `index` is in the tree of `size` leaves
        (default: now). Needs index < size <= self.size (OutOfRangeError otherwise)."""
        index = _count(index, "index")
        size = self.size if size is None else _count(size, "size")
        return InclusionProof._unchecked(self._hasher, index, size, self._tree.inclusion_proof(index, size))

    def consistency_proof(self, size1: int, size2: Optional[int] = None) -> ConsistencyProof:
        """RFC 9162 2.1.4.1 proof that the tree of `size2` leaves (default: now) extends
        the tree of `size1` leaves. Needs 0 < size1 <= size2 <= self.size: a proof from
        the empty tree proves nothing and raises OutOfRangeError."""
        size1 = _count(size1, "size1")
        size2 = self.size if size2 is None else _count(size2, "size2")
        return ConsistencyProof._unchecked(self._hasher, size1, size2, self._tree.consistency_proof(size1, size2))

    def memory_bytes(self) -> int:
        """Bytes of native memory held by node hashes."""
        return int(self._tree.memory_bytes())


def _copying_tree(value: Any = BLAKE3) -> MerkleTree:
    """A tree whose node store copies instead of lending memory (tests of that path)."""
    tree = MerkleTree.__new__(MerkleTree)
    tree._setup(value, lending=False)
    return tree


__all__ = [
    "HASH_LEN",
    "MAX_PROOF_LEN",
    "HASHER_NAMES",
    "Hasher",
    "BLAKE3",
    "SHA256",
    "HASHERS",
    "available_hashers",
    "InclusionProof",
    "ConsistencyProof",
    "ProofHashes",
    "MerkleTree",
    "from_json",
    "verify_inclusion",
    "verify_consistency",
]
