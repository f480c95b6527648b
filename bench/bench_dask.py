"""The overhead of the engine: ledger_core.distributed on a Dask LocalCluster against the
local single-process path, on the same Parquet files.

    PYTHONPATH=src python bench/bench_dask.py [--records 262144] [--files 8] [--partition-rows 65536] [--no-write]

Measures, in records per second of wall time (fastest run of benchlib.measure after a
warm-up; cluster start-up is not timed):
  * local, 1 thread: read_parquet + invoice.check_batch(threads=1) + the valid leaves into
    a MerkleTree; its CPU time per record is the per-core rate (the anchor of
    docs/SCALE.md's model);
  * local, all threads: the same with check_batch(threads=None), one process: the anchor
    of the ratios;
  * verify_dataset on a LocalCluster of 1 worker process x all threads, and of one worker
    process per core x 1 thread;
  * import: a local verified import (Ledger.append_batches over read_parquet) against
    import_dataset on one worker process per core (the writer shares the machine).
And what crosses the network per record: the pickled results a worker sends back for
verify and for import (bytes per record, measured on one partition).

The files are generated once (ledger_core.generator, a few bad signatures) and cached in
--data-dir. Writes bench/results/dask.json unless --no-write; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from benchlib import machine, measure

from ledger_core import Ledger, distributed, generator, importers, invoice, merkle

HERE = Path(__file__).resolve().parent


def make_files(args: argparse.Namespace) -> List[str]:
    os.makedirs(args.data_dir, exist_ok=True)
    per = args.records // args.files
    paths = []
    for i in range(args.files):
        path = os.path.join(args.data_dir, f"v{generator.GENERATOR_VERSION}-n{per}-s{args.seed + i}.parquet")
        if not os.path.exists(path):
            part = path + ".part"
            generator.generate_file(part, per, sellers=2000, seed=args.seed + i, bad_fraction=0.001)
            os.replace(part, path)
        paths.append(path)
    return paths


def local_verify(paths: List[str], threads: Any) -> int:
    total = 0
    for path in paths:
        tree = merkle.MerkleTree()
        for batch in importers.read_parquet(path, batch_size=65536):
            check = invoice.check_batch(batch, threads=threads)
            tree.extend_hashes(check.leaf_hashes[check.reasons == 0])
            total += len(batch)
    return total


def local_import(paths: List[str], where: str) -> int:
    shutil.rmtree(where, ignore_errors=True)
    total = 0
    with Ledger.open(where, durability="fast") as ledger:
        for path in paths:
            for _ in ledger.append_batches(importers.read_parquet(path, batch_size=65536), on_invalid="skip"):
                pass
        total = ledger.size
    return total


def writer_rate(paths: List[str], scratch: str, timing: Dict[str, Any]) -> float:
    """Records/s of the one writer on the trusted path (verify=False, payload hashes
    given), the batches and hashes in memory beforehand: the ceiling of an import."""
    items = []
    for path in paths:
        for batch in importers.read_parquet(path, batch_size=65536):
            check = invoice.check_batch(batch)
            items.append((batch, None, check.payload_hashes))

    def write() -> int:
        where = os.path.join(scratch, "trusted")
        shutil.rmtree(where, ignore_errors=True)
        with Ledger.open(where, durability="fast") as ledger:
            for _ in ledger.append_batches(items, on_invalid="skip", verify=False):
                pass
        return sum(len(b) for b, _, _ in items)

    return 1 / measure(write, **timing).wall_s


def wire_bytes(paths: List[str], partition_rows: int) -> Dict[str, float]:
    """Bytes per record of what a worker sends back (pickled, as Dask sends it)."""
    import pyarrow.parquet as pq

    rows = min(partition_rows, pq.ParquetFile(paths[0]).metadata.num_rows)
    part = distributed._Partition(distributed._Source(paths[0], paths[0]), 0, 0, rows)
    out = {}
    for label, hashes in (("verify", False), ("import", True)):
        checked = distributed._check_partition(part, "blake3", hashes)
        out[f"{label}_result_bytes_per_record"] = len(pickle.dumps(checked, protocol=5)) / rows
    out["task_bytes_per_partition"] = len(pickle.dumps((distributed._check_partition, part, "blake3", True), protocol=5))
    out["parquet_bytes_per_record"] = sum(os.path.getsize(p) for p in paths) / sum(
        pq.ParquetFile(p).metadata.num_rows for p in paths)
    return out


def run(args: argparse.Namespace) -> Dict[str, Any]:
    import dask
    from distributed import Client, LocalCluster

    paths = make_files(args)
    cores = os.cpu_count() or 1
    timing = dict(min_time=args.min_time, min_runs=args.min_runs)
    rates: Dict[str, float] = {}
    one = measure(lambda: local_verify(paths, 1), **timing)
    rates["local_1_thread"] = 1 / one.wall_s
    # CPU time per record on one thread: the per-core rate, whatever else the machine runs.
    per_core_cpu = 1 / one.cpu_s
    rates["local_all_threads"] = 1 / measure(lambda: local_verify(paths, None), **timing).wall_s
    for label, workers, threads in (("dask_1_worker", 1, cores), (f"dask_{cores}_workers", cores, 1)):
        with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True, dashboard_address=None,
                          silence_logs=40) as cluster, Client(cluster) as client:
            def verify(client: Any = client) -> int:
                return distributed.verify_dataset(paths, client=client, partition_rows=args.partition_rows).total

            rates[label] = 1 / measure(verify, **timing).wall_s
            if workers == cores and not args.no_import:
                scratch = tempfile.mkdtemp(prefix="bench-dask-")
                try:
                    def imported(client: Any = client) -> int:
                        where = os.path.join(scratch, "cluster")
                        shutil.rmtree(where, ignore_errors=True)
                        with Ledger.open(where, durability="fast") as ledger:
                            return distributed.import_dataset(ledger, paths, client=client, on_invalid="skip",
                                                              partition_rows=args.partition_rows).total

                    rates[f"import_dask_{cores}_workers"] = 1 / measure(imported, **timing).wall_s
                    rates["import_local"] = 1 / measure(lambda: local_import(paths, os.path.join(scratch, "local")),
                                                        **timing).wall_s
                    rates["import_writer_trusted_path"] = writer_rate(paths, scratch, timing)
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
    import distributed as dd

    return {
        "machine": machine(dask=dask, distributed=dd),
        "command": "PYTHONPATH=src python bench/bench_dask.py " + " ".join(sys.argv[1:]),
        "settings": {"records": args.records, "files": args.files, "partition_rows": args.partition_rows,
                     "min_time": args.min_time, "min_runs": args.min_runs, "hasher": "blake3"},
        "records_per_s": rates,
        "per_core_records_per_cpu_s": per_core_cpu,
        "wire": wire_bytes(paths, args.partition_rows),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def markdown(result: Dict[str, Any]) -> str:
    rates = result["records_per_s"]
    anchor = rates["local_all_threads"]
    rows = ["| path | records/s | x local (all threads, one process) |", "|---|---|---|"]
    for label, rate in rates.items():
        if label.startswith("import_"):
            continue
        rows.append(f"| {label.replace('_', ' ')} | {rate:,.0f} | {rate / anchor:.2f}x |")
    if "import_local" in rates:
        for label in (k for k in rates if k.startswith("import_dask")):
            rows.append(f"| {label.replace('_', ' ')} (vs local verified import {rates['import_local']:,.0f}) | "
                        f"{rates[label]:,.0f} | {rates[label] / rates['import_local']:.2f}x of the local import |")
        rows.append(f"| import: the writer alone, trusted path (verify=False, hashes given) | "
                    f"{rates['import_writer_trusted_path']:,.0f} | ceiling of any import |")
    wire = result["wire"]
    rows.append("")
    rows.append(f"Per core (local 1 thread, CPU time): {result['per_core_records_per_cpu_s']:,.0f} records per CPU second.")
    rows.append(f"Back from the workers: {wire['verify_result_bytes_per_record']:.2f} bytes/record (verify), "
                f"{wire['import_result_bytes_per_record']:.2f} bytes/record (import); a task is "
                f"{wire['task_bytes_per_partition']} bytes; the Parquet files hold "
                f"{wire['parquet_bytes_per_record']:.0f} bytes/record.")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=262_144)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--partition-rows", type=int, default=distributed.DEFAULT_PARTITION_ROWS)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "ledger_core_bench_dask"))
    parser.add_argument("--min-time", type=float, default=5.0)
    parser.add_argument("--min-runs", type=int, default=2)
    parser.add_argument("--no-import", action="store_true", help="verify only")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = run(args)
    print(markdown(result))
    if not args.no_write:
        out = HERE / "results" / "dask.json"
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
