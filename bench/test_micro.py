"""The micro benchmarks as pytest-benchmark cases: `pytest bench/ --benchmark-only`
(PYTHONPATH=src, the bench extras installed). Each group holds ledger_core and its anchor
on the same input, so pytest-benchmark's table compares them side by side; the scripts in
bench/ (bench/suite.py) give the fuller picture and the ratios the goals are stated in.

The store's anchor, py-lmdb, is not here: py-lmdb carries its own LMDB and is never
loaded in a process that has our store open (bench/bench_ledger.py times it in a
process of its own).
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import numpy as np
import pytest

from ledger_core import Ledger, ed25519, hashing, merkle
from ledger_core.invoice import check_batch

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def megabyte():
    return os.urandom(1 << 20)


@pytest.mark.benchmark(group="hash 1 MiB")
def test_blake3_1mib_ledger_core(benchmark, megabyte):
    benchmark(hashing.blake3, megabyte)


@pytest.mark.benchmark(group="hash 1 MiB")
def test_blake3_1mib_blake3_package(benchmark, megabyte):
    blake3 = pytest.importorskip("blake3")
    benchmark(lambda: blake3.blake3(megabyte).digest())


@pytest.mark.benchmark(group="hash 1 MiB")
def test_sha256_1mib_hashlib(benchmark, megabyte):
    benchmark(lambda: hashlib.sha256(megabyte).digest())


@pytest.fixture(scope="module")
def nodes():
    return np.frombuffer(os.urandom(64 * 4096), np.uint8).reshape(4096, 64)


@pytest.mark.benchmark(group="4096 Merkle nodes of 64 bytes")
def test_blake3_many_nodes_ledger_core(benchmark, nodes):
    benchmark(hashing.blake3_many, nodes, threads=1)


@pytest.mark.benchmark(group="4096 Merkle nodes of 64 bytes")
def test_blake3_nodes_blake3_package_loop(benchmark, nodes):
    blake3 = pytest.importorskip("blake3")
    rows = [bytes(r) for r in nodes]
    benchmark(lambda: [blake3.blake3(r).digest() for r in rows])


@pytest.fixture(scope="module")
def signed():
    """1024 invoices' envelopes signed by 100 Zipf-drawn sellers (libsodium signs)."""
    from nacl.signing import SigningKey

    rng = np.random.default_rng(5)
    keys = [SigningKey(bytes(rng.integers(0, 256, 32, dtype=np.uint8))) for _ in range(100)]
    weights = 1.0 / np.arange(1, 101)
    who = rng.choice(100, size=1024, p=weights / weights.sum())
    messages = [os.urandom(int(rng.integers(120, 300))) for _ in range(1024)]
    sigs = [keys[w].sign(m).signature for w, m in zip(who, messages)]
    pks = [bytes(keys[w].verify_key) for w in who]
    return pks, messages, sigs


@pytest.mark.benchmark(group="Ed25519: 1024 signatures, 100 Zipf signers")
def test_verify_batch_1024_ledger_core_1_thread(benchmark, signed):
    pks, messages, sigs = signed
    pk_arr = np.frombuffer(b"".join(pks), np.uint8).reshape(-1, 32)
    sig_arr = np.frombuffer(b"".join(sigs), np.uint8).reshape(-1, 64)
    ok = benchmark(ed25519.verify_batch, pk_arr, messages, sig_arr, threads=1)
    assert ok.all()


@pytest.mark.benchmark(group="Ed25519: 1024 signatures, 100 Zipf signers")
def test_verify_batch_1024_ledger_core_all_threads(benchmark, signed):
    pks, messages, sigs = signed
    pk_arr = np.frombuffer(b"".join(pks), np.uint8).reshape(-1, 32)
    sig_arr = np.frombuffer(b"".join(sigs), np.uint8).reshape(-1, 64)
    assert benchmark(ed25519.verify_batch, pk_arr, messages, sig_arr).all()


@pytest.mark.benchmark(group="Ed25519: 1024 signatures, 100 Zipf signers")
def test_verify_1024_libsodium_loop(benchmark, signed):
    from nacl.bindings import crypto_sign_open

    pks, messages, sigs = signed
    items = [(s + m, pk) for pk, m, s in zip(pks, messages, sigs)]
    benchmark(lambda: [crypto_sign_open(sm, pk) for sm, pk in items])


@pytest.mark.benchmark(group="Ed25519: 1024 signatures, 100 Zipf signers")
def test_verify_1024_openssl_loop(benchmark, signed):
    ed = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    pks, messages, sigs = signed
    keys = [ed.Ed25519PublicKey.from_public_bytes(pk) for pk in pks]
    benchmark(lambda: [k.verify(s, m) for k, s, m in zip(keys, sigs, messages)])


@pytest.fixture(scope="module")
def leaves():
    return [os.urandom(100) for _ in range(10_000)]


@pytest.mark.benchmark(group="Merkle: append 10,000 leaves, then the root")
def test_merkle_append_ledger_core_sha256(benchmark, leaves):
    def run():
        tree = merkle.MerkleTree("sha256")
        tree.extend(leaves)
        return tree.root()

    benchmark(run)


@pytest.mark.benchmark(group="Merkle: append 10,000 leaves, then the root")
def test_merkle_append_pymerkle_sha256(benchmark, leaves):
    pymerkle = pytest.importorskip("pymerkle")

    def run():
        tree = pymerkle.InmemoryTree(algorithm="sha256")
        for leaf in leaves:
            tree.append_entry(leaf)
        return tree.get_state()

    benchmark.pedantic(run, rounds=3, iterations=1)


@pytest.fixture(scope="module")
def invoices():
    from ledger_core import generator

    return generator.generate(16384, sellers=1000, seed=3).batch


@pytest.mark.benchmark(group="store: 16,384 generated invoices")
def test_store_verified_append(benchmark, invoices):
    def setup():
        return (Ledger.open(tempfile.mkdtemp(prefix="bench-micro-")),), {}

    def run(ledger):
        try:
            ledger.append_batch(invoices)
        finally:
            ledger.close()

    benchmark.pedantic(run, setup=setup, rounds=5, iterations=1)


@pytest.mark.benchmark(group="store: 16,384 generated invoices")
def test_check_batch_alone(benchmark, invoices):
    assert benchmark(check_batch, invoices).valid == len(invoices)


@pytest.mark.benchmark(group="store: 16,384 generated invoices")
def test_store_scan(benchmark, invoices, tmp_path):
    with Ledger.open(tmp_path / "l") as ledger:
        ledger.append_batch(invoices)
        benchmark(lambda: sum(len(b) for b in ledger.scan()))
