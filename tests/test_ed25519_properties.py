"""Differential tests against libsodium (PyNaCl) on honest and corrupted signatures.

Honest signatures: libsodium and ledger_core (single and batch) all accept. Random
corruptions of the message, the key or the signature: all reject. (Where the two
policies differ, on small-order R, torsion components and non-canonical encodings,
corruption at random essentially never lands; tests/test_ed25519.py builds those cases.)
"""

from __future__ import annotations

import nacl.exceptions
import nacl.signing
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ledger_core import _native, ed25519
from ledger_core.ed25519 import Reason

L = ed25519.GROUP_ORDER


def sodium_ok(pk: bytes, msg: bytes, sig: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(pk).verify(msg, sig)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError, nacl.exceptions.CryptoError):
        return False


seeds = st.binary(min_size=32, max_size=32)
messages = st.binary(max_size=300)


@given(seed=seeds, msg=messages)
def test_honest_signatures_accepted_by_both(seed, msg):
    key = ed25519.SigningKey.from_seed(seed)
    sig = key.sign(msg)
    assert sodium_ok(key.public_key, msg, sig)
    assert ed25519.verify_detailed(key.public_key, msg, sig) == Reason.OK
    assert ed25519.verify_batch([key.public_key], [msg], [sig])[0]


@given(seed=seeds, msg=messages, where=st.sampled_from(["message", "key", "signature"]),
       data=st.data())
def test_corruptions_rejected_by_both(seed, msg, where, data):
    key = ed25519.SigningKey.from_seed(seed)
    pk, sig = key.public_key, key.sign(msg)
    if where == "message":
        if msg and data.draw(st.booleans()):
            pos = data.draw(st.integers(0, len(msg) - 1))
            bit = data.draw(st.integers(0, 7))
            msg = msg[:pos] + bytes([msg[pos] ^ (1 << bit)]) + msg[pos + 1 :]
        else:
            msg = msg + data.draw(st.binary(min_size=1, max_size=4))
    elif where == "key":
        pos = data.draw(st.integers(0, 31))
        bit = data.draw(st.integers(0, 7))
        pk = pk[:pos] + bytes([pk[pos] ^ (1 << bit)]) + pk[pos + 1 :]
    else:
        pos = data.draw(st.integers(0, 63))
        bit = data.draw(st.integers(0, 7))
        sig = sig[:pos] + bytes([sig[pos] ^ (1 << bit)]) + sig[pos + 1 :]
    assert not sodium_ok(pk, msg, sig)
    reason = ed25519.verify_detailed(pk, msg, sig)
    assert reason != Reason.OK
    assert ed25519.verify_batch_detailed([pk], [msg], [sig])[0] == reason


@given(items=st.lists(st.tuples(seeds, messages, st.booleans()), min_size=0, max_size=40))
def test_batch_matches_libsodium_per_item(items):
    pks, msgs, sigs, expect = [], [], [], []
    for seed, msg, corrupt in items:
        key = ed25519.SigningKey.from_seed(seed)
        sig = key.sign(msg)
        if corrupt:
            sig = sig[:40] + bytes([sig[40] ^ 0x10]) + sig[41:]
        pks.append(key.public_key)
        msgs.append(msg)
        sigs.append(sig)
        expect.append(sodium_ok(key.public_key, msg, sig))
    got = ed25519.verify_batch(pks, msgs, sigs)
    assert list(got) == expect
    assert list(ed25519.verify_batch(pks, msgs, sigs, threads=1)) == expect


@given(value=st.integers(0, 2**512 - 1))
def test_scalar_reduce64_matches_python(value):
    out = _native.ed25519_scalar_reduce64(value.to_bytes(64, "little"))
    assert int.from_bytes(out, "little") == value % L


@given(a=st.integers(0, 2**256 - 1), b=st.integers(0, 2**256 - 1), c=st.integers(0, 2**256 - 1))
def test_scalar_muladd_matches_python(a, b, c):
    out = _native.ed25519_scalar_muladd(*(x.to_bytes(32, "little") for x in (a, b, c)))
    assert int.from_bytes(out, "little") == (a * b + c) % L
    assert _native.ed25519_scalar_is_canonical(a.to_bytes(32, "little")) == (a < L)


@given(s=st.sampled_from([L - 1, L, L + 1, 2**255, 2**256 - 1]) | st.integers(0, 2**256 - 1))
def test_any_non_canonical_s_gives_its_reason(s):
    key = ed25519.SigningKey.from_seed(bytes(32))
    sig = key.sign(b"m")
    bad = sig[:32] + s.to_bytes(32, "little")
    reason = ed25519.verify_detailed(key.public_key, b"m", bad)
    if s >= L:
        assert reason == Reason.NON_CANONICAL_S
    elif s != int.from_bytes(sig[32:], "little"):
        assert reason == Reason.EQUATION_FAILED
    assert np.array_equal(ed25519.verify_batch_detailed([key.public_key], [b"m"], [bad]), [reason])


@given(r=st.binary(min_size=32, max_size=32), s=st.integers(0, L - 1), seed=seeds,
       top=st.sampled_from([None, 0x7F, 0xFF, 0x80]))
def test_batch_decodes_r_like_single(r, s, seed, top):
    # Random R encodings (about half are on the curve; `top` forces y near or above p and
    # the sign bit): the batch decodes R with its own two-at-a-time routine, and every
    # verdict must match single verification's.
    if top is not None:
        r = b"\xff" * 31 + bytes([top]) if top in (0x7F, 0xFF) else r[:31] + bytes([r[31] | 0x80])
    key = ed25519.SigningKey.from_seed(seed)
    sig = r + s.to_bytes(32, "little")
    reason = ed25519.verify_detailed(key.public_key, b"m", sig)
    batch = ed25519.verify_batch_detailed([key.public_key] * 3, [b"m", b"x", b"m"],
                                          [sig, key.sign(b"x"), sig])
    assert list(batch) == [reason, Reason.OK, reason]
