"""The end-to-end demo behind ``ledger-core demo`` (``bash run.sh demo``).

On an embedded default data set it runs the main job and prints ledger_core's own
throughput (the comparison with libsodium is a benchmark: bench/bench_pipeline.py):

1. generate sellers (Ed25519 keys through libsodium) and signed invoices, and spoil
   a few of them (a forged signature, a malleated S, a small-order key);
2. import: verify every signature in batches (the native batch verifier), reject the
   spoiled records with their reason, and append every accepted record to the log;
3. prove: inclusion proofs for random invoices and a consistency proof between
   two sizes, checked by the native verifier and by the pure-Python auditor
   module ``ledger_core.proofs``; a signed checkpoint of the final root;
4. audit: recompute the root from the records, re-verify every signature, and
   show that a tampered invoice is caught by both the signature check and its
   inclusion proof.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple, TypeVar

import numpy as np

import ledger_core
from ledger_core import checkpoint, ed25519, hashing, merkle, proofs


@dataclass
class Invoices:
    public_keys: np.ndarray  # (N, 32) uint8, the seller's key per invoice
    signatures: np.ndarray  # (N, 64) uint8
    buffer: bytes  # the invoice documents, concatenated
    offsets: np.ndarray  # (N + 1,) uint64

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def document(self, i: int) -> bytes:
        return self.buffer[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def documents(self) -> List[bytes]:
        """Every document, as the list of bytes the batch verifier reads in place."""
        return [self.document(i) for i in range(len(self))]

    def subset(self, rows: np.ndarray) -> "Invoices":
        docs = [self.document(int(i)) for i in rows]
        offsets = np.zeros(len(docs) + 1, dtype=np.uint64)
        np.cumsum([len(d) for d in docs], out=offsets[1:])
        return Invoices(self.public_keys[rows], self.signatures[rows], b"".join(docs), offsets)


_T = TypeVar("_T")


def _timed(fn: Callable[[], _T]) -> Tuple[_T, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def _line(label: str, count: int, seconds: float, unit: str, extra: str = "") -> None:
    rate = count / seconds if seconds > 0 else float("inf")
    print(f"  {label:<34} {count:>10,} {unit:<8} {seconds:8.3f} s  {rate:>14,.0f} {unit}/s  {extra}")


def generate(count: int, sellers: int, seed: int) -> Invoices:
    """Signed invoices from `sellers` keys, drawn Zipf-like, deterministic in `seed`."""
    rng = np.random.default_rng(seed)
    keys = [
        ed25519.SigningKey.from_seed(hashing.blake3_derive_key("ledger_core demo seller", seed.to_bytes(8, "little") + i.to_bytes(8, "little")))
        for i in range(sellers)
    ]
    weights = 1.0 / np.arange(1, sellers + 1)
    seller_of = rng.choice(sellers, size=count, p=weights / weights.sum())
    amounts = rng.integers(100, 10_000_000, size=count)
    days = rng.integers(0, 365, size=count)
    docs: List[bytes] = []
    sigs = np.empty((count, ed25519.SIGNATURE_LEN), dtype=np.uint8)
    pks = np.empty((count, ed25519.PUBLIC_KEY_LEN), dtype=np.uint8)
    for i in range(count):
        s = int(seller_of[i])
        doc = json.dumps(
            {
                "seller": f"DE{100000000 + s}",
                "number": f"INV-{s}-{i:09d}",
                "issue_date": f"2026-{1 + int(days[i]) // 31:02d}-{1 + int(days[i]) % 28:02d}",
                "currency": "EUR",
                "total_cents": int(amounts[i]),
                "buyer": f"FR{int(rng.integers(10**10, 10**11))}",
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        docs.append(doc)
        sigs[i] = np.frombuffer(keys[s].sign(doc), dtype=np.uint8)
        pks[i] = np.frombuffer(keys[s].public_key, dtype=np.uint8)
    offsets = np.zeros(count + 1, dtype=np.uint64)
    np.cumsum([len(d) for d in docs], out=offsets[1:])
    return Invoices(pks, sigs, b"".join(docs), offsets)


def plant_bad_records(inv: Invoices, seed: int) -> Dict[int, str]:
    """Spoil a few records in place, as a feed from the field would: each must be caught."""
    rng = np.random.default_rng(seed + 2)
    picks = [int(i) for i in rng.choice(len(inv), size=min(3, len(inv)), replace=False)]
    planted: Dict[int, str] = {}
    kinds = ["forged signature", "S + L (malleated)", "small-order key"]
    for i, kind in zip(picks, kinds):
        if kind == "forged signature":
            inv.signatures[i, 32] ^= 0x01  # S off by one: still < L, the equation fails
        elif kind == "S + L (malleated)":
            s = int.from_bytes(inv.signatures[i, 32:].tobytes(), "little") + ed25519.GROUP_ORDER
            inv.signatures[i, 32:] = np.frombuffer(s.to_bytes(32, "little"), np.uint8)
        else:
            inv.public_keys[i] = 0
            inv.public_keys[i, 0] = 1  # the identity point
        planted[i] = kind
    return planted


def leaf_records(inv: Invoices) -> Tuple[bytes, np.ndarray]:
    """The Merkle leaf of every invoice (public key || signature || document), packed: one
    buffer and N + 1 uint64 offsets (bench/bench_pipeline.py reads this layout too)."""
    parts = [inv.public_keys[i].tobytes() + inv.signatures[i].tobytes() + inv.document(i) for i in range(len(inv))]
    offsets = np.zeros(len(parts) + 1, dtype=np.uint64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    return b"".join(parts), offsets


def run(count: int = 200_000, sellers: int = 2_000, seed: int = 2026) -> int:
    if count < 10 or sellers < 1:
        raise SystemExit("demo: needs at least 10 invoices and 1 seller")
    feats = ledger_core.features()
    print(f"ledger_core {ledger_core.__version__}: {feats['threads']} threads, paths {feats['paths']}")
    print(f"demo: {count:,} invoices from {sellers:,} sellers (seed {seed})\n")

    print("1. generate (libsodium signing through PyNaCl)")
    inv, t = _timed(lambda: generate(count, sellers, seed))
    _line("generate + sign", count, t, "invoices")
    planted = plant_bad_records(inv, seed)
    print(f"  planted {len(planted)} bad records for the import to catch: "
          + ", ".join(f"#{i} ({what})" for i, what in sorted(planted.items())))

    print("\n2. import: batch-verify signatures, reject bad records, append the rest to the Merkle log")
    messages = inv.documents()
    for threads in (1, None):
        reasons, t_verify = _timed(
            lambda: ed25519.verify_batch_detailed(inv.public_keys, messages, inv.signatures, threads=threads)
        )
        _line(f"verify_batch threads={threads or feats['threads']}", count, t_verify, "sigs")
    rejected = {int(i): ed25519.Reason(int(reasons[i])).name for i in np.flatnonzero(reasons != ed25519.Reason.OK)}
    for i, reason in sorted(rejected.items()):
        print(f"  rejected record #{i}: {reason}")
    if set(rejected) != set(planted):
        raise SystemExit(f"demo: rejected {sorted(rejected)} but planted {sorted(planted)} (a bug)")
    accepted = np.flatnonzero(reasons == ed25519.Reason.OK)
    inv = inv.subset(accepted)
    count = len(inv)
    messages = inv.documents()

    tree = merkle.MerkleTree(merkle.BLAKE3)
    records = ledger_core.Packed(*leaf_records(inv))
    _, t_append = _timed(lambda: tree.extend(records))
    _line("append accepted records to the log", count, t_append, "leaves")
    root = tree.root()
    print(f"  root at size {tree.size:,}: {root.hex()}")

    print("\n3. prove")
    rng = np.random.default_rng(seed + 1)
    picks = rng.integers(0, count, size=min(count, 10_000))
    proofs_list, t_prove = _timed(lambda: [tree.inclusion_proof(int(i)) for i in picks])
    _line("inclusion proofs", len(picks), t_prove, "proofs")
    leaf_hashes = [tree.leaf_hash(int(i)) for i in picks]
    ok_native, t_check = _timed(lambda: all(p.verify(h, root) for h, p in zip(leaf_hashes, proofs_list)))
    _line("verify inclusion (native)", len(picks), t_check, "proofs")
    k = min(len(picks), 200)
    # The auditor's path: the proof as JSON, read and checked by the pure-Python module.
    texts = [proofs_list[j].to_json(leaf_hash=leaf_hashes[j], root=root) for j in range(k)]
    ok_python, t_py = _timed(
        lambda: all(proofs.InclusionProof.from_json(t).verify(leaf_hashes[j], root) for j, t in enumerate(texts))
    )
    _line("verify inclusion JSON (pure Python)", k, t_py, "proofs")
    old = count // 3
    cproof = tree.consistency_proof(old)
    ok_cons = cproof.verify(tree.root(old), root) and proofs.verify_consistency(
        "blake3", old, count, cproof.hashes, tree.root(old), root
    )
    print(f"  consistency {old:,} -> {count:,}: {len(cproof.hashes)} hashes, verifies: {ok_cons}")
    operator = ed25519.SigningKey.from_seed(hashing.blake3_derive_key("ledger_core demo operator", seed.to_bytes(8, "little")))
    origin = "demo.ledger-core.example/log"
    note = checkpoint.sign(checkpoint.Checkpoint(origin, count, root), operator)
    print("  signed checkpoint:\n    " + note.rstrip("\n").replace("\n", "\n    "))
    verified = checkpoint.verify(note, operator.public_key, origin)
    if not (ok_native and ok_python and ok_cons and verified.size == count and verified.root == root):
        raise SystemExit("demo: a proof or the checkpoint did not verify (a bug)")

    print("\n4. audit")
    audit = merkle.MerkleTree(merkle.BLAKE3)
    _, t_root = _timed(lambda: audit.extend(ledger_core.Packed(*leaf_records(inv))))
    print(f"  recomputed root from {count:,} records matches: {audit.root() == root}")
    reasons, t_reverify = _timed(lambda: ed25519.verify_batch_detailed(inv.public_keys, messages, inv.signatures))
    _line("re-verify all signatures", count, t_reverify, "sigs", f"{int(np.sum(reasons == ed25519.Reason.OK)):,} ok")
    victim = int(picks[0])
    doc = bytearray(inv.document(victim))
    doc[doc.index(b'"total_cents":') + 14] ^= 0x01  # one digit of the amount
    sig_ok = ed25519.verify(inv.public_keys[victim].tobytes(), bytes(doc), inv.signatures[victim].tobytes())
    forged_leaf = merkle.BLAKE3.hash_leaf(inv.public_keys[victim].tobytes() + inv.signatures[victim].tobytes() + bytes(doc))
    proof_ok = merkle.verify_inclusion(merkle.BLAKE3, victim, count, forged_leaf, proofs_list[0].hashes, root)
    print(f"  tampered invoice {victim}: signature verifies {sig_ok}, inclusion proof verifies {proof_ok}")
    if sig_ok or proof_ok or audit.root() != root:
        raise SystemExit("demo: the audit failed to catch tampering (a bug)")

    print("\ndemo: all checks passed")
    return 0
