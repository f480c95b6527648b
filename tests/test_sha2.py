"""SHA-256 and SHA-512 against hashlib: boundaries, random inputs, buffer kinds."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

from ledger_core import hashing

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
