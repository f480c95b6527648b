"""Verify ledger_core Merkle proofs with nothing but this file and the standard library.

An auditor who does not trust (or cannot build) the native core copies this one module
and checks inclusion and consistency proofs of either hash suite. It imports no other
part of ledger_core and nothing outside the standard library: SHA-256 comes from
``hashlib``, and BLAKE3 (plain hash, keyed hash and derive_key, full tree mode, any
input length) is implemented below from the BLAKE3 specification.

The suites (docs/FORMAT.md is normative)::

    suite    leaf(d)                      node(l, r)                      empty tree
    blake3   BLAKE3-keyed(K_LEAF, d)      BLAKE3-keyed(K_NODE, l || r)    BLAKE3-keyed(K_NODE, "")
    sha256   SHA-256(0x00 || d)           SHA-256(0x01 || l || r)         SHA-256("")

    K_LEAF = BLAKE3-derive_key("ledger_core 2026-11-27 merkle leaf v1", b"")
    K_NODE = BLAKE3-derive_key("ledger_core 2026-11-27 merkle node v1", b"")

The verifiers follow RFC 9162 2.1.3.2 and 2.1.4.2 and answer exactly as
``ledger_core.merkle.verify_inclusion`` / ``verify_consistency``: a malformed proof is
``False``, never an exception; a consistency proof from size 0 is ``False``.
This is slow (pure Python: tens of microseconds per BLAKE3 compression) and meant for
audits, not for bulk work.
"""

from __future__ import annotations

import hashlib
import hmac
import operator
from typing import Any, Iterable, List, Optional, Sequence

HASH_LEN = 32
SUITES = ("blake3", "sha256")

# --- BLAKE3 -----------------------------------------------------------------------------

_MASK = 0xFFFFFFFF
_IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
# The message word order of rounds 1..7: the permutation applied r times to 0..15.
_PERMUTATION = (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8)


def _round_schedules() -> tuple:
    order = list(range(16))
    schedules = []
    for _ in range(7):
        schedules.append(tuple(order))
        order = [order[p] for p in _PERMUTATION]
    return tuple(schedules)


_SCHEDULES = _round_schedules()

_CHUNK_LEN = 1024
_BLOCK_LEN = 64
_CHUNK_START = 1 << 0
_CHUNK_END = 1 << 1
_PARENT = 1 << 2
_ROOT = 1 << 3
_KEYED_HASH = 1 << 4
_DERIVE_KEY_CONTEXT = 1 << 5
_DERIVE_KEY_MATERIAL = 1 << 6


def _compress(cv: Sequence[int], block: bytes, counter: int, block_len: int, flags: int) -> List[int]:
    """The BLAKE3 compression function: 16 output words (the first 8 are the next CV)."""
    m = [int.from_bytes(block[4 * i:4 * i + 4], "little") for i in range(16)]
    v = list(cv) + list(_IV[:4]) + [counter & _MASK, (counter >> 32) & _MASK, block_len, flags]

    def g(a: int, b: int, c: int, d: int, x: int, y: int) -> None:
        va, vb, vc, vd = v[a], v[b], v[c], v[d]
        va = (va + vb + x) & _MASK
        vd ^= va
        vd = ((vd >> 16) | (vd << 16)) & _MASK
        vc = (vc + vd) & _MASK
        vb ^= vc
        vb = ((vb >> 12) | (vb << 20)) & _MASK
        va = (va + vb + y) & _MASK
        vd ^= va
        vd = ((vd >> 8) | (vd << 24)) & _MASK
        vc = (vc + vd) & _MASK
        vb ^= vc
        vb = ((vb >> 7) | (vb << 25)) & _MASK
        v[a], v[b], v[c], v[d] = va, vb, vc, vd

    for s in _SCHEDULES:
        g(0, 4, 8, 12, m[s[0]], m[s[1]])
        g(1, 5, 9, 13, m[s[2]], m[s[3]])
        g(2, 6, 10, 14, m[s[4]], m[s[5]])
        g(3, 7, 11, 15, m[s[6]], m[s[7]])
        g(0, 5, 10, 15, m[s[8]], m[s[9]])
        g(1, 6, 11, 12, m[s[10]], m[s[11]])
        g(2, 7, 8, 13, m[s[12]], m[s[13]])
        g(3, 4, 9, 14, m[s[14]], m[s[15]])
    return [v[i] ^ v[i + 8] for i in range(8)] + [v[i + 8] ^ cv[i] for i in range(8)]


class _Output:
    """A compression not yet run: the chunk's last block or a parent. Run as a non-root it
    gives a chaining value; run with ROOT it gives the output bytes."""

    __slots__ = ("cv", "block", "counter", "block_len", "flags")

    def __init__(self, cv: Sequence[int], block: bytes, counter: int, block_len: int, flags: int) -> None:
        self.cv, self.block, self.counter, self.block_len, self.flags = cv, block, counter, block_len, flags

    def chaining_value(self) -> List[int]:
        return _compress(self.cv, self.block, self.counter, self.block_len, self.flags)[:8]

    def root_bytes(self, length: int) -> bytes:
        out = bytearray()
        output_counter = 0
        while len(out) < length:
            words = _compress(self.cv, self.block, output_counter, self.block_len, self.flags | _ROOT)
            out += b"".join(w.to_bytes(4, "little") for w in words)
            output_counter += 1
        return bytes(out[:length])


def _words(key: bytes) -> List[int]:
    return [int.from_bytes(key[4 * i:4 * i + 4], "little") for i in range(8)]


def _cv_bytes(cv: Sequence[int]) -> bytes:
    return b"".join(w.to_bytes(4, "little") for w in cv)


def _chunk_output(chunk: bytes, chunk_index: int, key: Sequence[int], flags: int) -> _Output:
    cv = list(key)
    block_count = max(1, -(-len(chunk) // _BLOCK_LEN))
    for b in range(block_count - 1):
        block = chunk[b * _BLOCK_LEN:(b + 1) * _BLOCK_LEN]
        start = _CHUNK_START if b == 0 else 0
        cv = _compress(cv, block, chunk_index, _BLOCK_LEN, flags | start)[:8]
    last = chunk[(block_count - 1) * _BLOCK_LEN:]
    start = _CHUNK_START if block_count == 1 else 0
    padded = last + bytes(_BLOCK_LEN - len(last))
    return _Output(cv, padded, chunk_index, len(last), flags | start | _CHUNK_END)


def _parent_output(left: Sequence[int], right: Sequence[int], key: Sequence[int], flags: int) -> _Output:
    return _Output(key, _cv_bytes(left) + _cv_bytes(right), 0, _BLOCK_LEN, flags | _PARENT)


def _blake3(data: bytes, key: Sequence[int], flags: int, length: int) -> bytes:
    # Chunks merge as in the reference: a completed chunk's CV joins the stack, and the
    # stack merges pairs while the chunk count so far is even (a left-balanced tree).
    chunk_count = max(1, -(-len(data) // _CHUNK_LEN))
    stack: List[List[int]] = []
    for index in range(chunk_count - 1):
        cv = _chunk_output(data[index * _CHUNK_LEN:(index + 1) * _CHUNK_LEN], index, key, flags).chaining_value()
        total = index + 1
        while total & 1 == 0:
            cv = _parent_output(stack.pop(), cv, key, flags).chaining_value()
            total >>= 1
        stack.append(cv)
    last = chunk_count - 1
    output = _chunk_output(data[last * _CHUNK_LEN:], last, key, flags)
    while stack:
        output = _parent_output(stack.pop(), output.chaining_value(), key, flags)
    return output.root_bytes(length)


def blake3_hash(data: bytes, length: int = 32) -> bytes:
    """BLAKE3(data), `length` output bytes."""
    return _blake3(bytes(data), _IV, 0, length)


def blake3_keyed_hash(key: bytes, data: bytes, length: int = 32) -> bytes:
    """BLAKE3 keyed hash of data under a 32-byte key."""
    if len(key) != 32:
        raise ValueError(f"a BLAKE3 key is 32 bytes, got {len(key)}")
    return _blake3(bytes(data), _words(bytes(key)), _KEYED_HASH, length)


def blake3_derive_key(context: str, material: bytes, length: int = 32) -> bytes:
    """BLAKE3 derive_key(context, material)."""
    context_key = _blake3(context.encode("utf-8"), _IV, _DERIVE_KEY_CONTEXT, 32)
    return _blake3(bytes(material), _words(context_key), _DERIVE_KEY_MATERIAL, length)


LEAF_KEY_CONTEXT = "ledger_core 2026-11-27 merkle leaf v1"
NODE_KEY_CONTEXT = "ledger_core 2026-11-27 merkle node v1"
K_LEAF = blake3_derive_key(LEAF_KEY_CONTEXT, b"")
K_NODE = blake3_derive_key(NODE_KEY_CONTEXT, b"")
_K_LEAF_WORDS = _words(K_LEAF)
_K_NODE_WORDS = _words(K_NODE)

# --- the suites -------------------------------------------------------------------------


def _check_suite(suite: str) -> None:
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {SUITES}, got {suite!r}")


def leaf_hash(suite: str, data: bytes) -> bytes:
    """leaf(data) in `suite`."""
    _check_suite(suite)
    if suite == "sha256":
        return hashlib.sha256(b"\x00" + bytes(data)).digest()
    return _blake3(bytes(data), _K_LEAF_WORDS, _KEYED_HASH, 32)


def node_hash(suite: str, left: bytes, right: bytes) -> bytes:
    """node(left, right) in `suite`; both are 32-byte hashes."""
    _check_suite(suite)
    if len(left) != HASH_LEN or len(right) != HASH_LEN:
        raise ValueError("node hash inputs must be 32 bytes each")
    if suite == "sha256":
        return hashlib.sha256(b"\x01" + bytes(left) + bytes(right)).digest()
    # 64 bytes: one block, one chunk, one compression.
    block = bytes(left) + bytes(right)
    return _Output(_K_NODE_WORDS, block, 0, _BLOCK_LEN, _KEYED_HASH | _CHUNK_START | _CHUNK_END).root_bytes(32)


def empty_root(suite: str) -> bytes:
    """The root of the empty tree in `suite`."""
    _check_suite(suite)
    if suite == "sha256":
        return hashlib.sha256(b"").digest()
    return _blake3(b"", _K_NODE_WORDS, _KEYED_HASH, 32)


def root(suite: str, leaf_hashes: Iterable[bytes]) -> bytes:
    """The RFC 9162 root of the given leaf hashes (the recursive definition of 2.1.1)."""
    hashes = [bytes(h) for h in leaf_hashes]

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return hashes[lo]
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        return node_hash(suite, mth(lo, lo + k), mth(lo + k, hi))

    return empty_root(suite) if not hashes else mth(0, len(hashes))


# --- verifiers --------------------------------------------------------------------------

_UINT64_MAX = (1 << 64) - 1
_MAX_PROOF_LEN = 65


def _is_hash(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview)) and len(value) == HASH_LEN


def _as_count(value: Any) -> Optional[int]:
    """An int in [0, 2^64) (anything with __index__, not bool), or None."""
    if isinstance(value, bool):
        return None
    try:
        value = operator.index(value)
    except TypeError:
        return None
    return value if 0 <= value <= _UINT64_MAX else None


def _proof_list(proof: Any) -> Optional[List[bytes]]:
    if proof is None:
        return []
    if isinstance(proof, (bytes, bytearray, memoryview, str)):
        return None
    try:
        items = list(proof)
    except TypeError:
        return None
    if len(items) > _MAX_PROOF_LEN or not all(_is_hash(p) for p in items):
        return None
    return [bytes(p) for p in items]


def verify_inclusion(suite: str, leaf_hash: Any, index: Any, size: Any, proof: Any, root: Any) -> bool:
    """RFC 9162 2.1.3.2: True when `proof` shows leaf `index` (hash `leaf_hash`) is in the
    tree of `size` leaves with root `root`. Malformed input is False."""
    _check_suite(suite)
    path = _proof_list(proof)
    if path is None or not _is_hash(leaf_hash) or not _is_hash(root):
        return False
    index, size = _as_count(index), _as_count(size)
    if index is None or size is None or index >= size:
        return False
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(suite, p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(suite, r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, bytes(root))


def verify_consistency(suite: str, old_size: Any, new_size: Any, old_root: Any, new_root: Any, proof: Any) -> bool:
    """RFC 9162 2.1.4.2: True when `proof` shows the tree of `new_size` leaves (root
    `new_root`) extends the tree of `old_size` leaves (root `old_root`). A proof from
    size 0 is False; equal sizes need an empty proof and equal roots."""
    _check_suite(suite)
    path = _proof_list(proof)
    old_size, new_size = _as_count(old_size), _as_count(new_size)
    if path is None or old_size is None or new_size is None:
        return False
    if old_size == 0 or old_size > new_size:
        return False
    if old_size == new_size:
        if not isinstance(old_root, (bytes, bytearray, memoryview)) or not isinstance(
            new_root, (bytes, bytearray, memoryview)
        ):
            return False
        return not path and bytes(old_root) == bytes(new_root)
    if not path or not _is_hash(old_root) or not _is_hash(new_root):
        return False
    if old_size & (old_size - 1) == 0:
        path = [bytes(old_root)] + path
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(suite, c, fr)
            sr = node_hash(suite, c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(suite, sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, bytes(old_root)) and hmac.compare_digest(sr, bytes(new_root))


__all__ = [
    "HASH_LEN",
    "SUITES",
    "K_LEAF",
    "K_NODE",
    "LEAF_KEY_CONTEXT",
    "NODE_KEY_CONTEXT",
    "blake3_hash",
    "blake3_keyed_hash",
    "blake3_derive_key",
    "leaf_hash",
    "node_hash",
    "empty_root",
    "root",
    "verify_inclusion",
    "verify_consistency",
]
