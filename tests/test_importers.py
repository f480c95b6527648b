"""Invoice files (docs/FORMAT.md, "Invoice files"): Parquet and JSONL written by the
generator and read back in streamed batches; every malformed record named by file and
record number."""

from __future__ import annotations

import base64
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ledger_core import Invoice, InvoiceBatch, Ledger, MalformedInputError, generator, importers


@pytest.fixture(scope="module")
def made():
    return generator.generate(700, sellers=9, seed=5)


def _same(batches, original):
    got = [inv for batch in batches for inv in batch]
    assert got == list(original)


@pytest.mark.parametrize("form", ["parquet", "jsonl"])
def test_round_trip_in_streamed_batches(tmp_path, made, form):
    path = tmp_path / f"x.{form}"
    getattr(importers, f"write_{form}")(made.batch, path)
    batches = list(getattr(importers, f"read_{form}")(path, batch_size=256))
    assert [len(b) for b in batches] == [256, 256, 188]
    _same(batches, made.batch)
    with Ledger.open(tmp_path / "a") as a, Ledger.open(tmp_path / "b") as b:
        for batch in batches:
            a.append_batch(batch)
        b.append_batch(made.batch)
        assert a.root() == b.root() and a.size == 700


def test_parquet_schema_is_the_documented_one(tmp_path, made):
    path = tmp_path / "x.parquet"
    importers.write_parquet(made.batch, path)
    schema = pq.read_schema(path)
    assert [(f.name, str(f.type), f.nullable) for f in schema] == [
        ("invoice_id", "string", False), ("issued_at", "int64", False), ("seller_key", "fixed_size_binary[32]", False),
        ("signature", "fixed_size_binary[64]", False), ("payload", "binary", False)]


def test_parquet_from_another_tool_large_types_and_extra_columns(tmp_path, made):
    invs = list(made.batch)[:50]
    table = pa.table({
        "note": pa.array(["x"] * 50),
        "payload": pa.array([i.payload for i in invs], pa.large_binary()),
        "invoice_id": pa.array([i.invoice_id for i in invs], pa.large_string()),
        "issued_at": pa.array([i.issued_at for i in invs], pa.int64()),
        "seller_key": pa.array([i.seller_key for i in invs], pa.binary(32)),
        "signature": pa.array([i.signature for i in invs], pa.binary(64)),
    })
    pq.write_table(table, tmp_path / "o.parquet")
    _same(importers.read_parquet(tmp_path / "o.parquet", batch_size=7), invs)


def test_jsonl_payload_b64_and_binary_payloads(tmp_path):
    from nacl.signing import SigningKey

    from ledger_core import sign_invoice

    key = SigningKey(bytes(range(32)))
    invs = [sign_invoice(key, "B-1", 1, b"\xff\x00binary"), sign_invoice(key, "T-1", -5, "文本".encode())]
    importers.write_jsonl(InvoiceBatch.from_invoices(invs), tmp_path / "x.jsonl")
    lines = (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()
    assert "payload_b64" in json.loads(lines[0]) and json.loads(lines[1])["payload"] == "文本"
    _same(importers.read_jsonl(tmp_path / "x.jsonl"), invs)


GOOD = {"invoice_id": "I-1", "issued_at": 1, "seller_key": "ab" * 32, "signature": "cd" * 64, "payload": "{}"}


@pytest.mark.parametrize("line, reason", [
    ("{not json", "not a JSON object"),
    ("[1, 2]", "not a JSON object"),
    ("", "not a JSON object"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "issued_at"}), "missing issued_at"),
    (json.dumps({**GOOD, "seller_key": "AB" * 32}), "seller_key must be 64 lowercase hex"),
    (json.dumps({**GOOD, "seller_key": "zz" * 32}), "seller_key is not hex"),
    (json.dumps({**GOOD, "signature": "cd" * 63}), "signature must be 128"),
    (json.dumps({**GOOD, "issued_at": 2**63}), "issued_at must be an int64"),
    (json.dumps({**GOOD, "issued_at": "1"}), "issued_at must be an int64"),
    (json.dumps({**GOOD, "payload_b64": "e30="}), "exactly one of payload and payload_b64"),
    (json.dumps({k: v for k, v in {**GOOD, "payload_b64": "!!"}.items() if k != "payload"}), "payload_b64 is not base64"),
    (json.dumps({**GOOD, "invoice_id": 5}), "invoice_id must be a string"),
])
def test_a_malformed_jsonl_record_is_named_by_file_and_record(tmp_path, line, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(MalformedInputError) as caught:
        list(importers.read_jsonl(path))
    assert f"{path}: record 3 (line 3)" in str(caught.value) and reason in str(caught.value)


def test_a_malformed_parquet_file_is_named(tmp_path, made):
    invs = list(made.batch)[:20]
    base = {
        "invoice_id": pa.array([i.invoice_id for i in invs], pa.string()),
        "issued_at": pa.array([i.issued_at for i in invs], pa.int64()),
        "seller_key": pa.array([i.seller_key for i in invs], pa.binary(32)),
        "signature": pa.array([i.signature for i in invs], pa.binary(64)),
        "payload": pa.array([i.payload for i in invs], pa.binary()),
    }
    cases = [
        ({k: v for k, v in base.items() if k != "signature"}, "no column 'signature'"),
        ({**base, "issued_at": pa.array([str(i.issued_at) for i in invs])}, "column 'issued_at' has type string"),
        ({**base, "seller_key": pa.array([i.seller_key for i in invs], pa.binary())}, "column 'seller_key' has type binary"),
        ({**base, "payload": pa.array([i.payload if n != 13 else None for n, i in enumerate(invs)], pa.binary())},
         "record 14: payload is null"),
    ]
    for n, (columns, reason) in enumerate(cases):
        path = tmp_path / f"bad{n}.parquet"
        pq.write_table(pa.table(columns), path)
        with pytest.raises(MalformedInputError) as caught:
            list(importers.read_parquet(path, batch_size=8))
        assert str(path) in str(caught.value) and reason in str(caught.value), caught.value
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(MalformedInputError, match="not a readable Parquet file"):
        list(importers.read_parquet(tmp_path / "junk.parquet"))


def test_the_binary_columns_reach_the_batch_without_a_python_object_per_row(tmp_path, made):
    path = tmp_path / "x.parquet"
    importers.write_parquet(made.batch, path)
    batch = next(importers.read_parquet(path))
    from ledger_core import Packed

    assert isinstance(batch.invoice_ids, Packed) and isinstance(batch.payloads, Packed)
    assert isinstance(batch.seller_keys, np.ndarray) and batch.seller_keys.shape == (700, 32)
    assert isinstance(batch.signatures, np.ndarray) and batch.issued_at.dtype == np.int64


@pytest.mark.parametrize("form", ["parquet", "jsonl"])
def test_batches_are_bounded_in_payload_bytes_too(tmp_path, made, form):
    path = tmp_path / f"x.{form}"
    getattr(importers, f"write_{form}")(made.batch, path)
    sizes = [len(inv.payload) for inv in made.batch]
    limit = 5 * max(sizes)
    batches = list(getattr(importers, f"read_{form}")(path, batch_size=10_000, max_batch_bytes=limit))
    _same(batches, made.batch)
    assert len(batches) > 1
    for k, batch in enumerate(batches):
        held = sum(len(inv.payload) for inv in batch)
        assert held <= limit
        if k + 1 < len(batches):  # cut only where the next record would not fit
            assert held + len(batches[k + 1][0].payload) > limit
    # A record larger than the bound still goes, alone.
    one = list(getattr(importers, f"read_{form}")(path, batch_size=10_000, max_batch_bytes=1))
    assert [len(b) for b in one] == [1] * len(made.batch)
    with pytest.raises(Exception, match="max_batch_bytes"):
        list(getattr(importers, f"read_{form}")(path, max_batch_bytes=0))


def test_a_jsonl_line_too_long_for_any_invoice_is_refused_unread(tmp_path, made, monkeypatch):
    monkeypatch.setattr(importers, "MAX_JSONL_LINE", 2000)
    path = tmp_path / "x.jsonl"
    importers.write_jsonl(InvoiceBatch.from_invoices(list(made.batch)[:1]), path)
    with open(path, "ab") as f:
        f.write(b"[" * 5000 + b"\n")
    with pytest.raises(MalformedInputError, match=r"x.jsonl: record 2 \(line 2\): longer than 2,000 bytes"):
        list(importers.read_jsonl(path))


PROBE = r"""
import sys, threading, time
peak = [0]
def sample():
    while True:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        time.sleep(0.002)
threading.Thread(target=sample, daemon=True).start()
from ledger_core import cli
rc = cli.main(sys.argv[1:])
time.sleep(0.05)
print("PEAK", peak[0], rc)
"""


def _big_payload_file(path, count, form):
    """`count` signed invoices of 8 KiB payloads; Parquet as ONE row group."""
    from nacl.signing import SigningKey

    from ledger_core import sign_invoice

    key, rng = SigningKey(bytes(range(32))), np.random.default_rng(count)
    invoices = [sign_invoice(key, f"BIG-{i}", 1_700_000_000_000 + i, rng.bytes(8192)) for i in range(count)]
    batch = InvoiceBatch.from_invoices(invoices)
    if form == "jsonl":
        importers.write_jsonl(batch, path)
    else:
        importers.write_parquet(batch, path, row_group_size=count)


@pytest.mark.parametrize("form", ["parquet", "jsonl"])
def test_import_memory_stays_flat_as_the_input_grows(tmp_path, form):
    """Peak anonymous memory of a CLI import of 16 MiB and of 128 MiB of payloads (8x) in
    batches of 256: it must not grow with the input (a reader holding the file, or one
    row group of it, would add 100+ MiB)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    peaks = {}
    for count in (2000, 16000):
        source = tmp_path / f"in{count}.{form}"
        _big_payload_file(source, count, form)
        done = subprocess.run([sys.executable, "-c", PROBE, "import", str(tmp_path / f"l{count}"), str(source),
                               "--batch-size", "256", "--quiet", "--json"], capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        line = done.stdout.strip().splitlines()[-1].split()
        assert line[0] == "PEAK" and line[2] == "0", done.stdout
        assert json.loads(done.stdout.strip().splitlines()[0])["appended"] == count
        peaks[count] = int(line[1]) / 1024
    assert peaks[16000] - peaks[2000] < 48, peaks  # MiB; allocator noise is about 25
    if form == "parquet":  # and Arrow itself holds a few pages, never the row group
        most = 0
        for _ in importers.read_parquet(tmp_path / "in16000.parquet", batch_size=256):
            most = max(most, pa.total_allocated_bytes())
        assert most < 32 * 2**20, most
