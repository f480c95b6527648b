"""Bad arguments to the ledger API: each raises a LedgerError of the right class (and
builtin base) whose message names the argument. Bad *content* of a batch is not here:
it is a rejection (tests/test_ledger.py)."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple, Type

import numpy as np
import pytest
from nacl.signing import SigningKey

import ledger_core
from ledger_core import (
    InvalidArgumentError,
    InvalidTypeError,
    Invoice,
    InvoiceBatch,
    Ledger,
    LedgerClosedError,
    LedgerError,
    NotFoundError,
    OutOfRangeError,
    ReadOnlyError,
    invoice,
)

# The public names of the ledger this table covers (tests/test_api_errors.py checks
# that every top-level name is covered by one table or the other).
COVERED = ["Ledger", "Snapshot", "Invoice", "InvoiceBatch", "AppendReport", "AuditReport", "Problem", "Rejection",
           "RejectReason", "StoredCheckpoint", "sign_invoice"]

KEY = SigningKey(bytes(range(32)))
GOOD = invoice.sign(KEY, "INV-1", 1764547200000, b"{}")


def _batch() -> InvoiceBatch:
    return InvoiceBatch.from_invoices([GOOD])


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "ledger"
    with Ledger.open(path) as led:
        led.append(GOOD)
        yield led


# (name, call(ledger, value), value, expected class, word the message must contain)
ROWS: List[Tuple[str, Callable[[Ledger, Any], Any], Any, Type[LedgerError], str]] = [
    ("Ledger.open path", lambda l, v: Ledger.open(v), 3, InvalidTypeError, "path"),
    ("Ledger.open create", lambda l, v: Ledger.open(l.path, create=v), "yes", InvalidTypeError, "create"),
    ("Ledger.open readonly", lambda l, v: Ledger.open(l.path, readonly=v), 1, InvalidTypeError, "readonly"),
    ("Ledger.open durability", lambda l, v: Ledger.open(l.path, durability=v), "sometimes", InvalidArgumentError, "durability"),
    ("Ledger.open durability type", lambda l, v: Ledger.open(l.path, durability=v), 2, InvalidTypeError, "durability"),
    ("Ledger.open hasher", lambda l, v: Ledger.open(l.path, hasher=v), "md5", InvalidArgumentError, "md5"),
    ("Ledger.open other hasher", lambda l, v: Ledger.open(l.path, hasher=v), "sha256", InvalidArgumentError, "hasher"),
    ("Ledger.open map_size", lambda l, v: Ledger.open(l.path, map_size=v), 1000, OutOfRangeError, "map_size"),
    ("Ledger.open map_size type", lambda l, v: Ledger.open(l.path, map_size=v), 1.5, InvalidTypeError, "map_size"),
    ("Ledger.open missing", lambda l, v: Ledger.open(v, create=False), "/nonexistent/ledger", NotFoundError, "create=True"),
    ("append_batch batch", lambda l, v: l.append_batch(v), [GOOD], InvalidTypeError, "batch"),
    ("append_batch on_invalid", lambda l, v: l.append_batch(_batch(), on_invalid=v), "ignore", InvalidArgumentError, "on_invalid"),
    ("append_batch verify", lambda l, v: l.append_batch(_batch(), verify=v), "no", InvalidTypeError, "verify"),
    ("append_batch threads", lambda l, v: l.append_batch(_batch(), threads=v), -1, OutOfRangeError, "threads"),
    ("append_batch threads type", lambda l, v: l.append_batch(_batch(), threads=v), "2", InvalidTypeError, "threads"),
    ("append_batch payload_hashes verified", lambda l, v: l.append_batch(_batch(), payload_hashes=v),
     np.zeros((1, 32), np.uint8), InvalidArgumentError, "payload_hashes"),
    ("append_batch payload_hashes shape", lambda l, v: l.append_batch(_batch(), verify=False, payload_hashes=v),
     np.zeros((2, 32), np.uint8), InvalidArgumentError, "payload_hashes"),
    ("append_batch payload_hashes type", lambda l, v: l.append_batch(_batch(), verify=False, payload_hashes=v),
     [b"x" * 32], InvalidTypeError, "payload_hashes"),
    ("append invoice", lambda l, v: l.append(v), "INV-1", InvalidTypeError, "invoice"),
    ("get seq", lambda l, v: l.get(v), "0", InvalidTypeError, "seq"),
    ("get seq negative", lambda l, v: l.get(v), -1, OutOfRangeError, "seq"),
    ("get seq past end", lambda l, v: l.get(v), 10**6, OutOfRangeError, "seq"),
    ("get_many seqs", lambda l, v: l.get_many(v), ["a"], InvalidTypeError, "seqs"),
    ("get_many negative", lambda l, v: l.get_many(v), [-1], OutOfRangeError, "seqs"),
    ("find seller_key", lambda l, v: l.find(v, "INV-1"), "key", InvalidTypeError, "seller_key"),
    ("find seller_key length", lambda l, v: l.find(v, "INV-1"), b"k" * 31, InvalidArgumentError, "seller_key"),
    ("find invoice_id", lambda l, v: l.find(bytes(KEY.verify_key), v), 5, InvalidTypeError, "invoice_id"),
    ("by_seller seller_key", lambda l, v: l.by_seller(v), None, InvalidTypeError, "seller_key"),
    ("scan batch_size", lambda l, v: list(l.scan(batch_size=v)), 0, OutOfRangeError, "batch_size"),
    ("scan batch_size type", lambda l, v: list(l.scan(batch_size=v)), 1.0, InvalidTypeError, "batch_size"),
    ("scan stop", lambda l, v: list(l.scan(stop=v)), 10**6, OutOfRangeError, "stop"),
    ("scan start", lambda l, v: list(l.scan(start=v)), "0", InvalidTypeError, "start"),
    ("root size", lambda l, v: l.root(v), 10**6, OutOfRangeError, "size"),
    ("root size type", lambda l, v: l.root(v), "1", InvalidTypeError, "size"),
    ("prove_inclusion seq", lambda l, v: l.prove_inclusion(v), 5, OutOfRangeError, "seq"),
    ("prove_inclusion seq type", lambda l, v: l.prove_inclusion(v), 0.0, InvalidTypeError, "seq"),
    ("prove_consistency old_size", lambda l, v: l.prove_consistency(v), 0, OutOfRangeError, "old_size"),
    ("prove_consistency new_size", lambda l, v: l.prove_consistency(1, v), 99, OutOfRangeError, "new_size"),
    ("leaf_hash seq", lambda l, v: l.leaf_hash(v), 7, OutOfRangeError, "seq"),
    ("import_progress source", lambda l, v: l.import_progress(v), b"file:/x", InvalidTypeError, "source"),
    ("import_progress source empty", lambda l, v: l.import_progress(v), "", InvalidArgumentError, "import key"),
    ("append_batch progress", lambda l, v: l.append_batch(_batch(), progress=v), "file:/x", InvalidTypeError, "progress"),
    ("append_batches batches", lambda l, v: l.append_batches(v), 7, InvalidTypeError, "batches"),
    ("append_batches item", lambda l, v: list(l.append_batches([v])), [GOOD], InvalidTypeError, "batch"),
    ("append_batches tuple", lambda l, v: list(l.append_batches([v])), (1, 2, 3, 4), InvalidTypeError, "tuple"),
    ("append_batches on_invalid", lambda l, v: l.append_batches([], on_invalid=v), "ignore", InvalidArgumentError,
     "on_invalid"),
    ("append_batches verify", lambda l, v: l.append_batches([], verify=v), "no", InvalidTypeError, "verify"),
    ("append_batches threads", lambda l, v: l.append_batches([], threads=v), -1, OutOfRangeError, "threads"),
    ("append_batches progress", lambda l, v: list(l.append_batches([(_batch(), v)])), "file:/x", InvalidTypeError,
     "progress"),
    ("checkpoint origin", lambda l, v: l.checkpoint(KEY, v), "", LedgerError, "origin"),
    ("checkpoint signing_key", lambda l, v: l.checkpoint(v, "example.com/log"), "secret", InvalidTypeError, "key"),
    ("audit threads", lambda l, v: l.audit(threads=v), 10**6, OutOfRangeError, "threads"),
    ("audit max_problems", lambda l, v: l.audit(max_problems=v), 0, InvalidArgumentError, "max_problems"),
    ("audit checkpoint without key", lambda l, v: l.audit(checkpoint=v), "note", InvalidArgumentError, "public_key"),
    ("Invoice invoice_id", lambda l, v: Invoice(v, 0, b"k" * 32, b"s" * 64, b""), 7, InvalidTypeError, "invoice_id"),
    ("Invoice issued_at", lambda l, v: Invoice("I", v, b"k" * 32, b"s" * 64, b""), "now", InvalidTypeError, "issued_at"),
    ("Invoice issued_at bool", lambda l, v: Invoice("I", v, b"k" * 32, b"s" * 64, b""), True, InvalidTypeError, "issued_at"),
    ("Invoice seller_key", lambda l, v: Invoice("I", 0, v, b"s" * 64, b""), "k", InvalidTypeError, "seller_key"),
    ("Invoice signature", lambda l, v: Invoice("I", 0, b"k" * 32, v, b""), None, InvalidTypeError, "signature"),
    ("Invoice payload", lambda l, v: Invoice("I", 0, b"k" * 32, b"s" * 64, v), "text", InvalidTypeError, "payload"),
    ("InvoiceBatch invoice_ids", lambda l, v: InvoiceBatch(v, [0], [b"k" * 32], [b"s" * 64], [b""]), "I", InvalidTypeError, "invoice_ids"),
    ("InvoiceBatch issued_at", lambda l, v: InvoiceBatch(["I"], v, [b"k" * 32], [b"s" * 64], [b""]), ["0"], InvalidTypeError, "issued_at"),
    ("InvoiceBatch issued_at range", lambda l, v: InvoiceBatch(["I"], v, [b"k" * 32], [b"s" * 64], [b""]), [2**63], OutOfRangeError, "issued_at"),
    ("InvoiceBatch seller_keys", lambda l, v: InvoiceBatch(["I"], [0], v, [b"s" * 64], [b""]), np.zeros((1, 32), np.int64), InvalidTypeError, "seller_keys"),
    ("InvoiceBatch signatures", lambda l, v: InvoiceBatch(["I"], [0], [b"k" * 32], v, [b""]), [1], InvalidTypeError, "signatures"),
    ("InvoiceBatch payloads", lambda l, v: InvoiceBatch(["I"], [0], [b"k" * 32], [b"s" * 64], v), [None], InvalidTypeError, "payloads"),
    ("InvoiceBatch lengths", lambda l, v: InvoiceBatch(["I", "J"], [0], [b"k" * 32], [b"s" * 64], v), [b""], InvalidArgumentError, "length"),
    ("InvoiceBatch.from_invoices", lambda l, v: InvoiceBatch.from_invoices(v), ["x"], InvalidTypeError, "invoices"),
    ("invoice.envelope invoice_id", lambda l, v: invoice.envelope(v, 0, bytes(32)), "", InvalidArgumentError, "invoice_id"),
    ("invoice.envelope issued_at", lambda l, v: invoice.envelope("I", v, bytes(32)), 2**63, OutOfRangeError, "issued_at"),
    ("invoice.envelope payload_hash", lambda l, v: invoice.envelope("I", 0, v), bytes(31), InvalidArgumentError, "payload_hash"),
    ("invoice.payload_hash payload", lambda l, v: invoice.payload_hash(v), 5, InvalidTypeError, "payload"),
    ("invoice.sign signing_key", lambda l, v: invoice.sign(v, "I", 0, b""), bytes(32), InvalidTypeError, "signing_key"),
    ("sign_invoice signing_key", lambda l, v: ledger_core.sign_invoice(v, "I", 0, b""), "key", InvalidTypeError, "signing_key"),
]


def _builtin_of(expected: Type[LedgerError]) -> type:
    if issubclass(expected, TypeError):
        return TypeError
    if issubclass(expected, (ValueError, OSError)):
        return ValueError if issubclass(expected, ValueError) else OSError
    return LedgerError


@pytest.mark.parametrize("name, call, value, expected, word", ROWS, ids=[r[0] for r in ROWS])
def test_bad_argument_raises_a_ledger_error_naming_it(ledger, name, call, value, expected, word):
    size, root = ledger.size, ledger.root()
    with pytest.raises(LedgerError) as caught:
        call(ledger, value)
    assert isinstance(caught.value, expected), f"{type(caught.value).__name__}: {caught.value}"
    assert isinstance(caught.value, _builtin_of(expected))
    assert word in str(caught.value), f"message does not name {word}: {caught.value}"
    assert (ledger.size, ledger.root()) == (size, root)


def test_a_closed_ledger_raises_ledger_closed_error(tmp_path):
    led = Ledger.open(tmp_path / "l")
    led.close()
    for call in (lambda: led.size, lambda: led.append(GOOD), lambda: led.get(0), lambda: led.snapshot()):
        with pytest.raises(LedgerClosedError):
            call()


def test_a_read_only_ledger_refuses_writes(tmp_path):
    with Ledger.open(tmp_path / "l") as led:
        led.append(GOOD)
    with Ledger.open(tmp_path / "l", readonly=True) as led:
        with pytest.raises(ReadOnlyError, match="readonly"):
            led.append(GOOD)
        with pytest.raises(ReadOnlyError):
            led.checkpoint(KEY, "example.com/log")
        assert led.size == 1


def test_the_table_covers_the_ledger_api():
    methods = {n for n in dir(Ledger) if not n.startswith("_") and callable(getattr(Ledger, n))}
    named = {row[0].split()[0] for row in ROWS}
    without_arguments = {"close", "snapshot", "checkpoints", "stats", "open", "warm"}
    assert {m for m in methods if m not in without_arguments} <= {n for n in named} | {"open"}, methods - named
    for name in COVERED:
        assert name in ledger_core.__all__
