"""The ledger (issue 8), functionally: roots against an independent RFC 9162 computation
over records signed outside the project, the tables byte for byte against
docs/FORMAT.md, atomic batches (reject / skip), the trusted path, reads and snapshots,
persistence, proofs from disk, map growth, the writer lock, fork, threads and
checkpoints.

Expected values come from tests/invoice_reference.py and tests/merkle_reference.py
(`blake3` package, hashlib, PyNaCl), never from ledger_core. py-lmdb reads the files in a
subprocess only: LMDB forbids a second environment on one file in one process.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Sequence

import numpy as np
import pyarrow as pa
import pytest
from nacl.signing import SigningKey

import invoice_reference as ref
from invoice_reference import Rec
from merkle_reference import ref_root
from ledger_core import (
    BatchRejectedError,
    Invoice,
    InvoiceBatch,
    Ledger,
    LedgerLockedError,
    Packed,
    RejectReason,
    checkpoint,
    merkle,
    proofs,
)
from ledger_core.errors import (
    LedgerClosedError,
    LedgerError,
    NotFoundError,
    OutOfRangeError,
    ReadOnlyError,
)

ROOT = Path(__file__).resolve().parents[1]
HASHERS = ("blake3", "sha256")
BASE_TIME = 1_764_547_200_000
L = 2**252 + 27742317777372353535851937790883648493
ORIGIN = "example.com/ledger/blake3"


# --- records signed outside the project ------------------------------------------------------


@functools.lru_cache(maxsize=None)
def seller(index: int) -> SigningKey:
    return ref.signing_key(index)


def pk(index: int) -> bytes:
    return bytes(seller(index).verify_key)


def make_records(count: int, *, prefix: str = "INV", start: int = 0, sellers: Sequence[int] = (0, 1, 2),
                 payload_len: int = 0, rng: random.Random = None) -> List[Rec]:
    """`count` valid records signed with PyNaCl over the reference envelope: ids unique per
    (prefix, i), sellers round robin, a few non-ASCII ids, negative times and empty payloads."""
    out = []
    for i in range(start, start + count):
        ident = f"{prefix}-{i:06d}" if i % 11 != 5 else f"{prefix}-Rechnung-ä-€-{i}"
        issued_at = BASE_TIME + 1000 * i if i % 13 != 0 else -1000 * i - 1
        if payload_len:
            body = rng.randbytes(payload_len) if rng else bytes([i & 0xFF]) * payload_len
        elif i % 7 == 3:
            body = b""
        else:
            body = b'{"invoice":"%s","total":"%d.00","lines":[%s]}' % (ident.encode(), i, b"1," * (i % 17) + b"0")
        out.append(ref.sign(seller(sellers[i % len(sellers)]), ident, issued_at, body))
    return out


def batch_of(records: Sequence[Rec], form: str = "lists") -> InvoiceBatch:
    """The records as an InvoiceBatch, columns in one of the accepted forms."""
    if form == "lists":
        return InvoiceBatch.from_invoices([Invoice(*r) for r in records])
    ids = [r.invoice_id for r in records]
    issued = np.array([r.issued_at for r in records], dtype=np.int64)
    keys = np.frombuffer(b"".join(r.seller_key for r in records), np.uint8).reshape(-1, 32)
    sigs = np.frombuffer(b"".join(r.signature for r in records), np.uint8).reshape(-1, 64)
    if form == "arrays":
        buf = b"".join(r.payload for r in records)
        offsets = np.cumsum([0] + [len(r.payload) for r in records]).astype(np.uint64)
        return InvoiceBatch(ids, issued, keys, sigs, Packed(buf, offsets))
    assert form == "arrow"
    return InvoiceBatch(pa.array([ref.id_bytes(i) for i in ids], pa.binary()), issued, keys, sigs,
                        pa.array([r.payload for r in records], pa.binary()))


def leaves_of(suite: str, records: Sequence[Rec]) -> List[bytes]:
    return [r.leaf_hash(suite) for r in records]


def as_invoice(rec: Rec) -> Invoice:
    ident = rec.invoice_id if isinstance(rec.invoice_id, str) else rec.invoice_id.decode("utf-8")
    return Invoice(ident, rec.issued_at, rec.seller_key, rec.signature, rec.payload)


def run_python(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `script` in a fresh interpreter with ledger_core and the test helpers importable."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")]))
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def assert_audit_ok(ledger: Ledger, **kwargs) -> None:
    report = ledger.audit(**kwargs)
    assert report.ok, report.problems[:5]
    assert report.problems == [] and report.problem_count == 0
    assert report.size == ledger.size and report.root == ledger.root()


# --- roots and tables against the reference -------------------------------------------------


@pytest.mark.parametrize("suite", HASHERS)
def test_root_equals_independent_rfc9162_root(tmp_path, suite):
    batches = [make_records(1, start=0), make_records(100, start=1, sellers=(0, 1, 2, 3)),
               make_records(300, start=101), make_records(7, start=401, sellers=(4,)),
               make_records(260, start=408, sellers=(5, 0))]
    forms = ["lists", "arrays", "arrow", "lists", "arrays"]
    appended: List[Rec] = []
    with Ledger.open(tmp_path / "l", hasher=suite) as ledger:
        assert ledger.size == 0 and len(ledger) == 0
        assert ledger.root() == ref_root(suite, [])
        assert ledger.hasher == (merkle.BLAKE3 if suite == "blake3" else merkle.SHA256)
        for batch, form in zip(batches, forms):
            report = ledger.append_batch(batch_of(batch, form))
            assert (report.first_seq, report.appended, report.rejected) == (len(appended), len(batch), [])
            appended += batch
            leaves = leaves_of(suite, appended)
            assert report.size == ledger.size == len(appended)
            assert report.root == ledger.root() == ref_root(suite, leaves)
        leaves = leaves_of(suite, appended)
        for seq in range(len(appended)):
            assert ledger.leaf_hash(seq) == leaves[seq], seq
        for size in (0, 1, 2, 100, 101, 255, 256, 257, 401, 512, 513, len(appended)):
            assert ledger.root(size) == ref_root(suite, leaves[:size]), size
        with pytest.raises(OutOfRangeError):
            ledger.root(len(appended) + 1)
        with pytest.raises(OutOfRangeError):
            ledger.leaf_hash(len(appended))
        assert_audit_ok(ledger)
    # The files hold exactly the normative encoding of every table.
    seen = ref.inspect_ledger(tmp_path / "l")
    assert sorted(seen["names"]) == sorted(ref.TABLES)
    expected = ref.expected_tables(suite, batches)
    for table, entries in expected.items():
        assert seen["tables"][table] == entries, table
    assert seen["tables"]["checkpoints"] == []
    for table in ref.TABLES:
        flags = seen["flags"][table]
        assert not flags["dupsort"] and not flags["dupfixed"], table
        assert not flags["integerkey"] and not flags["reverse_key"], table
    for _, value in seen["tables"]["records"]:
        assert ref.decode_record(value).kind == ref.KIND_INVOICE_V1


def test_payload_blobs_start_per_batch_and_at_one_mib(tmp_path):
    rng = random.Random(8)
    # 300 KiB payloads: the open blob reaches 1 MiB after four of them.
    first = make_records(9, payload_len=300 * 1024, rng=rng)
    second = make_records(2, start=9, payload_len=10, rng=rng)
    with Ledger.open(tmp_path / "l") as ledger:
        ledger.append_batch(batch_of(first))
        ledger.append_batch(batch_of(second, "arrays"))
        for seq, rec in enumerate(first + second):
            assert ledger.get(seq) == as_invoice(rec)
    tables = ref.dump_tables(tmp_path / "l")
    assert [k for k, _ in tables["payloads"]] == [ref.u64(k) for k in (0, 4, 8, 9)]
    for table, entries in ref.expected_tables("blake3", [first, second]).items():
        assert tables[table] == entries, table
    # Whatever the split, every payload is one contiguous slice of its blob, none spans two.
    blobs = dict(tables["payloads"])
    for seq, (key, value) in enumerate(tables["records"]):
        record = ref.decode_record(value)
        blob = blobs[ref.u64(record.blob_key)]
        assert blob[record.offset:record.offset + record.length] == (first + second)[seq].payload


def test_same_invoice_id_from_two_sellers_is_not_a_duplicate(tmp_path):
    a = ref.sign(seller(0), "INV-1", BASE_TIME, b"a")
    b = ref.sign(seller(1), "INV-1", BASE_TIME, b"b")
    with Ledger.open(tmp_path / "l") as ledger:
        report = ledger.append_batch(batch_of([a, b]))
        assert report.appended == 2 and report.rejected == []
        assert ledger.find(a.seller_key, "INV-1") == 0 and ledger.find(b.seller_key, "INV-1") == 1
        # The same pair again, with another payload and time: a duplicate.
        again = ref.sign(seller(1), "INV-1", BASE_TIME + 1, b"other")
        with pytest.raises(BatchRejectedError) as err:
            ledger.append(as_invoice(again))
        (rejection,) = err.value.report.rejected
        assert (rejection.reason, rejection.seq) == (RejectReason.DUPLICATE_IN_LEDGER, 1)


def test_append_one_and_an_empty_batch(tmp_path):
    records = make_records(3)
    with Ledger.open(tmp_path / "l") as ledger:
        report = ledger.append_batch(batch_of([]))
        assert (report.appended, report.rejected, report.size, report.root) == (0, [], 0, ref_root("blake3", []))
        assert [ledger.append(as_invoice(r)) for r in records] == [0, 1, 2]
        report = ledger.append_batch(batch_of([]))
        assert (report.first_seq, report.appended, report.size) == (3, 0, 3)
        assert ledger.root() == ref_root("blake3", leaves_of("blake3", records))


# --- atomicity --------------------------------------------------------------------------------

BASE_COUNT = 40


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory):
    """A closed ledger of BASE_COUNT records and the py-lmdb dump of its tables."""
    path = tmp_path_factory.mktemp("base") / "ledger"
    records = make_records(BASE_COUNT, prefix="BASE")
    with Ledger.open(path) as ledger:
        ledger.append_batch(batch_of(records[:25]))
        ledger.append_batch(batch_of(records[25:]))
    return path, records, ref.dump_tables(path)


def _good(n: int = 5) -> List[Rec]:
    return make_records(n, prefix="NEW", sellers=(0, 1, 2))


def _resign_as(rec: Rec, other: int) -> Rec:
    """The record with a signature by another key over the same envelope."""
    forged = ref.sign(seller(other), rec.invoice_id, rec.issued_at, rec.payload)
    return rec._replace(signature=forged.signature)


def _case(name: str, base: List[Rec]):
    """(batch records, the bad position, expected rejection fields)."""
    good = _good()
    g2 = good[2]
    if name == "bad_signature":
        return good[:2] + [_resign_as(g2, 7)] + good[3:], 2, dict(reason=RejectReason.EQUATION_FAILED)
    if name == "non_canonical_s":
        s = int.from_bytes(g2.signature[32:], "little") + L
        return (good[:2] + [g2._replace(signature=g2.signature[:32] + s.to_bytes(32, "little"))] + good[3:], 2,
                dict(reason=RejectReason.NON_CANONICAL_S))
    if name == "non_canonical_key":
        bad_key = b"\xff" * 31 + b"\x7f"  # y = 2^255 - 1 >= p
        return good[:2] + [g2._replace(seller_key=bad_key)] + good[3:], 2, dict(reason=RejectReason.NON_CANONICAL_POINT)
    if name == "small_order_key":
        identity = b"\x01" + b"\x00" * 31
        return (good[:2] + [g2._replace(seller_key=identity, signature=identity + b"\x00" * 32)] + good[3:], 2,
                dict(reason=RejectReason.SMALL_ORDER_KEY))
    if name == "duplicate_in_ledger":
        old = base[7]
        dup = ref.sign(seller(7 % 3), old.invoice_id, old.issued_at + 5, b"a different payload")
        assert dup.seller_key == old.seller_key
        return good[:3] + [dup] + good[4:], 3, dict(reason=RejectReason.DUPLICATE_IN_LEDGER, seq=7)
    if name == "duplicate_in_batch":
        first = good[1]
        dup = ref.sign(seller(1), first.invoice_id, first.issued_at, b"second copy, other payload")
        assert dup.seller_key == first.seller_key
        return good[:3] + [dup] + good[4:], 3, dict(reason=RejectReason.DUPLICATE_IN_BATCH, earlier=1)
    malformed = {
        "empty_invoice_id": ("invoice_id", lambda r: ref.sign(seller(2), "", r.issued_at, r.payload)),
        "invoice_id_129_bytes": ("invoice_id", lambda r: ref.sign(seller(2), "x" * 129, r.issued_at, r.payload)),
        "invoice_id_not_utf8": ("invoice_id", lambda r: ref.sign(seller(2), b"INV-\xff\xfe", r.issued_at, r.payload)),
        "seller_key_31_bytes": ("seller_key", lambda r: r._replace(seller_key=r.seller_key[:31])),
        "signature_63_bytes": ("signature", lambda r: r._replace(signature=r.signature[:63])),
        "payload_over_16_mib": ("payload", lambda r: ref.sign(seller(2), r.invoice_id, r.issued_at,
                                                              b"\x20" * (16 * 1024 * 1024 + 1))),
    }
    field, make = malformed[name]
    return good[:2] + [make(g2)] + good[3:], 2, dict(reason=RejectReason.MALFORMED, field=field)


CASES = ["bad_signature", "non_canonical_s", "non_canonical_key", "small_order_key", "duplicate_in_ledger",
         "duplicate_in_batch", "empty_invoice_id", "invoice_id_129_bytes", "invoice_id_not_utf8",
         "seller_key_31_bytes", "signature_63_bytes", "payload_over_16_mib"]


def _check_rejection(rejected, position: int, expected: dict) -> None:
    assert len(rejected) == 1, rejected
    (r,) = rejected
    assert r.position == position and r.reason == expected["reason"], r
    assert isinstance(r.reason, RejectReason)
    assert (r.seq, r.earlier, r.field) == (expected.get("seq"), expected.get("earlier"), expected.get("field")), r
    assert tuple(r) == (position, expected["reason"])
    assert r.message


@pytest.mark.parametrize("case", CASES)
def test_one_bad_item_rejects_the_whole_batch_and_writes_nothing(tmp_path, base_ledger, case):
    base_path, base, base_tables = base_ledger
    path = tmp_path / "l"
    shutil.copytree(base_path, path)
    records, position, expected = _case(case, base)
    base_root = ref_root("blake3", leaves_of("blake3", base))
    with Ledger.open(path, create=False) as ledger:
        assert (ledger.size, ledger.root()) == (BASE_COUNT, base_root)
        with pytest.raises(BatchRejectedError) as err:
            ledger.append_batch(batch_of(records))
        assert isinstance(err.value, LedgerError)
        report = err.value.report
        assert (report.appended, report.size, report.root) == (0, BASE_COUNT, base_root)
        _check_rejection(report.rejected, position, expected)
        assert (ledger.size, ledger.root()) == (BASE_COUNT, base_root)
        # Every table is byte-identical, read while this process still holds the ledger.
        assert ref.dump_tables(path) == base_tables
        for rec in records:
            if len(rec.seller_key) == 32 and 1 <= len(ref.id_bytes(rec.invoice_id)) <= 128 and case != "invoice_id_not_utf8":
                found = ledger.find(rec.seller_key, rec.invoice_id)
                assert found is None or found < BASE_COUNT


@pytest.mark.parametrize("case", CASES)
def test_skip_appends_exactly_the_good_items_in_order(tmp_path, base_ledger, case):
    base_path, base, _ = base_ledger
    path = tmp_path / "l"
    shutil.copytree(base_path, path)
    records, position, expected = _case(case, base)
    good = [r for i, r in enumerate(records) if i != position]
    with Ledger.open(path, create=False) as ledger:
        report = ledger.append_batch(batch_of(records), on_invalid="skip")
        assert (report.first_seq, report.appended) == (BASE_COUNT, len(good))
        _check_rejection(report.rejected, position, expected)
        assert report.size == ledger.size == BASE_COUNT + len(good)
        assert report.root == ledger.root() == ref_root("blake3", leaves_of("blake3", base + good))
        for j, rec in enumerate(good):
            assert ledger.get(BASE_COUNT + j) == as_invoice(rec)
            assert ledger.find(rec.seller_key, rec.invoice_id) == BASE_COUNT + j
        bad = records[position]
        if case == "duplicate_in_ledger":
            assert ledger.find(bad.seller_key, bad.invoice_id) == 7
            assert ledger.get(7) == as_invoice(base[7])
        elif case == "duplicate_in_batch":
            assert ledger.find(bad.seller_key, bad.invoice_id) == BASE_COUNT + 1
            assert ledger.get(BASE_COUNT + 1) == as_invoice(records[1])
        elif case == "bad_signature":
            assert ledger.find(bad.seller_key, bad.invoice_id) is None
        assert_audit_ok(ledger)


def test_reject_reports_every_bad_item(tmp_path, base_ledger):
    base_path, base, base_tables = base_ledger
    path = tmp_path / "l"
    shutil.copytree(base_path, path)
    good = _good(8)
    records = list(good)
    records[1] = _resign_as(good[1], 9)
    records[4] = records[4]._replace(signature=records[4].signature[:63])
    records[6] = ref.sign(seller(6 % 3), good[3].invoice_id, 0, b"x")
    with Ledger.open(path, create=False) as ledger:
        with pytest.raises(BatchRejectedError) as err:
            ledger.append_batch(batch_of(records))
        got = [(r.position, r.reason) for r in err.value.report.rejected]
        assert got == [(1, RejectReason.EQUATION_FAILED), (4, RejectReason.MALFORMED),
                       (6, RejectReason.DUPLICATE_IN_BATCH)]
        assert err.value.report.rejected[2].earlier == 3
        assert ref.dump_tables(path) == base_tables
        report = ledger.append_batch(batch_of(records), on_invalid="skip")
        assert [(r.position, r.reason) for r in report.rejected] == got
        kept = [r for i, r in enumerate(records) if i not in (1, 4, 6)]
        assert report.root == ref_root("blake3", leaves_of("blake3", base + kept))


# --- the trusted path -------------------------------------------------------------------------


def test_verify_false_appends_a_bad_signature(tmp_path):
    records = make_records(6)
    records[3] = _resign_as(records[3], 9)
    with Ledger.open(tmp_path / "l") as ledger:
        with pytest.raises(BatchRejectedError):
            ledger.append_batch(batch_of(records))
        report = ledger.append_batch(batch_of(records), verify=False)
        assert (report.appended, report.rejected) == (6, [])
        assert ledger.leaf_hash(3) == records[3].leaf_hash("blake3")
        assert ledger.root() == ref_root("blake3", leaves_of("blake3", records))
        assert ledger.get(3) == as_invoice(records[3])
        # An audit re-verifies every signature: the trusted bad one is named.
        audit = ledger.audit()
        assert not audit.ok and {(p.seq) for p in audit.problems} == {3}, audit.problems
        # The trusted path still refuses duplicates and malformed items.
        with pytest.raises(BatchRejectedError) as err:
            ledger.append_batch(batch_of([records[0]]), verify=False)
        assert err.value.report.rejected[0].reason == RejectReason.DUPLICATE_IN_LEDGER


@pytest.mark.parametrize("suite", HASHERS)
def test_payload_hashes_give_the_same_leaves(tmp_path, suite):
    batches = [make_records(50, start=0), make_records(30, start=50)]
    for name, given in (("plain", False), ("hashed", True)):
        with Ledger.open(tmp_path / name, hasher=suite) as ledger:
            for records in batches:
                hashes = None
                if given:
                    hashes = np.frombuffer(b"".join(ref.payload_hash(r.payload) for r in records),
                                           np.uint8).reshape(-1, 32)
                ledger.append_batch(batch_of(records, "arrays"), verify=False, payload_hashes=hashes)
            all_records = batches[0] + batches[1]
            assert [ledger.leaf_hash(i) for i in range(len(all_records))] == leaves_of(suite, all_records)
            assert ledger.root() == ref_root(suite, leaves_of(suite, all_records))
    assert ref.dump_tables(tmp_path / "plain") == ref.dump_tables(tmp_path / "hashed")


# --- reads ------------------------------------------------------------------------------------


@pytest.fixture()
def filled(tmp_path):
    records = make_records(600, sellers=(0, 1, 2, 3))
    ledger = Ledger.open(tmp_path / "l")
    for chunk in (records[:1], records[1:300], records[300:]):
        ledger.append_batch(batch_of(chunk, "arrays"))
    yield ledger, records
    ledger.close()


def test_get_get_many_find_by_seller(filled):
    ledger, records = filled
    for seq, rec in enumerate(records):
        assert ledger.get(seq) == as_invoice(rec), seq
        assert ledger.find(rec.seller_key, rec.invoice_id) == seq
    assert ledger.find(records[5].seller_key, ref.id_bytes(records[5].invoice_id)) == 5
    assert ledger.get(np.int64(9)) == as_invoice(records[9])
    seqs = [599, 0, 17, 17, 300, 299, 1]
    got = ledger.get_many(seqs)
    assert isinstance(got, InvoiceBatch) and len(got) == len(seqs)
    assert list(got) == [as_invoice(records[s]) for s in seqs]
    assert list(ledger.get_many(np.array(seqs, dtype=np.uint64))) == list(got)
    assert len(ledger.get_many([])) == 0
    for index in range(4):
        seqs_of = ledger.by_seller(pk(index))
        assert seqs_of.dtype == np.uint64
        assert seqs_of.tolist() == [s for s, r in enumerate(records) if r.seller_key == pk(index)]
    assert ledger.by_seller(pk(99)).tolist() == []


def test_unknown_and_out_of_range(filled):
    ledger, records = filled
    assert ledger.find(pk(99), records[0].invoice_id) is None
    assert ledger.find(records[0].seller_key, "no such invoice") is None
    assert ledger.find(records[0].seller_key, records[1].invoice_id) is None  # that id is another seller's
    for bad in (600, 601, 2**40):
        with pytest.raises(OutOfRangeError):
            ledger.get(bad)
    with pytest.raises(OutOfRangeError):
        ledger.get(-1)
    with pytest.raises(OutOfRangeError):
        ledger.get_many([0, 600])


def test_scan(filled):
    ledger, records = filled
    everything = [inv for chunk in ledger.scan() for inv in chunk]
    assert everything == [as_invoice(r) for r in records]
    chunks = list(ledger.scan(10, 250, batch_size=64))
    assert [len(c) for c in chunks] == [64, 64, 64, 48]
    assert [inv for c in chunks for inv in c] == [as_invoice(r) for r in records[10:250]]
    assert list(ledger.scan(600)) == [] and list(ledger.scan(5, 5)) == []
    with pytest.raises(OutOfRangeError):
        list(ledger.scan(0, 601))
    # A scan reads the state it began in, whatever is appended meanwhile.
    scan = ledger.scan(590, batch_size=4)
    first = next(scan)
    ledger.append_batch(batch_of(make_records(5, prefix="LATE")))
    rest = [inv for chunk in scan for inv in chunk]
    assert list(first) + rest == [as_invoice(r) for r in records[590:]]


def test_scan_of_a_snapshot_leaves_it_open(filled):
    ledger, records = filled
    with ledger.snapshot() as snap:
        assert [inv for c in snap.scan(0, 10) for inv in c] == [as_invoice(r) for r in records[:10]]
        assert snap.size == 600 and snap.get(3) == as_invoice(records[3])


def test_snapshot_keeps_the_old_state_while_appends_go_on(filled):
    ledger, records = filled
    old_root = ledger.root()
    later = make_records(50, prefix="LATER", sellers=(0, 5))
    with ledger.snapshot() as snap:
        ledger.append_batch(batch_of(later[:20]))
        ledger.append_batch(batch_of(later[20:]))
        assert (snap.size, snap.root(), len(snap)) == (600, old_root, 600)
        assert snap.get(599) == as_invoice(records[599])
        with pytest.raises(OutOfRangeError):
            snap.get(600)
        assert snap.find(later[0].seller_key, later[0].invoice_id) is None
        assert snap.by_seller(pk(5)).tolist() == []
        assert [inv for c in snap.scan() for inv in c] == [as_invoice(r) for r in records]
        proof = snap.prove_inclusion(3)
        assert proof.size == 600 and proof.verify(records[3].leaf_hash("blake3"), old_root)
        # The ledger itself sees the new records.
        assert ledger.size == 650
        assert ledger.find(later[0].seller_key, later[0].invoice_id) == 600
        assert ledger.by_seller(pk(5)).tolist() == list(range(601, 650, 2))
        assert ledger.root() == ref_root("blake3", leaves_of("blake3", records + later))
        assert ledger.root(600) == old_root


# --- persistence ------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", HASHERS)
def test_close_and_reopen(tmp_path, suite):
    path = tmp_path / "l"
    records = make_records(300)
    with Ledger.open(path, hasher=suite) as ledger:
        ledger.append_batch(batch_of(records[:200]))
        ledger.append_batch(batch_of(records[200:]))
        root = ledger.root()
    with pytest.raises(LedgerClosedError):
        ledger.size
    for kwargs in ({"create": False}, {}, {"readonly": True}):
        with Ledger.open(path, **kwargs) as again:
            assert again.hasher == (merkle.SHA256 if suite == "sha256" else merkle.BLAKE3)
            assert (again.size, again.root()) == (300, root)
            assert root == ref_root(suite, leaves_of(suite, records))
            assert [inv for c in again.scan() for inv in c] == [as_invoice(r) for r in records]
            assert_audit_ok(again)
    more = make_records(10, start=300)
    with Ledger.open(str(path), create=False) as again:
        again.append_batch(batch_of(more))
        assert again.root() == ref_root(suite, leaves_of(suite, records + more))
    with Ledger.open(path, readonly=True) as reader:
        with pytest.raises(ReadOnlyError):
            reader.append_batch(batch_of(make_records(1, start=400)))
        assert reader.size == 310


_REOPEN_OTHER_HASHER = r"""
import sys
from ledger_core import Ledger, LedgerError
try:
    Ledger.open(sys.argv[1], hasher="blake3")
    print("opened")
except LedgerError as exc:
    print(type(exc).__name__)
"""


def test_failed_open_raises_at_once(tmp_path):
    # In a subprocess: a failed open that hangs must not hang the test run.
    path = tmp_path / "l"
    with Ledger.open(path, hasher="sha256") as ledger:
        ledger.append_batch(batch_of(make_records(2)))
    try:
        done = run_python(_REOPEN_OTHER_HASHER, str(path), timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("Ledger.open of a sha256 ledger with hasher='blake3' hung instead of raising")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in ("InvalidArgumentError", "UnsupportedFormatError"), done.stdout
    with Ledger.open(path, create=False) as ledger:
        assert ledger.hasher == merkle.SHA256 and ledger.size == 2


def test_open_missing_without_create(tmp_path):
    with pytest.raises(NotFoundError):
        Ledger.open(tmp_path / "nothing here", create=False)
    with pytest.raises(NotFoundError):
        Ledger.open(tmp_path / "nothing here", create=False, readonly=True)
    assert not (tmp_path / "nothing here").exists()


# --- proofs from disk -------------------------------------------------------------------------


@pytest.mark.parametrize("suite", HASHERS)
def test_proofs_from_disk_equal_the_memory_tree_and_the_reference(tmp_path, suite):
    records = make_records(700, sellers=(0, 1, 2, 3, 4))
    leaves = leaves_of(suite, records)
    tree = merkle.MerkleTree(suite)
    tree.extend_hashes(leaves)
    rng = random.Random(suite)
    with Ledger.open(tmp_path / "l", hasher=suite) as ledger:
        for lo, hi in ((0, 1), (1, 256), (256, 257), (257, 600), (600, 700)):
            ledger.append_batch(batch_of(records[lo:hi]))
        sizes = [1, 2, 3, 255, 256, 257, 511, 512, 513, 700] + [rng.randint(1, 700) for _ in range(40)]
        for n in sizes:
            root = ledger.root(n)
            assert root == tree.root(n) == ref_root(suite, leaves[:n])
            for m in {0, n - 1, rng.randrange(n), rng.randrange(n)}:
                proof = ledger.prove_inclusion(m, n)
                assert (proof.index, proof.size, proof.hasher) == (m, n, tree.hasher)
                assert list(proof.hashes) == list(tree.inclusion_proof(m, n).hashes)
                assert list(proof.hashes) == ref.ref_inclusion_proof(suite, leaves[:n], m)
                assert proof.verify(leaves[m], root)
                assert proofs.verify_inclusion(suite, m, n, leaves[m], list(proof.hashes), root)
                assert ref.ref_verify_inclusion(suite, m, n, leaves[m], list(proof.hashes), root)
                assert proofs.from_json(proof.to_json()).verify(leaves[m], root)
            for m in {1, n, rng.randint(1, n), rng.randint(1, n)}:
                proof = ledger.prove_consistency(m, n)
                assert (proof.size1, proof.size2, proof.hasher) == (m, n, tree.hasher)
                assert list(proof.hashes) == list(tree.consistency_proof(m, n).hashes)
                assert list(proof.hashes) == ref.ref_consistency_proof(suite, leaves[:n], m)
                old = ref_root(suite, leaves[:m])
                assert proof.verify(old, root)
                assert proofs.verify_consistency(suite, m, n, list(proof.hashes), old, root)
                assert ref.ref_verify_consistency(suite, m, n, list(proof.hashes), old, root)
        # Defaults are the current size.
        assert ledger.prove_inclusion(5).size == 700
        assert list(ledger.prove_consistency(300).hashes) == ref.ref_consistency_proof(suite, leaves, 300)
        for bad in ((700, 700), (0, 701), (5, 0)):
            with pytest.raises(OutOfRangeError):
                ledger.prove_inclusion(*bad)
        for bad in ((0, 5), (0, 0), (6, 5), (1, 701)):
            with pytest.raises(OutOfRangeError):
                ledger.prove_consistency(*bad)


# --- map growth -------------------------------------------------------------------------------


@pytest.mark.parametrize("hold_snapshot", [False, True], ids=["plain", "snapshot_open"])
def test_map_grows_from_one_mib(tmp_path, hold_snapshot):
    rng = random.Random(20)
    payload_len = 24 * 1024
    first = make_records(100, payload_len=payload_len, rng=rng)  # 2.4 MB: the first batch overflows the map
    rest = [make_records(20, start=100 + 20 * i, payload_len=payload_len, rng=rng) for i in range(40)]
    total = sum(len(r.payload) for b in [first] + rest for r in b)
    assert total > 20_000_000
    with Ledger.open(tmp_path / "l", map_size=1 << 20) as ledger:
        assert ledger.map_size >= 1 << 20
        ledger.append_batch(batch_of(first))
        snap = ledger.snapshot() if hold_snapshot else None
        old_root = ledger.root()
        for batch in rest:
            report = ledger.append_batch(batch_of(batch, "arrays"))
            assert report.appended == len(batch)
        records = first + [r for b in rest for r in b]
        assert ledger.size == len(records) == 900
        assert ledger.root() == ref_root("blake3", leaves_of("blake3", records))
        assert ledger.map_size > total
        if snap is not None:
            assert (snap.size, snap.root()) == (100, old_root)
            assert snap.get(99) == as_invoice(first[99])
            snap.close()
        assert ledger.get(899) == as_invoice(records[899])
        assert_audit_ok(ledger)


# --- the writer lock and one environment per path ------------------------------------------------

_SECOND_WRITER = r"""
import json, sys
from ledger_core import Ledger, LedgerLockedError
try:
    with Ledger.open(sys.argv[1]) as ledger:
        print(json.dumps({"result": "opened", "size": ledger.size}))
except LedgerLockedError as exc:
    print(json.dumps({"result": "locked", "message": str(exc)}))
"""

_READER = r"""
import json, sys
from ledger_core import Ledger
with Ledger.open(sys.argv[1], readonly=True) as ledger:
    n = ledger.size
    last = ledger.get(n - 1)
    print(json.dumps({"size": n, "root": ledger.root().hex(), "last_id": last.invoice_id,
                      "last_payload": last.payload.hex(), "audit_ok": ledger.audit().ok}))
"""


def _second_writer(path) -> dict:
    """What a second process gets when it opens `path` for writing (it must answer at once)."""
    try:
        done = run_python(_SECOND_WRITER, str(path), timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("a second writer process hung in Ledger.open instead of raising LedgerLockedError")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_second_writer_process_is_refused_and_readers_work(tmp_path):
    path = tmp_path / "l"
    records = make_records(30)
    with Ledger.open(path) as ledger:
        ledger.append_batch(batch_of(records))
        # docs/FORMAT.md: writer.lock says who holds it. Reading it (an open and a close of
        # the file in the writing process) must not release the lock.
        holder = (path / "writer.lock").read_text(encoding="ascii")
        match = re.fullmatch(r"pid (\d+) host (\S+) since (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|\+00:00))\n", holder)
        assert match, holder
        assert (int(match[1]), match[2]) == (os.getpid(), socket.gethostname())
        seen = _second_writer(path)
        assert seen["result"] == "locked", seen
        assert re.search(rf"\b{os.getpid()}\b", seen["message"]), seen["message"]
        done = run_python(_READER, str(path))
        assert done.returncode == 0, done.stderr
        read = json.loads(done.stdout)
        assert read == {"size": 30, "root": ledger.root().hex(), "last_id": records[29].invoice_id,
                        "last_payload": records[29].payload.hex(), "audit_ok": True}
        # The writer goes on while it is read.
        ledger.append_batch(batch_of(make_records(5, start=30)))
        assert json.loads(run_python(_READER, str(path)).stdout)["size"] == 35
    # Closed: another process may write.
    assert _second_writer(path) == {"result": "opened", "size": 35}


def test_same_path_twice_in_one_process_shares_the_ledger(tmp_path):
    path = tmp_path / "l"
    records = make_records(20)
    first = Ledger.open(path)
    try:
        first.append_batch(batch_of(records[:10]))
        second = Ledger.open(path)
        reader = Ledger.open(path, readonly=True)
        try:
            assert (second.size, second.root()) == (first.size, first.root())
            second.append_batch(batch_of(records[10:]))
            assert first.size == reader.size == 20
            assert first.root() == reader.root() == ref_root("blake3", leaves_of("blake3", records))
            assert first.get(15) == as_invoice(records[15])
        finally:
            second.close()
            reader.close()
        # The environment stays open for the remaining handle.
        first.append_batch(batch_of(make_records(1, start=20)))
        assert first.size == 21
        assert _second_writer(path)["result"] == "locked"
    finally:
        first.close()


def test_readonly_handle_on_a_shared_environment_cannot_write(tmp_path):
    path = tmp_path / "l"
    with Ledger.open(path) as writer:
        writer.append_batch(batch_of(make_records(3)))
        with Ledger.open(path, readonly=True) as reader:
            assert reader.readonly and reader.size == 3
            with pytest.raises(ReadOnlyError):
                reader.append_batch(batch_of(make_records(1, start=3)))
            with pytest.raises(ReadOnlyError):
                reader.checkpoint(SigningKey(bytes(32)), ORIGIN)
        assert writer.size == 3 and writer.checkpoints() == []


def test_same_directory_by_another_spelling_shares_the_ledger(tmp_path):
    path = tmp_path / "l"
    with Ledger.open(path) as ledger:
        ledger.append_batch(batch_of(make_records(3)))
        with Ledger.open(os.path.join(str(path), "."), create=False) as other:
            assert other.size == 3
        os.symlink(path, tmp_path / "link")
        with Ledger.open(tmp_path / "link", create=False) as other:
            assert other.size == 3


# --- fork -------------------------------------------------------------------------------------


def _wait(pid: int, deadline_s: float = 60.0) -> int:
    deadline = time.monotonic() + deadline_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -999
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_must_reopen(tmp_path):
    path = tmp_path / "l"
    records = make_records(40)
    with Ledger.open(path) as ledger:
        ledger.append_batch(batch_of(records))
        root = ledger.root()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 10
            try:
                failures = 0
                for use in (lambda: ledger.size, lambda: ledger.get(0), lambda: ledger.root(),
                            lambda: ledger.find(records[0].seller_key, records[0].invoice_id),
                            lambda: ledger.snapshot(),
                            lambda: ledger.append_batch(batch_of(make_records(1, start=100)))):
                    try:
                        use()
                        failures += 1
                    except LedgerClosedError:
                        pass
                code = 11 if failures else 12
                if not failures:
                    with Ledger.open(path, readonly=True) as mine:
                        ok = (mine.size == 40 and mine.root() == root and mine.get(39) == as_invoice(records[39])
                              and mine.find(records[3].seller_key, records[3].invoice_id) == 3)
                    code = 0 if ok else 13
            except BaseException:
                code = 14
            finally:
                os._exit(code)
        assert _wait(pid) == 0
        # The parent's ledger is untouched by the child, and still holds the writer lock.
        ledger.append_batch(batch_of(make_records(2, start=40)))
        assert ledger.root() == ref_root("blake3", leaves_of("blake3", records + make_records(2, start=40)))
        assert _second_writer(path)["result"] == "locked"
        assert_audit_ok(ledger)


# --- threads ----------------------------------------------------------------------------------


def test_threads_append_and_read_concurrently(tmp_path):
    writers, batches_each, batch_len = 4, 5, 50
    work = [[make_records(batch_len, prefix=f"T{w}-B{b}", sellers=(10 + w, 20)) for b in range(batches_each)]
            for w in range(writers)]
    errors: List[BaseException] = []
    reports = []
    done = threading.Event()
    with Ledger.open(tmp_path / "l") as ledger:

        def append(w: int) -> None:
            try:
                for records in work[w]:
                    reports.append((ledger.append_batch(batch_of(records, "arrays")), records))
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        def read() -> None:
            try:
                while not done.is_set():
                    with ledger.snapshot() as snap:
                        n = snap.size
                        assert n % batch_len == 0
                        root = snap.root()
                        assert snap.root(n) == root
                        if n:
                            last = snap.get(n - 1)
                            assert snap.find(last.seller_key, last.invoice_id) == n - 1
                            assert snap.prove_inclusion(n - 1).verify(snap.leaf_hash(n - 1), root)
                    ledger.size
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=append, args=(w,)) for w in range(writers)]
        threads += [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads[:writers]:
            t.join(120)
        done.set()
        for t in threads[writers:]:
            t.join(120)
        assert not errors, errors[:3]
        total = writers * batches_each * batch_len
        assert ledger.size == total
        # Each batch landed whole and contiguous.
        assert sorted(r.first_seq for r, _ in reports) == list(range(0, total, batch_len))
        by_seq: List[Rec] = [None] * total
        for report, records in reports:
            assert report.appended == batch_len and report.rejected == []
            by_seq[report.first_seq:report.first_seq + batch_len] = records
        for seq, rec in enumerate(by_seq):
            assert ledger.find(rec.seller_key, rec.invoice_id) == seq
        assert ledger.root() == ref_root("blake3", leaves_of("blake3", by_seq))
        assert_audit_ok(ledger, threads=2)


# --- checkpoints ------------------------------------------------------------------------------


def test_checkpoints_sign_store_and_audit(tmp_path):
    key = SigningKey(bytes(range(32)))
    public = bytes(key.verify_key)
    records = make_records(120)
    path = tmp_path / "l"
    with Ledger.open(path) as ledger:
        ledger.append_batch(batch_of(records[:100]))
        note = ledger.checkpoint(key, ORIGIN)
        cp = checkpoint.verify(note, public, ORIGIN)
        root100 = ref_root("blake3", leaves_of("blake3", records[:100]))
        assert (cp.origin, cp.size, cp.root) == (ORIGIN, 100, root100)
        assert ref.ref_verify_note(note, public, ORIGIN) == ref.NoteCheckpoint(ORIGIN, 100, root100)
        ledger.append_batch(batch_of(records[100:]))
        note2 = ledger.checkpoint(key, ORIGIN)
        assert ref.ref_verify_note(note2, public, ORIGIN).size == 120
        stored = ledger.checkpoints()
        assert [(c.size, c.origin, c.public_key, c.note) for c in stored] == [
            (100, ORIGIN, public, note), (120, ORIGIN, public, note2)]
        assert_audit_ok(ledger)
        # A witness's copy of an older checkpoint still matches.
        for kept in (note, note2):
            assert_audit_ok(ledger, checkpoint=kept, public_key=public, origin=ORIGIN)
        # A note over another root at the same size: the log would have been rewritten.
        forged = checkpoint.sign(checkpoint.Checkpoint(ORIGIN, 100, ref_root("blake3", leaves_of("blake3", records[1:101]))), key)
        report = ledger.audit(checkpoint=forged, public_key=public, origin=ORIGIN)
        assert not report.ok and [p.table for p in report.problems] == ["checkpoint"]
        # A note past the ledger's size: records were lost.
        ahead = checkpoint.sign(checkpoint.Checkpoint(ORIGIN, 500, root100), key)
        report = ledger.audit(checkpoint=ahead, public_key=public, origin=ORIGIN)
        assert not report.ok and [p.table for p in report.problems] == ["checkpoint"]
        # A note by another key does not verify at all.
        with pytest.raises(checkpoint.SignatureError):
            ledger.audit(checkpoint=note, public_key=pk(1), origin=ORIGIN)
    tables = ref.dump_tables(path)
    assert tables["checkpoints"] == [
        (ref.checkpoints_key(100, ORIGIN), public + note.encode("utf-8")),
        (ref.checkpoints_key(120, ORIGIN), public + note2.encode("utf-8")),
    ]
    with Ledger.open(path, readonly=True) as reader:
        assert [c.note for c in reader.checkpoints()] == [note, note2]


# --- the files stay plain LMDB -----------------------------------------------------------------


@pytest.mark.skipif(shutil.which("mdb_stat") is None or shutil.which("mdb_dump") is None,
                    reason="lmdb-utils missing (run.sh installs it)")
def test_mdb_stat_and_mdb_dump_read_every_table(tmp_path):
    path = tmp_path / "ledger"
    records = make_records(300)
    with Ledger.open(path) as led:
        led.append_batch(batch_of(records))
    tables = list(ref.TABLES)
    stat = subprocess.run(["mdb_stat", "-a", str(path)], capture_output=True, text=True, timeout=60)
    assert stat.returncode == 0, stat.stderr
    for table in tables:
        assert f"Status of {table}" in stat.stdout
    dump = subprocess.run(["mdb_dump", "-a", str(path)], capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0, dump.stderr
    assert sorted(re.findall(r"^database=(\w+)$", dump.stdout, re.M)) == sorted(tables)
    one = subprocess.run(["mdb_dump", "-s", "records", str(path)], capture_output=True, text=True, timeout=60)
    key_lines = [line for line in one.stdout.split("HEADER=END\n", 1)[1].splitlines()[0::2] if line.startswith(" ")]
    assert len(key_lines) == 300 and key_lines[0].strip() == "0000000000000000"


def test_by_seller_posting_lists_are_cut_in_groups_of_4096(tmp_path):
    """A batch longer than a group: by_seller holds one entry per (group, seller), byte for
    byte as docs/FORMAT.md says, and by_seller() reads across groups."""
    records = make_records(9000, sellers=(0, 1, 2, 3, 4))
    with Ledger.open(tmp_path / "l") as led:
        led.append_batch(batch_of(records, "arrays"))
        led.append_batch(batch_of(make_records(10, start=9000, sellers=(2,)), "arrays"))
        assert led.by_seller(pk(2)).tolist() == [s for s in range(9000) if s % 5 == 2] + list(range(9000, 9010))
        assert_audit_ok(led)
    seen = ref.inspect_ledger(tmp_path / "l")
    expected = ref.expected_tables("blake3", [records, make_records(10, start=9000, sellers=(2,))])
    assert seen["tables"]["by_seller"] == expected["by_seller"]
    assert [k[:8] for k, _ in expected["by_seller"]].count(ref.u64(4096)) == 5


def test_warm_maps_the_used_file_and_reads_go_on(tmp_path):
    records = make_records(3000, sellers=(0, 1, 2, 3))
    with Ledger.open(tmp_path / "l") as ledger:
        ledger.append_batch(batch_of(records, "arrays"))
        used = ledger.warm()
        size = os.path.getsize(tmp_path / "l" / "data.mdb")
        assert 0 < used <= max(size, ledger.map_size) and used % 4096 == 0
        assert used >= sum(len(r.payload) for r in records)
        assert ledger.get(2999) == as_invoice(records[2999]) and ledger.audit().ok
    with Ledger.open(tmp_path / "l", readonly=True) as reader:
        assert reader.warm() == used
    with pytest.raises(LedgerClosedError):
        ledger.warm()
