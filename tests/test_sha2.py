"""SHA-256 and SHA-512 against hashlib: boundaries, random inputs, buffer kinds; the SHA-NI
path against the portable one; batched SHA-256; batched SHA-512 over message parts (the
AVX2 lanes against the portable path and hashlib)."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from ledger_core.errors import InvalidArgumentError
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


# --- batched SHA-512 over message parts (AVX2 lanes == portable == hashlib) ----------------

def _sha512_rows(messages):
    return np.array([list(hashlib.sha512(m).digest()) for m in messages], dtype=np.uint8).reshape(len(messages), 64)


def _random_split(rng, message):
    """message as a 3-tuple of parts cut at two random points (empty parts included)."""
    cut_a, cut_b = sorted(int(x) for x in rng.integers(0, len(message) + 1, size=2))
    return (message[:cut_a], message[cut_a:cut_b], message[cut_b:])


def _assert_all_paths(items, messages):
    expected = _sha512_rows(messages)
    assert np.array_equal(_native.sha512_many_parts(items, threads=1), expected)
    assert np.array_equal(_native.sha512_many_parts(items, threads=1, portable=True), expected)


def test_active_sha512_path_is_reported():
    path = ledger_core.features()["paths"]["sha512"]
    if os.environ.get("LEDGER_CORE_PORTABLE", "0") not in ("", "0"):
        assert path == "portable"
    else:
        assert path == ("avx2" if ledger_core.features()["cpu"]["avx2"] else "portable")


def test_sha512_many_every_single_part_length_0_to_600():
    # Every position of the 0x80 byte and the length field relative to the 112-byte padding
    # boundary and the 128-byte block boundary, in one batch: lanes end at different times
    # and take the next message.
    data = np.random.default_rng(600).integers(0, 256, size=600, dtype=np.uint8).tobytes()
    messages = [data[:n] for n in range(601)]
    _assert_all_paths(messages, messages)
    _assert_all_paths(messages[::-1], messages[::-1])


def test_sha512_many_equal_lengths_end_in_every_lane_together():
    rng = np.random.default_rng(4)
    for length in BOUNDARY_LENGTHS:
        messages = [rng.integers(0, 256, size=length, dtype=np.uint8).tobytes() for _ in range(4)]
        _assert_all_paths(messages, messages)


def test_sha512_many_random_part_splits_across_boundaries():
    rng = np.random.default_rng(3)
    lengths = [n for n in range(0, 600) if n % 128 in (0, 1, 15, 16, 17, 111, 112, 113, 127)]
    messages = [rng.integers(0, 256, size=n, dtype=np.uint8).tobytes() for n in lengths]
    for _ in range(3):
        _assert_all_paths([_random_split(rng, m) for m in messages], messages)


@pytest.mark.parametrize("count", [0, 1, 3, 4, 5, 7, 8, 9, 100])
def test_sha512_many_counts_with_mixed_lengths(count):
    rng = np.random.default_rng(100 + count)
    messages = [rng.integers(0, 256, size=int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 2100, size=count)]
    items = [_random_split(rng, m) for m in messages]
    _assert_all_paths(items, messages)
    expected = _sha512_rows(messages)
    assert hashing.sha512_many(items).shape == (count, 64)
    assert np.array_equal(hashing.sha512_many(items), expected)
    assert np.array_equal(hashing.sha512_many(messages, threads=1), expected)


def test_sha512_many_one_long_message_among_short_ones_finishes():
    # The long message outlives every other lane and ends on its own.
    rng = np.random.default_rng(5)
    for position in (0, 3, 4, 9):
        messages = [rng.integers(0, 256, size=40, dtype=np.uint8).tobytes() for _ in range(10)]
        messages[position] = rng.integers(0, 256, size=5000, dtype=np.uint8).tobytes()
        _assert_all_paths(messages, messages)


def test_sha512_many_ed25519_shaped_r_a_m():
    rng = np.random.default_rng(25519)
    items = [
        (rng.bytes(32), rng.bytes(32), rng.bytes(int(n))) for n in rng.integers(100, 2000, size=37)
    ]
    messages = [b"".join(item) for item in items]
    _assert_all_paths(items, messages)


def test_sha512_many_large_batch_threads_agree():
    rng = np.random.default_rng(6)
    items = [(rng.bytes(64), rng.bytes(int(n))) for n in rng.integers(0, 1500, size=3000)]
    single = hashing.sha512_many(items, threads=1)
    assert np.array_equal(single, hashing.sha512_many(items))
    assert bytes(single[2999]) == hashlib.sha512(b"".join(items[2999])).digest()


@given(st.lists(st.tuples(st.binary(max_size=300), st.binary(max_size=300), st.binary(max_size=300)), max_size=12))
def test_sha512_many_random_parts_match_hashlib(items):
    _assert_all_paths(items, [b"".join(item) for item in items])


def test_sha512_many_buffer_kinds():
    data = bytes(range(256)) * 3
    array = np.frombuffer(data, dtype=np.uint8)
    items = [
        bytearray(data[:130]),
        memoryview(data)[5:300],
        array[:77],
        memoryview(data)[::2],  # not contiguous: copied by the facade
        (memoryview(data)[:32], bytearray(data[32:64]), array[64:700]),
        [data[:1], data[1:2]],
        (),
    ]
    messages = [data[:130], data[5:300], data[:77], data[::2], data[:700], data[:2], b""]
    assert np.array_equal(hashing.sha512_many(items), _sha512_rows(messages))
    assert np.array_equal(hashing.sha512_many(iter(items)), _sha512_rows(messages))


def test_sha512_many_bad_arguments_name_them():
    with pytest.raises(TypeError, match=r"items\[1\]"):
        hashing.sha512_many([b"ok", "text"])
    with pytest.raises(TypeError, match=r"items\[0\]\[1\]"):
        hashing.sha512_many([(b"ok", 5)])
    with pytest.raises(ValueError, match=r"items\[0\].*3 parts"):
        hashing.sha512_many([(b"a", b"b", b"c", b"d")])
    with pytest.raises(ValueError, match="threads"):
        hashing.sha512_many([b"ab"], threads=0)
    with pytest.raises(InvalidArgumentError, match=r"items\[0\].*contiguous"):
        _native.sha512_many_parts([memoryview(b"abcd")[::2]])
    assert hashing.sha512_many([]).shape == (0, 64)
