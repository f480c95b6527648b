"""Python threads mixing batch verification, batched hashing and Merkle trees (issue 12,
"keep it found"): every result equals the single-threaded one.

The native calls release the GIL and share one thread pool and one key cache, and the
tree bindings serialise appends (run without the GIL) against readers: this is where a
data race, a lost update or a torn read would show. Shared objects (one tree appended to
by every thread while others read its past roots and proofs, which an append-only tree
never changes) and private ones (a tree per thread) both. Bounded: a fixed amount of
work, a few seconds on two cores.

Only names that stay the same across the issue-7 renames are used (MerkleTree(),
extend/append/root/leaf_hash/inclusion_proof/consistency_proof, verify_batch_detailed,
blake3_many, with `threads` by keyword); a proof is compared by its hashes.
"""

from __future__ import annotations

import random
import threading
from typing import Callable, Dict, List, Tuple

import blake3 as blake3_ref
import nacl.signing
import numpy as np

from ledger_core import ed25519, hashing, merkle

WORKERS = 6
ROUNDS = 6
PREFILLED = 300


def proof_hashes(proof: object) -> List[bytes]:
    """The hashes of a proof: a typed proof's .hashes, or the list itself."""
    return [bytes(h) for h in getattr(proof, "hashes", proof)]  # type: ignore[union-attr]


def run_threads(work: Callable[[int], None], count: int = WORKERS) -> None:
    """Runs work(i) on `count` threads started together; re-raises the first failure."""
    barrier = threading.Barrier(count)
    errors: List[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a worker thread hung"
    if errors:
        raise errors[0]


def _signatures(rng: random.Random, count: int) -> Tuple[np.ndarray, List[bytes], np.ndarray]:
    """(N, 32) keys from 40 signers (so the key cache is shared and contended), messages
    of varied lengths, (N, 64) signatures, every 7th one corrupted."""
    signers = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(40)]
    pks, msgs, sigs = [], [], []
    for i in range(count):
        signer = signers[rng.randrange(len(signers))]
        msg = rng.randbytes(rng.randrange(0, 300))
        sig = bytearray(signer.sign(msg).signature)
        if i % 7 == 3:
            sig[rng.randrange(64)] ^= 1 << rng.randrange(8)
        pks.append(np.frombuffer(bytes(signer.verify_key), np.uint8))
        msgs.append(msg)
        sigs.append(np.frombuffer(bytes(sig), np.uint8))
    return np.array(pks), msgs, np.array(sigs)


def test_threads_mixing_verify_hash_and_trees_match_a_single_thread():
    rng = random.Random(20261201)
    pks, msgs, sigs = _signatures(rng, 240)
    items = [rng.randbytes(rng.randrange(0, 3000)) for _ in range(200)]
    rows = np.frombuffer(rng.randbytes(64 * 256), np.uint8).reshape(256, 64)
    leaves = [rng.randbytes(rng.randrange(1, 100)) for _ in range(PREFILLED)]

    # The single-threaded answers.
    want_reasons = np.asarray(ed25519.verify_batch_detailed(pks, msgs, sigs, threads=1))
    assert len(set(want_reasons.tolist())) > 1, "the batch should hold good and bad signatures"
    want_items = np.array([np.frombuffer(blake3_ref.blake3(b).digest(), np.uint8) for b in items])
    want_rows = np.array([np.frombuffer(blake3_ref.blake3(bytes(r)).digest(), np.uint8) for r in rows])
    assert np.array_equal(hashing.blake3_many(items, threads=1), want_items)

    reference = merkle.MerkleTree()
    reference.extend(leaves, threads=1)
    sizes = list(range(1, PREFILLED + 1, 37)) + [PREFILLED]
    want_roots = {k: reference.root(k) for k in sizes}
    want_inclusion = {(i, k): proof_hashes(reference.inclusion_proof(i, k)) for k in sizes for i in (0, k // 2, k - 1)}
    want_consistency = {(a, b): proof_hashes(reference.consistency_proof(a, b)) for a in sizes for b in sizes if a <= b}

    shared = merkle.MerkleTree()
    shared.extend(leaves, threads=1)
    landed: Dict[int, List[bytes]] = {}  # first index of each batch appended to `shared` -> its leaves
    landed_lock = threading.Lock()
    private_roots: Dict[Tuple[int, int], bytes] = {}

    def work(worker: int) -> None:
        local = random.Random(worker)
        private = merkle.MerkleTree()
        private_leaves: List[bytes] = []
        for rnd in range(ROUNDS):
            threads = 1 + (worker + rnd) % 2
            # batch verification over the shared key cache and pool
            got = np.asarray(ed25519.verify_batch_detailed(pks, msgs, sigs, threads=threads))
            assert np.array_equal(got, want_reasons), f"worker {worker} round {rnd}: verify_batch differs"
            # batched hashing, variable-length items and rows
            assert np.array_equal(hashing.blake3_many(items, threads=threads), want_items)
            assert np.array_equal(hashing.blake3_many(rows, threads=threads), want_rows)
            # appends to the shared tree while other threads read it
            batch = [b"w%d r%d i%d " % (worker, rnd, i) + local.randbytes(20) for i in range(local.randrange(1, 40))]
            first = shared.extend(batch, threads=threads)
            with landed_lock:
                landed[first] = batch
            one = b"single w%d r%d" % (worker, rnd)
            at = shared.append(one)
            with landed_lock:
                landed[at] = [one]
            # past roots and proofs of the shared tree cannot change under appends
            for k in local.sample(sizes, 3):
                assert shared.root(k) == want_roots[k]
                i = local.choice((0, k // 2, k - 1))
                assert proof_hashes(shared.inclusion_proof(i, k)) == want_inclusion[(i, k)]
                a = local.choice([s for s in sizes if s <= k])
                assert proof_hashes(shared.consistency_proof(a, k)) == want_consistency[(a, k)]
            # a private tree, appended in pieces
            piece = leaves[rnd * 40:(rnd + 1) * 40]
            private.extend(piece, threads=threads)
            private_leaves.extend(piece)
            private_roots[(worker, rnd)] = private.root()
            assert private.size == len(private_leaves)

    run_threads(work)

    # The shared tree holds every batch exactly once, each where its append said it went.
    expected_order = list(leaves)
    for first in sorted(landed):
        assert first == len(expected_order), "two appends overlapped or left a gap"
        expected_order.extend(landed[first])
    assert shared.size == len(expected_order)
    single = merkle.MerkleTree()
    single.extend(expected_order, threads=1)
    assert shared.root() == single.root()
    for index in random.Random(1).sample(range(len(expected_order)), 50):
        assert shared.leaf_hash(index) == single.leaf_hash(index)

    # Every private tree equals the same leaves appended on one thread.
    for (worker, rnd), root in private_roots.items():
        alone = merkle.MerkleTree()
        alone.extend(leaves[:(rnd + 1) * 40], threads=1)
        assert root == alone.root(), f"worker {worker}'s private tree after round {rnd}"


def test_one_hasher_shared_by_threads_is_not_torn():
    """Blake3 update() releases the GIL for large inputs: threads sharing one incremental
    hasher must see whole updates (in some order), never interleaved bytes."""
    chunk = bytes(range(256)) * 256  # 64 KiB, above the GIL-release threshold
    hasher_class = getattr(hashing, "Blake3Hasher", None) or getattr(hashing, "Blake3")
    shared = hasher_class()

    def work(worker: int) -> None:
        for _ in range(4):
            shared.update(chunk)

    run_threads(work, 4)
    # every update is the same bytes, so any whole-update order gives one digest
    assert shared.digest() == blake3_ref.blake3(chunk * 16).digest()
