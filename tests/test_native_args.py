"""The binding layer converts every argument itself: wrong types, values and layouts
raise a LedgerError naming the argument (never pybind11's "incompatible function
arguments"), and a strided buffer is refused rather than read as if it were contiguous
(issue 12 item 4: a reversed array was a heap-buffer-overflow under ASan)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ledger_core import _native
from ledger_core.errors import (
    InvalidArgumentError,
    InvalidTypeError,
    LedgerError,
    MalformedInputError,
    OutOfRangeError,
)

REVERSED = np.arange(65536, dtype=np.uint8)[::-1]
STRIDED = memoryview(b"mm00")[::2]
PK = bytes(32)
SIG = bytes(64)


@pytest.mark.parametrize(
    "call, arg",
    [
        (lambda: _native.sha256(REVERSED), "data"),
        (lambda: _native.sha256_portable(REVERSED), "data"),
        (lambda: _native.sha512(REVERSED), "data"),
        (lambda: _native.blake3(REVERSED), "data"),
        (lambda: _native.blake3_derive_key("ctx", REVERSED), "material"),
        (lambda: _native.merkle_leaf_hash(_native.MERKLE_SUITE_BLAKE3, REVERSED), "data"),
        (lambda: _native.merkle_leaf_hash(_native.MERKLE_SUITE_SHA256, STRIDED), "data"),
        (lambda: _native.ed25519_verify(STRIDED, b"m", SIG), "public_key"),
        (lambda: _native.ed25519_verify(PK, STRIDED, SIG), "message"),
        (lambda: _native.ed25519_verify(PK, b"m", STRIDED), "signature"),
        (lambda: _native.Blake3Hasher().update(STRIDED), "data"),
        (lambda: _native.blake3_many_fixed(np.zeros((4, 8), np.uint8)[:, ::2]), "items"),
        (lambda: _native.blake3_many_fixed(np.asfortranarray(np.zeros((4, 8), np.uint8))), "items"),
        (lambda: _native.blake3_many_var(STRIDED, np.array([0, 1], np.uint64)), "items.buffer"),
        (lambda: _native.blake3_many_var(b"ab", np.array([0, 0, 1, 1], np.uint64)[::2]), "items.offsets"),
        (lambda: _native.sha512_many_parts([b"a", (b"b", STRIDED)]), "items[1]"),
    ],
)
def test_native_refuses_strided_buffers(call, arg):
    with pytest.raises(InvalidArgumentError, match=r"contiguous") as info:
        call()
    assert str(info.value).startswith(arg)


def test_native_reads_contiguous_buffers_of_any_format():
    data = np.arange(64, dtype=np.uint32)
    assert _native.sha256(data) == hashlib.sha256(data.tobytes()).digest()
    assert _native.sha256(memoryview(data)) == hashlib.sha256(data.tobytes()).digest()


@pytest.mark.parametrize(
    "call, cls, arg",
    [
        (lambda: _native.sha256("text"), InvalidTypeError, "data"),
        (lambda: _native.sha256(None), InvalidTypeError, "data"),
        (lambda: _native.blake3(b"", None, 2**64), OutOfRangeError, "length"),
        (lambda: _native.blake3(b"", None, -1), OutOfRangeError, "length"),
        (lambda: _native.blake3(b"", None, 1.5), InvalidTypeError, "length"),
        (lambda: _native.blake3(b"", b"short"), InvalidArgumentError, "key"),
        (lambda: _native.blake3_derive_key(b"ctx", b""), InvalidTypeError, "context"),
        (lambda: _native.blake3_derive_key("\ud800", b""), InvalidArgumentError, "context"),
        (lambda: _native.blake3_many_fixed(np.zeros((2, 4), np.uint8), threads=2**64), OutOfRangeError, "threads"),
        (lambda: _native.blake3_many_fixed(np.zeros((2, 4), np.uint8), threads=True), InvalidTypeError, "threads"),
        (lambda: _native.blake3_many_fixed(np.zeros((2, 4), np.uint8), threads=10**9), OutOfRangeError, "threads"),
        (lambda: _native.blake3_many_fixed(np.zeros((2, 4), np.uint16)), InvalidTypeError, "items"),
        (lambda: _native.blake3_many_fixed(np.zeros(8, np.uint8)), InvalidArgumentError, "items"),
        (lambda: _native.blake3_many_fixed([b"ab"]), InvalidTypeError, "items"),
        (lambda: _native.blake3_many_var(b"abcdef", np.array([4, 2, 0], np.uint64)), MalformedInputError, "items"),
        (lambda: _native.blake3_many_var(b"", np.array([1, 0], np.uint64)), MalformedInputError, "items"),
        (lambda: _native.blake3_many_var(b"ab", np.array([0, 3], np.uint64)), MalformedInputError, "items"),
        (lambda: _native.blake3_many_var(b"ab", np.array([0, -1], np.int64)), MalformedInputError, "items"),
        (lambda: _native.blake3_many_var(b"ab", np.array([0.0, 1.0])), InvalidTypeError, "items.offsets"),
        (lambda: _native.blake3_many_var(b"ab", np.array([], np.uint64)), InvalidArgumentError, "items.offsets"),
        (lambda: _native.sha256_many_fixed(None), InvalidTypeError, "items"),
        (lambda: _native.sha512_many_parts([(b"a", b"b", b"c", b"d")]), InvalidArgumentError, "items[0]"),
        (lambda: _native.sha512_many_parts("abc"), InvalidTypeError, "items"),
        (lambda: _native.ed25519_verify(None, b"", SIG), InvalidTypeError, "public_key"),
        (lambda: _native.ed25519_verify("k" * 32, b"", SIG), InvalidTypeError, "public_key"),
        (lambda: _native.ed25519_verify_batch_fixed(None, np.zeros((1, 1), np.uint8), np.zeros((1, 64), np.uint8)),
         InvalidTypeError, "public_keys"),
        (lambda: _native.ed25519_verify_batch_fixed(np.zeros((1, 31), np.uint8), np.zeros((1, 1), np.uint8),
                                                    np.zeros((1, 64), np.uint8)), InvalidArgumentError, "public_keys"),
        (lambda: _native.ed25519_verify_batch_fixed(np.zeros((2, 32), np.uint8), np.zeros((1, 1), np.uint8),
                                                    np.zeros((2, 64), np.uint8)), InvalidArgumentError, "messages"),
        (lambda: _native.ed25519_verify_batch_fixed(np.zeros((1, 32), np.uint8), np.zeros((1, 1), np.uint8),
                                                    np.zeros((1, 64), np.uint8), 0, 3), OutOfRangeError, "msm"),
        (lambda: _native.merkle_leaf_hash(7, b""), InvalidArgumentError, "suite"),
        (lambda: _native.merkle_leaf_hash("blake3", b""), InvalidTypeError, "suite"),
        (lambda: _native.merkle_node_hash(_native.MERKLE_SUITE_BLAKE3, bytes(31), bytes(32)), InvalidArgumentError, "left"),
        (lambda: _native.MerkleTree(_native.MERKLE_SUITE_BLAKE3).root(-1), OutOfRangeError, "size"),
        (lambda: _native.MerkleTree(_native.MERKLE_SUITE_BLAKE3).inclusion_proof(2**64, 1), OutOfRangeError, "index"),
        (lambda: _native.MerkleTree(["blake3"]), InvalidTypeError, "suite"),
        (lambda: _native.ed25519_scalar_reduce64(bytes(63)), InvalidArgumentError, "data"),
    ],
)
def test_native_argument_errors_are_ledger_errors_naming_the_argument(call, cls, arg):
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, LedgerError)
    assert str(info.value).startswith(arg), str(info.value)
    assert "incompatible function arguments" not in str(info.value)


def test_native_verifiers_answer_false_for_a_proof_of_partial_hashes():
    assert _native.merkle_verify_inclusion(_native.MERKLE_SUITE_BLAKE3, bytes(32), 0, 2, bytes(31), bytes(32)) is False


def test_native_huge_output_is_a_native_memory_error_not_a_crash():
    from ledger_core.errors import NativeMemoryError

    with pytest.raises((NativeMemoryError, OutOfRangeError)):
        _native.blake3(b"", None, 2**41)


def test_verify_reasons_and_group_order_come_from_native():
    assert _native.ED25519_VERIFY_REASONS["OK"] == 0
    assert sorted(_native.ED25519_VERIFY_REASONS.values()) == list(range(len(_native.ED25519_VERIFY_REASONS)))
    assert int.from_bytes(_native.ED25519_GROUP_ORDER, "little") == 2**252 + 27742317777372353535851937790883648493
