"""Hash primitives of ledger_core: SHA-256, SHA-512 and BLAKE3.

All functions take any bytes-like object (bytes, bytearray, memoryview, a
contiguous uint8 numpy array) and return ``bytes``; the batched functions
return an (N, digest length) uint8 numpy array.

BLAKE3 offers the three modes of its specification -- the plain hash, the keyed
hash (a 32-byte key: a MAC / PRF) and key derivation (a context string that
names the purpose, and key material) -- each with extended output: any
``length``, whose first 32 bytes are the default digest.

The batched functions (:func:`blake3_many`, :func:`sha256_many`) take many byte
strings at once -- a 2-D uint8 array (N, k), a list of bytes-like objects, or a
``(buffer, offsets)`` pair in the Arrow layout (item i is
``buffer[offsets[i]:offsets[i + 1]]``) -- and hash them in SIMD lanes on
``threads`` threads (``None``: all cores). :func:`sha512_many` takes a list of
messages of any lengths, each bytes-like or a tuple of up to three parts hashed as
their concatenation.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ledger_core import _native
from ledger_core._buffers import as_bytes, as_fixed_bytes, as_items, resolve_threads

SHA256_LEN: int = _native.SHA256_LEN
SHA256_BLOCK_LEN: int = _native.SHA256_BLOCK_LEN
SHA512_LEN: int = _native.SHA512_LEN
SHA512_BLOCK_LEN: int = _native.SHA512_BLOCK_LEN
BLAKE3_OUT_LEN: int = _native.BLAKE3_OUT_LEN
BLAKE3_KEY_LEN: int = _native.BLAKE3_KEY_LEN
BLAKE3_BLOCK_LEN: int = _native.BLAKE3_BLOCK_LEN
BLAKE3_CHUNK_LEN: int = _native.BLAKE3_CHUNK_LEN


def sha256(data: Any) -> bytes:
    """SHA-256 of `data` (32 bytes). Uses SHA-NI where the CPU has it."""
    return _native.sha256(data if type(data) is bytes else as_bytes(data, "data"))


def sha512(data: Any) -> bytes:
    """SHA-512 of `data` (64 bytes)."""
    return _native.sha512(as_bytes(data, "data"))


def sha256_many(items: Any, *, threads: Optional[int] = None) -> np.ndarray:
    """SHA-256 of each of many equal-length byte strings: an (N, 32) uint8 array.

    `items` is an (N, k) uint8 array or a sequence of bytes-like objects that all have
    the same length (the RFC 9162 Merkle suite hashes 65-byte nodes this way).
    `threads`: None for all cores, else a positive int.
    """
    rows = _equal_length_rows(items, "items")
    return _native.sha256_many_fixed(rows, threads=resolve_threads(threads))


def sha512_many(items: Any, *, threads: Optional[int] = None) -> np.ndarray:
    """SHA-512 of each of many byte strings of any lengths: an (N, 64) uint8 array.

    Each item is a bytes-like object, or a tuple of up to three bytes-like parts hashed
    as their concatenation (Ed25519 hashes ``(R, A, M)`` this way, without joining them).
    On AVX2 CPUs four messages are hashed at once, one per SIMD lane.
    `threads`: None for all cores, else a positive int.
    """
    if not isinstance(items, (list, tuple)):
        items = list(items)
    resolved = resolve_threads(threads)
    try:
        return _native.sha512_many_parts(items, threads=resolved)
    except (TypeError, ValueError):
        # Anything but contiguous bytes-likes: normalise (copying what must be copied),
        # which also names the offending item.
        normalised = [_message_parts(item, i) for i, item in enumerate(items)]
        return _native.sha512_many_parts(normalised, threads=resolved)


def _message_parts(item: Any, index: int) -> Any:
    if isinstance(item, (tuple, list)):
        if len(item) > 3:
            raise ValueError(f"items[{index}] has {len(item)} parts; a message is at most 3 parts")
        return tuple(as_bytes(part, f"items[{index}][{k}]") for k, part in enumerate(item))
    return as_bytes(item, f"items[{index}]")


def _check_length(length: Any) -> int:
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)):
        raise TypeError(f"length must be an int, got {type(length).__name__}")
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    return int(length)


def _check_key(key: Any) -> Any:
    if key is None:
        return None
    if isinstance(key, str):
        raise TypeError("key must be 32 bytes (bytes-like), not str")
    return as_fixed_bytes(key, BLAKE3_KEY_LEN, "key")


def _check_context(context: Any) -> str:
    if not isinstance(context, str):
        raise TypeError(
            f"context must be a str (a hard-coded, application-specific string), got {type(context).__name__}"
        )
    return context


def blake3(data: Any, *, key: Any = None, length: int = BLAKE3_OUT_LEN) -> bytes:
    """BLAKE3 of `data`: `length` bytes (default 32; longer is extended output).

    With `key` (32 bytes) this is BLAKE3's keyed hash, a MAC / PRF.
    """
    if key is None and length == BLAKE3_OUT_LEN and type(data) is bytes:
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


class Blake3:
    """Incremental BLAKE3: ``Blake3().update(a).update(b).digest()``.

    ``Blake3(key=k)`` is the keyed hash, ``Blake3.derive_key(context)`` the key
    derivation mode (feed it the key material). :meth:`digest` does not change the
    state, so more input may follow; :meth:`copy` forks the state.
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
    def derive_key(cls, context: str) -> "Blake3":
        """A hasher in key-derivation mode for `context`; update() it with the key material."""
        obj = cls.__new__(cls)
        obj._hasher = _native.Blake3Hasher.derive_key(_check_context(context))
        return obj

    def update(self, data: Any) -> "Blake3":
        """Absorb `data` (bytes-like); returns self so calls chain."""
        self._hasher.update(as_bytes(data, "data"))
        return self

    def digest(self, length: int = BLAKE3_OUT_LEN) -> bytes:
        """The first `length` bytes of output (default 32) of everything absorbed so far."""
        return self._hasher.finalize(_check_length(length))

    def hexdigest(self, length: int = BLAKE3_OUT_LEN) -> str:
        """digest() as lowercase hex."""
        return self.digest(length).hex()

    def copy(self) -> "Blake3":
        """An independent hasher with the same state."""
        obj = Blake3.__new__(Blake3)
        obj._hasher = self._hasher.copy()
        return obj


def blake3_many(
    items: Any, *, key: Any = None, threads: Optional[int] = None, _portable: bool = False
) -> np.ndarray:
    """BLAKE3 of each of many byte strings: an (N, 32) uint8 array, row i = digest of item i.

    `items`: an (N, k) uint8 array, a sequence of bytes-like objects, or a
    ``(buffer, offsets)`` pair (offsets: N + 1 non-decreasing integers within the
    buffer). `key`: None for the plain hash, else 32 bytes for the keyed hash.
    `threads`: None for all cores, else a positive int. Items of up to 1024 bytes are
    hashed 8 at a time in SIMD lanes (64-byte Merkle nodes cost one compression each).
    """
    key = _check_key(key)
    nthreads = resolve_threads(threads)
    normalised = as_items(items, "items")
    if normalised[0] == "fixed":
        return _native.blake3_many_fixed(normalised[1], key=key, threads=nthreads, portable=_portable)
    _, buffer, offsets = normalised
    return _native.blake3_many_var(buffer, offsets, key=key, threads=nthreads, portable=_portable)


def _equal_length_rows(items: Any, name: str) -> np.ndarray:
    normalised = as_items(items, name)
    if normalised[0] == "fixed":
        return normalised[1]
    _, buffer, offsets = normalised
    lengths = np.diff(offsets.astype(np.int64))
    if lengths.size and (lengths != lengths[0]).any():
        bad = int(np.nonzero(lengths != lengths[0])[0][0])
        raise ValueError(
            f"{name} must all have the same length: item 0 has {int(lengths[0])} bytes, "
            f"item {bad} has {int(lengths[bad])} (use one call per length)"
        )
    if offsets.size and int(offsets[-1]) > len(buffer):
        raise ValueError(f"{name} offsets run past the end of the buffer ({int(offsets[-1])} > {len(buffer)})")
    width = int(lengths[0]) if lengths.size else 0
    start = int(offsets[0]) if offsets.size else 0
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
    "sha256",
    "sha512",
    "sha256_many",
    "sha512_many",
    "blake3",
    "blake3_derive_key",
    "blake3_many",
    "Blake3",
]
