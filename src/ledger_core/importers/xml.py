"""EN 16931 invoices in UBL or CII XML (docs/FORMAT.md, "XML invoices").

The files carry no Ed25519 signature: the operator attests each one with its own key
(the report says so). For each file, in sorted relative-path order:

- payload: the file's bytes exactly as read (at most 16 MiB; a larger file is refused);
- invoice_id: seller identity ":" document type code (BT-3) ":" invoice number (BT-1,
  surrounding whitespace removed). The seller identity is the first present of the VAT
  identifier (BT-31), the legal registration identifier (BT-30), the first seller
  identifier (BT-29) and the seller name (BT-27), with all whitespace removed and
  upper-cased;
- issued_at: the issue date (BT-2) at 00:00 UTC, in ms.

Parsing is hardened (defusedxml): a DTD, entity declarations and external references are
refused before anything is expanded or fetched, and the size bound applies before
parsing.
"""

from __future__ import annotations

import calendar
import os
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

from ledger_core.errors import InvalidTypeError, MalformedInputError
from ledger_core.invoice import PAYLOAD_MAX_LEN, Invoice, InvoiceBatch
from ledger_core.invoice import sign as _sign

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"


@dataclass(frozen=True)
class XmlInvoice:
    """What an XML file gives: its path, invoice_id, issued_at (ms) and bytes."""

    path: str
    invoice_id: str
    issued_at: int
    payload: bytes


def _text(node: Any) -> Optional[str]:
    if node is None or node.text is None:
        return None
    value = node.text.strip()
    return value or None


def _identity(value: Optional[str]) -> Optional[str]:
    return "".join(value.split()).upper() if value else None


def _ms(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0)) * 1000


def _fields_ubl(root: Any, credit: bool) -> Tuple[Optional[str], Optional[str], Optional[str], List[Optional[str]]]:
    ns = {"cbc": CBC, "cac": CAC}
    number = _text(root.find("cbc:ID", ns))
    date = _text(root.find("cbc:IssueDate", ns))
    code = _text(root.find("cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", ns))
    party = root.find("cac:AccountingSupplierParty/cac:Party", ns)
    seller: List[Optional[str]] = [None, None, None, None]
    if party is not None:
        for scheme in party.findall("cac:PartyTaxScheme", ns):
            if _text(scheme.find("cac:TaxScheme/cbc:ID", ns)) == "VAT":
                seller[0] = _text(scheme.find("cbc:CompanyID", ns))
                break
        seller[1] = _text(party.find("cac:PartyLegalEntity/cbc:CompanyID", ns))
        seller[2] = _text(party.find("cac:PartyIdentification/cbc:ID", ns))
        seller[3] = _text(party.find("cac:PartyLegalEntity/cbc:RegistrationName", ns))
    if date is not None:
        parts = date.split("-")
        date = "".join(parts) if len(parts) == 3 else None
    return number, date, code, seller


def _fields_cii(root: Any) -> Tuple[Optional[str], Optional[str], Optional[str], List[Optional[str]]]:
    ns = {"rsm": RSM, "ram": RAM, "udt": UDT}
    doc = root.find("rsm:ExchangedDocument", ns)
    number = _text(doc.find("ram:ID", ns)) if doc is not None else None
    code = _text(doc.find("ram:TypeCode", ns)) if doc is not None else None
    date = _text(doc.find("ram:IssueDateTime/udt:DateTimeString", ns)) if doc is not None else None
    party = root.find("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty", ns)
    seller: List[Optional[str]] = [None, None, None, None]
    if party is not None:
        for reg in party.findall("ram:SpecifiedTaxRegistration/ram:ID", ns):
            if reg.get("schemeID") == "VA":
                seller[0] = _text(reg)
                break
        seller[1] = _text(party.find("ram:SpecifiedLegalOrganization/ram:ID", ns))
        seller[2] = _text(party.find("ram:ID", ns)) or _text(party.find("ram:GlobalID", ns))
        seller[3] = _text(party.find("ram:Name", ns))
    return number, date, code, seller


def parse(path: str, data: bytes) -> XmlInvoice:
    """The record of one XML invoice file; MalformedInputError naming the file and reason."""
    import defusedxml.ElementTree as safe
    from defusedxml import DefusedXmlException

    if len(data) > PAYLOAD_MAX_LEN:
        raise MalformedInputError(f"{path}: {len(data):,} bytes, over the 16 MiB payload limit")
    try:
        root = safe.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedInputError(f"{path}: refused: {type(exc).__name__} (DTDs, entities and external references "
                                  "are not read)") from None
    except Exception as exc:  # xml.etree's ParseError and its relatives
        raise MalformedInputError(f"{path}: not well-formed XML: {exc}") from None
    tag = root.tag
    if tag == f"{{{UBL_INVOICE}}}Invoice":
        number, date, code, seller = _fields_ubl(root, credit=False)
    elif tag == f"{{{UBL_CREDIT_NOTE}}}CreditNote":
        number, date, code, seller = _fields_ubl(root, credit=True)
    elif tag == f"{{{RSM}}}CrossIndustryInvoice":
        number, date, code, seller = _fields_cii(root)
    else:
        raise MalformedInputError(f"{path}: not a UBL Invoice/CreditNote or a CII CrossIndustryInvoice (root {tag})")
    identity = next((_identity(s) for s in seller if _identity(s)), None)
    missing = [name for name, value in (("invoice number (BT-1)", number), ("issue date (BT-2)", date),
                                        ("document type code (BT-3)", code), ("seller identity (BT-27..31)", identity))
               if not value]
    if missing:
        raise MalformedInputError(f"{path}: no {', no '.join(missing)}")
    assert date is not None and number is not None
    if len(date) != 8 or not date.isdigit():
        raise MalformedInputError(f"{path}: issue date {date!r} is not YYYY-MM-DD (UBL) or YYYYMMDD (CII format 102)")
    try:
        issued_at = _ms(int(date[:4]), int(date[4:6]), int(date[6:]))
    except (ValueError, OverflowError):
        raise MalformedInputError(f"{path}: issue date {date!r} is not a date") from None
    return XmlInvoice(path, f"{identity}:{code}:{number}", issued_at, data)


def xml_paths(sources: Sequence[Union[str, "os.PathLike[str]"]]) -> List[str]:
    """The XML files of `sources` (files, or directories searched recursively for
    .xml/.XML), each directory's files in the sorted order of their relative paths."""
    out: List[str] = []
    for source in sources:
        name = os.fspath(source)
        if os.path.isdir(name):
            found = []
            for folder, _, files in os.walk(name):
                for f in files:
                    if f.lower().endswith(".xml"):
                        found.append(os.path.relpath(os.path.join(folder, f), name))
            out.extend(os.path.join(name, rel) for rel in sorted(found))
        else:
            out.append(name)
    return out


def read_xml(sources: Sequence[Union[str, "os.PathLike[str]"]], signing_key: Any, batch_size: int = 4096,
             errors: Optional[List[Tuple[str, str]]] = None,
             skip: int = 0) -> Iterator[Tuple[InvoiceBatch, List[str]]]:
    """Batches of the XML invoices of `sources`, attested with `signing_key`, each with the
    paths of its records, after the first `skip` files (a resumed import). A file that
    cannot be read as an invoice raises MalformedInputError, or, when `errors` is a list,
    is appended to it as (path, reason) and skipped."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidTypeError("batch_size must be a positive int")
    invoices: List[Invoice] = []
    paths: List[str] = []
    for path in xml_paths(sources)[skip:]:
        try:
            size = os.path.getsize(path)
            if size > PAYLOAD_MAX_LEN:
                raise MalformedInputError(f"{path}: {size:,} bytes, over the 16 MiB payload limit")
            with open(path, "rb") as f:
                data = f.read(PAYLOAD_MAX_LEN + 1)
            record = parse(path, data)
        except OSError as exc:
            if errors is None:
                raise MalformedInputError(f"{path}: cannot be read: {exc}") from None
            errors.append((path, f"cannot be read: {exc}"))
            continue
        except MalformedInputError as exc:
            if errors is None:
                raise
            errors.append((path, str(exc)))
            continue
        invoices.append(_sign(signing_key, record.invoice_id, record.issued_at, record.payload))
        paths.append(path)
        if len(invoices) == batch_size:
            yield InvoiceBatch.from_invoices(invoices), paths
            invoices, paths = [], []
    if invoices:
        yield InvoiceBatch.from_invoices(invoices), paths


__all__ = ["parse", "read_xml", "xml_paths", "XmlInvoice"]
