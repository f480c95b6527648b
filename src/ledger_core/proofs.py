"""Verify ledger_core Merkle proofs with nothing but this file and the standard library.

An auditor who does not trust (or cannot build) the native core copies this one module
and checks inclusion and consistency proofs of either hasher, and reads and writes the
proof JSON of docs/FORMAT.md. It imports no other part of ledger_core and nothing outside
the standard library: SHA-256 comes from ``hashlib``; BLAKE3 comes from the ``blake3``
package when it is installed, else from the implementation below (plain hash, keyed hash
and derive_key, full tree mode, any input length), written from the BLAKE3 specification.

The hashers (docs/FORMAT.md is normative)::

    hasher   leaf(d)                      node(l, r)                      empty tree
    blake3   BLAKE3-keyed(K_LEAF, d)      BLAKE3-keyed(K_NODE, l || r)    BLAKE3-keyed(K_NODE, "")
    sha256   SHA-256(0x00 || d)           SHA-256(0x01 || l || r)         SHA-256("")

    K_LEAF = BLAKE3-derive_key("ledger_core 2026-11-27 merkle leaf v1", b"")
    K_NODE = BLAKE3-derive_key("ledger_core 2026-11-27 merkle node v1", b"")

The verifiers follow RFC 9162 2.1.3.2 and 2.1.4.2 in transparency-dev's form: a proof
splits into an inner part (below the point where the paths to the two ends of the range
part) and a border part (the right border of the tree), and three chain helpers walk them::

              root            inclusion of leaf 2 in the tree of 6 leaves:
            /      \\          inner  = bit length of (2 XOR 5) = 3 levels: 3, g, l
          k          l        border = ones in (2 >> 3) = 0 hashes
        /   \\      /   \\      consistency 4 -> 6: the old tree is the complete k,
       g     h    4     5     so k is the seed and the proof is [l]; the old root
      / \\   / \\               is rebuilt with the left siblings only
     0   1 2   3              (_chain_inner_right), the new one with all of them.

This module is also where ledger_core defines, once, which Python values a verifier
accepts (``ledger_core.merkle`` imports the same functions):

* a hash (``leaf_hash``, ``root``, an element of a proof) is any object with the buffer
  protocol, taken as its raw bytes in C order (``memoryview(x).tobytes()``): bytes,
  bytearray, memoryview, a numpy array of any dtype; anything else (str, None, int) is
  a wrong type and raises; a length other than 32 bytes verifies ``False``;
* a proof (``proof``) is a sequence or iterable of hashes (list, tuple, ...), a 2-D
  buffer whose rows are the hashes (an ``(n, 32)`` uint8 array) or a 1-D buffer whose
  items are (an ``S32`` array, as ``np.array(list_of_hashes)`` makes); a str, a flat
  byte buffer (bytes, a 1-D uint8 array), None or a non-iterable raises; rows, items or
  elements of the wrong length, or more than :data:`MAX_PROOF_LEN`, verify ``False``. A
  numpy object array is a sequence (its buffer holds pointers, not data);
* an index or size is an int (anything with ``__index__``: numpy integers too), not a
  bool; other types raise; a value outside [0, 2^64) verifies ``False``;
* the hasher is a :class:`Hasher` (or a ``ledger_core.merkle`` hasher) or its name; an
  unknown name raises.

So a verifier raises for a programming error (a wrong type, an unknown hasher) and
answers ``False`` for bad content (wrong length, count or range); a consistency proof
from size 0 is ``False``. Pure Python is slow (tens of microseconds per BLAKE3
compression without the ``blake3`` package): this is for audits, not bulk work.

Errors: inside ledger_core this module raises ledger_core's classes (every one a
``ledger_core.LedgerError``); copied alone, it defines classes of the same names that
derive from ``ValueError`` / ``TypeError``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import operator
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

# Type checkers see the package's classes (TYPE_CHECKING); at run time, copied alone, the
# file defines classes of the same names on standard-library bases.
if TYPE_CHECKING or __package__ == "ledger_core":
    from .errors import InvalidArgumentError, InvalidTypeError, MalformedInputError, OutOfRangeError
else:

    class ProofError(Exception):
        """Base class of the errors of this module when it is used outside ledger_core."""

    class InvalidArgumentError(ProofError, ValueError):
        """An argument has the wrong value."""

    class InvalidTypeError(ProofError, TypeError):
        """An argument has the wrong type."""

    class OutOfRangeError(ProofError, ValueError):
        """An index or size lies outside what exists."""

    class MalformedInputError(ProofError, ValueError):
        """Proof JSON does not parse."""


_blake3_package: Any
try:
    import blake3 as _blake3_package
except ImportError:  # the auditor's machine may have only the standard library
    _blake3_package = None

HASH_LEN = 32
MAX_PROOF_LEN = 65
"""The most hashes any proof holds (one per level of a 2^64 tree, plus one)."""
HASHER_NAMES = ("blake3", "sha256")
"""The hashers' names, the default first."""

_UINT64_LIMIT = 1 << 64
_JSON_INT_LIMIT = 1 << 63
MAX_JSON_LEN = 65536
"""Characters a proof JSON text may have (a proof of 65 hashes is under 5000)."""

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


MAX_BLAKE3_OUTPUT_LEN = 1 << 16
"""The longest output the pure-Python BLAKE3 functions produce (they are for audits)."""


def _output_length(length: Any) -> int:
    if isinstance(length, bool):
        raise InvalidTypeError("length must be an int, got bool")
    try:
        length = operator.index(length)
    except TypeError:
        raise InvalidTypeError(f"length must be an int, got {type(length).__name__}") from None
    if not 0 <= length <= MAX_BLAKE3_OUTPUT_LEN:
        raise OutOfRangeError(f"length must be between 0 and {MAX_BLAKE3_OUTPUT_LEN}, got {length}")
    return length


def _derive_key(context: bytes, material: bytes, length: int) -> bytes:
    context_key = _blake3(context, _IV, _DERIVE_KEY_CONTEXT, 32)
    return _blake3(material, _words(context_key), _DERIVE_KEY_MATERIAL, length)


def blake3_hash(data: Any, length: int = 32) -> bytes:
    """BLAKE3(data), `length` output bytes (0 to MAX_BLAKE3_OUTPUT_LEN)."""
    return _blake3(_buffer_bytes(data, "data"), _IV, 0, _output_length(length))


def blake3_keyed_hash(key: Any, data: Any, length: int = 32) -> bytes:
    """BLAKE3 keyed hash of data under a 32-byte key."""
    raw_key = _buffer_bytes(key, "key")
    if len(raw_key) != 32:
        raise InvalidArgumentError(f"key must be 32 bytes (a BLAKE3 key), got {len(raw_key)}")
    return _blake3(_buffer_bytes(data, "data"), _words(raw_key), _KEYED_HASH, _output_length(length))


def blake3_derive_key(context: str, material: Any, length: int = 32) -> bytes:
    """BLAKE3 derive_key(context, material); `context` is a str (UTF-8 encoded)."""
    if not isinstance(context, str):
        raise InvalidTypeError(f"context must be a str, got {type(context).__name__}")
    try:
        encoded = context.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError("context must be encodable as UTF-8 (it holds a lone surrogate)") from None
    return _derive_key(encoded, _buffer_bytes(material, "material"), _output_length(length))


LEAF_KEY_CONTEXT = "ledger_core 2026-11-27 merkle leaf v1"
NODE_KEY_CONTEXT = "ledger_core 2026-11-27 merkle node v1"
K_LEAF = _derive_key(LEAF_KEY_CONTEXT.encode("ascii"), b"", 32)
K_NODE = _derive_key(NODE_KEY_CONTEXT.encode("ascii"), b"", 32)
_K_LEAF_WORDS = _words(K_LEAF)
_K_NODE_WORDS = _words(K_NODE)

# --- the hashers ------------------------------------------------------------------------


def _blake3_leaf(data: bytes) -> bytes:
    if _blake3_package is not None:
        return bytes(_blake3_package.blake3(data, key=K_LEAF).digest())
    return _blake3(data, _K_LEAF_WORDS, _KEYED_HASH, 32)


def _blake3_node(left: bytes, right: bytes) -> bytes:
    if _blake3_package is not None:
        return bytes(_blake3_package.blake3(left + right, key=K_NODE).digest())
    # 64 bytes: one block, one chunk, one compression.
    flags = _KEYED_HASH | _CHUNK_START | _CHUNK_END
    return _Output(_K_NODE_WORDS, left + right, 0, _BLOCK_LEN, flags).root_bytes(32)


def _blake3_empty() -> bytes:
    if _blake3_package is not None:
        return bytes(_blake3_package.blake3(b"", key=K_NODE).digest())
    return _blake3(b"", _K_NODE_WORDS, _KEYED_HASH, 32)


def _sha256_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _sha256_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _sha256_empty() -> bytes:
    return hashlib.sha256(b"").digest()


# name -> (leaf, node, empty): the one table the pure hashers dispatch on.
_FUNCTIONS: Dict[str, Tuple[Callable[[bytes], bytes], Callable[[bytes, bytes], bytes], Callable[[], bytes]]] = {
    "blake3": (_blake3_leaf, _blake3_node, _blake3_empty),
    "sha256": (_sha256_leaf, _sha256_node, _sha256_empty),
}


def hasher_name(hasher: Any, name: str = "hasher") -> str:
    """The name of a hasher given as a :class:`Hasher` or its name; InvalidArgumentError for
    an unknown name, InvalidTypeError for anything else."""
    if isinstance(hasher, Hasher):
        return hasher.name
    if not isinstance(hasher, str):
        raise InvalidTypeError(
            f"{name} must be a Hasher (BLAKE3, SHA256) or its name {HASHER_NAMES}, got {type(hasher).__name__}"
        )
    if hasher not in HASHER_NAMES:
        raise InvalidArgumentError(f"{name} must be one of {HASHER_NAMES}, got {hasher!r}")
    return hasher


class Hasher:
    """A Merkle hasher: ``name`` and the three functions of docs/FORMAT.md, here in pure
    Python. Immutable; use the instances :data:`BLAKE3` and :data:`SHA256`.
    ``ledger_core.merkle.Hasher`` derives from this class and runs the same functions
    natively."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", hasher_name(name))

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{self.name.upper()}"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.name == self.name  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))

    def __reduce__(self) -> Any:
        return (type(self), (self.name,))

    def hash_leaf(self, data: Any) -> bytes:
        """leaf(data): the 32-byte hash of a leaf's bytes (any bytes-like `data`)."""
        return _FUNCTIONS[self.name][0](_buffer_bytes(data, "data"))

    def hash_children(self, left: Any, right: Any) -> bytes:
        """node(left, right) of two 32-byte hashes."""
        return _FUNCTIONS[self.name][1](_exact_hash(left, "left"), _exact_hash(right, "right"))

    def empty_root(self) -> bytes:
        """The root of the tree of no leaves."""
        return _FUNCTIONS[self.name][2]()


BLAKE3 = Hasher("blake3")
"""The default hasher: BLAKE3 keyed with K_LEAF / K_NODE."""
SHA256 = Hasher("sha256")
"""RFC 9162 exactly (SHA-256 with the 0x00 / 0x01 prefixes)."""


# --- accepted input forms (ledger_core.merkle uses these too) --------------------------


def _data_view(value: Any) -> Optional[memoryview]:
    """A memoryview of an object holding data, or None: no buffer protocol, or a buffer of
    Python object pointers (a numpy object array), whose bytes are not data."""
    try:
        view = memoryview(value)
    except (TypeError, ValueError, BufferError):
        return None
    if "O" in view.format:
        view.release()
        return None
    return view


def _buffer_bytes(value: Any, name: str) -> bytes:
    """The raw bytes (C order) of an object with the buffer protocol, or InvalidTypeError."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        raise InvalidTypeError(f"{name} must be bytes-like, not str (encode it, or bytes.fromhex a hex hash)")
    view = _data_view(value)
    if view is None:
        raise InvalidTypeError(f"{name} must be bytes-like (bytes, bytearray, memoryview, array), "
                               f"got {type(value).__name__}")
    with view:
        return view.tobytes()


def _exact_hash(value: Any, name: str) -> bytes:
    """A hash argument that must be 32 bytes (a hasher's input): InvalidArgumentError otherwise."""
    raw = _buffer_bytes(value, name)
    if len(raw) != HASH_LEN:
        raise InvalidArgumentError(f"{name} must be a {HASH_LEN}-byte hash, got {len(raw)} bytes")
    return raw


def verifier_hash(value: Any, name: str) -> Optional[bytes]:
    """A verifier's hash argument: its 32 bytes, None (verifies False) for another length;
    InvalidTypeError when it is not bytes-like."""
    raw = value if type(value) is bytes else _buffer_bytes(value, name)
    return raw if len(raw) == HASH_LEN else None


def verifier_count(value: Any, name: str) -> Optional[int]:
    """A verifier's index or size: an int in [0, 2^64), None (verifies False) out of that
    range; InvalidTypeError for a bool or a non-integer."""
    if type(value) is int:
        return value if 0 <= value < _UINT64_LIMIT else None
    if isinstance(value, bool):
        raise InvalidTypeError(f"{name} must be an int, got bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise InvalidTypeError(f"{name} must be an int, got {type(value).__name__}") from None
    return number if 0 <= number < _UINT64_LIMIT else None


def verifier_proof(value: Any, name: str = "proof") -> Optional[List[bytes]]:
    """A verifier's proof: its hashes as a list of 32-byte bytes, or None (verifies False)
    when an element has another length or there are more than MAX_PROOF_LEN;
    InvalidTypeError when it is not a sequence of bytes-likes or a 2-D buffer."""
    if type(value) in _SEQUENCE_TYPES and len(value) <= MAX_PROOF_LEN:
        # The common case, checked without a per-element Python call: 32-byte bytes only.
        if set(map(type, value)) <= _BYTES_TYPE and set(map(len, value)) <= _HASH_LEN_SET:
            return list(value)
    if isinstance(value, (InclusionProof, ConsistencyProof)):
        raise InvalidTypeError(f"{name} must be the proof's hashes: pass {name}.hashes, or call {name}.verify(...)")
    if isinstance(value, (str, bytes)) or value is None:
        raise InvalidTypeError(f"{name} must be a sequence of 32-byte hashes, got {type(value).__name__}")
    view = _data_view(value)
    if view is not None:
        with view:
            if view.ndim == 2:
                rows, row_len = view.shape[0], view.shape[1] * view.itemsize  # type: ignore[index]
            elif view.ndim == 1 and view.itemsize > 1:  # one hash per item: an S32 array
                rows, row_len = view.shape[0], view.itemsize  # type: ignore[index]
            else:
                raise InvalidTypeError(f"{name} as a buffer must hold one hash per row (an (n, 32) uint8 array) "
                                       f"or per item (an S32 array), got {view.ndim} dimensions of "
                                       f"{view.itemsize}-byte items")
            if row_len != HASH_LEN or rows > MAX_PROOF_LEN:
                return None
            raw = view.tobytes()
        return [raw[i:i + HASH_LEN] for i in range(0, len(raw), HASH_LEN)]
    try:
        iterator = iter(value)
    except TypeError:
        raise InvalidTypeError(f"{name} must be a sequence of 32-byte hashes, got {type(value).__name__}") from None
    hashes: List[bytes] = []
    well_formed = True
    for i, item in enumerate(itertools.islice(iterator, MAX_PROOF_LEN + 1)):
        raw = item if type(item) is bytes else _buffer_bytes(item, f"{name}[{i}]")
        well_formed = well_formed and len(raw) == HASH_LEN
        hashes.append(raw)
    return hashes if well_formed and len(hashes) <= MAX_PROOF_LEN else None


_SEQUENCE_TYPES: Tuple[type, ...] = (list, tuple)  # ProofHashes joins below, once defined
_BYTES_TYPE = frozenset([bytes])
_HASH_LEN_SET = frozenset([HASH_LEN])


def _inclusion_inputs(hasher: Any, index: Any, size: Any, leaf_hash: Any, proof: Any,
                      root: Any) -> Optional[Tuple[str, int, int, bytes, List[bytes], bytes]]:
    """verify_inclusion's arguments normalised (the same for both modules): every type is
    checked before any content decides; None when some content is malformed (False)."""
    name = hasher_name(hasher)
    index_i, size_i = verifier_count(index, "index"), verifier_count(size, "size")
    leaf, root_b = verifier_hash(leaf_hash, "leaf_hash"), verifier_hash(root, "root")
    path = verifier_proof(proof)
    if index_i is None or size_i is None or leaf is None or root_b is None or path is None:
        return None
    return name, index_i, size_i, leaf, path, root_b


def _consistency_inputs(hasher: Any, size1: Any, size2: Any, proof: Any, root1: Any,
                        root2: Any) -> Optional[Tuple[str, int, int, List[bytes], bytes, bytes]]:
    """verify_consistency's arguments normalised, as _inclusion_inputs."""
    name = hasher_name(hasher)
    size1_i, size2_i = verifier_count(size1, "size1"), verifier_count(size2, "size2")
    root1_b, root2_b = verifier_hash(root1, "root1"), verifier_hash(root2, "root2")
    path = verifier_proof(proof)
    if size1_i is None or size2_i is None or root1_b is None or root2_b is None or path is None:
        return None
    return name, size1_i, size2_i, path, root1_b, root2_b


# --- the proof walk (transparency-dev's chain helpers) ---------------------------------

Node = Callable[[bytes, bytes], bytes]


def _decompose(index: int, size: int) -> Tuple[int, int]:
    """(inner, border) hash counts of the inclusion proof of `index` in `size` leaves: inner
    levels lie below the point where the paths to `index` and to the last leaf part; the
    border hashes are the left siblings on the right border above it."""
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def _chain_inner(node: Node, seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Walk up from `seed` at `index`: a sibling on the right where bit i of index is 0."""
    for i, sibling in enumerate(proof):
        seed = node(seed, sibling) if (index >> i) & 1 == 0 else node(sibling, seed)
    return seed


def _chain_inner_right(node: Node, seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Like _chain_inner, keeping only left siblings: the walk that stays inside the old tree."""
    for i, sibling in enumerate(proof):
        if (index >> i) & 1:
            seed = node(sibling, seed)
    return seed


def _chain_border_right(node: Node, seed: bytes, proof: Sequence[bytes]) -> bytes:
    """Walk up the right border: every sibling is on the left."""
    for sibling in proof:
        seed = node(sibling, seed)
    return seed


def _inclusion_root(node: Node, index: int, size: int, leaf: bytes, proof: List[bytes]) -> Optional[bytes]:
    if index >= size:
        return None
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        return None
    return _chain_border_right(node, _chain_inner(node, leaf, proof[:inner], index), proof[inner:])


def _consistency_check(node: Node, size1: int, size2: int, root1: bytes, root2: bytes, proof: List[bytes]) -> bool:
    if size1 == 0 or size1 > size2:
        return False  # a proof from the empty tree proves nothing
    if size1 == size2:
        return not proof and hmac.compare_digest(root1, root2)
    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # levels of the old tree's last complete subtree
    inner -= shift
    if size1 == 1 << shift:
        seed, start = root1, 0  # the old tree is one complete subtree: its root is the seed
    else:
        if not proof:
            return False
        seed, start = proof[0], 1
    if len(proof) != start + inner + border:
        return False
    path, mask = proof[start:], (size1 - 1) >> shift
    old = _chain_border_right(node, _chain_inner_right(node, seed, path[:inner], mask), path[inner:])
    new = _chain_border_right(node, _chain_inner(node, seed, path[:inner], mask), path[inner:])
    return hmac.compare_digest(old, root1) and hmac.compare_digest(new, root2)


def verify_inclusion(hasher: Any, index: Any, size: Any, leaf_hash: Any, proof: Any, root: Any) -> bool:
    """RFC 9162 2.1.3.2: True when `proof` shows the leaf `index` with hash `leaf_hash` is in
    the tree of `size` leaves whose root is `root`. Bad content is False; a wrong type or
    an unknown hasher raises (see the module's docstring for the accepted forms)."""
    inputs = _inclusion_inputs(hasher, index, size, leaf_hash, proof, root)
    if inputs is None:
        return False
    name, index_i, size_i, leaf, path, root_b = inputs
    computed = _inclusion_root(_FUNCTIONS[name][1], index_i, size_i, leaf, path)
    return computed is not None and hmac.compare_digest(computed, root_b)


def verify_consistency(hasher: Any, size1: Any, size2: Any, proof: Any, root1: Any, root2: Any) -> bool:
    """RFC 9162 2.1.4.2: True when `proof` shows the tree of `size2` leaves with root `root2`
    extends the tree of `size1` leaves with root `root1`. A proof from size 0 is False;
    equal sizes need an empty proof and equal 32-byte roots. Bad content is False; a
    wrong type or an unknown hasher raises."""
    inputs = _consistency_inputs(hasher, size1, size2, proof, root1, root2)
    if inputs is None:
        return False
    name, size1_i, size2_i, path, root1_b, root2_b = inputs
    return _consistency_check(_FUNCTIONS[name][1], size1_i, size2_i, root1_b, root2_b, path)


def root(hasher: Any, leaf_hashes: Iterable[Any]) -> bytes:
    """The RFC 9162 root of the given leaf hashes (the recursive definition of 2.1.1)."""
    name = hasher_name(hasher)
    hashes = [_exact_hash(h, f"leaf_hashes[{i}]") for i, h in enumerate(leaf_hashes)]
    node = _FUNCTIONS[name][1]

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return hashes[lo]
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        return node(mth(lo, lo + k), mth(lo + k, hi))

    return _FUNCTIONS[name][2]() if not hashes else mth(0, len(hashes))


# --- typed proofs and their JSON --------------------------------------------------------


class ProofHashes(list):  # type: ignore[type-arg]
    """The hashes of a proof: a list of 32-byte ``bytes`` that compares like any list but
    cannot be changed (copy it with ``list(...)`` to edit)."""

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise InvalidTypeError("proof hashes are read-only; copy them with list(proof.hashes)")

    append = extend = insert = pop = remove = clear = sort = reverse = _read_only
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> Any:
        return (ProofHashes, (list(self),))


_SEQUENCE_TYPES += (ProofHashes,)


def _argument_count(value: Any, name: str) -> int:
    """An index or size given to a proof's constructor: an int in [0, 2^64)."""
    if isinstance(value, bool):
        raise InvalidTypeError(f"{name} must be an int, got bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise InvalidTypeError(f"{name} must be an int, got {type(value).__name__}") from None
    if not 0 <= number < _UINT64_LIMIT:
        raise OutOfRangeError(f"{name} must be between 0 and 2**64 - 1, got {number}")
    return number


def _argument_hashes(value: Any) -> ProofHashes:
    """A proof's hashes given to its constructor, in any verifier form; malformed raises."""
    hashes = verifier_proof(value, "hashes")
    if hashes is None:
        detail = ""
        if isinstance(value, (list, tuple)):
            lengths = [len(_buffer_bytes(h, f"hashes[{i}]")) for i, h in enumerate(value)]
            bad = next((i for i, n in enumerate(lengths) if n != HASH_LEN), None)
            detail = f": hashes[{bad}] is {lengths[bad]} bytes" if bad is not None else f": got {len(value)}"
        raise InvalidArgumentError(f"hashes must be at most {MAX_PROOF_LEN} hashes of {HASH_LEN} bytes each{detail}")
    return ProofHashes(hashes)


def _optional_hash(value: Any, name: str) -> Optional[bytes]:
    return None if value is None else _exact_hash(value, name)


class _Proof:
    """What the two proof types share: the six values in private slots behind read-only
    properties (assigning a field raises AttributeError), equality, hashing, the hasher
    hook and the JSON codec."""

    __slots__ = ("_v_hasher", "_v_first", "_v_second", "_v_hashes", "_v_extra1", "_v_extra2")
    _FIELDS: Tuple[str, ...] = ()
    _EXTRAS: Tuple[str, ...] = ()
    _TYPE = ""

    def _set(self, hasher: Hasher, first: int, second: int, hashes: ProofHashes,
             extra1: Optional[bytes], extra2: Optional[bytes]) -> None:
        self._v_hasher, self._v_first, self._v_second = hasher, first, second
        self._v_hashes, self._v_extra1, self._v_extra2 = hashes, extra1, extra2

    @classmethod
    def _unchecked(cls, hasher: Hasher, first: int, second: int, hashes: List[bytes]) -> Any:
        """A proof from values already in form (a tree's own output): no validation, no
        extras. ledger_core.merkle's trees build every proof this way."""
        proof = object.__new__(cls)
        proof._set(hasher, first, second, ProofHashes(hashes), None, None)
        return proof

    @classmethod
    def _hasher(cls, hasher: Any) -> Hasher:
        """The hasher object these proofs carry (ledger_core.merkle returns its own)."""
        return BLAKE3 if hasher_name(hasher) == "blake3" else SHA256

    @property
    def hasher(self) -> Hasher:
        """The hasher the proof's hashes were made with."""
        return self._v_hasher

    @property
    def hashes(self) -> ProofHashes:
        """The proof: a read-only list of 32-byte bytes."""
        return self._v_hashes

    def _check_and_set(self, hasher: Any, first: Any, second: Any, hashes: Any, extra1: Any, extra2: Any) -> None:
        """Validate constructor arguments (errors name the class's own field names) and set them."""
        names = self._FIELDS + self._EXTRAS
        self._set(self._hasher(hasher), _argument_count(first, names[1]), _argument_count(second, names[2]),
                  _argument_hashes(hashes), _optional_hash(extra1, names[4]), _optional_hash(extra2, names[5]))

    def _values(self) -> Tuple[Any, ...]:
        return (self._v_hasher, self._v_first, self._v_second, self._v_hashes, self._v_extra1, self._v_extra2)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + self._values())

    def __repr__(self) -> str:
        values = self._values()
        shown = [f"{f}={v!r}" for f, v in zip(self._FIELDS, values)]
        shown += [f"{f}={v!r}" for f, v in zip(self._EXTRAS, values[4:]) if v is not None]
        return f"{type(self).__name__}({', '.join(shown)})"

    def __reduce__(self) -> Any:
        return (type(self), self._values())

    def _json_text(self, extra1: Any, extra2: Any, indent: Optional[int]) -> str:
        obj: Dict[str, Any] = {"type": self._TYPE, "hasher": self._v_hasher.name}
        for key, count in zip(self._FIELDS[1:3], (self._v_first, self._v_second)):
            if count >= _JSON_INT_LIMIT:
                raise OutOfRangeError(f"{key} {count} does not fit the proof JSON (below 2**63)")
            obj[key] = count
        obj["hashes"] = [h.hex() for h in self._v_hashes]
        for key, given, carried in zip(self._EXTRAS, (extra1, extra2), (self._v_extra1, self._v_extra2)):
            value = carried if given is None else _exact_hash(given, key)
            if value is not None:
                obj[key] = value.hex()
        return json.dumps(obj, indent=indent)

    @classmethod
    def _from_object(cls, obj: Dict[str, Any]) -> Any:
        first, second = cls._FIELDS[1:3]
        return cls(cls._hasher(obj["hasher"]), obj[first], obj[second], obj["hashes"],  # type: ignore[call-arg]
                   *(obj.get(key) for key in cls._EXTRAS))

    @classmethod
    def from_json(cls, text: Any) -> Any:
        """Parse the proof JSON of docs/FORMAT.md strictly (MalformedInputError naming the
        key on anything it does not allow); optional roots and leaf hash are kept."""
        return cls._from_object(_decode_json(text, cls._TYPE))


class InclusionProof(_Proof):
    """A proof that leaf `index` is in the tree of `size` leaves: ``InclusionProof(hasher,
    index, size, hashes)``. Immutable; ``hashes`` is a read-only list of 32-byte bytes.
    ``leaf_hash`` and ``root`` are optional (a self-contained proof carries them, as claims
    to compare with a signed checkpoint; they do not change what :meth:`verify` checks)."""

    __slots__ = ()
    _FIELDS = ("hasher", "index", "size", "hashes")
    _EXTRAS = ("leaf_hash", "root")
    _TYPE = "inclusion"

    @property
    def index(self) -> int:
        """The leaf proven."""
        return self._v_first

    @property
    def size(self) -> int:
        """The tree size the proof is for."""
        return self._v_second

    @property
    def leaf_hash(self) -> Optional[bytes]:
        """The leaf hash the proof carries (a claim), or None."""
        return self._v_extra1

    @property
    def root(self) -> Optional[bytes]:
        """The root at `size` the proof carries (a claim), or None."""
        return self._v_extra2

    def __init__(self, hasher: Any, index: int, size: int, hashes: Any,
                 leaf_hash: Any = None, root: Any = None) -> None:
        self._check_and_set(hasher, index, size, hashes, leaf_hash, root)

    def verify(self, leaf_hash: Any, root: Any) -> bool:
        """True when this proof shows `leaf_hash` at `index` in the tree whose root at `size`
        is `root` (as :func:`verify_inclusion`)."""
        return verify_inclusion(self._v_hasher, self._v_first, self._v_second, leaf_hash, self._v_hashes, root)

    def to_json(self, *, leaf_hash: Any = None, root: Any = None, indent: Optional[int] = None) -> str:
        """The proof JSON of docs/FORMAT.md. `leaf_hash` and `root` (default: the ones this
        proof carries, if any) make it self-contained. OutOfRangeError for a size >= 2^63."""
        return self._json_text(leaf_hash, root, indent)


class ConsistencyProof(_Proof):
    """A proof that the tree of `size2` leaves extends the tree of `size1` leaves:
    ``ConsistencyProof(hasher, size1, size2, hashes)``. Immutable; ``hashes`` is a read-only
    list of 32-byte bytes; ``root1`` and ``root2`` are optional claims (see
    :class:`InclusionProof`)."""

    __slots__ = ()
    _FIELDS = ("hasher", "size1", "size2", "hashes")
    _EXTRAS = ("root1", "root2")
    _TYPE = "consistency"

    @property
    def size1(self) -> int:
        """The older tree size."""
        return self._v_first

    @property
    def size2(self) -> int:
        """The newer tree size."""
        return self._v_second

    @property
    def root1(self) -> Optional[bytes]:
        """The root at `size1` the proof carries (a claim), or None."""
        return self._v_extra1

    @property
    def root2(self) -> Optional[bytes]:
        """The root at `size2` the proof carries (a claim), or None."""
        return self._v_extra2

    def __init__(self, hasher: Any, size1: int, size2: int, hashes: Any,
                 root1: Any = None, root2: Any = None) -> None:
        self._check_and_set(hasher, size1, size2, hashes, root1, root2)

    def verify(self, root1: Any, root2: Any) -> bool:
        """True when this proof shows the tree with root `root2` at `size2` extends the tree
        with root `root1` at `size1` (as :func:`verify_consistency`)."""
        return verify_consistency(self._v_hasher, self._v_first, self._v_second, self._v_hashes, root1, root2)

    def to_json(self, *, root1: Any = None, root2: Any = None, indent: Optional[int] = None) -> str:
        """The proof JSON of docs/FORMAT.md; `root1` and `root2` (default: the carried ones)
        make it self-contained. OutOfRangeError for a size >= 2^63."""
        return self._json_text(root1, root2, indent)


_KEYS = {
    "inclusion": (("type", "hasher", "index", "size", "hashes"), ("leaf_hash", "root")),
    "consistency": (("type", "hasher", "size1", "size2", "hashes"), ("root1", "root2")),
}
_HEX_DIGITS = frozenset("0123456789abcdef")


class _JsonReject(Exception):
    """Raised from inside json.loads hooks; turned into MalformedInputError."""


def _reject_constant(name: str) -> Any:
    raise _JsonReject(f"proof JSON must not contain {name}")


class _HugeInteger:
    """A JSON integer of more than 19 digits (2^63 has 19), kept unconverted: int() of a
    5000-digit number would hit Python's digit limit. The key's own check rejects it."""

    def __init__(self, digits: str) -> None:
        self.digit_count = len(digits.lstrip("-"))

    def __repr__(self) -> str:
        return f"an integer of {self.digit_count} digits"


def _parse_int(digits: str) -> Any:
    return _HugeInteger(digits) if len(digits.lstrip("-")) > 19 else int(digits)


def _parse_float(text: str) -> Any:
    raise _JsonReject(f"proof JSON numbers must be integers, got {text[:24]}")


def _no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    obj: Dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _JsonReject(f"proof JSON key {key!r} appears twice")
        obj[key] = value
    return obj


def _json_text(text: Any) -> str:
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedInputError("proof JSON must be UTF-8") from None
    if not isinstance(text, str):
        raise InvalidTypeError(f"text must be a str or UTF-8 bytes, got {type(text).__name__}")
    if len(text) > MAX_JSON_LEN:
        raise MalformedInputError(f"proof JSON text is over {MAX_JSON_LEN} characters")
    return text


def _json_hex(value: Any, key: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * HASH_LEN or not _HEX_DIGITS.issuperset(value):
        raise MalformedInputError(f"proof JSON {key} must be {2 * HASH_LEN} lowercase hex digits")
    return bytes.fromhex(value)


def _decode_json(text: Any, expected_type: Optional[str]) -> Dict[str, Any]:
    """The fields of a proof JSON text, checked as docs/FORMAT.md says: hasher name, ints,
    hashes as bytes. `expected_type` None accepts either type."""
    text = _json_text(text)
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_parse_int,
                         parse_float=_parse_float, parse_constant=_reject_constant)
    except _JsonReject as exc:
        raise MalformedInputError(str(exc)) from None
    except RecursionError:
        raise MalformedInputError("proof JSON is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError and Python's own limits
        raise MalformedInputError(f"proof JSON does not parse: {exc}") from None
    if not isinstance(obj, dict):
        raise MalformedInputError(f"proof JSON must be an object, got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in _KEYS or (expected_type is not None and kind != expected_type):
        wanted = expected_type or " or ".join(repr(k) for k in _KEYS)
        raise MalformedInputError(f"proof JSON type must be {wanted!s}, got {kind!r}")
    required, optional = _KEYS[kind]
    for key in obj:
        if key not in required and key not in optional:
            raise MalformedInputError(f"proof JSON key {key!r} is not allowed in a proof of type {kind!r}")
    for key in required:
        if key not in obj:
            raise MalformedInputError(f"proof JSON key {key!r} is missing")
    if not isinstance(obj["hasher"], str) or obj["hasher"] not in HASHER_NAMES:
        raise MalformedInputError(f"proof JSON hasher must be one of {HASHER_NAMES}, got {obj['hasher']!r}")
    for key in required[2:-1]:
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _JSON_INT_LIMIT:
            raise MalformedInputError(f"proof JSON {key} must be an integer in [0, 2**63), got {value!r}")
    hashes = obj["hashes"]
    if not isinstance(hashes, list) or len(hashes) > MAX_PROOF_LEN:
        raise MalformedInputError(f"proof JSON hashes must be an array of at most {MAX_PROOF_LEN} hashes")
    obj["hashes"] = [_json_hex(h, f"hashes[{i}]") for i, h in enumerate(hashes)]
    for key in optional:
        if key in obj:
            obj[key] = _json_hex(obj[key], key)
    return obj


def from_json(text: Any) -> _Proof:
    """An :class:`InclusionProof` or :class:`ConsistencyProof`, by the JSON's ``type``."""
    obj = _decode_json(text, None)
    cls = InclusionProof if obj["type"] == "inclusion" else ConsistencyProof
    return cls._from_object(obj)  # type: ignore[no-any-return]


__all__ = [
    "HASH_LEN",
    "MAX_PROOF_LEN",
    "MAX_JSON_LEN",
    "HASHER_NAMES",
    "K_LEAF",
    "K_NODE",
    "LEAF_KEY_CONTEXT",
    "NODE_KEY_CONTEXT",
    "Hasher",
    "BLAKE3",
    "SHA256",
    "InclusionProof",
    "ConsistencyProof",
    "ProofHashes",
    "InvalidArgumentError",
    "InvalidTypeError",
    "OutOfRangeError",
    "MalformedInputError",
    "MAX_BLAKE3_OUTPUT_LEN",
    "blake3_hash",
    "blake3_keyed_hash",
    "blake3_derive_key",
    "hasher_name",
    "verifier_hash",
    "verifier_count",
    "verifier_proof",
    "root",
    "from_json",
    "verify_inclusion",
    "verify_consistency",
]
