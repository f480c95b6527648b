"""XML invoices (docs/FORMAT.md, "XML invoices"): the real EN 16931 examples in
../shared/invoices, the invoice id and date rules, and hostile XML refused."""

from __future__ import annotations

import collections
import os
import time
from pathlib import Path

import pytest
from nacl.signing import VerifyKey

import invoice_reference as ref
from ledger_core import Ledger, MalformedInputError, RejectReason, ed25519
from ledger_core.importers import xml

SHARED = Path(os.environ.get("LEDGER_CORE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
INVOICES = SHARED / "invoices"
KEY = ed25519.SigningKey.from_seed(bytes(range(32)))

UBL = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:ID> INV 7 </cbc:ID><cbc:IssueDate>2024-02-29</cbc:IssueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
 <cac:AccountingSupplierParty><cac:Party>{party}</cac:Party></cac:AccountingSupplierParty>
</Invoice>"""

CII = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocument><ram:ID>R-1</ram:ID><ram:TypeCode>381</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20250101</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>{party}
 </ram:SellerTradeParty></ram:ApplicableHeaderTradeAgreement></rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"""


@pytest.mark.parametrize("party, want", [
    ('<cac:PartyTaxScheme><cbc:CompanyID>de 123 456</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>'
     '</cac:PartyTaxScheme><cac:PartyLegalEntity><cbc:RegistrationName>Acme</cbc:RegistrationName>'
     '<cbc:CompanyID>HRB 1</cbc:CompanyID></cac:PartyLegalEntity>', "DE123456:380:INV 7"),
    ('<cac:PartyIdentification><cbc:ID>gln 42</cbc:ID></cac:PartyIdentification><cac:PartyLegalEntity>'
     '<cbc:RegistrationName>Acme</cbc:RegistrationName><cbc:CompanyID>hrb 1</cbc:CompanyID></cac:PartyLegalEntity>',
     "HRB1:380:INV 7"),
    ('<cac:PartyIdentification><cbc:ID>gln 42</cbc:ID></cac:PartyIdentification><cac:PartyLegalEntity>'
     '<cbc:RegistrationName>Acme</cbc:RegistrationName></cac:PartyLegalEntity>', "GLN42:380:INV 7"),
    ('<cac:PartyLegalEntity><cbc:RegistrationName>Acme  Gmbh</cbc:RegistrationName></cac:PartyLegalEntity>',
     "ACMEGMBH:380:INV 7"),
])
def test_ubl_invoice_id_and_date(party, want):
    record = xml.parse("x.xml", UBL.format(party=party).encode())
    assert record.invoice_id == want
    assert record.issued_at == 1709164800000  # 2024-02-29T00:00:00Z


def test_cii_invoice_id_and_date():
    party = ('<ram:ID>S1</ram:ID><ram:Name>Muster AG</ram:Name><ram:SpecifiedTaxRegistration>'
             '<ram:ID schemeID="FC">201/113/40209</ram:ID></ram:SpecifiedTaxRegistration>'
             '<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">de 999</ram:ID></ram:SpecifiedTaxRegistration>')
    record = xml.parse("y.xml", CII.format(party=party).encode())
    assert record.invoice_id == "DE999:381:R-1" and record.issued_at == 1735689600000


def test_every_shared_example_imports_distinct_ids_appended_the_rest_duplicates(tmp_path):
    paths = xml.xml_paths([INVOICES])
    assert len(paths) >= 90
    relative = [os.path.relpath(p, INVOICES) for p in paths]
    assert relative == sorted(relative)
    records = [xml.parse(p, Path(p).read_bytes()) for p in paths]
    first_of = {}
    for i, r in enumerate(records):
        first_of.setdefault(r.invoice_id, i)
    with Ledger.open(tmp_path / "l") as led:
        appended, rejected = 0, []
        for batch, batch_paths in xml.read_xml([INVOICES], KEY, batch_size=16):
            report = led.append_batch(batch, on_invalid="skip")
            appended += report.appended
            rejected += [(batch_paths[r.position], r.reason) for r in report.rejected]
        assert appended == len(first_of) and led.size == len(first_of)
        assert len(rejected) == len(records) - len(first_of)
        assert {reason for _, reason in rejected} <= {RejectReason.DUPLICATE_IN_BATCH, RejectReason.DUPLICATE_IN_LEDGER}
        for seq, i in enumerate(sorted(first_of.values())):
            stored = led.get(seq)
            assert stored.payload == Path(paths[i]).read_bytes()  # byte-identical
            assert stored.invoice_id == records[i].invoice_id and led.find(KEY.public_key, stored.invoice_id) == seq
            VerifyKey(stored.seller_key).verify(ref.envelope(stored.invoice_id, stored.issued_at,
                                                             ref.payload_hash(stored.payload)), stored.signature)
        assert led.audit().ok


HOSTILE = {
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;'
                      b'&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'
                      b'&lol2;&lol2;&lol2;">]><Invoice>&lol3;</Invoice>',
    "external entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                       b'<Invoice>&xxe;</Invoice>',
    "external DTD": b'<?xml version="1.0"?><!DOCTYPE Invoice SYSTEM "http://example.com/x.dtd"><Invoice/>',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_quickly_without_reading_anything(name):
    start = time.perf_counter()
    with pytest.raises(MalformedInputError, match="refused") as caught:
        xml.parse("h.xml", HOSTILE[name])
    assert time.perf_counter() - start < 1.0
    assert "root:" not in str(caught.value)


UBL_ROOT = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'


def _hostile_big(kind: str) -> bytes:
    """Just under 16 MiB of an invoice root holding nothing but nesting or elements."""
    room = 16 * 2**20 - len(UBL_ROOT) - 20
    if kind == "deep":
        k = room // 7
        return UBL_ROOT + b"<a>" * k + b"</a>" * k + b"</Invoice>"
    return UBL_ROOT + b"<a/>" * (room // 4) + b"</Invoice>"


MEMORY_PROBE = r"""
import resource, sys
from ledger_core.errors import MalformedInputError
from ledger_core.importers import xml
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    xml.parse(sys.argv[1], data)
except MalformedInputError as exc:
    print(str(exc))
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.parametrize("kind, reason", [("deep", "elements nested deeper than 256"), ("wide", "more than 1,000,000 elements")])
def test_hostile_16_mib_trees_are_refused_in_little_memory(tmp_path, kind, reason):
    """A file under the size bound built to make a tree parser hold it all (4 million
    elements, or 2 million levels): refused, and parsing it grows the process by far
    less than the file (a tree builder took 450-730 MiB here)."""
    import subprocess
    import sys

    path = tmp_path / f"{kind}.xml"
    path.write_bytes(_hostile_big(kind))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    message, grown = done.stdout.strip().splitlines()
    assert f"{path}: refused: {reason}" in message
    assert int(grown) < 48, f"parsing grew the process by {grown} MiB"
    assert time.perf_counter() - start < 30


def test_a_huge_file_is_refused_without_being_read(tmp_path):
    huge = tmp_path / "huge.xml"
    with open(huge, "wb") as f:
        f.truncate(2**40)  # 1 TiB, sparse: reading it would take hours
    start = time.perf_counter()
    errors = []
    assert list(xml.read_xml([huge], KEY, errors=errors)) == []
    assert errors == [(str(huge), f"{huge}: 1,099,511,627,776 bytes, over the 16 MiB payload limit")]
    assert time.perf_counter() - start < 1.0


def test_only_the_fields_paths_are_built_and_they_read_as_a_full_tree_reads_them():
    """The pruned tree gives every shared example, and tricky text, exactly what a full
    xml.etree tree gives."""
    import xml.etree.ElementTree as ET

    def full(data: bytes):
        root = ET.fromstring(data)
        if root.tag.endswith("CrossIndustryInvoice"):
            return xml._fields_cii(root)
        return xml._fields_ubl(root, credit=root.tag.endswith("CreditNote"))

    def pruned(data: bytes):
        from defusedxml.ElementTree import DefusedXMLParser

        parser = DefusedXMLParser(target=xml._Pruned(), forbid_dtd=True)
        parser.feed(data)
        root = parser.close()
        if root.tag.endswith("CrossIndustryInvoice"):
            return xml._fields_cii(root)
        return xml._fields_ubl(root, credit=root.tag.endswith("CreditNote"))

    samples = [p.read_bytes() for p in sorted(INVOICES.rglob("*.xml"))]
    assert len(samples) > 10
    tricky = UBL.format(party='<cac:PartyLegalEntity><cbc:RegistrationName>A<b>x</b>B</cbc:RegistrationName>'
                              '<cbc:CompanyID>C1</cbc:CompanyID><cbc:CompanyID>C2</cbc:CompanyID></cac:PartyLegalEntity>'
                              '<x><cac:PartyIdentification><cbc:ID>no</cbc:ID></cac:PartyIdentification></x>')
    samples.append(tricky.replace("<cbc:ID> INV 7 </cbc:ID>", "<cbc:ID> INV<y/>7 </cbc:ID><cbc:ID>8</cbc:ID>").encode())
    for data in samples:
        try:
            want = full(data)
        except ET.ParseError:
            continue
        assert pruned(data) == want


def test_too_big_broken_and_foreign_files_are_named(tmp_path):
    big = tmp_path / "big.xml"
    with open(big, "wb") as f:
        f.truncate(16 * 2**20 + 1)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><unclosed></Invoice>')
    foreign = tmp_path / "foreign.xml"
    foreign.write_bytes(b"<html/>")
    undated = tmp_path / "undated.xml"
    undated.write_text(UBL.format(party='<cac:PartyLegalEntity><cbc:RegistrationName>A</cbc:RegistrationName>'
                                        '</cac:PartyLegalEntity>').replace("<cbc:IssueDate>2024-02-29</cbc:IssueDate>", ""))
    errors = []
    assert list(xml.read_xml([tmp_path], KEY, errors=errors)) == []
    reasons = dict(errors)
    assert "over the 16 MiB payload limit" in reasons[str(big)]
    assert "not well-formed XML" in reasons[str(broken)]
    assert "not a UBL Invoice/CreditNote or a CII" in reasons[str(foreign)]
    assert "no issue date (BT-2)" in reasons[str(undated)]
    with pytest.raises(MalformedInputError, match="big.xml"):
        list(xml.read_xml([big], KEY))


def test_cli_imports_the_examples_with_an_operator_key(tmp_path, capsys):
    import json

    from ledger_core import cli

    key = tmp_path / "k"
    cli.main(["keygen", str(key)])
    capsys.readouterr()
    code = cli.main(["import", str(tmp_path / "l"), str(INVOICES), "--sign-with", str(key), "--on-invalid", "skip",
                     "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1  # the example collections re-use invoice numbers: duplicates are reported
    counts = collections.Counter(r["reason"] for r in report["rejected"])
    assert set(counts) <= {"DUPLICATE_IN_BATCH", "DUPLICATE_IN_LEDGER"} and report["appended"] == report["size"]
    assert all(r["location"].startswith(str(INVOICES)) for r in report["rejected"])
    assert "attested_by" in report
    code = cli.main(["import", str(tmp_path / "m"), str(INVOICES)])
    assert code == 2 and "--sign-with" in capsys.readouterr().err
