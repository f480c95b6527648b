"""The ledger: an LMDB-backed, append-only log of signed invoices.

::

    with ledger_core.Ledger.open("invoices.ledger") as ledger:
        report = ledger.append_batch(batch)          # verified, atomic
        proof = ledger.prove_inclusion(report.first_seq)
        assert proof.verify(ledger.leaf_hash(report.first_seq), ledger.root())

A ledger is an LMDB directory (docs/FORMAT.md "The ledger on disk"). One process
writes; any number of processes read (``readonly=True``), each read seeing a whole
committed state. A ``Ledger`` object may be shared between threads: appends
serialise (their hashing and signature checks still overlap), reads run concurrently.
Opening the same path twice in one process shares one LMDB environment. After
``fork()`` the child must open the ledger again: the parent's object raises
:class:`~ledger_core.errors.LedgerClosedError` there.

Appending (:meth:`Ledger.append_batch`) runs in native code with the GIL released:
payload hashes (BLAKE3, in parallel), envelopes, Ed25519 batch verification, the
duplicate checks (in the batch and against the ledger), then ONE write transaction
with the records, payloads, both indexes, the tree tiles, size and root. With
``on_invalid="reject"`` (the default) any bad item raises :class:`BatchRejectedError`
and nothing is written; with ``"skip"`` the good items are appended and the bad ones
reported. A full LMDB map is grown and the batch written again, never lost.

Verdict rule: ``append_batch`` reports bad *content* (a bad signature, a duplicate, a
malformed field) as rejections; it raises at once for a wrong argument *type*.
"""

from __future__ import annotations

import abc
import enum
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ledger_core import _native, checkpoint as _checkpoint, merkle
from ledger_core._buffers import MAX_THREADS, Packed
from ledger_core.ed25519 import Reason
from ledger_core.errors import (
    BatchRejectedError,
    InvalidArgumentError,
    InvalidTypeError,
    LedgerClosedError,
    OutOfRangeError,
)
from ledger_core.invoice import Invoice, InvoiceBatch

_NATIVE_REJECT = dict(_native.LEDGER_REJECT_REASONS)


class RejectReason(enum.IntEnum):
    """Why an item of a batch was not appended. The signature reasons carry the values
    of :class:`ledger_core.ed25519.Reason`; the others follow."""

    BAD_LENGTH = int(Reason.BAD_LENGTH)
    NON_CANONICAL_S = int(Reason.NON_CANONICAL_S)
    NON_CANONICAL_POINT = int(Reason.NON_CANONICAL_POINT)
    SMALL_ORDER_KEY = int(Reason.SMALL_ORDER_KEY)
    EQUATION_FAILED = int(Reason.EQUATION_FAILED)
    DUPLICATE_IN_LEDGER = _NATIVE_REJECT["DUPLICATE_IN_LEDGER"]
    DUPLICATE_IN_BATCH = _NATIVE_REJECT["DUPLICATE_IN_BATCH"]
    MALFORMED = _NATIVE_REJECT["MALFORMED"]


_FIELDS = tuple(_native.LEDGER_FIELDS)  # field codes of MALFORMED, in native order


@dataclass(frozen=True)
class Rejection:
    """One item not appended: ``position`` in the batch (from 0), ``reason`` and a
    ``message``. For DUPLICATE_IN_LEDGER ``seq`` is the existing record's; for
    DUPLICATE_IN_BATCH ``earlier`` is the first position with the same (seller,
    invoice_id); for MALFORMED ``field`` names the field. Unpacks as
    ``position, reason``."""

    position: int
    reason: RejectReason
    message: str
    seq: Optional[int] = None
    earlier: Optional[int] = None
    field: Optional[str] = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.position, self.reason))


@dataclass(frozen=True)
class AppendReport:
    """What an append did: records ``first_seq .. first_seq + appended - 1`` were
    appended; ``rejected`` lists the items that were not; ``size`` and ``root`` are the
    ledger's after the batch."""

    first_seq: int
    appended: int
    rejected: List[Rejection]
    size: int
    root: bytes


@dataclass(frozen=True)
class Problem:
    """One finding of an audit: the ``table`` it is in, the record ``seq`` when it
    concerns one (else None), and what differs."""

    table: str
    seq: Optional[int]
    message: str


@dataclass(frozen=True)
class AuditReport:
    """``ok`` when nothing differs; ``problems`` otherwise (at most ``max_problems``
    are listed, ``problem_count`` counts them all). ``size`` and ``root`` are those
    audited; ``records`` the records re-verified."""

    ok: bool
    problems: List[Problem]
    problem_count: int
    size: int
    root: bytes
    records: int


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint kept in the ledger."""

    size: int
    origin: str
    public_key: bytes
    note: str


_DURABILITY = {"full": 0, "fast": 1}


def _threads(threads: Optional[int]) -> Optional[int]:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise InvalidTypeError(f"threads must be an int or None, got {type(threads).__name__}")
    if not 0 <= threads <= MAX_THREADS:
        raise OutOfRangeError(f"threads must be between 0 and {MAX_THREADS}, got {threads}")
    return threads


def _batch_of(rows: Tuple[Any, ...]) -> InvoiceBatch:
    return InvoiceBatch._trusted(*rows)


# Records per native read of a scan: the copies stay in the CPU caches and the memory is
# reused (a 64 MiB read made fresh pages to fault in and ran 3x slower per record).
_SCAN_READ = 2048


def _joined(parts: List[Tuple[Any, ...]]) -> InvoiceBatch:
    if len(parts) == 1:
        return _batch_of(parts[0])
    ids: List[str] = []
    payloads: List[bytes] = []
    for part in parts:
        ids.extend(part[0])
        payloads.extend(part[4])
    return InvoiceBatch._trusted(ids, np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
                                 np.concatenate([p[3] for p in parts]), payloads)


class _Reads(abc.ABC):
    """The read methods shared by a Ledger and its snapshots."""

    _reader: Any
    _hasher: merkle.Hasher

    @abc.abstractmethod
    def _r(self) -> Any:
        """The native object the reads go to (a Store, or a Snapshot's transaction)."""

    @abc.abstractmethod
    def snapshot(self) -> "Snapshot":
        """A consistent view for several reads."""

    @property
    def hasher(self) -> merkle.Hasher:
        """The ledger's Merkle hasher (``merkle.BLAKE3`` or ``merkle.SHA256``)."""
        return self._hasher

    @property
    def size(self) -> int:
        """The number of records."""
        return int(self._r().size())

    def __len__(self) -> int:
        return self.size

    def root(self, size: Optional[int] = None) -> bytes:
        """The tree root at `size` (default: now)."""
        r = self._r()
        return bytes(r.root(r.size() if size is None else size))

    def leaf_hash(self, seq: int) -> bytes:
        """The stored leaf hash of record `seq`."""
        return bytes(self._r().leaf_hash(seq))

    def get(self, seq: int) -> Invoice:
        """Record `seq` (OutOfRangeError past the end)."""
        return Invoice._stored(*self._r().get(self._seq(seq)))

    def get_many(self, seqs: Any) -> InvoiceBatch:
        """Records at `seqs` (any sequence of ints), in that order."""
        array = np.asarray(seqs)
        if array.size and array.dtype.kind not in "iu":
            raise InvalidTypeError(f"seqs must be integers, got {array.dtype}")
        if array.size and array.dtype.kind == "i" and int(array.min()) < 0:
            raise OutOfRangeError(f"seqs must not be negative, got {int(array.min())}")
        return _batch_of(self._r().get_many(np.ascontiguousarray(array.reshape(-1), dtype=np.uint64)))

    def find(self, seller_key: Any, invoice_id: Any) -> Optional[int]:
        """The seq of the seller's invoice `invoice_id`, or None."""
        # The native layer reads both in place and names a wrong argument.
        seq = self._r().find(seller_key, invoice_id)
        return None if seq < 0 else seq

    def by_seller(self, seller_key: Any) -> np.ndarray:
        """The seqs of the seller's records, ascending (a uint64 array)."""
        return self._r().by_seller(seller_key)

    def scan(self, start: int = 0, stop: Optional[int] = None, batch_size: int = 65536) -> Iterator[InvoiceBatch]:
        """Records start .. stop - 1 as InvoiceBatch chunks of at most `batch_size`,
        all from the state when the scan began."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise InvalidTypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise OutOfRangeError(f"batch_size must be at least 1, got {batch_size}")
        own = not isinstance(self, Snapshot)
        snap: Any = self.snapshot() if own else self
        try:
            end = snap.size if stop is None else self._seq(stop, "stop")
            pos = self._seq(start, "start")
            if end > snap.size:
                raise OutOfRangeError(f"stop {end} is past the ledger's size {snap.size}")
            while pos < end:
                n = min(batch_size, end - pos)
                yield _joined([snap._r().get_range(a, min(a + _SCAN_READ, pos + n))
                               for a in range(pos, pos + n, _SCAN_READ)])
                pos += n
        finally:
            if own:
                snap.close()

    def prove_inclusion(self, seq: int, size: Optional[int] = None) -> merkle.InclusionProof:
        """The inclusion proof of record `seq` in the tree of `size` records (default:
        now), read from disk: O(log n) tile reads."""
        r = self._r()
        n = r.size() if size is None else size
        hashes = r.inclusion_proof(seq, n)  # the native layer checked seq and size
        return merkle.InclusionProof._unchecked(self._hasher, int(seq), int(n), hashes)

    def prove_consistency(self, old_size: int, new_size: Optional[int] = None) -> merkle.ConsistencyProof:
        """The consistency proof from `old_size` to `new_size` (default: now)."""
        r = self._r()
        n = r.size() if new_size is None else new_size
        hashes = r.consistency_proof(old_size, n)
        return merkle.ConsistencyProof._unchecked(self._hasher, int(old_size), int(n), hashes)

    def import_progress(self, source: str) -> Optional[str]:
        """What an importer stored for `source` with its last committed batch, or None."""
        value = self._r().import_progress(source)
        return None if value is None else str(value)

    def checkpoints(self) -> List[StoredCheckpoint]:
        """The signed checkpoints kept in the ledger, by size."""
        return [StoredCheckpoint(int(s), str(o), bytes(k), str(n)) for s, o, k, n in self._r().checkpoints()]

    @staticmethod
    def _seq(value: Any, name: str = "seq") -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InvalidTypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 0:
            raise OutOfRangeError(f"{name} must not be negative, got {int(value)}")
        return int(value)


class Snapshot(_Reads):
    """Several reads against one committed state (an LMDB read transaction). A context
    manager; close it to let the writer reuse the pages it pins."""

    def __init__(self, native: Any, hasher: merkle.Hasher) -> None:
        self._native = native
        self._hasher = hasher

    def _r(self) -> Any:
        return self._native

    def snapshot(self) -> "Snapshot":
        return self

    def close(self) -> None:
        self._native.close()

    def __enter__(self) -> "Snapshot":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Ledger(_Reads):
    """An append-only ledger of signed invoices in an LMDB directory. Open it with
    :meth:`Ledger.open`."""

    def __init__(self, native: Any, path: str, readonly: bool) -> None:
        self._native = native
        self._path = path
        self._readonly = readonly
        self._hasher = merkle.SHA256 if int(native.suite) == merkle.SHA256._native_id else merkle.BLAKE3
        self._closed = False

    @classmethod
    def open(cls, path: Union[str, "os.PathLike[str]"], *, create: bool = True, hasher: Any = None,
             map_size: Optional[int] = None, durability: str = "full", readonly: bool = False) -> "Ledger":
        """Open (or, with `create`, make) the ledger at directory `path`.

        - `hasher`: ``"blake3"`` or ``"sha256"`` (RFC 9162), fixed at creation; None
          (the default) means blake3 for a new ledger and whichever an existing one has.
          Naming a different hasher than an existing ledger's is an InvalidArgumentError.
        - `map_size`: the initial LMDB map in bytes (default: 1 GiB or the file's); the
          map grows by itself when full.
        - `durability`: ``"full"`` (default; a committed batch survives a power loss) or
          ``"fast"`` (``MDB_NOMETASYNC``: an OS crash may undo the last batch);
          docs/FORMAT.md states both.
        - `readonly`: open as a reader (any number of processes may).

        A second writer process gets :class:`LedgerLockedError` naming the holder.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidTypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        path = os.fspath(path)
        if not isinstance(path, str):
            raise InvalidTypeError("path must be a str path")
        for name, flag in (("create", create), ("readonly", readonly)):
            if not isinstance(flag, bool):
                raise InvalidTypeError(f"{name} must be a bool, got {type(flag).__name__}")
        if durability not in _DURABILITY:
            if not isinstance(durability, str):
                raise InvalidTypeError(f"durability must be a str, got {type(durability).__name__}")
            raise InvalidArgumentError(f"durability must be 'full' or 'fast', got {durability!r}")
        suite = None if hasher is None else merkle._resolve(hasher)._native_id
        if map_size is not None:
            if isinstance(map_size, bool) or not isinstance(map_size, int):
                raise InvalidTypeError(f"map_size must be an int or None, got {type(map_size).__name__}")
            if map_size < 1 << 20:
                raise OutOfRangeError(f"map_size must be at least 1 MiB, got {map_size}")
        native = _native.Store(path, create, readonly, suite, map_size or 0, _DURABILITY[durability])
        return cls(native, path, readonly)

    @property
    def path(self) -> str:
        return self._path

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def map_size(self) -> int:
        """The LMDB map size in bytes now (it grows by itself)."""
        return int(self._native.map_size())

    def _r(self) -> Any:
        return self._native

    def close(self) -> None:
        """Close this handle (the environment closes with its last handle)."""
        if not self._closed:
            self._closed = True
            self._native.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self.size} records"
        return f"Ledger({self._path!r}, {self._hasher.name}, {state})"

    def snapshot(self) -> Snapshot:
        """A consistent view for several reads (a context manager)."""
        return Snapshot(self._native.snapshot(), self._hasher)

    # --- appending -----------------------------------------------------------------

    def append_batch(self, batch: InvoiceBatch, *, on_invalid: str = "reject", verify: bool = True,
                     payload_hashes: Any = None, threads: Optional[int] = None,
                     progress: Optional[Tuple[str, str]] = None) -> AppendReport:
        """Append a batch atomically (see the module docstring).

        `payload_hashes` ((N, 32) uint8) may be given with ``verify=False`` only: the
        trusted path for records verified elsewhere, so that no payload is hashed twice.
        `progress` is for importers: (source, text) stored in the `imports` table in the
        batch's own transaction (also when every item was skipped; never when the batch
        is rejected), read back with :meth:`import_progress`, so that an interrupted
        import resumes exactly after its last committed batch.
        """
        _check_append_options(on_invalid, verify)
        first, appended, size, root, reasons, details = self._native.append(
            *_append_columns(batch, verify, payload_hashes), on_invalid == "skip", _threads(threads), progress)
        return _append_report(batch, on_invalid, first, appended, size, root, reasons, details)

    def append_batches(self, batches: Iterable[Any], *, on_invalid: str = "reject", verify: bool = True,
                       threads: Optional[int] = None) -> Iterator[AppendReport]:
        """Append a stream of batches, each atomically and in order, yielding each one's
        report once it is committed: the way to import at full speed. Batch k + 1 is
        taken from `batches` and its signatures checked while batch k is written and
        synced to disk, so the cores do not wait for the disk (append_batch does the
        same within one batch, not across calls).

        An item of `batches` is an InvoiceBatch, or a tuple (batch, progress) or
        (batch, progress, payload_hashes) with append_batch's meaning of those. With
        ``on_invalid="reject"`` a bad batch raises BatchRejectedError: the batches before
        it stay committed, nothing of it or after it is written. An exception raised by
        `batches` itself is raised after the reports of the batches taken before it.
        """
        _check_append_options(on_invalid, verify)
        try:
            items = iter(batches)
        except TypeError:
            raise InvalidTypeError(f"batches must be an iterable of batches, got {type(batches).__name__}") from None
        return self._append_stream(items, on_invalid, verify, _threads(threads))

    def _append_stream(self, items: Iterator[Any], on_invalid: str, verify: bool,
                       threads: Optional[int]) -> Iterator[AppendReport]:
        skip = on_invalid == "skip"

        def take() -> Any:
            item = next(items, None)
            if item is None:
                return None
            batch, progress, hashes = _stream_item(item)
            return batch, progress, self._native.prepare(*_append_columns(batch, verify, hashes), threads)

        def write(taken: Any) -> AppendReport:
            batch, progress, prepared = taken
            first, appended, size, root, reasons, details = self._native.append_prepared(prepared, skip, progress)
            return _append_report(batch, on_invalid, first, appended, size, root, reasons, details)

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2, thread_name_prefix="ledger-append") as pool:
            taking = pool.submit(take)
            while True:
                taken = taking.result()
                if taken is None:
                    return
                writing = pool.submit(write, taken)
                taken = None
                taking = pool.submit(take)  # batch k + 1, while batch k is written
                try:
                    report = writing.result()
                except BaseException:
                    taking.cancel()
                    raise
                yield report

    def append(self, invoice: Invoice, *, verify: bool = True) -> int:
        """Append one invoice; its seq. BatchRejectedError when it is bad."""
        if not isinstance(invoice, Invoice):
            raise InvalidTypeError(f"invoice must be an Invoice, got {type(invoice).__name__}")
        return self.append_batch(InvoiceBatch.from_invoices([invoice]), verify=verify).first_seq

    # --- checkpoints and audit -----------------------------------------------------------

    def checkpoint(self, signing_key: Any, origin: str) -> str:
        """Sign the current (size, root) as a C2SP checkpoint with `signing_key` (a
        ``nacl.signing.SigningKey`` or its 32-byte seed), store it, return the note."""
        with self.snapshot() as snap:
            size, root = snap.size, snap.root()
        note = _checkpoint.sign(_checkpoint.Checkpoint(origin, size, root), signing_key)
        public_key = _checkpoint.public_key_of(signing_key)
        self._native.put_checkpoint(size, origin, public_key, note)
        return note

    def audit(self, *, threads: Optional[int] = None, checkpoint: Optional[str] = None,
              public_key: Optional[bytes] = None, origin: Optional[str] = None,
              max_problems: int = 1000) -> AuditReport:
        """Re-check everything: every payload and leaf hash, every signature, every tree
        tile, both indexes, the seller tables, size and root, and every stored
        checkpoint. With `checkpoint` (a signed note kept outside the ledger, with its
        signer's `public_key`), also that the ledger's root at the note's size is the
        note's root. Any changed byte is reported as a Problem naming table and seq."""
        extra: List[Problem] = []
        if checkpoint is not None:
            if public_key is None:
                raise InvalidArgumentError("audit(checkpoint=...) needs the signer's public_key")
            name = origin
            if name is None:
                name = _checkpoint.Checkpoint.from_text(_note_body(checkpoint)).origin
            cp = _checkpoint.verify(checkpoint, public_key, name, origin)
        if isinstance(max_problems, bool) or not isinstance(max_problems, int) or max_problems < 1:
            raise InvalidArgumentError("max_problems must be a positive int")
        size, root, records, found, count = self._native.audit(_threads(threads), max_problems)
        problems = [Problem(str(t), None if s < 0 else int(s), str(m)) for t, s, m in found]
        extra.extend(self._audit_checkpoints(size))
        if checkpoint is not None:
            if cp.size > size:
                extra.append(Problem("checkpoint", None, f"the external checkpoint is at size {cp.size}, "
                                     f"past the ledger's {size}: the ledger lost records"))
            else:
                have = bytes(self._native.root(cp.size))
                if have != cp.root:
                    extra.append(Problem("checkpoint", None, f"the ledger's root at size {cp.size} is {have.hex()}, "
                                         f"the external checkpoint says {cp.root.hex()}: the log was rewritten"))
        problems = extra + problems
        count = int(count) + len(extra)
        return AuditReport(count == 0, problems[:max_problems], count, int(size), bytes(root), int(records))

    def _audit_checkpoints(self, size: int) -> List[Problem]:
        """The stored checkpoints: each note verifies under its stored key and origin,
        its size is its key's, and its root is the ledger's root at that size."""
        found: List[Problem] = []
        for cp in self.checkpoints():
            where = f"checkpoint at size {cp.size} ({cp.origin})"
            try:
                parsed = _checkpoint.verify(cp.note, cp.public_key, cp.origin, cp.origin)
            except Exception as exc:  # any failure to parse or verify is the finding
                found.append(Problem("checkpoints", None, f"{where}: the note does not verify: {exc}"))
                continue
            if parsed.size != cp.size:
                found.append(Problem("checkpoints", None, f"{where}: the note says size {parsed.size}"))
            elif parsed.size > size:
                found.append(Problem("checkpoints", None, f"{where}: past the ledger's size {size}"))
            elif bytes(self._native.root(parsed.size)) != parsed.root:
                found.append(Problem("checkpoints", None, f"{where}: the ledger's root at that size differs from the note's"))
        return found

    def warm(self) -> int:
        """Map the whole ledger file into this process now, so that later reads take no
        page fault (a service wanting even latency from its first request does this at
        start; the pages come from the page cache, or are read from disk first). The
        mapped pages are the page cache's, not this process's memory. Returns the bytes
        mapped."""
        return int(self._native.populate())

    def stats(self) -> dict:
        """Per table: entries, pages (branch, leaf, overflow), page size: for sizing."""
        return dict(self._native.stats())


def _note_body(note: str) -> str:
    text = note if isinstance(note, str) else bytes(note).decode("utf-8")
    return text.split("\n\n", 1)[0] + "\n"


def _check_append_options(on_invalid: str, verify: bool) -> None:
    if on_invalid not in ("reject", "skip"):
        raise InvalidArgumentError(f"on_invalid must be 'reject' or 'skip', got {on_invalid!r}")
    if not isinstance(verify, bool):
        raise InvalidTypeError(f"verify must be a bool, got {type(verify).__name__}")


def _append_columns(batch: Any, verify: bool, payload_hashes: Any) -> Tuple[Any, ...]:
    """The native append's batch arguments, checked."""
    if not isinstance(batch, InvoiceBatch):
        raise InvalidTypeError(f"batch must be an InvoiceBatch, got {type(batch).__name__}")
    if payload_hashes is not None:
        if verify:
            raise InvalidArgumentError("payload_hashes is for verify=False (records verified elsewhere); "
                                       "a verified append hashes the payloads itself")
        if not (isinstance(payload_hashes, np.ndarray) and payload_hashes.dtype == np.uint8):
            raise InvalidTypeError("payload_hashes must be a uint8 array (N, 32)")
        if payload_hashes.shape != (len(batch), 32):
            raise InvalidArgumentError(f"payload_hashes must have shape ({len(batch)}, 32), got {payload_hashes.shape}")
        payload_hashes = np.ascontiguousarray(payload_hashes)
    return (batch.invoice_ids, batch.issued_at, batch.seller_keys, batch.signatures, batch.payloads, payload_hashes,
            verify)


def _stream_item(item: Any) -> Tuple[Any, Any, Any]:
    """(batch, progress, payload_hashes) of an append_batches item."""
    if isinstance(item, tuple) and len(item) in (2, 3):
        return item[0], item[1], item[2] if len(item) == 3 else None
    if isinstance(item, tuple):
        raise InvalidTypeError(f"an append_batches item is a batch or a tuple (batch, progress[, payload_hashes]), "
                               f"got a tuple of {len(item)}")
    return item, None, None


def _append_report(batch: InvoiceBatch, on_invalid: str, first: int, appended: int, size: int, root: bytes,
                   reasons: np.ndarray, details: np.ndarray) -> AppendReport:
    rejected = _rejections(reasons, details)
    report = AppendReport(int(first), int(appended), rejected, int(size), bytes(root))
    if rejected and on_invalid == "reject":
        raise BatchRejectedError(_reject_message(rejected, len(batch)), report)
    return report


def _rejections(reasons: np.ndarray, details: np.ndarray) -> List[Rejection]:
    out: List[Rejection] = []
    for pos in np.flatnonzero(reasons).tolist():
        code = RejectReason(int(reasons[pos]))
        detail = int(details[pos])
        if code == RejectReason.DUPLICATE_IN_LEDGER:
            out.append(Rejection(pos, code, f"item {pos}: (seller, invoice_id) is already in the ledger as record {detail}",
                                 seq=detail))
        elif code == RejectReason.DUPLICATE_IN_BATCH:
            out.append(Rejection(pos, code, f"item {pos}: (seller, invoice_id) repeats item {detail} of this batch",
                                 earlier=detail))
        elif code == RejectReason.MALFORMED:
            name = _FIELDS[detail] if 0 <= detail < len(_FIELDS) else str(detail)
            out.append(Rejection(pos, code, f"item {pos}: malformed {name}: {_native.ledger_field_rule(detail)}",
                                 field=name))
        else:
            out.append(Rejection(pos, code, f"item {pos}: signature rejected ({code.name})"))
    return out


def _reject_message(rejected: List[Rejection], n: int) -> str:
    head = "; ".join(r.message for r in rejected[:3])
    more = f" (and {len(rejected) - 3} more)" if len(rejected) > 3 else ""
    return f"batch of {n} rejected, nothing written: {len(rejected)} bad item(s): {head}{more}"


__all__ = [
    "Ledger",
    "Snapshot",
    "AppendReport",
    "AuditReport",
    "Problem",
    "Rejection",
    "RejectReason",
    "StoredCheckpoint",
]
