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
refused before anything is expanded or fetched, the size bound applies before reading,
a root that is not an invoice's is refused at once, nesting deeper than MAX_DEPTH or
more than MAX_ELEMENTS elements are refused, and only the elements on the fields' paths
are built, so a hostile file of 16 MiB costs little memory.
"""

from __future__ import annotations

import calendar
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

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


MAX_DEPTH = 256  # deeper nesting is refused (libxml2's default limit); real invoices stay under 20
MAX_SAME = 64  # elements kept per wanted path (the first is used; a seller's tax schemes are scanned)
MAX_ELEMENTS = 1_000_000  # a 16 MiB invoice holds about 400,000 (one per 40 bytes); more is refused


def _wanted(*paths: Tuple[str, ...]) -> Dict[Tuple[str, ...], bool]:
    """Every prefix of `paths` (Clark-notation tags below the root): True for a whole path."""
    out: Dict[Tuple[str, ...], bool] = {}
    for path in paths:
        for k in range(1, len(path)):
            out.setdefault(path[:k], False)
        out[path] = True
    return out


def _c(ns: str, *names: str) -> Tuple[str, ...]:
    return tuple(f"{{{ns}}}{n}" for n in names)


_UBL_PARTY = _c(CAC, "AccountingSupplierParty", "Party")
_UBL_PATHS = _wanted(_c(CBC, "ID"), _c(CBC, "IssueDate"), _c(CBC, "InvoiceTypeCode"), _c(CBC, "CreditNoteTypeCode"),
                     _UBL_PARTY + _c(CAC, "PartyTaxScheme") + _c(CBC, "CompanyID"),
                     _UBL_PARTY + _c(CAC, "PartyTaxScheme", "TaxScheme") + _c(CBC, "ID"),
                     _UBL_PARTY + _c(CAC, "PartyLegalEntity") + _c(CBC, "CompanyID"),
                     _UBL_PARTY + _c(CAC, "PartyLegalEntity") + _c(CBC, "RegistrationName"),
                     _UBL_PARTY + _c(CAC, "PartyIdentification") + _c(CBC, "ID"))
_CII_DOC = _c(RSM, "ExchangedDocument")
_CII_SELLER = _c(RSM, "SupplyChainTradeTransaction") + _c(RAM, "ApplicableHeaderTradeAgreement", "SellerTradeParty")
_CII_PATHS = _wanted(_CII_DOC + _c(RAM, "ID"), _CII_DOC + _c(RAM, "TypeCode"),
                     _CII_DOC + _c(RAM, "IssueDateTime") + _c(UDT, "DateTimeString"),
                     _CII_SELLER + _c(RAM, "SpecifiedTaxRegistration", "ID"),
                     _CII_SELLER + _c(RAM, "SpecifiedLegalOrganization", "ID"),
                     _CII_SELLER + _c(RAM, "ID"), _CII_SELLER + _c(RAM, "GlobalID"), _CII_SELLER + _c(RAM, "Name"))
_ROOTS = {f"{{{UBL_INVOICE}}}Invoice": _UBL_PATHS, f"{{{UBL_CREDIT_NOTE}}}CreditNote": _UBL_PATHS,
          f"{{{RSM}}}CrossIndustryInvoice": _CII_PATHS}


class _NotAnInvoice(Exception):
    pass


class _Pruned:
    """A parser target that builds only the elements on the paths an invoice's fields are
    read from (at most MAX_SAME per path), so a file's tree costs memory by what it holds
    there, not by its size: the rest is checked for well-formedness and dropped. The text
    of a kept element is exactly what xml.etree gives it (data before its first child)."""

    def __init__(self) -> None:
        from xml.etree.ElementTree import TreeBuilder

        self.builder = TreeBuilder()
        self.paths: Dict[Tuple[str, ...], bool] = {}
        self.path: List[str] = []
        self.kept: List[bool] = []  # per open element
        self.counts: Dict[Tuple[str, ...], int] = {}
        self.text_open = False  # the innermost open element is kept and has had no child
        self.elements = 1

    def start(self, tag: str, attrs: Dict[str, str]) -> None:
        if not self.path:
            if tag not in _ROOTS:
                raise _NotAnInvoice(tag)
            self.paths = _ROOTS[tag]
            self.path.append(tag)
            self.kept.append(True)
            self.builder.start(tag, attrs)
            self.text_open = True
            return
        if len(self.path) >= MAX_DEPTH:
            raise MalformedInputError(f"elements nested deeper than {MAX_DEPTH}")
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise MalformedInputError(f"more than {MAX_ELEMENTS:,} elements, more than any invoice of 16 MiB holds")
        self.path.append(tag)
        below = tuple(self.path[1:])
        keep = self.kept[-1] and below in self.paths and self.counts.get(below, 0) < MAX_SAME
        self.kept.append(keep)
        if keep:
            self.counts[below] = self.counts.get(below, 0) + 1
            self.builder.start(tag, attrs)
        self.text_open = keep

    def end(self, tag: str) -> None:
        if self.kept.pop():
            self.builder.end(tag)
        self.path.pop()
        self.text_open = False  # what follows in the parent is a tail, not its text

    def data(self, text: str) -> None:
        if self.text_open:
            self.builder.data(text)

    def close(self) -> Any:
        return self.builder.close()


def parse(path: str, data: bytes) -> XmlInvoice:
    """The record of one XML invoice file; MalformedInputError naming the file and reason."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    if len(data) > PAYLOAD_MAX_LEN:
        raise MalformedInputError(f"{path}: {len(data):,} bytes, over the 16 MiB payload limit")
    try:
        parser = DefusedXMLParser(target=_Pruned(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as exc:
        raise MalformedInputError(f"{path}: refused: {type(exc).__name__} (DTDs, entities and external references "
                                  "are not read)") from None
    except _NotAnInvoice as exc:
        raise MalformedInputError(f"{path}: not a UBL Invoice/CreditNote or a CII CrossIndustryInvoice "
                                  f"(root {exc.args[0]})") from None
    except MalformedInputError as exc:
        raise MalformedInputError(f"{path}: refused: {exc}") from None
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
             errors: Optional[List[Tuple[str, str]]] = None, skip: int = 0,
             max_batch_bytes: int = 64 * 2**20) -> Iterator[Tuple[InvoiceBatch, List[str]]]:
    """Batches of the XML invoices of `sources` (at most `batch_size` files and, past the
    first, `max_batch_bytes` bytes), attested with `signing_key`, each with the paths of
    its records, after the first `skip` files (a resumed import). A file that
    cannot be read as an invoice raises MalformedInputError, or, when `errors` is a list,
    is appended to it as (path, reason) and skipped."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidTypeError("batch_size must be a positive int")
    if isinstance(max_batch_bytes, bool) or not isinstance(max_batch_bytes, int) or max_batch_bytes < 1:
        raise InvalidTypeError("max_batch_bytes must be a positive int")
    invoices: List[Invoice] = []
    paths: List[str] = []
    held = 0
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
        if invoices and held + len(record.payload) > max_batch_bytes:
            yield InvoiceBatch.from_invoices(invoices), paths
            invoices, paths, held = [], [], 0
        invoices.append(_sign(signing_key, record.invoice_id, record.issued_at, record.payload))
        paths.append(path)
        held += len(record.payload)
        if len(invoices) == batch_size:
            yield InvoiceBatch.from_invoices(invoices), paths
            invoices, paths, held = [], [], 0
    if invoices:
        yield InvoiceBatch.from_invoices(invoices), paths


__all__ = ["parse", "read_xml", "xml_paths", "XmlInvoice"]
