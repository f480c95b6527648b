"""Signed invoices (docs/FORMAT.md "Signed invoices"): ledger_core.invoice against the
independent reference (tests/invoice_reference.py: the `blake3` package, hashlib, PyNaCl)
on random and edge inputs, the worked example of docs/FORMAT.md recomputed and read back
from a ledger's files, and the Invoice / InvoiceBatch containers."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st
from nacl.signing import SigningKey

import invoice_reference as ref
from merkle_reference import ref_leaf
from ledger_core import Packed, invoice, merkle
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, LedgerError, OutOfRangeError
from ledger_core.invoice import Invoice, InvoiceBatch

FORMAT_MD = Path(__file__).resolve().parents[1] / "docs" / "FORMAT.md"
HASHERS = {"blake3": merkle.BLAKE3, "sha256": merkle.SHA256}


def utf8_ids():
    """invoice_ids of 1..128 UTF-8 bytes, non-ASCII included (no surrogates: not UTF-8)."""
    return st.text(st.characters(codec="utf-8"), min_size=1, max_size=128).filter(
        lambda s: 1 <= len(s.encode("utf-8")) <= 128)


int64s = st.integers(-(2**63), 2**63 - 1)


# --- constants ------------------------------------------------------------------------------


def test_constants_match_the_format():
    assert invoice.PAYLOAD_KEY == ref.K_PAYLOAD
    assert invoice.ENVELOPE_DOMAIN == ref.DOMAIN == b"ledger_core/invoice/v1"
    assert invoice.INVOICE_ID_MAX_LEN == 128
    assert invoice.PAYLOAD_MAX_LEN == 16 * 1024 * 1024
    assert (invoice.SELLER_KEY_LEN, invoice.SIGNATURE_LEN, invoice.PAYLOAD_HASH_LEN) == (32, 64, 32)


# --- differential: random inputs -------------------------------------------------------------


@given(st.binary(max_size=4096))
def test_payload_hash_equals_reference(payload):
    assert invoice.payload_hash(payload) == ref.payload_hash(payload)


@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 2049, 4097, 8193, 65537, (1 << 20) + 3])
def test_payload_hash_at_blake3_block_and_chunk_boundaries(length):
    payload = bytes((i * 31 + length) & 0xFF for i in range(length))
    assert invoice.payload_hash(payload) == ref.payload_hash(payload)
    assert invoice.payload_hash(bytearray(payload)) == ref.payload_hash(payload)
    assert invoice.payload_hash(memoryview(payload)) == ref.payload_hash(payload)


def test_payload_hash_of_empty_payload():
    assert invoice.payload_hash(b"") == ref.payload_hash(b"") == ref.blake3_ref.blake3(b"", key=ref.K_PAYLOAD).digest()


@given(utf8_ids(), int64s, st.binary(max_size=2048), st.binary(min_size=32, max_size=32),
       st.binary(min_size=64, max_size=64))
def test_envelope_and_leaf_data_equal_reference(invoice_id, issued_at, payload, seller_key, signature):
    digest = ref.payload_hash(payload)
    expected_m = ref.envelope(invoice_id, issued_at, digest)
    assert len(expected_m) == 65 + len(invoice_id.encode("utf-8"))
    assert invoice.envelope(invoice_id, issued_at, digest) == expected_m
    assert invoice.envelope(invoice_id.encode("utf-8"), issued_at, digest) == expected_m
    record = Invoice(invoice_id, issued_at, seller_key, signature, payload)
    assert record.payload_hash() == digest
    assert record.envelope() == expected_m
    expected_leaf = ref.leaf_data(invoice_id, issued_at, seller_key, signature, payload)
    assert record.leaf_data() == expected_leaf == expected_m + seller_key + signature
    for name, hasher in HASHERS.items():
        assert hasher.hash_leaf(record.leaf_data()) == ref_leaf(name, expected_leaf)


@given(utf8_ids(), int64s, st.binary(max_size=512), st.integers(0, 2**32))
def test_sign_equals_pynacl_over_the_reference_envelope(invoice_id, issued_at, payload, key_index):
    key = ref.signing_key(key_index)
    signed = invoice.sign(key, invoice_id, issued_at, payload)
    expected = ref.sign(key, invoice_id, issued_at, payload)
    assert signed == Invoice(*expected)
    key.verify_key.verify(ref.envelope(invoice_id, issued_at, ref.payload_hash(payload)), signed.signature)


@pytest.mark.parametrize("issued_at", [-(2**63), -1, 0, 1, 1764547200000, 2**63 - 1, -86_400_000])
@pytest.mark.parametrize("invoice_id", ["A", "INV-2026-0001", "€" * 42 + "ab", "x" * 128, "Rechnung Nr. 42/ä",
                                        "請求書-001", "\U0001F9FE" * 32, "a\x00b", "e\u0301", "\u00e9"])
def test_edge_ids_and_times_equal_reference(invoice_id, issued_at):
    payload = b'{"total":"1.00"}'
    digest = ref.payload_hash(payload)
    assert invoice.envelope(invoice_id, issued_at, digest) == ref.envelope(invoice_id, issued_at, digest)
    record = Invoice(invoice_id, issued_at, b"\x01" * 32, b"\x02" * 64, payload)
    assert record.leaf_data() == ref.leaf_data(invoice_id, issued_at, b"\x01" * 32, b"\x02" * 64, payload)


def test_ids_are_not_normalised():
    # "é" precomposed and decomposed are different ids with different envelopes.
    digest = ref.payload_hash(b"")
    composed, decomposed = invoice.envelope("\u00e9", 0, digest), invoice.envelope("e\u0301", 0, digest)
    assert composed != decomposed
    assert composed == ref.envelope("\u00e9".encode("utf-8"), 0, digest)
    assert decomposed == ref.envelope(b"e\xcc\x81", 0, digest)


def test_envelope_layout_byte_by_byte():
    digest = bytes(range(32))
    m = invoice.envelope("AB", -2, digest)
    assert m[:22] == b"ledger_core/invoice/v1" and m[22] == 0
    assert m[23:25] == b"\x00\x02" and m[25:27] == b"AB"
    assert m[27:35] == struct.pack(">q", -2) == b"\xff" * 7 + b"\xfe"
    assert m[35:] == digest and len(m) == 67


def test_envelope_refuses_a_payload_hash_of_the_wrong_length():
    for bad in (b"", b"\x00" * 31, b"\x00" * 33):
        with pytest.raises(LedgerError):
            invoice.envelope("INV-1", 0, bad)


def test_envelope_refuses_wrong_types():
    digest = ref.payload_hash(b"")
    with pytest.raises(InvalidTypeError):
        invoice.envelope(7, 0, digest)
    with pytest.raises(InvalidTypeError):
        invoice.envelope("INV-1", "0", digest)
    with pytest.raises(InvalidTypeError):
        invoice.envelope("INV-1", True, digest)


# --- the worked example of docs/FORMAT.md -------------------------------------------------------

EXAMPLE_SEED = bytes(32)
EXAMPLE_ID = "INV-2026-0001"
EXAMPLE_ISSUED_AT = 1764547200000
EXAMPLE_PAYLOAD = b'{"total":"100.00"}'


def fenced_block(text: str, tag: str) -> str:
    match = re.search(rf"^```{tag}\n(.*?)^```$", text, re.S | re.M)
    assert match, f"no ```{tag} block in {FORMAT_MD}"
    return match.group(1)


def documented_invoice_examples() -> dict:
    text = FORMAT_MD.read_text(encoding="utf-8")
    documented = {}
    for line in fenced_block(text, "invoice-examples").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        assert sep, f"invoice-examples line without '=': {line!r}"
        assert name.strip() not in documented, f"{name.strip()} given twice"
        documented[name.strip()] = bytes.fromhex(value.strip())
    return documented


def example_reference_values() -> dict:
    rec = ref.sign(SigningKey(EXAMPLE_SEED), EXAMPLE_ID, EXAMPLE_ISSUED_AT, EXAMPLE_PAYLOAD)
    digest = ref.payload_hash(EXAMPLE_PAYLOAD)
    return {
        "K_PAYLOAD": ref.K_PAYLOAD,
        "seller_key": rec.seller_key,
        "invoice_id": EXAMPLE_ID.encode("utf-8"),
        "issued_at": struct.pack(">q", EXAMPLE_ISSUED_AT),
        "payload": EXAMPLE_PAYLOAD,
        "payload_hash": digest,
        "M": ref.envelope(EXAMPLE_ID, EXAMPLE_ISSUED_AT, digest),
        "signature": rec.signature,
        "leaf data": rec.leaf_data(),
        "blake3 leaf hash": rec.leaf_hash("blake3"),
        "sha256 leaf hash": rec.leaf_hash("sha256"),
        "records key": ref.records_key(0),
        "records value": ref.encode_record(EXAMPLE_ISSUED_AT, 0, 0, 0, len(EXAMPLE_PAYLOAD), rec.signature, EXAMPLE_ID),
        "invoice_index key": ref.invoice_index_key(0, EXAMPLE_ID),
        "invoice_index value": ref.u64(0),
    }


def test_format_md_invoice_examples(tmp_path):
    documented = documented_invoice_examples()
    expected = example_reference_values()
    assert sorted(documented) == sorted(expected), "the invoice-examples names differ from what the test checks"
    for name, value in expected.items():
        assert documented[name] == value, name
    # The published key and the checkpoint example's key are the same.
    assert documented["seller_key"].hex() == "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
    SigningKey(EXAMPLE_SEED).verify_key.verify(documented["M"], documented["signature"])

    # ledger_core computes the same bytes.
    signed = invoice.sign(SigningKey(EXAMPLE_SEED), EXAMPLE_ID, EXAMPLE_ISSUED_AT, EXAMPLE_PAYLOAD)
    assert invoice.PAYLOAD_KEY == documented["K_PAYLOAD"]
    assert signed.payload_hash() == documented["payload_hash"]
    assert signed.envelope() == documented["M"]
    assert signed.signature == documented["signature"]
    assert signed.leaf_data() == documented["leaf data"]
    assert merkle.BLAKE3.hash_leaf(signed.leaf_data()) == documented["blake3 leaf hash"]
    assert merkle.SHA256.hash_leaf(signed.leaf_data()) == documented["sha256 leaf hash"]

    # A ledger holding this one record stores exactly the documented entries.
    from ledger_core import Ledger

    for hasher in ("blake3", "sha256"):
        path = tmp_path / hasher
        with Ledger.open(path, hasher=hasher) as ledger:
            assert ledger.append(signed) == 0
            assert ledger.leaf_hash(0) == documented[f"{hasher} leaf hash"]
            assert ledger.root() == documented[f"{hasher} leaf hash"]  # a one-leaf tree
        tables = ref.dump_tables(path)
        assert tables["records"] == [(documented["records key"], documented["records value"])]
        assert tables["invoice_index"] == [(documented["invoice_index key"], documented["invoice_index value"])]
        assert tables["payloads"] == [(ref.payloads_key(0), documented["payload"])]
        assert tables["tiles"] == [(ref.tiles_key(0, 0), documented[f"{hasher} leaf hash"])]


def test_records_value_round_trips_through_the_reference_decoder():
    values = example_reference_values()
    decoded = ref.decode_record(values["records value"])
    assert decoded == ref.RecordValue(1, EXAMPLE_ISSUED_AT, 0, 0, 0, len(EXAMPLE_PAYLOAD), values["signature"],
                                      EXAMPLE_ID.encode())
    assert len(values["records value"]) == 94 + len(EXAMPLE_ID)


# --- Invoice and InvoiceBatch ------------------------------------------------------------------


def _records(count: int, seller_count: int = 3):
    keys = [ref.signing_key(i) for i in range(seller_count)]
    return [ref.sign(keys[i % seller_count], f"INV-{i:05d}", 1_700_000_000_000 + i, b"payload %d" % i * (i % 5))
            for i in range(count)]


def test_invoice_keyword_construction_and_types():
    rec = _records(1)[0]
    made = Invoice(invoice_id=rec.invoice_id, issued_at=rec.issued_at, seller_key=rec.seller_key,
                   signature=rec.signature, payload=rec.payload)
    assert made == Invoice(*rec)
    assert Invoice(rec.invoice_id, np.int64(rec.issued_at), bytearray(rec.seller_key), memoryview(rec.signature),
                   bytearray(rec.payload)) == made
    with pytest.raises(InvalidTypeError):
        Invoice(rec.invoice_id, "0", rec.seller_key, rec.signature, rec.payload)
    with pytest.raises(InvalidTypeError):
        Invoice(rec.invoice_id, True, rec.seller_key, rec.signature, rec.payload)
    with pytest.raises(InvalidTypeError):
        Invoice(rec.invoice_id, 0, "k" * 32, rec.signature, rec.payload)
    with pytest.raises(InvalidTypeError):
        Invoice(17, 0, rec.seller_key, rec.signature, rec.payload)


def test_invoice_batch_columns_in_every_form_give_the_same_items():
    records = _records(10)
    as_lists = InvoiceBatch.from_invoices([Invoice(*r) for r in records])
    payloads = b"".join(r.payload for r in records)
    offsets = np.cumsum([0] + [len(r.payload) for r in records]).astype(np.uint64)
    ids = b"".join(r.invoice_id.encode() for r in records)
    id_offsets = np.cumsum([0] + [len(r.invoice_id) for r in records]).astype(np.uint64)
    as_arrays = InvoiceBatch(
        Packed(ids, id_offsets),
        np.array([r.issued_at for r in records], dtype=np.int64),
        np.frombuffer(b"".join(r.seller_key for r in records), np.uint8).reshape(-1, 32),
        np.frombuffer(b"".join(r.signature for r in records), np.uint8).reshape(-1, 64),
        Packed(payloads, offsets),
    )
    assert len(as_lists) == len(as_arrays) == 10
    for i, rec in enumerate(records):
        assert as_lists[i] == as_arrays[i] == Invoice(*rec)
        assert as_lists[i].leaf_data() == rec.leaf_data()
    assert list(as_lists) == [Invoice(*r) for r in records]
    assert as_lists[-1] == Invoice(*records[-1])
    with pytest.raises(OutOfRangeError):
        as_lists[10]


def test_invoice_batch_refuses_bad_columns():
    records = _records(3)
    ids = [r.invoice_id for r in records]
    issued = [r.issued_at for r in records]
    keys = [r.seller_key for r in records]
    sigs = [r.signature for r in records]
    payloads = [r.payload for r in records]
    with pytest.raises(InvalidArgumentError):
        InvoiceBatch(ids[:2], issued, keys, sigs, payloads)
    with pytest.raises(InvalidTypeError):
        InvoiceBatch(ids, issued, keys, sigs, [1, 2, 3])
    with pytest.raises(InvalidTypeError):
        InvoiceBatch(ids, ["1", 2, 3], keys, sigs, payloads)
    with pytest.raises(OutOfRangeError):
        InvoiceBatch(ids, [2**63, 0, 0], keys, sigs, payloads)
    with pytest.raises(InvalidTypeError):
        InvoiceBatch(ids, issued, np.zeros((3, 32), np.int64), sigs, payloads)


# --- check_batch: the ledger's per-item verdict without a ledger ----------------------------------


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_check_batch_gives_the_reference_hashes_and_the_ledgers_verdicts(tmp_path, suite):
    from ledger_core import Ledger, RejectReason
    from ledger_core.invoice import check_batch

    keys = [ref.signing_key(i) for i in range(3)]
    records = [ref.sign(keys[i % 3], f"CHK-{i}", 1_764_547_200_000 + i, b"p" * (i % 50)) for i in range(5000)]
    records[7] = records[7]._replace(signature=ref.sign(keys[2], "other", 0, b"").signature)  # wrong signature
    records[4100] = records[4100]._replace(invoice_id="x" * 129)  # malformed: id too long
    records[4101] = records[4101]._replace(seller_key=records[4101].seller_key[:31])  # malformed key
    batch = InvoiceBatch.from_invoices([Invoice(r.invoice_id if isinstance(r.invoice_id, str) else r.invoice_id.decode(),
                                                r.issued_at, r.seller_key, r.signature, r.payload) for r in records])
    check = check_batch(batch, hasher=suite)
    assert check.valid == 4997
    assert {int(i): int(check.reasons[i]) for i in np.flatnonzero(check.reasons)} == {
        7: RejectReason.EQUATION_FAILED, 4100: RejectReason.MALFORMED, 4101: RejectReason.MALFORMED}
    for i in (0, 7, 4099, 4999):
        assert bytes(check.payload_hashes[i]) == ref.payload_hash(records[i].payload)
        assert bytes(check.leaf_hashes[i]) == records[i].leaf_hash(suite)
    assert not check.leaf_hashes[4100].any() and not check.payload_hashes[4101].any()
    with Ledger.open(tmp_path / "l", hasher=suite) as ledger:
        report = ledger.append_batch(batch, on_invalid="skip")
        assert {r.position: int(r.reason) for r in report.rejected} == {
            int(i): int(check.reasons[i]) for i in np.flatnonzero(check.reasons)}
        assert ledger.leaf_hash(0) == bytes(check.leaf_hashes[0])
    unverified = check_batch(batch, hasher=suite, verify=False)
    assert unverified.valid == 4998 and unverified.reasons[7] == 0
    for bad in ([1], "x"):
        with pytest.raises(InvalidTypeError):
            check_batch(bad)
    with pytest.raises(InvalidArgumentError):
        check_batch(batch, hasher="md5")
    with pytest.raises(OutOfRangeError):
        check_batch(batch, threads=-1)
