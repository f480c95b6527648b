"""Invoice files in and out: Parquet and JSONL (docs/FORMAT.md, "Invoice files").

``read_parquet(path, batch_size)`` and ``read_jsonl(path, batch_size)`` stream a file as
:class:`~ledger_core.InvoiceBatch` chunks of at most `batch_size` records and, past the
first record, at most `max_batch_bytes` of payload, in memory bounded whatever the
file's size; ``write_parquet`` and ``write_jsonl`` write a batch. Parquet columns reach the
native core without a Python object per row (`Packed` over the Arrow buffers). A record
that breaks the format raises :class:`~ledger_core.MalformedInputError` naming the file
and the record number (from 1) and what is wrong; the content of a well-formed record
(its signature, a duplicate) is judged by ``Ledger.append_batch``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any, Iterator, List, Optional, Union

import numpy as np

from ledger_core._buffers import Packed
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, MalformedInputError
from ledger_core.invoice import PAYLOAD_MAX_LEN, InvoiceBatch

PathLike = Union[str, "os.PathLike[str]"]
COLUMNS = ("invoice_id", "issued_at", "seller_key", "signature", "payload")
_INT64 = (-(2**63), 2**63 - 1)
MAX_BATCH_BYTES = 64 * 2**20
# How ledger_core writes Parquet: LZ4 decodes at about twice Snappy's speed for the same
# size here (0.7 against 1.7 CPU us per 1 KB invoice), and a dictionary only where values
# repeat (seller keys; signatures and payloads are unique).
PARQUET_WRITE_OPTIONS = {"compression": "lz4", "use_dictionary": ["seller_key"]}
# The longest JSONL line read: a 16 MiB payload written with every byte escaped (\u00XX).
MAX_JSONL_LINE = 6 * PAYLOAD_MAX_LEN + 2**16


def _positive(value: Any, name: str) -> int:
    """`value` as a count of at least 1: InvalidTypeError / InvalidArgumentError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise InvalidArgumentError(f"{name} must be at least 1, got {value}")
    return value


def _byte_cuts(sizes: np.ndarray, limit: int) -> List[int]:
    """Where to cut items of `sizes` bytes into runs of at most `limit` bytes (a run holds
    at least one item): the start of every run after the first, and the end."""
    ends = np.cumsum(sizes, dtype=np.uint64)
    cuts, start, base, n = [], 0, 0, len(sizes)
    while start < n:
        stop = int(np.searchsorted(ends, base + limit, side="right"))
        stop = max(stop, start + 1)
        cuts.append(stop)
        base = int(ends[stop - 1])
        start = stop
    return cuts


# --- Parquet -----------------------------------------------------------------------------


def _parquet_schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        pa.field("invoice_id", pa.string(), nullable=False),
        pa.field("issued_at", pa.int64(), nullable=False),
        pa.field("seller_key", pa.binary(32), nullable=False),
        pa.field("signature", pa.binary(64), nullable=False),
        pa.field("payload", pa.binary(), nullable=False),
    ])


def _rows(column: Any, width: int) -> np.ndarray:
    """A fixed_size_binary(width) Arrow array as an (N, width) uint8 view (no copy)."""
    data = column.buffers()[1]
    flat = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return flat[column.offset * width:(column.offset + len(column)) * width].reshape(len(column), width)


def read_parquet(path: PathLike, batch_size: int = 65536, skip: int = 0,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> Iterator[InvoiceBatch]:
    """The invoices of a Parquet file, `batch_size` rows (and at most `max_batch_bytes` of
    payload) at a time, after the first `skip` rows (a resumed import)."""
    batch_size = _positive(batch_size, "batch_size")
    max_batch_bytes = _positive(max_batch_bytes, "max_batch_bytes")
    name = os.fspath(path)
    reader = _open_parquet(name, name)
    first = 1
    for record_batch in reader.iter_batches(batch_size=batch_size, columns=list(COLUMNS)):
        if skip >= record_batch.num_rows:
            skip -= record_batch.num_rows
            first += record_batch.num_rows
            continue
        if skip:
            record_batch = record_batch.slice(skip)
            first += skip
            skip = 0
        yield from _parquet_batches(record_batch, name, first, max_batch_bytes)
        first += record_batch.num_rows


def _open_parquet(source: Any, name: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` over `source` (a path or an open binary file)
    whose columns are those of docs/FORMAT.md, or MalformedInputError naming `name`.
    Shared by read_parquet and ledger_core.distributed (which reads row ranges)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Buffered reads, no pre-buffering: memory stays bounded by the batch, not by the
        # row group (another tool may write the whole file as one).
        reader = pq.ParquetFile(source, buffer_size=1 << 20, pre_buffer=False)
    except (OSError, pa.ArrowException) as exc:
        raise MalformedInputError(f"{name}: not a readable Parquet file: {exc}") from None
    schema = reader.schema_arrow
    wants = {"invoice_id": (pa.types.is_string, pa.types.is_large_string), "issued_at": (pa.types.is_int64,),
             "seller_key": (lambda t: pa.types.is_fixed_size_binary(t) and t.byte_width == 32,),
             "signature": (lambda t: pa.types.is_fixed_size_binary(t) and t.byte_width == 64,),
             "payload": (pa.types.is_binary, pa.types.is_large_binary)}
    for column, checks in wants.items():
        if column not in schema.names:
            raise MalformedInputError(f"{name}: no column {column!r} (docs/FORMAT.md, Invoice files)")
        kind = schema.field(column).type
        if not any(check(kind) for check in checks):
            raise MalformedInputError(f"{name}: column {column!r} has type {kind}, not the one docs/FORMAT.md states")
    return reader


def _parquet_batches(record_batch: Any, name: str, first: int,
                    max_batch_bytes: int = MAX_BATCH_BYTES) -> Iterator[InvoiceBatch]:
    """The InvoiceBatch chunks (at most `max_batch_bytes` of payload past the first record)
    of an Arrow record batch of the COLUMNS read by :func:`_open_parquet`'s reader, whose
    first row is record `first` (from 1) of file `name`: a null is MalformedInputError
    naming the file and record. Columns are wrapped, not copied."""
    import pyarrow as pa

    columns = {c: record_batch.column(c) for c in COLUMNS}
    for column, array in columns.items():
        if array.null_count:
            row = first + int(np.flatnonzero(np.asarray(array.is_null().to_numpy(zero_copy_only=False)))[0])
            raise MalformedInputError(f"{name}: record {row}: {column} is null")
    payloads = columns["payload"]
    offsets = np.frombuffer(payloads.buffers()[1], np.int64 if pa.types.is_large_binary(payloads.type) else np.int32)
    offsets = offsets[payloads.offset:payloads.offset + len(payloads) + 1]
    start = 0
    for stop in _byte_cuts(np.diff(offsets), max_batch_bytes):
        part = {c: a.slice(start, stop - start) for c, a in columns.items()}
        ids = part["invoice_id"]
        ids = ids.cast(pa.large_binary() if pa.types.is_large_string(ids.type) else pa.binary())
        yield InvoiceBatch(Packed.from_arrow(ids), part["issued_at"].to_numpy(zero_copy_only=False),
                           _rows(part["seller_key"], 32), _rows(part["signature"], 64),
                           Packed.from_arrow(part["payload"]))
        start = stop


def write_parquet(batch: InvoiceBatch, path: PathLike, row_group_size: Optional[int] = None) -> None:
    """Write `batch` as a Parquet file of the documented schema (row groups of
    `row_group_size` rows; default pyarrow's)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(batch, InvoiceBatch):
        raise InvalidTypeError(f"batch must be an InvoiceBatch, got {type(batch).__name__}")
    invoices = list(batch)
    table = pa.Table.from_arrays([
        pa.array([i.invoice_id for i in invoices], pa.string()),
        pa.array([i.issued_at for i in invoices], pa.int64()),
        pa.array([i.seller_key for i in invoices], pa.binary(32)),
        pa.array([i.signature for i in invoices], pa.binary(64)),
        pa.array([i.payload for i in invoices], pa.binary()),
    ], schema=_parquet_schema())
    pq.write_table(table, os.fspath(path), row_group_size=row_group_size, **PARQUET_WRITE_OPTIONS)


# --- JSONL --------------------------------------------------------------------------------


def _hex(value: Any, width: int, field: str, where: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * width or value != value.lower():
        raise MalformedInputError(f"{where}: {field} must be {2 * width} lowercase hex characters")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise MalformedInputError(f"{where}: {field} is not hex") from None


def _jsonl_record(line: bytes, where: str) -> tuple:
    try:
        obj = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedInputError(f"{where}: not a JSON object: {exc}") from None
    if not isinstance(obj, dict):
        raise MalformedInputError(f"{where}: not a JSON object")
    for key in ("invoice_id", "issued_at", "seller_key", "signature"):
        if key not in obj:
            raise MalformedInputError(f"{where}: missing {key}")
    ident, issued = obj["invoice_id"], obj["issued_at"]
    if not isinstance(ident, str):
        raise MalformedInputError(f"{where}: invoice_id must be a string")
    if isinstance(issued, bool) or not isinstance(issued, int) or not _INT64[0] <= issued <= _INT64[1]:
        raise MalformedInputError(f"{where}: issued_at must be an int64 integer")
    if ("payload" in obj) == ("payload_b64" in obj):
        raise MalformedInputError(f"{where}: exactly one of payload and payload_b64 is needed")
    if "payload" in obj:
        if not isinstance(obj["payload"], str):
            raise MalformedInputError(f"{where}: payload must be a string")
        try:
            payload = obj["payload"].encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedInputError(f"{where}: payload is not valid UTF-8 text") from None
    else:
        try:
            payload = base64.b64decode(obj["payload_b64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise MalformedInputError(f"{where}: payload_b64 is not base64") from None
    return (ident, issued, _hex(obj["seller_key"], 32, "seller_key", where),
            _hex(obj["signature"], 64, "signature", where), payload)


def read_jsonl(path: PathLike, batch_size: int = 65536, skip: int = 0,
               max_batch_bytes: int = MAX_BATCH_BYTES) -> Iterator[InvoiceBatch]:
    """The invoices of a JSONL file, `batch_size` lines (and at most `max_batch_bytes` of
    payload) at a time, after the first `skip` lines (a resumed import). A line longer
    than MAX_JSONL_LINE bytes is malformed (it cannot hold a payload of 16 MiB or less)."""
    batch_size = _positive(batch_size, "batch_size")
    max_batch_bytes = _positive(max_batch_bytes, "max_batch_bytes")
    name = os.fspath(path)
    rows: List[tuple] = []
    held = 0
    with open(name, "rb") as f:
        number = 0
        while True:
            line = f.readline(MAX_JSONL_LINE + 1)
            if not line:
                break
            number += 1
            if len(line) > MAX_JSONL_LINE:
                raise MalformedInputError(f"{name}: record {number} (line {number}): longer than "
                                          f"{MAX_JSONL_LINE:,} bytes, more than any invoice of 16 MiB needs")
            if number <= skip:
                continue
            row = _jsonl_record(line, f"{name}: record {number} (line {number})")
            if rows and held + len(row[4]) > max_batch_bytes:
                yield _jsonl_batch(rows)
                rows, held = [], 0
            rows.append(row)
            held += len(row[4])
            if len(rows) == batch_size:
                yield _jsonl_batch(rows)
                rows, held = [], 0
    if rows:
        yield _jsonl_batch(rows)


def _jsonl_batch(rows: List[tuple]) -> InvoiceBatch:
    ids, issued, keys, sigs, payloads = zip(*rows)
    return InvoiceBatch(list(ids), np.array(issued, dtype=np.int64), list(keys), list(sigs), list(payloads))


def write_jsonl(batch: InvoiceBatch, path: PathLike) -> None:
    """Write `batch` as JSONL; a payload that is UTF-8 text goes as `payload`, any
    other as `payload_b64`."""
    if not isinstance(batch, InvoiceBatch):
        raise InvalidTypeError(f"batch must be an InvoiceBatch, got {type(batch).__name__}")
    with open(os.fspath(path), "w", encoding="utf-8", newline="\n") as f:
        for inv in batch:
            obj = {"invoice_id": inv.invoice_id, "issued_at": inv.issued_at, "seller_key": inv.seller_key.hex(),
                   "signature": inv.signature.hex()}
            try:
                obj["payload"] = inv.payload.decode("utf-8")
            except UnicodeDecodeError:
                obj["payload_b64"] = base64.b64encode(inv.payload).decode("ascii")
            f.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")


__all__ = ["read_parquet", "read_jsonl", "write_parquet", "write_jsonl", "COLUMNS"]
