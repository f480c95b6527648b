"""The dispatch ladder: LEDGER_CORE_PORTABLE and LEDGER_CORE_DISABLE (native/common/cpu.h).

Each case runs a fresh interpreter with one feature turned off (the choice is made once per
process), checks which path each primitive took, and checks its results against
independent references (hashlib, the blake3 package, PyNaCl), so that every rung of every
primitive's ladder is exercised on this machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import blake3 as blake3_reference
import nacl.signing
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LENGTHS = [0, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 8192, 8193, 65537]
MANY_LEN = 65  # an RFC 9162 node: two SHA-256 blocks
MANY_COUNT = 37  # odd, and more than the 8 AVX2 lanes a few times over

CHILD = r"""
import json, sys
import numpy as np
import ledger_core
from ledger_core import ed25519, hashing

spec = json.loads(sys.argv[1])
inputs = [bytes((7 * i + n) % 251 for i in range(n)) for n in spec["lengths"]]
many = [bytes((i + j) % 256 for j in range(spec["many_len"])) for i in range(spec["many_count"])]
pks = [bytes.fromhex(h) for h in spec["pks"]]
msgs = [bytes.fromhex(h) for h in spec["msgs"]]
sigs = [bytes.fromhex(h) for h in spec["sigs"]]
pk_rows = np.array([np.frombuffer(p, np.uint8) for p in pks])
sig_rows = np.array([np.frombuffer(s, np.uint8) for s in sigs])
print(json.dumps({
    "features": ledger_core.features(),
    "blake3": [hashing.blake3(x).hex() for x in inputs],
    "blake3_many": [bytes(r).hex() for r in hashing.blake3_many(inputs, threads=1)],
    "blake3_many_nodes": [bytes(r).hex() for r in hashing.blake3_many(many, threads=1)],
    "sha256": [hashing.sha256(x).hex() for x in inputs],
    "sha256_many": [bytes(r).hex() for r in hashing.sha256_many(many, threads=1)],
    "sha512": [hashing.sha512(x).hex() for x in inputs],
    "sha512_many": [bytes(r).hex() for r in hashing.sha512_many(inputs, threads=1)],
    "verify": [bool(ed25519.verify(p, m, s)) for p, m, s in zip(pks, msgs, sigs)],
    "verify_batch": [bool(v) for v in ed25519.verify_batch(pk_rows, msgs, sig_rows, threads=1)],
}))
"""


def _inputs():
    inputs = [bytes((7 * i + n) % 251 for i in range(n)) for n in LENGTHS]
    many = [bytes((i + j) % 256 for j in range(MANY_LEN)) for i in range(MANY_COUNT)]
    return inputs, many


def _signatures():
    """40 signed messages, every fifth one with a corrupted signature (a wrong verdict shows)."""
    pks, msgs, sigs, expect = [], [], [], []
    for i in range(40):
        key = nacl.signing.SigningKey(bytes([i + 1]) * 32)
        message = b"dispatch %d" % i * (i % 7 + 1)
        sig = bytearray(key.sign(message).signature)
        good = i % 5 != 3
        if not good:
            sig[i % 32] ^= 0x10
        pks.append(bytes(key.verify_key))
        msgs.append(message)
        sigs.append(bytes(sig))
        expect.append(good)
    return pks, msgs, sigs, expect


def _run(env_extra):
    pks, msgs, sigs, _ = _signatures()
    spec = {
        "lengths": LENGTHS,
        "many_len": MANY_LEN,
        "many_count": MANY_COUNT,
        "pks": [p.hex() for p in pks],
        "msgs": [m.hex() for m in msgs],
        "sigs": [s.hex() for s in sigs],
    }
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_CORE_PORTABLE", "LEDGER_CORE_DISABLE")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(spec)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    out["stderr"] = done.stderr
    return out


def _expected_paths(cpu):
    return {
        "blake3": "avx2" if cpu["avx2"] else "portable",
        "sha512": "avx2" if cpu["avx2"] else "portable",
        "sha256": "sha_ni" if cpu["sha_ni"] and cpu["sse41"] else "portable",
        "ed25519": "bmi2" if cpu["bmi2"] and cpu["adx"] else "portable",
    }


def _check_results(out):
    inputs, many = _inputs()
    assert out["blake3"] == [blake3_reference.blake3(x).hexdigest() for x in inputs]
    assert out["blake3_many"] == out["blake3"]
    assert out["blake3_many_nodes"] == [blake3_reference.blake3(x).hexdigest() for x in many]
    assert out["sha256"] == [hashlib.sha256(x).hexdigest() for x in inputs]
    assert out["sha256_many"] == [hashlib.sha256(x).hexdigest() for x in many]
    assert out["sha512"] == [hashlib.sha512(x).hexdigest() for x in inputs]
    assert out["sha512_many"] == out["sha512"]
    expect = _signatures()[3]
    assert out["verify"] == expect
    assert out["verify_batch"] == expect


@pytest.fixture(scope="module")
def detected():
    out = _run({})
    assert out["features"]["disabled"] == []
    assert out["features"]["disable_unknown"] == []
    return out["features"]["cpu"]


FEATURE_FLAGS = {
    "sse41": ["sse41"],
    "avx2": ["avx2"],
    "bmi2": ["bmi2"],
    "adx": ["adx"],
    "sha_ni": ["sha_ni"],
    "avx512": ["avx512f", "avx512vl"],
}


def test_widest_paths_give_reference_results(detected):
    out = _run({})
    assert out["features"]["paths"] == _expected_paths(detected)
    _check_results(out)


@pytest.mark.parametrize("name", sorted(FEATURE_FLAGS))
def test_one_feature_disabled_takes_the_next_rung(detected, name):
    out = _run({"LEDGER_CORE_DISABLE": name})
    cpu = out["features"]["cpu"]
    assert out["features"]["disabled"] == [name]
    assert out["features"]["disable_unknown"] == []
    for flag in FEATURE_FLAGS[name]:
        assert cpu[flag] is False
    others = {k: v for k, v in detected.items() if k not in FEATURE_FLAGS[name]}
    assert {k: cpu[k] for k in others} == others, "only the named feature may change"
    assert out["features"]["portable_forced"] is False
    assert out["features"]["paths"] == _expected_paths(cpu)
    _check_results(out)


def test_disabling_avx2_leaves_sha_ni_and_bmi2_paths(detected):
    if not (detected["sha_ni"] and detected["bmi2"] and detected["adx"] and detected["avx2"]):
        pytest.skip("needs a CPU with AVX2, SHA-NI, BMI2 and ADX")
    paths = _run({"LEDGER_CORE_DISABLE": "avx2"})["features"]["paths"]
    assert paths == {"blake3": "portable", "sha512": "portable", "sha256": "sha_ni", "ed25519": "bmi2"}


def test_disable_list_is_case_insensitive_ignores_spaces_and_reports_unknown_names(detected):
    out = _run({"LEDGER_CORE_DISABLE": " AVX2 , Sha_NI,,bogus, b m i 2 ,x87"})
    cpu = out["features"]["cpu"]
    assert out["features"]["disabled"] == ["avx2", "bmi2", "sha_ni"]  # in cpu.h's order
    assert out["features"]["disable_unknown"] == ["bogus", "x87"]
    assert "LEDGER_CORE_DISABLE names features ledger_core does not know: bogus, x87" in out["stderr"]
    assert not (cpu["avx2"] or cpu["bmi2"] or cpu["sha_ni"])
    assert set(out["features"]["paths"].values()) == {"portable"}
    _check_results(out)


def test_portable_forces_every_portable_path():
    out = _run({"LEDGER_CORE_PORTABLE": "1"})
    assert out["features"]["portable_forced"] is True
    assert set(out["features"]["paths"].values()) == {"portable"}
    assert not any(out["features"]["cpu"].values())
    assert out["features"]["disabled"] == ["sse41", "avx2", "bmi2", "adx", "sha_ni", "avx512"]
    _check_results(out)
