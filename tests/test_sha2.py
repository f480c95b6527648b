"""SHA-256 and SHA-512 against hashlib: boundaries, random inputs, buffer kinds; the SHA-NI
path against the portable one; batched SHA-256."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from hypothesis import given, strategies as st

import ledger_core
from ledger_core import _native, hashing

# Lengths around every padding boundary of both block sizes.
BOUNDARY_LENGTHS = sorted({n + d for n in (0, 55, 56, 64, 111, 112, 128, 256, 1000) for d in (-1, 0, 1) if n + d >= 0})


@pytest.mark.parametrize("length", BOUNDARY_LENGTHS)
def test_padding_boundaries_match_hashlib(length):
    data = bytes((i * 7 + 3) % 256 for i in range(length))
    assert hashing.sha256(data) == hashlib.sha256(data).digest()
    assert hashing.sha512(data) == hashlib.sha512(data).digest()


def test_fips_180_examples():
    assert hashing.sha256(b"abc").hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert hashing.sha512(b"abc").hex().startswith("ddaf35a193617abacc417349ae204131")


@given(st.binary(max_size=5000))
def test_random_inputs_match_hashlib(data):
    assert hashing.sha256(data) == hashlib.sha256(data).digest()
    assert hashing.sha512(data) == hashlib.sha512(data).digest()


def test_large_input_releases_gil_and_matches():
    data = np.random.default_rng(1).integers(0, 256, size=3_000_001, dtype=np.uint8)
    assert hashing.sha256(data) == hashlib.sha256(data.tobytes()).digest()
    assert hashing.sha512(memoryview(data)) == hashlib.sha512(data.tobytes()).digest()


def test_wrong_type_names_the_argument():
    with pytest.raises(TypeError, match="data"):
        hashing.sha256("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data"):
        hashing.sha512(12)  # type: ignore[arg-type]


# --- SHA-NI path == portable path, batched SHA-256 ---------------------------------------

def test_active_sha256_path_is_reported():
    path = ledger_core.features()["paths"]["sha256"]
    if os.environ.get("LEDGER_CORE_PORTABLE", "0") not in ("", "0"):
        assert path == "portable"
    elif ledger_core.features()["cpu"]["sha_ni"] and ledger_core.features()["cpu"]["sse41"]:
        assert path == "sha_ni"


@pytest.mark.parametrize("length", BOUNDARY_LENGTHS + [4096, 100_003])
def test_active_path_equals_portable_path(length):
    data = np.random.default_rng(length).integers(0, 256, size=length, dtype=np.uint8).tobytes()
    assert hashing.sha256(data) == _native.sha256_portable(data) == hashlib.sha256(data).digest()


@given(st.binary(max_size=3000))
def test_random_inputs_active_equals_portable(data):
    assert hashing.sha256(data) == _native.sha256_portable(data)


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 100])
@pytest.mark.parametrize("length", [0, 1, 55, 56, 64, 65, 119, 120, 1000])
def test_sha256_many_matches_hashlib_and_portable(count, length):
    rows = np.random.default_rng(count * 1000 + length).integers(0, 256, size=(count, length), dtype=np.uint8)
    expected = np.array(
        [list(hashlib.sha256(r.tobytes()).digest()) for r in rows], dtype=np.uint8
    ).reshape(count, 32)
    assert np.array_equal(hashing.sha256_many(rows), expected)
    assert np.array_equal(hashing.sha256_many(rows, threads=1), expected)
    assert np.array_equal(hashing.sha256_many([r.tobytes() for r in rows]), expected)
    assert np.array_equal(_native.sha256_many_fixed(rows, threads=1, portable=True), expected)


def test_sha256_many_large_batch_of_merkle_nodes_threads_agree():
    rows = np.random.default_rng(9).integers(0, 256, size=(30000, 65), dtype=np.uint8)
    single = hashing.sha256_many(rows, threads=1)
    assert np.array_equal(single, hashing.sha256_many(rows))
    assert bytes(single[29999]) == hashlib.sha256(rows[29999].tobytes()).digest()


def test_sha256_many_bad_arguments_name_them():
    with pytest.raises(ValueError, match="items"):
        hashing.sha256_many([b"ab", b"abc"])
    with pytest.raises(ValueError, match="items"):
        hashing.sha256_many(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="threads"):
        hashing.sha256_many([b"ab"], threads=0)
    assert hashing.sha256_many([]).shape == (0, 32)
