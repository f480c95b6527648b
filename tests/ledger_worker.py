"""Subprocess helper of the crash, reader-process and tamper tests of the ledger.

Run as a script, one mode per process::

    ledger_worker.py import <path> <seed> <batches> <durability>
        append the plan's batches one by one; after each commit print "<size> <root hex>"
    ledger_worker.py write <path> <seed> <batch_len> <max_batches> <stop_file>
        the same with fixed-size batches, until <stop_file> exists or max_batches are in
    ledger_worker.py read <path> <seconds>
        a reader process: snapshot after snapshot; then print what they saw as JSON lines
    ledger_worker.py lmdb <path>
        with py-lmdb (never ledger_core): apply the JSON list of edits on stdin

Imported (by the tests), it is the records' plan: every record is a pure function of
(seed, seq), signed with PyNaCl over the envelope of tests/invoice_reference.py, so that
the tests' expected roots never come from ledger_core itself.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from functools import lru_cache
from typing import List, Sequence, Tuple

import blake3 as blake3_ref

from invoice_reference import Rec, envelope, payload_hash

# Byte ranges of the `records` value, by field (docs/FORMAT.md "The ledger on disk").
RECORD_REGIONS = {
    "kind": (0, 1),
    "issued_at": (1, 9),
    "seller_id": (9, 13),
    "blob": (13, 21),
    "offset": (21, 25),
    "length": (25, 29),
    "signature": (29, 93),
    "id_len": (93, 94),
    "invoice_id": (94, None),
}


# --- the plan: records as a pure function of (seed, seq) -------------------------------

SELLER_COUNT = 5
BASE_TIME_MS = 1764547200000


@lru_cache(maxsize=None)
def seller_signing_key(seed: int, index: int):
    from nacl.signing import SigningKey

    return SigningKey(blake3_ref.blake3(b"ledger_worker seller %d %d" % (seed, index)).digest())


@lru_cache(maxsize=None)
def seller_key(seed: int, index: int) -> bytes:
    return bytes(seller_signing_key(seed, index).verify_key)


def seller_index(seed: int, seq: int) -> int:
    """Sellers join over time: the first records are all seller 0's, a new seller may
    appear every 100 records, up to SELLER_COUNT."""
    mixed = int.from_bytes(blake3_ref.blake3(b"ledger_worker seller of %d %d" % (seed, seq)).digest()[:8], "big")
    return mixed % min(SELLER_COUNT, 1 + seq // 100)


def record_fields(seed: int, seq: int, tiny: bool = False) -> Tuple[bytes, int, int, bytes]:
    """(invoice_id, issued_at, seller index, payload) of record `seq`, unsigned."""
    if seq % 7 == 3:
        ident = "Rechnung-Ø-%d-%07d" % (seed, seq)
    else:
        ident = "INV-%d-%07d" % (seed, seq)
    issued_at = BASE_TIME_MS + seq * 1000 if seq % 11 else -(seq * 17 + 1)
    if tiny:
        payload = b"p%d" % seq
    elif seq % 131 == 5:
        payload = b""
    else:
        payload = _payload(seed, seq)
    return ident.encode("utf-8"), issued_at, seller_index(seed, seq), payload


def _payload(seed: int, seq: int) -> bytes:
    rng = random.Random((seed << 32) ^ (seq * 2654435761))
    if seq % 97 == 13:
        return rng.randbytes(70_000)
    body = rng.randbytes(rng.randrange(20, 1500)).hex()
    return ('{"seq": %d, "total": "%d.%02d", "lines": "%s"}' % (seq, rng.randrange(10**6), seq % 100, body)).encode()


def record(seed: int, seq: int, tiny: bool = False) -> Rec:
    """Record `seq` (invoice_id as UTF-8 bytes), signed by PyNaCl over the reference
    envelope."""
    ident, issued_at, who, payload = record_fields(seed, seq, tiny)
    key = seller_signing_key(seed, who)
    signature = key.sign(envelope(ident, issued_at, payload_hash(payload))).signature
    return Rec(ident, issued_at, seller_key(seed, who), bytes(signature), payload)


def records(seed: int, start: int, stop: int, tiny: bool = False) -> List[Rec]:
    return [record(seed, seq, tiny) for seq in range(start, stop)]


def batch_sizes(seed: int, count: int) -> List[int]:
    """The crash plan's batch sizes: whole batches of varying size, so that a size which
    is not a sum of whole batches cannot pass for one."""
    rng = random.Random(seed ^ 0x5EED)
    return [rng.randrange(20, 300) for _ in range(count)]


def boundaries(sizes: Sequence[int]) -> List[int]:
    """[0, s0, s0 + s1, ...]: the ledger sizes after 0, 1, 2, ... whole batches."""
    out = [0]
    for s in sizes:
        out.append(out[-1] + s)
    return out


def invoice_batch(recs: Sequence):
    """An InvoiceBatch of reference records (imports ledger_core)."""
    import numpy as np
    from ledger_core import InvoiceBatch

    return InvoiceBatch([r[0].decode("utf-8") for r in recs], np.array([r[1] for r in recs], dtype=np.int64),
                        [r[2] for r in recs], [r[3] for r in recs], [r[4] for r in recs])


# --- running the worker -------------------------------------------------------------------

WORKER = os.path.abspath(__file__)


def worker_env() -> dict:
    """The environment of a worker process: it imports the ledger_core this process
    imported (a source checkout or an installed package alike)."""
    import ledger_core

    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(ledger_core.__file__)))
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([package_parent] + paths)
    return env


def worker_command(*args: str) -> List[str]:
    return [sys.executable, WORKER, *args]


# --- modes -------------------------------------------------------------------------


def _import(path: str, seed: int, batches: int, durability: str) -> None:
    from ledger_core import Ledger

    sizes = batch_sizes(seed, batches)
    edges = boundaries(sizes)
    # Signed before the ledger opens, so that the kills land in appends and commits.
    prepared = [invoice_batch(records(seed, edges[b], edges[b + 1])) for b in range(batches)]
    with Ledger.open(path, durability=durability) as led:
        print("ready", led.size, flush=True)
        b = edges.index(led.size)
        for batch in prepared[b:]:
            rep = led.append_batch(batch)
            print(rep.size, rep.root.hex(), flush=True)
    print("done", flush=True)


def _write(path: str, seed: int, batch_len: int, max_batches: int, stop_file: str) -> None:
    from ledger_core import Ledger

    with Ledger.open(path) as led:
        for b in range(max_batches):
            if b > 0 and os.path.exists(stop_file):
                break
            rep = led.append_batch(invoice_batch(records(seed, b * batch_len, (b + 1) * batch_len)))
            print(rep.size, rep.root.hex(), flush=True)
    print("done", flush=True)


def _read(path: str, seconds: float) -> None:
    """Snapshot after snapshot for `seconds`; then print each distinct observation once,
    as a JSON line: a snapshot's size, root(size), current root and size again at its end,
    with how many snapshots saw exactly that; and, the first time a size was seen, the
    last record as the reader decoded it (fields in hex) and its stored leaf hash."""
    from ledger_core import Ledger

    seen = {}
    last = {}
    previous, went_back = 0, 0
    with Ledger.open(path, readonly=True, create=False) as led:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with led.snapshot() as snap:
                n = snap.size
                observed = (n, snap.root(n).hex(), snap.root().hex())
                if n and n not in last:
                    inv = snap.get(n - 1)
                    ident = inv.invoice_id.encode("utf-8") if isinstance(inv.invoice_id, str) else inv.invoice_id
                    last[n] = {"last": [ident.hex(), inv.issued_at, inv.seller_key.hex(), inv.signature.hex(),
                                        inv.payload.hex()], "last_leaf_hash": snap.leaf_hash(n - 1).hex()}
                observed += (snap.size,)
            seen[observed] = seen.get(observed, 0) + 1
            went_back += n < previous
            previous = n
    for (n, root_at, root, size_after), count in seen.items():
        line = {"size": n, "root_at": root_at, "root": root, "size_after": size_after, "count": count}
        line.update(last.get(n, {}))
        last.pop(n, None)
        print(json.dumps(line))
    print(json.dumps({"went_back": went_back}))


def _lmdb(path: str) -> None:
    """Apply edits with py-lmdb. Each edit is a dict:

    - {"op": "flip", "table", "key", "where": "key"|"value", "byte", "mask"}: XOR one byte
      of an entry's key or value (a flipped key must be new);
    - {"op": "delete", "table", "key"}: delete an entry;
    - {"op": "put", "table", "key", "value"}: add an entry that must be new;
    - {"op": "get", "table", "key"}: read a value (printed back);
    - {"op": "keys", "table"}: list the keys (and values) of a table.

    Keys and values are hex. Prints one JSON list of results; fails loudly when an
    entry is missing or a new key already exists.
    """
    import lmdb

    edits = json.load(sys.stdin)
    env = lmdb.open(path, max_dbs=16, map_size=1 << 30, subdir=True, readonly=False)
    dbs = {}
    results = []
    writes = any(e["op"] not in ("get", "keys") for e in edits)
    with env.begin(write=writes) as txn:

        def db(name: str):
            # Inside the transaction: py-lmdb would otherwise begin a write transaction
            # of its own and wait for the writer lock this one holds.
            if name not in dbs:
                dbs[name] = env.open_db(name.encode(), txn=txn, create=False)
            return dbs[name]

        for e in edits:
            table, op = db(e["table"]), e["op"]
            if op == "keys":
                results.append([[k.hex(), v.hex()] for k, v in txn.cursor(db=table)])
                continue
            key = bytes.fromhex(e["key"])
            if op == "put":
                if not txn.put(key, bytes.fromhex(e["value"]), db=table, overwrite=False):
                    raise SystemExit(f"put: key {e['key']} already in {e['table']}")
                results.append(None)
                continue
            value = txn.get(key, db=table)
            if op == "get":
                results.append(None if value is None else value.hex())
                continue
            if value is None:
                raise SystemExit(f"{op}: key {e['key']} not in {e['table']}")
            if op == "delete":
                txn.delete(key, db=table)
                results.append(value.hex())
                continue
            if op != "flip":
                raise SystemExit(f"unknown edit {op!r}")
            new_key, new_value = bytearray(key), bytearray(value)
            target = new_key if e["where"] == "key" else new_value
            target[e["byte"]] ^= e["mask"]
            new_key, new_value = bytes(new_key), bytes(new_value)
            if new_key != key:
                if txn.get(new_key, db=table) is not None:
                    raise SystemExit(f"flip: the flipped key {new_key.hex()} is already in {e['table']}")
                txn.delete(key, db=table)
            txn.put(new_key, new_value, db=table)
            results.append([key.hex(), value.hex(), new_key.hex(), new_value.hex()])
    env.close()
    print(json.dumps(results), flush=True)


def main(argv: List[str]) -> None:
    mode = argv[0]
    if mode == "import":
        _import(argv[1], int(argv[2]), int(argv[3]), argv[4])
    elif mode == "write":
        _write(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5])
    elif mode == "read":
        _read(argv[1], float(argv[2]))
    elif mode == "lmdb":
        _lmdb(argv[1])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
