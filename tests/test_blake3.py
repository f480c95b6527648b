"""BLAKE3: the published vectors, the blake3 package on chosen lengths, every way in
(one-shot, incremental, batched fixed / list / Packed / Arrow), SIMD path == portable
path, and argument errors."""

from __future__ import annotations

import os

import blake3 as blake3_ref
import numpy as np
import pytest

import ledger_core
from ledger_core import _native, hashing
from ledger_core import InvalidArgumentError, InvalidTypeError, MalformedInputError, OutOfRangeError, Packed
from ledger_core._buffers import as_items
from ledger_core.hashing import Blake3Hasher, blake3, blake3_derive_key, blake3_many

from conftest import load_vectors

VECTORS = load_vectors("blake3/test_vectors.json")
VECTOR_KEY = VECTORS["key"].encode()
VECTOR_CONTEXT = VECTORS["context_string"]

# Around every block (64) and chunk (1024) boundary, and subtrees of 2..16 chunks.
BOUNDARY_LENGTHS = sorted(
    {n + d for n in (0, 64, 128, 960, 1024, 2048, 3072, 4096, 8192, 16384) for d in (-1, 0, 1) if n + d >= 0}
    | {1, 2, 63, 65, 127, 129, 5 * 1024 + 7, 17 * 1024, 65 * 1024 + 1}
)
MANY_COUNTS = [0, 1, 7, 8, 9, 15, 16, 17, 100]
MANY_LENGTHS = [0, 1, 63, 64, 65, 1023, 1024, 1025, 8193]


def vector_input(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


def random_bytes(length: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size=length, dtype=np.uint8).tobytes()


def portable_many(items, key=None, threads=0):
    """blake3_many on the portable path, in-process: the private native entry points."""
    normalised = as_items(items, "items")
    if normalised[0] == "fixed":
        return _native.blake3_many_fixed(normalised[1], key=key, threads=threads, portable=True)
    return _native.blake3_many_var(normalised[1], normalised[2], key=key, threads=threads, portable=True)


# --- published vectors -------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"len{c['input_len']}")
def test_published_vectors_full_extended_output(case):
    data = vector_input(case["input_len"])
    for mode, compute in (
        ("hash", lambda n: blake3(data, length=n)),
        ("keyed_hash", lambda n: blake3(data, key=VECTOR_KEY, length=n)),
        ("derive_key", lambda n: blake3_derive_key(VECTOR_CONTEXT, data, length=n)),
    ):
        expected = bytes.fromhex(case[mode])
        assert compute(len(expected)) == expected, mode
        assert compute(32) == expected[:32], mode


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"len{c['input_len']}")
def test_published_vectors_incremental(case):
    data = vector_input(case["input_len"])
    expected = bytes.fromhex(case["hash"])
    hasher = Blake3Hasher()
    for start in range(0, len(data), 1000):
        hasher.update(data[start : start + 1000])
    assert hasher.digest(len(expected)) == expected
    keyed = Blake3Hasher(key=VECTOR_KEY).update(data)
    assert keyed.digest(len(expected)) == bytes.fromhex(case["keyed_hash"])
    derive = Blake3Hasher.derive_key(VECTOR_CONTEXT).update(data)
    assert derive.hexdigest(len(expected)) == case["derive_key"]


def test_published_vectors_through_batches():
    cases = VECTORS["cases"]
    inputs = [vector_input(c["input_len"]) for c in cases]
    expected = [bytes.fromhex(c["hash"])[:32] for c in cases]
    expected_keyed = [bytes.fromhex(c["keyed_hash"])[:32] for c in cases]
    assert [bytes(r) for r in blake3_many(inputs)] == expected
    assert [bytes(r) for r in blake3_many(inputs, key=VECTOR_KEY)] == expected_keyed
    assert [bytes(r) for r in portable_many(inputs)] == expected


# --- the blake3 package on chosen lengths ------------------------------------------------


@pytest.mark.parametrize("length", BOUNDARY_LENGTHS)
def test_boundary_lengths_match_blake3_package(length):
    data = random_bytes(length, length)
    key = random_bytes(32, length + 1)
    assert blake3(data) == blake3_ref.blake3(data).digest()
    assert blake3(data, key=key) == blake3_ref.blake3(data, key=key).digest()
    assert blake3_derive_key("ctx", data) == blake3_ref.blake3(data, derive_key_context="ctx").digest()
    assert blake3(data, length=131) == blake3_ref.blake3(data).digest(131)


# Both sides of every block boundary up to 32 blocks and of every chunk boundary up to
# 20 chunks.
SWEEP_LENGTHS = sorted(
    {64 * k + d for k in range(33) for d in (-1, 0, 1) if 64 * k + d >= 0}
    | {1024 * k + d for k in range(21) for d in (-1, 0, 1) if 1024 * k + d >= 0}
)


def test_every_block_and_chunk_boundary_one_shot_and_batched():
    data = random_bytes(max(SWEEP_LENGTHS), 77)
    items = [data[:n] for n in SWEEP_LENGTHS]
    expected = [blake3_ref.blake3(x).digest() for x in items]
    assert [blake3(x) for x in items] == expected
    assert [bytes(r) for r in blake3_many(items)] == expected
    assert [bytes(r) for r in portable_many(items)] == expected


def test_large_input_one_megabyte_and_odd_sizes():
    for length in (1 << 20, (1 << 20) + 1, 3 * (1 << 20) - 5):
        data = random_bytes(length, 7)
        assert blake3(data) == blake3_ref.blake3(data).digest()
        arr = np.frombuffer(data, dtype=np.uint8)
        assert blake3(arr) == blake3(memoryview(data)) == blake3(bytearray(data))


def test_extended_output_lengths():
    data = b"ledger"
    ref = blake3_ref.blake3(data).digest(1000)
    for n in (0, 1, 31, 32, 33, 63, 64, 65, 128, 1000):
        assert blake3(data, length=n) == ref[:n]
        assert Blake3Hasher(data).digest(n) == ref[:n]


# --- incremental == one-shot == batches --------------------------------------------------


def test_incremental_random_splits_equal_one_shot():
    rng = np.random.default_rng(3)
    for length in (0, 1, 64, 1024, 1025, 4096, 9000, 70000):
        data = random_bytes(length, length + 5)
        expected = blake3(data)
        for _ in range(4):
            cuts = sorted(rng.integers(0, length + 1, size=rng.integers(0, 6)))
            hasher = Blake3Hasher()
            prev = 0
            for cut in list(cuts) + [length]:
                hasher.update(data[prev:cut])
                prev = cut
            assert hasher.digest() == expected


def test_digest_does_not_modify_state_and_copy_forks():
    hasher = Blake3Hasher(b"a" * 1500)
    first = hasher.digest()
    assert hasher.digest() == first
    fork = hasher.copy()
    hasher.update(b"b" * 3000)
    assert fork.digest() == first
    assert hasher.digest() == blake3(b"a" * 1500 + b"b" * 3000)
    fork.update(b"c")
    assert fork.digest() == blake3(b"a" * 1500 + b"c")


def test_update_returns_self_and_accepts_buffers():
    data = random_bytes(2000, 11)
    hasher = Blake3Hasher().update(data[:100]).update(bytearray(data[100:500])).update(
        np.frombuffer(data[500:], dtype=np.uint8)
    )
    assert hasher.digest() == blake3(data)


@pytest.mark.parametrize("length", MANY_LENGTHS)
def test_many_forms_agree_with_one_shot(length):
    count = 19
    data = random_bytes(count * length, length + 100)
    rows = np.frombuffer(data, dtype=np.uint8).reshape(count, length)
    items = [data[i * length : (i + 1) * length] for i in range(count)]
    expected = np.array([list(blake3(x)) for x in items], dtype=np.uint8).reshape(count, 32)
    offsets = np.arange(count + 1, dtype=np.uint64) * length
    for result in (
        blake3_many(rows),
        blake3_many(items),
        blake3_many(Packed(data, offsets)),
        blake3_many(Packed(data, [i * length for i in range(count + 1)])),
        blake3_many(tuple(items)),
        blake3_many(rows, threads=1),
        blake3_many(items, threads=1),
    ):
        assert result.dtype == np.uint8 and result.shape == (count, 32)
        assert np.array_equal(result, expected)


def test_many_variable_lengths_and_keys():
    rng = np.random.default_rng(5)
    lengths = [int(x) for x in rng.integers(0, 2100, size=300)] + [0, 64, 1024, 5000]
    items = [random_bytes(n, i) for i, n in enumerate(lengths)]
    key = random_bytes(32, 99)
    plain = blake3_many(items)
    keyed = blake3_many(items, key=key, threads=1)
    for i, item in enumerate(items):
        assert bytes(plain[i]) == blake3_ref.blake3(item).digest()
        assert bytes(keyed[i]) == blake3_ref.blake3(item, key=key).digest()


def test_many_offsets_with_gap_at_start():
    buffer = random_bytes(500, 8)
    offsets = np.array([10, 10, 74, 200, 500], dtype=np.uint64)
    result = blake3_many(Packed(buffer, offsets))
    for i in range(4):
        assert bytes(result[i]) == blake3(buffer[offsets[i] : offsets[i + 1]])


def test_many_large_batch_threads_equal_single_thread():
    rows = np.frombuffer(random_bytes(20000 * 64, 12), dtype=np.uint8).reshape(20000, 64)
    assert np.array_equal(blake3_many(rows, threads=1), blake3_many(rows))
    assert np.array_equal(blake3_many(rows, threads=1), blake3_many(rows, threads=2))
    assert bytes(blake3_many(rows)[12345]) == blake3_ref.blake3(rows[12345].tobytes()).digest()


# --- SIMD path == portable path ---------------------------------------------------------


def test_active_path_is_reported():
    path = ledger_core.features()["paths"]["blake3"]
    if os.environ.get("LEDGER_CORE_PORTABLE", "0") not in ("", "0"):
        assert path == "portable"
    else:
        assert path in ("avx2", "portable")
        if ledger_core.features()["cpu"]["avx2"]:
            assert path == "avx2"


@pytest.mark.parametrize("count", MANY_COUNTS)
@pytest.mark.parametrize("length", MANY_LENGTHS)
def test_simd_equals_portable_fixed(count, length):
    rows = np.frombuffer(random_bytes(count * length, count * 31 + length), dtype=np.uint8).reshape(count, length)
    key = random_bytes(32, count)
    assert np.array_equal(blake3_many(rows, threads=1), portable_many(rows, threads=1))
    assert np.array_equal(
        blake3_many(rows, key=key, threads=1), portable_many(rows, key=key, threads=1)
    )


@pytest.mark.parametrize("count", MANY_COUNTS)
def test_simd_equals_portable_var(count):
    rng = np.random.default_rng(count)
    items = [random_bytes(int(n), i) for i, n in enumerate(rng.choice(MANY_LENGTHS + [5, 700, 3000], size=count))]
    key = random_bytes(32, 1)
    assert np.array_equal(blake3_many(items), portable_many(items))
    assert np.array_equal(blake3_many(items, key=key), portable_many(items, key=key))
    if count:
        assert bytes(portable_many(items)[-1]) == blake3_ref.blake3(items[-1]).digest()


# --- bad arguments ------------------------------------------------------------------------


def test_bad_key_names_the_argument():
    with pytest.raises(InvalidArgumentError, match="key"):
        blake3(b"x", key=b"short")
    with pytest.raises(InvalidTypeError, match="key"):
        blake3(b"x", key="k" * 32)
    with pytest.raises(InvalidArgumentError, match="key"):
        Blake3Hasher(key=b"k" * 31)
    with pytest.raises(InvalidArgumentError, match="key"):
        blake3_many([b"x"], key=b"k" * 33)


def test_bad_data_and_context_name_the_argument():
    with pytest.raises(InvalidTypeError, match="data"):
        blake3("text")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="data"):
        Blake3Hasher().update(12)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="context"):
        blake3_derive_key(b"ctx", b"m")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="context"):
        Blake3Hasher.derive_key(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="context"):
        blake3_derive_key("lone \ud800 surrogate", b"m")
    with pytest.raises(InvalidTypeError, match="material"):
        blake3_derive_key("ctx", "m")  # type: ignore[arg-type]


def test_bad_length_and_threads_name_the_argument():
    with pytest.raises(OutOfRangeError, match="length"):
        blake3(b"x", length=-1)
    with pytest.raises(InvalidTypeError, match="length"):
        Blake3Hasher().digest(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="length"):
        blake3(b"x", length=32.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="threads"):
        blake3_many([b"x"], threads=0)
    with pytest.raises(InvalidTypeError, match="threads"):
        blake3_many([b"x"], threads="all")  # type: ignore[arg-type]


def test_length_two_to_the_64_is_an_out_of_range_error_naming_length():
    # Issue 12 item 8: pybind11's "incompatible function arguments" TypeError before.
    for call in (
        lambda: blake3(b"", length=2**64),
        lambda: blake3(b"", key=bytes(32), length=2**64),
        lambda: blake3_derive_key("ctx", b"", length=2**64),
        lambda: Blake3Hasher().digest(2**64),
    ):
        with pytest.raises(OutOfRangeError, match="length"):
            call()
    with pytest.raises(OutOfRangeError, match="length"):
        blake3(b"", length=hashing.BLAKE3_MAX_OUT_LEN + 1)
    assert blake3(b"", length=0) == b""


def test_bad_items_name_the_argument():
    with pytest.raises(InvalidTypeError, match="items"):
        blake3_many(b"not a list")
    with pytest.raises(InvalidTypeError, match="items"):
        blake3_many(np.zeros((3, 4), dtype=np.int32))
    with pytest.raises(InvalidArgumentError, match="items"):
        blake3_many(np.zeros(5, dtype=np.uint8))
    with pytest.raises(MalformedInputError, match="offsets"):
        blake3_many(Packed(b"abc", np.array([0, 2, 1], dtype=np.uint64)))
    with pytest.raises(OutOfRangeError, match="offsets"):
        blake3_many(Packed(b"abc", np.array([0, 4], dtype=np.uint64)))
    with pytest.raises(InvalidTypeError, match=r"items\[1\]"):
        blake3_many([b"a", 3])


def test_tuple_of_two_arrays_is_two_items_not_buffer_and_offsets():
    # Issue 12 item 2: (A, B) was read as (buffer, offsets) and its slices hashed.
    a = np.frombuffer(b"\x00\x01\x02", np.uint8)
    b = np.frombuffer(b"\x00\x01\x03", np.uint8)
    expected = [blake3_ref.blake3(b"\x00\x01\x02").digest(), blake3_ref.blake3(b"\x00\x01\x03").digest()]
    assert [bytes(r) for r in blake3_many((a, b))] == expected
    assert [bytes(r) for r in blake3_many([a, b])] == expected
    # The packed reading has to be asked for by name.
    assert [bytes(r) for r in blake3_many(Packed(a, [0, 1, 3]))] == [blake3(b"\x00"), blake3(b"\x01\x02")]
    # (buffer, list-of-offsets) is two items too; a list of ints is not bytes-like.
    with pytest.raises(InvalidTypeError, match=r"items\[1\]"):
        blake3_many((b"abc", [0, 1, 3]))


def test_packed_and_arrow_inputs_equal_the_list():
    pa = pytest.importorskip("pyarrow")
    items = [random_bytes(n, n) for n in (0, 1, 64, 65, 1024, 3000, 7)]
    expected = blake3_many(items)
    key = random_bytes(32, 3)
    buffer = b"".join(items)
    offsets = np.cumsum([0] + [len(x) for x in items])
    assert np.array_equal(blake3_many(Packed(buffer, offsets)), expected)
    assert np.array_equal(blake3_many(Packed(buffer, offsets.tolist())), expected)
    for kind in (pa.binary(), pa.large_binary()):
        array = pa.array(items, type=kind)
        assert np.array_equal(blake3_many(array), expected)
        assert np.array_equal(blake3_many(Packed.from_arrow(array)), expected)
        assert np.array_equal(blake3_many(array[2:5], key=key), blake3_many(items[2:5], key=key))
    fixed = pa.array([random_bytes(65, i) for i in range(9)], type=pa.binary(65))
    assert np.array_equal(blake3_many(fixed[3:]), blake3_many([x.as_py() for x in fixed[3:]]))


def test_hasher_copy_keeps_the_subclass():
    class Tagged(Blake3Hasher):
        pass

    h = Tagged(b"abc")
    h.tag = "t"
    twin = h.copy()
    assert type(twin) is Tagged and twin.tag == "t"
    twin.update(b"d")
    assert h.digest() == blake3(b"abc") and twin.digest() == blake3(b"abcd")
    assert type(Tagged.derive_key("ctx")) is Tagged
    assert type(Blake3Hasher().copy()) is Blake3Hasher


def test_blake3_many_has_no_portable_knob():
    import inspect

    assert "_portable" not in inspect.signature(blake3_many).parameters
    with pytest.raises(TypeError):
        blake3_many([b"x"], _portable=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        blake3_many([b"x"], None)  # type: ignore[misc]  # key is keyword-only


def test_constants():
    assert (hashing.BLAKE3_OUT_LEN, hashing.BLAKE3_KEY_LEN) == (32, 32)
    assert (hashing.BLAKE3_BLOCK_LEN, hashing.BLAKE3_CHUNK_LEN) == (64, 1024)
    assert blake3_many([]).shape == (0, 32)


def test_hasher_shared_by_threads_stays_consistent():
    # Large updates release the GIL; the hasher's lock keeps concurrent updates whole.
    # Every piece is the same, so any interleaving gives the same message.
    import threading

    piece = bytes(range(256)) * 200  # 51200 bytes, above the GIL-release threshold
    hasher = Blake3Hasher()
    threads = [threading.Thread(target=lambda: [hasher.update(piece) for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hasher.digest() == blake3_ref.blake3(piece * 40).digest()


def test_one_shot_from_many_threads():
    from concurrent.futures import ThreadPoolExecutor

    inputs = [random_bytes(70000 + i, i) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(blake3, inputs))
    assert results == [blake3_ref.blake3(x).digest() for x in inputs]


def test_many_multi_chunk_messages_share_lanes():
    # Messages of 2..8 chunks are hashed chunk-by-chunk in shared lanes and folded in a
    # window of 64 chunks; longer ones go through the hasher. Mixed, with window flushes.
    rng = np.random.default_rng(21)
    lengths = [int(x) for x in rng.integers(1025, 10 * 1024, size=60)] + [2048, 8192, 8193, 1025, 0, 64]
    items = [random_bytes(n, 1000 + i) for i, n in enumerate(lengths)]
    key = random_bytes(32, 5)
    for k in (None, key):
        expected = [blake3_ref.blake3(x, **({"key": k} if k else {})).digest() for x in items]
        assert [bytes(r) for r in blake3_many(items, key=k)] == expected
        assert [bytes(r) for r in portable_many(items, key=k)] == expected
    rows = np.frombuffer(random_bytes(70 * 3000, 9), dtype=np.uint8).reshape(70, 3000)
    assert [bytes(r) for r in blake3_many(rows)] == [blake3_ref.blake3(r.tobytes()).digest() for r in rows]


def test_hasher_attributes_like_hashlib():
    h = Blake3Hasher()
    assert (h.name, h.digest_size, h.block_size) == ("blake3", 32, 64)
    assert h.hexdigest() == blake3_ref.blake3(b"").hexdigest()
