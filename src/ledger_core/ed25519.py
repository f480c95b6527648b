"""Ed25519 signatures: verification under the ledger's policy, signing through libsodium.

Verification (single and batch) accepts exactly what docs/POLICY.md describes: S < L,
strict (canonical) encodings of A and R, A not of small order, and the *cofactored*
equation ``[8][S]B == [8]R + [8][k]A``. Because both paths use the cofactored equation,
:func:`verify_batch` gives every item the same verdict :func:`verify` gives it (except
with probability below 2^-124 per item that single verification rejects; see
docs/POLICY.md).

Signing is libsodium's (through PyNaCl): ledger_core never does arithmetic on secret
keys.

The ``*_detailed`` functions say why, as a :class:`Reason` (an ``IntEnum`` whose
members and values are the native core's ``VerifyReason``)::

    OK                   accepted
    BAD_LENGTH           public key not 32 bytes or signature not 64 bytes
    NON_CANONICAL_S      S >= L (GROUP_ORDER)
    NON_CANONICAL_POINT  A or R is not a strict RFC 8032 encoding of a curve point
    SMALL_ORDER_KEY      [8]A is the identity
    EQUATION_FAILED      the cofactored verification equation does not hold

Verdicts: the verify functions return a verdict and never raise for bad *content*
(a wrong signature, a key or signature of the wrong length: False / BAD_LENGTH); they
raise for a programming error: :class:`~ledger_core.InvalidTypeError` for an argument
that is not bytes-like (None, str, int), :class:`~ledger_core.InvalidArgumentError`
for batch arguments of a wrong shape or different item counts.

Batch arguments: ``public_keys`` is an (N, 32) uint8 array, a numpy ``S32`` array (its
raw bytes are read), a :class:`~ledger_core.Packed`, a pyarrow binary array, or a
sequence of N bytes-like keys; ``signatures`` likewise (N, 64) / ``S64``;
``messages`` is an (N, k) uint8 array, a Packed, a pyarrow binary array or a sequence
of N bytes-like messages. A tuple is always a sequence of items. In a sequence, a key
or signature of the wrong length gives its item BAD_LENGTH.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Dict, Optional

import numpy as np
import numpy.typing as npt

from ledger_core import _native
from ledger_core._buffers import (
    as_bytes,
    as_fixed_bytes,
    as_items,
    item_count,
    resolve_threads,
    rows_and_bad_items,
)
from ledger_core.errors import InvalidArgumentError

PUBLIC_KEY_LEN: int = int(_native.ED25519_PUBLIC_KEY_LEN)
SIGNATURE_LEN: int = int(_native.ED25519_SIGNATURE_LEN)
SEED_LEN: int = 32  # RFC 8032 secret seed; signing is libsodium's (crypto_sign_SEEDBYTES)

#: The order L of the prime-order subgroup (2^252 + 27742317777372353535851937790883648493);
#: a signature's S must be below it.
GROUP_ORDER: int = int.from_bytes(bytes(_native.ED25519_GROUP_ORDER), "little")

# One source for the reason codes: the native VerifyReason, bound as a name -> value dict.
Reason = IntEnum(  # type: ignore[misc]
    "Reason",
    sorted(dict(_native.ED25519_VERIFY_REASONS).items(), key=lambda pair: pair[1]),
    module=__name__,
    qualname="Reason",
)
Reason.__doc__ = """Why a signature is accepted (OK) or rejected; values of the native VerifyReason.

Batch functions return uint8 arrays of these values: ``reasons == Reason.OK`` works,
and ``Reason(int(reasons[i]))`` names one."""

# Which multi-scalar multiplication the batch uses: by size (the default), or forced
# (for the benchmark's crossover measurement).
_MSM_AUTO, _MSM_STRAUS, _MSM_PIPPENGER = 0, 1, 2


def verify_detailed(public_key: Any, message: Any, signature: Any) -> Reason:
    """The policy's :class:`Reason` for one signature: ``Reason.OK`` when it is valid.

    Any bytes-like arguments; a public key other than 32 bytes or a signature other
    than 64 bytes gives ``Reason.BAD_LENGTH``. Raises InvalidTypeError (naming the
    argument) only for an argument that is not bytes-like (None, str, int, ...).
    """
    return Reason(_verify_code(public_key, message, signature))


def _verify_code(public_key: Any, message: Any, signature: Any) -> int:
    pk = public_key if type(public_key) is bytes else as_bytes(public_key, "public_key")
    msg = message if type(message) is bytes else as_bytes(message, "message")
    sig = signature if type(signature) is bytes else as_bytes(signature, "signature")
    if len(pk) != PUBLIC_KEY_LEN or len(sig) != SIGNATURE_LEN:
        return _BAD_LENGTH
    return int(_native.ed25519_verify(pk, msg, sig))


def verify(public_key: Any, message: Any, signature: Any) -> bool:
    """True when `signature` (64 bytes, R || S) is valid for `message` under `public_key`.

    Applies the ledger's policy (module docstring, docs/POLICY.md); wrong lengths give
    False. Raises InvalidTypeError only for arguments that are not bytes-like.
    """
    return _verify_code(public_key, message, signature) == _OK


_OK: int = _native.ED25519_VERIFY_REASONS["OK"]
_BAD_LENGTH: int = _native.ED25519_VERIFY_REASONS["BAD_LENGTH"]


def _batch_reasons(
    public_keys: Any, messages: Any, signatures: Any, threads: Optional[int], msm: int
) -> npt.NDArray[np.uint8]:
    n_threads = resolve_threads(threads)
    pks, bad_pks = rows_and_bad_items(public_keys, PUBLIC_KEY_LEN, "public_keys")
    sigs, bad_sigs = rows_and_bad_items(signatures, SIGNATURE_LEN, "signatures")
    count = pks.shape[0]
    if sigs.shape[0] != count:
        raise InvalidArgumentError(
            f"signatures has {sigs.shape[0]} items but public_keys has {count}: "
            "pass one signature per public key"
        )
    reasons = None
    if type(messages) is list and len(messages) == count:
        # A list of bytes is read in place by the native layer (no packing copy).
        reasons = _native.ed25519_verify_batch_list(pks, messages, sigs, n_threads, msm)
    if reasons is None:
        items = as_items(messages, "messages")
        if item_count(items) != count:
            raise InvalidArgumentError(
                f"messages has {item_count(items)} items but public_keys has {count}: "
                "pass one message per public key"
            )
        if items[0] == "fixed":
            reasons = _native.ed25519_verify_batch_fixed(pks, items[1], sigs, n_threads, msm)
        else:
            reasons = _native.ed25519_verify_batch_var(pks, items[1], items[2], sigs, n_threads, msm)
    for bad in (bad_pks, bad_sigs):
        if bad is not None:
            reasons[bad] = _BAD_LENGTH
    return reasons


def verify_batch_detailed(
    public_keys: Any, messages: Any, signatures: Any, *, threads: Optional[int] = None
) -> npt.NDArray[np.uint8]:
    """The :class:`Reason` value of every item, a uint8 array of shape (N,); OK = valid.

    Item i gets the reason :func:`verify_detailed` gives it (a key or signature of the
    wrong length inside a sequence: BAD_LENGTH). Items that fail the per-item checks
    (S, encodings, small-order key) are settled alone; the rest are checked with one
    random linear combination per thread, and a failing combination is bisected so
    that each bad item is found. `threads`: None uses every core, n (1..MAX_THREADS)
    at most n. The GIL is released while verifying. Raises InvalidArgumentError
    (naming the argument) on an array of the wrong shape or when the three arguments
    do not have the same number of items, InvalidTypeError on a wrong type.
    """
    return _batch_reasons(public_keys, messages, signatures, threads, _MSM_AUTO)


def verify_batch(
    public_keys: Any, messages: Any, signatures: Any, *, threads: Optional[int] = None
) -> npt.NDArray[np.bool_]:
    """Whether each signature is valid: a bool array of shape (N,).

    Same arguments and verdicts as :func:`verify_batch_detailed` (``reasons == Reason.OK``).
    """
    return _batch_reasons(public_keys, messages, signatures, threads, _MSM_AUTO) == _OK


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
        """The key RFC 8032 derives from a 32-byte seed (InvalidArgumentError for another length)."""
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
    "GROUP_ORDER",
    "Reason",
    "verify",
    "verify_detailed",
    "verify_batch",
    "verify_batch_detailed",
    "key_cache_stats",
    "clear_key_cache",
    "SigningKey",
]
