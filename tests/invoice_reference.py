"""An independent reference of docs/FORMAT.md "Signed invoices" and "The ledger on disk",
built on the standard library, the `blake3` package and PyNaCl only (never ledger_core),
for the tests that check the ledger against the normative bytes.

- the record: K_PAYLOAD, payload_hash, the envelope M, the leaf data and leaf hash;
- signing with PyNaCl over M (what a seller outside the project does);
- the table encodings: keys of every table, the `records` value (encode and decode),
  and the whole expected content of a ledger's tables for records appended in batches;
- RFC 9162 proofs by their recursive definition (2.1.3.1, 2.1.4.1) and the verification
  algorithms (2.1.3.2, 2.1.4.2);
- a C2SP signed-note check with PyNaCl;
- :func:`dump_tables`: every table of a ledger directory, read with py-lmdb in a
  subprocess (LMDB forbids a second environment on one file in one process, and the
  tests hold a ledger_core Ledger open).
"""

from __future__ import annotations

import base64
import hashlib
import os
import pickle
import struct
import subprocess
import sys
from dataclasses import dataclass
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import blake3 as blake3_ref
from nacl.signing import SigningKey, VerifyKey

from merkle_reference import (  # noqa: F401 (re-exported for the ledger tests)
    ref_leaf,
    ref_node,
    ref_path,
    ref_root,
    ref_subproof,
    ref_verify_consistency,
    ref_verify_inclusion,
)

# --- the record (docs/FORMAT.md "Signed invoices") ------------------------------------------

PAYLOAD_CONTEXT = "ledger_core 2026-11-27 invoice payload v1"
K_PAYLOAD = blake3_ref.blake3(b"", derive_key_context=PAYLOAD_CONTEXT).digest()
DOMAIN = b"ledger_core/invoice/v1"
INVOICE_ID_MAX_LEN = 128
PAYLOAD_MAX_LEN = 16 * 1024 * 1024
SELLER_KEY_LEN = 32
SIGNATURE_LEN = 64


def id_bytes(invoice_id) -> bytes:
    """invoice_id as the UTF-8 bytes the format stores (a str is encoded, bytes taken as given)."""
    return invoice_id.encode("utf-8") if isinstance(invoice_id, str) else bytes(invoice_id)


def payload_hash(payload: bytes) -> bytes:
    """BLAKE3-keyed(K_PAYLOAD, payload)."""
    return blake3_ref.blake3(bytes(payload), key=K_PAYLOAD).digest()


def envelope(invoice_id, issued_at: int, payload_digest: bytes) -> bytes:
    """M = domain || 0x00 || u16be(len(id)) || id || i64be(issued_at) || payload_hash."""
    ident = id_bytes(invoice_id)
    assert len(payload_digest) == 32
    return DOMAIN + b"\x00" + struct.pack(">H", len(ident)) + ident + struct.pack(">q", issued_at) + payload_digest


def leaf_data(invoice_id, issued_at: int, seller_key: bytes, signature: bytes, payload: bytes) -> bytes:
    """M || seller_key || signature."""
    return envelope(invoice_id, issued_at, payload_hash(payload)) + bytes(seller_key) + bytes(signature)


def leaf_hash(suite: str, invoice_id, issued_at: int, seller_key: bytes, signature: bytes, payload: bytes) -> bytes:
    return ref_leaf(suite, leaf_data(invoice_id, issued_at, seller_key, signature, payload))


class Rec(NamedTuple):
    """One signed invoice, as plain values (invoice_id as str or bytes)."""

    invoice_id: object
    issued_at: int
    seller_key: bytes
    signature: bytes
    payload: bytes

    def leaf_data(self) -> bytes:
        return leaf_data(*self)

    def leaf_hash(self, suite: str) -> bytes:
        return ref_leaf(suite, self.leaf_data())


def sign(signing_key: SigningKey, invoice_id, issued_at: int, payload: bytes) -> Rec:
    """A record signed by PyNaCl over the reference envelope."""
    message = envelope(invoice_id, issued_at, payload_hash(payload))
    signature = signing_key.sign(message).signature
    return Rec(invoice_id, issued_at, bytes(signing_key.verify_key), bytes(signature), bytes(payload))


def signing_key(index: int) -> SigningKey:
    """A fixed test key per index (seed = the index, little-endian, repeated)."""
    return SigningKey(hashlib.sha256(b"invoice_reference seller %d" % index).digest())


# --- the tables (docs/FORMAT.md "The ledger on disk") ----------------------------------------

TABLES = ("meta", "records", "payloads", "sellers", "seller_ids", "invoice_index", "by_seller", "tiles", "checkpoints",
          "imports")
KIND_INVOICE_V1 = 0x01
RECORD_FIXED_LEN = 94
BLOB_TARGET_LEN = 1 << 20
TILE_WIDTH = 256
TILE_HEIGHT = 8


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


def u64(v: int) -> bytes:
    return struct.pack(">Q", v)


def records_key(seq: int) -> bytes:
    return u64(seq)


def payloads_key(first_seq: int) -> bytes:
    return u64(first_seq)


def sellers_key(seller_id: int) -> bytes:
    return u32(seller_id)


def seller_ids_key(seller_key: bytes) -> bytes:
    assert len(seller_key) == 32
    return bytes(seller_key)


def invoice_index_key(seller_id: int, invoice_id) -> bytes:
    return u32(seller_id) + id_bytes(invoice_id)


# Items per by_seller group: a writer cuts each batch into groups of this many items.
BY_SELLER_GROUP = 4096


def by_seller_key(first_seq: int, seller_id: int) -> bytes:
    return u64(first_seq) + u32(seller_id)


def tiles_key(level: int, index: int) -> bytes:
    return struct.pack(">BQ", level, index)


def checkpoints_key(size: int, origin: str) -> bytes:
    return u64(size) + origin.encode("utf-8")


class RecordValue(NamedTuple):
    """A decoded `records` value."""

    kind: int
    issued_at: int
    seller_id: int
    blob_key: int
    offset: int
    length: int
    signature: bytes
    invoice_id: bytes


def encode_record(issued_at: int, seller_id: int, blob_key: int, offset: int, length: int,
                  signature: bytes, invoice_id) -> bytes:
    """The `records` value of an invoice v1 record: exactly 94 + len(invoice_id) bytes."""
    ident = id_bytes(invoice_id)
    assert 1 <= len(ident) <= INVOICE_ID_MAX_LEN and len(signature) == SIGNATURE_LEN
    return (bytes([KIND_INVOICE_V1]) + struct.pack(">qIQII", issued_at, seller_id, blob_key, offset, length)
            + bytes(signature) + bytes([len(ident)]) + ident)


def decode_record(value: bytes) -> RecordValue:
    """Decode a `records` value; ValueError for an unknown kind or a wrong length."""
    value = bytes(value)
    if len(value) < RECORD_FIXED_LEN:
        raise ValueError(f"a records value is at least {RECORD_FIXED_LEN} bytes, got {len(value)}")
    if value[0] != KIND_INVOICE_V1:
        raise ValueError(f"unknown record kind {value[0]}")
    issued_at, seller_id, blob_key, offset, length = struct.unpack_from(">qIQII", value, 1)
    signature = value[29:93]
    n = value[93]
    if len(value) != RECORD_FIXED_LEN + n:
        raise ValueError(f"records value of {len(value)} bytes for an invoice_id of {n}")
    return RecordValue(value[0], issued_at, seller_id, blob_key, offset, length, signature, value[94:])


def tree_levels(suite: str, leaf_hashes: Sequence[bytes]) -> List[List[bytes]]:
    """Every complete node hash by level: levels[l][i] covers leaves [i 2^l, (i + 1) 2^l)."""
    levels = [list(leaf_hashes)]
    while len(levels[-1]) >= 2:
        below = levels[-1]
        levels.append([ref_node(suite, below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)])
    return levels


def expected_tiles(suite: str, leaf_hashes: Sequence[bytes]) -> Dict[bytes, bytes]:
    """The `tiles` table of a tree: tile (L, N) = hashes of level 8L, nodes [256 N, 256 N + W)."""
    levels = tree_levels(suite, leaf_hashes)
    tiles: Dict[bytes, bytes] = {}
    for level in range(0, len(levels), TILE_HEIGHT):
        hashes = levels[level]
        for index in range((len(hashes) + TILE_WIDTH - 1) // TILE_WIDTH):
            tiles[tiles_key(level // TILE_HEIGHT, index)] = b"".join(hashes[index * TILE_WIDTH:(index + 1) * TILE_WIDTH])
    return tiles


def expected_tables(suite: str, batches: Iterable[Sequence[Rec]]) -> Dict[str, List[Tuple[bytes, bytes]]]:
    """The content of every table but `checkpoints` after appending `batches` (each a list
    of valid records, all appended) to a new ledger, in LMDB's order (keys bytewise, then
    duplicates bytewise). Blobs start at each batch's first record and whenever the open
    blob holds BLOB_TARGET_LEN bytes or more."""
    records, payloads, sellers, seller_ids, index, by_seller = {}, {}, {}, {}, {}, {}
    leaves: List[bytes] = []
    seq = 0
    for batch in batches:
        blob_key: Optional[int] = None
        group_first = seq
        for position, rec in enumerate(batch):
            if position % BY_SELLER_GROUP == 0:
                group_first = seq
            if rec.seller_key not in seller_ids:
                seller_ids[rec.seller_key] = len(seller_ids)
                sellers[sellers_key(seller_ids[rec.seller_key])] = rec.seller_key
            sid = seller_ids[rec.seller_key]
            if blob_key is None or len(payloads[blob_key]) >= BLOB_TARGET_LEN:
                blob_key = seq
                payloads[blob_key] = b""
            offset = len(payloads[blob_key])
            payloads[blob_key] += rec.payload
            records[records_key(seq)] = encode_record(rec.issued_at, sid, blob_key, offset, len(rec.payload),
                                                      rec.signature, rec.invoice_id)
            key = invoice_index_key(sid, rec.invoice_id)
            assert key not in index, "expected_tables takes valid, distinct records only"
            index[key] = u64(seq)
            key = by_seller_key(group_first, sid)
            by_seller[key] = by_seller.get(key, b"") + u32(seq - group_first)
            leaves.append(rec.leaf_hash(suite))
            seq += 1
    meta = {b"format_version": u32(1), b"hasher": suite.encode("ascii"), b"size": u64(seq),
            b"root": ref_root(suite, leaves)}
    return {
        "meta": sorted(meta.items()),
        "records": sorted(records.items()),
        "payloads": sorted((payloads_key(k), v) for k, v in payloads.items()),
        "sellers": sorted(sellers.items()),
        "seller_ids": sorted((seller_ids_key(k), sellers_key(v)) for k, v in seller_ids.items()),
        "invoice_index": sorted(index.items()),
        "by_seller": sorted(by_seller.items()),
        "tiles": sorted(expected_tiles(suite, leaves).items()),
    }


# --- RFC 9162 proofs --------------------------------------------------------------------------


def ref_inclusion_proof(suite: str, leaves: Sequence[bytes], m: int) -> List[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, over leaf hashes."""
    return ref_path(suite, m, leaves)


def ref_consistency_proof(suite: str, leaves: Sequence[bytes], m: int) -> List[bytes]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1 (0 < m <= n)."""
    assert 0 < m <= len(leaves)
    return ref_subproof(suite, m, leaves, True)


# --- C2SP signed notes ------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteCheckpoint:
    origin: str
    size: int
    root: bytes


def ref_verify_note(note: str, public_key: bytes, name: str) -> NoteCheckpoint:
    """Check a C2SP checkpoint note with PyNaCl: the signature line of key `name` (key ID
    SHA-256(name || 0x0A || 0x01 || key)[:4]) verifies over the note text. AssertionError
    or nacl's BadSignatureError otherwise."""
    text, _, signatures = note.partition("\n\n")
    text += "\n"
    kid = hashlib.sha256(name.encode() + b"\n\x01" + bytes(public_key)).digest()[:4]
    found = False
    for line in signatures.splitlines():
        dash, signer, encoded = line.split(" ")
        assert dash == "\u2014"
        raw = base64.b64decode(encoded, validate=True)
        if signer == name and raw[:4] == kid:
            VerifyKey(bytes(public_key)).verify(text.encode("utf-8"), raw[4:])
            found = True
    assert found, f"no signature line of {name!r}"
    origin, size, root = text.splitlines()[:3]
    return NoteCheckpoint(origin, int(size), base64.b64decode(root, validate=True))


# --- reading a ledger's files with py-lmdb, in another process ---------------------------------

_DUMP_SCRIPT = r"""
import pickle, sys
import lmdb
path = sys.argv[1]
env = lmdb.open(path, max_dbs=64, readonly=True, lock=True, subdir=True)
out = {"tables": {}, "flags": {}, "names": []}
with env.begin() as txn:
    names = [bytes(k) for k, _ in txn.cursor()]
out["names"] = [n.decode("utf-8", "replace") for n in names]
for name in names:
    with env.begin() as txn:
        db = env.open_db(name, txn=txn, create=False)
        flags = db.flags(txn)
        if flags.get("dupsort"):
            db = env.open_db(name, txn=txn, create=False, dupsort=True, dupfixed=bool(flags.get("dupfixed")))
        out["flags"][name.decode()] = {k: bool(v) for k, v in flags.items()}
        out["tables"][name.decode()] = [(bytes(k), bytes(v)) for k, v in txn.cursor(db=db).iternext()]
env.close()
sys.stdout.buffer.write(pickle.dumps(out))
"""


def inspect_ledger(path) -> dict:
    """{"tables": {name: [(key, value), ...]}, "flags": {name: {...}}, "names": [...]}: every
    named database of the ledger's LMDB environment, read by py-lmdb in a subprocess."""
    done = subprocess.run([sys.executable, "-c", _DUMP_SCRIPT, os.fspath(path)], capture_output=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"py-lmdb dump of {path} failed: {done.stderr.decode(errors='replace')}")
    return pickle.loads(done.stdout)


def dump_tables(path) -> Dict[str, List[Tuple[bytes, bytes]]]:
    """Every table of the ledger at `path`: {table: [(key, value), ...]} in LMDB order
    (duplicates of a DUPSORT table as separate pairs), read by py-lmdb in a subprocess."""
    return inspect_ledger(path)["tables"]
