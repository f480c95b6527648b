"""Merkle log benchmark: append, prove and verify at 10 million leaves, against pymerkle.

    PYTHONPATH=src python bench/bench_merkle.py [--leaves 10000000] [--anchor-leaves 100000]

Measures, in one run, on random leaf hashes drawn fresh for the run:
  * append: ns per leaf through MerkleTree.extend_hashes of an (N, 32) numpy array into
    an empty tree (blake3 suite, all threads and 1 thread; sha256 suite once), with the
    raw cost of hashing 64-byte parents through hashing.blake3_many as the floor;
  * inclusion and consistency proofs at N leaves: generation (MerkleTree, us per proof,
    Python call included) and verification (native merkle.verify_*, and the pure-Python
    auditor's ledger_core.proofs), at random indexes and sizes;
  * the anchor, pymerkle's InmemoryTree (sha256), at --anchor-leaves leaves because it is
    slow: append_entry per leaf, prove_inclusion / prove_consistency and their verifiers;
    ledger_core is measured at the same size (sha256 suite, extend of the same entries)
    so the ratios compare like with like.

Figures are the fastest of the runs of benchlib.measure (the one timer of bench/): at
least --reps runs after a warm-up, and for per-call figures (proofs) passes over the
random arguments for at least --min-time; the machine is shared, so the fastest, not the
mean. Goals: append <= 30 ns per leaf, proofs <= 20 us at 10 million leaves.
Results go to bench/results/merkle.json and to the "## Merkle log (bench/bench_merkle.py)"
section of bench/RESULTS.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

from benchlib import cycle, machine, measure

from ledger_core import hashing, merkle, proofs

HERE = Path(__file__).resolve().parent
SECTION = "## Merkle log (bench/bench_merkle.py)"
GOAL_APPEND_NS = 30.0
GOAL_PROOF_US = 20.0


def _machine() -> Dict[str, object]:
    import pymerkle

    return machine(pymerkle=pymerkle)


def per_call_us(fn: Callable[[int], object], args: List[int], min_time: float, reps: int) -> float:
    """Microseconds per call of fn over the argument list: the fastest pass (benchlib)."""
    return measure(cycle(fn, args), min_time=min_time, min_runs=reps).wall_us


def append_ns(hashes: np.ndarray, suite: str, threads, reps: int, reserved: bool = False) -> float:
    """ns per leaf of extend_hashes into an empty tree, made (and reserved) untimed: the
    fastest of `reps` runs."""
    state: Dict[str, merkle.MerkleTree] = {}

    def setup() -> None:
        state.clear()  # the last tree's memory goes before the next is made
        tree = merkle.MerkleTree(suite)
        if reserved:
            tree.reserve(len(hashes))  # memory allocated and faulted in before the clock starts
        gc.collect()
        state["tree"] = tree

    def run() -> int:
        state["tree"].extend_hashes(hashes, threads=threads)
        return len(hashes)

    done = measure(run, min_time=0.0, min_runs=reps, warmup=0, setup=setup)
    state.clear()
    return done.wall_ns


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--anchor-leaves", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=0.3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render-only", action="store_true", help="rewrite RESULTS.md from results/merkle.json")
    args = parser.parse_args(argv)
    if args.render_only:
        write_results(json.loads((HERE / "results" / "merkle.json").read_text()))
        return 0
    n, anchor_n, reps = args.leaves, args.anchor_leaves, args.reps
    rng = np.random.default_rng(int.from_bytes(os.urandom(8), "little"))
    results: Dict[str, object] = {"machine": _machine(), "command": " ".join(["python"] + sys.argv), "leaves": n}
    started = time.perf_counter()

    # --- append --------------------------------------------------------------------------
    hashes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    parents = rng.integers(0, 256, size=(min(n, 2_000_000), 64), dtype=np.uint8)
    append_ns(hashes[: n // 10], "blake3", None, 1)  # warm-up: pool threads, page cache
    hashing.blake3_many(parents[:10_000], threads=1)
    floor_1t = many_ns(parents, 1, reps)
    floor_all = many_ns(parents, None, reps)
    append_all = append_ns(hashes, "blake3", None, reps)
    append_1t = append_ns(hashes, "blake3", 1, reps)
    append_reserved = append_ns(hashes, "blake3", None, reps, reserved=True)
    append_reserved_1t = append_ns(hashes, "blake3", 1, reps, reserved=True)
    append_sha = append_ns(hashes, "sha256", None, 1)
    results["append"] = {
        "unit": "ns per leaf (extend_hashes of an (N, 32) array into an empty tree)",
        "blake3_all_threads": append_all,
        "blake3_1_thread": append_1t,
        "blake3_all_threads_reserved": append_reserved,
        "blake3_1_thread_reserved": append_reserved_1t,
        "sha256_all_threads": append_sha,
        "floor_blake3_many_64B_parent_1_thread_ns": floor_1t,
        "floor_blake3_many_64B_parent_all_threads_ns": floor_all,
        "goal_ns": GOAL_APPEND_NS,
        "meets_goal": append_all <= GOAL_APPEND_NS,
        "meets_goal_reserved": append_reserved <= GOAL_APPEND_NS,
    }
    print(f"append {n:,} leaf hashes: {append_all:.1f} ns/leaf (all threads), {append_1t:.1f} (1 thread), "
          f"into reserved memory {append_reserved:.1f} / {append_reserved_1t:.1f}, "
          f"sha256 {append_sha:.1f}; blake3_many 64 B floor {floor_1t:.1f} ns (1 thread), {floor_all:.1f} (all)")

    # --- proofs at n leaves --------------------------------------------------------------
    tree = merkle.MerkleTree("blake3")
    tree.extend_hashes(hashes)
    results["memory_bytes_per_leaf"] = tree.memory_bytes() / n
    results["proofs_at_n"] = measure_proofs(tree, "blake3", rng, args.min_time, reps, pure=True)
    del tree
    gc.collect()
    sha_tree = merkle.MerkleTree("sha256")
    sha_tree.extend_hashes(hashes)
    results["proofs_at_n_sha256"] = measure_proofs(sha_tree, "sha256", rng, args.min_time, reps, pure=False)
    del sha_tree, hashes, parents
    gc.collect()
    p = results["proofs_at_n"]
    print(f"at {n:,} leaves (blake3): inclusion proof {p['inclusion_prove_us']:.2f} us, verify "
          f"{p['inclusion_verify_us']:.2f} us (pure Python {p['inclusion_verify_pure_us']:.0f} us); consistency "
          f"proof {p['consistency_prove_us']:.2f} us, verify {p['consistency_verify_us']:.2f} us")

    # --- pymerkle anchor ----------------------------------------------------------------
    results["anchor"] = measure_anchor(anchor_n, rng, args.min_time, reps)
    a = results["anchor"]
    print(f"pymerkle at {anchor_n:,}: append {a['pymerkle']['append_us_per_leaf']:.1f} us/leaf, "
          f"inclusion proof {a['pymerkle']['inclusion_prove_us']:.0f} us; ratios {a['ratios_pymerkle_over_ours']}")
    results["seconds"] = time.perf_counter() - started
    results["machine"]["load_average_at_end"] = os.getloadavg()
    if not args.no_write:
        write_results(results)
    return 0


def many_ns(parents: np.ndarray, threads, reps: int) -> float:
    """ns per 64-byte parent through blake3_many: the fastest of `reps` calls."""

    def run() -> int:
        hashing.blake3_many(parents, threads=threads)
        return len(parents)

    return measure(run, min_time=0.0, min_runs=reps, warmup=0).wall_ns


def measure_proofs(tree: merkle.MerkleTree, suite: str, rng, min_time: float, reps: int, pure: bool) -> Dict[str, float]:
    n = tree.size
    root = tree.root()
    indexes = [int(i) for i in rng.integers(0, n, size=2000)]
    olds = [int(i) for i in rng.integers(1, n, size=2000)]
    leaf = {i: tree.leaf_hash(i) for i in indexes}
    inc = {i: tree.inclusion_proof(i).hashes for i in indexes}
    con = {m: (tree.root(m), tree.consistency_proof(m).hashes) for m in olds}
    assert all(merkle.verify_inclusion(suite, i, n, leaf[i], inc[i], root) for i in indexes[:50])
    assert all(merkle.verify_consistency(suite, m, n, con[m][1], con[m][0], root) for m in olds[:50])
    out = {
        "inclusion_prove_us": per_call_us(tree.inclusion_proof, indexes, min_time, reps),
        "inclusion_verify_us": per_call_us(
            lambda i: merkle.verify_inclusion(suite, i, n, leaf[i], inc[i], root), indexes, min_time, reps),
        "consistency_prove_us": per_call_us(tree.consistency_proof, olds, min_time, reps),
        "consistency_verify_us": per_call_us(
            lambda m: merkle.verify_consistency(suite, m, n, con[m][1], con[m][0], root), olds, min_time, reps),
        "root_at_past_size_us": per_call_us(tree.root, olds, min_time, reps),
        "mean_inclusion_proof_len": sum(len(v) for v in inc.values()) / len(inc),
        "mean_consistency_proof_len": sum(len(v[1]) for v in con.values()) / len(con),
    }
    if pure:
        few = indexes[:40]
        out["inclusion_verify_pure_us"] = per_call_us(
            lambda i: proofs.verify_inclusion(suite, i, n, leaf[i], inc[i], root), few, min_time, 1)
        out["consistency_verify_pure_us"] = per_call_us(
            lambda m: proofs.verify_consistency(suite, m, n, con[m][1], con[m][0], root), olds[:40], min_time, 1)
    out["goal_us"] = GOAL_PROOF_US
    out["meets_goal"] = max(out["inclusion_prove_us"], out["consistency_prove_us"], out["inclusion_verify_us"],
                            out["consistency_verify_us"]) <= GOAL_PROOF_US
    return out


def measure_anchor(n: int, rng, min_time: float, reps: int) -> Dict[str, object]:
    from pymerkle import InmemoryTree, verify_consistency, verify_inclusion

    entries = [bytes(r) for r in rng.integers(0, 256, size=(n, 32), dtype=np.uint8)]

    trees: Dict[str, object] = {}  # the trees are made untimed and kept for the proofs

    def pym_append() -> int:
        for e in entries:
            trees["pymerkle"].append_entry(e)  # type: ignore[attr-defined]
        return n

    def ours_append() -> int:
        trees["ours"].extend(entries)  # type: ignore[attr-defined]
        return n

    pym_append_us = measure(pym_append, min_time=0.0, min_runs=1, warmup=0,  # slow: one run
                            setup=lambda: trees.update(pymerkle=InmemoryTree(algorithm="sha256"))).wall_us
    ours_append_us = measure(ours_append, min_time=0.0, min_runs=reps, warmup=0,
                             setup=lambda: trees.update(ours=merkle.MerkleTree("sha256"))).wall_us
    pym, ours = trees["pymerkle"], trees["ours"]
    assert pym.get_root() == ours.root(), "pymerkle and ledger_core disagree on the sha256 root"

    indexes = [int(i) for i in rng.integers(0, n, size=300)]
    olds = [int(i) for i in rng.integers(1, n, size=300)]
    pym_root = pym.get_root()
    pym_inc = {i: pym.prove_inclusion(i + 1, n) for i in indexes}  # pymerkle counts from 1
    pym_con = {m: (pym.get_root(m), pym.prove_consistency(m, n)) for m in olds}
    pym_leaf = {i: pym.get_leaf(i + 1) for i in indexes}
    verify_inclusion(pym_leaf[indexes[0]], pym_root, pym_inc[indexes[0]])
    verify_consistency(pym_con[olds[0]][0], pym_root, pym_con[olds[0]][1])
    pymerkle_figures = {
        "append_us_per_leaf": pym_append_us,
        "inclusion_prove_us": per_call_us(lambda i: pym.prove_inclusion(i + 1, n), indexes, min_time, reps),
        "inclusion_verify_us": per_call_us(
            lambda i: verify_inclusion(pym_leaf[i], pym_root, pym_inc[i]), indexes, min_time, reps),
        "consistency_prove_us": per_call_us(lambda m: pym.prove_consistency(m, n), olds, min_time, reps),
        "consistency_verify_us": per_call_us(
            lambda m: verify_consistency(pym_con[m][0], pym_root, pym_con[m][1]), olds, min_time, reps),
    }
    ours_figures = measure_proofs(ours, "sha256", rng, min_time, reps, pure=False)
    ours_figures["append_us_per_leaf"] = ours_append_us
    ratios = {
        key: round(pymerkle_figures[key] / ours_figures[key], 1)
        for key in ("append_us_per_leaf", "inclusion_prove_us", "inclusion_verify_us", "consistency_prove_us",
                    "consistency_verify_us")
    }
    return {
        "leaves": n,
        "suite": "sha256 (RFC 9162, what pymerkle computes: roots checked equal)",
        "pymerkle": pymerkle_figures,
        "ledger_core": {k: v for k, v in ours_figures.items() if k not in ("goal_us", "meets_goal")},
        "ratios_pymerkle_over_ours": ratios,
    }


def write_results(results: Dict[str, object]) -> None:
    out = HERE / "results" / "merkle.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    section = render_section(results)
    md = HERE / "RESULTS.md"
    text = md.read_text() if md.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    md.write_text(text)
    print(f"wrote {out} and the merkle section of {md}")


def render_section(r: Dict[str, object]) -> str:
    m, a, p, ps = r["machine"], r["append"], r["proofs_at_n"], r["proofs_at_n_sha256"]
    anc = r["anchor"]
    pm, ours, ratio = anc["pymerkle"], anc["ledger_core"], anc["ratios_pymerkle_over_ours"]
    n = r["leaves"]

    def goal(ok: bool) -> str:
        return "meets goal" if ok else "MISSES goal"

    lines = [
        SECTION,
        "",
        f"Machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs shared with other work (load average "
        f"{m['load_average_at_start'][0]:.1f} at start, {m['load_average_at_end'][0]:.1f} at end); Python {m['python']}; "
        f"paths {m['ledger_core_features']['paths']}; pymerkle {m['pymerkle']}.",
        f"Command: `PYTHONPATH=src {r['command']}` ({r['seconds']:.0f} s). Best of repetitions; noisy shared machine, "
        "so compare ratios within this run only. Raw figures: `bench/results/merkle.json`.",
        "",
        f"| at {n:,} leaves | figure | goal |",
        "|---|---|---|",
        f"| append (extend_hashes, blake3, all threads) | {a['blake3_all_threads']:.1f} ns/leaf | <= {GOAL_APPEND_NS:.0f}: {goal(a['meets_goal'])} |",
        f"| append, 1 thread | {a['blake3_1_thread']:.1f} ns/leaf | |",
        f"| append into memory reserved first (MerkleTree.reserve, untimed), all threads / 1 thread | "
        f"{a['blake3_all_threads_reserved']:.1f} / {a['blake3_1_thread_reserved']:.1f} ns/leaf | "
        f"{goal(a['meets_goal_reserved'])} |",
        f"| append, sha256 suite, all threads | {a['sha256_all_threads']:.1f} ns/leaf | |",
        f"| floor: blake3_many of 64-byte parents, 1 thread / all | {a['floor_blake3_many_64B_parent_1_thread_ns']:.1f} / "
        f"{a['floor_blake3_many_64B_parent_all_threads_ns']:.1f} ns/parent | (~1 parent per leaf) |",
        f"| memory | {r['memory_bytes_per_leaf']:.1f} bytes/leaf | |",
        f"| inclusion proof, generate / verify (blake3) | {p['inclusion_prove_us']:.2f} / {p['inclusion_verify_us']:.2f} us "
        f"| <= {GOAL_PROOF_US:.0f}: {goal(p['meets_goal'])} |",
        f"| consistency proof, generate / verify (blake3) | {p['consistency_prove_us']:.2f} / {p['consistency_verify_us']:.2f} us | |",
        f"| root at a past size (blake3) | {p['root_at_past_size_us']:.2f} us | |",
        f"| inclusion / consistency, generate + verify (sha256) | {ps['inclusion_prove_us']:.2f} + {ps['inclusion_verify_us']:.2f} / "
        f"{ps['consistency_prove_us']:.2f} + {ps['consistency_verify_us']:.2f} us | {goal(ps['meets_goal'])} |",
        f"| pure-Python auditor verify (ledger_core.proofs, blake3): inclusion / consistency | "
        f"{p['inclusion_verify_pure_us']:.0f} / {p['consistency_verify_pure_us']:.0f} us | |",
        "",
        f"Append over the hashing floor (1 thread): {a['blake3_1_thread'] / a['floor_blake3_many_64B_parent_1_thread_ns']:.2f}x "
        f"into fresh memory, {a['blake3_1_thread_reserved'] / a['floor_blake3_many_64B_parent_1_thread_ns']:.2f}x into "
        "reserved memory: the difference is the kernel faulting in and zeroing 64 bytes of fresh memory per leaf "
        "(slow in this VM), the rest copying leaf hashes in.",
        "",
        f"Anchor: pymerkle InmemoryTree (sha256) at {anc['leaves']:,} leaves, against ledger_core's sha256 suite at "
        "the same size and entries (roots checked equal):",
        "",
        "| operation | pymerkle | ledger_core | pymerkle / ledger_core |",
        "|---|---|---|---|",
        f"| append (append_entry loop / extend of the entries as a list of bytes, list conversion included) | "
        f"{pm['append_us_per_leaf']:.2f} us/leaf | "
        f"{ours['append_us_per_leaf']:.3f} us/leaf | {ratio['append_us_per_leaf']}x |",
        f"| inclusion proof | {pm['inclusion_prove_us']:.1f} us | {ours['inclusion_prove_us']:.2f} us | {ratio['inclusion_prove_us']}x |",
        f"| verify inclusion | {pm['inclusion_verify_us']:.1f} us | {ours['inclusion_verify_us']:.2f} us | {ratio['inclusion_verify_us']}x |",
        f"| consistency proof | {pm['consistency_prove_us']:.1f} us | {ours['consistency_prove_us']:.2f} us | {ratio['consistency_prove_us']}x |",
        f"| verify consistency | {pm['consistency_verify_us']:.1f} us | {ours['consistency_verify_us']:.2f} us | {ratio['consistency_verify_us']}x |",
        "",
        f"At 100x the size: pymerkle at {anc['leaves']:,} leaves / ledger_core (sha256) at {n:,}: inclusion proof "
        f"{pm['inclusion_prove_us'] / ps['inclusion_prove_us']:.1f}x, consistency proof "
        f"{pm['consistency_prove_us'] / ps['consistency_prove_us']:.1f}x, verify inclusion "
        f"{pm['inclusion_verify_us'] / ps['inclusion_verify_us']:.1f}x.",
        "",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
