"""Ed25519 signatures: verification under the ledger's policy, signing through libsodium.

Verification (single and batch) accepts exactly what docs/POLICY.md describes: S < L,
strict (canonical) encodings of A and R, A not of small order, and the *cofactored*
equation ``[8][S]B == [8]R + [8][k]A``. Because both paths use the cofactored equation,
:func:`verify_batch` gives every item the same verdict :func:`verify` gives it (except
with probability below 2^-124 per item that single verification rejects; see
docs/POLICY.md).

Signing is libsodium's (through PyNaCl): ledger_core never does arithmetic on secret
keys.

Reasons returned by the ``*_detailed`` functions::

    OK = 0                   accepted
    BAD_LENGTH = 1           public key not 32 bytes or signature not 64 bytes (single only)
    NON_CANONICAL_S = 2      S >= L
    NON_CANONICAL_POINT = 3  A or R is not a strict RFC 8032 encoding of a curve point
    SMALL_ORDER_KEY = 4      [8]A is the identity
    EQUATION_FAILED = 5      the cofactored verification equation does not hold

Batch arguments: ``public_keys`` is an (N, 32) uint8 array or a sequence of N 32-byte
strings; ``signatures`` likewise (N, 64); ``messages`` is an (N, k) uint8 array, a
sequence of N byte strings, or a ``(buffer, offsets)`` pair where message i is
``buffer[offsets[i]:offsets[i + 1]]`` (N + 1 offsets).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import numpy.typing as npt

from ledger_core import _native
from ledger_core._buffers import as_bytes, as_fixed_bytes, as_items, as_rows, resolve_threads

PUBLIC_KEY_LEN: int = int(_native.ED25519_PUBLIC_KEY_LEN)
SIGNATURE_LEN: int = int(_native.ED25519_SIGNATURE_LEN)
SEED_LEN: int = 32  # RFC 8032 secret seed; signing is libsodium's (crypto_sign_SEEDBYTES)

OK: int = 0
BAD_LENGTH: int = 1
NON_CANONICAL_S: int = 2
NON_CANONICAL_POINT: int = 3
SMALL_ORDER_KEY: int = 4
EQUATION_FAILED: int = 5

REASON_NAMES: Dict[int, str] = {
    OK: "OK",
    BAD_LENGTH: "BAD_LENGTH",
    NON_CANONICAL_S: "NON_CANONICAL_S",
    NON_CANONICAL_POINT: "NON_CANONICAL_POINT",
    SMALL_ORDER_KEY: "SMALL_ORDER_KEY",
    EQUATION_FAILED: "EQUATION_FAILED",
}

# Which multi-scalar multiplication the batch uses: by size (the default), or forced
# (for the benchmark's crossover measurement).
_MSM_AUTO, _MSM_STRAUS, _MSM_PIPPENGER = 0, 1, 2


def verify_detailed(public_key: Any, message: Any, signature: Any) -> int:
    """The policy's reason code for one signature: :data:`OK` (0) when it is valid.

    Any bytes-like arguments; a public key other than 32 bytes or a signature other
    than 64 bytes gives :data:`BAD_LENGTH` rather than an exception.
    """
    pk = as_bytes(public_key, "public_key")
    msg = as_bytes(message, "message")
    sig = as_bytes(signature, "signature")
    if len(pk) != PUBLIC_KEY_LEN or len(sig) != SIGNATURE_LEN:
        return BAD_LENGTH
    return int(_native.ed25519_verify(pk, msg, sig))


def verify(public_key: Any, message: Any, signature: Any) -> bool:
    """True when `signature` (64 bytes, R || S) is valid for `message` under `public_key`.

    Applies the ledger's policy (module docstring, docs/POLICY.md); wrong lengths give
    False. Raises TypeError only for arguments that are not bytes-like.
    """
    return verify_detailed(public_key, message, signature) == OK


def _batch_reasons(
    public_keys: Any, messages: Any, signatures: Any, threads: Optional[int], msm: int
) -> npt.NDArray[np.uint8]:
    pks = as_rows(public_keys, PUBLIC_KEY_LEN, "public_keys")
    sigs = as_rows(signatures, SIGNATURE_LEN, "signatures")
    n_threads = resolve_threads(threads)
    count = pks.shape[0]
    if type(messages) is list and len(messages) == count and sigs.shape[0] == count:
        # A list of bytes is read in place by the native layer (no packing copy).
        reasons = _native.ed25519_verify_batch_list(pks, messages, sigs, n_threads, msm)
        if reasons is not None:
            return reasons
    items = as_items(messages, "messages")
    message_count = items[1].shape[0] if items[0] == "fixed" else items[2].shape[0] - 1
    if sigs.shape[0] != count:
        raise ValueError(
            f"signatures has {sigs.shape[0]} items but public_keys has {count}: "
            "pass one signature per public key"
        )
    if message_count != count:
        raise ValueError(
            f"messages has {message_count} items but public_keys has {count}: "
            "pass one message per public key"
        )
    if items[0] == "fixed":
        return _native.ed25519_verify_batch_fixed(pks, items[1], sigs, n_threads, msm)
    return _native.ed25519_verify_batch_var(pks, items[1], items[2], sigs, n_threads, msm)


def verify_batch_detailed(
    public_keys: Any, messages: Any, signatures: Any, *, threads: Optional[int] = None
) -> npt.NDArray[np.uint8]:
    """The reason code of every item, a uint8 array of shape (N,), 0 (:data:`OK`) = valid.

    Item i gets the code :func:`verify_detailed` gives it. Items that fail the per-item
    checks (S, encodings, small-order key) are settled alone; the rest are checked with
    one random linear combination per thread, and a failing combination is bisected so
    that each bad item is found. `threads`: None uses every core, n uses at most n.
    The GIL is released while verifying. Raises ValueError (naming the argument) on a
    wrong shape or when the three arguments do not have the same number of items.
    """
    return _batch_reasons(public_keys, messages, signatures, threads, _MSM_AUTO)


def verify_batch(
    public_keys: Any, messages: Any, signatures: Any, *, threads: Optional[int] = None
) -> npt.NDArray[np.bool_]:
    """Whether each signature is valid: a bool array of shape (N,).

    Same arguments and verdicts as :func:`verify_batch_detailed` (``reasons == OK``).
    """
    return _batch_reasons(public_keys, messages, signatures, threads, _MSM_AUTO) == OK


def key_cache_stats() -> Dict[str, int]:
    """Entries, capacity, hits and misses of the process-wide decoded-public-key cache."""
    return dict(_native.ed25519_key_cache_stats())


def clear_key_cache() -> None:
    """Empty the decoded-public-key cache (and zero its counters)."""
    _native.ed25519_key_cache_clear()


class SigningKey:
    """An Ed25519 signing key held by libsodium (PyNaCl); ledger_core never touches it.

    >>> key = SigningKey.from_seed(bytes(32))
    >>> verify(key.public_key, b"invoice", key.sign(b"invoice"))
    True
    """

    __slots__ = ("_key",)

    def __init__(self, _key: Any) -> None:
        self._key = _key

    @classmethod
    def generate(cls) -> "SigningKey":
        """A new key from libsodium's random generator."""
        import nacl.signing

        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: Any) -> "SigningKey":
        """The key RFC 8032 derives from a 32-byte seed (ValueError for another length)."""
        import nacl.signing

        return cls(nacl.signing.SigningKey(bytes(as_fixed_bytes(seed, SEED_LEN, "seed"))))

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key."""
        return bytes(self._key.verify_key)

    def sign(self, message: Any) -> bytes:
        """The 64-byte signature R || S of `message` (the message is not included)."""
        return bytes(self._key.sign(bytes(as_bytes(message, "message"))).signature)

    def __repr__(self) -> str:
        return f"SigningKey(public_key={self.public_key.hex()})"


__all__ = [
    "PUBLIC_KEY_LEN",
    "SIGNATURE_LEN",
    "SEED_LEN",
    "OK",
    "BAD_LENGTH",
    "NON_CANONICAL_S",
    "NON_CANONICAL_POINT",
    "SMALL_ORDER_KEY",
    "EQUATION_FAILED",
    "REASON_NAMES",
    "verify",
    "verify_detailed",
    "verify_batch",
    "verify_batch_detailed",
    "key_cache_stats",
    "clear_key_cache",
    "SigningKey",
]
