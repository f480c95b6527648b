"""The demo's pipeline, timed, with libsodium's verification measured in the same run.

    PYTHONPATH=src python bench/bench_pipeline.py [--invoices 200000] [--sellers 2000] [--no-write]

Runs the demo's steps in memory (ledger_core.generator's signed invoices, a few spoiled as
ledger_core.demo spoils them, batch verification of the envelopes, the accepted records'
leaves appended to a Merkle log, inclusion proofs) and measures, on the same invoices:
  * generate + sign (libsodium through PyNaCl), invoices per second;
  * batch verification of every invoice (ed25519.verify_batch_detailed over the packed
    documents) on 1 thread and on all threads, signatures per second and CPU microseconds
    per signature;
  * the anchor: libsodium (PyNaCl VerifyKey(key).verify, one call per signature, a key
    object made per call as a caller with a feed of records does) over the honest invoices,
    up to --anchor-count of them;
  * the ratio ledger_core / libsodium, per core (1 thread, CPU time) and wall-clock on all
    threads;
  * building the leaf records and appending them to a MerkleTree, leaves per second;
  * inclusion proofs of random records, proofs per second.

Every figure is the fastest run of benchlib.measure (a warm-up, then runs until at least
--min-runs runs and --min-time seconds); the invoices are drawn fresh from --seed. Writes
bench/results/pipeline.json (machine, command, settings, figures) unless --no-write. Not a
test: the only checks are that the spoiled records, and only they, are rejected.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np

from benchlib import machine, measure

import ledger_core
from ledger_core import demo, ed25519, generator, merkle

HERE = Path(__file__).resolve().parent


def run(args: argparse.Namespace) -> Dict[str, object]:
    import nacl
    from nacl.signing import VerifyKey

    timing = dict(min_time=args.min_time, min_runs=args.min_runs)
    results: Dict[str, object] = {}

    # 1. generate and sign (timed once: it is the set-up of everything below)
    made: Dict[str, generator.Generated] = {}

    def generate() -> int:
        made["gen"] = generator.generate(args.invoices, sellers=args.sellers, seed=args.seed)
        return args.invoices

    gen = measure(generate, min_time=0.0, min_runs=1, warmup=0)
    batch = demo._first_batch(made["gen"].batch)  # editable columns for the planted records
    keys = {k.public_key: k for k in generator.seller_keys(args.sellers, args.seed)}
    planted = demo.plant_bad_records(batch, [keys[bytes(row)] for row in batch.seller_keys], args.seed)
    # A re-issued number carries a good signature: only a ledger's duplicate check sees it.
    bad_signatures = {i for i, kind in planted.items() if kind != "DUPLICATE_IN_BATCH"}
    results["generate_sign_invoices_per_s"] = 1 / gen.wall_s
    invoices = list(batch)
    envelopes = [inv.envelope() for inv in invoices]  # what each seller signed

    # 2. verify: ours on 1 thread and on all, libsodium on the honest invoices
    messages = ledger_core.Packed(b"".join(envelopes), np.cumsum([0] + [len(e) for e in envelopes]).astype(np.uint64))
    count = len(invoices)
    verify: Dict[str, Dict[str, float]] = {}
    reasons = None
    for label, threads in (("1_thread", 1), ("all_threads", None)):
        def ours(threads=threads) -> int:
            nonlocal reasons
            reasons = ed25519.verify_batch_detailed(batch.seller_keys, messages, batch.signatures, threads=threads)
            return count

        m = measure(ours, **timing)
        verify[label] = {"sigs_per_s": 1 / m.wall_s, "cpu_us_per_sig": m.cpu_us, "wall_us_per_sig": m.wall_us}
    assert reasons is not None
    rejected = {int(i) for i in np.flatnonzero(np.asarray(reasons) != int(ed25519.Reason.OK))}
    if rejected != bad_signatures:
        raise SystemExit(f"bench_pipeline: rejected {sorted(rejected)}, planted {sorted(bad_signatures)} (a bug)")

    honest: List[int] = [i for i in range(count) if i not in planted][: args.anchor_count]
    anchor_items = [(invoices[i].seller_key, envelopes[i], invoices[i].signature) for i in honest]

    def libsodium() -> int:
        for pk, doc, sig in anchor_items:
            VerifyKey(pk).verify(doc, sig)
        return len(anchor_items)

    sodium = measure(libsodium, **timing)
    verify["libsodium_anchor"] = {"sigs_per_s": 1 / sodium.wall_s, "cpu_us_per_sig": sodium.cpu_us,
                                  "wall_us_per_sig": sodium.wall_us, "signatures": len(anchor_items)}
    results["verify"] = verify
    results["ratio_vs_libsodium"] = {
        "per_core_cpu": sodium.cpu_s / (verify["1_thread"]["cpu_us_per_sig"] / 1e6),
        "one_thread_wall": verify["1_thread"]["sigs_per_s"] / verify["libsodium_anchor"]["sigs_per_s"],
        "all_threads_wall": verify["all_threads"]["sigs_per_s"] / verify["libsodium_anchor"]["sigs_per_s"],
    }

    # 3. the accepted records into the log
    accepted = [invoices[int(i)] for i in np.flatnonzero(np.asarray(reasons) == int(ed25519.Reason.OK))]
    records: Dict[str, object] = {}

    def leaves() -> int:
        parts = [inv.leaf_data() for inv in accepted]  # M || seller_key || signature (docs/FORMAT.md)
        records["leaves"] = (b"".join(parts), np.cumsum([0] + [len(p) for p in parts]).astype(np.uint64))
        return len(accepted)

    results["leaf_records_per_s"] = 1 / measure(leaves, **timing).wall_s
    buffer, offsets = records["leaves"]  # type: ignore[misc]
    trees: Dict[str, merkle.MerkleTree] = {}

    def append() -> int:
        trees["log"].extend(ledger_core.Packed(buffer, offsets))
        return len(accepted)

    appended = measure(append, setup=lambda: trees.update(log=merkle.MerkleTree()), **timing)
    results["append_leaves_per_s"] = 1 / appended.wall_s
    tree = trees["log"]

    # 4. inclusion proofs of random records
    rng = np.random.default_rng(args.seed + 1)
    picks = [int(i) for i in rng.integers(0, tree.size, size=min(tree.size, 2000))]
    lengths: List[int] = []

    def prove() -> int:
        lengths.clear()
        for i in picks:
            lengths.append(len(tree.inclusion_proof(i).hashes))
        return len(picks)

    results["inclusion_proofs_per_s"] = 1 / measure(prove, **timing).wall_s
    results["mean_proof_hashes"] = sum(lengths) / len(lengths)
    results["records"] = {"invoices": count, "accepted": len(accepted), "planted_bad": len(planted)}
    results["anchor_version"] = {"pynacl": getattr(nacl, "__version__", "unknown")}
    return results


def main(argv: List[str] = None) -> int:  # type: ignore[assignment]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--sellers", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--anchor-count", type=int, default=5_000, help="signatures in the libsodium loop, at most")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds of timed runs per figure, at least")
    parser.add_argument("--min-runs", type=int, default=3, help="timed runs per figure, at least")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write results")
    args = parser.parse_args(argv)
    if args.invoices < 10 or args.sellers < 1:
        parser.error("needs at least 10 invoices and 1 seller (the demo plants 3 bad records)")

    import nacl

    report = {
        "machine": machine(pynacl=nacl),
        "command": "PYTHONPATH=src python bench/bench_pipeline.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
        "settings": vars(args),
        "results": run(args),
    }
    print(json.dumps(report, indent=2))
    r = report["results"]["ratio_vs_libsodium"]  # type: ignore[index]
    print(f"verify_batch vs libsodium: {r['per_core_cpu']:.1f}x per core (CPU), "
          f"{r['all_threads_wall']:.1f}x wall on all threads", file=sys.stderr)
    if not args.no_write:
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "pipeline.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
