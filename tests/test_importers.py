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
