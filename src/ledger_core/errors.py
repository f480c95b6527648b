"""Exceptions raised by ledger_core.

Every error ledger_core raises derives from :class:`LedgerError`. Errors about the
caller's input also derive from the builtin a caller would catch (``ValueError``),
so ``except ValueError`` keeps working. The native module maps each native status
code to exactly one class here (``python/errors.cpp``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report type lives with the ledger, which imports this module
    from ledger_core.ledger import AppendReport


class LedgerError(Exception):
    """Base class of every ledger_core error."""


class InvalidArgumentError(LedgerError, ValueError):
    """An argument has the wrong size, shape or value."""


class OutOfRangeError(LedgerError, ValueError):
    """An index or size lies outside what exists."""


class MalformedInputError(LedgerError, ValueError):
    """Input bytes do not parse: bad offsets, bad encoding, truncated data."""


class SignatureError(LedgerError, ValueError):
    """A signed object (a checkpoint note) carries no valid signature of the trusted key,
    or a trusted key's signature on it fails."""


class NativeMemoryError(LedgerError, MemoryError):
    """The native core could not allocate memory."""


class InternalError(LedgerError):
    """A broken invariant inside ledger_core: a bug; please report it."""


class InvalidTypeError(LedgerError, TypeError):
    """An argument has the wrong type."""


class BatchRejectedError(LedgerError):
    """A batch appended with ``on_invalid="reject"`` held bad items; nothing was
    written. ``report`` is the AppendReport (``report.rejected`` lists each item's
    position and reason)."""

    def __init__(self, message: str, report: "AppendReport") -> None:
        super().__init__(message)
        self.report: "AppendReport" = report


class LedgerLockedError(LedgerError):
    """Another process holds the ledger's writer lock (the message says which)."""


class LedgerClosedError(LedgerError):
    """The ledger handle was closed, or belongs to the parent of this forked process
    (open the ledger again in the child)."""


class ReadOnlyError(LedgerError):
    """A write on a ledger opened with ``readonly=True``."""


class MapFullError(LedgerError):
    """The LMDB map is full and could not be grown (address space or disk)."""


class NotFoundError(LedgerError, FileNotFoundError):
    """The ledger does not exist (``create=False``), or a table or key it must hold is
    missing."""


class ExistsError(LedgerError):
    """A key that must be new already exists in a table."""


class CorruptedError(LedgerError):
    """The ledger's files do not parse: LMDB reports corruption, or a stored record or
    table entry does not decode. Run ``Ledger.audit`` on a copy to see what differs."""


class LedgerIOError(LedgerError, OSError):
    """The operating system failed a read, write or sync of the ledger's files."""


class UnsupportedFormatError(LedgerError):
    """The ledger was written in a format version (or with a record kind or hasher)
    this ledger_core does not know."""


__all__ = [
    "LedgerError",
    "InvalidArgumentError",
    "OutOfRangeError",
    "MalformedInputError",
    "SignatureError",
    "NativeMemoryError",
    "InternalError",
    "InvalidTypeError",
    "BatchRejectedError",
    "LedgerLockedError",
    "LedgerClosedError",
    "ReadOnlyError",
    "MapFullError",
    "NotFoundError",
    "ExistsError",
    "CorruptedError",
    "LedgerIOError",
    "UnsupportedFormatError",
]
