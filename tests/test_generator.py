"""The 数电票 generator (issue 9): check characters, totals to the cent, determinism,
signatures, and the planted bad records an import must reject."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal

import numpy as np
import pytest
from nacl.signing import VerifyKey

import invoice_reference as ref
import ledger_core
from ledger_core import InvalidArgumentError, InvalidTypeError, Ledger, RejectReason, generator

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def reference_uscc_ok(code: str) -> bool:
    """GB 32100-2015 and GB 11714-1997 written out independently."""
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return False
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    c18 = 31 - sum(CHARSET.index(c) * w for c, w in zip(code[:17], weights)) % 31
    if CHARSET[0 if c18 == 31 else c18] != code[17]:
        return False
    org = code[8:17]
    c9 = 11 - sum(int(c) * w for c, w in zip(org[:8], [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    return org[8] == ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))


@pytest.fixture(scope="module")
def made():
    return generator.generate(1500, sellers=40, seed=11, bad_fraction=0.02, duplicate_fraction=0.02)


def test_check_characters_are_valid(made):
    codes = set()
    for payload in made.batch.payloads:
        doc = json.loads(payload)
        codes.add(doc["seller"]["uscc"])
        if doc["buyer"]["uscc"] is not None:
            codes.add(doc["buyer"]["uscc"])
    assert len(codes) > 100
    for code in codes:
        assert reference_uscc_ok(code), code
        assert generator.valid_uscc(code)
    bad = "91110100" + "12345678" + "9" + "0"
    assert not (reference_uscc_ok(bad) and generator.valid_uscc(bad))
    assert any(json.loads(p)["buyer"]["uscc"] is None for p in made.batch.payloads)  # private persons


def test_totals_add_up_to_the_cent_and_tax_is_rounded_half_up(made):
    rates = set()
    for payload in made.batch.payloads:
        doc = json.loads(payload)
        total = tax = Decimal(0)
        for line in doc["lines"]:
            amount = Decimal(line["quantity"]) * Decimal(line["unit_price"])
            assert Decimal(line["amount"]) == amount
            rate = Decimal(line["tax_rate"].rstrip("%")) / 100
            rates.add(line["tax_rate"])
            expected = (amount * rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
            assert Decimal(line["tax"]) == expected
            total += amount
            tax += expected
        assert Decimal(doc["total_amount"]) == total and Decimal(doc["total_tax"]) == tax
        assert Decimal(doc["total_with_tax"]) == total + tax
        assert all(len(v.split(".")[1]) == 2 for v in (doc["total_amount"], doc["total_tax"], doc["total_with_tax"]))
    assert rates == {"13%", "9%", "6%", "3%", "1%", "0%"}


def test_payload_is_canonical_json_about_a_kilobyte(made):
    sizes = [len(p) for p in made.batch.payloads]
    assert 800 <= np.mean(sizes) <= 1300
    for payload in made.batch.payloads:  # written out directly: json.dumps must agree byte for byte
        doc = json.loads(payload.decode("utf-8"))
        assert json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8") == payload


def test_invoice_numbers_have_the_20_digit_structure(made):
    for number, payload in zip(made.batch.invoice_ids, made.batch.payloads):
        doc = json.loads(payload)
        assert len(number) == 20 and number.isdigit() and number == doc["invoice_number"]
        assert number[:2] == "26" and number[2:4] in generator.PROVINCES


def test_deterministic_from_the_seed():
    a = generator.generate(120, sellers=5, seed=3, bad_fraction=0.05, duplicate_fraction=0.05)
    b = generator.generate(120, sellers=5, seed=3, bad_fraction=0.05, duplicate_fraction=0.05)
    c = generator.generate(120, sellers=5, seed=4)
    for name in ("invoice_ids", "payloads"):
        assert getattr(a.batch, name) == getattr(b.batch, name)
    for name in ("issued_at", "seller_keys", "signatures"):
        assert np.array_equal(getattr(a.batch, name), getattr(b.batch, name))
    assert (a.bad_signatures, a.duplicates) == (b.bad_signatures, b.duplicates)
    assert a.batch.payloads != c.batch.payloads
    assert [k.public_key for k in generator.seller_keys(5, 3)] == [k.public_key for k in generator.seller_keys(5, 3)]


def test_signatures_verify_except_the_planted_ones(made):
    assert made.bad_signatures and made.duplicates
    for i, inv in enumerate(made.batch):
        message = ref.envelope(inv.invoice_id, inv.issued_at, ref.payload_hash(inv.payload))
        try:
            VerifyKey(inv.seller_key).verify(message, inv.signature)
            ok = True
        except Exception:
            ok = False
        assert ok == (i not in made.bad_signatures), i


def test_an_import_rejects_exactly_the_planted_records(tmp_path, made):
    with Ledger.open(tmp_path / "l") as led:
        report = led.append_batch(made.batch, on_invalid="skip")
        got = {r.position: r.reason for r in report.rejected}
        expected = {i: RejectReason.EQUATION_FAILED for i in made.bad_signatures}
        expected.update({i: RejectReason.DUPLICATE_IN_BATCH for i in made.duplicates})
        assert got == expected
        assert {r.position: r.earlier for r in report.rejected if r.earlier is not None} == made.duplicates
        assert report.appended == len(made.batch) - len(expected)
        assert led.audit().ok


def test_sign_invoice_signs_the_envelope_with_either_key_type():
    key = ledger_core.ed25519.SigningKey.from_seed(bytes(32))
    inv = ledger_core.sign_invoice(key, "INV-1", 5, b"{}")
    nacl_inv = ledger_core.sign_invoice(key._key, "INV-1", 5, b"{}")
    assert inv == nacl_inv and inv.seller_key == key.public_key
    VerifyKey(inv.seller_key).verify(inv.envelope(), inv.signature)
    with pytest.raises(InvalidTypeError, match="signing_key"):
        ledger_core.sign_invoice(bytes(32), "INV-1", 5, b"{}")


@pytest.mark.parametrize("kwargs, error", [
    ({"count": -1}, InvalidArgumentError), ({"count": 1.5}, InvalidTypeError), ({"sellers": 0}, InvalidArgumentError),
    ({"bad_fraction": 0.9}, InvalidArgumentError), ({"duplicate_fraction": "x"}, InvalidTypeError),
])
def test_bad_arguments(kwargs, error):
    args = {"count": 3, **kwargs}
    count = args.pop("count")
    with pytest.raises(error):
        generator.generate(count, **args)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_a_file_made_by_two_processes_equals_the_data_set_in_memory(tmp_path, fmt):
    from ledger_core import importers

    path = tmp_path / f"x.{fmt}"
    made = generator.generate_file(str(path), 250, sellers=6, seed=9, bad_fraction=0.02, duplicate_fraction=0.02,
                                   format=fmt, processes=2, _chunk_len=64)
    memory = generator.generate(250, sellers=6, seed=9, bad_fraction=0.02, duplicate_fraction=0.02, _chunk_len=64)
    reader = importers.read_parquet if fmt == "parquet" else importers.read_jsonl
    got = [inv for batch in reader(path, batch_size=100) for inv in batch]
    assert got == list(memory.batch)
    assert made == {"count": 250, "bad_signatures": len(memory.bad_signatures), "duplicates": len(memory.duplicates)}
    assert all(j // 64 == i // 64 for i, j in memory.duplicates.items())  # within a chunk
    assert not list(tmp_path.glob(".gen-*"))  # the chunk files are gone


@pytest.mark.parametrize("size", [300, 301, 700, 1500, 4096])
def test_payload_bytes_gives_exactly_that_size_still_canonical_and_adding_up(size):
    made = generator.generate(400, sellers=7, seed=21, payload_bytes=size)
    assert {len(p) for p in made.batch.payloads} == {size}
    compact = 0
    for number, payload in zip(made.batch.invoice_ids, made.batch.payloads):
        doc = json.loads(payload)
        assert json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8") == payload
        assert doc["invoice_number"] == number and set(doc["remarks"]) <= {"#"}
        lines = doc["lines"]
        total = sum(Decimal(line["amount"]) + Decimal(line["tax"]) for line in lines)
        assert Decimal(doc["total_with_tax"]) == total
        for line in lines:
            rate = Decimal(line["tax_rate"].rstrip("%")) / 100
            assert Decimal(line["tax"]) == (Decimal(line["amount"]) * rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert generator.valid_uscc(doc["seller"]["uscc"])
        if "name" not in lines[0]:
            compact += 1
            assert len(lines) == 1
    assert (compact == 400) if size < 700 else (compact < 400)
    with ledger_core.Ledger.open(tempfile.mkdtemp()) as ledger:  # and they verify
        assert ledger.append_batch(made.batch).appended == 400


def test_payload_bytes_bounds():
    for bad in (299, 0, 16 * 2**20 + 1):
        with pytest.raises(ledger_core.InvalidArgumentError, match="payload_bytes"):
            generator.generate(1, payload_bytes=bad)
    with pytest.raises(ledger_core.InvalidTypeError, match="payload_bytes"):
        generator.generate(1, payload_bytes=300.0)
