"""Ed25519 core (field, points, strict decoding, single verification) through
_native.ed25519_verify: published vectors, PyNaCl as a differential oracle, field edge
cases seen through verification outcomes, and every field path against the portable one.

The broad policy edge cases and batch verification are in test_ed25519.py and
test_ed25519_batch.py; this file checks the core they stand on.
"""

from __future__ import annotations

import hashlib
import os
import random

import pytest

from conftest import load_vectors
from ledger_core import _native, ed25519
from ledger_core.ed25519 import Reason

nacl_signing = pytest.importorskip("nacl.signing")
nacl_exceptions = pytest.importorskip("nacl.exceptions")


P = 2**255 - 19
L = ed25519.GROUP_ORDER
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def verify(pk: bytes, msg: bytes, sig: bytes) -> int:
    return _native.ed25519_verify(pk, msg, sig)


def nacl_accepts(pk: bytes, msg: bytes, sig: bytes) -> bool:
    try:
        nacl_signing.VerifyKey(pk).verify(msg, sig)
        return True
    except (nacl_exceptions.BadSignatureError, ValueError, TypeError):
        return False


# --- a minimal big-integer model of the curve (affine), for building inputs -------------


def ref_add(p, q):
    (x1, y1), (x2, y2) = p, q
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, P - 2, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P
    return (x3, y3)


def ref_mul(n, p):
    acc = (0, 1)
    while n:
        if n & 1:
            acc = ref_add(acc, p)
        p = ref_add(p, p)
        n >>= 1
    return acc


def ref_encode(p) -> bytes:
    x, y = p
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ref_decode(b: bytes):
    """Strict RFC 8032 decoding; None on failure."""
    n = int.from_bytes(b, "little")
    y, sign = n & ((1 << 255) - 1), n >> 255
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    if v * x * x % P != u:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y)


BASE = ref_decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def secret_scalar(seed: bytes) -> int:
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    return int.from_bytes(h, "little")


def challenge(r: bytes, a: bytes, msg: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r + a + msg).digest(), "little") % L


def small_order_points():
    """The 8 points of order dividing 8: the multiples of one point of order 8."""
    for y in range(2, 2000):
        p = ref_decode(y.to_bytes(32, "little"))
        if p is None:
            continue
        t = ref_mul(L, p)  # kills the prime-order part
        if ref_mul(4, t) != (0, 1):  # order exactly 8
            return [ref_mul(i, t) for i in range(8)]
    raise AssertionError("no point of order 8 found")


TORSION = small_order_points()


# --- published vectors --------------------------------------------------------------


def test_rfc8032_section_7_1():
    for v in load_vectors("ed25519/rfc8032_sec7_1.json"):
        pk, msg, sig = (bytes.fromhex(v[k]) for k in ("public_key", "message", "signature"))
        assert verify(pk, msg, sig) == Reason.OK, v["name"]
        assert verify(pk, msg + b"\x00", sig) == Reason.EQUATION_FAILED, v["name"]


def test_sign_input_1024_accepts_and_rejects_a_changed_message():
    for i, v in enumerate(load_vectors("ed25519/sign_input_1024.json")):
        pk, msg, sig = bytes.fromhex(v["pk"]), bytes.fromhex(v["msg"]), bytes.fromhex(v["sig"])
        assert verify(pk, msg, sig) == Reason.OK, i
        if i % 8 == 0:
            changed = bytes([msg[0] ^ 1]) + msg[1:] if msg else b"\x01"
            assert verify(pk, changed, sig) == Reason.EQUATION_FAILED, i


def test_wycheproof_every_case():
    data = load_vectors("ed25519/wycheproof_ed25519_test.json")
    count = 0
    for group in data["testGroups"]:
        pk = bytes.fromhex(group["publicKey"]["pk"])
        for t in group["tests"]:
            reason = verify(pk, bytes.fromhex(t["msg"]), bytes.fromhex(t["sig"]))
            if t["result"] == "valid":
                assert reason == Reason.OK, t["tcId"]
            else:
                assert reason != Reason.OK, t["tcId"]
            count += 1
    assert count == data["numberOfTests"]


# --- differential against PyNaCl (libsodium) -----------------------------------------


def test_honest_signatures_agree_with_pynacl():
    rng = random.Random(8032)
    for i in range(300):
        key = nacl_signing.SigningKey(rng.randbytes(32))
        msg = rng.randbytes(rng.choice([0, 1, 31, 32, 64, 200, 1000]))
        sig = key.sign(msg).signature
        pk = bytes(key.verify_key)
        assert nacl_accepts(pk, msg, sig)
        assert verify(pk, msg, sig) == Reason.OK, i


def test_corruptions_agree_with_pynacl():
    rng = random.Random(25519)
    for i in range(400):
        key = nacl_signing.SigningKey(rng.randbytes(32))
        msg = rng.randbytes(rng.randrange(0, 100))
        sig = bytearray(key.sign(msg).signature)
        pk = bytearray(bytes(key.verify_key))
        target = rng.choice(["sig", "sig", "pk", "msg"])
        if target == "sig":
            sig[rng.randrange(64)] ^= 1 << rng.randrange(8)
        elif target == "pk":
            pk[rng.randrange(32)] ^= 1 << rng.randrange(8)
        else:
            msg = msg + b"!" if not msg else bytes([msg[0] ^ 0x80]) + msg[1:]
        pk, sig = bytes(pk), bytes(sig)
        ours = verify(pk, msg, sig)
        assert (ours == Reason.OK) == nacl_accepts(pk, msg, sig), (i, target, ours)
        assert ours != Reason.OK


# --- the policy rules, one reason each ---------------------------------------------------


@pytest.fixture(scope="module")
def honest():
    key = nacl_signing.SigningKey(bytes(range(32)))
    msg = b"invoice 0001"
    return bytes(key.verify_key), msg, key.sign(msg).signature


def test_bad_lengths_are_a_reason_not_an_exception(honest):
    pk, msg, sig = honest
    assert verify(pk[:31], msg, sig) == Reason.BAD_LENGTH
    assert verify(pk + b"\x00", msg, sig) == Reason.BAD_LENGTH
    assert verify(pk, msg, sig[:63]) == Reason.BAD_LENGTH
    assert verify(pk, msg, sig + b"\x00") == Reason.BAD_LENGTH
    assert verify(b"", b"", b"") == Reason.BAD_LENGTH


def test_s_at_or_above_l_is_non_canonical(honest):
    pk, msg, sig = honest
    s = int.from_bytes(sig[32:], "little")
    for bad_s in (s + L, L, 2**256 - 1, 2**255):
        if bad_s < 2**256:
            assert verify(pk, msg, sig[:32] + bad_s.to_bytes(32, "little")) == Reason.NON_CANONICAL_S


def test_buffers_of_any_kind(honest):
    pk, msg, sig = honest
    assert verify(bytearray(pk), memoryview(msg), bytearray(sig)) == Reason.OK
    assert verify(memoryview(pk), bytearray(msg), memoryview(sig)) == Reason.OK


def test_non_buffers_raise_type_error(honest):
    pk, msg, sig = honest
    for bad in (123, "text", None):
        with pytest.raises(TypeError):
            verify(bad, msg, sig)
        with pytest.raises(TypeError):
            verify(pk, bad, sig)


def test_long_message_releases_the_gil_and_verifies():
    key = nacl_signing.SigningKey(b"\x07" * 32)
    msg = os.urandom(100_000)
    sig = key.sign(msg).signature
    assert verify(bytes(key.verify_key), msg, sig) == Reason.OK
    assert verify(bytes(key.verify_key), msg[:-1], sig) == Reason.EQUATION_FAILED


# --- field edge cases, seen through decoding ------------------------------------------------


def encode_y(y: int, sign: int = 0) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


@pytest.mark.parametrize(
    "y",
    [P, P + 1, P + 2, 2**255 - 1, 2**255 - 2],  # every y >= p (non-canonical field encodings)
)
def test_y_at_or_above_p_is_rejected(honest, y):
    pk, msg, sig = honest
    assert ref_decode(encode_y(y)) is None
    for sign in (0, 1):
        assert verify(encode_y(y, sign), msg, sig) == Reason.NON_CANONICAL_POINT
        assert verify(pk, msg, encode_y(y, sign) + sig[32:]) == Reason.NON_CANONICAL_POINT


def test_minus_zero_is_rejected_and_plus_zero_decodes(honest):
    pk, msg, sig = honest
    # y = 1 and y = -1 have x = 0: with the sign bit set they are "-0", which is rejected.
    for y in (1, P - 1):
        assert verify(encode_y(y, 1), msg, sig) == Reason.NON_CANONICAL_POINT
        assert verify(pk, msg, encode_y(y, 1) + sig[32:]) == Reason.NON_CANONICAL_POINT
        assert verify(encode_y(y, 0), msg, sig) == Reason.SMALL_ORDER_KEY  # decodes, but small order


def test_decoding_matches_the_model_on_many_y():
    """The native decoder (through verify's reason) agrees with the big-integer model on
    which y are on the curve, including y near 0, near p and near 2^255."""
    rng = random.Random(3)
    ys = list(range(0, 64)) + [P - i for i in range(1, 64)] + [rng.randrange(P) for _ in range(300)]
    key = nacl_signing.SigningKey(b"\x01" * 32)
    pk = bytes(key.verify_key)
    sig = key.sign(b"m").signature
    for y in ys:
        for sign in (0, 1):
            enc = encode_y(y, sign)
            reason = verify(pk, b"m", enc + sig[32:])
            if ref_decode(enc) is None:
                assert reason == Reason.NON_CANONICAL_POINT, (y, sign)
            else:
                assert reason == Reason.EQUATION_FAILED, (y, sign)


def test_every_small_order_key_is_rejected(honest):
    _, msg, sig = honest
    for t in TORSION:
        enc = ref_encode(t)
        assert ref_decode(enc) == t
        assert verify(enc, msg, sig) == Reason.SMALL_ORDER_KEY


# --- the cofactored equation ----------------------------------------------------------


def make_signature(seed: bytes, msg: bytes, r_nonce: int, r_torsion=(0, 1)):
    """A signature whose R is [r]B + T: valid under the cofactored equation for any T."""
    a = secret_scalar(seed)
    pk = ref_encode(ref_mul(a, BASE))
    r_point = ref_add(ref_mul(r_nonce, BASE), r_torsion)
    r_enc = ref_encode(r_point)
    s = (r_nonce + challenge(r_enc, pk, msg) * a) % L
    return pk, r_enc + s.to_bytes(32, "little")


def test_model_signatures_match_pynacl():
    seed = b"\x05" * 32
    a = secret_scalar(seed)
    assert ref_encode(ref_mul(a, BASE)) == bytes(nacl_signing.SigningKey(seed).verify_key)
    pk, sig = make_signature(seed, b"x", 12345)
    assert nacl_accepts(pk, b"x", sig)
    assert verify(pk, b"x", sig) == Reason.OK


def test_r_with_a_torsion_component_is_accepted_cofactored():
    """libsodium (cofactorless, and rejecting small-order R) refuses these; the policy's
    cofactored equation accepts them, as batch verification must."""
    seed = b"\x09" * 32
    for i, t in enumerate(TORSION[1:], 1):
        pk, sig = make_signature(seed, b"torsion", 1000 + i, t)
        assert verify(pk, b"torsion", sig) == Reason.OK, i
        bad = bytearray(sig)
        bad[40] ^= 1
        assert verify(pk, b"torsion", bytes(bad)) == Reason.EQUATION_FAILED, i


def test_small_order_r_is_accepted_when_the_equation_holds():
    """R = T of small order and S = k a: [8]([S]B) = [8][k]A, so rule 4 holds."""
    seed = b"\x0b" * 32
    a = secret_scalar(seed)
    pk = ref_encode(ref_mul(a, BASE))
    for t in TORSION:
        r_enc = ref_encode(t)
        s = challenge(r_enc, pk, b"m") * a % L
        assert verify(pk, b"m", r_enc + s.to_bytes(32, "little")) == Reason.OK


# --- the contract functions the batch code builds on -----------------------------------------


def test_native_core_selftest():
    """fe_* and ge_* (field.h, point.h) against each other and slow references, in C++."""
    assert _native._ed25519_core_selftest() == ""


# --- field paths -------------------------------------------------------------------------


def test_active_path_is_reported():
    path = _native.ed25519_active_path()
    assert path in ("portable", "bmi2")
    assert _native.active_paths()["ed25519"] == path
    features = _native.cpu_features()
    if features["portable_forced"] or not (features["bmi2"] and features["adx"]):
        assert path == "portable"
    else:
        assert path == "bmi2"


def test_every_path_and_equation_form_agree_on_mixed_inputs():
    rng = random.Random(11)
    cases = []
    for v in load_vectors("ed25519/wycheproof_ed25519_test.json")["testGroups"]:
        pk = bytes.fromhex(v["publicKey"]["pk"])
        cases += [(pk, bytes.fromhex(t["msg"]), bytes.fromhex(t["sig"])) for t in v["tests"]]
    for _ in range(100):
        key = nacl_signing.SigningKey(rng.randbytes(32))
        msg = rng.randbytes(20)
        sig = bytearray(key.sign(msg).signature)
        if rng.random() < 0.5:
            sig[rng.randrange(64)] ^= 1 << rng.randrange(8)
        cases.append((bytes(key.verify_key), msg, bytes(sig)))
    for i, t in enumerate(TORSION):  # cofactored-only valid signatures, and a broken one
        pk, sig = make_signature(b"\x0d" * 32, b"paths", 77 + i, t)
        cases += [(pk, b"paths", sig), (pk, b"paths!", sig)]
    assert _native._ed25519_verify_on_path("no-such-path", *cases[0]) is None
    assert _native._ed25519_verify_on_path("portable:nonsense", *cases[0]) is None
    # ":full" checks [8]([S]B - [k]A - R) directly, the half-size equation's fallback.
    for path in ("portable", "portable:full", "bmi2", "bmi2:full"):
        results = [_native._ed25519_verify_on_path(path, *c) for c in cases]
        if results[0] is None:
            continue  # this path cannot run here (or LEDGER_CORE_PORTABLE=1)
        assert results == [verify(*c) for c in cases], path
