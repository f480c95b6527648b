"""Past one machine: verify invoice archives on a Dask cluster, import them with one writer.

Checking signatures and hashing payloads are more than 90 % of an import's cost and need
no shared state, so they spread over a Dask cluster (``dask.distributed``, the optional
extra ``ledger_core[dask]``; ``import ledger_core`` never imports Dask). The ledger's one
LMDB writer then appends records that are already verified and hashed, on the trusted
path (``verify=False`` with the workers' payload hashes).

::

    paths ──► one task per file: open it, check its schema, count its rows
          ──► partitions: rows [k*P, (k+1)*P) of each file (P = partition_rows)
          ──► one task per partition on a worker: pyarrow reads those rows,
              invoice.check_batch (native, GIL released) gives every row its verdict,
              payload hash and leaf hash; the partition's valid leaves make a tree
                verify_dataset: back come the leaf count, the root, the invalid rows
                import_dataset: and the payload hash of every valid row (32 bytes)
          ──► import_dataset only: the writer reads the same rows itself, drops the
              invalid ones, and appends partition after partition, in file and row
              order, with Ledger.append_batches(verify=False, payload hashes)

Workers send back verdicts and 32-byte hashes, never payloads. A partition's verdicts are
those of the ledger's own per-item check (``invoice.check_batch`` is that check), bit for
bit. Duplicates are not a per-item property: import_dataset leaves them to the ledger,
which judges them as a local import does. A worker that dies mid-partition is replaced by
its nanny and Dask runs the partition again; a file that cannot be read, or whose columns
are not those of docs/FORMAT.md, raises MalformedInputError naming it, and the run stops:
no partition is ever dropped.

Partitions are row ranges, whatever the file's row groups: a partition reads the row
groups that overlap it. A row group much larger than `partition_rows` is decoded by each
partition that overlaps it (from its start), so keep row groups at most `partition_rows`
long (the generator writes one per 65,536 rows; ``importers.write_parquet`` takes a
``row_group_size``).
"""

from __future__ import annotations

import collections
import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, Generator, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ledger_core import invoice, merkle
from ledger_core.errors import BatchRejectedError, InvalidArgumentError, InvalidTypeError, MalformedInputError
from ledger_core.importers import _positive
from ledger_core.ledger import AppendReport, Ledger, RejectReason, Rejection

DEFAULT_PARTITION_ROWS = 65536
"""Rows per partition: about 80 MB of payload at 1.2 KB per invoice, some seconds of one core."""

# Rows pyarrow decodes at a time inside a partition.
_READ_ROWS = 65536

# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvalidRow:
    """A row that is not valid: its ``file`` (as given), ``row`` (from 0 within the
    file) and ``reason``. Unpacks as ``file, row, reason``."""

    file: str
    row: int
    reason: RejectReason

    def __iter__(self) -> Iterator[Any]:
        return iter((self.file, self.row, self.reason))


@dataclass(frozen=True)
class PartitionReport:
    """One partition: rows ``first_row .. first_row + rows - 1`` of ``file``;
    ``leaf_count`` of them are valid, and ``root`` is the RFC 9162 root (under the run's
    hasher) of their leaves in row order: the root a ledger holding just those records,
    appended in order, would have."""

    file: str
    first_row: int
    rows: int
    leaf_count: int
    root: bytes


@dataclass(frozen=True)
class DatasetReport:
    """What a run over a data set found.

    ``total`` rows, ``valid`` of them; ``invalid`` lists every other row as
    (file, row, reason), by file (in the order given) and row. ``partitions`` lists
    every partition, in the same order, with its leaf count and root. ``seconds`` is
    the wall time of the run, ``workers`` the Dask worker processes when it began.

    From import_dataset also: ``appended`` records, the ledger's ``ledger_size`` and
    ``ledger_root`` afterwards; ``invalid`` then includes the duplicates the ledger
    refused (DUPLICATE_IN_LEDGER, DUPLICATE_IN_BATCH), and ``valid == appended``.
    These three are None from verify_dataset.
    """

    total: int
    valid: int
    invalid: Tuple[InvalidRow, ...]
    partitions: Tuple[PartitionReport, ...]
    hasher: str
    seconds: float
    workers: int
    appended: Optional[int] = None
    ledger_size: Optional[int] = None
    ledger_root: Optional[bytes] = None

    @property
    def records_per_second(self) -> float:
        """Rows checked per second of wall time."""
        return self.total / self.seconds if self.seconds > 0 else 0.0


class DatasetRejectedError(BatchRejectedError):
    """import_dataset with ``on_invalid="reject"`` met a bad row or a duplicate in the
    partition of rows ``first_row ..`` of ``file``: ``rows`` names its bad rows (file,
    row, reason). The partitions before it stay committed; nothing of it or after it is
    written. ``report`` is the AppendReport of what was refused (for a duplicate, the
    ledger's own, positions within the batch of the partition's valid rows)."""

    def __init__(self, message: str, report: AppendReport, rows: Tuple[InvalidRow, ...], file: str,
                 first_row: int) -> None:
        super().__init__(message, report)
        self.rows = rows
        self.file = file
        self.first_row = first_row


# --- what runs on a worker -------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """A file: `name` as the caller gave it (for messages), `location` where a worker
    opens it (an absolute path, or an fsspec URL)."""

    name: str
    location: str


@dataclass(frozen=True)
class _Partition:
    source: _Source
    index: int  # of the source among the paths
    first_row: int
    rows: int


@dataclass(frozen=True)
class _Checked:
    """A partition's verdicts as a worker sends them back (no payloads)."""

    leaf_count: int
    root: bytes
    invalid_rows: np.ndarray  # int64, rows within the file
    invalid_reasons: np.ndarray  # uint8, RejectReason values
    payload_hashes: Optional[np.ndarray]  # (leaf_count, 32) uint8 of the valid rows, for an import


@contextlib.contextmanager
def _opened(source: _Source) -> Iterator[Any]:
    """The file's ParquetFile, schema checked; MalformedInputError naming it when it
    cannot be read."""
    from ledger_core.importers import _open_parquet

    if "://" not in source.location:
        reader = _open_parquet(source.location, source.name)
        try:
            yield reader
        finally:
            reader.close()
        return
    import fsspec

    try:
        handle = fsspec.open(source.location, "rb").open()
    except (OSError, ValueError, ImportError) as exc:
        raise MalformedInputError(f"{source.name}: cannot open: {exc}") from None
    try:
        yield _open_parquet(handle, source.name)
    finally:
        handle.close()


def _row_count(source: _Source) -> int:
    """Task: the file's row count (and its schema checked)."""
    with _opened(source) as reader:
        return int(reader.metadata.num_rows)


def _record_batches(reader: Any, source: _Source, first: int, stop: int) -> Iterator[Tuple[int, Any]]:
    """(file row of its first row, Arrow record batch) covering rows first .. stop - 1,
    read from the row groups that overlap them; MalformedInputError when the file has
    fewer rows than that (it changed during the run)."""
    meta = reader.metadata
    groups, base, at = [], None, 0
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if at < stop and at + n > first:
            groups.append(g)
            base = at if base is None else base
        at += n
    at = first if base is None else base
    done = first
    if groups:
        from ledger_core.importers import COLUMNS

        for batch in reader.iter_batches(batch_size=_READ_ROWS, row_groups=groups, columns=list(COLUMNS)):
            lo, hi = max(first, at), min(stop, at + batch.num_rows)
            if lo < hi:
                yield lo, batch.slice(lo - at, hi - lo)
                done = hi
            at += batch.num_rows
            if at >= stop:
                break
    if done != stop:
        raise MalformedInputError(f"{source.name}: rows {done} .. {stop - 1} are missing: the file has fewer rows "
                                  "than when the run began (was it changed?)")


def _check_partition(part: _Partition, hasher: str, want_hashes: bool) -> _Checked:
    """Task: read a partition's rows and check each one (one native thread: the worker
    runs as many partitions at once as it has threads)."""
    from ledger_core.importers import _parquet_batches

    tree = merkle.MerkleTree(hasher)
    bad_rows: List[np.ndarray] = []
    bad_reasons: List[np.ndarray] = []
    hashes: List[np.ndarray] = []
    stop = part.first_row + part.rows
    with _opened(part.source) as reader:
        for row, record_batch in _record_batches(reader, part.source, part.first_row, stop):
            for batch in _parquet_batches(record_batch, part.source.name, row + 1):
                check = invoice.check_batch(batch, hasher=hasher, threads=1)
                ok = check.reasons == 0
                tree.extend_hashes(check.leaf_hashes[ok])
                bad = np.flatnonzero(~ok)
                bad_rows.append(bad.astype(np.int64) + row)
                bad_reasons.append(np.asarray(check.reasons)[bad].astype(np.uint8))
                if want_hashes:
                    hashes.append(np.asarray(check.payload_hashes)[ok])
                row += len(batch)
    return _Checked(tree.size, tree.root(), np.concatenate(bad_rows) if bad_rows else np.zeros(0, np.int64),
                    np.concatenate(bad_reasons) if bad_reasons else np.zeros(0, np.uint8),
                    (np.concatenate(hashes) if hashes else np.zeros((0, 32), np.uint8)) if want_hashes else None)


# --- the client side ----------------------------------------------------------------------------


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError("ledger_core.distributed needs Dask: pip install 'ledger_core[dask]' "
                          f"(dask[distributed]); {exc}") from exc
    return distributed


def _client(client: Any) -> Any:
    distributed = _distributed()
    if client is None:
        try:
            return distributed.get_client()
        except ValueError:
            raise InvalidArgumentError("no Dask client: pass client=distributed.Client(ADDRESS), or make one "
                                       "first (distributed.Client(distributed.LocalCluster()) on one machine)") from None
    if not isinstance(client, distributed.Client):
        raise InvalidTypeError(f"client must be a distributed.Client or None, got {type(client).__name__}")
    return client


def _sources(paths: Any) -> List[_Source]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not isinstance(paths, (list, tuple)):
        raise InvalidTypeError(f"paths must be a path or a list of paths, got {type(paths).__name__}")
    if not paths:
        raise InvalidArgumentError("paths is empty: name at least one Parquet file")
    out = []
    for i, path in enumerate(paths):
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidTypeError(f"paths[{i}] must be a str or os.PathLike, got {type(path).__name__}")
        name = os.fspath(path)
        if not isinstance(name, str):
            raise InvalidTypeError(f"paths[{i}] must be a str path")
        location = name if "://" in name else os.path.abspath(name)
        out.append(_Source(name, location))
    return out


def _workers(client: Any) -> Tuple[int, int]:
    """(worker processes, their threads in all) now."""
    threads = client.nthreads()
    return len(threads), sum(int(n) for n in threads.values())


def _run(client: Any, fn: Callable[..., Any], args: Sequence[Tuple[Any, ...]], window: int,
         ordered: bool) -> Generator[Tuple[int, Any], None, None]:
    """(i, fn(*args[i])) for every i, computed on the cluster with at most `window` tasks
    submitted and not yet taken; in order of i when `ordered`, else as they finish. The
    first task to raise raises here, and the rest are cancelled."""
    distributed = _distributed()
    run = uuid.uuid4().hex[:12]
    pending = distributed.as_completed(loop=client.loop)
    index: Dict[str, int] = {}
    submitted = 0

    def submit() -> None:
        nonlocal submitted
        if submitted < len(args):
            future = client.submit(fn, *args[submitted], key=f"ledger-core-{fn.__name__}-{run}-{submitted}",
                                   pure=False)
            index[future.key] = submitted
            pending.add(future)
            submitted += 1

    for _ in range(min(window, len(args))):
        submit()
    ready: Dict[int, Any] = {}
    following = 0
    try:
        for future in pending:
            i = index.pop(future.key)
            result = future.result()
            future.release()
            if not ordered:
                submit()
                yield i, result
                continue
            ready[i] = result
            while following in ready:
                submit()
                yield following, ready.pop(following)
                following += 1
    finally:
        left = list(pending.futures) if hasattr(pending, "futures") else []
        if left:
            client.cancel(left)


def _plan(client: Any, sources: List[_Source], partition_rows: int) -> List[_Partition]:
    counts = dict(_run(client, _row_count, [(s,) for s in sources], len(sources), ordered=False))
    parts = []
    for i, source in enumerate(sources):
        for first in range(0, counts[i], partition_rows):
            parts.append(_Partition(source, i, first, min(partition_rows, counts[i] - first)))
    return parts


def _window(client: Any) -> int:
    """Partitions in flight: enough to keep every worker thread busy while results wait."""
    return max(4, 2 * _workers(client)[1])


def _tick(on_partition: Optional[Callable[[int, int], None]], done: int, total: int) -> None:
    if on_partition is not None:
        on_partition(done, total)


def _invalid_of(part: _Partition, checked: _Checked) -> List[InvalidRow]:
    return [InvalidRow(part.source.name, int(r), RejectReason(int(c)))
            for r, c in zip(checked.invalid_rows.tolist(), checked.invalid_reasons.tolist())]


def verify_dataset(paths: Any, *, client: Any = None, hasher: Any = "blake3",
                   partition_rows: int = DEFAULT_PARTITION_ROWS,
                   on_partition: Optional[Callable[[int, int], None]] = None) -> DatasetReport:
    """Verify the invoices of Parquet files (docs/FORMAT.md "Invoice files") on a Dask
    cluster, `partition_rows` rows per task.

    `paths`: a path or a list of them: local paths every worker can read (the same
    path on each, a shared file system), or fsspec URLs (``s3://...``). `client`: a
    ``distributed.Client`` (None: the current one). `hasher`: the Merkle hasher of the
    partition roots (``"blake3"`` or ``"sha256"``, or the hasher object).
    `on_partition(done, total)` is called on this thread once the partitions are known
    (done 0) and after each one (a progress bar).

    Returns a :class:`DatasetReport`. Raises MalformedInputError naming the file when a
    file cannot be read or has the wrong columns or a null; InvalidArgumentError when
    there is no client; ImportError when Dask is not installed.
    """
    hasher_name = merkle._resolve(hasher).name
    partition_rows = _positive(partition_rows, "partition_rows")
    sources = _sources(paths)
    client = _client(client)
    start = time.perf_counter()
    workers = _workers(client)[0]
    parts = _plan(client, sources, partition_rows)
    _tick(on_partition, 0, len(parts))
    results: Dict[int, _Checked] = {}
    for i, checked in _run(client, _check_partition, [(p, hasher_name, False) for p in parts], _window(client),
                           ordered=False):
        results[i] = checked
        _tick(on_partition, len(results), len(parts))
    invalid: List[InvalidRow] = []
    reports = []
    for i, part in enumerate(parts):  # file order, then row order
        checked = results[i]
        invalid.extend(_invalid_of(part, checked))
        reports.append(PartitionReport(part.source.name, part.first_row, part.rows, checked.leaf_count, checked.root))
    total = sum(p.rows for p in parts)
    return DatasetReport(total, total - len(invalid), tuple(invalid), tuple(reports), hasher_name,
                         time.perf_counter() - start, workers)


def import_dataset(ledger: Ledger, paths: Any, *, client: Any = None, on_invalid: str = "reject",
                   partition_rows: int = DEFAULT_PARTITION_ROWS,
                   on_partition: Optional[Callable[[int, int], None]] = None,
                   import_progress: Optional[Callable[[str, int], Tuple[str, str]]] = None) -> DatasetReport:
    """Import Parquet files into `ledger`, verified and hashed on a Dask cluster.

    The workers check every row (as :func:`verify_dataset`, under the ledger's hasher)
    and send back the payload hashes of the valid ones; this process reads the same
    rows itself and appends the valid ones with ``verify=False`` and those hashes, in
    file and row order, a partition at a time (Ledger.append_batches: partition k + 1
    is read while k commits). The ledger still checks each record's fields and
    duplicates. The result is the ledger a local verified import of the same files
    makes, byte for byte.

    `on_invalid`: ``"reject"`` (the default) stops at the first partition with a bad
    row or a duplicate, raising :class:`DatasetRejectedError` (a BatchRejectedError)
    naming file and row; the partitions before it stay committed. ``"skip"`` appends
    the good rows and reports the others in ``invalid``.
    `import_progress(file, rows_done)`, when given, makes the (source, text) stored
    with each batch in the ledger's ``imports`` table (Ledger.import_progress), rows_done
    counting the rows of that file consumed once the batch commits.
    Other arguments as verify_dataset.
    """
    if not isinstance(ledger, Ledger):
        raise InvalidTypeError(f"ledger must be a ledger_core.Ledger, got {type(ledger).__name__}")
    if on_invalid not in ("reject", "skip"):
        raise InvalidArgumentError(f"on_invalid must be 'reject' or 'skip', got {on_invalid!r}")
    partition_rows = _positive(partition_rows, "partition_rows")
    sources = _sources(paths)
    client = _client(client)
    hasher_name = ledger.hasher.name
    start = time.perf_counter()
    workers = _workers(client)[0]
    parts = _plan(client, sources, partition_rows)
    _tick(on_partition, 0, len(parts))
    invalid: List[Tuple[int, int, InvalidRow]] = []  # (file index, row, the row): sorted at the end
    reports: List[PartitionReport] = []
    # Each batch handed to the ledger, in append order: its partition, the file rows of
    # its records (a rejection's position maps to those), and whether it ends the partition.
    taken: Deque[Tuple[_Partition, np.ndarray, bool]] = collections.deque()

    def feed() -> Generator[Tuple[Any, Any, np.ndarray], None, None]:
        results = _run(client, _check_partition, [(p, hasher_name, True) for p in parts], _window(client),
                       ordered=True)
        current: Optional[_Source] = None
        with contextlib.closing(results), contextlib.ExitStack() as files:
            for i, checked in results:
                part = parts[i]
                bad = _invalid_of(part, checked)
                if bad and on_invalid == "reject":
                    _reject(ledger, part, bad)
                invalid.extend((part.index, r.row, r) for r in bad)
                reports.append(PartitionReport(part.source.name, part.first_row, part.rows, checked.leaf_count,
                                               checked.root))
                if current != part.source:
                    files.close()
                    reader = files.enter_context(_opened(part.source))
                    current = part.source
                yield from _valid_batches(reader, part, checked, import_progress, taken)

    appended = done = 0
    batches = feed()
    try:
        for report in ledger.append_batches(batches, on_invalid=on_invalid, verify=False):
            part, rows, last = taken.popleft()
            appended += report.appended
            invalid.extend((part.index, int(rows[r.position]), InvalidRow(part.source.name, int(rows[r.position]),
                                                                          r.reason)) for r in report.rejected)
            if last:
                done += 1
                _tick(on_partition, done, len(parts))
    except DatasetRejectedError:
        raise
    except BatchRejectedError as exc:  # a duplicate, with on_invalid="reject"
        part, rows, _ = taken.popleft()
        bad = [InvalidRow(part.source.name, int(rows[r.position]), r.reason) for r in exc.report.rejected]
        raise DatasetRejectedError(_stop_message(part, bad), exc.report, tuple(bad), part.source.name,
                                   part.first_row) from None
    finally:
        with contextlib.suppress(ValueError):  # still running on append_batches' thread: left to the collector
            batches.close()  # cancels the partitions still on the cluster
    invalid.sort(key=lambda item: item[:2])
    total = sum(p.rows for p in parts)
    return DatasetReport(total, appended, tuple(r for _, _, r in invalid), tuple(reports), hasher_name,
                         time.perf_counter() - start, workers, appended, ledger.size, ledger.root())


def _valid_batches(reader: Any, part: _Partition, checked: _Checked,
                   import_progress: Optional[Callable[[str, int], Tuple[str, str]]],
                   taken: Deque[Tuple[_Partition, np.ndarray, bool]]) -> Iterator[Tuple[Any, Any, np.ndarray]]:
    """The partition's valid rows as append_batches items (batch, progress, payload
    hashes), read from the file here. A partition without a valid row yields one empty
    batch, which commits its progress."""
    import pyarrow as pa

    from ledger_core.importers import _parquet_batches

    stop = part.first_row + part.rows
    keep = np.ones(part.rows, dtype=bool)
    keep[checked.invalid_rows - part.first_row] = False
    items: List[Tuple[Any, np.ndarray]] = []
    for row, record_batch in _record_batches(reader, part.source, part.first_row, stop):
        mask = keep[row - part.first_row:row - part.first_row + record_batch.num_rows]
        rows = np.flatnonzero(mask) + row
        if not len(rows):
            continue
        chosen = record_batch if mask.all() else record_batch.filter(pa.array(mask))
        at = 0
        for batch in _parquet_batches(chosen, part.source.name, row + 1):
            items.append((batch, rows[at:at + len(batch)]))
            at += len(batch)
    if not items:
        items.append((invoice.InvoiceBatch([], np.zeros(0, np.int64), [], [], []), np.zeros(0, np.int64)))
    if sum(len(rows) for _, rows in items) != checked.leaf_count:
        raise MalformedInputError(f"{part.source.name}: rows {part.first_row} .. {stop - 1} read differently here "
                                  "than on the worker (was the file changed during the run?)")
    used = 0  # payload hashes handed out
    for k, (batch, rows) in enumerate(items):
        last = k == len(items) - 1
        done = stop if last else int(rows[-1]) + 1
        progress = import_progress(part.source.name, done) if import_progress is not None else None
        hashes = checked.payload_hashes[used:used + len(batch)]  # type: ignore[index]
        taken.append((part, rows, last))
        yield batch, progress, np.ascontiguousarray(hashes)
        used += len(batch)


def _reject(ledger: Ledger, part: _Partition, bad: List[InvalidRow]) -> None:
    rejected = [Rejection(r.row - part.first_row, r.reason, f"{r.file} row {r.row}: {_why(r.reason)}") for r in bad]
    report = AppendReport(ledger.size, 0, rejected, ledger.size, ledger.root())
    raise DatasetRejectedError(_stop_message(part, bad), report, tuple(bad), part.source.name, part.first_row)


def _why(reason: RejectReason) -> str:
    if reason == RejectReason.MALFORMED:
        return "malformed record (a field breaks docs/FORMAT.md)"
    return f"signature rejected ({reason.name})"


def _stop_message(part: _Partition, bad: List[InvalidRow]) -> str:
    head = "; ".join(f"{r.file} row {r.row}: {r.reason.name}" for r in bad[:3])
    more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
    return (f"import stopped at {len(bad)} bad row(s): {head}{more}; nothing of the partition of rows "
            f"{part.first_row} .. {part.first_row + part.rows - 1} of {part.source.name} was written "
            "(the partitions before it were)")


__all__ = [
    "verify_dataset",
    "import_dataset",
    "DatasetReport",
    "PartitionReport",
    "InvalidRow",
    "DatasetRejectedError",
    "DEFAULT_PARTITION_ROWS",
]
