"""ledger-core: the command line (also ``python -m ledger_core``).

Exit codes: 0 ok; 1 records were rejected or skipped (duplicates included), a
verification or audit failed, or ``find`` found nothing; 2 a usage or input error.
``--json`` prints one JSON object for machines.

KEYFILE holds a 32-byte Ed25519 seed as 64 hex characters and a newline, mode 0600;
``keygen`` never overwrites a file. libsodium signs; the seed is only read from the file
and handed to it.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Deque, Dict, Iterator, List, Optional, Tuple

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A usage or input error: printed, exit status 2."""


def _out(args: argparse.Namespace, obj: Dict[str, Any], text: str) -> None:
    print(json.dumps(obj, sort_keys=True) if getattr(args, "json", False) else text)


# --- keys ------------------------------------------------------------------------------------


def _read_key(path: str) -> Any:
    from ledger_core import ed25519

    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read key file {path}: {exc}") from None
    seed = text.strip()
    if len(seed) != 64 or any(c not in "0123456789abcdef" for c in seed.lower()):
        raise UsageError(f"{path}: a key file holds 64 hex characters (a 32-byte Ed25519 seed) and a newline")
    return ed25519.SigningKey.from_seed(bytes.fromhex(seed))


def cmd_keygen(args: argparse.Namespace) -> int:
    import nacl.signing

    key = nacl.signing.SigningKey.generate()
    try:
        fd = os.open(args.keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{args.keyfile} exists: keygen never overwrites a key file") from None
    except OSError as exc:
        raise UsageError(f"cannot create {args.keyfile}: {exc}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(bytes(key).hex() + "\n")
    public = bytes(key.verify_key).hex()
    _out(args, {"public_key": public, "keyfile": args.keyfile}, public)
    return EXIT_OK


# --- files ------------------------------------------------------------------------------------


def _format_of(path: str, given: str) -> str:
    if given != "auto":
        return given
    if path.endswith(".parquet"):
        return "parquet"
    if path.endswith(".jsonl"):
        return "jsonl"
    if path.lower().endswith(".xml") or os.path.isdir(path):
        return "xml"
    raise UsageError(f"{path}: cannot tell the format from the name (.parquet, .jsonl, .xml or a directory of "
                     ".xml); pass --format")


def _batches(path: str, fmt: str, batch_size: int, skip: int = 0) -> Iterator[Any]:
    from ledger_core import importers

    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    reader = importers.read_parquet if fmt == "parquet" else importers.read_jsonl
    return reader(path, batch_size=batch_size, skip=skip)


def cmd_gen(args: argparse.Namespace) -> int:
    from ledger_core import generator

    fmt = args.format
    if os.path.exists(args.out_file):
        raise UsageError(f"{args.out_file} exists: gen does not overwrite")
    made, seconds = _timed(lambda: generator.generate_file(
        args.out_file, args.count, sellers=args.sellers, seed=args.seed, bad_fraction=args.bad_fraction,
        duplicate_fraction=args.duplicate_fraction, format=fmt, processes=args.processes,
        payload_bytes=args.payload_bytes))
    obj = {"out_file": args.out_file, "count": args.count, "format": fmt, "bad_signatures": made["bad_signatures"],
           "duplicates": made["duplicates"], "seconds": round(seconds, 3)}
    _out(args, obj, f"wrote {args.count:,} invoices to {args.out_file} ({fmt}) in {seconds:.1f} s: "
                    f"{made['bad_signatures']} with bad signatures, {made['duplicates']} duplicates")
    return EXIT_OK


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(args: argparse.Namespace, total: Optional[int], desc: str) -> Any:
    """A progress bar with rate and ETA on a terminal (stderr); nothing with --quiet or
    --json, or when stderr is not a terminal."""
    if getattr(args, "quiet", False) or getattr(args, "json", False) or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" records", unit_scale=True, file=sys.stderr, dynamic_ncols=True)


def _record_count(source: str, fmt: str) -> Optional[int]:
    """Records in a source, for the bar's ETA (None when it would cost a pass)."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(source).metadata.num_rows)
        if fmt == "jsonl":
            count = 0
            with open(source, "rb") as f:
                for block in iter(lambda: f.read(1 << 22), b""):
                    count += block.count(b"\n")
            return count
        from ledger_core.importers import xml

        return len(xml.xml_paths([source]))
    except Exception:  # the import itself reports an unreadable source
        return None


def _timed(fn: Any) -> Tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


# --- import and verify --------------------------------------------------------------------------


def _progress_key(source: str) -> str:
    return ("dir:" if os.path.isdir(source) else "file:") + os.path.abspath(source)


def _source_state(source: str) -> Dict[str, int]:
    """What a resume compares: a file's size and modification time (a directory: none)."""
    if not os.path.exists(source):
        raise UsageError(f"{source}: no such file or directory")
    if os.path.isdir(source):
        return {}
    st = os.stat(source)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _resume_point(ledger: Any, source: str) -> int:
    """Records of `source` an earlier import already consumed (0 for a new source)."""
    stored = ledger.import_progress(_progress_key(source))
    if stored is None:
        return 0
    progress = json.loads(stored)
    state = _source_state(source)
    if any(progress.get(k) != v for k, v in state.items()):
        raise UsageError(f"{source} changed since an earlier import consumed {progress['records']:,} of its records "
                         "(size or modification time differ): import it under another name, or into another ledger")
    return int(progress["records"])


def _source_batches(source: str, fmt: str, batch_size: int, attest_key: Any, on_invalid: str,
                    skip: int) -> Iterator[Tuple[Any, Any, int, List[Dict[str, Any]]]]:
    """(batch, location(position), records consumed after it, files refused before it)
    for a source, from record `skip` on; a last batch None carries the files refused
    after the last batch. An XML file that is not an invoice is reported MALFORMED with
    on_invalid skip, else raised; it counts as consumed."""
    if fmt != "xml":
        record = skip
        for batch in _batches(source, fmt, batch_size, skip):
            first = record
            yield batch, lambda position, first=first: f"record {first + position + 1}", record + len(batch), []
            record += len(batch)
        return
    from ledger_core.importers import xml

    if not os.path.exists(source):
        raise UsageError(f"{source}: no such file or directory")
    index = {p: i for i, p in enumerate(xml.xml_paths([source]))}
    errors: Optional[List[Tuple[str, str]]] = [] if on_invalid == "skip" else None

    def refused() -> List[Dict[str, Any]]:
        out = [{"source": source, "location": path, "reason": "MALFORMED", "message": why} for path, why in errors or ()]
        if errors:
            errors.clear()
        return out

    for batch, paths in xml.read_xml([source], attest_key, batch_size=min(batch_size, 4096), errors=errors, skip=skip):
        yield batch, lambda position, paths=paths: paths[position], index[paths[-1]] + 1, refused()
    yield None, None, len(index), refused()


def cmd_import(args: argparse.Namespace) -> int:
    from ledger_core import BatchRejectedError, Ledger

    if args.scheduler is not None or args.workers is not None:
        return _import_on_cluster(args)
    rejected: List[Dict[str, Any]] = []
    appended = 0
    formats = [_format_of(source, args.format) for source in args.sources]
    attest_key = None
    if "xml" in formats:
        if args.sign_with is None:
            raise UsageError("XML invoices carry no Ed25519 signature: pass --sign-with KEYFILE to attest them "
                             "with the operator's key")
        attest_key = _read_key(args.sign_with)
    resumed: Dict[str, int] = {}
    start = time.perf_counter()
    with Ledger.open(args.ledger, hasher=args.hasher) as ledger:
        for source, fmt in zip(args.sources, formats):
            _source_state(source)  # the source exists, before anything is read
            skip = _resume_point(ledger, source)
            if skip:
                resumed[source] = skip
            key, state = _progress_key(source), _source_state(source)
            total = _record_count(source, fmt)
            bar = _bar(args, None if total is None else max(total - skip, 0), os.path.basename(source) or source)
            done = skip
            pending: Deque[Tuple[Any, int, List[Dict[str, Any]]]] = collections.deque()
            tail: List[Dict[str, Any]] = []

            def feed(source: str = source, key: str = key, state: Dict[str, int] = state,
                     skip: int = skip) -> Iterator[Tuple[Any, Tuple[str, str]]]:
                # Runs on append_batches' thread: what it learns goes through `pending`.
                for batch, location, consumed, refused in _source_batches(source, fmt, args.batch_size, attest_key,
                                                                          args.on_invalid, skip):
                    if batch is None:
                        tail.extend(refused)
                        continue
                    pending.append((location, consumed, refused))
                    yield batch, (key, json.dumps({"records": consumed, **state}, sort_keys=True))

            stream = ledger.append_batches(feed(), on_invalid="skip" if args.on_invalid == "skip" else "reject")
            try:
                for report in stream:
                    location, consumed, refused = pending.popleft()
                    rejected.extend(refused)
                    appended += report.appended
                    for r in report.rejected:
                        rejected.append({"source": source, "location": location(r.position),
                                         "reason": r.reason.name, "message": r.message})
                    bar.update(consumed - done)
                    done = consumed
            except BatchRejectedError as exc:
                bar.close()
                location, consumed, refused = pending.popleft()
                rejected.extend(refused)
                for r in exc.report.rejected:
                    rejected.append({"source": source, "location": location(r.position),
                                     "reason": r.reason.name, "message": r.message})
                where = location(exc.report.rejected[0].position)
                obj = {"appended": appended, "rejected": rejected, "size": ledger.size, "root": ledger.root().hex(),
                       "stopped_at": {"source": source, "location": where, "resume_from": location(0)}}
                _out(args, obj, f"stopped: {source} {where}: {exc.report.rejected[0].message}; nothing of the "
                                f"batch from {location(0)} was written (the batches before it were); "
                                f"{appended:,} appended, size {ledger.size:,}; fix the record, or use "
                                "--on-invalid skip, and run the same import again to continue there")
                return EXIT_REJECTED
            rejected.extend(tail)
            bar.close()
        size, root = ledger.size, ledger.root()
    seconds = time.perf_counter() - start
    obj = {"appended": appended, "rejected": rejected, "size": size, "root": root.hex(), "seconds": round(seconds, 3),
           "resumed": resumed}
    if attest_key is not None:
        obj["attested_by"] = attest_key.public_key.hex()
    lines = [f"{appended:,} appended, {len(rejected):,} rejected in {seconds:.1f} s "
             f"({appended / seconds if seconds else 0:,.0f} records/s); size {size:,}, root {root.hex()}"]
    lines += [f"  resumed {source} after {n:,} records an earlier import committed" for source, n in resumed.items()]
    if attest_key is not None:
        lines.append(f"  XML invoices carry no signature of their own: attested with the operator key "
                     f"{attest_key.public_key.hex()}")
    lines += [f"  {r['source']} {r['location']}: {r['reason']}: {r['message']}" for r in rejected[:20]]
    if len(rejected) > 20:
        lines.append(f"  ... and {len(rejected) - 20:,} more (--json lists them all)")
    _out(args, obj, "\n".join(lines))
    return EXIT_REJECTED if rejected else EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from ledger_core import RejectReason
    from ledger_core.invoice import check_batch

    if args.scheduler is not None or args.workers is not None:
        return _verify_on_cluster(args)
    total, bad = 0, []
    start = time.perf_counter()
    for source in args.sources:
        fmt = _format_of(source, args.format)
        record = 0
        for batch in _batches(source, fmt, args.batch_size):
            reasons = check_batch(batch, threads=args.threads).reasons  # the ledger's own per-record checks
            for i in [int(x) for x in reasons.nonzero()[0]]:
                bad.append({"source": source, "location": f"record {record + i + 1}",
                            "reason": RejectReason(int(reasons[i])).name})
            record += len(batch)
            total += len(batch)
    seconds = time.perf_counter() - start
    obj = {"verified": total, "bad": bad, "seconds": round(seconds, 3)}
    text = [f"{total:,} signatures checked in {seconds:.1f} s: {total - len(bad):,} good, {len(bad):,} bad"]
    text += [f"  {b['source']} {b['location']}: {b['reason']}" for b in bad[:20]]
    _out(args, obj, "\n".join(text))
    return EXIT_REJECTED if bad else EXIT_OK


# --- verify and import on a Dask cluster (--scheduler ADDRESS, --workers N) ---------------------


def _on_cluster(args: argparse.Namespace, run: Any) -> Any:
    """run(client) on the cluster at --scheduler, or on a LocalCluster of --workers
    processes (the machine's cores shared among them) stopped afterwards."""
    if args.scheduler is not None and args.workers is not None:
        raise UsageError("--scheduler and --workers exclude each other: a cluster runs somewhere, or here")
    if any(_format_of(source, args.format) != "parquet" for source in args.sources):
        raise UsageError("--scheduler and --workers read Parquet files only (their rows are the partitions); "
                         "verify or import JSONL and XML without them")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--scheduler and --workers need Dask: pip install 'ledger_core[dask]'") from None
    if args.scheduler is not None:
        try:
            client = Client(args.scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"no Dask scheduler at {args.scheduler}: {exc}") from None
        with client:
            return run(client)
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    with LocalCluster(n_workers=args.workers, threads_per_worker=threads, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        return run(client)


class _PartitionBar:
    """on_partition(done, total) as a progress bar over partitions (stderr, a terminal;
    nothing with --quiet or --json)."""

    def __init__(self, args: argparse.Namespace, desc: str) -> None:
        self._shown = not (getattr(args, "quiet", False) or getattr(args, "json", False) or not sys.stderr.isatty())
        self._desc, self._done = desc, 0
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self._shown:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self._desc, unit=" partitions", file=sys.stderr, dynamic_ncols=True)
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _verify_on_cluster(args: argparse.Namespace) -> int:
    from ledger_core import distributed

    bar = _PartitionBar(args, "verify")
    try:
        report = _on_cluster(args, lambda client: distributed.verify_dataset(
            args.sources, client=client, partition_rows=args.batch_size, on_partition=bar))
    finally:
        bar.close()
    bad = [{"source": r.file, "location": f"record {r.row + 1}", "reason": r.reason.name} for r in report.invalid]
    obj = {"verified": report.total, "bad": bad, "seconds": round(report.seconds, 3), "workers": report.workers,
           "partitions": len(report.partitions)}
    text = [f"{report.total:,} signatures checked in {report.seconds:.1f} s on {report.workers} Dask worker(s) "
            f"({report.records_per_second:,.0f} records/s): {report.valid:,} good, {len(bad):,} bad"]
    text += [f"  {b['source']} {b['location']}: {b['reason']}" for b in bad[:20]]
    _out(args, obj, "\n".join(text))
    return EXIT_REJECTED if bad else EXIT_OK


def _import_on_cluster(args: argparse.Namespace) -> int:
    from ledger_core import Ledger, distributed

    def where(source: str) -> Tuple[str, Dict[str, int]]:
        # The resume record of a source, as the local import keeps it.
        return ("url:" + source, {}) if "://" in source else (_progress_key(source), _source_state(source))

    def progress(source: str, records: int) -> Tuple[str, str]:
        key, state = where(source)
        return key, json.dumps({"records": records, **state}, sort_keys=True)

    def message(reason: Any) -> str:
        return f"signature rejected ({reason.name})" if int(reason) < int(reason.DUPLICATE_IN_LEDGER) else reason.name

    bar = _PartitionBar(args, "import")
    with Ledger.open(args.ledger, hasher=args.hasher) as ledger:
        for source in args.sources:
            key, _ = where(source)
            if ledger.import_progress(key) is not None:
                raise UsageError(f"{source}: an earlier import already committed some of its records; finish it "
                                 "without --scheduler/--workers (it resumes there)")
        size_before = ledger.size
        try:
            report = _on_cluster(args, lambda client: distributed.import_dataset(
                ledger, args.sources, client=client, on_invalid="skip" if args.on_invalid == "skip" else "reject",
                partition_rows=args.batch_size, on_partition=bar, import_progress=progress))
        except distributed.DatasetRejectedError as exc:
            bar.close()
            rejected = [{"source": r.file, "location": f"record {r.row + 1}", "reason": r.reason.name,
                         "message": message(r.reason)} for r in exc.rows]
            appended = ledger.size - size_before
            obj = {"appended": appended, "rejected": rejected, "size": ledger.size, "root": ledger.root().hex(),
                   "stopped_at": {"source": exc.file, "location": rejected[0]["location"] if rejected else "",
                                  "resume_from": f"record {exc.first_row + 1}"}}
            _out(args, obj, f"stopped: {exc}; {appended:,} appended, size {ledger.size:,}; fix the record, or use "
                            "--on-invalid skip, and run the same import again (without --scheduler/--workers) to "
                            "continue there")
            return EXIT_REJECTED
        finally:
            bar.close()
    rejected = [{"source": r.file, "location": f"record {r.row + 1}", "reason": r.reason.name,
                 "message": message(r.reason)} for r in report.invalid]
    obj = {"appended": report.appended, "rejected": rejected, "size": report.ledger_size,
           "root": (report.ledger_root or b"").hex(), "seconds": round(report.seconds, 3), "resumed": {},
           "workers": report.workers, "partitions": len(report.partitions)}
    lines = [f"{report.appended:,} appended, {len(rejected):,} rejected in {report.seconds:.1f} s on {report.workers} "
             f"Dask worker(s) ({report.records_per_second:,.0f} records/s); size {report.ledger_size:,}, "
             f"root {(report.ledger_root or b'').hex()}"]
    lines += [f"  {r['source']} {r['location']}: {r['reason']}: {r['message']}" for r in rejected[:20]]
    if len(rejected) > 20:
        lines.append(f"  ... and {len(rejected) - 20:,} more (--json lists them all)")
    _out(args, obj, "\n".join(lines))
    return EXIT_REJECTED if rejected else EXIT_OK


# --- reading a ledger ------------------------------------------------------------------------------


def _open(path: str) -> Any:
    from ledger_core import Ledger, NotFoundError

    try:
        return Ledger.open(path, create=False, readonly=True)
    except NotFoundError as exc:
        raise UsageError(str(exc)) from None


def cmd_audit(args: argparse.Namespace) -> int:
    with _open(args.ledger) as ledger:
        report, seconds = _timed(lambda: ledger.audit())
    obj = {"ok": report.ok, "size": report.size, "root": report.root.hex(), "records": report.records,
           "problem_count": report.problem_count,
           "problems": [{"table": p.table, "seq": p.seq, "message": p.message} for p in report.problems]}
    text = [f"audit of {report.records:,} records in {seconds:.1f} s: " + ("clean" if report.ok else f"{report.problem_count} problems")]
    text += [f"  {p.table}{'' if p.seq is None else f' #{p.seq}'}: {p.message}" for p in report.problems[:20]]
    _out(args, obj, "\n".join(text))
    return EXIT_OK if report.ok else EXIT_REJECTED


def _seq(value: str) -> int:
    try:
        seq = int(value)
    except ValueError:
        raise UsageError(f"not a record number: {value!r}") from None
    if seq < 0:
        raise UsageError(f"a record number is not negative: {seq}")
    return seq


def cmd_get(args: argparse.Namespace) -> int:
    import base64

    from ledger_core import OutOfRangeError

    with _open(args.ledger) as ledger:
        try:
            inv = ledger.get(_seq(args.seq))
        except OutOfRangeError as exc:
            raise UsageError(str(exc)) from None
    if args.payload_out:
        Path(args.payload_out).write_bytes(inv.payload)
    obj = {"seq": int(args.seq), "invoice_id": inv.invoice_id, "issued_at": inv.issued_at, "seller_key": inv.seller_key.hex(),
           "signature": inv.signature.hex(), "payload_b64": base64.b64encode(inv.payload).decode("ascii")}
    text = (f"seq {args.seq}: invoice {inv.invoice_id} issued_at {inv.issued_at} seller {inv.seller_key.hex()}\n"
            f"signature {inv.signature.hex()}\npayload: {len(inv.payload)} bytes"
            + (f" (written to {args.payload_out})" if args.payload_out else ""))
    _out(args, obj, text)
    return EXIT_OK


def cmd_find(args: argparse.Namespace) -> int:
    try:
        key = bytes.fromhex(args.seller_key_hex)
    except ValueError:
        raise UsageError("SELLER_KEY_HEX must be 64 hex characters") from None
    if len(key) != 32:
        raise UsageError("SELLER_KEY_HEX must be 64 hex characters")
    with _open(args.ledger) as ledger:
        seq = ledger.find(key, args.invoice_id)
    _out(args, {"seq": seq}, "not found" if seq is None else str(seq))
    return EXIT_REJECTED if seq is None else EXIT_OK


def cmd_prove(args: argparse.Namespace) -> int:
    from ledger_core import OutOfRangeError

    with _open(args.ledger) as ledger:
        size = ledger.size if args.size is None else _seq(args.size)
        try:
            if args.inclusion is not None:
                seq = _seq(args.inclusion)
                proof = ledger.prove_inclusion(seq, size)
                text = proof.to_json(leaf_hash=ledger.leaf_hash(seq), root=ledger.root(size))
            else:
                old = _seq(args.consistency)
                cproof = ledger.prove_consistency(old, size)
                text = cproof.to_json(root1=ledger.root(old), root2=ledger.root(size))
        except OutOfRangeError as exc:
            raise UsageError(str(exc)) from None
    print(text)
    return EXIT_OK


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from ledger_core import Ledger

    key = _read_key(args.sign_with)
    with Ledger.open(args.ledger, create=False) as ledger:
        note = ledger.checkpoint(key, args.origin)
    _out(args, {"note": note}, note.rstrip("\n"))
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    with _open(args.ledger) as ledger:
        stats, size = ledger.stats(), ledger.size
    page = int(stats["page_size"])
    tables = {k: v for k, v in stats.items() if isinstance(v, dict)}
    obj = {"size": size, "page_size": page, "map_size": stats["map_size"], "tables": tables}
    lines = [f"{size:,} records, page {page} B"]
    for name, t in tables.items():
        pages = t["branch_pages"] + t["leaf_pages"] + t["overflow_pages"]
        lines.append(f"  {name:<14} {t['entries']:>12,} entries {pages * page / max(size, 1):>10.1f} bytes/record")
    _out(args, obj, "\n".join(lines))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from ledger_core import demo

    return demo.run(count=args.invoices, sellers=args.sellers, seed=args.seed, path=args.ledger,
                    cache_dir=args.cache_dir)


def cmd_bench(args: argparse.Namespace) -> int:
    import subprocess

    suite = Path(__file__).resolve().parents[2] / "bench" / "suite.py"
    if not suite.exists():
        raise UsageError("ledger-core bench runs the benchmark suite of a source checkout (bench/suite.py next to "
                         "src/); an installed package has no bench/: clone the repository and run it there")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(suite.parents[1] / "src"), str(suite.parent)]))
    argv = [sys.executable, str(suite), "--records", str(args.records)]
    if args.payload_bytes:
        argv += ["--payload-bytes", str(args.payload_bytes)]
    for flag, value in (("--cache-dir", args.cache_dir), ("--only", args.only)):
        if value:
            argv += [flag, value]
    argv += ["--quick"] if args.quick else []
    argv += ["--report-only"] if args.report_only else []
    return subprocess.run(argv, env=env).returncode


# --- the parser ----------------------------------------------------------------------------------


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError("must be between 0 and 0.5")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _cluster_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="check the Parquet files on this Dask cluster (tcp://host:8786), --batch-size rows a task")
    p.add_argument("--workers", type=_positive, default=None, metavar="N",
                   help="check the Parquet files on a Dask LocalCluster of N worker processes started here")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledger-core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, fn: Any, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(func=fn)
        return p

    p = command("keygen", "write a new Ed25519 key to KEYFILE (mode 0600, never overwritten); print its public key", cmd_keygen)
    p.add_argument("keyfile")

    p = command("gen", "generate signed invoices (数电票) into a Parquet or JSONL file", cmd_gen)
    p.add_argument("out_file")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--sellers", type=_positive, default=1000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--bad-fraction", type=_fraction, default=0.0)
    p.add_argument("--duplicate-fraction", type=_fraction, default=0.0)
    p.add_argument("--format", choices=["parquet", "jsonl"], default="parquet")
    p.add_argument("--processes", type=_positive, default=None, help="worker processes (default: all cores)")
    p.add_argument("--payload-bytes", type=_positive, default=None,
                   help="every payload exactly this many bytes (>= 300; default: natural, about 1 KB)")

    p = command("import", "import invoice files into a ledger (created if missing), verified", cmd_import)
    p.add_argument("ledger")
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.add_argument("--format", choices=["auto", "parquet", "jsonl", "xml"], default="auto")
    p.add_argument("--sign-with", default=None, metavar="KEYFILE",
                   help="the operator key that attests XML invoices (they carry no signature)")
    p.add_argument("--on-invalid", choices=["skip", "stop"], default="stop")
    p.add_argument("--hasher", choices=["blake3", "sha256"], default=None)
    p.add_argument("--batch-size", type=_positive, default=65536,
                   help="records per batch, one write transaction each (a batch also ends at 64 MiB of payload)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    _cluster_options(p)

    p = command("verify", "batch-verify the signatures of invoice files (no ledger)", cmd_verify)
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.add_argument("--format", choices=["auto", "parquet", "jsonl"], default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--batch-size", type=_positive, default=65536)
    _cluster_options(p)

    p = command("audit", "re-check every table of a ledger", cmd_audit)
    p.add_argument("ledger")

    p = command("get", "print record SEQ (--json: payload as base64)", cmd_get)
    p.add_argument("ledger")
    p.add_argument("seq")
    p.add_argument("--payload-out", default=None, metavar="FILE")

    p = command("find", "the seq of a seller's invoice (exit 1 when absent)", cmd_find)
    p.add_argument("ledger")
    p.add_argument("seller_key_hex")
    p.add_argument("invoice_id")

    p = command("prove", "print an inclusion or consistency proof as JSON (leaf hash and roots included)", cmd_prove,
                json_flag=False)
    p.add_argument("ledger")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--inclusion", metavar="SEQ")
    group.add_argument("--consistency", metavar="OLD_SIZE")
    p.add_argument("--size", default=None, metavar="N")

    p = command("checkpoint", "sign and store a checkpoint of the ledger", cmd_checkpoint)
    p.add_argument("ledger")
    p.add_argument("--sign-with", required=True, metavar="KEYFILE")
    p.add_argument("--origin", required=True)

    p = command("stats", "records and bytes per record by table", cmd_stats)
    p.add_argument("ledger")

    p = command("demo", "run the main job end to end on generated invoices", cmd_demo, json_flag=False)
    p.add_argument("--invoices", type=int, default=1_000_000, help="how many invoices to generate (cached)")
    p.add_argument("--sellers", type=int, default=2_000, help="how many distinct sellers sign them")
    p.add_argument("--seed", type=int, default=2026, help="seed of the generated data set")
    p.add_argument("--ledger", default=None,
                   help="ledger directory to import into (default: a temporary one, removed afterwards)")
    p.add_argument("--cache-dir", default=None,
                   help="where the generated data set is kept (default: $LEDGER_CORE_CACHE or ~/.cache/ledger_core)")
    p = command("bench", "run the benchmark suite (bench/suite.py): micro against the anchors, the macro import, "
                         "the report and plots under bench/results/", cmd_bench, json_flag=False)
    p.add_argument("--records", type=_positive, default=1_000_000,
                   help="invoices in the macro run (default 1,000,000; 10000000 for the full run)")
    p.add_argument("--payload-bytes", type=_positive, default=None, help="payload size of the macro run (default ~1 KB)")
    p.add_argument("--cache-dir", default=None, help="where generated data sets are cached")
    p.add_argument("--only", default=None, help="comma-separated parts: hash,verify,merkle,ledger,scale,dask")
    p.add_argument("--quick", action="store_true", help="shorter micro benchmarks (noisier)")
    p.add_argument("--report-only", action="store_true", help="no runs: the report and plots from bench/results")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    from ledger_core.errors import LedgerError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"ledger-core {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LedgerError as exc:
        # Bad input files and ledgers that cannot be opened: the error names the place.
        print(f"ledger-core {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
