// The audit: every table of a ledger re-derived from its records and compared byte for
// byte (ledger_store.h). One read transaction, so it audits one committed state while
// appends go on; it holds the map lock shared throughout (a map resize waits for it).
//
//   sellers, seller_ids    ids 0..k-1, 32-byte keys, the two tables inverse bijections
//   records (in seq order) keys 0..size-1, each decodes; its payload is the next bytes
//                          of its blob, blobs cover `payloads` exactly; payload hash,
//                          envelope, signature (batch verification), leaf hash against
//                          tile level 0; invoice_index holds its entry
//   by_seller              every record in exactly one posting list, under its seller
//   tiles                  rebuilt level by level and compared, entry count exact
//   meta                   format, hasher, size, root (recomputed)
//
// A changed record fails its signature; a changed leaf hash leaves the signature good but
// differs from the record's leaf. The rebuild of the upper tiles uses the leaf that is
// right (the recomputed one when the signature holds, else the stored one), so a single
// change is reported once, not once per level above it.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "blake3/blake3.h"
#include "common/guarded.h"
#include "common/thread_pool.h"
#include "ed25519/batch.h"
#include "merkle/merkle_tree.h"
#include "store/ledger_store.h"
#include "store/store_internal.h"
#include "store/tile_store.h"

namespace ledger_core {

class AuditRun {
 public:
  AuditRun(LedgerStore& store, MDB_txn* txn, size_t threads, size_t max_problems, AuditResult* out)
      : s_(store), txn_(txn), threads_(threads), max_(max_problems), out_(out) {}

  Status run(std::string* why);

 private:
  static constexpr size_t kChunk = 8192;

  void problem(unsigned table, int64_t seq, const std::string& message) {
    ++out_->problem_count;
    if (out_->problems.size() < max_) out_->problems.push_back(AuditProblem{table_name(table), seq, message});
  }
  MDB_dbi dbi(unsigned t) const { return s_.dbi_[t]; }
  Status check_meta(bool* usable, std::string* why);
  Status check_sellers(std::string* why);
  Status check_records(std::string* why);
  Status audit_chunk(std::string* why);
  Status check_indexes_of_chunk(std::string* why);
  void push_leaf(uint64_t seq, const uint8_t leaf[MERKLE_HASH_LEN], bool signature_ok, const uint8_t* computed);
  Status finish_tiles(std::string* why);
  Status check_tile(unsigned tile_level, uint64_t tile_index, const uint8_t* hashes, size_t width, std::string* why);
  Status scan_extra_index_entries(std::string* why);
  Status check_by_seller(std::string* why);

  struct Item {
    uint64_t seq;
    RecordView r;
    const uint8_t* payload;  // into the map (valid for the transaction)
  };

  LedgerStore& s_;
  MDB_txn* txn_;
  size_t threads_;
  size_t max_;
  AuditResult* out_;
  uint64_t size_ = 0;
  std::vector<std::string> sellers_;  // seller id -> 32-byte key
  std::vector<Item> chunk_;
  // Blobs: the one being walked, and every key seen (ascending).
  bool in_blob_ = false;
  uint64_t blob_key_ = 0, blob_next_ = 0;
  const uint8_t* blob_ = nullptr;
  size_t blob_len_ = 0;
  std::vector<uint64_t> blobs_seen_;
  // Tile rebuild: the right leaves of the open level-0 tile, and every level above.
  std::vector<uint8_t> level0_;
  uint64_t level0_tile_ = 0;
  std::vector<uint8_t> upper_;  // hashes of tree level 8, in order
  uint64_t tiles_expected_ = 0;
  uint64_t records_seen_ = 0;
  // The seller id of every record (for by_seller); UINT32_MAX where a record is unreadable.
  std::vector<uint32_t> seller_of_seq_;
};

Status AuditRun::check_meta(bool* usable, std::string* why) {
  *usable = false;
  MDB_val k = mdb_val("format_version", 14), v;
  int rc = mdb_get(txn_, dbi(T_META), &k, &v);
  if (rc != MDB_SUCCESS || v.mv_size != 4 || get_u32be(static_cast<const uint8_t*>(v.mv_data)) != LEDGER_FORMAT_VERSION)
    problem(T_META, -1, "meta/format_version is missing or not 1");
  k = mdb_val("hasher", 6);
  rc = mdb_get(txn_, dbi(T_META), &k, &v);
  const std::string want = s_.suite() == MerkleSuite::sha256 ? "sha256" : "blake3";
  if (rc != MDB_SUCCESS || std::string(static_cast<const char*>(v.mv_data), v.mv_size) != want)
    problem(T_META, -1, "meta/hasher is not '" + want + "', the hasher the ledger was opened with");
  uint8_t root[MERKLE_HASH_LEN];
  std::string meta_why;
  if (s_.read_meta(txn_, &size_, root, &meta_why) != Status::ok) {
    problem(T_META, -1, meta_why + ": nothing else can be checked");
    return Status::ok;
  }
  std::memcpy(out_->root, root, MERKLE_HASH_LEN);
  out_->size = size_;
  seller_of_seq_.assign(size_t(size_), UINT32_MAX);
  // Exactly the four names.
  MdbCursor cursor;
  rc = cursor.open(txn_, dbi(T_META));
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("meta: cannot open a cursor", rc);
    return status_of_mdb(rc);
  }
  for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    const std::string name(static_cast<const char*>(k.mv_data), k.mv_size);
    if (name != "format_version" && name != "hasher" && name != "size" && name != "root")
      problem(T_META, -1, "meta has an unknown entry (" + std::to_string(k.mv_size) + "-byte name)");
  }
  *usable = true;
  return Status::ok;
}

Status AuditRun::check_sellers(std::string* why) {
  MdbCursor cursor;
  int rc = cursor.open(txn_, dbi(T_SELLERS));
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("sellers: cannot open a cursor", rc);
    return status_of_mdb(rc);
  }
  MDB_val k, v;
  for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    const uint32_t id = k.mv_size == 4 ? get_u32be(static_cast<const uint8_t*>(k.mv_data)) : UINT32_MAX;
    if (id != sellers_.size())
      problem(T_SELLERS, -1, "sellers: entry " + std::to_string(sellers_.size()) + " has key " +
                                 (k.mv_size == 4 ? std::to_string(id) : "of " + std::to_string(k.mv_size) + " bytes") +
                                 "; seller ids must run 0, 1, 2, ...");
    if (v.mv_size != SELLER_KEY_LEN) problem(T_SELLERS, -1, "sellers: seller " + std::to_string(sellers_.size()) + " is not 32 bytes");
    sellers_.emplace_back(static_cast<const char*>(v.mv_data), v.mv_size);
  }
  if (rc != MDB_NOTFOUND) {
    *why = mdb_message("sellers: cannot read", rc);
    return status_of_mdb(rc);
  }
  std::vector<bool> seen(sellers_.size(), false);
  rc = cursor.open(txn_, dbi(T_SELLER_IDS));
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("seller_ids: cannot open a cursor", rc);
    return status_of_mdb(rc);
  }
  uint64_t entries = 0;
  for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    ++entries;
    const uint32_t id = v.mv_size == 4 ? get_u32be(static_cast<const uint8_t*>(v.mv_data)) : UINT32_MAX;
    const std::string key(static_cast<const char*>(k.mv_data), k.mv_size);
    if (id >= sellers_.size() || sellers_[id] != key || seen[id]) {
      problem(T_SELLER_IDS, -1, "seller_ids: entry " + std::to_string(entries - 1) + " (id " +
                                    (v.mv_size == 4 ? std::to_string(id) : "malformed") +
                                    ") does not map its key to the id `sellers` gives it");
    } else {
      seen[id] = true;
    }
  }
  if (rc != MDB_NOTFOUND) {
    *why = mdb_message("seller_ids: cannot read", rc);
    return status_of_mdb(rc);
  }
  for (size_t id = 0; id < seen.size(); ++id)
    if (!seen[id]) problem(T_SELLER_IDS, -1, "seller_ids: seller " + std::to_string(id) + " has no entry");
  return Status::ok;
}

// The leaf to rebuild the tree from, in seq order.
void AuditRun::push_leaf(uint64_t seq, const uint8_t leaf[MERKLE_HASH_LEN], bool, const uint8_t*) {
  level0_.insert(level0_.end(), leaf, leaf + MERKLE_HASH_LEN);
  if (level0_.size() == TILE_WIDTH * MERKLE_HASH_LEN) {
    // A full level-0 tile: its subtree root is the next hash of level 8.
    std::vector<uint8_t> a(level0_), b(TILE_WIDTH / 2 * MERKLE_HASH_LEN);
    for (size_t n = TILE_WIDTH / 2; n >= 1; n /= 2) {
      merkle_hash_parents(s_.suite(), a.data(), n, b.data());
      a.swap(b);
    }
    upper_.insert(upper_.end(), a.data(), a.data() + MERKLE_HASH_LEN);
    level0_.clear();
    ++level0_tile_;
  }
}

Status AuditRun::check_tile(unsigned tile_level, uint64_t tile_index, const uint8_t* hashes, size_t width,
                            std::string* why) {
  TileNodeStore tiles(txn_, dbi(T_TILES), s_.suite(), size_);
  const uint8_t* stored = nullptr;
  size_t stored_width = 0;
  const Status st = tiles.read_tile(tile_level, tile_index, &stored, &stored_width);
  const std::string name = "tile (" + std::to_string(tile_level) + ", " + std::to_string(tile_index) + ")";
  const int64_t first_leaf = int64_t(tile_index << (TILE_HEIGHT * (tile_level + 1)));
  if (st == Status::not_found) {
    problem(T_TILES, first_leaf, "tiles: " + name + " is missing");
  } else if (st == Status::corrupted) {
    problem(T_TILES, first_leaf, "tiles: " + name + " has a length that is not 32 x 1..256 bytes");
  } else if (st != Status::ok) {
    *why = "tiles: cannot read " + name;
    return st;
  } else if (stored_width != width) {
    problem(T_TILES, first_leaf, "tiles: " + name + " holds " + std::to_string(stored_width) + " hashes, the tree of " +
                                     std::to_string(size_) + " records needs " + std::to_string(width));
  } else if (tile_level > 0 && std::memcmp(stored, hashes, width * MERKLE_HASH_LEN) != 0) {
    for (size_t i = 0; i < width; ++i)
      if (std::memcmp(stored + i * MERKLE_HASH_LEN, hashes + i * MERKLE_HASH_LEN, MERKLE_HASH_LEN) != 0)
        problem(T_TILES, int64_t((tile_index * TILE_WIDTH + i) << (TILE_HEIGHT * tile_level)),
                "tiles: " + name + " hash " + std::to_string(i) + " differs from the one rebuilt from the records");
  }
  return Status::ok;
}

Status AuditRun::audit_chunk(std::string* why) {
  const size_t n = chunk_.size();
  if (n == 0) return Status::ok;
  const MerkleSuite suite = s_.suite();
  std::vector<const uint8_t*> ptrs(n);
  std::vector<size_t> lens(n);
  for (size_t i = 0; i < n; ++i) {
    ptrs[i] = chunk_[i].payload;
    lens[i] = chunk_[i].r.payload_len;
  }
  std::vector<uint8_t> payload_hashes(n * PAYLOAD_HASH_LEN);
  parallel_for(n, threads_, 256, [&](size_t lo, size_t hi) {
    blake3_hash_list(ptrs.data() + lo, lens.data() + lo, hi - lo, invoice_payload_key(), payload_hashes.data() + lo * 32);
  });
  std::vector<uint64_t> offsets(n + 1, 0);
  for (size_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + LEAF_FIXED_LEN + chunk_[i].r.id_len;
  std::vector<uint8_t> leaf_data(offsets[n]), keys(n * SELLER_KEY_LEN), sigs(n * SIGNATURE_LEN);
  std::vector<const uint8_t*> messages(n);
  std::vector<size_t> message_lens(n);
  for (size_t i = 0; i < n; ++i) {
    const RecordView& r = chunk_[i].r;
    uint8_t* p = leaf_data.data() + offsets[i];
    p += invoice_envelope(r.id, r.id_len, r.issued_at, &payload_hashes[i * 32], p);
    const std::string& seller = sellers_[r.seller_id];
    std::memcpy(p, seller.data(), SELLER_KEY_LEN);
    std::memcpy(p + SELLER_KEY_LEN, r.signature, SIGNATURE_LEN);
    std::memcpy(&keys[i * SELLER_KEY_LEN], seller.data(), SELLER_KEY_LEN);
    std::memcpy(&sigs[i * SIGNATURE_LEN], r.signature, SIGNATURE_LEN);
    messages[i] = leaf_data.data() + offsets[i];
    message_lens[i] = ENVELOPE_FIXED_LEN + r.id_len;
  }
  std::vector<uint8_t> verdicts(n);
  MessageList list;
  list.pointers = messages.data();
  list.lengths = message_lens.data();
  Status st = ed25519_verify_batch(keys.data(), list, sigs.data(), n, threads_, MsmMethod::automatic, verdicts.data());
  if (st != Status::ok) {
    *why = "audit: batch verification failed to run";
    return st;
  }
  std::vector<uint8_t> leaves(n * MERKLE_HASH_LEN);
  VarItems items;
  items.buffer = leaf_data.data();
  items.buffer_len = leaf_data.size();
  items.offsets = offsets.data();
  items.count = n;
  parallel_for(n, threads_, 256, [&](size_t lo, size_t hi) {
    VarItems part = items;
    part.offsets = items.offsets + lo;
    part.count = hi - lo;
    merkle_hash_leaves(suite, part, leaves.data() + lo * MERKLE_HASH_LEN);
  });
  TileNodeStore tiles(txn_, dbi(T_TILES), suite, size_);
  const uint8_t* tile = nullptr;
  size_t tile_width = 0;
  uint64_t tile_index = UINT64_MAX;
  Status tile_status = Status::ok;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t seq = chunk_[i].seq;
    const bool signature_ok = verdicts[i] == uint8_t(VerifyReason::ok);
    if (!signature_ok)
      problem(T_RECORDS, int64_t(seq), "records: record " + std::to_string(seq) + "'s signature does not verify (" +
                                           verify_reason_name(VerifyReason(verdicts[i])) + "): the record or its payload (payloads blob " +
                                           std::to_string(chunk_[i].r.blob) +
                                           ") is not what its seller signed: changed, or appended unverified (verify=False)");
    if (seq / TILE_WIDTH != tile_index) {
      tile_index = seq / TILE_WIDTH;
      tile_status = tiles.read_tile(0, tile_index, &tile, &tile_width);
      if (tile_status != Status::ok && tile_status != Status::not_found && tile_status != Status::corrupted) {
        *why = "tiles: cannot read";
        return tile_status;
      }
    }
    const size_t pos = size_t(seq % TILE_WIDTH);
    const uint8_t* stored = tile_status == Status::ok && pos < tile_width ? tile + pos * MERKLE_HASH_LEN : nullptr;
    const uint8_t* computed = &leaves[i * MERKLE_HASH_LEN];
    if (stored != nullptr && signature_ok && std::memcmp(stored, computed, MERKLE_HASH_LEN) != 0)
      problem(T_TILES, int64_t(seq), "tiles: the leaf hash of record " + std::to_string(seq) +
                                         " differs from the one its (verified) record gives");
    // The right leaf: the record's when it verifies, else the stored one.
    push_leaf(seq, signature_ok || stored == nullptr ? computed : stored, signature_ok, computed);
  }
  out_->records += n;
  st = check_indexes_of_chunk(why);
  chunk_.clear();
  return st;
}

Status AuditRun::check_indexes_of_chunk(std::string* why) {
  int rc;
  uint8_t key[INVOICE_INDEX_KEY_MAX];
  for (const Item& item : chunk_) {
    MDB_val k = mdb_val(key, invoice_index_key(item.r.seller_id, item.r.id, item.r.id_len, key)), v;
    rc = mdb_get(txn_, dbi(T_INVOICE_INDEX), &k, &v);
    if (rc == MDB_NOTFOUND) {
      problem(T_INVOICE_INDEX, int64_t(item.seq), "invoice_index: no entry for record " + std::to_string(item.seq));
    } else if (rc != MDB_SUCCESS) {
      *why = mdb_message("invoice_index: cannot read", rc);
      return status_of_mdb(rc);
    } else if (v.mv_size != 8 || get_u64be(static_cast<const uint8_t*>(v.mv_data)) != item.seq) {
      problem(T_INVOICE_INDEX, int64_t(item.seq), "invoice_index: the entry of record " + std::to_string(item.seq) +
                                                      " points to " + (v.mv_size == 8 ? "record " + std::to_string(get_u64be(static_cast<const uint8_t*>(v.mv_data))) : std::string("a malformed seq")));
    }
    seller_of_seq_[item.seq] = item.r.seller_id;
  }
  return Status::ok;
}

Status AuditRun::check_records(std::string* why) {
  MdbCursor cursor;
  int rc = cursor.open(txn_, dbi(T_RECORDS));
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("records: cannot open a cursor", rc);
    return status_of_mdb(rc);
  }
  uint64_t expected = 0;
  MDB_val k, v;
  for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    ++records_seen_;
    if (k.mv_size != 8) {
      problem(T_RECORDS, -1, "records: a key of " + std::to_string(k.mv_size) + " bytes (keys are 8-byte seqs)");
      continue;
    }
    const uint64_t seq = get_u64be(static_cast<const uint8_t*>(k.mv_data));
    if (seq >= size_) {
      problem(T_RECORDS, int64_t(seq), "records: record " + std::to_string(seq) + " lies past meta/size " + std::to_string(size_));
      continue;
    }
    if (seq != expected) {
      problem(T_RECORDS, int64_t(expected), "records: records " + std::to_string(expected) + ".." + std::to_string(seq - 1) + " are missing");
      // Their leaves are unknown: rebuild with the stored ones so the tiles above still check.
      TileNodeStore tiles(txn_, dbi(T_TILES), s_.suite(), size_);
      Status st = audit_chunk(why);
      if (st != Status::ok) return st;
      for (uint64_t missing = expected; missing < seq; ++missing) {
        uint8_t leaf[MERKLE_HASH_LEN] = {0};
        tiles.get(0, missing, 1, leaf);
        push_leaf(missing, leaf, false, leaf);
      }
    }
    expected = seq + 1;
    Item item;
    item.seq = seq;
    const char* bad = nullptr;
    const uint8_t* value = static_cast<const uint8_t*>(v.mv_data);
    bool ok = record_decode(value, v.mv_size, &item.r, &bad);
    if (ok && item.r.seller_id >= sellers_.size()) {
      ok = false;
      bad = "its seller id is not in `sellers`";
    }
    if (ok && sellers_[item.r.seller_id].size() != SELLER_KEY_LEN) {
      ok = false;
      bad = "its seller's key is not 32 bytes";
    }
    // Its payload: the next bytes of the open blob, or the start of a new blob.
    if (ok) {
      const bool starts_blob = item.r.blob == seq && item.r.offset == 0;
      if (starts_blob) {
        if (in_blob_ && blob_next_ != blob_len_)
          problem(T_PAYLOADS, int64_t(blob_key_), "payloads: blob " + std::to_string(blob_key_) + " holds " +
                                                      std::to_string(blob_len_) + " bytes, its records " + std::to_string(blob_next_));
        uint8_t key[8];
        put_u64be(key, seq);
        MDB_val bk = mdb_val(key, 8), bv;
        const int brc = mdb_get(txn_, dbi(T_PAYLOADS), &bk, &bv);
        if (brc == MDB_SUCCESS) {
          in_blob_ = true;
          blob_key_ = seq;
          blob_ = static_cast<const uint8_t*>(bv.mv_data);
          blob_len_ = bv.mv_size;
          blob_next_ = 0;
          blobs_seen_.push_back(seq);
        } else if (brc == MDB_NOTFOUND) {
          in_blob_ = false;
          ok = false;
          bad = "its payload blob is missing from `payloads`";
        } else {
          *why = mdb_message("payloads: cannot read", brc);
          return status_of_mdb(brc);
        }
      } else if (!in_blob_ || item.r.blob != blob_key_ || item.r.offset != blob_next_) {
        ok = false;
        bad = "its payload location (blob, offset) does not follow the previous record's";
      }
      if (ok && uint64_t(item.r.offset) + item.r.payload_len > blob_len_) {
        ok = false;
        bad = "its payload runs past the end of its blob";
      }
      if (ok) {
        item.payload = blob_ + item.r.offset;
        blob_next_ = item.r.offset + uint64_t(item.r.payload_len);
      }
    }
    if (!ok) {
      problem(T_RECORDS, int64_t(seq), "records: record " + std::to_string(seq) + ": " + bad);
      Status st = audit_chunk(why);
      if (st != Status::ok) return st;
      TileNodeStore tiles(txn_, dbi(T_TILES), s_.suite(), size_);
      uint8_t leaf[MERKLE_HASH_LEN] = {0};
      tiles.get(0, seq, 1, leaf);
      push_leaf(seq, leaf, false, leaf);
      continue;
    }
    chunk_.push_back(item);
    if (chunk_.size() == kChunk) {
      const Status st = audit_chunk(why);
      if (st != Status::ok) return st;
    }
  }
  if (rc != MDB_NOTFOUND) {
    *why = mdb_message("records: cannot read", rc);
    return status_of_mdb(rc);
  }
  Status st = audit_chunk(why);
  if (st != Status::ok) return st;
  if (expected < size_) {
    // Either the last records were removed or meta/size was raised: name both.
    problem(T_META, -1, "meta/size is " + std::to_string(size_) + " but the records end at " + std::to_string(expected));
    problem(T_RECORDS, int64_t(expected), "records: records " + std::to_string(expected) + ".." + std::to_string(size_ - 1) +
                                              " are missing (meta/size is " + std::to_string(size_) + ")");
    TileNodeStore tiles(txn_, dbi(T_TILES), s_.suite(), size_);
    for (uint64_t missing = expected; missing < size_; ++missing) {
      uint8_t leaf[MERKLE_HASH_LEN] = {0};
      tiles.get(0, missing, 1, leaf);
      push_leaf(missing, leaf, false, leaf);
    }
  }
  if (in_blob_ && blob_next_ != blob_len_)
    problem(T_PAYLOADS, int64_t(blob_key_), "payloads: blob " + std::to_string(blob_key_) + " holds " +
                                                std::to_string(blob_len_) + " bytes, its records " + std::to_string(blob_next_));
  // Every blob is one some record starts.
  MdbCursor blobs;
  rc = blobs.open(txn_, dbi(T_PAYLOADS));
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("payloads: cannot open a cursor", rc);
    return status_of_mdb(rc);
  }
  for (rc = mdb_cursor_get(blobs.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(blobs.get(), &k, &v, MDB_NEXT)) {
    const uint64_t key = k.mv_size == 8 ? get_u64be(static_cast<const uint8_t*>(k.mv_data)) : UINT64_MAX;
    if (!std::binary_search(blobs_seen_.begin(), blobs_seen_.end(), key))
      problem(T_PAYLOADS, k.mv_size == 8 ? int64_t(key) : -1, "payloads: blob " + (k.mv_size == 8 ? std::to_string(key) : std::string("with a malformed key")) + " belongs to no record");
  }
  return Status::ok;
}

// Entries of the indexes that no record has (found by the entry counts, named by a scan).
Status AuditRun::scan_extra_index_entries(std::string* why) {
  MDB_stat st;
  int rc = mdb_stat(txn_, dbi(T_INVOICE_INDEX), &st);
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("invoice_index: cannot stat", rc);
    return status_of_mdb(rc);
  }
  if (st.ms_entries != size_) {
    MdbCursor cursor;
    cursor.open(txn_, dbi(T_INVOICE_INDEX));
    MDB_val k, v;
    for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
      const int64_t seq = v.mv_size == 8 ? int64_t(get_u64be(static_cast<const uint8_t*>(v.mv_data))) : -1;
      bool matches = false;
      if (seq >= 0 && uint64_t(seq) < size_) {
        uint8_t key[8];
        put_u64be(key, uint64_t(seq));
        MDB_val rk = mdb_val(key, 8), rv;
        RecordView r;
        const char* bad = nullptr;
        uint8_t want[INVOICE_INDEX_KEY_MAX];
        if (mdb_get(txn_, dbi(T_RECORDS), &rk, &rv) == MDB_SUCCESS &&
            record_decode(static_cast<const uint8_t*>(rv.mv_data), rv.mv_size, &r, &bad)) {
          const size_t len = invoice_index_key(r.seller_id, r.id, r.id_len, want);
          matches = len == k.mv_size && std::memcmp(want, k.mv_data, len) == 0;
        }
      }
      if (!matches)
        problem(T_INVOICE_INDEX, seq, "invoice_index: an entry (" + std::to_string(k.mv_size) + "-byte key) matches no record");
    }
    if (st.ms_entries != size_)
      problem(T_INVOICE_INDEX, -1, "invoice_index holds " + std::to_string(st.ms_entries) + " entries for " +
                                       std::to_string(size_) + " records");
  }
  const Status by_seller = check_by_seller(why);
  if (by_seller != Status::ok) return by_seller;
  if (records_seen_ != size_ && records_seen_ > size_)
    problem(T_RECORDS, -1, "records holds " + std::to_string(records_seen_) + " entries, meta/size says " + std::to_string(size_));
  return Status::ok;
}

// by_seller, scanned whole: every entry's records exist and have its seller, and every
// record is in exactly one entry.
Status AuditRun::check_by_seller(std::string* why) {
  std::vector<bool> seen(size_t(size_), false);
  MdbCursor cursor;
  int rc = cursor.open(txn_, dbi(T_BY_SELLER));
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("by_seller: cannot open a cursor", rc);
    return status_of_mdb(rc);
  }
  MDB_val k, v;
  for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    if (k.mv_size != 12 || v.mv_size == 0 || v.mv_size % 4 != 0) {
      problem(T_BY_SELLER, -1, "by_seller: an entry with a " + std::to_string(k.mv_size) + "-byte key and a " +
                                   std::to_string(v.mv_size) + "-byte value (keys are 12 bytes, values u32 offsets)");
      continue;
    }
    const uint8_t* kp = static_cast<const uint8_t*>(k.mv_data);
    const uint64_t first = get_u64be(kp);
    const uint32_t seller = get_u32be(kp + 8);
    const uint8_t* p = static_cast<const uint8_t*>(v.mv_data);
    int64_t previous = -1;
    for (size_t i = 0; i < v.mv_size / 4; ++i) {
      const uint32_t offset = get_u32be(p + 4 * i);
      const uint64_t seq = first + offset;
      const std::string where = "by_seller: the entry (" + std::to_string(first) + ", seller " + std::to_string(seller) + ")";
      if (int64_t(offset) <= previous) {
        problem(T_BY_SELLER, seq < size_ ? int64_t(seq) : -1, where + " lists offsets out of order");
      }
      previous = int64_t(offset);
      if (seq >= size_ || seq < first) {
        problem(T_BY_SELLER, -1, where + " lists record " + std::to_string(seq) + ", past the ledger's size");
        continue;
      }
      if (seller_of_seq_[seq] != seller)
        problem(T_BY_SELLER, int64_t(seq), where + " lists record " + std::to_string(seq) + ", whose seller is " +
                                               std::to_string(seller_of_seq_[seq]));
      if (seen[seq])
        problem(T_BY_SELLER, int64_t(seq), where + " lists record " + std::to_string(seq) + " a second time");
      seen[seq] = true;
    }
  }
  if (rc != MDB_NOTFOUND) {
    *why = mdb_message("by_seller: cannot read", rc);
    return status_of_mdb(rc);
  }
  for (uint64_t seq = 0; seq < size_; ++seq)
    if (!seen[seq]) problem(T_BY_SELLER, int64_t(seq), "by_seller: record " + std::to_string(seq) + " is in no entry");
  return Status::ok;
}

Status AuditRun::finish_tiles(std::string* why) {
  // Level 0: the full tiles were compared leaf by leaf; here their widths and the last one.
  TileNodeStore tiles(txn_, dbi(T_TILES), s_.suite(), size_);
  for (unsigned level = 0;; ++level) {
    const uint64_t nodes = level * TILE_HEIGHT < 64 ? size_ >> (level * TILE_HEIGHT) : 0;
    if (nodes == 0) break;
    const uint64_t tile_count = (nodes + TILE_WIDTH - 1) / TILE_WIDTH;
    tiles_expected_ += tile_count;
    if (level == 0) {
      for (uint64_t t = 0; t < tile_count; ++t) {
        const size_t width = size_t(std::min<uint64_t>(TILE_WIDTH, nodes - t * TILE_WIDTH));
        const Status st = check_tile(0, t, nullptr, width, why);
        if (st != Status::ok) return st;
      }
      continue;
    }
    // upper_ holds this level's nodes (nodes of them); compare, then build the next.
    std::vector<uint8_t> next;
    for (uint64_t t = 0; t < tile_count; ++t) {
      const size_t width = size_t(std::min<uint64_t>(TILE_WIDTH, nodes - t * TILE_WIDTH));
      const uint8_t* hashes = upper_.data() + t * TILE_WIDTH * MERKLE_HASH_LEN;
      const Status st = check_tile(level, t, hashes, width, why);
      if (st != Status::ok) return st;
      if (width == TILE_WIDTH) {
        std::vector<uint8_t> a(hashes, hashes + TILE_WIDTH * MERKLE_HASH_LEN), b(TILE_WIDTH / 2 * MERKLE_HASH_LEN);
        for (size_t n = TILE_WIDTH / 2; n >= 1; n /= 2) {
          merkle_hash_parents(s_.suite(), a.data(), n, b.data());
          a.swap(b);
        }
        next.insert(next.end(), a.data(), a.data() + MERKLE_HASH_LEN);
      }
    }
    upper_.swap(next);
  }
  MDB_stat st;
  int rc = mdb_stat(txn_, dbi(T_TILES), &st);
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("tiles: cannot stat", rc);
    return status_of_mdb(rc);
  }
  if (st.ms_entries != tiles_expected_) {
    MdbCursor cursor;
    cursor.open(txn_, dbi(T_TILES));
    MDB_val k, v;
    for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
      bool expected = false;
      if (k.mv_size == 9) {
        const uint8_t* key = static_cast<const uint8_t*>(k.mv_data);
        const unsigned level = key[0];
        const uint64_t index = get_u64be(key + 1);
        const uint64_t nodes = level * TILE_HEIGHT < 64 ? size_ >> (level * TILE_HEIGHT) : 0;
        expected = index < (nodes + TILE_WIDTH - 1) / TILE_WIDTH;
      }
      if (!expected) problem(T_TILES, -1, "tiles: an entry (" + std::to_string(k.mv_size) + "-byte key) the tree of " + std::to_string(size_) + " records does not have");
    }
  }
  // The root, from the tiles just checked.
  MerkleTree tree(s_.suite(), tiles);
  uint8_t root[MERKLE_HASH_LEN];
  if (tree.root(size_, root) != Status::ok) {
    problem(T_TILES, -1, "tiles: the root cannot be computed from the tiles");
  } else if (std::memcmp(root, out_->root, MERKLE_HASH_LEN) != 0) {
    problem(T_META, -1, "meta/root differs from the root of the tree the records give");
  }
  return Status::ok;
}

Status AuditRun::run(std::string* why) {
  bool usable = false;
  Status st = check_meta(&usable, why);
  if (st != Status::ok || !usable) return st;
  st = check_sellers(why);
  if (st != Status::ok) return st;
  st = check_records(why);
  if (st != Status::ok) return st;
  st = scan_extra_index_entries(why);
  if (st != Status::ok) return st;
  return finish_tiles(why);
}

Status LedgerStore::audit(size_t threads, size_t max_problems, AuditResult* out, std::string* why) {
  LEDGER_READ(nullptr, why, {
    *out = AuditResult();
    AuditRun run(*this, txn, threads, max_problems, out);
    Status s = Status::ok;
    const Status g = guarded([&] { s = run.run(why); });
    if (g != Status::ok) return fail(why, g, std::string("audit: ") + lc_strerror(g));
    return s;
  });
}

}  // namespace ledger_core
