"""The whole benchmark suite (issue 10): `ledger-core bench` and `bash run.sh bench` run this.

    PYTHONPATH=src python bench/suite.py [--records 1000000] [--payload-bytes N] [--quick]
                                         [--only hash,verify,merkle,ledger,scale,dask]
    PYTHONPATH=src python bench/suite.py --report-only      # summary and plots from the results

Each part is its own script, run in a child process, each measuring ledger_core against
its anchor in the same run and writing its JSON under bench/results/:

  hash    bench_hash.py    BLAKE3 / SHA-2 against the `blake3` package and hashlib
  verify  bench_verify.py  Ed25519 single and batch (64..16384, 1..all threads) against
                           libsodium (PyNaCl) and OpenSSL (`cryptography`)
  merkle  bench_merkle.py  RFC 9162 append and proofs against pymerkle
  ledger  bench_ledger.py  store appends against py-lmdb putmulti (the floor), and the
                           peer pipeline (PyNaCl + blake3 + py-lmdb + an incremental RFC 9162
                           root) in one process and with verification on 2 processes
  scale   bench_scale.py   the macro run: --records generator invoices imported with
                           verification and full durability, audit, reads at that size
  dask    bench_dask.py    the cluster path against the local one (when present)

Then it writes bench/results/<date>-<host>.json (every part's results), a Markdown
summary beside it (<date>-<host>.md: the goals of issue 10 and where we stand) and PNG
plots (verification throughput vs batch size and threads; the import rate over the
macro run; inclusion proof latency vs ledger size).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PARTS = ("hash", "verify", "merkle", "ledger", "scale", "dask")


def log(msg: str) -> None:
    print(f"[bench suite {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _scale_name(records: int, payload_bytes: Optional[int]) -> str:
    return f"scale-{records}" + (f"-p{payload_bytes}" if payload_bytes else "")


def commands(args: argparse.Namespace) -> Dict[str, List[str]]:
    py = [sys.executable]
    quick = ["--quick"] if args.quick else []
    ledger_records = str(min(args.records, 1_000_000))
    scale = py + [str(HERE / "bench_scale.py"), "--records", str(args.records)]
    if args.payload_bytes:
        scale += ["--payload-bytes", str(args.payload_bytes)]
    if args.cache_dir:
        scale += ["--cache-dir", args.cache_dir]
    out = {
        "hash": py + [str(HERE / "bench_hash.py")],
        "verify": py + [str(HERE / "bench_verify.py")] + quick,
        "merkle": py + [str(HERE / "bench_merkle.py")],
        "ledger": py + [str(HERE / "bench_ledger.py"), "--records", ledger_records, "--batch-sizes", "16384,65536",
                        "--repeats", "1" if args.quick else "2"] + (["--cache-dir", args.cache_dir] if args.cache_dir else []),
        "scale": scale,
    }
    if (HERE / "bench_dask.py").exists():
        out["dask"] = py + [str(HERE / "bench_dask.py")]
    return out


def run_parts(args: argparse.Namespace) -> Dict[str, Any]:
    wanted = args.only.split(",") if args.only else list(PARTS)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent / "src"), str(HERE)]))
    ran: Dict[str, Any] = {}
    for name, cmd in commands(args).items():
        if name not in wanted:
            continue
        log(f"{name}: {' '.join(cmd[1:])}")
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=HERE.parent)
        ran[name] = {"command": " ".join(["python"] + [os.path.relpath(c, HERE.parent) if c.startswith("/") else c
                                                      for c in cmd[1:]]),
                     "exit": done.returncode, "seconds": round(time.perf_counter() - t0, 1)}
        if done.returncode != 0:
            log(f"{name} FAILED (exit {done.returncode})")
    return ran


def collect(args: argparse.Namespace) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    files = {"hash": "hash.json", "verify": "verify.json", "merkle": "merkle.json", "ledger": "ledger.json",
             "dask": "dask.json"}
    for name, file in files.items():
        if (RESULTS / file).exists():
            out[name] = json.loads((RESULTS / file).read_text())
    out["scale"] = {}
    for path in sorted(RESULTS.glob("scale-*.json")):
        out["scale"][path.stem] = json.loads(path.read_text())
    return out


# --- the summary ----------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def goals(res: Dict[str, Any]) -> List[List[str]]:
    """Issue 10's goals: [goal, measured, met]."""
    rows: List[List[str]] = []
    scale = res.get("scale", {})
    ten = scale.get("scale-10000000")
    if ten:
        imp = ten["import"]
        rows.append(["10M invoices imported, full verification and durability, <= 80 s (>= 125,000/s)",
                     f"{imp['seconds']:.1f} s ({imp['records_per_s']:,.0f}/s)", _met(imp["seconds"] <= 80)])
        rows.append(["audit of the 10M ledger, page cache warm, <= 60 s",
                     f"{ten['audit_warm']['seconds']:.1f} s", _met(ten["audit_warm"]["seconds"] <= 60)])
        cold = ten["audit_cold"]
        rows.append(["audit after dropping the page cache (reported)",
                     f"{cold['seconds']:.1f} s" if "seconds" in cold else cold.get("skipped", "n/a"), "-"])
        peak = imp["peak_rss_anon_bytes"] / 2**30
        rows.append(["peak RssAnon during the 10M import <= 1 GB", f"{peak:.2f} GiB", _met(peak <= 1.0)])
        beyond = ten["disk"]["beyond_payload_bytes_per_record"]
        rows.append(["disk <= payload + 320 bytes per record", f"payload + {beyond:.0f} B", _met(beyond <= 320)])
        rd = ten["reads"]
        rows.append(["inclusion proof (BLAKE3) <= 20 us at 10M (median, from Python)",
                     f"{rd['inclusion_proof']['median_us']:.1f} us", _met(rd["inclusion_proof"]["median_us"] <= 20)])
        rows.append(["find <= 3 us at 10M (median, from Python)", f"{rd['find']['median_us']:.2f} us",
                     _met(rd["find"]["median_us"] <= 3)])
    for name in ("scale-30000000-p300", "scale-30000000-p300-b262144"):
        thirty = scale.get(name)
        if not thirty:
            continue
        imp = thirty["import"]
        first, whole = imp.get("first_million_records_per_s"), imp["records_per_s"]
        ratio = whole / first if first else None
        rows.append([f"30M x 300 B (batches of up to {imp['batch']:,}): the whole import's rate within 20 % of "
                     "its first million's", f"{whole:,.0f}/s against {_fmt(first)}/s ({_fmt(ratio and ratio * 100, 1)} %)",
                     _met(ratio is not None and ratio >= 0.8)])
    led = res.get("ledger", {}).get("results")
    if led:
        r = led["ratios"]
        kind = "verified_stream" if "verified_stream_over_anchor1" in r else "verified"  # results before the stream
        one, two = r[f"{kind}_over_anchor1"], r[f"{kind}_over_anchor2"]
        rows.append([">= 12x the one-process off-the-shelf pipeline's import rate (2-process ratio beside)",
                     f"{one:.1f}x (2 processes: {two:.1f}x; {kind.replace('_', ' ')})", _met(one >= 12)])
    ver = res.get("verify")
    if ver:
        def x(keys: str, batch: int) -> Optional[float]:
            for row in ver["batch"]:
                if row["keys"] == keys and row["batch"] == batch:
                    return row["1 thread"]["x_libsodium_per_core"]
            return None

        zipf, cold = x("1000 signers (Zipf), warm cache", 1024), x("all-distinct, cold cache", 1024)
        rows.append(["Ed25519 batch per core >= 10x libsodium at 1024, repeated signers", f"{_fmt(zipf, 2)}x",
                     _met(zipf is not None and zipf >= 10)])
        rows.append(["Ed25519 batch per core >= 6x libsodium at 1024, every key new", f"{_fmt(cold, 2)}x",
                     _met(cold is not None and cold >= 6)])
    return rows


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def markdown(res: Dict[str, Any], plots: List[str]) -> str:
    machine = res.get("machine", {})
    out = [f"# Benchmarks {res['date']} on {res['host']}", "",
           f"Machine: {machine.get('cpu_model', '?')}, {machine.get('logical_cpus', '?')} logical CPUs, "
           f"{machine.get('memory_gib', '?')} GiB; disk {machine.get('disk', {}).get('device', '?')} "
           f"({machine.get('disk', {}).get('fs_type', '?')}), "
           f"{machine.get('disk', {}).get('fdatasync_write_mb_per_s', '?')} MB/s written with fdatasync every 16 MiB; "
           f"Python {machine.get('python', '?')}.", ""]
    out += ["| goal (issue 10) | measured | met |", "|---|---|---|"]
    out += [f"| {g} | {m} | {ok} |" for g, m, ok in goals(res)]
    for name, part in sorted(res.get("scale", {}).items()):
        imp = part["import"]
        text = (f"**{name}** ({part['records']:,} records; data set {Path(part['dataset']['path']).name}; batches of "
                f"up to {imp['batch']:,}): import {imp['seconds']:.1f} s = {imp['records_per_s']:,.0f}/s "
                f"(first million {_fmt(imp.get('first_million_records_per_s'))}/s, last million "
                f"{_fmt(imp.get('last_million_records_per_s'))}/s), {imp['cpu_us_per_record']:.1f} CPU us/record, "
                f"peak RssAnon {imp['peak_rss_anon_bytes'] / 2**20:,.0f} MiB, disk written "
                f"{imp['disk_write_bytes_per_record']:,.0f} B/record")
        if "audit_warm" in part:
            text += (f"; audit warm {part['audit_warm']['seconds']:.1f} s, "
                     f"cold {part['audit_cold'].get('seconds', float('nan')):.1f} s")
        if "reads" in part:
            rd = part["reads"]
            text += (f"; inclusion proof {rd['inclusion_proof']['median_us']:.1f} us (p99 "
                     f"{rd['inclusion_proof']['p99_us']:.1f}), consistency {rd['consistency_proof']['median_us']:.1f} us, "
                     f"get {rd['get']['median_us']:.1f} us, find {rd['find']['median_us']:.2f} us, scan "
                     f"{rd['scan']['records_per_s']:,.0f} records/s; data.mdb "
                     f"{part['disk']['allocated_bytes_per_record']:,.0f} B/record allocated (payload "
                     f"{part['disk']['mean_payload_bytes']:,.0f} B)")
        out += ["", text + "."]
    if plots:
        out += [""] + [f"![{Path(p).stem}]({Path(p).name})" for p in plots]
    ran = res.get("ran", {})
    if ran:
        out += ["", "Commands (from the repository root, `PYTHONPATH=src`):", ""]
        out += [f"- {name}: `{r['command']}` ({r['seconds']:.0f} s, exit {r['exit']})" for name, r in ran.items()]
    return "\n".join(out) + "\n"


# --- plots --------------------------------------------------------------------------------------------


def plot(res: Dict[str, Any], stem: str) -> List[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: List[str] = []
    ver = res.get("verify")
    if ver:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        threads = [k for k in ver["batch"][0] if k.endswith("thread") or k.endswith("threads")]
        for color, keys in enumerate(dict.fromkeys(row["keys"] for row in ver["batch"])):
            rows = [r for r in ver["batch"] if r["keys"] == keys]
            for t, style in zip(threads, ("-o", "--s")):
                ax.plot([r["batch"] for r in rows], [1e6 / r[t]["wall_us_per_sig"] for r in rows], style,
                        color=f"C{color}", label=f"{keys}, {t}")
        sodium = ver["single"]["libsodium"]["wall_us_per_sig"]
        ax.axhline(1e6 / sodium, color="grey", linestyle=":", label="libsodium, one call per signature")
        ax.set_xscale("log", base=2)
        made.append(_save(fig, ax, f"{stem}-verify.png", "signatures per verify_batch call", "signatures / s (wall)",
                          "Ed25519 batch verification"))
    scale = res.get("scale", {})
    if scale:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, part in sorted(scale.items()):
            pts = part["import"]["points"]
            xs, ys = [], []
            for (n0, t0), (n1, t1) in zip([[0, 0.0]] + pts[:-1], pts):
                if t1 > t0:
                    xs.append(n1 / 1e6)
                    ys.append((n1 - n0) / (t1 - t0))
            window = 8
            smooth = [sum(ys[max(0, i - window + 1):i + 1]) / len(ys[max(0, i - window + 1):i + 1]) for i in range(len(ys))]
            ax.plot(xs, smooth, label=f"{name} (mean of {window} batches)")
        made.append(_save(fig, ax, f"{stem}-import-rate.png", "records in the ledger (millions)", "records / s",
                          "Import rate over the run (verified, durability full)"))
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, part in sorted(scale.items()):
            if "reads" not in part:
                continue
            by = part["reads"]["inclusion_proof_median_us_by_size"]
            sizes = sorted(by, key=int)
            ax.plot([int(s) for s in sizes], [by[s] for s in sizes], "-o", label=name)
        ax.set_xscale("log")
        made.append(_save(fig, ax, f"{stem}-proof-latency.png", "tree size of the proof",
                          "median us per inclusion proof (from Python)", "Inclusion proof latency vs ledger size"))
    return made


def _save(fig: Any, ax: Any, name: str, xlabel: str, ylabel: str, title: str) -> str:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    path = RESULTS / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return str(path)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=1_000_000, help="the macro run's size (10000000 for the full run)")
    p.add_argument("--payload-bytes", type=int, default=None, help="the macro run's payload size (default ~1 KB)")
    p.add_argument("--cache-dir", default=None, help="where data sets are cached (default: ledger_core's cache)")
    p.add_argument("--quick", action="store_true", help="shorter micro benchmarks (noisier)")
    p.add_argument("--only", default=None, help="comma-separated parts: " + ",".join(PARTS))
    p.add_argument("--report-only", action="store_true", help="no runs: summary and plots from bench/results")
    args = p.parse_args(argv)
    ran = {} if args.report_only else run_parts(args)
    res = collect(args)
    sys.path.insert(0, str(HERE))
    from bench_scale import machine

    res["machine"] = machine(args.cache_dir or os.environ.get("LEDGER_CORE_CACHE") or str(HERE / "results"))
    res["date"] = time.strftime("%Y-%m-%d")
    res["host"] = socket.gethostname()
    res["ran"] = ran
    stem = f"{res['date']}-{res['host']}"
    plots = plot(res, stem)
    (RESULTS / f"{stem}.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(res, plots))
    log(f"wrote {RESULTS / (stem + '.json')}, {stem}.md and {len(plots)} plots")
    print(markdown(res, plots))
    return 1 if any(r["exit"] != 0 for r in ran.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
