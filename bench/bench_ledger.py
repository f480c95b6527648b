"""The ledger (issue 8), end to end: verified and trusted appends of signed invoices into
an LMDB ledger against the same work done with off-the-shelf packages, in one run.

    PYTHONPATH=src python bench/bench_ledger.py [--records 1000000] [--batch-sizes 4096,8192,16384]
                                                [--repeats 2] [--keep] [--no-write]
    PYTHONPATH=src python bench/bench_ledger.py --markdown bench/results/ledger.json

The data set: --records signed invoices (1 KB JSON-like payloads, length uniform in
payload_bytes +- 64) from --sellers sellers drawn Zipf (p(rank k) ~ k^-s, --zipf s = 1.1),
invoice ids unique per seller ("INV-2026-0000042": the same number recurs across
sellers), issued_at increasing by 0..59 ms. Each record is signed with PyNaCl (libsodium)
over the envelope of docs/FORMAT.md, its payload hashed with the `blake3` package: the
data set is made outside ledger_core and cached under --cache-dir (reused when present).

Every measured phase runs in its own process (`--phase NAME`, writing JSON; the parent
collects): LMDB allows one environment per file per process, and a phase must not inherit
another's heap, threads or page-table state. Each phase loads the data set into memory and
builds its inputs before the clock starts; the clock covers every batch's work and commit
(fdatasync) from the second batch to the last (the first creates the tables, untimed in
every phase alike), into a fresh store pre-sized to hold it (no map growth is timed):

  * verified: Ledger.append_batch(verify=True), durability "full", threads=None (all
    cores), one batch after another; once per batch size of --batch-sizes, the fastest
    size is "chosen" and used by every phase below;
  * verified_2threads: the same with 2 Python threads calling append_batch on alternate
    batches (the native call releases the GIL; only the write transaction is serialised);
  * trusted / trusted_hashes: append_batch(verify=False), without and with
    payload_hashes= (precomputed by the `blake3` package when the data set was made);
  * floor: py-lmdb alone, cursor.putmulti(append=True) of the records (u64be seq ->
    M || seller_key || signature || payload, about 1.2 KB, prebuilt), sync on, one write
    transaction per batch: the store's floor, which writes no index and no tree;
  * anchor1: the ledger's work with packages, one process: per record the `blake3`
    package's keyed payload hash, the envelope M (struct), PyNaCl crypto_sign_open of
    signature || M, the leaf hash (blake3, K_LEAF), an incremental RFC 9162 root (the
    stack of complete subtree roots, K_NODE); per batch one py-lmdb write transaction with
    putmulti(append=True) of the records plus size and root, sync on. No duplicate check
    and no index (the ledger does both): the anchor does less than the ledger;
  * anchor2: anchor1 with the signature checks of each batch split in two halves over a
    pool of 2 processes (spawn); the parent hashes, builds envelopes, then computes leaf
    hashes and the root while the pool verifies, and writes;
  * reads, on the ledger of the last verified run at the chosen batch size (BLAKE3, --records
    records), page cache warm (data.mdb read through once, every call made once untimed):
    prove_inclusion, find and get latency per call from Python (random seqs; median, p99,
    mean), audit() rate, and Ledger.stats() per table (bytes on disk per record beyond
    the payload = table pages x page size / records - mean payload);
  * components (a diagnostic): ledger_core's primitives alone on the same batches (payload
    hashes, verify_batch, leaf hashes; benchlib.measure), and from them a model of the
    verified append: prepare + write one after the other, or overlapped. The reads phase
    also times the native calls under the facade (native_find, native_inclusion_proof).

Each append phase also records its per-batch times (median, p90, max; the rate over the
first and second half of the batches) and the bytes it wrote to the disk per record
(/proc/self/io write_bytes). The batch-size sweep runs twice (the second pass in reverse
order) when --repeats >= 2; the append phases at the chosen batch size (verified,
verified_2threads, trusted, trusted_hashes, floor) run --repeats times in rounds, the
order rotated each round, and keep the fastest (benchlib's rule: the least disturbed run
on a shared machine) beside the median; the anchors run once (CPU-bound and long). The
machine is shared: before each phase the parent waits (at most --quiet-wait s) until other
processes use fewer than --quiet-cores cores, and every phase records the cores other
processes used while it was timed and the native module's build stamp (a rebuild during a
run is reported). Every run checks what it wrote: every batch appended whole, the size,
and the root against anchor1's independent root (same records, same order).
Writes bench/results/ledger.json (machine, command, settings, figures) unless --no-write.
Stores go under --work-dir and are deleted as soon as measured (--keep keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path("/work/cache")

# docs/FORMAT.md, "Signed invoices" and "Hashers": computed here with the blake3 package.
ENVELOPE_PREFIX = b"ledger_core/invoice/v1\x00"
PAYLOAD_CONTEXT = "ledger_core 2026-11-27 invoice payload v1"
LEAF_CONTEXT = "ledger_core 2026-11-27 merkle leaf v1"
NODE_CONTEXT = "ledger_core 2026-11-27 merkle node v1"
ISSUED_AT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z

DATA_VERSION = 1  # bump when the generator changes: a cached data set of another version is remade


def _keys() -> Tuple[bytes, bytes, bytes]:
    import blake3

    return tuple(blake3.blake3(b"", derive_key_context=c).digest()  # type: ignore[return-value]
                 for c in (PAYLOAD_CONTEXT, LEAF_CONTEXT, NODE_CONTEXT))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the data set --------------------------------------------------------------------

FIELDS = ("ids_buf", "ids_off", "issued_at", "seller_idx", "seller_keys", "signatures", "payload_buf",
          "payload_off", "payload_hashes")


def _sign_chunk(job: Tuple[Any, ...]) -> Tuple[bytes, np.ndarray, bytes, bytes, bytes]:
    """Worker: ids, payloads, payload hashes and signatures of one chunk (PyNaCl, blake3)."""
    import blake3
    from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

    chunk_seed, seller_seeds, seller_idx, counters, issued_at, lengths = job
    k_payload = blake3.blake3(b"", derive_key_context=PAYLOAD_CONTEXT).digest()
    keypairs = [crypto_sign_seed_keypair(bytes(s)) for s in seller_seeds]
    rng = np.random.default_rng(chunk_seed)
    alphabet = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-", np.uint8)
    filler = alphabet[rng.integers(0, len(alphabet), 1 << 20)].tobytes().decode("ascii")
    starts = rng.integers(0, (1 << 20) - 2048, len(seller_idx))
    amounts = rng.integers(100, 10_000_000, len(seller_idx))
    buyers = rng.integers(0, 1_000_000, len(seller_idx))
    ids: List[bytes] = []
    payloads: List[bytes] = []
    hashes: List[bytes] = []
    sigs: List[bytes] = []
    for j in range(len(seller_idx)):
        pk, sk = keypairs[int(seller_idx[j])]
        ident = b"INV-2026-%07d" % int(counters[j])
        t = int(issued_at[j])
        head = ('{"invoice_id":"%s","issued_at":%d,"seller":"%s","buyer":"B%06d","currency":"EUR",'
                '"total":"%d.%02d","lines":[{"sku":"SKU-%05d","qty":%d}],"note":"'
                % (ident.decode(), t, pk.hex(), int(buyers[j]), int(amounts[j]) // 100, int(amounts[j]) % 100,
                   int(amounts[j]) % 99991, 1 + int(amounts[j]) % 17))
        pad = int(lengths[j]) - len(head) - 2
        s = int(starts[j])
        payload = (head + filler[s:s + pad] + '"}').encode("ascii")
        ph = blake3.blake3(payload, key=k_payload).digest()
        message = ENVELOPE_PREFIX + struct.pack(">H", len(ident)) + ident + struct.pack(">q", t) + ph
        ids.append(ident)
        payloads.append(payload)
        hashes.append(ph)
        sigs.append(crypto_sign(message, sk)[:64])
    id_lens = np.array([len(i) for i in ids], dtype=np.uint64)
    return b"".join(ids), id_lens, b"".join(payloads), b"".join(hashes), b"".join(sigs)


def _offsets(lengths: Sequence[np.ndarray]) -> np.ndarray:
    all_lengths = np.concatenate(lengths)
    off = np.zeros(len(all_lengths) + 1, dtype=np.uint64)
    np.cumsum(all_lengths, out=off[1:])
    return off


def dataset_dir(args: argparse.Namespace) -> Path:
    return Path(args.cache_dir) / (f"bench_ledger_{args.records}_s{args.sellers}_z{args.zipf}_p{args.payload_bytes}"
                                   f"_seed{args.seed}")


def dataset_meta(args: argparse.Namespace) -> Dict[str, Any]:
    return {"version": DATA_VERSION, "records": args.records, "sellers": args.sellers, "zipf_s": args.zipf,
            "payload_bytes": args.payload_bytes, "seed": args.seed}


def make_dataset(args: argparse.Namespace) -> Tuple[Path, float]:
    """The cached data set's directory (made when absent) and the seconds spent making it
    (0 when reused)."""
    import multiprocessing

    target = dataset_dir(args)
    meta = dataset_meta(args)
    meta_file = target / "meta.json"
    if meta_file.exists() and json.loads(meta_file.read_text())["params"] == meta:
        return target, 0.0
    log(f"making the data set: {args.records} records, {args.sellers} sellers (Zipf s={args.zipf}) -> {target}")
    t0 = time.perf_counter()
    n = args.records
    rng = np.random.default_rng(args.seed)
    seller_seeds = np.frombuffer(rng.bytes(32 * args.sellers), np.uint8).reshape(args.sellers, 32)
    ranks = np.arange(1, args.sellers + 1, dtype=np.float64)
    p = ranks ** -args.zipf
    p /= p.sum()
    seller_idx = rng.choice(args.sellers, size=n, p=p).astype(np.uint16)
    order = np.argsort(seller_idx, kind="stable")
    sorted_idx = seller_idx[order]
    group_starts = np.r_[0, np.flatnonzero(np.diff(sorted_idx)) + 1]
    group_sizes = np.diff(np.r_[group_starts, n])
    counters = np.empty(n, dtype=np.int64)
    counters[order] = np.arange(n) - np.repeat(group_starts, group_sizes) + 1
    issued_at = (ISSUED_AT_START_MS + np.cumsum(rng.integers(0, 60, n))).astype(np.int64)
    lengths = rng.integers(args.payload_bytes - 64, args.payload_bytes + 65, n)
    chunk = 32768
    jobs = [(args.seed * 1_000_003 + k, seller_seeds, seller_idx[a:a + chunk], counters[a:a + chunk],
             issued_at[a:a + chunk], lengths[a:a + chunk]) for k, a in enumerate(range(0, n, chunk))]
    with multiprocessing.get_context("spawn").Pool(os.cpu_count() or 2) as pool:
        parts = pool.map(_sign_chunk, jobs, chunksize=1)
    from nacl.bindings import crypto_sign_seed_keypair

    seller_pks = np.frombuffer(b"".join(crypto_sign_seed_keypair(bytes(s))[0] for s in seller_seeds),
                               np.uint8).reshape(args.sellers, 32)
    arrays = {
        "ids_buf": np.frombuffer(b"".join(p[0] for p in parts), np.uint8),
        "ids_off": _offsets([p[1] for p in parts]),
        "issued_at": issued_at,
        "seller_idx": seller_idx,
        "seller_keys": np.ascontiguousarray(seller_pks[seller_idx]),
        "signatures": np.frombuffer(b"".join(p[4] for p in parts), np.uint8).reshape(n, 64),
        "payload_buf": np.frombuffer(b"".join(p[2] for p in parts), np.uint8),
        "payload_off": _offsets([np.asarray(lengths, dtype=np.uint64)]),
        "payload_hashes": np.frombuffer(b"".join(p[3] for p in parts), np.uint8).reshape(n, 32),
    }
    assert int(arrays["payload_off"][-1]) == len(arrays["payload_buf"])
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp", dir=target.parent))
    for name, array in arrays.items():
        np.save(tmp / f"{name}.npy", array)
    seconds = time.perf_counter() - t0
    (tmp / "meta.json").write_text(json.dumps({"params": meta, "seconds_to_make": seconds}, indent=2))
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    log(f"data set made in {seconds:.1f} s")
    return target, seconds


class Data:
    """The cached data set in memory."""

    ids_buf: np.ndarray  # invoice ids, concatenated (uint8)
    ids_off: np.ndarray  # N + 1 offsets into ids_buf (uint64)
    issued_at: np.ndarray  # int64 (N,)
    seller_idx: np.ndarray  # uint16 (N,): the seller's rank (0 = the most frequent)
    seller_keys: np.ndarray  # uint8 (N, 32)
    signatures: np.ndarray  # uint8 (N, 64)
    payload_buf: np.ndarray  # payloads, concatenated (uint8)
    payload_off: np.ndarray  # N + 1 offsets into payload_buf (uint64)
    payload_hashes: np.ndarray  # uint8 (N, 32), the blake3 package's

    def __init__(self, path: Path) -> None:
        for name in FIELDS:
            setattr(self, name, np.load(path / f"{name}.npy"))
        self.n = len(self.issued_at)

    def id_bytes(self, i: int) -> bytes:
        return self.ids_buf[int(self.ids_off[i]):int(self.ids_off[i + 1])].tobytes()

    def payload(self, i: int) -> bytes:
        return self.payload_buf[int(self.payload_off[i]):int(self.payload_off[i + 1])].tobytes()

    def ranges(self, batch: int) -> List[Tuple[int, int]]:
        return [(a, min(a + batch, self.n)) for a in range(0, self.n, batch)]

    def columns(self, a: int, b: int) -> Tuple[List[bytes], List[int], List[bytes], List[bytes], List[bytes]]:
        """Records a..b-1 as Python objects (the anchors' input)."""
        ids = [self.id_bytes(i) for i in range(a, b)]
        payloads = [self.payload(i) for i in range(a, b)]
        return (ids, self.issued_at[a:b].tolist(), [bytes(r) for r in self.seller_keys[a:b]],
                [bytes(r) for r in self.signatures[a:b]], payloads)


def map_size_for(n: int, payload_bytes: int) -> int:
    """A map that holds n records with room to spare (the stores are pre-sized alike)."""
    return max(64 << 20, int(n * (payload_bytes + 1400) * 1.5))


# --- the phases (each in its own process) -----------------------------------------------

def _clock() -> Tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _rate(n: int, wall: float, cpu: float, **extra: Any) -> Dict[str, Any]:
    out = {"records": n, "seconds": wall, "records_per_s": n / wall, "cpu_us_per_record": cpu / n * 1e6,
           "load_average_at_start": extra.pop("load", None)}
    out.update(extra)
    return out


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (user, nice, system, irq, softirq)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / _TICK


def _pid_cpu(pid: int) -> float:
    """CPU seconds of process pid (utime + stime), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


class Contention:
    """How many cores other processes kept busy during a timed section: the machine's busy
    CPU time minus this phase's own (the process and any `helpers` pids), per second."""

    def __init__(self, helpers: Sequence[int] = ()) -> None:
        self.helpers = list(helpers)
        self.busy0 = _machine_busy()
        self.own0 = time.process_time() + sum(_pid_cpu(p) for p in self.helpers)
        self.wall0 = time.perf_counter()

    def stop(self) -> float:
        busy = _machine_busy() - self.busy0
        own = time.process_time() + sum(_pid_cpu(p) for p in self.helpers) - self.own0
        return max(0.0, (busy - own) / (time.perf_counter() - self.wall0))


def _io() -> Dict[str, int]:
    """This process's I/O counters (/proc/self/io: all its threads)."""
    try:
        lines = Path("/proc/self/io").read_text().split("\n")
    except OSError:
        return {}
    return {k: int(v) for k, v in (line.split(": ") for line in lines if ": " in line)}


def _io_delta(before: Dict[str, int], after: Dict[str, int], n: int) -> Dict[str, float]:
    if not before or not after:
        return {}
    return {"disk_write_bytes_per_record": (after["write_bytes"] - before["write_bytes"]) / n,
            "write_syscall_bytes_per_record": (after["wchar"] - before["wchar"]) / n}


def _batch_summary(seconds: Sequence[float], counts: Sequence[int], concurrent: bool = False) -> Dict[str, Any]:
    """Per-batch wall times (ms) and the rate over the first and the second half of the
    timed batches: a store that slows as it grows shows here. Batches that ran
    concurrently (2 threads) overlap: no halves then."""
    ms = np.asarray(seconds) * 1e3
    half = len(ms) // 2
    c = np.asarray(counts, dtype=np.float64)
    out: Dict[str, Any] = {"batch_ms_median": float(np.median(ms)), "batch_ms_p90": float(np.percentile(ms, 90)),
                           "batch_ms_max": float(ms.max())}
    if not concurrent and half:
        out["first_half_records_per_s"] = float(c[:half].sum() / (ms[:half].sum() / 1e3))
        out["second_half_records_per_s"] = float(c[half:].sum() / (ms[half:].sum() / 1e3))
    return out


def _dir_bytes(path: Path) -> Dict[str, int]:
    data = path / "data.mdb"
    st = data.stat()
    return {"data_mdb_apparent_bytes": st.st_size, "data_mdb_allocated_bytes": st.st_blocks * 512}


def _ledger_batches(data: Data, batch: int) -> List[Tuple[int, int, Any]]:
    from ledger_core import InvoiceBatch, Packed

    out = []
    for a, b in data.ranges(batch):
        out.append((a, b, InvoiceBatch(Packed(data.ids_buf, data.ids_off[a:b + 1]), data.issued_at[a:b],
                                       data.seller_keys[a:b], data.signatures[a:b],
                                       Packed(data.payload_buf, data.payload_off[a:b + 1]))))
    return out


def phase_append(args: argparse.Namespace, data: Data, path: Path, mode: str) -> Dict[str, Any]:
    """verified / trusted / trusted_hashes / verified_2threads / verified_stream (the
    importer's Ledger.append_batches: batch k + 1 verified while batch k commits) into a
    fresh ledger."""
    from ledger_core import Ledger

    batches = _ledger_batches(data, args.batch)
    verify = mode in ("verified", "verified_2threads", "verified_stream")
    hashes = data.payload_hashes if mode == "trusted_hashes" else None
    reports: List[Any] = [None] * len(batches)
    spent = [0.0] * len(batches)
    errors: List[BaseException] = []

    def one(k: int, led: Any) -> None:
        a, b, batch = batches[k]
        kwargs: Dict[str, Any] = {"verify": verify}
        if hashes is not None:
            kwargs["payload_hashes"] = hashes[a:b]
        t0 = time.perf_counter()
        reports[k] = led.append_batch(batch, **kwargs)
        spent[k] = time.perf_counter() - t0

    load = list(os.getloadavg())
    with Ledger.open(path, create=True, hasher="blake3", durability="full",
                     map_size=map_size_for(data.n, args.payload_bytes)) as led:
        map_before = led.map_size
        one(0, led)  # the first batch creates the tables; it is timed like the others below
        led_size0 = led.size
        assert led_size0 == batches[0][1], f"first batch appended {led_size0}"
        io0 = _io()
        others = Contention()
        (w0, c0) = _clock()
        if mode == "verified_2threads":
            barrier = threading.Barrier(2)

            def worker(start: int) -> None:
                barrier.wait()
                try:
                    for k in range(start, len(batches), 2):
                        one(k, led)
                except BaseException as exc:  # reported after join
                    errors.append(exc)

            threads = [threading.Thread(target=worker, args=(s,)) for s in (1, 2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        elif mode == "verified_stream":
            last = time.perf_counter()
            for k, rep in enumerate(led.append_batches(batch for _, _, batch in batches[1:]), start=1):
                reports[k] = rep
                now = time.perf_counter()
                spent[k], last = now - last, now
        else:
            for k in range(1, len(batches)):
                one(k, led)
        (w1, c1) = _clock()
        other_cores = others.stop()
        io1 = _io()
        if errors:
            raise errors[0]
        size, root, map_after = led.size, led.root(), led.map_size
    for k, rep in enumerate(reports):
        a, b, _ = batches[k]
        if rep is None:
            raise SystemExit(f"bench_ledger {mode}: batch {k} was not appended")
        if rep.appended != b - a or rep.rejected:
            raise SystemExit(f"bench_ledger {mode}: batch {k} appended {rep.appended} of {b - a}, "
                             f"rejected {rep.rejected[:3]}")
    if size != data.n:
        raise SystemExit(f"bench_ledger {mode}: ledger size {size}, expected {data.n}")
    timed = data.n - batches[0][1]
    out = _rate(timed, w1 - w0, c1 - c0, load=load, batch=args.batch, batches=len(batches), size=size,
                root=root.hex(), map_size_before=map_before, map_size_after=map_after,
                in_order=mode != "verified_2threads", note="first batch (table creation) untimed",
                other_processes_cores=other_cores)
    out.update(_io_delta(io0, io1, timed))
    out.update(_batch_summary(spent[1:], [b - a for a, b, _ in batches[1:]], concurrent=mode == "verified_2threads"))
    out.update(_dir_bytes(path))
    return out


def _open_lmdb(path: Path, n: int, payload_bytes: int) -> Any:
    import lmdb

    return lmdb.open(str(path), map_size=map_size_for(n, payload_bytes), subdir=True, max_dbs=4, sync=True,
                     metasync=True, writemap=False, map_async=False, readahead=False, lock=True)


def phase_floor(args: argparse.Namespace, data: Data, path: Path) -> Dict[str, Any]:
    """py-lmdb alone: putmulti(append=True) of the prebuilt records, sync, one txn per batch."""
    import blake3

    k_payload, _, _ = _keys()
    ranges = data.ranges(args.batch)
    prepared = []
    for a, b in ranges:
        ids, issued, pks, sigs, payloads = data.columns(a, b)
        items = []
        for j in range(b - a):
            ph = data.payload_hashes[a + j].tobytes()
            m = ENVELOPE_PREFIX + struct.pack(">H", len(ids[j])) + ids[j] + struct.pack(">q", issued[j]) + ph
            items.append((struct.pack(">Q", a + j), m + pks[j] + sigs[j] + payloads[j]))
        prepared.append(items)
    # a spot check that the prebuilt hashes are the blake3 package's
    assert blake3.blake3(data.payload(0), key=k_payload).digest() == data.payload_hashes[0].tobytes()
    value_bytes = sum(len(v) for items in prepared for _, v in items)
    env = _open_lmdb(path, data.n, args.payload_bytes)
    db = env.open_db(b"records")
    load = list(os.getloadavg())

    spent: List[float] = []

    def write(items: List[Tuple[bytes, bytes]]) -> None:
        t0 = time.perf_counter()
        with env.begin(write=True, db=db) as txn:
            consumed, added = txn.cursor().putmulti(items, append=True)
            assert added == len(items)
        spent.append(time.perf_counter() - t0)

    write(prepared[0])  # creates the table, untimed like the ledger's first batch
    io0 = _io()
    others = Contention()
    (w0, c0) = _clock()
    for items in prepared[1:]:
        write(items)
    (w1, c1) = _clock()
    other_cores = others.stop()
    io1 = _io()
    with env.begin(db=db) as txn:
        entries = txn.stat(db)["entries"]
    # The scan anchor: one read transaction, a cursor over every record, each value's
    # bytes taken (page cache warm: just written), against the ledger's scan() in reads.
    with env.begin(db=db, buffers=False) as txn:
        t0 = time.perf_counter()
        scanned = sum(1 for _ in txn.cursor().iternext(keys=True, values=True))
        scan_s = time.perf_counter() - t0
    env.close()
    if entries != data.n or scanned != data.n:
        raise SystemExit(f"bench_ledger floor: {entries} entries, {scanned} scanned, expected {data.n}")
    timed = data.n - len(prepared[0])
    out = _rate(timed, w1 - w0, c1 - c0, load=load, batch=args.batch, mean_value_bytes=value_bytes / data.n,
                other_processes_cores=other_cores, scan_records_per_s=data.n / scan_s)
    out.update(_io_delta(io0, io1, timed))
    out.update(_batch_summary(spent[1:], [len(items) for items in prepared[1:]]))
    out.update(_dir_bytes(path))
    return out


class IncrementalRoot:
    """RFC 9162 root over leaf hashes appended one by one: the stack of the roots of the
    complete subtrees (largest, leftmost first), merged as they fill; the root folds the
    stack from the right. blake3 package, the ledger's K_NODE."""

    def __init__(self, k_node: bytes) -> None:
        import blake3

        self._blake3 = blake3.blake3
        self._k = k_node
        self.stack: List[Tuple[int, bytes]] = []  # (height, hash)
        self.size = 0

    def append(self, leaf: bytes) -> None:
        h, height = leaf, 0
        stack = self.stack
        while stack and stack[-1][0] == height:
            h = self._blake3(stack.pop()[1] + h, key=self._k).digest()
            height += 1
        stack.append((height, h))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return self._blake3(b"", key=self._k).digest()
        r = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            r = self._blake3(h + r, key=self._k).digest()
        return r


def _verify_items(items: List[Tuple[bytes, bytes]]) -> int:
    """Worker of anchor2: libsodium verification of (public key, signature || M) items;
    the index of the first bad one, or -1."""
    from nacl.bindings import crypto_sign_open
    from nacl.exceptions import BadSignatureError

    for j, (pk, signed) in enumerate(items):
        try:
            crypto_sign_open(signed, pk)
        except BadSignatureError:
            return j
    return -1


def _libsodium_calibration(columns: Tuple[Any, ...], k_payload: bytes) -> float:
    """libsodium's CPU time per verification now (best of 5 loops of 1000), to read the
    anchor against bench_verify's figure on a machine whose speed varies."""
    import blake3
    from nacl.bindings import crypto_sign_open

    ids, issued, pks, sigs, payloads = columns
    count = min(1000, len(ids))
    signed = [sigs[j] + ENVELOPE_PREFIX + struct.pack(">H", len(ids[j])) + ids[j] + struct.pack(">q", issued[j])
              + blake3.blake3(payloads[j], key=k_payload).digest() for j in range(count)]
    best_s = float("inf")
    for _ in range(5):
        c0 = time.process_time()
        for j in range(count):
            crypto_sign_open(signed[j], pks[j])
        best_s = min(best_s, time.process_time() - c0)
    return best_s / count * 1e6


def phase_anchor(args: argparse.Namespace, data: Data, path: Path, processes: int) -> Dict[str, Any]:
    """anchor1 (processes=1) / anchor2 (processes=2): the ledger's work with packages."""
    import multiprocessing

    import blake3
    from nacl.bindings import crypto_sign_open

    k_payload, k_leaf, k_node = _keys()
    b3 = blake3.blake3
    pack_h, pack_q, pack_seq = struct.Struct(">H").pack, struct.Struct(">q").pack, struct.Struct(">Q").pack
    ranges = data.ranges(args.batch)
    inputs = [data.columns(a, b) for a, b in ranges]
    env = _open_lmdb(path, data.n, args.payload_bytes)
    db = env.open_db(b"records")
    meta = env.open_db(b"meta")
    tree = IncrementalRoot(k_node)
    pool = multiprocessing.get_context("spawn").Pool(processes) if processes > 1 else None
    if pool is not None:
        pool.map(_verify_items, [[] for _ in range(processes)])  # start the workers before the clock

    def batch_one(k: int) -> None:
        a, _ = ranges[k]
        ids, issued, pks, sigs, payloads = inputs[k]
        count = len(ids)
        messages = [ENVELOPE_PREFIX + pack_h(len(ids[j])) + ids[j] + pack_q(issued[j])
                    + b3(payloads[j], key=k_payload).digest() for j in range(count)]
        pending = None
        if pool is None:
            for j in range(count):
                crypto_sign_open(sigs[j] + messages[j], pks[j])  # raises BadSignatureError
        else:
            half = (count + 1) // 2
            pending = [pool.apply_async(_verify_items, ([(pks[j], sigs[j] + messages[j]) for j in range(lo, hi)],))
                       for lo, hi in ((0, half), (half, count))]
        items = []
        for j in range(count):
            leaf_data = messages[j] + pks[j] + sigs[j]
            tree.append(b3(leaf_data, key=k_leaf).digest())
            items.append((pack_seq(a + j), leaf_data + payloads[j]))
        root = tree.root()
        if pending is not None:
            bad = [p.get() for p in pending]
            if bad != [-1, -1]:
                raise SystemExit(f"bench_ledger anchor: a signature failed in batch {k}: {bad}")
        with env.begin(write=True) as txn:
            _, added = txn.cursor(db).putmulti(items, append=True)
            assert added == count
            txn.put(b"size", pack_seq(tree.size), db=meta)
            txn.put(b"root", root, db=meta)

    load = list(os.getloadavg())
    calibration = _libsodium_calibration(inputs[0], k_payload)
    batch_one(0)  # untimed, like the ledger's first batch
    spent: List[float] = []
    io0 = _io()
    others = Contention([p.pid for p in pool._pool] if pool is not None else [])  # type: ignore[attr-defined]
    (w0, c0) = _clock()
    for k in range(1, len(ranges)):
        t0 = time.perf_counter()
        batch_one(k)
        spent.append(time.perf_counter() - t0)
    (w1, c1) = _clock()
    other_cores = others.stop()
    io1 = _io()
    if pool is not None:
        pool.close()
        pool.join()
    with env.begin(db=db) as txn:
        entries = txn.stat(db)["entries"]
    env.close()
    if entries != data.n or tree.size != data.n:
        raise SystemExit(f"bench_ledger anchor: {entries} entries, tree {tree.size}, expected {data.n}")
    timed = data.n - len(inputs[0][0])
    out = _rate(timed, w1 - w0, c1 - c0, load=load, batch=args.batch, processes=processes, root=tree.root().hex(),
                note="cpu_us_per_record: the parent process only" if processes > 1 else "",
                libsodium_verify_cpu_us_best=calibration, other_processes_cores=other_cores)
    out.update(_io_delta(io0, io1, timed))
    out.update(_batch_summary(spent, [b - a for a, b in ranges[1:]]))
    out.update(_dir_bytes(path))
    return out


def phase_components(args: argparse.Namespace, data: Data) -> Dict[str, Any]:
    """ledger_core's own primitives on the first --component-batches batches, all threads
    (benchlib.measure, fastest run): what a verified append computes before its write
    transaction. A diagnostic of the append figures, not a figure of the issue."""
    from benchlib import measure

    from ledger_core import Packed, ed25519, hashing

    k_payload, k_leaf, _ = _keys()
    ranges = data.ranges(args.batch)[: args.component_batches]
    payloads = [Packed(data.payload_buf, data.payload_off[a:b + 1]) for a, b in ranges]
    envelopes, leaves = [], []
    for a, b in ranges:
        ms = [ENVELOPE_PREFIX + struct.pack(">H", len(data.id_bytes(i))) + data.id_bytes(i)
              + struct.pack(">q", int(data.issued_at[i])) + data.payload_hashes[i].tobytes() for i in range(a, b)]
        envelopes.append(ms)
        leaves.append([m + data.seller_keys[i].tobytes() + data.signatures[i].tobytes() for m, i in zip(ms, range(a, b))])
    count = sum(b - a for a, b in ranges)

    def payload_hashes() -> int:
        for p in payloads:
            hashing.blake3_many(p, key=k_payload)
        return count

    def verify() -> int:
        for (a, b), ms in zip(ranges, envelopes):
            ok = ed25519.verify_batch(data.seller_keys[a:b], ms, data.signatures[a:b])
            assert ok.all()
        return count

    def leaf_hashes() -> int:
        for ls in leaves:
            hashing.blake3_many(ls, key=k_leaf)
        return count

    out: Dict[str, Any] = {"records": count, "batch": args.batch}
    for name, fn in (("payload_hashes", payload_hashes), ("verify_batch", verify), ("leaf_hashes", leaf_hashes)):
        m = measure(fn, min_time=1.0, min_runs=3)
        out[name] = {"wall_us_per_record": m.wall_us, "cpu_us_per_record": m.cpu_us}
    out["prepare_wall_us_per_record"] = sum(out[k]["wall_us_per_record"]
                                            for k in ("payload_hashes", "verify_batch", "leaf_hashes"))
    out["note"] = "verify_batch and leaf_hashes take lists of bytes here (the ledger reads them in place)"
    return out


def _latency(fn: Any, args_list: Sequence[Any]) -> Dict[str, float]:
    """Per-call wall time of fn(arg) over args_list after one untimed pass: median, p99,
    mean in microseconds (perf_counter_ns around each call, ~0.05 us of it the clock)."""
    for a in args_list:
        fn(a)
    clock = time.perf_counter_ns
    lat = np.empty(len(args_list), dtype=np.int64)
    for j, a in enumerate(args_list):
        t0 = clock()
        fn(a)
        lat[j] = clock() - t0
    us = lat / 1000.0
    return {"calls": len(args_list), "median_us": float(np.median(us)), "p99_us": float(np.percentile(us, 99)),
            "mean_us": float(us.mean()), "min_us": float(us.min())}


def _rfc9162_root_from_inclusion(k_leaf_node: Tuple[bytes, bytes], leaf: bytes, index: int, size: int,
                                 path: Sequence[bytes]) -> Optional[bytes]:
    """RFC 9162 2.1.3.2 with the blake3 package: the root a proof leads to (None when
    malformed)."""
    import blake3

    k_node = k_leaf_node[1]
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = blake3.blake3(p + r, key=k_node).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = blake3.blake3(r + p, key=k_node).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def phase_reads(args: argparse.Namespace, data: Data, path: Path) -> Dict[str, Any]:
    """Proof, find and get latency, audit rate, stats, on the ledger at `path`."""
    import blake3

    from ledger_core import Ledger

    _, k_leaf, k_node = _keys()
    with open(path / "data.mdb", "rb") as f:  # the page cache warm
        while f.read(1 << 24):
            pass
    rng = np.random.default_rng(args.seed + 7)
    seqs = [int(s) for s in rng.integers(0, data.n, args.lookups)]
    out: Dict[str, Any] = {"load_average_at_start": list(os.getloadavg())}
    with Ledger.open(path, create=False) as led:
        led.warm()  # the map populated, as a long-running service has it
        n = led.size
        root = led.root()
        out["size"], out["root"] = n, root.hex()
        # proofs checked independently (blake3 package, RFC 9162) on a sample first
        for s in seqs[:200]:
            leaf = blake3.blake3(ENVELOPE_PREFIX + struct.pack(">H", len(data.id_bytes(s))) + data.id_bytes(s)
                                 + struct.pack(">q", int(data.issued_at[s])) + data.payload_hashes[s].tobytes()
                                 + data.seller_keys[s].tobytes() + data.signatures[s].tobytes(), key=k_leaf).digest()
            proof = led.prove_inclusion(s)
            if _rfc9162_root_from_inclusion((k_leaf, k_node), leaf, s, n, proof.hashes) != root:
                raise SystemExit(f"bench_ledger reads: the inclusion proof of {s} does not lead to the root")
        out["prove_inclusion"] = _latency(led.prove_inclusion, seqs)
        out["prove_inclusion"]["mean_proof_hashes"] = float(np.mean([len(led.prove_inclusion(s).hashes)
                                                                      for s in seqs[:1000]]))
        finds = [(data.seller_keys[s].tobytes(), data.id_bytes(s).decode("ascii")) for s in seqs]
        found = [led.find(k, i) for k, i in finds[:1000]]
        if found != seqs[:1000]:
            bad = next(j for j in range(1000) if found[j] != seqs[j])
            raise SystemExit(f"bench_ledger reads: find of record {seqs[bad]} answered {found[bad]}")
        out["find"] = _latency(lambda ki: led.find(ki[0], ki[1]), finds)
        out["get"] = _latency(led.get, seqs)
        # diagnostics: the native calls under the facade, arguments made beforehand
        native = led._native
        out["native_find"] = _latency(lambda ki: native.find(ki[0], ki[1]), [(k, i.encode()) for k, i in finds])
        out["native_inclusion_proof"] = _latency(lambda s: native.inclusion_proof(s, n), seqs)
        got = led.get(seqs[0])
        if got.payload != data.payload(seqs[0]) or got.signature != data.signatures[seqs[0]].tobytes():
            raise SystemExit("bench_ledger reads: get returned another record")
        others = Contention()
        (w0, c0) = _clock()
        report = led.audit()
        (w1, c1) = _clock()
        audit_others = others.stop()
        if not report.ok:
            raise SystemExit(f"bench_ledger reads: audit found {report.problem_count} problems: {report.problems[:3]}")
        out["audit"] = {"records": int(report.records), "seconds": w1 - w0, "records_per_s": report.records / (w1 - w0),
                        "cpu_us_per_record": (c1 - c0) / report.records * 1e6, "other_processes_cores": audit_others}
        t0 = time.perf_counter()
        scanned = sum(len(b) for b in led.scan(0, n, batch_size=65536))
        out["scan"] = {"records": scanned, "seconds": time.perf_counter() - t0,
                       "records_per_s": scanned / (time.perf_counter() - t0)}
        out["stats"] = _jsonable(led.stats())
        out["map_size"] = led.map_size
    out.update(_dir_bytes(path))
    return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, bytes):
        return obj.hex()
    return obj


def phase_lmdbstat(args: argparse.Namespace, path: Path) -> Dict[str, Any]:
    """The tables' B-tree statistics read by py-lmdb (an independent look at the file)."""
    import lmdb

    env = lmdb.open(str(path), readonly=True, lock=False, max_dbs=16, subdir=True)
    out: Dict[str, Any] = {"page_size": env.stat()["psize"], "tables": {}}
    with env.begin() as txn:
        names = [k for k, _ in txn.cursor()]
    for name in names:
        try:
            db = env.open_db(name, txn=None, create=False)
        except lmdb.Error:
            continue
        with env.begin() as txn:
            out["tables"][name.decode("utf-8", "replace")] = dict(txn.stat(db))
    out["main"] = dict(env.stat())
    info = env.info()
    out["last_pgno"] = info["last_pgno"]
    env.close()
    return out


PHASES = ("verified", "verified_2threads", "verified_stream", "trusted", "trusted_hashes", "floor", "anchor1", "anchor2", "reads",
          "lmdbstat", "components")


def run_phase(args: argparse.Namespace) -> int:
    path = Path(args.phase_path)
    if args.phase == "lmdbstat":
        result = phase_lmdbstat(args, path)
    else:
        t0 = time.perf_counter()
        data = Data(Path(args.phase_data))
        log(f"phase {args.phase}: data loaded in {time.perf_counter() - t0:.1f} s")
        if args.phase in ("verified", "verified_2threads", "verified_stream", "trusted", "trusted_hashes"):
            result = phase_append(args, data, path, args.phase)
        elif args.phase == "floor":
            result = phase_floor(args, data, path)
        elif args.phase in ("anchor1", "anchor2"):
            result = phase_anchor(args, data, path, 1 if args.phase == "anchor1" else 2)
        elif args.phase == "components":
            result = phase_components(args, data)
        else:
            result = phase_reads(args, data, path)
    result["native_build"] = _native_build()
    Path(args.phase_out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _native_build() -> str:
    """The native module's file and mtime: a rebuild during a run shows as two stamps."""
    import importlib.util

    spec = importlib.util.find_spec("ledger_core._native")
    origin = spec.origin if spec is not None and spec.origin else ""
    try:
        return f"{Path(origin).name} {time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(os.stat(origin).st_mtime))}"
    except OSError:
        return "unknown"


# --- the parent ---------------------------------------------------------------------

class Runner:
    def __init__(self, args: argparse.Namespace, data_path: Path, argv: List[str]) -> None:
        self.args = args
        self.data_path = data_path
        self.work = Path(args.work_dir)
        self.work.mkdir(parents=True, exist_ok=True)
        self.counter = 0
        self.results: List[Dict[str, Any]] = []

    def fresh(self, name: str) -> Path:
        self.counter += 1
        path = self.work / f"{self.counter:02d}_{name}"
        if path.exists():
            shutil.rmtree(path)
        path.mkdir()
        return path

    def drop(self, path: Path) -> None:
        if not self.args.keep:
            shutil.rmtree(path, ignore_errors=True)
        os.sync()

    def wait_quiet(self) -> Dict[str, float]:
        """Wait (at most --quiet-wait seconds) until other processes use less than
        --quiet-cores cores over 3 s: the machine is shared; the wait is recorded."""
        t0 = time.perf_counter()
        while True:
            probe = Contention()
            time.sleep(3.0)
            others = probe.stop()
            waited = time.perf_counter() - t0
            if others < self.args.quiet_cores or waited >= self.args.quiet_wait:
                return {"quiet_wait_s": waited, "other_processes_cores_before": others}
            log(f"other processes use {others:.2f} cores: waiting for a quieter machine")

    def phase(self, name: str, path: Path, batch: int) -> Dict[str, Any]:
        out = self.work / f"{path.name}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--phase-path", str(path),
               "--phase-data", str(self.data_path), "--phase-out", str(out), "--batch", str(batch),
               "--records", str(self.args.records), "--payload-bytes", str(self.args.payload_bytes),
               "--seed", str(self.args.seed), "--lookups", str(self.args.lookups),
               "--component-batches", str(self.args.component_batches)]
        os.sync()
        quiet = self.wait_quiet()
        log(f"{name} (batch {batch}) -> {path}")
        subprocess.run(cmd, check=True)
        result = json.loads(out.read_text())
        result.update(quiet)
        self.results.append(result)
        out.unlink()
        if "records_per_s" in result:
            log(f"{name}: {result['records_per_s']:,.0f} records/s ({result['cpu_us_per_record']:.1f} CPU us/record; "
                f"other processes {result.get('other_processes_cores', float('nan')):.2f} cores)")
        return result


def best(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    top = max(runs, key=lambda r: r["records_per_s"])
    out = dict(top)
    out["runs_records_per_s"] = [r["records_per_s"] for r in runs]
    out["median_records_per_s"] = float(np.median(out["runs_records_per_s"]))
    out["runs_other_processes_cores"] = [r.get("other_processes_cores") for r in runs]
    return out


def bytes_per_record(stats: Dict[str, Any], n: int, mean_payload: float) -> Dict[str, Any]:
    """Table pages x page size / n, per table and in all, from Ledger.stats() (or py-lmdb's
    stat, the same fields): the figure beyond the payload is total - mean payload."""
    page = stats.get("page_size") or stats.get("psize")
    tables = stats.get("tables", stats)
    per: Dict[str, Any] = {}
    total = 0
    for name, t in tables.items():
        if not isinstance(t, dict):
            continue
        psize = t.get("page_size") or t.get("psize") or page
        pages = sum(int(t.get(k, 0)) for k in ("branch_pages", "leaf_pages", "overflow_pages"))
        if psize is None:
            continue
        per[name] = {"entries": int(t.get("entries", 0)), "pages": pages, "bytes_per_record": pages * psize / n}
        total += pages * psize
    return {"page_size": page, "tables": per, "total_bytes_per_record": total / n,
            "beyond_payload_bytes_per_record": total / n - mean_payload, "mean_payload_bytes": mean_payload}


def run_all(args: argparse.Namespace, argv: List[str]) -> Dict[str, Any]:
    data_path, made_s = make_dataset(args)
    r = Runner(args, data_path, argv)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    results: Dict[str, Any] = {}

    # 1. verified append at every batch size (a second pass in reverse order when
    #    --repeats >= 2, so that a drifting machine favours no size); the fastest is chosen
    sweep: Dict[int, List[Dict[str, Any]]] = {b: [] for b in sizes}
    for order in [sizes] + ([sizes[::-1]] if args.repeats >= 2 else []):
        for b in order:
            path = r.fresh(f"verified_b{b}")
            sweep[b].append(r.phase("verified", path, b))
            r.drop(path)
    chosen = max(sizes, key=lambda b: best(sweep[b])["records_per_s"])
    results["batch_sweep"] = {str(b): {"records_per_s": best(sweep[b])["records_per_s"],
                                       "runs_records_per_s": [x["records_per_s"] for x in sweep[b]],
                                       "cpu_us_per_record": best(sweep[b])["cpu_us_per_record"],
                                       "disk_write_bytes_per_record": best(sweep[b]).get("disk_write_bytes_per_record")}
                              for b in sizes}
    results["chosen_batch"] = chosen
    log(f"chosen batch size: {chosen}")

    # 2. interleaved rounds at the chosen size, the order rotated each round
    names = ["floor", "trusted", "trusted_hashes", "verified_2threads", "verified_stream", "verified"]
    runs: Dict[str, List[Dict[str, Any]]] = {name: [] for name in names}
    keep_path: Optional[Path] = None
    for rnd in range(args.repeats):
        for name in names[rnd % len(names):] + names[:rnd % len(names)]:
            path = r.fresh(name)
            runs[name].append(r.phase(name, path, chosen))
            if name == "verified":
                if keep_path is not None:
                    r.drop(keep_path)
                keep_path = path
            else:
                r.drop(path)
    runs["verified"] += sweep[chosen]
    for name, rs in runs.items():
        results[name] = best(rs)
    assert keep_path is not None
    results["components"] = r.phase("components", r.work, chosen)

    # 3. reads on the ledger of the last verified run, and py-lmdb's view of its tables
    results["reads"] = r.phase("reads", keep_path, chosen)
    results["lmdbstat"] = r.phase("lmdbstat", keep_path, chosen)
    r.drop(keep_path)

    # 4. the anchors
    for name in ("anchor1", "anchor2"):
        path = r.fresh(name)
        results[name] = r.phase(name, path, chosen)
        r.drop(path)
    if not args.keep:
        shutil.rmtree(r.work, ignore_errors=True)

    # 5. checks and ratios
    data = np.load(data_path / "payload_off.npy")
    mean_payload = float(data[-1]) / (len(data) - 1)
    reference_root = results["anchor1"]["root"]
    roots = {name: all(x["root"] == reference_root for x in runs[name])
             for name in ("verified", "verified_stream", "trusted", "trusted_hashes")}
    roots["anchor2"] = results["anchor2"]["root"] == reference_root
    roots["reads_ledger"] = results["reads"]["root"] == reference_root
    roots["batch_sweep"] = all(x["root"] == reference_root for runs_b in sweep.values() for x in runs_b)
    results["roots_equal_anchor1"] = roots
    if not all(roots.values()):
        log(f"ROOT MISMATCH against anchor1's independent root: {roots}")
    v, v2 = results["verified"]["records_per_s"], results["verified_2threads"]["records_per_s"]
    vs = results["verified_stream"]["records_per_s"]
    t, th, fl = (results[k]["records_per_s"] for k in ("trusted", "trusted_hashes", "floor"))
    a1, a2 = results["anchor1"]["records_per_s"], results["anchor2"]["records_per_s"]
    results["ratios"] = {
        "verified_over_anchor1": v / a1, "verified_over_anchor2": v / a2,
        "verified_stream_over_anchor1": vs / a1, "verified_stream_over_anchor2": vs / a2,
        "verified_2threads_over_anchor1": v2 / a1, "verified_2threads_over_anchor2": v2 / a2,
        "trusted_over_floor": t / fl, "trusted_hashes_over_floor": th / fl,
        "verified_over_floor": v / fl, "verified_2threads_over_floor": v2 / fl,
    }
    results["bytes_per_record"] = {
        "ledger_stats": bytes_per_record(results["reads"]["stats"], args.records, mean_payload),
        "py_lmdb_stat": bytes_per_record(results["lmdbstat"], args.records, mean_payload),
        "file_allocated_bytes_per_record": results["reads"]["data_mdb_allocated_bytes"] / args.records,
        "floor_file_allocated_bytes_per_record": results["floor"]["data_mdb_allocated_bytes"] / args.records,
    }
    results["dataset"] = {"path": str(data_path), "seconds_to_make": made_s, "mean_payload_bytes": mean_payload,
                          **dataset_meta(args)}
    comp = results["components"]
    write_us = 1e6 / results["trusted_hashes"]["records_per_s"]
    results["model"] = {
        "note": "verified append if preparing (ledger_core primitives alone) and writing (trusted append with "
                "payload_hashes) ran one after the other, or fully overlapped",
        "prepare_wall_us_per_record": comp["prepare_wall_us_per_record"],
        "write_wall_us_per_record": write_us,
        "serial_records_per_s": 1e6 / (comp["prepare_wall_us_per_record"] + write_us),
        "overlapped_records_per_s": 1e6 / max(comp["prepare_wall_us_per_record"], write_us),
    }
    stamps = sorted({x.get("native_build", "unknown") for x in r.results})
    results["native_builds"] = stamps
    if len(stamps) > 1:
        log(f"THE NATIVE MODULE CHANGED DURING THE RUN: {stamps}")
    results["goals"] = goals(results)
    return results


def goals(res: Dict[str, Any]) -> Dict[str, Any]:
    best_verified = max(res["verified"]["records_per_s"], res["verified_2threads"]["records_per_s"],
                        res.get("verified_stream", {}).get("records_per_s", 0))
    best_trusted = max(res["trusted"]["records_per_s"], res["trusted_hashes"]["records_per_s"])
    rd = res["reads"]
    beyond = res["bytes_per_record"]["ledger_stats"]["beyond_payload_bytes_per_record"]
    g = {
        "verified_append_ge_150000_per_s": (best_verified, best_verified >= 150_000),
        "verified_ge_12x_anchor1": (best_verified / res["anchor1"]["records_per_s"],
                                    best_verified / res["anchor1"]["records_per_s"] >= 12),
        "trusted_ge_0.8x_floor": (best_trusted / res["floor"]["records_per_s"],
                                  best_trusted / res["floor"]["records_per_s"] >= 0.8),
        "proof_le_20_us_median": (rd["prove_inclusion"]["median_us"], rd["prove_inclusion"]["median_us"] <= 20),
        "find_le_3_us_median": (rd["find"]["median_us"], rd["find"]["median_us"] <= 3),
        "beyond_payload_le_320_bytes": (beyond, beyond <= 320),
    }
    return {k: {"value": v, "met": bool(m)} for k, (v, m) in g.items()}


def table(report: Dict[str, Any]) -> str:
    res = report["results"]
    rd = res["reads"]
    rows = [
        ("verified append, 1 thread calling, batch %d" % res["chosen_batch"], f"{res['verified']['records_per_s']:,.0f} rec/s",
         f"{res['verified']['cpu_us_per_record']:.1f} CPU us/rec"),
        ("verified append, 2 threads calling", f"{res['verified_2threads']['records_per_s']:,.0f} rec/s",
         f"{res['verified_2threads']['cpu_us_per_record']:.1f} CPU us/rec"),
        ("verified append_batches (the importer's stream)", f"{res['verified_stream']['records_per_s']:,.0f} rec/s",
         f"{res['verified_stream']['cpu_us_per_record']:.1f} CPU us/rec"),
        ("trusted append (verify=False)", f"{res['trusted']['records_per_s']:,.0f} rec/s",
         f"{res['trusted']['cpu_us_per_record']:.1f} CPU us/rec"),
        ("trusted append, payload_hashes given", f"{res['trusted_hashes']['records_per_s']:,.0f} rec/s",
         f"{res['trusted_hashes']['cpu_us_per_record']:.1f} CPU us/rec"),
        ("py-lmdb floor: putmulti(append=True), sync", f"{res['floor']['records_per_s']:,.0f} rec/s",
         f"{res['floor']['mean_value_bytes']:.0f} B values"),
        ("scan: Ledger.scan() (columns) / py-lmdb cursor over the floor's records",
         f"{rd.get('scan', {}).get('records_per_s', float('nan')):,.0f} / "
         f"{res['floor'].get('scan_records_per_s', float('nan')):,.0f} rec/s", "page cache warm"),
        ("anchor 1: PyNaCl + blake3 + py-lmdb + RFC 9162 root, 1 process", f"{res['anchor1']['records_per_s']:,.0f} rec/s",
         f"{res['anchor1']['cpu_us_per_record']:.1f} CPU us/rec"),
        ("anchor 2: the same, verification over 2 processes", f"{res['anchor2']['records_per_s']:,.0f} rec/s", ""),
    ]
    out = ["| measure | figure | note |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    out += ["", "| append phase | best rec/s | median of runs | first half / second half rec/s | "
            "batch ms median / p90 / max | disk write B/rec | other processes (cores) |", "|---|---|---|---|---|---|---|"]
    for k in ("verified", "verified_2threads", "verified_stream", "trusted", "trusted_hashes", "floor", "anchor1",
              "anchor2"):
        x = res[k]
        halves = (f"{x['first_half_records_per_s']:,.0f} / {x['second_half_records_per_s']:,.0f}"
                  if "first_half_records_per_s" in x else "(batches overlap)")
        med = x.get("median_records_per_s", x["records_per_s"])
        out.append(f"| {k} | {x['records_per_s']:,.0f} | {med:,.0f} | {halves} | {x.get('batch_ms_median', 0):.1f} / "
                   f"{x.get('batch_ms_p90', 0):.1f} / {x.get('batch_ms_max', 0):.1f} | "
                   f"{x.get('disk_write_bytes_per_record', float('nan')):,.0f} | "
                   f"{x.get('other_processes_cores', float('nan')):.2f} |")
    sweep = res["batch_sweep"]
    out += ["", "verified append by batch size: " + ", ".join(
        f"{b}: {v['records_per_s']:,.0f} rec/s (runs {', '.join(f'{r:,.0f}' for r in v.get('runs_records_per_s', []))}; "
        f"disk write {v.get('disk_write_bytes_per_record') or float('nan'):,.0f} B/rec)"
        for b, v in sweep.items())]
    if "components" in res:
        c = res["components"]
        out += ["", "ledger_core primitives alone, all threads, batch %d (wall / CPU us per record): " % c["batch"]
                + ", ".join(f"{k} {c[k]['wall_us_per_record']:.2f} / {c[k]['cpu_us_per_record']:.2f}"
                            for k in ("payload_hashes", "verify_batch", "leaf_hashes"))]
        m = res["model"]
        out += [f"model: prepare {m['prepare_wall_us_per_record']:.2f} us + write {m['write_wall_us_per_record']:.2f} us "
                f"per record -> serial {m['serial_records_per_s']:,.0f} rec/s, overlapped "
                f"{m['overlapped_records_per_s']:,.0f} rec/s"]
    ratios = res["ratios"]
    out += ["", "| ratio | value |", "|---|---|"]
    out += [f"| {k} | {v:.2f}x |" for k, v in ratios.items()]
    out += ["", "| read at %d records (BLAKE3), page cache warm | median us | p99 us | mean us |" % rd["size"],
            "|---|---|---|---|"]
    for k in ("prove_inclusion", "find", "get", "native_inclusion_proof", "native_find"):
        if k not in rd:
            continue
        out.append(f"| {k} | {rd[k]['median_us']:.2f} | {rd[k]['p99_us']:.2f} | {rd[k]['mean_us']:.2f} |")
    out += ["", f"audit: {rd['audit']['records_per_s']:,.0f} records/s ({rd['audit']['seconds']:.1f} s for "
                f"{rd['audit']['records']} records)", ""]
    bpr = res["bytes_per_record"]["ledger_stats"]
    out += [f"| table (Ledger.stats(), page {bpr['page_size']} B) | entries | pages | bytes/record |", "|---|---|---|---|"]
    for name, t in bpr["tables"].items():
        out.append(f"| {name} | {t['entries']} | {t['pages']} | {t['bytes_per_record']:.1f} |")
    out.append(f"| total | | | {bpr['total_bytes_per_record']:.1f} |")
    out.append(f"| beyond the payload (mean {bpr['mean_payload_bytes']:.0f} B) | | | "
               f"{bpr['beyond_payload_bytes_per_record']:.1f} |")
    out += ["", "| goal | value | met |", "|---|---|---|"]
    out += [f"| {k} | {v['value']:,.2f} | {'yes' if v['met'] else 'NO'} |" for k, v in res["goals"].items()]
    out += ["", f"roots equal anchor1's independent root: {res['roots_equal_anchor1']}",
            f"native module: {', '.join(res.get('native_builds', []))}"]
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=1000)
    parser.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent s of the sellers' shares")
    parser.add_argument("--payload-bytes", type=int, default=1024, help="mean payload length (+- 64)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch-sizes", default="4096,8192,16384", help="verified append tries each; the fastest is used")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each append phase at the chosen size; best kept")
    parser.add_argument("--lookups", type=int, default=20_000, help="random seqs per latency figure")
    parser.add_argument("--component-batches", type=int, default=16,
                        help="batches of the components diagnostic (ledger_core primitives alone)")
    parser.add_argument("--quiet-cores", type=float, default=0.3,
                        help="before each phase, wait until other processes use fewer cores than this")
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="... but at most this many seconds")
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="where the signed data set is cached")
    parser.add_argument("--work-dir", default=str(DEFAULT_CACHE / "bench_ledger"), help="where the stores are made")
    parser.add_argument("--keep", action="store_true", help="keep the stores under --work-dir")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write bench/results/ledger.json")
    parser.add_argument("--markdown", metavar="JSON", help="print the tables of a results file and exit")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--phase-path", help=argparse.SUPPRESS)
    parser.add_argument("--phase-data", help=argparse.SUPPRESS)
    parser.add_argument("--phase-out", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=8192, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.markdown:
        print(table(json.loads(Path(args.markdown).read_text())))
        return 0
    if args.phase:
        return run_phase(args)
    if args.records < 2 * max(int(s) for s in args.batch_sizes.split(",")):
        parser.error("--records must hold at least two batches of the largest size")
    if args.payload_bytes < 512:
        parser.error("--payload-bytes must be at least 512 (the JSON head takes ~250 bytes)")

    import blake3
    import lmdb
    import nacl

    from benchlib import machine

    info = machine(pynacl=nacl, blake3=blake3, py_lmdb=lmdb)
    info["liblmdb_py_lmdb"] = ".".join(str(x) for x in lmdb.version())
    info["filesystem"] = subprocess.run(["df", "-T", args.work_dir if os.path.exists(args.work_dir) else args.cache_dir],
                                        capture_output=True, text=True).stdout.splitlines()[-1:]
    t0 = time.perf_counter()
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    report: Dict[str, Any] = {
        "machine": info,
        "command": "PYTHONPATH=src python bench/bench_ledger.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
        "settings": {k: v for k, v in vars(args).items() if not k.startswith("phase") and k not in ("batch", "markdown")},
        "results": run_all(args, argv or sys.argv[1:]),
    }
    report["seconds"] = time.perf_counter() - t0
    print(json.dumps(report, indent=2))
    print(table(report), file=sys.stderr)
    if not args.no_write:
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "ledger.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
