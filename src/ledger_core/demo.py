"""The end-to-end demo behind ``ledger-core demo`` (``bash run.sh demo``).

On an embedded default data set it runs the main job and prints ledger_core's own
throughput (comparisons with off-the-shelf packages are benchmarks: bench/):

1. generate sellers (Ed25519 keys through libsodium) and signed invoices (the seller
   signs the invoice envelope of docs/FORMAT.md), and spoil a few of them (a forged
   signature, a malleated S, a small-order key, a duplicate invoice number);
2. import into a ledger on disk (LMDB, durability "full"): batches verified and
   appended atomically; the spoiled records are reported with their reason and skipped;
3. prove from disk: inclusion proofs for random invoices and a consistency proof
   between two sizes, checked by the native verifier and by the pure-Python auditor
   module ``ledger_core.proofs``; a signed checkpoint stored in the ledger;
4. audit: re-hash every payload and leaf, re-verify every signature, rebuild every
   tree tile and index, check the stored checkpoint and one kept outside; and show
   that a tampered invoice fails both its signature and its inclusion proof.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple, TypeVar

import numpy as np

import ledger_core
from ledger_core import checkpoint, ed25519, hashing, invoice, merkle, proofs
from ledger_core.invoice import InvoiceBatch
from ledger_core.ledger import Ledger, RejectReason

_T = TypeVar("_T")

# Records per append_batch call (each one write transaction, synced to disk).
BATCH = 16384


def _timed(fn: Callable[[], _T]) -> Tuple[_T, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def _line(label: str, count: int, seconds: float, unit: str, extra: str = "") -> None:
    rate = count / seconds if seconds > 0 else float("inf")
    print(f"  {label:<38} {count:>10,} {unit:<8} {seconds:8.3f} s  {rate:>14,.0f} {unit}/s  {extra}")


def generate(count: int, sellers: int, seed: int) -> Tuple[InvoiceBatch, List[ed25519.SigningKey]]:
    """Signed invoices from `sellers` keys, drawn Zipf-like, deterministic in `seed`; and
    the key that signed each invoice."""
    rng = np.random.default_rng(seed)
    keys = [
        ed25519.SigningKey.from_seed(hashing.blake3_derive_key("ledger_core demo seller", seed.to_bytes(8, "little") + i.to_bytes(8, "little")))
        for i in range(sellers)
    ]
    weights = 1.0 / np.arange(1, sellers + 1)
    seller_of = rng.choice(sellers, size=count, p=weights / weights.sum())
    amounts = rng.integers(100, 10_000_000, size=count)
    days = rng.integers(0, 365, size=count)
    issued = (np.int64(1767225600000) + days.astype(np.int64) * 86_400_000).astype(np.int64)
    ids: List[str] = []
    payloads: List[bytes] = []
    sigs = np.empty((count, ed25519.SIGNATURE_LEN), dtype=np.uint8)
    pks = np.empty((count, ed25519.PUBLIC_KEY_LEN), dtype=np.uint8)
    for i in range(count):
        s = int(seller_of[i])
        number = f"INV-{s}-{i:09d}"
        doc = json.dumps(
            {
                "seller": f"DE{100000000 + s}",
                "number": number,
                "issue_date": f"2026-{1 + int(days[i]) // 31:02d}-{1 + int(days[i]) % 28:02d}",
                "currency": "EUR",
                "total_cents": int(amounts[i]),
                "buyer": f"FR{int(rng.integers(10**10, 10**11))}",
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        ids.append(number)
        payloads.append(doc)
        message = invoice.envelope(number, int(issued[i]), invoice.payload_hash(doc))
        sigs[i] = np.frombuffer(keys[s].sign(message), dtype=np.uint8)
        pks[i] = np.frombuffer(keys[s].public_key, dtype=np.uint8)
    return InvoiceBatch(ids, issued, pks, sigs, payloads), [keys[int(s)] for s in seller_of]


def plant_bad_records(batch: InvoiceBatch, signers: List[ed25519.SigningKey], seed: int) -> Dict[int, str]:
    """Spoil a few records in place, as a feed from the field would: each must be caught."""
    rng = np.random.default_rng(seed + 2)
    # Four distinct records, none right after another: the duplicate spoils the next one.
    picks = [int(i) for i in rng.choice(len(batch) // 2 - 1, size=min(4, len(batch) // 2 - 1), replace=False) * 2]
    planted: Dict[int, str] = {}
    kinds = ["EQUATION_FAILED", "NON_CANONICAL_S", "SMALL_ORDER_KEY", "DUPLICATE_IN_BATCH"]
    for i, kind in zip(picks, kinds):
        if kind == "EQUATION_FAILED":
            batch.signatures[i, 32] ^= 0x01  # S off by one: still < L, the equation fails
        elif kind == "NON_CANONICAL_S":
            s = int.from_bytes(batch.signatures[i, 32:].tobytes(), "little") + ed25519.GROUP_ORDER
            batch.signatures[i, 32:] = np.frombuffer(s.to_bytes(32, "little"), np.uint8)
        elif kind == "SMALL_ORDER_KEY":
            batch.seller_keys[i] = 0
            batch.seller_keys[i, 0] = 1  # the identity point
        else:
            # The seller issues the same invoice number again, later in the feed, over
            # another document, and signs it (the double issue that double financing needs).
            j = i + 1
            number, key = batch.invoice_ids[i], signers[i]
            batch.invoice_ids[j] = number
            batch.seller_keys[j] = np.frombuffer(key.public_key, np.uint8)
            message = invoice.envelope(number, int(batch.issued_at[j]), invoice.payload_hash(batch.payloads[j]))
            batch.signatures[j] = np.frombuffer(key.sign(message), np.uint8)
            i = j
        planted[i] = kind
    return planted


def run(count: int = 200_000, sellers: int = 2_000, seed: int = 2026, path: Optional[str] = None) -> int:
    if count < 10 or sellers < 1:
        raise SystemExit("demo: needs at least 10 invoices and 1 seller")
    feats = ledger_core.features()
    print(f"ledger_core {ledger_core.__version__}: {feats['threads']} threads, paths {feats['paths']}")
    print(f"demo: {count:,} invoices from {sellers:,} sellers (seed {seed})\n")
    workdir = None
    if path is None:
        workdir = tempfile.mkdtemp(prefix="ledger_core_demo_")
        path = os.path.join(workdir, "ledger")
    try:
        return _run(count, sellers, seed, path)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(count: int, sellers: int, seed: int, path: str) -> int:
    print("1. generate (libsodium signing through PyNaCl)")
    (batch, signers), t = _timed(lambda: generate(count, sellers, seed))
    _line("generate + sign", count, t, "invoices")
    planted = plant_bad_records(batch, signers, seed)
    print(f"  planted {len(planted)} bad records for the import to catch: "
          + ", ".join(f"#{i} ({what})" for i, what in sorted(planted.items())))

    print(f"\n2. import into the ledger at {path} (LMDB, durability full, batches of {BATCH:,})")
    ledger = Ledger.open(path)
    rejected: Dict[int, str] = {}

    def import_all() -> int:
        appended = 0
        for start in range(0, count, BATCH):
            stop = min(count, start + BATCH)
            part = InvoiceBatch(batch.invoice_ids[start:stop], batch.issued_at[start:stop],
                                batch.seller_keys[start:stop], batch.signatures[start:stop],
                                batch.payloads[start:stop])
            report = ledger.append_batch(part, on_invalid="skip")
            appended += report.appended
            for r in report.rejected:
                rejected[start + r.position] = r.reason.name
        return appended

    appended, t_import = _timed(import_all)
    _line("verify + append (all cores)", count, t_import, "records")
    for i, reason in sorted(rejected.items()):
        print(f"  rejected record #{i}: {reason}")
    if rejected != planted:
        raise SystemExit(f"demo: rejected {rejected} but planted {planted} (a bug)")
    size, root = ledger.size, ledger.root()
    print(f"  {appended:,} records appended; root at size {size:,}: {root.hex()}")

    print("\n3. prove (from disk)")
    rng = np.random.default_rng(seed + 1)
    picks = [int(i) for i in rng.integers(0, size, size=min(size, 10_000))]
    proofs_list, t_prove = _timed(lambda: [ledger.prove_inclusion(i) for i in picks])
    _line("inclusion proofs", len(picks), t_prove, "proofs")
    leaf_hashes = [ledger.leaf_hash(i) for i in picks]
    ok_native, t_check = _timed(lambda: all(p.verify(h, root) for h, p in zip(leaf_hashes, proofs_list)))
    _line("verify inclusion (native)", len(picks), t_check, "proofs")
    k = min(len(picks), 200)
    # The auditor's path: the proof as JSON, read and checked by the pure-Python module.
    texts = [proofs_list[j].to_json(leaf_hash=leaf_hashes[j], root=root) for j in range(k)]
    ok_python, t_py = _timed(
        lambda: all(proofs.InclusionProof.from_json(t).verify(leaf_hashes[j], root) for j, t in enumerate(texts))
    )
    _line("verify inclusion JSON (pure Python)", k, t_py, "proofs")
    stored = ledger.get_many(picks)
    keys = [stored.seller_keys[j].tobytes() for j in range(len(picks))]
    found, t_find = _timed(lambda: [ledger.find(keys[j], stored.invoice_ids[j]) for j in range(len(picks))])
    _line("find (seller, invoice number)", len(picks), t_find, "lookups")
    old = size // 3
    cproof = ledger.prove_consistency(old)
    ok_cons = cproof.verify(ledger.root(old), root) and proofs.verify_consistency(
        "blake3", old, size, cproof.hashes, ledger.root(old), root
    )
    print(f"  consistency {old:,} -> {size:,}: {len(cproof.hashes)} hashes, verifies: {ok_cons}")
    operator = ed25519.SigningKey.from_seed(hashing.blake3_derive_key("ledger_core demo operator", seed.to_bytes(8, "little")))
    origin = "demo.ledger-core.example/log"
    note = ledger.checkpoint(operator, origin)
    print("  signed checkpoint (stored in the ledger; a witness keeps a copy):\n    " + note.rstrip("\n").replace("\n", "\n    "))
    verified = checkpoint.verify(note, operator.public_key, origin)
    if not (ok_native and ok_python and ok_cons and verified.size == size and verified.root == root):
        raise SystemExit("demo: a proof or the checkpoint did not verify (a bug)")
    if found != picks:
        raise SystemExit("demo: find did not return the invoices' own seqs (a bug)")

    print("\n4. audit")
    report, t_audit = _timed(lambda: ledger.audit(checkpoint=note, public_key=operator.public_key, origin=origin))
    _line("audit: every payload, signature, tile, index", report.records, t_audit, "records",
          "clean" if report.ok else f"{report.problem_count} problems")
    victim = picks[0]
    record = ledger.get(victim)
    doc = bytearray(record.payload)
    doc[doc.index(b'"total_cents":') + 14] ^= 0x01  # one digit of the amount
    forged = invoice.Invoice(record.invoice_id, record.issued_at, record.seller_key, record.signature, bytes(doc))
    sig_ok = ed25519.verify(forged.seller_key, forged.envelope(), forged.signature)
    forged_leaf = ledger.hasher.hash_leaf(forged.leaf_data())
    proof_ok = proofs_list[0].verify(forged_leaf, root)
    print(f"  tampered invoice {victim}: signature verifies {sig_ok}, inclusion proof verifies {proof_ok}")
    if not report.ok or sig_ok or proof_ok:
        raise SystemExit(f"demo: the audit failed ({report.problems[:3]}) or missed tampering (a bug)")
    ledger.close()
    print("\ndemo: all checks passed")
    return 0
