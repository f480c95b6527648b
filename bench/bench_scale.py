"""The mission's scale (issue 10): import --records signed invoices (the generator's, 1000
Zipf sellers) with full verification and full durability into a fresh ledger, the way
`ledger-core import` does it, then audit it and measure reads at that size.

    PYTHONPATH=src python bench/bench_scale.py [--records 1000000] [--payload-bytes N]
                                               [--cache-dir DIR] [--work-dir DIR] [--keep]
    PYTHONPATH=src python bench/bench_scale.py --records 10000000          # the full run
    PYTHONPATH=src python bench/bench_scale.py --records 30000000 --payload-bytes 300

The data set is made once by ledger_core.generator (Parquet, cached under --cache-dir) and
reused. Every phase runs in its own process (a fresh heap for the memory figures, and LMDB
allows one environment per file per process); the parent collects JSON:

  * import: read_parquet -> Ledger.append_batches with each batch's import progress, as
    the CLI does (batches of --batch records, 65536 as the CLI's default; durability
    "full"; the map grown by the ledger itself: no pre-sizing). Per batch: records so far and the time (the rate-over-the-run
    plot); peak RssAnon (sampled every 5 ms: the mapped ledger pages are the page cache's,
    not the process's), CPU time, bytes written to disk (/proc/self/io);
  * audit, page cache warm (data.mdb read through first), then after
    `echo 3 > /proc/sys/vm/drop_caches` (root only; skipped and said so otherwise);
  * reads at full size, page cache warm and the map populated (Ledger.warm(), as a
    long-running service has it): inclusion and consistency proofs, get and find
    latency from Python (random seqs; median, p99), a full scan's rate, inclusion proof
    latency at past sizes 10^3 .. N (the proof-latency-vs-size plot);
  * disk: data.mdb's allocated bytes (st_blocks) per record, and beyond the mean payload.

Writes bench/results/scale-<records>[-p<bytes>].json unless --no-write. The ledger is
deleted after the run unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BATCH = 65536  # ledger-core import's default (a batch also ends at 64 MiB of payload)


def log(msg: str) -> None:
    print(f"[bench_scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def dataset_path(args: argparse.Namespace) -> Path:
    from ledger_core import generator

    size = f"_p{args.payload_bytes}" if args.payload_bytes else ""
    return Path(args.cache_dir) / (f"scale_g{generator.GENERATOR_VERSION}_{args.records}_s{args.sellers}{size}"
                                   f"_seed{args.seed}.parquet")


def make_dataset(args: argparse.Namespace) -> Dict[str, Any]:
    """The cached data set (made when absent): its path and the seconds it took."""
    from ledger_core import generator

    path = dataset_path(args)
    if path.exists():
        return {"path": str(path), "seconds_to_make": 0.0, "cached": True}
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"generating {args.records:,} invoices -> {path} (about {args.records * 50e-6 / (os.cpu_count() or 1):,.0f} s)")
    partial = path.with_suffix(".partial")
    t0 = time.perf_counter()
    generator.generate_file(str(partial), args.records, sellers=args.sellers, seed=args.seed,
                            payload_bytes=args.payload_bytes)
    seconds = time.perf_counter() - t0
    partial.rename(path)
    log(f"data set made in {seconds:.0f} s")
    return {"path": str(path), "seconds_to_make": seconds, "cached": False}


# --- phases (each in its own process) ---------------------------------------------------------


class RssSampler:
    """Peak RssAnon of this process, sampled every 5 ms on a thread."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                        break
            self._stop.wait(0.005)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kib


def _io_write_bytes() -> int:
    with open("/proc/self/io") as f:
        return int(dict(line.split(": ") for line in f.read().strip().split("\n"))["write_bytes"])


def phase_import(args: argparse.Namespace) -> Dict[str, Any]:
    from ledger_core import Ledger
    from ledger_core.importers import MAX_BATCH_BYTES, read_parquet

    source = args.source
    key = "file:" + os.path.abspath(source)
    sampler = RssSampler()
    points: List[List[float]] = []  # [records so far, seconds since start]
    io0 = _io_write_bytes()
    c0, t0 = time.process_time(), time.perf_counter()
    with Ledger.open(args.ledger, durability="full") as ledger:
        map_before = ledger.map_size

        def items() -> Any:
            done = 0
            for batch in read_parquet(source, batch_size=args.batch, max_batch_bytes=MAX_BATCH_BYTES):
                done += len(batch)
                yield batch, (key, json.dumps({"records": done}))

        appended = 0
        for report in ledger.append_batches(items()):
            if report.rejected:
                raise SystemExit(f"bench_scale: {len(report.rejected)} records rejected: {report.rejected[:3]}")
            appended += report.appended
            points.append([appended, time.perf_counter() - t0])
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
        size, root, map_after = ledger.size, ledger.root().hex(), ledger.map_size
    peak = sampler.stop()
    written = _io_write_bytes() - io0
    return {"records": appended, "seconds": seconds, "records_per_s": appended / seconds,
            "cpu_us_per_record": cpu / appended * 1e6, "size": size, "root": root,
            "peak_rss_anon_bytes": peak * 1024, "disk_write_bytes_per_record": written / appended,
            "map_size_before": map_before, "map_size_after": map_after, "batch": args.batch, "points": points}


def _read_through(path: Path) -> None:
    with open(path / "data.mdb", "rb") as f:
        while f.read(1 << 24):
            pass


def _drop_caches() -> bool:
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def phase_audit(args: argparse.Namespace) -> Dict[str, Any]:
    from ledger_core import Ledger

    path = Path(args.ledger)
    if args.cold:
        if not _drop_caches():
            return {"skipped": "cannot write /proc/sys/vm/drop_caches (needs root)"}
    else:
        _read_through(path)
    with Ledger.open(path, readonly=True) as ledger:
        t0, c0 = time.perf_counter(), time.process_time()
        report = ledger.audit()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if not report.ok:
        raise SystemExit(f"bench_scale: audit found {report.problem_count} problems: {report.problems[:3]}")
    return {"records": report.records, "seconds": seconds, "records_per_s": report.records / seconds,
            "cpu_seconds": cpu, "cold": args.cold}


def _latency(fn: Any, inputs: List[Any]) -> Dict[str, float]:
    for x in inputs[:50]:
        fn(x)  # warm
    times = []
    for x in inputs:
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"median_us": times[len(times) // 2] * 1e6, "p99_us": times[int(len(times) * 0.99)] * 1e6,
            "mean_us": sum(times) / len(times) * 1e6, "calls": len(times)}


def phase_reads(args: argparse.Namespace) -> Dict[str, Any]:
    from ledger_core import Ledger

    path = Path(args.ledger)
    _read_through(path)
    rng = random.Random(7)
    out: Dict[str, Any] = {}
    with Ledger.open(path, readonly=True) as ledger:
        out["warm_mapped_bytes"] = ledger.warm()  # a service's steady state: no page faults left
        n = ledger.size
        root = ledger.root()
        seqs = [rng.randrange(n) for _ in range(20000)]
        records = ledger.get_many(seqs[:5000])
        keys = [(bytes(records.seller_keys[i]), records.invoice_ids[i]) for i in range(len(records))]
        proof = ledger.prove_inclusion(seqs[0])
        assert proof.verify(ledger.leaf_hash(seqs[0]), root)
        out["inclusion_proof"] = _latency(ledger.prove_inclusion, seqs)
        olds = [rng.randrange(1, n) for _ in range(5000)]
        out["consistency_proof"] = _latency(ledger.prove_consistency, olds)
        out["get"] = _latency(ledger.get, seqs)
        out["find"] = _latency(lambda k: ledger.find(*k), keys)
        found = [ledger.find(*k) for k in keys[:100]]
        assert found == seqs[:100] or all(ledger.get(s).invoice_id == k[1] for s, k in zip(found, keys[:100]))
        by_size = {}
        size = 1000
        while size < n:
            sample = [rng.randrange(size) for _ in range(3000)]
            by_size[str(size)] = _latency(lambda s, size=size: ledger.prove_inclusion(s, size), sample)["median_us"]
            size *= 10
        by_size[str(n)] = out["inclusion_proof"]["median_us"]
        out["inclusion_proof_median_us_by_size"] = by_size
        t0 = time.perf_counter()
        scanned = 0
        for batch in ledger.scan(0, n, batch_size=65536):
            scanned += len(batch)
        seconds = time.perf_counter() - t0
        out["scan"] = {"records": scanned, "seconds": seconds, "records_per_s": scanned / seconds}
        stats = ledger.stats()
    st = os.stat(path / "data.mdb")
    out["data_mdb_allocated_bytes"] = st.st_blocks * 512
    out["data_mdb_size_bytes"] = st.st_size
    out["size"] = n
    out["stats"] = stats
    return out


PHASES = {"import": phase_import, "audit": phase_audit, "reads": phase_reads}


# --- the parent ------------------------------------------------------------------------------------


def run_phase(args: argparse.Namespace, name: str, **extra: Any) -> Dict[str, Any]:
    out = Path(args.work_dir) / f"phase-{name}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--phase-out", str(out),
           "--ledger", str(Path(args.work_dir) / "ledger")]
    for k, v in extra.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)] if not isinstance(v, bool) else ([f"--{k}"] if v else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(HERE)]))
    log(f"phase {name} ...")
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    result = json.loads(out.read_text())
    log(f"phase {name} done in {time.perf_counter() - t0:.0f} s")
    return result


def machine(where: Optional[str] = None) -> Dict[str, Any]:
    """benchlib's machine record, the memory, and (given a directory) its file system,
    device and fdatasync write rate."""
    sys.path.insert(0, str(HERE))
    from benchlib import machine as base

    info = base()
    info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    if where:
        info["disk"] = disk_probe(where)
    return info


def disk_probe(where: str, total: int = 1 << 29, block: int = 1 << 24) -> Dict[str, Any]:
    """The write rate of `where`'s disk with an fdatasync after every 16 MiB (how a
    ledger commit writes), over 512 MiB of random bytes; and what df says it is."""
    os.makedirs(where, exist_ok=True)
    path = os.path.join(where, ".disk-probe")
    data = os.urandom(block)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        t0 = time.perf_counter()
        for _ in range(total // block):
            os.write(fd, data)
            os.fdatasync(fd)
        seconds = time.perf_counter() - t0
    finally:
        os.close(fd)
        os.remove(path)
    df = subprocess.run(["df", "-T", where], capture_output=True, text=True).stdout.splitlines()[-1].split()
    return {"fdatasync_write_mb_per_s": round(total / seconds / 1e6, 1), "probe_bytes": total, "block_bytes": block,
            "device": df[0], "fs_type": df[1], "free_gib": round(int(df[4]) / 2**20, 1)}


def run_all(args: argparse.Namespace) -> Dict[str, Any]:
    data = make_dataset(args)
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(data["path"]).metadata
    payload_col = [meta.schema.column(i).name for i in range(meta.num_columns)].index("payload")
    payload_bytes = sum(meta.row_group(g).column(payload_col).total_uncompressed_size for g in range(meta.num_row_groups))
    work = Path(args.work_dir)
    if (work / "ledger").exists():
        shutil.rmtree(work / "ledger")
    work.mkdir(parents=True, exist_ok=True)
    res: Dict[str, Any] = {"machine": machine(str(work)), "command": " ".join(sys.argv), "dataset": data,
                           "records": args.records, "payload_bytes_arg": args.payload_bytes,
                           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    res["import"] = run_phase(args, "import", source=data["path"], batch=args.batch)
    if res["import"]["records"] != args.records:
        raise SystemExit(f"bench_scale: imported {res['import']['records']} of {args.records}")
    phases = args.phases.split(",")
    if "audit" in phases:
        res["audit_warm"] = run_phase(args, "audit")
        res["audit_cold"] = run_phase(args, "audit", cold=True)
    if "reads" in phases:
        res["reads"] = run_phase(args, "reads")
        # Payload bytes per record: Parquet's uncompressed payload column includes its
        # 4-byte offsets.
        mean_payload = args.payload_bytes or (payload_bytes / args.records - 4)
        allocated = res["reads"]["data_mdb_allocated_bytes"]
        res["disk"] = {"allocated_bytes_per_record": allocated / args.records, "mean_payload_bytes": mean_payload,
                       "beyond_payload_bytes_per_record": allocated / args.records - mean_payload}
    first = res["import"]["points"]
    res["import"]["first_million_records_per_s"] = _rate_between(first, 0, 1_000_000)
    res["import"]["last_million_records_per_s"] = _rate_between(first, args.records - 1_000_000, args.records)
    if not args.keep:
        shutil.rmtree(work / "ledger", ignore_errors=True)
    res["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return res


def _rate_between(points: List[List[float]], lo: int, hi: int) -> Optional[float]:
    """The import rate over records lo..hi, from the per-batch points (batch ends)."""
    start = max((p for p in points if p[0] <= lo), default=[0, 0.0], key=lambda p: p[0])
    end = min((p for p in points if p[0] >= hi), default=None, key=lambda p: p[0])
    if end is None or end[1] <= start[1]:
        return None
    return (end[0] - start[0]) / (end[1] - start[1])


def main(argv: Optional[List[str]] = None) -> int:
    from ledger_core.demo import default_cache_dir

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--payload-bytes", type=int, default=None, help="exact payload size (default: natural, ~1 KB)")
    p.add_argument("--sellers", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--cache-dir", default=default_cache_dir())
    p.add_argument("--work-dir", default=None, help="where the ledger goes (default: CACHE_DIR/bench-scale)")
    p.add_argument("--keep", action="store_true", help="keep the ledger")
    p.add_argument("--batch", type=int, default=BATCH, help="records per batch (one write transaction each)")
    p.add_argument("--phases", default="import,audit,reads", help="after the import: audit, reads (default both)")
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--out", default=None, help="result file (default bench/results/scale-<records>[-p<bytes>].json)")
    p.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    p.add_argument("--phase-out", help=argparse.SUPPRESS)
    p.add_argument("--ledger", help=argparse.SUPPRESS)
    p.add_argument("--source", help=argparse.SUPPRESS)
    p.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase:
        result = PHASES[args.phase](args)
        Path(args.phase_out).write_text(json.dumps(result, indent=1, default=str))
        return 0
    args.work_dir = args.work_dir or str(Path(args.cache_dir) / "bench-scale")
    res = run_all(args)
    text = json.dumps(res, indent=1, default=str)
    if not args.no_write:
        name = args.out or str(HERE / "results" / (f"scale-{args.records}"
                                                   + (f"-p{args.payload_bytes}" if args.payload_bytes else "")
                                                   + (f"-b{args.batch}" if args.batch != BATCH else "") + ".json"))
        Path(name).write_text(text + "\n")
        log(f"wrote {name}")
    summary = {k: res[k] for k in ("records",)}
    summary.update({"import_records_per_s": round(res["import"]["records_per_s"]),
                    "import_seconds": round(res["import"]["seconds"], 1),
                    "first_million_records_per_s": round(res["import"]["first_million_records_per_s"] or 0),
                    "peak_rss_anon_mib": round(res["import"]["peak_rss_anon_bytes"] / 2**20)})
    if "audit_warm" in res:
        summary.update({"audit_warm_s": round(res["audit_warm"]["seconds"], 1),
                        "audit_cold_s": round(res["audit_cold"].get("seconds", float("nan")), 1)})
    if "reads" in res:
        summary.update({"inclusion_median_us": round(res["reads"]["inclusion_proof"]["median_us"], 2),
                        "find_median_us": round(res["reads"]["find"]["median_us"], 2),
                        "disk_beyond_payload": round(res["disk"]["beyond_payload_bytes_per_record"])})
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
