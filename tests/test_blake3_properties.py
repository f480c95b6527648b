"""BLAKE3 properties under hypothesis: the blake3 package as the independent reference on
random lengths up to 20000 bytes (every block and chunk boundary up to 19 chunks), all
three modes, random split points, and the SIMD path against the portable one."""

from __future__ import annotations

import blake3 as blake3_ref
import numpy as np
from hypothesis import given, strategies as st

from ledger_core.hashing import Blake3Hasher, blake3, blake3_derive_key, blake3_many
from test_blake3 import portable_many

MAX_LEN = 20000


@st.composite
def lengths(draw) -> int:
    # Half the draws land next to a block or chunk boundary, the rest anywhere.
    if draw(st.booleans()):
        unit = draw(st.sampled_from([64, 1024]))
        return min(MAX_LEN, unit * draw(st.integers(0, MAX_LEN // unit)) + draw(st.integers(-1, 1)) + 1)
    return draw(st.integers(0, MAX_LEN))


@st.composite
def messages(draw) -> bytes:
    n = max(0, draw(lengths()))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(0, 256, size=n, dtype=np.uint8).tobytes()


keys = st.binary(min_size=32, max_size=32)
contexts = st.text(max_size=80)


@given(messages())
def test_hash_matches_blake3_package(data):
    assert blake3(data) == blake3_ref.blake3(data).digest()


@given(messages(), keys)
def test_keyed_hash_matches_blake3_package(data, key):
    assert blake3(data, key=key) == blake3_ref.blake3(data, key=key).digest()


@given(messages(), contexts, st.integers(0, 300))
def test_derive_key_matches_blake3_package(data, context, length):
    expected = blake3_ref.blake3(data, derive_key_context=context).digest(length)
    assert blake3_derive_key(context, data, length=length) == expected


@given(messages(), st.integers(0, 600))
def test_extended_output_matches_blake3_package(data, length):
    assert blake3(data, length=length) == blake3_ref.blake3(data).digest(length)


@given(messages(), st.lists(st.integers(0, MAX_LEN), max_size=8), st.one_of(st.none(), keys))
def test_incremental_random_splits_equal_one_shot(data, cuts, key):
    hasher = Blake3Hasher(key=key)
    prev = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        hasher.update(data[prev:cut])
        prev = cut
    assert hasher.digest() == blake3(data, key=key)


@given(st.lists(messages(), max_size=20), st.one_of(st.none(), keys))
def test_batch_equals_one_shot_and_portable(items, key):
    result = blake3_many(items, key=key)
    assert result.shape == (len(items), 32)
    assert [bytes(r) for r in result] == [blake3(x, key=key) for x in items]
    assert np.array_equal(result, portable_many(items, key=key))
    assert np.array_equal(result, blake3_many(items, key=key, threads=1))


@given(st.integers(0, 40), st.integers(0, 1100), st.integers(0, 2**32 - 1), st.one_of(st.none(), keys))
def test_fixed_batch_simd_equals_portable(count, length, seed, key):
    rows = np.random.default_rng(seed).integers(0, 256, size=(count, length), dtype=np.uint8)
    simd = blake3_many(rows, key=key, threads=1)
    assert np.array_equal(simd, portable_many(rows, key=key, threads=1))
    if count:
        reference = blake3_ref.blake3(rows[-1].tobytes(), **({"key": key} if key else {}))
        assert bytes(simd[-1]) == reference.digest()
