"""Ed25519 verification throughput: libsodium, OpenSSL and ledger_core on the same signatures.

    PYTHONPATH=src python bench/bench_verify.py [--quick] [--no-write]

Measures, in one run and on the same signatures:
  * libsodium (PyNaCl VerifyKey.verify), OpenSSL (cryptography Ed25519PublicKey.verify)
    and ledger_core.ed25519.verify, one signature per call;
  * ledger_core.ed25519.verify_batch at 64, 256, 1024, 4096 and 16384 signatures per call, for
    (a) all-distinct signers, with the key cache cold (cleared before every call: every key
    is new) and warm (the keys were seen before), and (b) 1000 signers drawn Zipf-like
    (the cache warm, as in steady state), on 1 thread and on all threads;
  * the Straus / Pippenger crossover of the multi-scalar multiplication (both forced, on
    128-bit and on 253-bit scalars), which the automatic choice's cost model should match.

The unit is microseconds of CPU per signature ("per core": process CPU time, which counts
every thread, divided by signatures), so a machine shared with other work skews wall time
more than this. Wall time is reported too, for the thread scaling. The anchor (libsodium)
runs in the same process; the ratio is what to read. Writes bench/results/verify.json
(machine, command, every figure) unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np

import benchlib
from benchlib import machine

from ledger_core import _native, ed25519

HERE = Path(__file__).resolve().parent


def _machine() -> Dict[str, object]:
    import cryptography
    import nacl

    info = machine(pynacl=nacl, cryptography=cryptography)
    info["parallel_capacity_cpus_at_start"] = parallel_capacity(os.cpu_count() or 1)
    info["platform"] = platform.platform()
    return info


def _spin(n: int) -> int:
    x = 0
    for i in range(n):
        x += i
    return x


def parallel_capacity(workers: int) -> float:
    """CPUs this process can actually use at once: the same pure-Python work run in 1
    process and then in `workers` processes side by side; 2.0 means two full cores."""
    import multiprocessing

    work = 3_000_000
    t0 = time.perf_counter()
    _spin(work)
    one = time.perf_counter() - t0
    with multiprocessing.Pool(workers) as pool:
        pool.map(_spin, [1000] * workers)  # start the workers before timing
        t0 = time.perf_counter()
        pool.map(_spin, [work] * workers)
        many = time.perf_counter() - t0
    return round(workers * one / many, 2)


def measure(fn: Callable[[], int], min_time: float, min_runs: int,
            setup: Callable[[], None] = lambda: None) -> Tuple[float, float]:
    """(CPU us per item, wall us per item): benchlib.measure's fastest run after a warm-up.

    fn returns how many items it processed; setup runs untimed before each run.
    """
    m = benchlib.measure(fn, min_time=min_time, min_runs=min_runs, setup=setup)
    return m.cpu_us, m.wall_us


def make_signatures(count: int, signers: int, zipf: bool, seed: int):
    rng = random.Random(seed)
    keys = [ed25519.SigningKey.from_seed(rng.randbytes(32)) for _ in range(signers)]
    weights = [1.0 / (i + 1) ** 1.1 for i in range(signers)] if zipf else None
    pks, msgs, sigs = [], [], []
    for i in range(count):
        key = rng.choices(keys, weights)[0] if zipf else keys[i % signers]
        msg = rng.randbytes(rng.randrange(150, 400))  # an invoice's signed header
        pks.append(key.public_key)
        msgs.append(msg)
        sigs.append(key.sign(msg))
    pk_arr = np.frombuffer(b"".join(pks), np.uint8).reshape(count, 32)
    sig_arr = np.frombuffer(b"".join(sigs), np.uint8).reshape(count, 64)
    return pks, msgs, sigs, pk_arr, sig_arr


def single_loops(pks: List[bytes], msgs: List[bytes], sigs: List[bytes], min_time: float):
    import nacl.signing
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sodium_keys = [nacl.signing.VerifyKey(pk) for pk in pks]
    ossl_keys = [Ed25519PublicKey.from_public_bytes(pk) for pk in pks]
    items = list(zip(pks, msgs, sigs))

    def sodium() -> int:
        for vk, (_, m, s) in zip(sodium_keys, items):
            vk.verify(m, s)
        return len(items)

    def openssl() -> int:
        for k, (_, m, s) in zip(ossl_keys, items):
            k.verify(s, m)
        return len(items)

    def ours() -> int:
        verify = ed25519.verify
        for pk, m, s in items:
            if not verify(pk, m, s):
                raise AssertionError("valid signature rejected")
        return len(items)

    return {
        "libsodium": measure(sodium, min_time, 3),
        "openssl": measure(openssl, min_time, 3),
        "ledger_core_single": measure(ours, min_time, 3),
    }


BATCH_SIZES = (64, 256, 1024, 4096, 16384)


def batch_case(pk_arr, msgs, sig_arr, size: int, threads, cold: bool, min_time: float):
    count = pk_arr.shape[0]
    chunks = [(s, s + size) for s in range(0, count - size + 1, size)]
    state = {"i": 0}

    def setup() -> None:
        if cold:
            ed25519.clear_key_cache()

    def run() -> int:
        b, e = chunks[state["i"] % len(chunks)]
        state["i"] += 1
        ok = ed25519.verify_batch(pk_arr[b:e], msgs[b:e], sig_arr[b:e], threads=threads)
        if not ok.all():
            raise AssertionError("valid signature rejected in batch")
        return e - b

    # Each run is one call; enough runs to cover every chunk at least once when cold.
    return measure(run, min_time, max(3, len(chunks) if cold else 3), setup)


def crossover(min_time: float) -> Dict[str, object]:
    """Straus vs Pippenger forced, per group of n points, short and long scalars."""
    rng = np.random.default_rng(5)
    pool = make_signatures(512, 512, False, 77)[3]
    out: Dict[str, object] = {}
    for label, nbytes in (("128-bit scalars", 16), ("253-bit scalars", 32)):
        rows = []
        first_pippenger = None
        for n in (4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512):
            pts = np.ascontiguousarray(pool[:n])
            sc = np.zeros((n, 32), np.uint8)
            sc[:, :nbytes] = rng.integers(0, 256, (n, nbytes), dtype=np.uint8)
            sc[:, 31] &= 0x0F  # < 2^252 < L
            zero = bytes(32)
            times = {}
            for name, method in (("straus", 1), ("pippenger", 2)):
                times[name] = measure(lambda: (_native.ed25519_msm(pts, sc, zero, method), n)[1],
                                      min_time / 10, 5)[0]
            rows.append({"points": n, "straus_us_per_point": round(times["straus"], 3),
                         "pippenger_us_per_point": round(times["pippenger"], 3)})
            if first_pippenger is None and times["pippenger"] < times["straus"]:
                first_pippenger = n
        out[label] = {"rows": rows, "pippenger_faster_from_points": first_pippenger}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    parser.add_argument("--no-write", action="store_true", help="do not write results JSON")
    parser.add_argument("--markdown", metavar="JSON",
                        help="only print the RESULTS.md tables of an earlier results file")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text(encoding="utf-8"))))
        return 0
    min_time = 0.3 if args.quick else 1.0
    all_threads = int(_native.hardware_thread_count())

    print("generating signatures ...", file=sys.stderr)
    d_pks, d_msgs, d_sigs, d_pk_arr, d_sig_arr = make_signatures(32768, 32768, False, 1)
    z_pks, z_msgs, z_sigs, z_pk_arr, z_sig_arr = make_signatures(32768, 1000, True, 2)

    print("single-signature loops ...", file=sys.stderr)
    singles = single_loops(d_pks[:1024], d_msgs[:1024], d_sigs[:1024], min_time)
    sodium_cpu = singles["libsodium"][0]

    results: Dict[str, object] = {
        "machine": _machine(),
        "command": "PYTHONPATH=src python bench/bench_verify.py" + (" --quick" if args.quick else ""),
        "unit": "microseconds of CPU per signature (all threads counted); wall also given",
        "single": {
            name: {"cpu_us_per_sig": round(c, 2), "wall_us_per_sig": round(w, 2),
                   "x_libsodium_per_core": round(sodium_cpu / c, 2)}
            for name, (c, w) in singles.items()
        },
        "batch": [],
    }
    ed25519.clear_key_cache()
    cases = [
        ("all-distinct, cold cache", d_pk_arr, d_msgs, d_sig_arr, True),
        ("all-distinct, warm cache", d_pk_arr, d_msgs, d_sig_arr, False),
        ("1000 signers (Zipf), warm cache", z_pk_arr, z_msgs, z_sig_arr, False),
    ]
    for label, pk_arr, msgs, sig_arr, cold in cases:
        if not cold:  # warm: every key of the set seen once before timing
            ed25519.verify_batch(pk_arr, msgs, sig_arr)
        for size in BATCH_SIZES:
            row: Dict[str, object] = {"keys": label, "batch": size}
            for tlabel, threads in (("1 thread", 1), (f"{all_threads} threads", None)):
                print(f"batch {label} size {size} {tlabel} ...", file=sys.stderr)
                c, w = batch_case(pk_arr, msgs, sig_arr, size, threads, cold, min_time)
                row[tlabel] = {"cpu_us_per_sig": round(c, 2), "wall_us_per_sig": round(w, 2),
                               "x_libsodium_per_core": round(sodium_cpu / c, 2)}
            one = row["1 thread"]["wall_us_per_sig"]  # type: ignore[index]
            many = row[f"{all_threads} threads"]["wall_us_per_sig"]  # type: ignore[index]
            row["wall_speedup_all_threads"] = round(one / many, 2)
            results["batch"].append(row)  # type: ignore[union-attr]
    print("MSM crossover ...", file=sys.stderr)
    results["msm_crossover"] = crossover(min_time)
    results["key_cache"] = ed25519.key_cache_stats()
    results["parallel_capacity_cpus"] = parallel_capacity(all_threads)
    results["load_average_at_end"] = list(os.getloadavg())

    print(json.dumps(results, indent=2))
    print_table(results, all_threads)
    if not args.no_write:
        out = HERE / "results" / "verify.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    return 0


def markdown(results) -> str:
    """The tables of bench/RESULTS.md, from a results dict (every figure from the JSON)."""
    threads = results["machine"].get("logical_cpus") or results["machine"]["hardware_threads"]
    lines = ["| verifier | CPU us/sig | x libsodium (per core) |", "|---|---|---|"]
    names = {"libsodium": "libsodium (PyNaCl) loop", "openssl": "OpenSSL (cryptography) loop",
             "ledger_core_single": "ledger_core.ed25519.verify loop"}
    for name, r in results["single"].items():
        lines.append(f"| {names.get(name, name)} | {r['cpu_us_per_sig']} | {r['x_libsodium_per_core']} |")
    lines += ["", "| keys | batch | 1 thread: CPU us/sig | x libsodium | "
              f"{threads} threads: CPU us/sig | x libsodium | wall speedup {threads} vs 1 |",
              "|---|---|---|---|---|---|---|"]
    for row in results["batch"]:
        one, many = row["1 thread"], row[f"{threads} threads"]
        lines.append(f"| {row['keys']} | {row['batch']} | {one['cpu_us_per_sig']} | "
                     f"{one['x_libsodium_per_core']} | {many['cpu_us_per_sig']} | "
                     f"{many['x_libsodium_per_core']} | {row['wall_speedup_all_threads']} |")
    lines += ["", "| MSM terms per group | Straus us/point | Pippenger us/point (128-bit) | "
              "Straus us/point | Pippenger us/point (253-bit) |", "|---|---|---|---|---|"]
    short = results["msm_crossover"]["128-bit scalars"]["rows"]
    long_ = results["msm_crossover"]["253-bit scalars"]["rows"]
    for a, b in zip(short, long_):
        lines.append(f"| {a['points']} | {a['straus_us_per_point']} | {a['pippenger_us_per_point']} | "
                     f"{b['straus_us_per_point']} | {b['pippenger_us_per_point']} |")
    return "\n".join(lines)


def print_table(results, all_threads: int) -> None:
    print("\n| what | CPU us/sig (per core) | x libsodium per core | wall us/sig |", file=sys.stderr)
    print("|---|---|---|---|", file=sys.stderr)
    for name, r in results["single"].items():
        print(f"| {name} | {r['cpu_us_per_sig']} | {r['x_libsodium_per_core']} | {r['wall_us_per_sig']} |",
              file=sys.stderr)
    for row in results["batch"]:
        for tlabel in ("1 thread", f"{all_threads} threads"):
            r = row[tlabel]
            print(f"| batch {row['batch']}, {row['keys']}, {tlabel} | {r['cpu_us_per_sig']} | "
                  f"{r['x_libsodium_per_core']} | {r['wall_us_per_sig']} |", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
