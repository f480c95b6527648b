"""Ed25519 batch verification: same verdict as single verification for every item.

Mixes of honest, forged, small-order, mixed-order and non-canonical items at the sizes
where the MSM or the chunking changes behaviour, with repeated keys and with 1 or all
threads; then the argument forms and their errors.
"""

from __future__ import annotations

import random
from typing import List, Tuple

import numpy as np
import pytest

from ledger_core import MAX_THREADS, InvalidArgumentError, InvalidTypeError, OutOfRangeError, Packed, _native, ed25519
from ledger_core.ed25519 import Reason
from test_ed25519 import (
    B,
    L,
    MINUS_ZERO,
    NON_CANONICAL_Y,
    TORSION,
    Signer,
    h_scalar,
    pt_add,
    pt_encode,
    pt_mul,
    sign_raw,
)

Case = Tuple[bytes, bytes, bytes]


def edge_cases() -> List[Case]:
    """One or more items of every kind the policy distinguishes (built once, slow)."""
    cases: List[Case] = []
    signers = [Signer.new(100 + i) for i in range(3)]
    for j, s in enumerate(signers):
        msg = b"edge %d" % j
        cases.append((s.pk, msg, sign_raw(s.a, s.pk, msg, 1000 + j)))  # honest
        cases.append((s.pk, msg + b"x", sign_raw(s.a, s.pk, msg, 1000 + j)))  # forged msg
        sig = sign_raw(s.a, s.pk, msg, 2000 + j, TORSION[j + 1])
        cases.append((s.pk, msg, sig))  # R with torsion: cofactored ok
        cases.append((s.pk, msg, sign_raw(s.a, s.pk, msg, 0, TORSION[j + 4])))  # small-order R
        mixed = pt_encode(pt_add(pt_mul(s.a, B), TORSION[2 * j + 1]))
        cases.append((mixed, msg, sign_raw(s.a, mixed, msg, 3000 + j)))  # mixed-order key
        cases.append((mixed, msg + b"!", sign_raw(s.a, mixed, msg, 3000 + j)))  # ... forged
        honest = sign_raw(s.a, s.pk, msg, 4000 + j)
        for bad_s in (L, L + 1, 2**256 - 1):
            cases.append((s.pk, msg, honest[:32] + bad_s.to_bytes(32, "little")))
        cases.append((s.pk, msg, honest[:32] + (L - 1).to_bytes(32, "little")))  # wrong S
    for t in TORSION:
        cases.append((pt_encode(t), b"small", pt_encode(pt_mul(5, B)) + (5).to_bytes(32, "little")))
    for enc in NON_CANONICAL_Y[::4] + MINUS_ZERO:
        s = signers[0]
        sig = sign_raw(s.a, s.pk, b"nc", 77)
        cases.append((enc, b"nc", sig))  # non-canonical A
        k = h_scalar(enc, s.pk, b"nc")
        cases.append((s.pk, b"nc", enc + (k * s.a % L).to_bytes(32, "little")))  # non-canonical R
    return cases


EDGE = edge_cases()
EDGE_REASONS = [ed25519.verify_detailed(*c) for c in EDGE]


def test_edge_pool_covers_every_reason():
    assert set(EDGE_REASONS) == set(Reason) - {Reason.BAD_LENGTH}


def honest_pool(signers: int, count: int, seed: int) -> List[Case]:
    rng = random.Random(seed)
    keys = [ed25519.SigningKey.from_seed(rng.randbytes(32)) for _ in range(signers)]
    out = []
    for i in range(count):
        # Zipf-like: a few signers carry most items.
        key = keys[min(int(rng.paretovariate(1.2)) - 1, signers - 1)]
        msg = rng.randbytes(rng.randrange(0, 200))
        out.append((key.public_key, msg, key.sign(msg)))
    return out


HONEST = honest_pool(40, 5000, 1)


def mix(size: int, seed: int, bad_fraction: float) -> Tuple[List[Case], List[int]]:
    rng = random.Random(seed)
    cases, reasons = [], []
    for i in range(size):
        r = rng.random()
        if r < bad_fraction:
            j = rng.randrange(len(EDGE))
            cases.append(EDGE[j])
            reasons.append(EDGE_REASONS[j])
        elif r < bad_fraction * 1.3:
            pk, msg, sig = HONEST[rng.randrange(len(HONEST))]
            pos = rng.randrange(64)
            sig = sig[:pos] + bytes([sig[pos] ^ (1 << rng.randrange(8))]) + sig[pos + 1 :]
            cases.append((pk, msg, sig))
            reasons.append(-1)  # whatever single verification says
        else:
            cases.append(HONEST[(i * 7919 + seed) % len(HONEST)])
            reasons.append(Reason.OK)
    return cases, reasons


def columns(cases: List[Case]):
    pks = np.frombuffer(b"".join(c[0] for c in cases), np.uint8).reshape(-1, 32)
    sigs = np.frombuffer(b"".join(c[2] for c in cases), np.uint8).reshape(-1, 64)
    return pks, [c[1] for c in cases], sigs


@pytest.mark.parametrize("size", [0, 1, 2, 63, 64, 65, 255, 1000, 5000])
def test_batch_equals_single_on_mixes(size):
    cases, known = mix(size, size, 0.1 if size < 1000 else 0.01)
    single = np.array([ed25519.verify_detailed(*c) for c in cases], np.uint8)
    for s, k in zip(single, known):
        assert k == -1 or s == k
    pks, msgs, sigs = columns(cases)
    for threads in (1, None):
        got = ed25519.verify_batch_detailed(pks, msgs, sigs, threads=threads)
        assert got.shape == (size,) and got.dtype == np.uint8
        assert (got == single).all(), np.nonzero(got != single)
        assert (ed25519.verify_batch(pks, msgs, sigs, threads=threads) == (single == 0)).all()


@pytest.mark.parametrize("size", [64, 1000])
def test_all_honest_and_all_bad(size):
    cases = HONEST[:size]
    pks, msgs, sigs = columns(cases)
    assert ed25519.verify_batch(pks, msgs, sigs).all()
    forged = [(pk, msg + b"\x01", sig) for pk, msg, sig in cases]
    pks, msgs, sigs = columns(forged)
    got = ed25519.verify_batch_detailed(pks, msgs, sigs, threads=1)
    assert (got == Reason.EQUATION_FAILED).all()


def test_one_key_repeated_everywhere():
    key = ed25519.SigningKey.from_seed(bytes([9]) * 32)
    msgs = [b"invoice %d" % i for i in range(700)]
    sigs = [key.sign(m) for m in msgs]
    bad = {3, 350, 699}
    for i in bad:
        msgs[i] += b"tampered"
    got = ed25519.verify_batch_detailed([key.public_key] * 700, msgs, sigs)
    assert set(np.nonzero(got)[0]) == bad


def test_each_msm_method_gives_the_same_verdicts():
    cases, _ = mix(300, 3, 0.05)
    pks, msgs, sigs = columns(cases)
    single = np.array([ed25519.verify_detailed(*c) for c in cases], np.uint8)
    for method in (ed25519._MSM_STRAUS, ed25519._MSM_PIPPENGER):
        got = ed25519._batch_reasons(pks, msgs, sigs, 1, method)
        assert (got == single).all()


def test_message_forms_agree():
    cases, _ = mix(120, 5, 0.1)
    pks, msgs, sigs = columns(cases)
    expected = ed25519.verify_batch_detailed(pks, msgs, sigs)
    offsets = np.zeros(len(msgs) + 1, np.uint64)
    offsets[1:] = np.cumsum([len(m) for m in msgs])
    buf = b"".join(msgs)
    assert (ed25519.verify_batch_detailed(pks, Packed(buf, offsets), sigs) == expected).all()
    assert (ed25519.verify_batch_detailed(list(pks.tobytes()[i * 32 : i * 32 + 32] for i in range(120)),
                                          Packed(np.frombuffer(buf, np.uint8), list(map(int, offsets))),
                                          [bytes(s) for s in sigs]) == expected).all()
    pa = pytest.importorskip("pyarrow")
    assert (ed25519.verify_batch_detailed(pa.array([bytes(k) for k in pks], pa.binary(32)), pa.array(msgs),
                                          pa.array([bytes(s) for s in sigs], pa.binary(64))) == expected).all()
    assert (ed25519.verify_batch_detailed(pks[7:], pa.array(msgs, pa.large_binary())[7:], sigs[7:])
            == expected[7:]).all()
    # Fixed-width messages as an (N, k) array.
    key = ed25519.SigningKey.from_seed(bytes(32))
    rows = np.arange(50 * 16, dtype=np.uint32).astype(np.uint8).reshape(50, 16)
    fsigs = np.frombuffer(b"".join(key.sign(r.tobytes()) for r in rows), np.uint8).reshape(50, 64)
    fpks = np.tile(np.frombuffer(key.public_key, np.uint8), (50, 1))
    assert ed25519.verify_batch(fpks, rows, fsigs).all()
    rows2 = rows.copy()
    rows2[10, 3] ^= 1
    assert list(np.nonzero(~ed25519.verify_batch(fpks, rows2, fsigs))[0]) == [10]


def test_shape_and_count_errors_name_the_argument():
    pks, msgs, sigs = columns(HONEST[:4])
    with pytest.raises(InvalidArgumentError, match="signatures"):
        ed25519.verify_batch(pks, msgs, sigs[:3])
    with pytest.raises(InvalidArgumentError, match="messages"):
        ed25519.verify_batch(pks, msgs[:3], sigs)
    with pytest.raises(InvalidArgumentError, match="public_keys"):
        ed25519.verify_batch(np.zeros((4, 31), np.uint8), msgs, sigs)
    with pytest.raises(InvalidArgumentError, match="signatures"):
        ed25519.verify_batch(pks, msgs, np.zeros((4, 63), np.uint8))
    with pytest.raises(OutOfRangeError, match="offsets"):
        ed25519.verify_batch(pks, Packed(b"abc", np.array([0, 1, 2, 3, 9], np.uint64)), sigs)
    with pytest.raises(InvalidArgumentError, match="messages"):
        ed25519.verify_batch(pks, np.zeros((4,), np.uint8), sigs)
    with pytest.raises(InvalidArgumentError, match="threads"):
        ed25519.verify_batch(pks, msgs, sigs, threads=0)
    with pytest.raises(InvalidTypeError, match="messages"):
        ed25519.verify_batch(pks, b"one message", sigs)
    with pytest.raises(InvalidTypeError, match="public_keys"):
        ed25519.verify_batch(None, msgs, sigs)
    with pytest.raises(InvalidTypeError, match="signatures"):
        ed25519.verify_batch(pks, msgs, None)
    with pytest.raises(TypeError):
        ed25519.verify_batch(pks, msgs, sigs, 1)  # type: ignore[misc]  # threads is keyword-only


def test_wrong_length_key_or_signature_in_a_sequence_is_bad_length_not_an_error():
    # The verdict rule: bad content gives a verdict (BAD_LENGTH, as verify_detailed says).
    pks, msgs, sigs = columns(HONEST[:4])
    sig_list = [bytes(s) for s in sigs]
    sig_list[1] = sig_list[1][:63]
    pk_list = [bytes(k) for k in pks]
    pk_list[3] = pk_list[3] + b"\x00"
    reasons = ed25519.verify_batch_detailed(pk_list, msgs, sig_list)
    assert reasons.tolist() == [Reason.OK, Reason.BAD_LENGTH, Reason.OK, Reason.BAD_LENGTH]
    assert reasons.tolist() == [ed25519.verify_detailed(*c) for c in zip(pk_list, msgs, sig_list)]
    assert ed25519.verify_batch(pks, msgs, [bytes(64), bytes(63), b"", bytes(65)]).tolist() == [False] * 4


def test_empty_batch():
    got = ed25519.verify_batch_detailed(np.zeros((0, 32), np.uint8), [], np.zeros((0, 64), np.uint8))
    assert got.shape == (0,) and got.dtype == np.uint8
    assert ed25519.verify_batch([], [], []).shape == (0,)


def test_key_cache_bounded_and_consistent():
    ed25519.clear_key_cache()
    stats = ed25519.key_cache_stats()
    assert stats["entries"] == 0 and stats["hits"] == 0 and stats["capacity"] >= 1024
    cases = HONEST[:500]
    pks, msgs, sigs = columns(cases)
    assert ed25519.verify_batch(pks, msgs, sigs, threads=1).all()
    distinct = len({c[0] for c in cases})
    stats = ed25519.key_cache_stats()
    # One lookup per item: the first sight of each key misses, every later one hits.
    assert stats["entries"] == distinct == stats["misses"]
    assert stats["hits"] == len(cases) - distinct
    assert ed25519.verify_batch(pks, msgs, sigs, threads=1).all()
    stats = ed25519.key_cache_stats()
    assert stats["hits"] == 2 * len(cases) - distinct and stats["entries"] == distinct
    # Invalid keys are cached with their verdict and keep failing.
    bad = [(EDGE[i][0], EDGE[i][1], EDGE[i][2]) for i, r in enumerate(EDGE_REASONS) if r in (Reason.NON_CANONICAL_POINT, Reason.SMALL_ORDER_KEY)]
    bpks, bmsgs, bsigs = columns(bad)
    first = ed25519.verify_batch_detailed(bpks, bmsgs, bsigs)
    assert (ed25519.verify_batch_detailed(bpks, bmsgs, bsigs) == first).all()


def test_key_cache_eviction_keeps_verdicts():
    # Flood one shard (the shard is picked by the key's first byte) with more keys than it
    # holds: eviction must not change any verdict, and the cache stays bounded.
    cap = ed25519.key_cache_stats()["capacity"]
    per_shard = cap // 64
    rng = random.Random(11)
    flood = []
    r_bytes = pt_encode(pt_mul(3, B))
    for i in range(per_shard + per_shard // 2):
        pk = bytes([64]) + rng.randbytes(31)
        flood.append((pk, b"f%d" % i, r_bytes + rng.randbytes(31) + bytes([rng.randrange(16)])))
    honest = HONEST[:200]
    cases = honest + flood + honest
    single = np.array([ed25519.verify_detailed(*c) for c in cases], np.uint8)
    assert set(single[len(honest) : -len(honest)]) == {Reason.NON_CANONICAL_POINT, Reason.EQUATION_FAILED}
    pks, msgs, sigs = columns(cases)
    for _ in range(2):
        assert (ed25519.verify_batch_detailed(pks, msgs, sigs, threads=1) == single).all()
    assert ed25519.key_cache_stats()["entries"] <= cap


def test_threads_do_not_change_verdicts_on_large_mixed_batch():
    cases, _ = mix(3000, 17, 0.02)
    pks, msgs, sigs = columns(cases)
    one = ed25519.verify_batch_detailed(pks, msgs, sigs, threads=1)
    two = ed25519.verify_batch_detailed(pks, msgs, sigs, threads=2)
    every = ed25519.verify_batch_detailed(pks, msgs, sigs)
    assert (one == two).all() and (one == every).all()


def test_native_batch_rejects_bad_msm_choice():
    pks, msgs, sigs = columns(HONEST[:2])
    with pytest.raises(ValueError):
        _native.ed25519_verify_batch_fixed(pks, np.zeros((2, 1), np.uint8), sigs, 0, 7)


def test_batch_larger_than_one_chunk():
    # More items than one MSM chunk takes (BATCH_CHUNK_MAX = 16384): verdicts stay per item
    # across the chunk boundary.
    cases = (HONEST * 4)[:20000]
    pks, msgs, sigs = columns(cases)
    sigs = sigs.copy()
    bad = [0, 16383, 16384, 19999]
    for i in bad:
        sigs[i, 40] ^= 0x01
    got = ed25519.verify_batch_detailed(pks, msgs, sigs)
    assert list(np.nonzero(got)[0]) == bad
    assert (got[bad] == Reason.EQUATION_FAILED).all()


def test_concurrent_callers_share_pool_and_cache():
    # Several Python threads verify at once (the GIL is released): the pool runs one
    # caller's work and the others inline, the key cache is shared; no verdict changes.
    import threading

    cases, _ = mix(800, 23, 0.05)
    pks, msgs, sigs = columns(cases)
    expected = np.array([ed25519.verify_detailed(*c) for c in cases], np.uint8)
    results = {}

    def work(k: int) -> None:
        for rep in range(3):
            if k == 0 and rep == 1:
                ed25519.clear_key_cache()
            results[(k, rep)] = ed25519.verify_batch_detailed(pks, msgs, sigs, threads=None)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    for got in results.values():
        assert (got == expected).all()


def test_list_of_bytes_read_in_place_matches_packed_forms():
    # A list of exact bytes objects takes the native in-place path; any other item type
    # (bytearray, memoryview) falls back to packing; both give the same verdicts.
    cases, _ = mix(150, 29, 0.1)
    pks, msgs, sigs = columns(cases)
    in_place = ed25519.verify_batch_detailed(pks, list(msgs), sigs)
    mixed = [bytearray(m) if i % 3 == 0 else memoryview(m) if i % 3 == 1 else m
             for i, m in enumerate(msgs)]
    assert (ed25519.verify_batch_detailed(pks, mixed, sigs) == in_place).all()
    assert (ed25519.verify_batch_detailed(pks, tuple(msgs), sigs) == in_place).all()
    assert _native.ed25519_verify_batch_list(pks, [bytearray(m) for m in msgs], sigs, 1, 0) is None
    with pytest.raises(ValueError, match="messages"):
        ed25519.verify_batch(pks, list(msgs)[:-1], sigs)


def _packed(msgs):
    offsets = np.zeros(len(msgs) + 1, np.uint64)
    offsets[1:] = np.cumsum([len(m) for m in msgs])
    return b"".join(msgs), offsets


@pytest.mark.parametrize("size,method", [(40, 0), (300, 0), (300, 1), (300, 2), (1500, 0)])
def test_batch_on_every_path_equals_single(size, method):
    # The batch kernel is compiled once per field path: bmi2 == portable == single
    # verification, on honest, forged, small-order, mixed-order and non-canonical items.
    cases, _ = mix(size, 17 + size + method, 0.15)
    single = np.array([ed25519.verify_detailed(*c) for c in cases], np.uint8)
    pks, msgs, sigs = columns(cases)
    buf, offsets = _packed(msgs)
    assert _native._ed25519_verify_batch_on_path("no-such-path", pks, buf, offsets, sigs) is None
    ran = []
    for path in ("portable", "bmi2"):
        for threads in (1, 2):
            got = _native._ed25519_verify_batch_on_path(path, pks, buf, offsets, sigs, threads, method)
            if got is None:
                continue  # this path cannot run here (or LEDGER_CORE_PORTABLE=1)
            assert (got == single).all(), (path, threads, np.nonzero(got != single))
            ran.append(path)
    assert "portable" in ran


def test_batch_paths_agree_on_every_edge_item_alone_and_together():
    # Each edge item in a batch of its own (the per-item equation) and all of them at once.
    pks, msgs, sigs = columns(EDGE)
    buf, offsets = _packed(msgs)
    expected = np.array(EDGE_REASONS, np.uint8)
    for path in ("portable", "bmi2"):
        got = _native._ed25519_verify_batch_on_path(path, pks, buf, offsets, sigs)
        if got is None:
            continue
        assert (got == expected).all(), path
        for i in range(len(EDGE)):
            one_offsets = np.array([0, len(msgs[i])], np.uint64)
            one = _native._ed25519_verify_batch_on_path(path, pks[i : i + 1], msgs[i], one_offsets, sigs[i : i + 1])
            assert one[0] == expected[i], (path, i)


# --- regressions: issue 12 -----------------------------------------------------------------


def test_tuple_of_two_message_arrays_is_two_messages_not_buffer_and_offsets():
    # Issue 12 item 2: (A, B) was read as (buffer A, offsets B): [True, True] for
    # signatures over b"\x00" and b"\x01\x02", while [A, B] said [False, False].
    key = ed25519.SigningKey.from_seed(bytes(range(32)))
    a = np.frombuffer(b"\x00\x01\x02", np.uint8)
    b = np.frombuffer(b"\x00\x01\x03", np.uint8)
    pks = [key.public_key] * 2
    slices = [key.sign(b"\x00"), key.sign(b"\x01\x02")]
    assert ed25519.verify_batch(pks, (a, b), slices).tolist() == [False, False]
    assert ed25519.verify_batch(pks, [a, b], slices).tolist() == [False, False]
    whole = [key.sign(a.tobytes()), key.sign(b.tobytes())]
    assert ed25519.verify_batch(pks, (a, b), whole).tolist() == [True, True]
    assert ed25519.verify_batch(tuple(pks), (a, b), tuple(whole)).tolist() == [True, True]
    # The packed reading, asked for by name.
    assert ed25519.verify_batch(pks, Packed(a, [0, 1, 3]), slices).tolist() == [True, True]


def _signature_ending_in_nul(key):
    for i in range(4096):
        msg = b"nul %d" % i
        sig = key.sign(msg)
        if sig[-1] == 0:
            return msg, sig
    raise AssertionError("no signature ending in NUL found")


def _key_ending_in_nul():
    for i in range(100_000):
        key = ed25519.SigningKey.from_seed(i.to_bytes(32, "little"))
        if key.public_key[-1] == 0:
            return key
    raise AssertionError("no public key ending in NUL found")


def test_numpy_bytes_arrays_of_keys_and_signatures_keep_trailing_nuls():
    # Issue 12 item 7: np.array(list_of_bytes) is an S32/S64 array and numpy strips the
    # trailing NULs of its items: "signatures[0] must be 64 bytes, got 63" for about 1 in
    # 16 signatures. The raw buffer is read instead.
    key = _key_ending_in_nul()
    msg, sig = _signature_ending_in_nul(key)
    other = ed25519.SigningKey.from_seed(bytes(32))
    msgs = [msg, b"plain"]
    pks = np.array([key.public_key, other.public_key])
    sigs = np.array([sig, other.sign(b"plain")])
    assert (pks.dtype, sigs.dtype) == (np.dtype("S32"), np.dtype("S64"))
    assert len(pks[0]) < 32 and len(sigs[0]) < 64  # what numpy's items look like
    assert ed25519.verify_batch(pks, msgs, sigs).tolist() == [True, True]
    assert ed25519.verify_batch_detailed(pks[::-1], msgs[::-1], sigs[::-1]).tolist() == [Reason.OK] * 2
    with pytest.raises(InvalidArgumentError, match="signatures"):
        ed25519.verify_batch(pks, msgs, np.array([sig[:63], b"x" * 63]))
    with pytest.raises(InvalidArgumentError, match="public_keys"):
        ed25519.verify_batch(np.array([b"k" * 33, b"k" * 33]), msgs, sigs)


def test_none_and_str_arguments_are_type_errors_naming_them():
    # Issue 12 item 8: public_keys=None said "'NoneType' object is not iterable".
    pks, msgs, sigs = columns(HONEST[:2])
    for bad, name in (((None, msgs, sigs), "public_keys"), ((pks, None, sigs), "messages"),
                      ((pks, msgs, None), "signatures"), ((pks, msgs, "ab"), "signatures")):
        for fn in (ed25519.verify_batch, ed25519.verify_batch_detailed):
            with pytest.raises(InvalidTypeError, match=name):
                fn(*bad)
    with pytest.raises(InvalidTypeError, match=r"messages\[1\]"):
        ed25519.verify_batch(pks, [b"m", "text"], sigs)


@pytest.mark.parametrize("threads", [0, -1, 10**9, 2**64, MAX_THREADS + 1])
def test_bad_thread_counts_name_threads(threads):
    pks, msgs, sigs = columns(HONEST[:2])
    with pytest.raises(InvalidArgumentError, match="threads"):
        ed25519.verify_batch(pks, msgs, sigs, threads=threads)


@pytest.mark.parametrize("threads", [True, 1.5, "2"])
def test_thread_counts_of_the_wrong_type_name_threads(threads):
    pks, msgs, sigs = columns(HONEST[:2])
    with pytest.raises(InvalidTypeError, match="threads"):
        ed25519.verify_batch(pks, msgs, sigs, threads=threads)
    assert ed25519.verify_batch(pks, msgs, sigs, threads=MAX_THREADS).all()
