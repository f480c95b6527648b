"""Signed invoices: the record, its envelope, and the columnar batch.

The formats are normative (docs/FORMAT.md, "Signed invoices"):

    payload_hash = BLAKE3-keyed(K_PAYLOAD, payload)
    M            = "ledger_core/invoice/v1" || 0x00 || u16be(len(invoice_id)) || invoice_id
                   || i64be(issued_at) || payload_hash
    leaf data    = M || seller_key || signature

The seller signs M. :func:`sign` does it with a PyNaCl key (libsodium signs; ledger_core
never handles a secret key itself).

An :class:`Invoice` is one record; an :class:`InvoiceBatch` holds many as columns (the
form :meth:`ledger_core.Ledger.append_batch` takes and ``get_many``/``scan`` return).
Neither validates field lengths: a batch is checked when it is appended, and a bad
item is reported there with its position and field (``RejectReason.MALFORMED``), so
that a whole batch can be screened at once. Field *types* are checked at once.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np

from ledger_core import _native
from ledger_core._buffers import Packed
from ledger_core.errors import InvalidTypeError

#: The Ed25519 public key and signature sizes of a record.
SELLER_KEY_LEN: int = 32
SIGNATURE_LEN: int = 64
#: invoice_id is 1..128 bytes of UTF-8.
INVOICE_ID_MAX_LEN: int = int(_native.INVOICE_ID_MAX_LEN)
#: A payload is at most 16 MiB.
PAYLOAD_MAX_LEN: int = int(_native.PAYLOAD_MAX_LEN)
PAYLOAD_HASH_LEN: int = 32
#: The domain string that opens every invoice envelope.
ENVELOPE_DOMAIN: bytes = b"ledger_core/invoice/v1"
#: BLAKE3 key of payload hashes: derive_key("ledger_core 2026-11-27 invoice payload v1", b"").
PAYLOAD_KEY: bytes = bytes(_native.invoice_payload_key())

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def payload_hash(payload: Any) -> bytes:
    """BLAKE3-keyed(K_PAYLOAD, payload): 32 bytes."""
    return bytes(_native.invoice_payload_hash(payload))


def _id_bytes(invoice_id: Any) -> bytes:
    if isinstance(invoice_id, str):
        return invoice_id.encode("utf-8", "surrogatepass")
    if isinstance(invoice_id, (bytes, bytearray, memoryview)):
        return bytes(invoice_id)
    raise InvalidTypeError(f"invoice_id must be a str, got {type(invoice_id).__name__}")


def envelope(invoice_id: Union[str, bytes], issued_at: int, payload_hash: bytes) -> bytes:
    """The message M a seller signs (docs/FORMAT.md). Takes the payload's hash, not the
    payload: hash a payload once (:func:`payload_hash`) and reuse it."""
    ident = _id_bytes(invoice_id)
    if isinstance(issued_at, bool) or not isinstance(issued_at, (int, np.integer)):
        raise InvalidTypeError(f"issued_at must be an int, got {type(issued_at).__name__}")
    return bytes(_native.invoice_envelope(ident, int(issued_at), payload_hash))


def sign(signing_key: Any, invoice_id: str, issued_at: int, payload: bytes) -> "Invoice":
    """An Invoice signed by `signing_key` (a ``ledger_core.ed25519.SigningKey`` or a
    ``nacl.signing.SigningKey``): libsodium signs the envelope M. Also
    ``ledger_core.sign_invoice``."""
    from nacl.signing import SigningKey

    from ledger_core.ed25519 import SigningKey as LedgerSigningKey

    key = signing_key._key if isinstance(signing_key, LedgerSigningKey) else signing_key
    if not isinstance(key, SigningKey):
        raise InvalidTypeError("signing_key must be a ledger_core.ed25519.SigningKey or a nacl.signing.SigningKey, "
                               f"got {type(signing_key).__name__}")
    message = envelope(invoice_id, issued_at, payload_hash(payload))
    signature = key.sign(message).signature
    return Invoice(invoice_id, int(issued_at), bytes(key.verify_key), bytes(signature), bytes(payload))


@dataclass(frozen=True)
class Invoice:
    """One signed invoice record (docs/FORMAT.md). Lengths are checked on append."""

    invoice_id: str
    issued_at: int
    seller_key: bytes
    signature: bytes
    payload: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.invoice_id, (str, bytes)):
            raise InvalidTypeError(f"Invoice.invoice_id must be a str, got {type(self.invoice_id).__name__}")
        if isinstance(self.issued_at, bool) or not isinstance(self.issued_at, (int, np.integer)):
            raise InvalidTypeError(f"Invoice.issued_at must be an int, got {type(self.issued_at).__name__}")
        object.__setattr__(self, "issued_at", int(self.issued_at))
        for name in ("seller_key", "signature", "payload"):
            value = getattr(self, name)
            if isinstance(value, (bytearray, memoryview)):
                object.__setattr__(self, name, bytes(value))
            elif not isinstance(value, bytes):
                raise InvalidTypeError(f"Invoice.{name} must be bytes, got {type(value).__name__}")

    @classmethod
    def _stored(cls, invoice_id: str, issued_at: int, seller_key: bytes, signature: bytes, payload: bytes) -> "Invoice":
        """An Invoice from fields already in form (a ledger's own record): no checks."""
        obj = object.__new__(cls)
        for name, value in (("invoice_id", invoice_id), ("issued_at", issued_at), ("seller_key", seller_key),
                            ("signature", signature), ("payload", payload)):
            object.__setattr__(obj, name, value)
        return obj

    def payload_hash(self) -> bytes:
        return payload_hash(self.payload)

    def envelope(self) -> bytes:
        """M, the signed message."""
        return envelope(self.invoice_id, self.issued_at, self.payload_hash())

    def leaf_data(self) -> bytes:
        """M || seller_key || signature: the Merkle leaf's data."""
        return self.envelope() + self.seller_key + self.signature


def _column_bytes(value: Any, name: str, width: int) -> Any:
    """An (N, width) uint8 array, or a list of bytes (lengths checked on append)."""
    if isinstance(value, np.ndarray):
        if value.dtype != np.uint8 or value.ndim != 2:
            raise InvalidTypeError(f"InvoiceBatch.{name} must be a uint8 array (N, {width}) or a list of bytes")
        return np.ascontiguousarray(value)
    if isinstance(value, (list, tuple)):
        out = []
        for i, item in enumerate(value):
            if isinstance(item, bytes):
                out.append(item)
            elif isinstance(item, (bytearray, memoryview)):
                out.append(bytes(item))
            elif isinstance(item, np.ndarray) and item.dtype == np.uint8:
                out.append(item.tobytes())
            else:
                raise InvalidTypeError(f"InvoiceBatch.{name}[{i}] must be bytes, got {type(item).__name__}")
        return out
    raise InvalidTypeError(f"InvoiceBatch.{name} must be a uint8 array (N, {width}) or a list of bytes, "
                           f"got {type(value).__name__}")


def _column_var(value: Any, name: str, allow_str: bool) -> Any:
    if isinstance(value, Packed):
        return value
    if type(value).__module__.startswith("pyarrow"):
        return Packed.from_arrow(value)
    if isinstance(value, (list, tuple)):
        out: List[Any] = list(value)
        for i, item in enumerate(out):
            if isinstance(item, bytes) or (allow_str and isinstance(item, str)):
                continue
            if isinstance(item, (bytearray, memoryview)):
                out[i] = bytes(item)
            else:
                want = "a str" if allow_str else "bytes"
                raise InvalidTypeError(f"InvoiceBatch.{name}[{i}] must be {want}, got {type(item).__name__}")
        return out
    raise InvalidTypeError(f"InvoiceBatch.{name} must be a list or a ledger_core.Packed, got {type(value).__name__}")


class InvoiceBatch:
    """Many invoices as columns.

    - ``invoice_ids``: a list of str (or UTF-8 bytes), or a ``Packed``/Arrow string array;
    - ``issued_at``: int64 array (N,) (a list of ints is converted);
    - ``seller_keys``: uint8 array (N, 32), or a list of bytes;
    - ``signatures``: uint8 array (N, 64), or a list of bytes;
    - ``payloads``: a list of bytes, or a ``ledger_core.Packed`` (or Arrow binary array).

    Columns must have the same length. Items are read in place by the native core.
    """

    __slots__ = ("invoice_ids", "issued_at", "seller_keys", "signatures", "payloads")

    def __init__(self, invoice_ids: Any, issued_at: Any, seller_keys: Any, signatures: Any, payloads: Any) -> None:
        self.invoice_ids = _column_var(invoice_ids, "invoice_ids", allow_str=True)
        if isinstance(issued_at, np.ndarray) and issued_at.dtype == np.int64 and issued_at.ndim == 1:
            self.issued_at = np.ascontiguousarray(issued_at)
        else:
            items = list(issued_at) if isinstance(issued_at, (list, tuple, np.ndarray)) else None
            if items is None:
                raise InvalidTypeError(f"InvoiceBatch.issued_at must be an int64 array or a list of int, "
                                       f"got {type(issued_at).__name__}")
            for i, v in enumerate(items):
                if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                    raise InvalidTypeError(f"InvoiceBatch.issued_at[{i}] must be an int, got {type(v).__name__}")
                if not _INT64_MIN <= int(v) <= _INT64_MAX:
                    from ledger_core.errors import OutOfRangeError

                    raise OutOfRangeError(f"InvoiceBatch.issued_at[{i}] = {int(v)} does not fit an int64 "
                                          "(milliseconds since the epoch)")
            self.issued_at = np.array([int(v) for v in items], dtype=np.int64)
        self.seller_keys = _column_bytes(seller_keys, "seller_keys", SELLER_KEY_LEN)
        self.signatures = _column_bytes(signatures, "signatures", SIGNATURE_LEN)
        self.payloads = _column_var(payloads, "payloads", allow_str=False)
        n = len(self.issued_at)
        for name in ("invoice_ids", "seller_keys", "signatures", "payloads"):
            if len(getattr(self, name)) != n:
                from ledger_core.errors import InvalidArgumentError

                raise InvalidArgumentError(
                    f"InvoiceBatch columns differ in length: issued_at has {n}, {name} has {len(getattr(self, name))}")

    @classmethod
    def _trusted(cls, invoice_ids: List[str], issued_at: np.ndarray, seller_keys: np.ndarray, signatures: np.ndarray,
                 payloads: List[bytes]) -> "InvoiceBatch":
        """A batch of columns the native layer made (a list of str, int64 (N,), uint8 (N, 32)
        and (N, 64), a list of bytes): taken as they are, without checking each item."""
        batch = cls.__new__(cls)
        batch.invoice_ids, batch.issued_at, batch.seller_keys = invoice_ids, issued_at, seller_keys
        batch.signatures, batch.payloads = signatures, payloads
        return batch

    @classmethod
    def from_invoices(cls, invoices: Iterable[Invoice]) -> "InvoiceBatch":
        items = list(invoices)
        for i, inv in enumerate(items):
            if not isinstance(inv, Invoice):
                raise InvalidTypeError(f"invoices[{i}] must be an Invoice, got {type(inv).__name__}")
        return cls([inv.invoice_id for inv in items], [inv.issued_at for inv in items],
                   [inv.seller_key for inv in items], [inv.signature for inv in items],
                   [inv.payload for inv in items])

    def __len__(self) -> int:
        return len(self.issued_at)

    def _item(self, column: Any, i: int) -> Any:
        if isinstance(column, Packed):
            return bytes(column[i])
        if isinstance(column, np.ndarray):
            return column[i].tobytes()
        return column[i]

    def __getitem__(self, i: int) -> Invoice:
        n = len(self)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise InvalidTypeError(f"InvoiceBatch index must be an int, got {type(i).__name__}")
        if not -n <= i < n:
            from ledger_core.errors import OutOfRangeError

            raise OutOfRangeError(f"InvoiceBatch index {i} out of range for {n} invoices")
        i = int(i) % n if n else 0
        ident = self._item(self.invoice_ids, i)
        if isinstance(ident, bytes):
            ident = ident.decode("utf-8", "surrogateescape")
        return Invoice(ident, int(self.issued_at[i]), self._item(self.seller_keys, i), self._item(self.signatures, i),
                       self._item(self.payloads, i))

    def __iter__(self) -> Iterator[Invoice]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return f"InvoiceBatch({len(self)} invoices)"


__all__ = [
    "BatchCheck",
    "Invoice",
    "InvoiceBatch",
    "check_batch",
    "envelope",
    "payload_hash",
    "sign",
    "SELLER_KEY_LEN",
    "SIGNATURE_LEN",
    "INVOICE_ID_MAX_LEN",
    "PAYLOAD_MAX_LEN",
    "PAYLOAD_HASH_LEN",
    "ENVELOPE_DOMAIN",
    "PAYLOAD_KEY",
]


@dataclass(frozen=True)
class BatchCheck:
    """What each item of a batch gets from :func:`check_batch`: the ledger's own verdict
    on it alone (`reasons`: 0 ok, else a ``RejectReason`` value; duplicates are not
    looked for, they need a ledger), `details` (for MALFORMED the field's index in
    ``ledger_core.ledger.RECORD_FIELDS``), its payload hash and its Merkle leaf hash
    under the hasher ((N, 32) uint8 each; zeros for a MALFORMED item)."""

    reasons: np.ndarray
    details: np.ndarray
    payload_hashes: np.ndarray
    leaf_hashes: np.ndarray

    @property
    def valid(self) -> int:
        """How many items passed."""
        return int(np.count_nonzero(self.reasons == 0))


def check_batch(batch: InvoiceBatch, *, hasher: Any = "blake3", verify: bool = True,
                threads: Optional[int] = None) -> BatchCheck:
    """Check a batch as ``Ledger.append_batch`` checks each item, without a ledger: field
    rules, payload hashes, envelopes, Ed25519 batch verification (skipped with
    ``verify=False``), leaf hashes; in native code with the GIL released. The verdicts
    are bit for bit the ledger's, so records checked here (on a cluster, say) can be
    appended with ``verify=False`` and these payload hashes."""
    from ledger_core import merkle

    if not isinstance(batch, InvoiceBatch):
        raise InvalidTypeError(f"batch must be an InvoiceBatch, got {type(batch).__name__}")
    if not isinstance(verify, bool):
        raise InvalidTypeError(f"verify must be a bool, got {type(verify).__name__}")
    suite = merkle._resolve(hasher)._native_id
    reasons, details, hashes, leaves = _native.invoice_check(
        batch.invoice_ids, batch.issued_at, batch.seller_keys, batch.signatures, batch.payloads, None, verify,
        threads, suite)
    return BatchCheck(reasons, details, hashes, leaves)

