"""Hash primitives of ledger_core: SHA-256, SHA-512 (and BLAKE3).

All functions take any bytes-like object (bytes, bytearray, memoryview, a
contiguous uint8 numpy array) and return ``bytes``.
"""

from __future__ import annotations

from typing import Any

from ledger_core import _native
from ledger_core._buffers import as_bytes

SHA256_LEN: int = _native.SHA256_LEN
SHA512_LEN: int = _native.SHA512_LEN


def sha256(data: Any) -> bytes:
    """SHA-256 of `data` (32 bytes). Uses SHA-NI where the CPU has it."""
    return _native.sha256(as_bytes(data, "data"))


def sha512(data: Any) -> bytes:
    """SHA-512 of `data` (64 bytes)."""
    return _native.sha512(as_bytes(data, "data"))


__all__ = ["SHA256_LEN", "SHA512_LEN", "sha256", "sha512"]
