"""ledger_core: a tamper-evident, append-only ledger of signed e-invoices.

The compiled core is the private module ``ledger_core._native``; the public API is
the modules re-exported here, :class:`Packed` (many byte strings in one buffer, or an
Arrow binary array) and :data:`MAX_THREADS` (the largest ``threads=`` a call takes).
"""

from __future__ import annotations

import warnings
from typing import Any, Dict

from ledger_core.errors import (
    InternalError,
    InvalidArgumentError,
    InvalidTypeError,
    LedgerError,
    MalformedInputError,
    NativeMemoryError,
    OutOfRangeError,
    SignatureError,
    BatchRejectedError,
    CorruptedError,
    ExistsError,
    LedgerClosedError,
    LedgerIOError,
    LedgerLockedError,
    MapFullError,
    NotFoundError,
    ReadOnlyError,
    UnsupportedFormatError,
)
from ledger_core import _native
from ledger_core._buffers import MAX_THREADS, Packed
from ledger_core import checkpoint, ed25519, hashing, merkle, proofs
from ledger_core import generator, invoice
from ledger_core.invoice import Invoice, InvoiceBatch
from ledger_core.invoice import sign as sign_invoice
from ledger_core.ledger import (
    AppendReport,
    AuditReport,
    Ledger,
    Problem,
    RejectReason,
    Rejection,
    Snapshot,
    StoredCheckpoint,
)

__version__ = "0.1.0"


def features() -> Dict[str, Any]:
    """Which CPU features were detected and which path each primitive uses.

    ``{"cpu": {"avx2": bool, ...}, "paths": {"sha256": "sha_ni", ...}, "threads": N,
    "portable_forced": bool, "disabled": [...], "disable_unknown": [...]}``.
    Set ``LEDGER_CORE_PORTABLE=1`` in the environment before import to force every
    portable path, or ``LEDGER_CORE_DISABLE=avx2,sha_ni,bmi2`` (any of sse41, avx2,
    bmi2, adx, sha_ni, avx512) to turn single features off; "disabled" lists those
    taken, "disable_unknown" the names that were not understood.
    """
    cpu: Dict[str, Any] = dict(_native.cpu_features())
    portable = bool(cpu.pop("portable_forced"))
    disabled = list(cpu.pop("disabled"))
    unknown = list(cpu.pop("disable_unknown"))
    return {
        "cpu": cpu,
        "paths": dict(_native.active_paths()),
        "threads": int(_native.hardware_thread_count()),
        "portable_forced": portable,
        "disabled": disabled,
        "disable_unknown": unknown,
    }


def _warn_unknown_disable() -> None:
    cpu: Dict[str, Any] = dict(_native.cpu_features())
    unknown = list(cpu["disable_unknown"])
    if unknown:
        warnings.warn(
            f"LEDGER_CORE_DISABLE names features ledger_core does not know: {', '.join(unknown)} "
            "(known: sse41, avx2, bmi2, adx, sha_ni, avx512); they are ignored",
            RuntimeWarning,
            stacklevel=2,
        )


_warn_unknown_disable()


__all__ = [
    "Ledger",
    "Snapshot",
    "Invoice",
    "InvoiceBatch",
    "AppendReport",
    "AuditReport",
    "Problem",
    "Rejection",
    "RejectReason",
    "StoredCheckpoint",
    "invoice",
    "generator",
    "sign_invoice",
    "BatchRejectedError",
    "CorruptedError",
    "ExistsError",
    "LedgerClosedError",
    "LedgerIOError",
    "LedgerLockedError",
    "MapFullError",
    "NotFoundError",
    "ReadOnlyError",
    "UnsupportedFormatError",
    "features",
    "hashing",
    "merkle",
    "proofs",
    "checkpoint",
    "ed25519",
    "Packed",
    "MAX_THREADS",
    "LedgerError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "OutOfRangeError",
    "MalformedInputError",
    "NativeMemoryError",
    "InternalError",
    "SignatureError",
    "__version__",
]
