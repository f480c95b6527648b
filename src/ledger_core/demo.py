"""The end-to-end demo behind ``ledger-core demo`` (``bash run.sh demo``).

On an embedded default data set it runs the main job and prints ledger_core's own
throughput (comparisons with off-the-shelf packages are benchmarks: bench/):

1. generate (once; cached as Parquet) about a million signed Chinese e-invoices with
   ledger_core.generator (the seller signs the invoice envelope of docs/FORMAT.md through
   libsodium), then spoil a few of them as the feed is read (a forged signature, a
   malleated S, a small-order key, a re-issued invoice number);
2. import into a ledger on disk (LMDB, durability "full"), streamed from the Parquet
   file: batches verified and appended atomically; the spoiled records are reported
   with their reason and skipped;
3. prove from disk: inclusion proofs for random invoices and a consistency proof
   between two sizes, checked by the native verifier and by the pure-Python auditor
   module ``ledger_core.proofs``; a signed checkpoint stored in the ledger;
4. audit: re-hash every payload and leaf, re-verify every signature, rebuild every
   tree tile and index, check the stored checkpoint and one kept outside; and show
   that a tampered invoice fails both its signature and its inclusion proof;
5. import the EN 16931 example invoices (UBL and CII XML) beside the checkout, attested
   by the operator's key, their re-used numbers reported as duplicates.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

import numpy as np

import ledger_core
from ledger_core import checkpoint, ed25519, generator, hashing, invoice, merkle, proofs
from ledger_core.invoice import InvoiceBatch
from ledger_core.ledger import Ledger, RejectReason

_T = TypeVar("_T")

# Records per batch (each one write transaction, synced to disk), as ledger-core import.
BATCH = 65536


def _timed(fn: Callable[[], _T]) -> Tuple[_T, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def _line(label: str, count: int, seconds: float, unit: str, extra: str = "") -> None:
    rate = count / seconds if seconds > 0 else float("inf")
    print(f"  {label:<38} {count:>10,} {unit:<8} {seconds:8.3f} s  {rate:>14,.0f} {unit}/s  {extra}")


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


def default_cache_dir() -> str:
    """Where generated data sets are kept: $LEDGER_CORE_CACHE, else ~/.cache/ledger_core."""
    return os.environ.get("LEDGER_CORE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "ledger_core")


def data_set(count: int, sellers: int, seed: int, cache_dir: str) -> str:
    """The demo's signed invoices as a Parquet file, made once (generator.generate_file,
    all cores) and cached."""
    path = os.path.join(cache_dir, f"demo_{count}_{sellers}_{seed}_g{generator.GENERATOR_VERSION}.parquet")
    if os.path.exists(path):
        print(f"  data set cached: {path}")
        return path
    os.makedirs(cache_dir, exist_ok=True)
    processes = os.cpu_count() or 1
    # About 50 us of one core per invoice here (libsodium signing is half of it).
    print(f"  generating {count:,} signed invoices with {processes} processes: about "
          f"{count * 50e-6 / processes + 10:,.0f} s, once (cached in {cache_dir})")
    partial = path + ".partial"
    (_, t) = _timed(lambda: generator.generate_file(partial, count, sellers=sellers, seed=seed, processes=processes))
    os.replace(partial, path)
    _line("generate + sign", count, t, "invoices")
    return path


def _shared_invoices() -> Optional[str]:
    root = os.environ.get("LEDGER_CORE_SHARED") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")
    path = os.path.join(root, "invoices")
    return path if os.path.isdir(path) else None


def run(count: int = 1_000_000, sellers: int = 2_000, seed: int = 2026, path: Optional[str] = None,
        cache_dir: Optional[str] = None) -> int:
    if count < 10 or sellers < 1:
        raise SystemExit("demo: needs at least 10 invoices and 1 seller")
    cache_dir = cache_dir or default_cache_dir()
    feats = ledger_core.features()
    print(f"ledger_core {ledger_core.__version__}: {feats['threads']} threads, paths {feats['paths']}")
    print(f"demo: {count:,} invoices from {sellers:,} sellers (seed {seed})\n")
    workdir = None
    if path is None:
        workdir = tempfile.mkdtemp(prefix="ledger_core_demo_")
        path = os.path.join(workdir, "ledger")
    try:
        return _run(count, sellers, seed, path, cache_dir)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def _first_batch(batch: InvoiceBatch) -> InvoiceBatch:
    """A batch read from Parquet, as editable columns (for the planted records)."""
    invs = list(batch)
    return InvoiceBatch([i.invoice_id for i in invs], np.array([i.issued_at for i in invs], dtype=np.int64),
                        np.array([np.frombuffer(i.seller_key, np.uint8) for i in invs]),
                        np.array([np.frombuffer(i.signature, np.uint8) for i in invs]), [i.payload for i in invs])


def _run(count: int, sellers: int, seed: int, path: str, cache_dir: str) -> int:
    from ledger_core import importers

    print("1. generate (the 数电票 generator; libsodium signs through PyNaCl)")
    source = data_set(count, sellers, seed, cache_dir)
    keys = {k.public_key: k for k in generator.seller_keys(sellers, seed)}
    planted: Dict[int, str] = {}

    print(f"\n2. import {source} into the ledger at {path} (LMDB, durability full, batches of {BATCH:,})")
    ledger = Ledger.open(path)
    rejected: Dict[int, str] = {}

    def import_all() -> int:
        starts: List[int] = []  # first record number of each batch fed, in order

        def feed() -> Any:
            first = 0
            for k, part in enumerate(importers.read_parquet(source, batch_size=BATCH)):
                if k == 0:
                    # Spoil a few records of the feed, as the field would: each must be caught.
                    part = _first_batch(part)
                    planted.update(plant_bad_records(part, [keys[bytes(row)] for row in part.seller_keys], seed))
                    print(f"  planted {len(planted)} bad records for the import to catch: "
                          + ", ".join(f"#{i} ({what})" for i, what in sorted(planted.items())))
                starts.append(first)
                first += len(part)
                yield part

        appended = 0
        # The importer's stream: batch k + 1 is read and verified while batch k commits.
        for k, report in enumerate(ledger.append_batches(feed(), on_invalid="skip")):
            appended += report.appended
            for r in report.rejected:
                rejected[starts[k] + r.position] = r.reason.name
        return appended

    appended, t_import = _timed(import_all)
    _line("read + verify + append (all cores)", count, t_import, "records")
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
    seller_keys = [stored.seller_keys[j].tobytes() for j in range(len(picks))]
    found, t_find = _timed(lambda: [ledger.find(seller_keys[j], stored.invoice_ids[j]) for j in range(len(picks))])
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
    numbers = '"total_with_tax":"'

    doc = bytearray(record.payload)
    doc[doc.index(numbers.encode()) + len(numbers)] ^= 0x01  # one digit of the amount
    forged = invoice.Invoice(record.invoice_id, record.issued_at, record.seller_key, record.signature, bytes(doc))
    sig_ok = ed25519.verify(forged.seller_key, forged.envelope(), forged.signature)
    forged_leaf = ledger.hasher.hash_leaf(forged.leaf_data())
    proof_ok = proofs_list[0].verify(forged_leaf, root)
    print(f"  tampered invoice {victim}: signature verifies {sig_ok}, inclusion proof verifies {proof_ok}")
    if not report.ok or sig_ok or proof_ok:
        raise SystemExit(f"demo: the audit failed ({report.problems[:3]}) or missed tampering (a bug)")
    print("\n5. import the EN 16931 example invoices (UBL and CII XML), attested by the operator key")
    shared = _shared_invoices()
    if shared is None:
        print("  skipped: no shared/invoices beside the checkout (set LEDGER_CORE_SHARED)")
    else:
        from ledger_core.importers import xml

        def import_xml() -> Tuple[int, int, int]:
            added = dups = files = 0
            for part, paths in xml.read_xml([shared], operator, batch_size=256):
                report = ledger.append_batch(part, on_invalid="skip")
                added += report.appended
                dups += len(report.rejected)
                files += len(paths)
            return added, dups, files

        (added, dups, files), t_xml = _timed(import_xml)
        _line("XML invoices (parse + sign + append)", files, t_xml, "files",
              f"{added} appended, {dups} duplicate numbers reported")
    ledger.close()
    print("\ndemo: all checks passed")
    return 0
