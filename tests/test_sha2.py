"""SHA-256 and SHA-512 against hashlib: boundaries, random inputs, buffer kinds; the SHA-NI
path against the portable one; batched SHA-256; batched SHA-512 over message parts (the
AVX2 lanes against the portable path and hashlib)."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from hypothesis import given, strategies as st

import ledger_core
from ledger_core import InvalidArgumentError, InvalidTypeError, MalformedInputError, Packed, _native, hashing
from ledger_core.hashing import Parts

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
    with pytest.raises(InvalidTypeError, match="data"):
        hashing.sha256("text")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="data"):
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
    with pytest.raises(InvalidArgumentError, match=r"items\[1\] has 3"):
        hashing.sha256_many([b"ab", b"abc"])
    with pytest.raises(InvalidTypeError, match="items"):
        hashing.sha256_many(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(InvalidArgumentError, match="threads"):
        hashing.sha256_many([b"ab"], threads=0)
    assert hashing.sha256_many([]).shape == (0, 32)


def test_sha256_many_decreasing_offsets_raise_instead_of_hashing_empty():
    # Issue 12 item 3: (b"abcdef", [4, 2, 0]) and (b"", [1, 0]) hashed b"" per item.
    with pytest.raises(MalformedInputError, match="offsets"):
        hashing.sha256_many(Packed(b"abcdef", [4, 2, 0]))
    with pytest.raises(MalformedInputError, match="offsets"):
        Packed(b"", [1, 0])
    with pytest.raises(MalformedInputError, match="offsets"):
        Packed(b"abcdef", np.array([4, 2, 0], np.uint64))
    # The same tuples are two items now; neither is a 2-item packed batch of b"".
    with pytest.raises(InvalidTypeError, match=r"items\[1\]"):
        hashing.sha256_many((b"abcdef", [4, 2, 0]))


def test_sha256_many_takes_every_items_form():
    pa = pytest.importorskip("pyarrow")
    nodes = [bytes([i]) * 65 for i in range(10)]
    expected = np.array([list(hashlib.sha256(n).digest()) for n in nodes], np.uint8)
    assert np.array_equal(hashing.sha256_many(tuple(nodes)), expected)
    assert np.array_equal(hashing.sha256_many(Packed(b"xx" + b"".join(nodes), [2 + 65 * i for i in range(11)])), expected)
    assert np.array_equal(hashing.sha256_many(pa.array(nodes)[4:]), expected[4:])
    assert np.array_equal(hashing.sha256_many(pa.array(nodes, pa.binary(65))[1:]), expected[1:])
    with pytest.raises(InvalidArgumentError, match=r"items\[3\]"):
        hashing.sha256_many(Packed(b"a" * 10, [0, 2, 4, 6, 9]))


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
    parts = [Parts(*item) for item in items]
    assert hashing.sha512_many(parts).shape == (count, 64)
    assert np.array_equal(hashing.sha512_many(parts), expected)
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
    items = [Parts(rng.bytes(64), rng.bytes(int(n))) for n in rng.integers(0, 1500, size=3000)]
    single = hashing.sha512_many(items, threads=1)
    assert np.array_equal(single, hashing.sha512_many(items))
    assert bytes(single[2999]) == hashlib.sha512(b"".join(items[2999].parts)).digest()


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
        Parts(memoryview(data)[:32], bytearray(data[32:64]), array[64:700]),
        Parts(data[:1], data[1:2]),
        Parts(memoryview(data)[::3]),
        b"",
    ]
    messages = [data[:130], data[5:300], data[:77], data[::2], data[:700], data[:2], data[::3], b""]
    assert np.array_equal(hashing.sha512_many(items), _sha512_rows(messages))
    assert np.array_equal(hashing.sha512_many(iter(items)), _sha512_rows(messages))


def test_sha512_many_bad_arguments_name_them():
    with pytest.raises(InvalidTypeError, match=r"items\[1\]"):
        hashing.sha512_many([b"ok", "text"])
    with pytest.raises(InvalidTypeError, match=r"parts\[1\]"):
        hashing.sha512_many([Parts(b"ok", 5)])
    with pytest.raises(InvalidArgumentError, match="Parts.*1 to 3"):
        Parts(b"a", b"b", b"c", b"d")
    with pytest.raises(InvalidArgumentError, match="Parts.*1 to 3"):
        Parts()
    with pytest.raises(InvalidArgumentError, match="threads"):
        hashing.sha512_many([b"ab"], threads=0)
    with pytest.raises(InvalidTypeError, match="items"):
        hashing.sha512_many(b"one message")
    with pytest.raises(InvalidTypeError, match="items"):
        hashing.sha512_many(None)
    with pytest.raises(InvalidArgumentError, match=r"items\[0\].*contiguous"):
        _native.sha512_many_parts([memoryview(b"abcd")[::2]])
    assert hashing.sha512_many([]).shape == (0, 64)


def test_sha512_many_tuple_item_is_an_error_not_parts():
    # Issue 12 item 2: the layout is said by type. A multi-part message is Parts(...);
    # a tuple or list item is refused, naming the item.
    with pytest.raises(InvalidTypeError, match=r"items\[1\].*Parts"):
        hashing.sha512_many([b"a", (b"b", b"c")])
    with pytest.raises(InvalidTypeError, match=r"items\[0\].*Parts"):
        hashing.sha512_many([[b"b", b"c"]])
    # A tuple of messages is a sequence of messages.
    assert np.array_equal(hashing.sha512_many((b"b", b"c")), _sha512_rows([b"b", b"c"]))


def test_sha512_many_takes_every_items_form():
    pa = pytest.importorskip("pyarrow")
    messages = [bytes([i]) * (i * 37 % 300) for i in range(23)]
    expected = _sha512_rows(messages)
    buffer = b"".join(messages)
    offsets = np.cumsum([0] + [len(m) for m in messages])
    assert np.array_equal(hashing.sha512_many(Packed(buffer, offsets)), expected)
    assert np.array_equal(hashing.sha512_many(pa.array(messages)), expected)
    assert np.array_equal(hashing.sha512_many(pa.array(messages, pa.large_binary())[3:]), expected[3:])
    rows = np.frombuffer(bytes(range(200)), np.uint8).reshape(8, 25)
    assert np.array_equal(hashing.sha512_many(rows), _sha512_rows([r.tobytes() for r in rows]))
