"""Tamper evidence (issue 8, "Tests": tamper): one byte changed through py-lmdb in another
process, in each table in turn; Ledger.audit() finds it and names the table (and the
record, for the per-record tables).

Each case copies a pristine ledger, edits the copy in a subprocess with py-lmdb
(tests/ledger_worker.py, mode "lmdb": LMDB forbids a second environment on the same
file in one process), reopens it with ledger_core and audits. A few edits make the
ledger refuse to open (an unknown format version or hasher); the exception class is
then the detection that is asserted.

The edited entries are located in the tables tests/invoice_reference.py expects from the
reference records (docs/FORMAT.md "The ledger on disk"); test_pristine_tables_are_the_reference
checks that the pristine files hold exactly those, so that every flip below lands where it
claims to.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import pytest
from nacl.signing import SigningKey

from ledger_core import Ledger
from ledger_core.errors import CorruptedError, UnsupportedFormatError

import invoice_reference as ref
import ledger_worker as plan
from invoice_reference import Rec, ref_root, u64

HASHER = "blake3"
SEED = 201
SMALL_BATCHES = (200, 200, 200)  # 600 records, 5 sellers
BIG_SIZE = 70_000  # level-1 tiles exist past 65536 leaves: (70000 >> 8) = 273 > 256
BIG_BATCH = 10_000
TARGET = 250  # the record the per-record cases edit: inside batch 1, its blob and a tile
ORIGIN = "example.com/ledger/blake3"
CHECKPOINT_KEY = SigningKey(bytes(range(32)))
STRAY = 1 << 56  # flipping the top byte of a u64 seq adds this


def lmdb_edit(path: str, edits: List[dict]) -> list:
    """Apply `edits` to the ledger at `path` with py-lmdb in a subprocess."""
    run = subprocess.run(plan.worker_command("lmdb", path), input=json.dumps(edits), capture_output=True,
                         text=True, env=plan.worker_env(), timeout=120)
    assert run.returncode == 0, f"py-lmdb edit failed: {run.stderr.strip()}"
    return json.loads(run.stdout)


@dataclass
class Built:
    """A pristine ledger and the tables invoice_reference says it holds."""

    path: str
    recs: List[Rec]
    batches: Sequence[int]
    tables: Dict[str, Dict[bytes, bytes]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.recs)

    @cached_property
    def leaves(self) -> List[bytes]:
        return [r.leaf_hash(HASHER) for r in self.recs]

    def sid(self, seq: int) -> int:
        return struct.unpack(">I", self.tables["seller_ids"][self.recs[seq].seller_key])[0]

    def record(self, seq: int) -> ref.RecordValue:
        return ref.decode_record(self.tables["records"][ref.records_key(seq)])

    def by_seller_entry(self, seq: int) -> Tuple[bytes, int]:
        """The by_seller key holding `seq`, and the index of its u32 offset in the value."""
        for key, value in self.tables["by_seller"].items():
            first, sid = struct.unpack(">QI", key)
            offsets = [o for (o,) in struct.iter_unpack(">I", value)]
            if sid == self.sid(seq) and seq - first in offsets:
                return key, offsets.index(seq - first)
        raise AssertionError(f"record {seq} is in no by_seller entry of the reference")

    def group_seqs(self, key: bytes) -> set:
        first = struct.unpack(">Q", key[:8])[0]
        return {first + o for (o,) in struct.iter_unpack(">I", self.tables["by_seller"][key])}


def _build(path: str, recs: List[Rec], batches: Sequence[int], verify: bool) -> Built:
    with Ledger.open(path, hasher=HASHER) as led:
        start = 0
        for n in batches:
            rep = led.append_batch(plan.invoice_batch(recs[start:start + n]), verify=verify)
            assert rep.appended == n and not rep.rejected
            start += n
    cuts = [sum(batches[:i]) for i in range(len(batches) + 1)]
    expected = ref.expected_tables(HASHER, [recs[a:b] for a, b in zip(cuts, cuts[1:])])
    return Built(path, recs, batches, {name: dict(entries) for name, entries in expected.items()})


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Built:
    path = str(tmp_path_factory.mktemp("tamper") / "small")
    built = _build(path, plan.records(SEED, 0, sum(SMALL_BATCHES)), SMALL_BATCHES, verify=True)
    assert len(built.tables["sellers"]) == plan.SELLER_COUNT
    with Ledger.open(path, create=False) as led:
        led.checkpoint(CHECKPOINT_KEY, ORIGIN)
        assert led.root() == ref_root(HASHER, built.leaves)
        report = led.audit()
        assert report.ok, report.problems[:5]
    return built


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Built:
    path = str(tmp_path_factory.mktemp("tamper") / "big")
    built = _build(path, plan.records(SEED, 0, BIG_SIZE, tiny=True), [BIG_BATCH] * (BIG_SIZE // BIG_BATCH),
                   verify=False)
    with Ledger.open(path, create=False) as led:
        assert led.root() == ref_root(HASHER, built.leaves)
        report = led.audit()
        assert report.ok, report.problems[:5]
    return built


@pytest.fixture
def copy_of(tmp_path):
    def copy(built: Built) -> str:
        path = str(tmp_path / "ledger")
        shutil.copytree(built.path, path)
        return path

    return copy


# --- the cases -------------------------------------------------------------------------


def _flip(table: str, key: bytes, where: str, byte: int, mask: int = 0x01) -> dict:
    return {"op": "flip", "table": table, "key": key.hex(), "where": where, "byte": byte, "mask": mask}


def _delete(table: str, key: bytes) -> dict:
    return {"op": "delete", "table": table, "key": key.hex()}


def _put(table: str, key: bytes, value: bytes) -> dict:
    return {"op": "put", "table": table, "key": key.hex(), "value": value.hex()}


def _index_key(b: Built, seq: int) -> bytes:
    return ref.invoice_index_key(b.sid(seq), b.recs[seq].invoice_id)


def _checkpoint_key() -> bytes:
    return ref.checkpoints_key(sum(SMALL_BATCHES), ORIGIN)


def _other_seller_mask(b: Built, sid: int) -> int:
    """A mask m such that sid ^ m is another existing seller id."""
    return next(m for m in (1, 2, 4) if (sid ^ m) < len(b.tables["sellers"]))


def _by_seller_offset_mask(b: Built, seq: int) -> int:
    """A mask m such that the offset of `seq` in its by_seller entry, XOR m, is the offset
    of a record of another seller in the same group."""
    key, _ = b.by_seller_entry(seq)
    first = struct.unpack(">Q", key[:8])[0]
    others = {q for q in range(b.size) if b.sid(q) != b.sid(seq)}
    return next(m for m in (1, 2, 4, 8, 16, 32, 64, 128) if first + ((seq - first) ^ m) in others)


def _by_seller_flip(byte_in_offset: int, mask: Optional[int]) -> Callable[[Built], List[dict]]:
    def edits(b: Built) -> List[dict]:
        key, index = b.by_seller_entry(TARGET)
        m = _by_seller_offset_mask(b, TARGET) if mask is None else mask
        return [_flip("by_seller", key, "value", 4 * index + byte_in_offset, m)]

    return edits


def _payload_byte(b: Built) -> List[dict]:
    rec = b.record(TARGET)
    assert rec.length > 0
    return [_flip("payloads", ref.payloads_key(rec.blob_key), "value", rec.offset + rec.length // 2)]


def _blob_seqs(b: Built) -> set:
    blob = b.record(TARGET).blob_key
    return {q for q in range(b.size) if b.record(q).blob_key == blob} | {STRAY + blob}


@dataclass(frozen=True)
class Case:
    name: str
    ledger: str  # "small" or "big"
    edits: Callable[[Built], List[dict]]
    tables: Tuple[str, ...]  # a problem must name one of these
    seqs: Optional[Callable[[Built], set]] = None  # ... and, for per-record tables, one of these seqs
    refuse: Tuple[type, ...] = ()  # or opening fails with one of these


def _record_region(region: str, offset_in_region: int, mask: int) -> Case:
    start = plan.RECORD_REGIONS[region][0]
    return Case(f"records-{region}", "small",
                lambda b: [_flip("records", ref.records_key(TARGET), "value", start + offset_in_region, mask)],
                ("records",), lambda b: {TARGET})


CASES = [
    # records: the key, then one byte in each field of the value.
    Case("records-key", "small", lambda b: [_flip("records", ref.records_key(TARGET), "key", 0)], ("records",),
         lambda b: {TARGET, STRAY + TARGET}),
    _record_region("kind", 0, 0x02),  # 0x01 -> 0x03, a kind this version does not know
    _record_region("issued_at", 7, 0x01),
    _record_region("seller_id", 3, 0x01),
    _record_region("blob", 7, 0x01),
    _record_region("offset", 3, 0x01),
    _record_region("length", 3, 0x01),
    _record_region("signature", 20, 0x01),
    _record_region("id_len", 0, 0x01),
    _record_region("invoice_id", 5, 0x01),
    # payloads: a byte of the target's payload (only its signature binds it, so the
    # record may be named instead), a blob key.
    Case("payloads-value", "small", _payload_byte, ("payloads", "records"), lambda b: {TARGET}),
    Case("payloads-key", "small",
         lambda b: [_flip("payloads", ref.payloads_key(b.record(TARGET).blob_key), "key", 0)],
         ("payloads", "records"), _blob_seqs),
    # sellers / seller_ids: inverse bijections, so either may be named.
    Case("sellers-value", "small", lambda b: [_flip("sellers", ref.sellers_key(b.sid(TARGET)), "value", 5)],
         ("sellers", "seller_ids")),
    Case("sellers-key", "small", lambda b: [_flip("sellers", ref.sellers_key(b.sid(TARGET)), "key", 0)],
         ("sellers", "seller_ids")),
    Case("seller_ids-value", "small",
         lambda b: [_flip("seller_ids", b.recs[TARGET].seller_key, "value", 3, _other_seller_mask(b, b.sid(TARGET)))],
         ("seller_ids", "sellers")),
    Case("seller_ids-key", "small", lambda b: [_flip("seller_ids", b.recs[TARGET].seller_key, "key", 7)],
         ("seller_ids", "sellers")),
    # invoice_index: the id part and the seller part of the key, the seq value.
    Case("invoice_index-key-id", "small", lambda b: [_flip("invoice_index", _index_key(b, TARGET), "key", 4 + 5)],
         ("invoice_index",), lambda b: {TARGET}),
    Case("invoice_index-key-seller", "small",
         lambda b: [_flip("invoice_index", _index_key(b, TARGET), "key", 3, _other_seller_mask(b, b.sid(TARGET)))],
         ("invoice_index",), lambda b: {TARGET}),
    Case("invoice_index-value", "small", lambda b: [_flip("invoice_index", _index_key(b, TARGET), "value", 7)],
         ("invoice_index",), lambda b: {TARGET, TARGET ^ 1}),
    # by_seller: the target's u32 offset in its posting list, moved to another seller's
    # record of the group or far past the group; the key's seller id and first seq.
    Case("by_seller-offset-in-group", "small", _by_seller_flip(3, None), ("by_seller",),
         lambda b: {TARGET, TARGET ^ _by_seller_offset_mask(b, TARGET)}),
    Case("by_seller-offset-past-group", "small", _by_seller_flip(0, 0x01), ("by_seller",),
         lambda b: {TARGET, TARGET + (1 << 24)}),
    Case("by_seller-key-seller", "small", lambda b: [_flip("by_seller", b.by_seller_entry(TARGET)[0], "key", 8)],
         ("by_seller",), lambda b: b.group_seqs(b.by_seller_entry(TARGET)[0])),
    Case("by_seller-key-first-seq", "small", lambda b: [_flip("by_seller", b.by_seller_entry(TARGET)[0], "key", 7)],
         ("by_seller",), lambda b: b.group_seqs(b.by_seller_entry(TARGET)[0]) | {q + 1 for q in b.group_seqs(
             b.by_seller_entry(TARGET)[0])}),
    # tiles: level 0 full and partial, a tile key; level 1 full and partial (big ledger).
    Case("tiles-level0-full", "small", lambda b: [_flip("tiles", ref.tiles_key(0, 1), "value", (300 - 256) * 32 + 5)],
         ("tiles",)),
    Case("tiles-level0-partial", "small",
         lambda b: [_flip("tiles", ref.tiles_key(0, 2), "value", (552 - 512) * 32)], ("tiles",)),
    Case("tiles-key", "small", lambda b: [_flip("tiles", ref.tiles_key(0, 1), "key", 0)], ("tiles",)),
    Case("tiles-level1-full", "big", lambda b: [_flip("tiles", ref.tiles_key(1, 0), "value", 100 * 32 + 7)],
         ("tiles",)),
    Case("tiles-level1-partial", "big", lambda b: [_flip("tiles", ref.tiles_key(1, 1), "value", 16 * 32 + 31)],
         ("tiles",)),
    # meta: size past the tiles and below them, root; format_version and hasher are refused.
    Case("meta-size-up", "small", lambda b: [_flip("meta", b"size", "value", 7, 0x01)], ("meta",),
         refuse=(CorruptedError,)),
    Case("meta-size-down", "small", lambda b: [_flip("meta", b"size", "value", 7, 0x08)], ("meta",),
         refuse=(CorruptedError,)),
    Case("meta-root", "small", lambda b: [_flip("meta", b"root", "value", 0)], ("meta",), refuse=(CorruptedError,)),
    Case("meta-format_version", "small", lambda b: [_flip("meta", b"format_version", "value", 3, 0x03)], (),
         refuse=(UnsupportedFormatError,)),
    Case("meta-hasher", "small", lambda b: [_flip("meta", b"hasher", "value", 5)], (),
         refuse=(UnsupportedFormatError,)),
    # checkpoints: the public key, the root line of the note, its signature line; the
    # key's size and origin.
    Case("checkpoints-public-key", "small", lambda b: [_flip("checkpoints", _checkpoint_key(), "value", 3)],
         ("checkpoints",)),
    Case("checkpoints-note-root", "small",
         lambda b: [_flip("checkpoints", _checkpoint_key(), "value", 32 + len(ORIGIN) + 1 + 4 + 6, 0x20)],
         ("checkpoints",)),
    Case("checkpoints-note-signature", "small", lambda b: [_flip("checkpoints", _checkpoint_key(), "value", -8, 0x20)],
         ("checkpoints",)),
    Case("checkpoints-key-size", "small", lambda b: [_flip("checkpoints", _checkpoint_key(), "key", 7)],
         ("checkpoints",)),
    Case("checkpoints-key-origin", "small", lambda b: [_flip("checkpoints", _checkpoint_key(), "key", 8 + 3)],
         ("checkpoints",)),
    # Whole entries deleted or added.
    Case("records-deleted", "small", lambda b: [_delete("records", ref.records_key(TARGET))], ("records",),
         lambda b: {TARGET}),
    Case("records-extra-past-end", "small",
         lambda b: [_put("records", ref.records_key(b.size), b.tables["records"][ref.records_key(b.size - 1)])],
         ("records",), lambda b: {b.size}),
    Case("invoice_index-extra", "small",
         lambda b: [_put("invoice_index", ref.invoice_index_key(b.sid(TARGET), "INV-FAKE-1"), u64(TARGET))],
         ("invoice_index",)),
    Case("by_seller-entry-deleted", "small", lambda b: [_delete("by_seller", b.by_seller_entry(TARGET)[0])],
         ("by_seller",), lambda b: b.group_seqs(b.by_seller_entry(TARGET)[0])),
    Case("tiles-deleted", "small", lambda b: [_delete("tiles", ref.tiles_key(0, 2))], ("tiles",)),
    Case("sellers-extra", "small",
         lambda b: [_put("sellers", ref.sellers_key(len(b.tables["sellers"])), b"\x07" * 32)],
         ("sellers", "seller_ids")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_changed_entry_is_found_and_named(case, request, copy_of):
    built = request.getfixturevalue(case.ledger)
    path = copy_of(built)
    lmdb_edit(path, case.edits(built))
    try:
        led = Ledger.open(path, create=False)
    except (CorruptedError, UnsupportedFormatError) as exc:
        assert case.refuse and isinstance(exc, case.refuse), f"open refused the ledger with {exc!r}"
        return
    with led:
        assert case.tables, f"an edit of {case.name} must make the ledger refuse to open"
        report = led.audit()
    assert not report.ok, f"audit found nothing after {case.name}"
    assert report.problem_count >= len(report.problems) >= 1
    named = [p for p in report.problems if p.table in case.tables]
    assert named, f"no problem names {case.tables}: {report.problems[:5]}"
    if case.seqs is not None:
        want = case.seqs(built)
        assert any(p.seq in want for p in named), \
            f"no problem of {case.tables} names a seq in {sorted(want)[:4]}...: {named[:5]}"


@pytest.mark.parametrize("hasher", ["blake3", "sha256"])
def test_unknown_hasher_or_version_is_refused_by_readers_too(hasher, tmp_path):
    path = str(tmp_path / "ledger")
    with Ledger.open(path, hasher=hasher) as led:
        led.append_batch(plan.invoice_batch(plan.records(SEED, 0, 3)))
    lmdb_edit(path, [_flip("meta", b"hasher", "value", 0, 0x20)])  # "Blake3" / "Sha256"
    with pytest.raises(UnsupportedFormatError):
        Ledger.open(path, create=False, readonly=True)
    lmdb_edit(path, [_flip("meta", b"hasher", "value", 0, 0x20), _flip("meta", b"format_version", "value", 0)])
    with pytest.raises(UnsupportedFormatError):
        Ledger.open(path, create=False, readonly=True)


def test_pristine_tables_are_the_reference(small, big):
    """The pristine files hold exactly the tables invoice_reference derives from the
    reference records (so each case edits the entry it names), and the stored checkpoint."""
    tables = ref.dump_tables(small.path)
    assert set(tables) == set(ref.TABLES)
    for name, entries in small.tables.items():
        assert dict(tables[name]) == entries, name
    ((key, value),) = tables["checkpoints"]
    assert key == _checkpoint_key()
    assert value[:32] == bytes(CHECKPOINT_KEY.verify_key)
    note = ref.ref_verify_note(value[32:].decode("utf-8"), value[:32], ORIGIN)
    assert (note.origin, note.size, note.root) == (ORIGIN, small.size, ref_root(HASHER, small.leaves))

    got = lmdb_edit(big.path, [{"op": "keys", "table": "tiles"}])[0]
    assert {bytes.fromhex(k): bytes.fromhex(v) for k, v in got} == big.tables["tiles"]
    assert {ref.tiles_key(1, 0), ref.tiles_key(1, 1)} <= set(big.tables["tiles"])
