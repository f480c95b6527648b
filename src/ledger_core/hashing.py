"""Hash primitives of ledger_core: SHA-256, SHA-512 and BLAKE3.

All functions take any bytes-like object (bytes, bytearray, memoryview, a uint8
numpy array; strided ones are copied) and return ``bytes``; the batched functions
return an (N, digest length) uint8 numpy array.

BLAKE3 offers the three modes of its specification -- the plain hash, the keyed
hash (a 32-byte key: a MAC / PRF) and key derivation (a context string that
names the purpose, and key material) -- each with extended output: any
``length`` up to :data:`BLAKE3_MAX_OUT_LEN` per call, whose first 32 bytes are the
default digest. :class:`Blake3Hasher` is the incremental form.

The batched functions (:func:`blake3_many`, :func:`sha256_many`,
:func:`sha512_many`) take many byte strings at once -- a 2-D uint8 array (N, k), a
:class:`~ledger_core.Packed` (one buffer and N + 1 offsets, Arrow's layout), a pyarrow
Binary / LargeBinary / FixedSizeBinary array, or any other sequence (a list, a tuple)
of bytes-like items -- and hash them in SIMD lanes on ``threads`` threads (``None``:
all cores, else 1..:data:`~ledger_core.MAX_THREADS`). A tuple is always a sequence of
items. :func:`sha512_many` also takes :class:`Parts` items: one message given as up to
three parts, hashed as their concatenation.

A wrong type raises :class:`~ledger_core.InvalidTypeError`, a wrong value
:class:`~ledger_core.InvalidArgumentError` or :class:`~ledger_core.OutOfRangeError`;
each names the argument (and the item).
"""

from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

from ledger_core import _native
from ledger_core._buffers import (
    Packed,
    _is_arrow,
    as_bytes,
    as_fixed_bytes,
    as_items,
    as_sequence,
    resolve_threads,
)
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, OutOfRangeError

SHA256_LEN: int = _native.SHA256_LEN
SHA256_BLOCK_LEN: int = _native.SHA256_BLOCK_LEN
SHA512_LEN: int = _native.SHA512_LEN
SHA512_BLOCK_LEN: int = _native.SHA512_BLOCK_LEN
BLAKE3_OUT_LEN: int = _native.BLAKE3_OUT_LEN
BLAKE3_KEY_LEN: int = _native.BLAKE3_KEY_LEN
BLAKE3_BLOCK_LEN: int = _native.BLAKE3_BLOCK_LEN
BLAKE3_CHUNK_LEN: int = _native.BLAKE3_CHUNK_LEN
# The most output one call returns (2 GiB, one bytes object in memory): a bound that
# turns a typo (length=2**64) into an error naming `length` instead of a failed allocation.
BLAKE3_MAX_OUT_LEN: int = _native.BLAKE3_MAX_OUT_LEN

def sha256(data: Any) -> bytes:
    """SHA-256 of `data` (32 bytes). Uses SHA-NI where the CPU has it."""
    return _native.sha256(data if type(data) is bytes else as_bytes(data, "data"))


def sha512(data: Any) -> bytes:
    """SHA-512 of `data` (64 bytes)."""
    return _native.sha512(data if type(data) is bytes else as_bytes(data, "data"))


def sha256_many(items: Any, *, threads: Optional[int] = None) -> np.ndarray:
    """SHA-256 of each of many equal-length byte strings: an (N, 32) uint8 array.

    `items`: an (N, k) uint8 array, a Packed, a pyarrow binary array or a sequence of
    bytes-like items, all of the same length (the RFC 9162 Merkle suite hashes 65-byte
    nodes this way); items of different lengths raise InvalidArgumentError naming the
    first that differs. `threads`: None for all cores, else 1..MAX_THREADS.
    """
    nthreads = resolve_threads(threads)
    rows = _equal_length_rows(items, "items")
    return _native.sha256_many_fixed(rows, threads=nthreads)


class Parts:
    """One message of :func:`sha512_many` given as 1 to 3 bytes-like parts, hashed as
    their concatenation without joining them (Ed25519 hashes ``Parts(R, A, M)``).

    >>> sha512_many([Parts(b"ab", b"c")])[0].tobytes() == sha512(b"abc")
    True
    """

    __slots__ = ("parts",)

    def __init__(self, *parts: Any) -> None:
        if not 1 <= len(parts) <= 3:
            raise InvalidArgumentError(f"Parts takes 1 to 3 bytes-like parts, got {len(parts)}")
        self.parts = tuple(
            part if type(part) is bytes else as_bytes(part, f"parts[{k}]") for k, part in enumerate(parts)
        )

    def __repr__(self) -> str:
        return f"Parts({', '.join(str(len(p)) + ' bytes' for p in self.parts)})"


def sha512_many(items: Any, *, threads: Optional[int] = None) -> np.ndarray:
    """SHA-512 of each of many byte strings of any lengths: an (N, 64) uint8 array.

    `items`: an (N, k) uint8 array, a Packed, a pyarrow binary array or a sequence whose
    items are bytes-like or :class:`Parts` (a tuple or list item is an error: a
    multi-part message is said with Parts). On AVX2 CPUs four messages are hashed at
    once, one per SIMD lane. `threads`: None for all cores, else 1..MAX_THREADS.
    """
    nthreads = resolve_threads(threads)
    return _native.sha512_many_parts(_sha512_items(items), threads=nthreads)


def _sha512_items(items: Any) -> List[Any]:
    """The native form: each item a contiguous bytes-like or a tuple of parts."""
    if isinstance(items, (Packed, np.ndarray)) or _is_arrow(items):
        normalised = as_items(items, "items")
        if normalised[0] == "fixed":
            return list(normalised[1])
        _, buffer, offsets = normalised
        view = memoryview(buffer)
        bounds = offsets.tolist()
        return [view[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
    if type(items) is not list and type(items) is not tuple:
        items = as_sequence(items, "items")
    return [item if type(item) is bytes else _sha512_item(item, i) for i, item in enumerate(items)]


def _sha512_item(item: Any, index: int) -> Any:
    if isinstance(item, Parts):
        return item.parts
    if isinstance(item, (tuple, list)):
        raise InvalidTypeError(
            f"items[{index}] is a {type(item).__name__}: a message is bytes-like; "
            "say a multi-part message with hashing.Parts(a, b, c)"
        )
    return as_bytes(item, f"items[{index}]")


def _check_length(length: Any) -> int:
    if isinstance(length, (bool, np.bool_)) or not isinstance(length, (int, np.integer)):
        raise InvalidTypeError(f"length must be an int, got {type(length).__name__}")
    if not 0 <= length <= BLAKE3_MAX_OUT_LEN:
        raise OutOfRangeError(
            f"length must be in 0..{BLAKE3_MAX_OUT_LEN} (2**31) bytes per call, got {length}"
        )
    return int(length)


def _check_key(key: Any) -> Any:
    if key is None:
        return None
    return as_fixed_bytes(key, BLAKE3_KEY_LEN, "key")


def _check_context(context: Any) -> str:
    """`context`, a str that encodes as UTF-8 (what BLAKE3 hashes)."""
    if not isinstance(context, str):
        raise InvalidTypeError(
            f"context must be a str (a hard-coded, application-specific string), got {type(context).__name__}"
        )
    try:
        context.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidArgumentError(
            f"context must be encodable as UTF-8: {err.reason} at index {err.start}"
        ) from None
    return context


def blake3(data: Any, *, key: Any = None, length: int = BLAKE3_OUT_LEN) -> bytes:
    """BLAKE3 of `data`: `length` bytes (default 32, up to BLAKE3_MAX_OUT_LEN; longer
    than 32 is extended output whose first 32 bytes are the digest).

    With `key` (32 bytes) this is BLAKE3's keyed hash, a MAC / PRF.
    """
    if key is None and type(data) is bytes and type(length) is int and length == BLAKE3_OUT_LEN:
        return _native.blake3(data)  # the common case, without the argument checks' cost
    return _native.blake3(as_bytes(data, "data"), _check_key(key), _check_length(length))


def blake3_derive_key(context: str, material: Any, *, length: int = BLAKE3_OUT_LEN) -> bytes:
    """BLAKE3 key derivation: a `length`-byte key from `material` for the purpose `context`.

    `context` should be a hard-coded, globally unique string naming the application
    and purpose (e.g. ``"ledger_core 2026-11 invoice MAC key"``); it is hashed as UTF-8.
    """
    return _native.blake3_derive_key(
        _check_context(context), as_bytes(material, "material"), length=_check_length(length)
    )


class Blake3Hasher:
    """Incremental BLAKE3: ``Blake3Hasher().update(a).update(b).digest()``.

    ``Blake3Hasher(key=k)`` is the keyed hash, ``Blake3Hasher.derive_key(context)`` the
    key derivation mode (feed it the key material). :meth:`digest` does not change the
    state, so more input may follow; :meth:`copy` forks the state (into an object of the
    same class, subclasses included).
    """

    __slots__ = ("_hasher",)
    name = "blake3"
    digest_size = BLAKE3_OUT_LEN
    block_size = BLAKE3_BLOCK_LEN

    def __init__(self, data: Any = None, *, key: Any = None) -> None:
        key = _check_key(key)
        self._hasher = _native.Blake3Hasher() if key is None else _native.Blake3Hasher.keyed(key)
        if data is not None:
            self.update(data)

    @classmethod
    def derive_key(cls, context: str) -> "Blake3Hasher":
        """A hasher in key-derivation mode for `context`; update() it with the key material."""
        obj = cls.__new__(cls)
        obj._hasher = _native.Blake3Hasher.derive_key(_check_context(context))
        return obj

    def update(self, data: Any) -> "Blake3Hasher":
        """Absorb `data` (bytes-like); returns self so calls chain."""
        self._hasher.update(data if type(data) is bytes else as_bytes(data, "data"))
        return self

    def digest(self, length: int = BLAKE3_OUT_LEN) -> bytes:
        """The first `length` bytes of output (default 32) of everything absorbed so far."""
        return self._hasher.finalize(_check_length(length))

    def hexdigest(self, length: int = BLAKE3_OUT_LEN) -> str:
        """digest() as lowercase hex."""
        return self.digest(length).hex()

    def copy(self) -> "Blake3Hasher":
        """An independent hasher with the same state, of the same class as self."""
        cls = type(self)
        obj = cls.__new__(cls)
        obj._hasher = self._hasher.copy()
        if hasattr(self, "__dict__"):  # a subclass's own attributes
            obj.__dict__.update(self.__dict__)
        return obj


def blake3_many(items: Any, *, key: Any = None, threads: Optional[int] = None) -> np.ndarray:
    """BLAKE3 of each of many byte strings: an (N, 32) uint8 array, row i = digest of item i.

    `items`: an (N, k) uint8 array, a Packed, a pyarrow binary array or a sequence of
    bytes-like items. `key`: None for the plain hash, else 32 bytes for the keyed
    hash. `threads`: None for all cores, else 1..MAX_THREADS. Items of up to 1024 bytes
    are hashed 8 at a time in SIMD lanes (64-byte Merkle nodes cost one compression each).
    """
    key = _check_key(key)
    nthreads = resolve_threads(threads)
    normalised = as_items(items, "items")
    if normalised[0] == "fixed":
        return _native.blake3_many_fixed(normalised[1], key=key, threads=nthreads)
    _, buffer, offsets = normalised
    return _native.blake3_many_var(buffer, offsets, key=key, threads=nthreads)


def _equal_length_rows(items: Any, name: str) -> np.ndarray:
    normalised = as_items(items, name)
    if normalised[0] == "fixed":
        return normalised[1]
    _, buffer, offsets = normalised
    lengths = np.diff(offsets)
    if lengths.size and (lengths != lengths[0]).any():
        bad = int(np.flatnonzero(lengths != lengths[0])[0])
        raise InvalidArgumentError(
            f"{name} must all have the same length: {name}[0] has {int(lengths[0])} bytes, "
            f"{name}[{bad}] has {int(lengths[bad])} (use one call per length)"
        )
    width = int(lengths[0]) if lengths.size else 0
    start = int(offsets[0])
    flat = np.frombuffer(buffer, dtype=np.uint8)[start : start + width * lengths.size]
    return np.ascontiguousarray(flat.reshape(lengths.size, width))


__all__ = [
    "SHA256_LEN",
    "SHA256_BLOCK_LEN",
    "SHA512_LEN",
    "SHA512_BLOCK_LEN",
    "BLAKE3_OUT_LEN",
    "BLAKE3_KEY_LEN",
    "BLAKE3_BLOCK_LEN",
    "BLAKE3_CHUNK_LEN",
    "BLAKE3_MAX_OUT_LEN",
    "sha256",
    "sha512",
    "sha256_many",
    "sha512_many",
    "Parts",
    "blake3",
    "blake3_derive_key",
    "blake3_many",
    "Blake3Hasher",
]
