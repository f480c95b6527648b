"""Fuzz targets for every entry point of the compiled module ledger_core._native.

Issue 12, "keep it found". The contract of every call, whatever it is given: the right
answer (checked against hashlib, the `blake3` package, libsodium through PyNaCl, or a
pure-Python reference written here), or an exception that is a ledger_core.LedgerError.
Never a crash, never an exception that is only a builtin, never a wrong answer. A
buffer that is not C-contiguous (reversed, every other byte, a Fortran-order array) is
refused with a LedgerError: the native layer must never read it as if it were.

Inputs are bytes, bytearrays, memoryviews and numpy arrays of several dtypes, shapes and
strides; offsets random, decreasing, past the end and huge; integers past the C types.
Bounded (FUZZ: a fixed number of examples per target, no deadline) so that the suite
stays fast; run.sh's sanitize stage runs this file under ASan + UBSan, where reading the
wrong memory aborts instead of returning a wrong digest. `HYPOTHESIS_PROFILE` does not
change these counts; set LEDGER_CORE_FUZZ_EXAMPLES for a longer local run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from typing import Callable, List, Optional, Sequence, Tuple

import blake3 as blake3_ref
from merkle_reference import (
    K_LEAF,
    K_NODE,
    ref_empty,
    ref_leaf,
    ref_node,
    ref_path,
    ref_root,
    ref_subproof,
    ref_verify_consistency,
    ref_verify_inclusion,
)
import nacl.bindings as sodium
import nacl.signing
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import ledger_core
from ledger_core import LedgerError, _native

EXAMPLES = int(os.environ.get("LEDGER_CORE_FUZZ_EXAMPLES", "150"))
# Shrinking a failure can take minutes per target; CI reports the first failing example
# as found. LEDGER_CORE_FUZZ_SHRINK=1 shrinks it (for a developer reading one failure).
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
if os.environ.get("LEDGER_CORE_FUZZ_SHRINK", "0") not in ("", "0"):
    _PHASES.append(Phase.shrink)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=_PHASES,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

U64 = 2**64
# Integers a C binding must turn into a LedgerError (or, where the verdict rule says so, a
# False), never an OverflowError, a pybind11 TypeError or a wrap-around.
OUT_OF_RANGE_INTS = [-1, -(2**63), 2**63, U64 - 1, U64, U64 + 1, 10**30]


# --- buffers --------------------------------------------------------------------------


def is_c_contiguous(obj: object) -> bool:
    """A buffer whose bytes are its items in order: the buffer protocol's rule, which
    ignores the stride of a dimension of length 0 or 1 (memoryview.c_contiguous does not:
    `memoryview(b"xx")[::2]` holds one byte, read correctly wherever the stride points)."""
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        return False
    if view.c_contiguous or view.nbytes == 0:
        return True
    expected = view.itemsize
    for dim, stride in reversed(list(zip(view.shape or (), view.strides or ()))):
        if dim > 1 and stride != expected:
            return False
        expected *= dim
    return True


def raw_bytes(obj: object) -> bytes:
    """The bytes a native function must read from a C-contiguous buffer, in memory order."""
    return memoryview(obj).tobytes()  # type: ignore[arg-type]


def must_accept(obj: object) -> bool:
    """A plain bytes-like: refusing it is a bug. Other C-contiguous buffers (other dtypes,
    2-D) may be read as their bytes or refused with a LedgerError."""
    if isinstance(obj, (bytes, bytearray)):
        return True
    if isinstance(obj, memoryview):
        return obj.c_contiguous and obj.format in ("B", "b", "c") and obj.ndim == 1
    if isinstance(obj, np.ndarray):
        return obj.dtype == np.uint8 and obj.ndim == 1 and obj.flags.c_contiguous
    return False


NON_BUFFERS = [None, "text", 7, 1.5, [1, 2, 3], (b"a", b"b"), object()]


@st.composite
def buffers(draw, min_size: int = 0, max_size: int = 300, content: Optional[bytes] = None) -> object:
    """A bytes-like, strided or not, in one of many forms; `content` fixes the logical bytes
    of the 1-D forms (the others only keep the length)."""
    data = content if content is not None else draw(st.binary(min_size=min_size, max_size=max_size))
    form = draw(
        st.sampled_from(
            [
                "bytes", "bytes", "bytearray", "memoryview", "uint8", "uint8", "readonly",
                "uint8_2d", "fortran", "reversed", "step2", "memoryview_step", "column",
                "uint32", "int16", "float64", "memoryview_cast", "non_buffer",
            ]
        )
    )
    n = len(data)
    if form == "bytes":
        return data
    if form == "bytearray":
        return bytearray(data)
    if form == "memoryview":
        return memoryview(data)
    if form == "uint8":
        return np.frombuffer(data, np.uint8).copy()
    if form == "readonly":
        return np.frombuffer(data, np.uint8)
    if form in ("uint8_2d", "fortran"):
        rows = draw(st.sampled_from([k for k in range(1, 9) if n % k == 0] or [1]))
        arr = np.frombuffer(data, np.uint8).reshape(rows, n // rows) if n else np.zeros((rows, 0), np.uint8)
        return arr.copy() if form == "uint8_2d" else np.asfortranarray(arr)
    if form == "reversed":
        return np.frombuffer(data, np.uint8).copy()[::-1]
    if form == "step2":  # (for one byte or none, a contiguous view of the same content)
        return np.frombuffer(data + data, np.uint8).copy()[::2]
    if form == "memoryview_step":
        return memoryview(data + data)[::2]
    if form == "column":
        arr = np.frombuffer(data + data, np.uint8).copy().reshape(2, n) if n else np.zeros((2, 0), np.uint8)
        return arr[:, : n // 2] if n > 1 else arr[:1]
    if form == "uint32":
        padded = data + bytes(-n % 4)
        return np.frombuffer(padded, "<u4").copy()
    if form == "int16":
        padded = data + bytes(-n % 2)
        return np.frombuffer(padded, "<i2").copy()
    if form == "float64":
        padded = data + bytes(-n % 8)
        return np.frombuffer(padded, "<f8").copy()
    if form == "memoryview_cast":
        padded = data + bytes(-n % 4)
        return memoryview(bytearray(padded)).cast("I")
    return draw(st.sampled_from(NON_BUFFERS))


def check_buffer_call(call: Callable[[object], object], obj: object, expected: Callable[[bytes], object]) -> None:
    """call(obj) returns expected(raw bytes of obj), or raises a LedgerError when obj is not
    a plain bytes-like; a non-contiguous obj (or a non-buffer) must be refused."""
    try:
        got = call(obj)
    except LedgerError:
        assert not must_accept(obj), f"refused a plain bytes-like: {type(obj).__name__} {obj!r:.80}"
        return
    assert is_c_contiguous(obj), f"accepted a non-contiguous or non-buffer {type(obj).__name__}: {obj!r:.120}"
    assert got == expected(raw_bytes(obj))


def refuses(call: Callable[[], object]) -> None:
    """call() must raise a LedgerError (any other exception propagates and fails)."""
    with pytest.raises(LedgerError):
        call()


# --- references -------------------------------------------------------------------------

SUITES = {"blake3": _native.MERKLE_SUITE_BLAKE3, "sha256": _native.MERKLE_SUITE_SHA256}
BAD_SUITES = [s for s in (-1, 2, 3, 99, 2**31, U64) if s not in SUITES.values()]


def _group_order() -> int:
    """L, from libsodium (L - 1 is the negation of 1): an independent source."""
    minus_one = sodium.crypto_core_ed25519_scalar_negate((1).to_bytes(32, "little"))
    return int.from_bytes(minus_one, "little") + 1


L = _group_order()


def reason(name: str) -> int:
    """A verification reason code by name, from the native table (one source). Until the
    bindings branch binds _native.ED25519_VERIFY_REASONS, today's facade constants."""
    table = getattr(_native, "ED25519_VERIFY_REASONS", None)
    if table is not None:
        return int(table[name])
    from ledger_core import ed25519

    reasons = getattr(ed25519, "Reason", None)
    return int(getattr(reasons, name)) if reasons is not None else int(getattr(ed25519, name))


# A few signers and honest signatures, made once with libsodium.
_SIGNERS = [nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(3)]


@st.composite
def signed_items(draw) -> Tuple[bytes, bytes, bytes, bool]:
    """(public key, message, signature, honest): an honest libsodium signature, or one
    with a bit flipped in the key, the message or the signature, or junk of random length."""
    kind = draw(st.sampled_from(["honest", "honest", "flip_key", "flip_msg", "flip_sig", "junk"]))
    if kind == "junk":
        return (
            draw(st.binary(min_size=0, max_size=40)),
            draw(st.binary(max_size=80)),
            draw(st.binary(min_size=0, max_size=72)),
            False,
        )
    signer = draw(st.sampled_from(_SIGNERS))
    msg = draw(st.binary(max_size=200))
    pk = bytes(signer.verify_key)
    sig = signer.sign(msg).signature
    if kind == "honest":
        return pk, msg, sig, True
    target = {"flip_key": pk, "flip_msg": msg, "flip_sig": sig}[kind]
    if not target:
        return pk, msg + b"\x00", sig, False
    pos = draw(st.integers(0, len(target) * 8 - 1))
    flipped = bytearray(target)
    flipped[pos // 8] ^= 1 << (pos % 8)
    pk, msg, sig = (bytes(flipped) if kind == "flip_key" else pk,
                    bytes(flipped) if kind == "flip_msg" else msg,
                    bytes(flipped) if kind == "flip_sig" else sig)
    return pk, msg, sig, False


def single_reason(pk: bytes, msg: bytes, sig: bytes) -> int:
    got = _native.ed25519_verify(pk, msg, sig)
    if len(pk) != 32 or len(sig) != 64:
        assert got == reason("BAD_LENGTH")
    return got


# --- one-shot hashes ------------------------------------------------------------------------

ONE_SHOT = {
    "sha256": lambda b: hashlib.sha256(b).digest(),
    "sha256_portable": lambda b: hashlib.sha256(b).digest(),
    "sha512": lambda b: hashlib.sha512(b).digest(),
}


@pytest.mark.parametrize("name", sorted(ONE_SHOT))
@FUZZ
@given(data=st.data())
def test_fuzz_one_shot_sha2(name, data):
    obj = data.draw(buffers(max_size=600))
    check_buffer_call(getattr(_native, name), obj, ONE_SHOT[name])


LENGTHS = st.one_of(st.integers(0, 200), st.sampled_from([-1, 2**63 - 1, 2**63, U64, U64 + 1, 10**30]))


@st.composite
def optional_keys(draw) -> object:
    if draw(st.booleans()):
        return None
    size = draw(st.sampled_from([32, 32, 32, 0, 31, 33, 64]))
    return draw(buffers(min_size=size, max_size=size))


@FUZZ
@given(data=st.data(), key=optional_keys(), length=LENGTHS)
def test_fuzz_blake3(data, key, length):
    obj = data.draw(buffers(max_size=2500))
    key_ok = key is None or (must_accept(key) and len(raw_bytes(key)) == 32)

    def reference(raw: bytes) -> bytes:
        if key is None:
            return blake3_ref.blake3(raw).digest(length)
        return blake3_ref.blake3(raw, key=raw_bytes(key)).digest(length)

    try:
        got = _native.blake3(obj, key=key, length=length)
    except LedgerError:
        assert not (must_accept(obj) and key_ok and 0 < length <= 200), "refused valid arguments"
        return
    assert is_c_contiguous(obj), "accepted a non-contiguous data buffer"
    assert key is None or (is_c_contiguous(key) and len(raw_bytes(key)) == 32), "accepted a bad key"
    assert 0 <= length <= 200, f"returned for length={length}"
    assert got == reference(raw_bytes(obj))


def _utf8(text: object) -> bool:
    """A str that UTF-8 can encode (no lone surrogates)."""
    if not isinstance(text, str):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


CONTEXTS = st.one_of(st.text(max_size=60), st.sampled_from(["\ud800", "a\udfffb", b"bytes", None, 5]))


@FUZZ
@given(data=st.data(), context=CONTEXTS, length=LENGTHS)
def test_fuzz_blake3_derive_key(data, context, length):
    material = data.draw(buffers(max_size=300))
    try:
        got = _native.blake3_derive_key(context, material, length=length)
    except LedgerError:
        assert not (_utf8(context) and must_accept(material) and 0 < length <= 200), "refused valid arguments"
        return
    assert _utf8(context), f"accepted the context {context!r}"
    assert is_c_contiguous(material) and 0 <= length <= 200
    assert got == blake3_ref.blake3(raw_bytes(material), derive_key_context=context).digest(length)


@FUZZ
@given(data=st.data(), start=st.sampled_from(["plain", "keyed", "derive"]), steps=st.integers(0, 6))
def test_fuzz_blake3_hasher(data, start, steps):
    if start == "plain":
        ours, ref = _native.Blake3Hasher(), blake3_ref.blake3()
    elif start == "keyed":
        key = data.draw(buffers(min_size=32, max_size=32))
        try:
            ours = _native.Blake3Hasher.keyed(key)
        except LedgerError:
            assert not must_accept(key)
            return
        assert is_c_contiguous(key) and len(raw_bytes(key)) == 32
        ref = blake3_ref.blake3(key=raw_bytes(key))
    else:
        context = data.draw(st.text(max_size=40))
        ours, ref = _native.Blake3Hasher.derive_key(context), blake3_ref.blake3(derive_key_context=context)
    for _ in range(steps):
        action = data.draw(st.sampled_from(["update", "update", "copy", "finalize"]))
        if action == "update":
            obj = data.draw(buffers(max_size=3000))
            try:
                ours.update(obj)
            except LedgerError:
                assert not must_accept(obj)
                continue
            assert is_c_contiguous(obj), "update accepted a non-contiguous buffer"
            ref.update(raw_bytes(obj))
        elif action == "copy":
            ours, ref = ours.copy(), ref.copy()
        else:
            length = data.draw(st.integers(0, 150))
            assert ours.finalize(length) == ref.digest(length)
    assert ours.finalize() == ref.digest()


# --- batched hashes ------------------------------------------------------------------------


@st.composite
def row_arrays(draw, width: Optional[int] = None) -> object:
    """(N, k) rows: uint8 C-contiguous (must be accepted), or Fortran, strided, other
    dtypes, other ranks, non-arrays."""
    count = draw(st.integers(0, 20))
    k = width if width is not None else draw(st.integers(0, 130))
    rows = np.frombuffer(draw(st.binary(min_size=count * k, max_size=count * k)), np.uint8).reshape(count, k).copy()
    form = draw(st.sampled_from(["c", "c", "c", "fortran", "every_other_row", "reversed_rows",
                                 "column_slice", "int8", "uint16", "1d", "3d", "list", "S"]))
    if form == "c":
        return rows
    if form == "fortran":
        return np.asfortranarray(rows)
    if form == "every_other_row":
        return np.repeat(rows, 2, axis=0)[::2]
    if form == "reversed_rows":
        return rows[::-1].copy()[::-1]
    if form == "column_slice":
        wide = np.zeros((count, k + 3), np.uint8)
        wide[:, :k] = rows
        return wide[:, :k]
    if form == "int8":
        return rows.view(np.int8)
    if form == "uint16":
        return np.zeros((count, k), np.uint16)
    if form == "1d":
        return rows.reshape(-1)
    if form == "3d":
        return rows.reshape(count, 1, k)
    if form == "S":
        return np.array([bytes(r) for r in rows], dtype=f"S{max(k, 1)}")
    return [bytes(r) for r in rows]


def rows_must_be_accepted(rows: object) -> bool:
    return isinstance(rows, np.ndarray) and rows.dtype == np.uint8 and rows.ndim == 2 and rows.flags.c_contiguous


def check_rows_call(call: Callable[[object], object], rows: object, per_row: Callable[[bytes], bytes], digest_len: int) -> None:
    try:
        got = call(rows)
    except LedgerError:
        assert not rows_must_be_accepted(rows), "refused C-contiguous uint8 rows"
        return
    assert isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.flags.c_contiguous, (
        f"accepted rows that are not C-contiguous 2-D: {type(rows).__name__} "
        f"{getattr(rows, 'shape', None)} {getattr(rows, 'strides', None)}"
    )
    raw = [np.ascontiguousarray(r).tobytes() for r in rows]
    expected = np.array([np.frombuffer(per_row(r), np.uint8) for r in raw], np.uint8).reshape(-1, digest_len)
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8 and got.shape == (rows.shape[0], digest_len)
    assert np.array_equal(got, expected)


THREADS = st.sampled_from([1, 2, 3, 8])


@FUZZ
@given(rows=row_arrays(), threads=THREADS)
def test_fuzz_sha256_many_fixed(rows, threads):
    check_rows_call(lambda r: _native.sha256_many_fixed(r, threads=threads), rows,
                    lambda b: hashlib.sha256(b).digest(), 32)


@FUZZ
@given(rows=row_arrays(), key=optional_keys(), threads=THREADS)
def test_fuzz_blake3_many_fixed(rows, key, threads):
    try:
        got = _native.blake3_many_fixed(rows, key=key, threads=threads)
    except LedgerError:
        key_ok = key is None or (must_accept(key) and len(raw_bytes(key)) == 32)
        assert not (rows_must_be_accepted(rows) and key_ok), "refused valid rows and key"
        return
    assert key is None or (is_c_contiguous(key) and len(raw_bytes(key)) == 32), "accepted a bad key"
    kb = None if key is None else raw_bytes(key)
    check_rows_call(lambda r: got, rows,
                    lambda b: (blake3_ref.blake3(b) if kb is None else blake3_ref.blake3(b, key=kb)).digest(), 32)


@st.composite
def packed_items(draw) -> Tuple[object, object, Optional[List[bytes]]]:
    """(buffer, offsets, items): items is None when the offsets are invalid (decreasing,
    past the end, negative, not 1-D, none at all) or the buffer is not C-contiguous."""
    data = draw(st.binary(max_size=400))
    count = draw(st.integers(0, 12))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), min_size=count + 1, max_size=count + 1)))
    items: Optional[List[bytes]] = [data[cuts[i]:cuts[i + 1]] for i in range(count)]
    offsets: object = np.array(cuts, np.uint64)
    mutation = draw(st.sampled_from(["none", "none", "none", "decreasing", "past_end", "huge", "empty",
                                     "int64", "negative", "float", "2d", "strided", "list", "wrapping"]))
    if mutation == "decreasing" and count >= 1 and cuts[0] != cuts[-1]:
        offsets = np.array(cuts[::-1], np.uint64)
        items = None
    elif mutation == "past_end":
        bad = list(cuts)
        # past the padded end too: the uint32/int16/float64 forms pad data to their item size
        bad[draw(st.integers(0, count))] = len(data) + draw(st.integers(8, 2**20))
        offsets = np.array(sorted(bad), np.uint64)
        items = None
    elif mutation == "huge":
        bad = list(cuts)
        bad[-1] = draw(st.sampled_from([2**63, U64 - 1, U64 - 32, 2**32 + cuts[-1]]))
        offsets = np.array(bad, np.uint64)
        items = None
    elif mutation == "wrapping" and count >= 1:
        # item 0 would be [offsets[0], offsets[0] + 2**64 - ...): wraps around in 64 bits
        offsets = np.array([U64 - 1] + [0] * count, np.uint64)
        items = None
    elif mutation == "empty":
        offsets = np.zeros(0, np.uint64)
        items = None
    elif mutation == "int64":
        offsets = np.array(cuts, np.int64)
    elif mutation == "negative" and count >= 1:
        offsets = np.array([-1] + cuts[1:], np.int64)
        items = None
    elif mutation == "float":
        offsets = np.array(cuts, np.float64)
    elif mutation == "2d":
        offsets = np.array(cuts, np.uint64).reshape(1, -1)
        items = None
    elif mutation == "strided":
        offsets = np.repeat(np.array(cuts, np.uint64), 2)[::2]
    elif mutation == "list":
        offsets = list(cuts)
    buffer = draw(buffers(content=data))
    if not is_c_contiguous(buffer):
        items = None
    return buffer, offsets, items


def check_packed_call(call: Callable[[object, object], object], buffer: object, offsets: object,
                      items: Optional[List[bytes]], expected: Callable[[List[bytes]], object],
                      equal: Callable[[object, object], bool]) -> None:
    """Valid buffer + offsets (uint64, 1-D; other integer dtypes may be refused) give the
    right answer; anything else raises a LedgerError."""
    try:
        got = call(buffer, offsets)
    except LedgerError:
        valid_exactly = (items is not None and must_accept(buffer) and isinstance(offsets, np.ndarray)
                         and offsets.dtype == np.uint64 and offsets.flags.c_contiguous)
        assert not valid_exactly, "refused a valid buffer with valid uint64 offsets"
        return
    assert items is not None, f"accepted invalid input: buffer {type(buffer).__name__}, offsets {offsets!r:.120}"
    # (a C-contiguous buffer of another dtype or shape holds the same bytes as `items` index)
    assert equal(got, expected(items))


def digests(fn: Callable[[bytes], bytes]) -> Callable[[List[bytes]], np.ndarray]:
    return lambda items: np.array([np.frombuffer(fn(b), np.uint8) for b in items], np.uint8).reshape(-1, 32)


@FUZZ
@given(case=packed_items(), key=st.one_of(st.none(), st.binary(min_size=32, max_size=32)), threads=THREADS)
def test_fuzz_blake3_many_var(case, key, threads):
    buffer, offsets, items = case
    ref = (lambda b: blake3_ref.blake3(b).digest()) if key is None else (lambda b: blake3_ref.blake3(b, key=key).digest())
    check_packed_call(lambda b, o: _native.blake3_many_var(b, o, key=key, threads=threads), buffer, offsets, items,
                      digests(ref), np.array_equal)


@st.composite
def part_items(draw) -> Tuple[list, Optional[List[bytes]]]:
    """Items for sha512_many_parts: bytes-likes or tuples of up to 3 parts; the joined
    messages when every item is valid."""
    out, joined = [], []
    valid = True
    for _ in range(draw(st.integers(0, 10))):
        nparts = draw(st.sampled_from([0, 1, 1, 2, 3, 3, 4]))
        if nparts == 0:
            part = draw(buffers(max_size=300))
            out.append(part)
            ok = must_accept(part)
            valid &= ok
            joined.append(raw_bytes(part) if ok else b"")
            continue
        parts = [draw(buffers(max_size=150)) for _ in range(nparts)]
        out.append(tuple(parts))
        ok = nparts <= 3 and all(must_accept(p) for p in parts)
        valid &= ok
        joined.append(b"".join(raw_bytes(p) for p in parts) if ok else b"")
    return out, (joined if valid else None)


@FUZZ
@given(case=part_items(), threads=THREADS)
def test_fuzz_sha512_many_parts(case, threads):
    items, joined = case
    try:
        got = _native.sha512_many_parts(items, threads=threads)
    except LedgerError:
        assert joined is None, "refused valid items"
        return
    # accepted: every part was a C-contiguous buffer and no item had more than 3 parts
    for item in items:
        parts = item if isinstance(item, tuple) else (item,)
        assert len(parts) <= 3 and all(is_c_contiguous(p) for p in parts), f"accepted a bad item {item!r:.120}"
    expected = [hashlib.sha512(b"".join(raw_bytes(p) for p in (i if isinstance(i, tuple) else (i,)))).digest()
                for i in items]
    assert got.shape == (len(items), 64)
    assert [bytes(r) for r in got] == expected


# --- Merkle --------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), suite=st.sampled_from(sorted(SUITES) + BAD_SUITES))
def test_fuzz_merkle_hashes(data, suite):
    obj = data.draw(buffers(max_size=2000))
    if suite not in SUITES:
        try:
            assert _native.merkle_suite_available(suite) is False
        except LedgerError:
            pass
        refuses(lambda: _native.merkle_leaf_hash(suite, b"x"))
        refuses(lambda: _native.merkle_node_hash(suite, bytes(32), bytes(32)))
        refuses(lambda: _native.merkle_empty_root(suite))
        return
    s = SUITES[suite]
    assert _native.merkle_suite_available(s) is True
    check_buffer_call(lambda b: _native.merkle_leaf_hash(s, b), obj, lambda raw: ref_leaf(suite, raw))
    assert _native.merkle_empty_root(s) == ref_empty(suite)
    left = data.draw(buffers(min_size=32, max_size=32))
    right = data.draw(buffers(min_size=0, max_size=40))
    try:
        got = _native.merkle_node_hash(s, left, right)
    except LedgerError:
        assert not (must_accept(left) and must_accept(right) and len(raw_bytes(right)) == 32)
        return
    assert is_c_contiguous(left) and is_c_contiguous(right), "merkle_node_hash accepted a non-contiguous buffer"
    assert len(raw_bytes(left)) == 32 and len(raw_bytes(right)) == 32, "merkle_node_hash accepted a wrong length"
    assert got == ref_node(suite, raw_bytes(left), raw_bytes(right))


def test_merkle_blake3_keys_are_the_format_keys():
    assert _native.merkle_blake3_keys() in (None, (K_LEAF, K_NODE))


def check_verdict(call: Callable[[], object], expected: bool, buffers_ok: bool) -> None:
    """A verifier answers expected (a bool), or raises a LedgerError when an argument is
    not a usable buffer; never any other exception."""
    try:
        got = call()
    except LedgerError:
        assert not buffers_ok, "a verifier raised for plain buffers (the verdict rule: answer False)"
        return
    assert got is expected or got == expected, f"verdict {got}, reference {expected}"


@st.composite
def tree_cases(draw):
    suite = draw(st.sampled_from(sorted(SUITES)))
    n = draw(st.integers(1, 40))
    leaves = [ref_leaf(suite, i.to_bytes(4, "little") + draw(st.binary(max_size=3))) for i in range(n)]
    return suite, leaves


def _mutate_hashes(draw, hashes: List[bytes]) -> List[bytes]:
    kind = draw(st.sampled_from(["none", "none", "flip", "drop", "extra", "short", "swap"]))
    out = list(hashes)
    if kind == "flip" and out:
        i = draw(st.integers(0, len(out) - 1))
        b = bytearray(out[i])
        b[draw(st.integers(0, 31))] ^= 1 << draw(st.integers(0, 7))
        out[i] = bytes(b)
    elif kind == "drop" and out:
        out.pop(draw(st.integers(0, len(out) - 1)))
    elif kind == "extra":
        out.insert(draw(st.integers(0, len(out))), draw(st.binary(min_size=32, max_size=32)))
    elif kind == "short" and out:
        i = draw(st.integers(0, len(out) - 1))
        out[i] = out[i][: draw(st.integers(0, 31))]
    elif kind == "swap" and len(out) > 1:
        out[0], out[-1] = out[-1], out[0]
    return out


SIZES = st.one_of(st.integers(0, 70), st.sampled_from(OUT_OF_RANGE_INTS))


@FUZZ
@given(case=tree_cases(), data=st.data())
def test_fuzz_merkle_verify_inclusion(case, data):
    suite, leaves = case
    n = len(leaves)
    m = data.draw(st.integers(0, n - 1))
    proof = _mutate_hashes(data.draw, ref_path(suite, m, leaves))
    index = data.draw(st.one_of(st.just(m), SIZES))
    size = data.draw(st.one_of(st.just(n), SIZES))
    leaf = data.draw(st.sampled_from([leaves[m], leaves[m][:31], leaves[m] + b"\x00", leaves[(m + 1) % n]]))
    root = data.draw(st.sampled_from([ref_root(suite, leaves), ref_root(suite, leaves)[:3], b"", bytes(32)]))
    joined = b"".join(proof)
    proof_obj = data.draw(buffers(content=joined))
    leaf_obj = data.draw(st.one_of(st.just(leaf), buffers(content=leaf)))
    in_range = all(0 <= v < U64 for v in (index, size))
    # The native verifier takes the proof joined: what it must answer is the verdict on
    # the joined bytes cut into hashes (False when they are not a whole number of hashes).
    hashes = [joined[i:i + 32] for i in range(0, len(joined), 32)]
    expected = in_range and len(joined) % 32 == 0 and ref_verify_inclusion(suite, index, size, leaf, hashes, root)
    ok_buffers = must_accept(proof_obj) and must_accept(leaf_obj)
    s = SUITES[suite]
    check_verdict(lambda: _native.merkle_verify_inclusion(s, leaf_obj, index, size, proof_obj, root),
                  expected, ok_buffers and in_range)
    if not is_c_contiguous(proof_obj) or not is_c_contiguous(leaf_obj):
        refuses(lambda: _native.merkle_verify_inclusion(s, leaf_obj, index, size, proof_obj, root))


@FUZZ
@given(case=tree_cases(), data=st.data())
def test_fuzz_merkle_verify_consistency(case, data):
    suite, leaves = case
    n = len(leaves)
    m = data.draw(st.integers(1, n))
    proof = _mutate_hashes(data.draw, ref_subproof(suite, m, leaves, True) if m < n else [])
    size1 = data.draw(st.one_of(st.just(m), SIZES))
    size2 = data.draw(st.one_of(st.just(n), SIZES))
    root1 = data.draw(st.sampled_from([ref_root(suite, leaves[:m]), ref_root(suite, leaves[:m])[:3], b"",
                                       ref_root(suite, leaves)]))
    root2 = data.draw(st.sampled_from([ref_root(suite, leaves), ref_root(suite, leaves)[:3], b"",
                                       ref_root(suite, leaves[:m])]))
    joined = b"".join(proof)
    proof_obj = data.draw(buffers(content=joined))
    in_range = all(0 <= v < U64 for v in (size1, size2))
    hashes = [joined[i:i + 32] for i in range(0, len(joined), 32)]
    expected = in_range and len(joined) % 32 == 0 and ref_verify_consistency(suite, size1, size2, hashes, root1, root2)
    s = SUITES[suite]
    check_verdict(lambda: _native.merkle_verify_consistency(s, size1, size2, root1, root2, proof_obj),
                  expected, must_accept(proof_obj) and in_range)
    if not is_c_contiguous(proof_obj):
        refuses(lambda: _native.merkle_verify_consistency(s, size1, size2, root1, root2, proof_obj))


TREE_OPS = st.lists(
    st.tuples(
        st.sampled_from(["append_one", "append_hashes", "append_fixed", "append_var", "root", "leaf_hash",
                         "inclusion_proof", "consistency_proof", "reserve", "memory_bytes"]),
        st.data(),
    ),
    max_size=12,
)


@FUZZ
@given(suite=st.sampled_from(sorted(SUITES)), lending=st.booleans(), ops=TREE_OPS, threads=THREADS)
def test_fuzz_merkle_tree(suite, lending, ops, threads):
    """Random operations on a native tree against a list of leaf hashes and the RFC 9162
    reference; out-of-range sizes and indices raise LedgerErrors, the tree unchanged."""
    tree = _native.MerkleTree(SUITES[suite], lending)
    model: List[bytes] = []
    index_like = lambda d, top: d.draw(st.one_of(st.integers(0, top), st.sampled_from(OUT_OF_RANGE_INTS)))  # noqa: E731
    for op, d in ops:
        n = len(model)
        if op == "append_one":
            obj = d.draw(buffers(max_size=200))
            try:
                first = tree.append_one(obj)
            except LedgerError:
                assert not must_accept(obj)
                continue
            assert is_c_contiguous(obj), "append_one accepted a non-contiguous buffer"
            assert first == n
            model.append(ref_leaf(suite, raw_bytes(obj)))
        elif op == "append_hashes":
            rows = d.draw(row_arrays(width=d.draw(st.sampled_from([32, 32, 31, 64]))))
            try:
                first = tree.append_hashes(rows, threads=threads)
            except LedgerError:
                assert not (rows_must_be_accepted(rows) and rows.shape[1] == 32)
                continue
            assert rows_must_be_accepted(rows) and rows.shape[1] == 32, f"append_hashes accepted {rows!r:.100}"
            assert first == n
            model.extend(bytes(r) for r in rows)
        elif op == "append_fixed":
            rows = d.draw(row_arrays())
            try:
                first = tree.append_fixed(rows, threads=threads)
            except LedgerError:
                assert not rows_must_be_accepted(rows)
                continue
            assert rows_must_be_accepted(rows), "append_fixed accepted rows that are not C-contiguous uint8 2-D"
            assert first == n
            model.extend(ref_leaf(suite, bytes(r)) for r in rows)
        elif op == "append_var":
            buffer, offsets, items = d.draw(packed_items())
            before = tree.size
            try:
                first = tree.append_var(buffer, offsets, threads=threads)
            except LedgerError:
                assert tree.size == before, "a refused append changed the tree"
                continue
            assert items is not None, f"append_var accepted {type(buffer).__name__} with offsets {offsets!r:.100}"
            assert first == n
            model.extend(ref_leaf(suite, b) for b in items)
        elif op == "root":
            size = index_like(d, n + 2)
            if 0 <= size <= n:
                assert tree.root(size) == ref_root(suite, model[:size])
            else:
                refuses(lambda: tree.root(size))
        elif op == "leaf_hash":
            index = index_like(d, n + 1)
            if 0 <= index < n:
                assert tree.leaf_hash(index) == model[index]
            else:
                refuses(lambda: tree.leaf_hash(index))
        elif op == "inclusion_proof":
            index, size = index_like(d, n + 1), index_like(d, n + 1)
            if 0 <= index < size <= n:
                assert tree.inclusion_proof(index, size) == ref_path(suite, index, model[:size])
            else:
                refuses(lambda: tree.inclusion_proof(index, size))
        elif op == "consistency_proof":
            size1, size2 = index_like(d, n + 1), index_like(d, n + 1)
            if 0 < size1 <= size2 <= n:
                assert tree.consistency_proof(size1, size2) == ref_subproof(suite, size1, model[:size2], True)
            else:
                refuses(lambda: tree.consistency_proof(size1, size2))
        elif op == "reserve":
            count = d.draw(st.sampled_from([0, 1, 100, 5000, 2**58, 2**62, U64 - 1, -1, U64]))
            try:
                tree.reserve(count)
            except LedgerError:
                assert count > 5000 or count < 0, f"reserve({count}) refused"
        else:
            assert isinstance(tree.memory_bytes(), int)
        assert tree.size == len(model)
    assert tree.root(len(model)) == ref_root(suite, model)


def test_fuzz_merkle_tree_refuses_unknown_suites():
    for suite in BAD_SUITES:
        refuses(lambda: _native.MerkleTree(suite, True))


# --- Ed25519 ---------------------------------------------------------------------------------

FIELD_PATHS = ["portable", "bmi2"]


@FUZZ
@given(item=signed_items(), data=st.data())
def test_fuzz_ed25519_verify(item, data):
    pk, msg, sig, honest = item
    got = single_reason(pk, msg, sig)
    assert (got == reason("OK")) == honest, f"reason {got} for a {'good' if honest else 'bad'} signature"
    if got == reason("OK"):
        nacl.signing.VerifyKey(pk).verify(msg, sig)  # libsodium agrees (raises otherwise)
    # The same in other forms: the same reason, or a LedgerError for a non-contiguous buffer.
    forms = [data.draw(buffers(content=pk)), data.draw(buffers(content=msg)), data.draw(buffers(content=sig))]
    try:
        again = _native.ed25519_verify(*forms)
    except LedgerError:
        assert not all(must_accept(f) for f in forms), "ed25519_verify refused plain buffers"
        return
    assert all(is_c_contiguous(f) for f in forms), "ed25519_verify accepted a non-contiguous buffer"
    assert again == (got if all(must_accept(f) for f in forms) else
                     _native.ed25519_verify(*(raw_bytes(f) for f in forms)))
    for path in FIELD_PATHS:
        on_path = _native._ed25519_verify_on_path(path, pk, msg, sig)
        assert on_path is None or on_path == got, f"path {path}: {on_path}, default path {got}"


@FUZZ
@given(path=st.one_of(st.sampled_from(FIELD_PATHS), st.text(max_size=10)), item=signed_items())
def test_fuzz_ed25519_verify_on_path_names(path, item):
    pk, msg, sig, _ = item
    try:
        got = _native._ed25519_verify_on_path(path, pk, msg, sig)
    except LedgerError:
        return
    assert got is None or got == _native.ed25519_verify(pk, msg, sig)


@st.composite
def batches(draw):
    """N (key, message, signature) items with 32-byte keys and 64-byte signatures (the batch
    arrays are rows; wrong widths come from _batch_forms)."""
    items = draw(st.lists(signed_items(), max_size=10))
    keep = [(pk, msg, sig) for pk, msg, sig, _ in items if len(pk) == 32 and len(sig) == 64]
    return keep


def _rows(values: List[bytes], width: int) -> np.ndarray:
    return np.array([np.frombuffer(v, np.uint8) for v in values], np.uint8).reshape(len(values), width)


def _batch_forms(draw, rows: np.ndarray) -> object:
    form = draw(st.sampled_from(["c", "c", "c", "fortran", "strided", "S", "int8", "wide", "list"]))
    if form == "c":
        return rows
    if form == "fortran":
        return np.asfortranarray(rows)
    if form == "strided":
        return np.repeat(rows, 2, axis=0)[::2]
    if form == "S":
        return np.array([bytes(r) for r in rows], dtype=f"S{rows.shape[1]}") if len(rows) else rows
    if form == "int8":
        return rows.view(np.int8)
    if form == "wide":
        return np.zeros((rows.shape[0], rows.shape[1] + 1), np.uint8)
    return [bytes(r) for r in rows]


MSM = st.one_of(st.sampled_from([0, 1, 2]), st.sampled_from([-1, 3, 2**31, U64]))


@FUZZ
@given(items=batches(), data=st.data(), threads=THREADS, msm=MSM)
def test_fuzz_ed25519_verify_batch(items, data, threads, msm):
    """The four batch entry points agree with single verification item by item, for every
    message layout, or raise a LedgerError for bad arrays, counts and msm values."""
    expected = np.array([_native.ed25519_verify(pk, msg, sig) for pk, msg, sig in items], np.uint8)
    pks, sigs = _rows([i[0] for i in items], 32), _rows([i[2] for i in items], 64)
    msgs = [i[1] for i in items]
    pk_arg, sig_arg = _batch_forms(data.draw, pks), _batch_forms(data.draw, sigs)
    arrays_ok = (rows_must_be_accepted(pk_arg) and rows_must_be_accepted(sig_arg)
                 and pk_arg.shape[1] == 32 and sig_arg.shape[1] == 64)  # type: ignore[union-attr]
    args_ok = arrays_ok and msm in (0, 1, 2)
    drop = data.draw(st.booleans()) and len(items) > 0  # a count mismatch: one message fewer
    if drop:
        msgs = msgs[:-1]

    def check(name: str, call: Callable[[], object]) -> None:
        try:
            got = call()
        except LedgerError:
            assert not (args_ok and not drop), f"{name} refused a valid batch"
            return
        assert not drop, f"{name} accepted {len(msgs)} messages for {len(items)} keys"
        assert arrays_ok, f"{name} accepted bad key/signature arrays"
        assert msm in (0, 1, 2), f"{name} accepted msm={msm}"
        if got is None:  # the list form declines non-bytes items; the path form an unavailable path
            return
        assert np.array_equal(np.asarray(got), expected), f"{name}: {list(np.asarray(got))} != {list(expected)}"

    buffer = b"".join(msgs)
    offsets = np.cumsum([0] + [len(m) for m in msgs], dtype=np.uint64)
    check("batch_var", lambda: _native.ed25519_verify_batch_var(pk_arg, buffer, offsets, sig_arg, threads=threads, msm=msm))
    check("batch_list", lambda: _native.ed25519_verify_batch_list(pk_arg, list(msgs), sig_arg, threads=threads, msm=msm))
    for path in FIELD_PATHS:
        check(f"batch_on_path({path})", lambda: _native._ed25519_verify_batch_on_path(
            path, pk_arg, buffer, offsets, sig_arg, threads, msm))
    lengths = {len(m) for m in msgs}
    if len(lengths) <= 1:
        width = lengths.pop() if lengths else 0
        rows = np.frombuffer(buffer, np.uint8).reshape(len(msgs), width) if msgs else np.zeros((0, 0), np.uint8)
        msg_arg = data.draw(st.sampled_from(["c", "fortran", "strided"]))
        msg_rows = {"c": rows, "fortran": np.asfortranarray(rows), "strided": np.repeat(rows, 2, axis=0)[::2]}[msg_arg]
        if not rows_must_be_accepted(msg_rows):
            args_ok = False
        check("batch_fixed", lambda: _native.ed25519_verify_batch_fixed(pk_arg, msg_rows, sig_arg, threads=threads, msm=msm))


@FUZZ
@given(case=packed_items(), threads=THREADS)
def test_fuzz_ed25519_verify_batch_var_offsets(case, threads):
    """Message offsets of every kind: valid ones give the single-verification reasons,
    anything else a LedgerError."""
    buffer, offsets, items = case
    count = max(0, (np.asarray(offsets).size if hasattr(offsets, "__len__") else 0) - 1)
    signer = _SIGNERS[0]
    pks = _rows([bytes(signer.verify_key)] * count, 32)
    sigs = _rows([signer.sign(b"%d" % i).signature for i in range(count)], 64)

    def expected(messages: List[bytes]) -> np.ndarray:
        return np.array([_native.ed25519_verify(bytes(signer.verify_key), m, bytes(sigs[i]))
                         for i, m in enumerate(messages)], np.uint8)

    check_packed_call(lambda b, o: _native.ed25519_verify_batch_var(pks, b, o, sigs, threads=threads),
                      buffer, offsets, items, expected, np.array_equal)


SCALAR_LIKE = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.integers(0, L - 1).map(lambda v: v.to_bytes(32, "little")),
    st.sampled_from([(L - 1).to_bytes(32, "little"), L.to_bytes(32, "little"), bytes(32), b"\xff" * 32]),
    st.binary(max_size=70),
    st.sampled_from([bytearray(32), memoryview(bytes(32)), None, "x" * 32, 0]),
)


def _int(b: object) -> int:
    return int.from_bytes(bytes(b), "little")  # type: ignore[arg-type]


def _scalar_ok(b: object) -> bool:
    return isinstance(b, bytes) and len(b) == 32 and _int(b) < L


@FUZZ
@given(data=st.one_of(st.binary(min_size=64, max_size=64), st.binary(max_size=80),
                      st.sampled_from([bytearray(64), memoryview(bytes(64)), None, "x" * 64])))
def test_fuzz_ed25519_scalar_reduce64(data):
    try:
        got = _native.ed25519_scalar_reduce64(data)
    except LedgerError:
        assert not (isinstance(data, bytes) and len(data) == 64)
        return
    assert len(bytes(data)) == 64, f"reduce64 accepted {len(bytes(data))} bytes"
    assert got == sodium.crypto_core_ed25519_scalar_reduce(bytes(data))
    assert _int(got) == _int(data) % L


@FUZZ
@given(data=SCALAR_LIKE)
def test_fuzz_ed25519_scalar_is_canonical(data):
    try:
        got = _native.ed25519_scalar_is_canonical(data)
    except LedgerError:
        assert not (isinstance(data, bytes) and len(data) == 32)
        return
    assert len(bytes(data)) == 32
    assert got == (_int(data) < L)


@FUZZ
@given(a=SCALAR_LIKE, b=SCALAR_LIKE, c=SCALAR_LIKE)
def test_fuzz_ed25519_scalar_muladd(a, b, c):
    try:
        got = _native.ed25519_scalar_muladd(a, b, c)
    except LedgerError:
        assert not (_scalar_ok(a) and _scalar_ok(b) and _scalar_ok(c)), "refused canonical scalars"
        return
    assert all(len(bytes(x)) == 32 for x in (a, b, c)), "muladd accepted a scalar that is not 32 bytes"
    assert _int(got) == (_int(a) * _int(b) + _int(c)) % L


_POINTS = [sodium.crypto_core_ed25519_from_uniform(bytes([i]) * 32) for i in range(1, 7)]


def _ref_msm(points: List[bytes], scalars: List[int], b: int) -> bytes:
    total = None
    terms = [(p, s) for p, s in zip(points, scalars) if s % L]
    if b % L:
        terms.append((None, b))
    for p, s in terms:
        sb = s.to_bytes(32, "little")
        term = (sodium.crypto_scalarmult_ed25519_base_noclamp(sb) if p is None
                else sodium.crypto_scalarmult_ed25519_noclamp(sb, p))
        total = term if total is None else sodium.crypto_core_ed25519_add(total, term)
    return total if total is not None else (1).to_bytes(32, "little")  # the identity


@FUZZ
@given(data=st.data(), msm=MSM, threads=st.sampled_from([1, 2]))
def test_fuzz_ed25519_msm(data, msm, threads):
    count = data.draw(st.integers(0, 6))
    points = [data.draw(st.sampled_from(_POINTS)) for _ in range(count)]
    scalars = [data.draw(st.one_of(st.integers(0, L - 1), st.sampled_from([0, 1, L - 1, L, 2**256 - 1]))) for _ in range(count)]
    b = data.draw(st.one_of(st.integers(0, L - 1), st.sampled_from([0, L])))
    bad_point = data.draw(st.booleans()) and count > 0
    if bad_point:  # a y >= p: not a strict encoding
        points[0] = b"\xff" * 31 + b"\x7f"
    pts = _rows(points, 32)
    scs = _rows([s.to_bytes(32, "little") for s in scalars], 32)
    valid = not bad_point and all(s < L for s in scalars) and b < L and msm in (0, 1, 2)
    try:
        got = _native.ed25519_msm(pts, scs, b.to_bytes(32, "little"), msm=msm, threads=threads)
    except LedgerError:
        assert not valid, "msm refused valid points and scalars"
        return
    assert valid, "msm accepted a bad point, scalar or method"
    assert got == _ref_msm(points, scalars, b)


def test_fuzz_process_facts():
    """The entry points without arguments answer with the right types, and the key cache
    clears without changing a verdict."""
    cpu = dict(_native.cpu_features())
    assert all(isinstance(cpu.pop(k), list) for k in ("disabled", "disable_unknown"))
    assert all(isinstance(v, bool) for v in cpu.values())
    assert set(_native.active_paths()) >= {"sha256", "sha512", "blake3", "ed25519"}
    assert _native.hardware_thread_count() >= 1
    assert isinstance(_native.ed25519_active_path(), str)
    assert _native._ed25519_core_selftest() == ""
    signer = _SIGNERS[1]
    sig = signer.sign(b"cache").signature
    pks, sigs = _rows([bytes(signer.verify_key)], 32), _rows([sig], 64)
    before = _native.ed25519_verify_batch_list(pks, [b"cache"], sigs)
    _native.ed25519_key_cache_clear()
    stats = _native.ed25519_key_cache_stats()
    assert stats["entries"] == 0 and stats["capacity"] >= 1
    assert np.array_equal(_native.ed25519_verify_batch_list(pks, [b"cache"], sigs), before)
    assert int(before[0]) == reason("OK")


# --- the ledger store (bind_store.cpp) ------------------------------------------------------

_PAYLOAD_KEY = blake3_ref.blake3(b"", derive_key_context="ledger_core 2026-11-27 invoice payload v1").digest()


@FUZZ
@given(data=st.data())
def test_fuzz_invoice_payload_hash(data):
    obj = data.draw(buffers(max_size=3000))
    check_buffer_call(_native.invoice_payload_hash, obj, lambda b: blake3_ref.blake3(b, key=_PAYLOAD_KEY).digest())


def _utf8_ok(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@FUZZ
@given(data=st.data(), issued=st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(OUT_OF_RANGE_INTS + [True, 1.5, None])))
def test_fuzz_invoice_envelope(data, issued):
    ident = data.draw(st.one_of(buffers(min_size=0, max_size=140), st.binary(min_size=1, max_size=130)))
    digest = data.draw(st.one_of(buffers(min_size=32, max_size=32), buffers(max_size=40)))
    try:
        got = _native.invoice_envelope(ident, issued, digest)
    except LedgerError:
        if must_accept(ident) and must_accept(digest) and len(raw_bytes(digest)) == 32 and isinstance(issued, int) \
                and not isinstance(issued, bool) and -(2**63) <= issued < 2**63:
            raw = raw_bytes(ident)
            assert not (1 <= len(raw) <= 128 and _utf8_ok(raw)), "refused a good envelope"
        return
    raw = raw_bytes(ident)
    assert 1 <= len(raw) <= 128 and _utf8_ok(raw)
    want = b"ledger_core/invoice/v1\x00" + len(raw).to_bytes(2, "big") + raw + \
        (issued % 2**64).to_bytes(8, "big") + raw_bytes(digest)
    assert got == want


@FUZZ
@given(code=st.one_of(st.integers(0, 4), st.sampled_from(OUT_OF_RANGE_INTS + [5, 255, None, "1"])))
def test_fuzz_ledger_field_rule(code):
    try:
        rule = _native.ledger_field_rule(code)
    except LedgerError:
        assert not (isinstance(code, int) and 0 <= code <= 4)
        return
    assert isinstance(rule, str) and rule
    assert _native.invoice_payload_key() == _PAYLOAD_KEY
    assert list(_native.LEDGER_FIELDS) == ["invoice_id", "issued_at", "seller_key", "signature", "payload"]


@st.composite
def ledger_columns(draw):
    """Columns for Store.append: mostly well-formed (signed or not), with junk mixed in."""
    n = draw(st.integers(0, 6))
    signer = _SIGNERS[draw(st.integers(0, 2))]
    ids, keys, sigs, payloads, issued = [], [], [], [], []
    for i in range(n):
        ident = draw(st.one_of(st.just(f"F-{i}-{draw(st.integers(0, 3))}"), st.text(max_size=130), st.binary(max_size=130)))
        payload = draw(st.binary(max_size=200))
        when = draw(st.integers(-(2**63), 2**63 - 1))
        raw_id = ident.encode("utf-8", "surrogatepass") if isinstance(ident, str) else ident
        sig = bytes(64)
        if 1 <= len(raw_id) <= 128 and _utf8_ok(raw_id):
            msg = _native.invoice_envelope(raw_id, when, blake3_ref.blake3(payload, key=_PAYLOAD_KEY).digest())
            sig = signer.sign(msg).signature
        ids.append(ident)
        keys.append(draw(st.sampled_from([bytes(signer.verify_key), bytes(signer.verify_key)[:31], bytes(32)])))
        sigs.append(draw(st.sampled_from([sig, sig, sig[:63], bytes(64)])))
        payloads.append(payload)
        issued.append(when)
    columns = [ids, np.array(issued, dtype=np.int64), keys, sigs, payloads]
    which = draw(st.integers(0, 9))
    if which < 5:  # one column replaced by junk
        columns[which] = draw(st.sampled_from(NON_BUFFERS + [np.zeros((n, 3), np.int32), [None] * n, list(range(n))]))
    return columns


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    store = _native.Store(str(tmp_path_factory.mktemp("fuzz") / "ledger"), True, False, None, 0, 1)
    yield store
    store.close()


@FUZZ
@given(columns=ledger_columns(), verify=st.booleans(), skip=st.booleans(),
       threads=st.sampled_from([None, 0, 1, 2, -1, 5000, "2"]),
       progress=st.sampled_from([None, None, ("file:/a", '{"records": 1}'), ("", "v"), ("x" * 600, "v"), "k", ("k",),
                                 ("k", b"v"), ("\ud800", "v")]))
def test_fuzz_store_append(fuzz_store, columns, verify, skip, threads, progress):
    _fuzz_append(fuzz_store, lambda: fuzz_store.append(*columns, None, verify, skip, threads, progress), skip, progress)


@FUZZ
@given(columns=ledger_columns(), verify=st.booleans(), skip=st.booleans(), threads=st.sampled_from([None, 1, -1, "2"]),
       progress=st.sampled_from([None, ("file:/b", '{"records": 2}'), ("", "v"), ("k",)]), twice=st.booleans())
def test_fuzz_store_prepare_and_append_prepared(fuzz_store, columns, verify, skip, threads, progress, twice):
    def run():
        prepared = fuzz_store.prepare(*columns, None, verify, threads)
        assert prepared.count == len(columns[1])
        out = fuzz_store.append_prepared(prepared, skip, progress)
        if twice and (skip or not out[4].any()):
            # The same prepared batch again: each item is now a duplicate, or as bad as before.
            again = fuzz_store.append_prepared(prepared, True, None)
            assert again[1] == 0 and again[0] == again[2] == out[2]
        return out

    _fuzz_append(fuzz_store, run, skip, progress)


@FUZZ
@given(columns=ledger_columns(), verify=st.booleans(), threads=st.sampled_from([None, 1, -1, "2"]),
       suite=st.sampled_from([1, 2, 0, 9, None, "1"]))
def test_fuzz_invoice_check(fuzz_store, columns, verify, threads, suite):
    """check_batch's native call against the store's own verdicts on the same columns."""
    try:
        reasons, details, hashes, leaves = _native.invoice_check(*columns, None, verify, threads, suite)
    except LedgerError:
        return
    n = len(columns[1])
    assert reasons.shape == (n,) and hashes.shape == (n, 32) and leaves.shape == (n, 32)
    if suite != fuzz_store.suite or not n:
        return
    prepared = fuzz_store.prepare(*columns, None, verify, threads)
    size = fuzz_store.size()
    _, appended, _, _, store_reasons, _ = fuzz_store.append_prepared(prepared, True, None)
    dup = (store_reasons == 16) | (store_reasons == 17)  # duplicates: the store's own finding
    assert (store_reasons[~dup] == reasons[~dup]).all()
    for k, i in enumerate(np.flatnonzero(store_reasons == 0)):
        assert fuzz_store.leaf_hash(size + k) == bytes(leaves[i])


def _fuzz_append(fuzz_store, call, skip, progress):
    size, root = fuzz_store.size(), fuzz_store.root(fuzz_store.size())
    try:
        first, appended, new_size, new_root, reasons, details = call()
    except LedgerError:
        assert (fuzz_store.size(), fuzz_store.root(fuzz_store.size())) == (size, root)
        return
    assert first == size and new_size == size + appended
    assert appended == int((reasons == 0).sum()) or (not skip and appended == 0)
    if appended == 0:
        assert new_root == root
    if progress is not None and (skip or not reasons.any()):
        assert fuzz_store.import_progress(progress[0]) == progress[1]
    for seq in range(first, new_size):
        ids, issued, keys, sigs, payloads = fuzz_store.get_many(np.array([seq], dtype=np.uint64))
        assert len(ids) == 1


@FUZZ
@given(seq=st.one_of(st.integers(0, 50), st.sampled_from(OUT_OF_RANGE_INTS + [None, "0", 1.0])),
       key=st.one_of(buffers(min_size=32, max_size=32), buffers(max_size=40)), ident=buffers(max_size=140))
def test_fuzz_store_reads(fuzz_store, seq, key, ident):
    snap = fuzz_store.snapshot()
    try:
        for reader in (fuzz_store, snap):
            for call in (lambda: reader.root(seq), lambda: reader.leaf_hash(seq),
                         lambda: reader.inclusion_proof(seq, reader.size()),
                         lambda: reader.consistency_proof(seq, reader.size()),
                         lambda: reader.get_range(0, seq), lambda: reader.find(key, ident), lambda: reader.by_seller(key),
                         lambda: reader.get_many(np.array([seq], dtype=np.uint64) if isinstance(seq, int) and 0 <= seq < U64 else seq)):
                try:
                    call()
                except LedgerError:
                    pass
    finally:
        snap.close()
    with pytest.raises(LedgerError):
        snap.size()
    assert fuzz_store.populate() >= 4096
    size, root, records, problems, count = fuzz_store.audit(None, 1000)
    # verify=False appends what it is given: bad signatures are the audit's only finding.
    assert [p for p in problems if "appended unverified" not in p[2]] == [], problems


# Every name the compiled module binds has a fuzz target above (or is a constant): a new
# entry point must get one here. Kept as data so that the gap is named when it fails.
COVERED = {
    "cpu_features", "active_paths", "hardware_thread_count",
    "sha256", "sha256_portable", "sha512", "sha512_many_parts", "sha256_many_fixed",
    "blake3", "blake3_derive_key", "blake3_many_fixed", "blake3_many_var", "Blake3Hasher",
    "merkle_suite_available", "merkle_leaf_hash", "merkle_node_hash", "merkle_empty_root",
    "merkle_blake3_keys", "merkle_verify_inclusion", "merkle_verify_consistency", "MerkleTree",
    "ed25519_verify", "ed25519_active_path", "_ed25519_core_selftest", "_ed25519_verify_on_path",
    "_ed25519_verify_batch_on_path", "ed25519_verify_batch_fixed", "ed25519_verify_batch_var",
    "ed25519_verify_batch_list", "ed25519_key_cache_stats", "ed25519_key_cache_clear",
    "ed25519_scalar_reduce64", "ed25519_scalar_is_canonical", "ed25519_scalar_muladd", "ed25519_msm",
    "invoice_payload_hash", "invoice_envelope", "invoice_payload_key", "ledger_field_rule", "Store", "Snapshot",
    "Prepared", "invoice_check",
}


def test_every_native_entry_point_has_a_fuzz_target():
    callables = {n for n in dir(_native) if not n.startswith("__") and callable(getattr(_native, n))}
    assert sorted(callables - COVERED) == [], "native entry points without a fuzz target in this file"


# --- issue 12 item 4: the native layer ignored strides ------------------------------------------
# Run in a child process: today's bug reads past the buffer, which ASan aborts on and an
# unsanitized build may crash on; either way it must be this test that fails, not the run.

STRIDE_REPRODUCERS = {
    "sha256_of_a_reversed_array": "_native.sha256(np.arange(65536, dtype=np.uint8)[::-1])",
    "blake3_of_a_reversed_array": "_native.blake3(np.arange(65536, dtype=np.uint8)[::-1])",
    "merkle_leaf_hash_of_a_reversed_array":
        "_native.merkle_leaf_hash(_native.MERKLE_SUITE_BLAKE3, np.arange(65536, dtype=np.uint8)[::-1])",
    # the message is b"m0" read with a stride of 2; signed as such, so that reading b"mm"
    # (the first two bytes in memory) gives a wrong verdict instead of a wrong digest
    "ed25519_verify_of_a_strided_memoryview":
        "_native.ed25519_verify(bytes(KEY.verify_key), memoryview(b'mm00')[::2], KEY.sign(b'm0').signature)",
}


@pytest.mark.parametrize("name", sorted(STRIDE_REPRODUCERS))
def test_native_refuses_non_contiguous_buffer_instead_of_reading_past_it(name):
    code = textwrap.dedent(
        f"""
        import nacl.signing
        import numpy as np
        from ledger_core import _native
        KEY = nacl.signing.SigningKey(bytes(range(32)))
        from ledger_core.errors import InvalidArgumentError
        try:
            result = {STRIDE_REPRODUCERS[name]}
        except InvalidArgumentError as exc:
            print("refused:", exc)
        else:
            raise SystemExit("returned " + repr(result) + " instead of raising InvalidArgumentError")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert done.returncode == 0, f"{name}: exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    assert "refused:" in done.stdout


def test_reproducers_import_this_checkout():
    """The child processes above import the same ledger_core as this process."""
    done = subprocess.run([sys.executable, "-c", "import ledger_core; print(ledger_core.__file__)"],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert os.path.realpath(done.stdout.strip()) == os.path.realpath(ledger_core.__file__)
