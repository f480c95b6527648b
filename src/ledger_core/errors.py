"""Exceptions raised by ledger_core.

Every error ledger_core raises derives from :class:`LedgerError`. Errors about the
caller's input also derive from the builtin a caller would catch (``ValueError``),
so ``except ValueError`` keeps working. The native module maps each native status
code to exactly one class here (``python/errors.cpp``).
"""

from __future__ import annotations


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


__all__ = [
    "LedgerError",
    "InvalidArgumentError",
    "OutOfRangeError",
    "MalformedInputError",
    "SignatureError",
    "NativeMemoryError",
    "InternalError",
    "InvalidTypeError",
]
