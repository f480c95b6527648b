// The write path of the ledger (ledger_store.h has the outline): a batch is prepared
// outside any lock, then written in one transaction.
#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "blake3/blake3.h"
#include "common/thread_pool.h"
#include "ed25519/batch.h"
#include "merkle/merkle_tree.h"
#include "store/ledger_store.h"
#include "store/tile_store.h"

namespace ledger_core {

// What the first phase computes once, whatever the transaction has to be run again for.
struct PreparedBatch {
  size_t count = 0;
  std::vector<uint8_t> reasons;  // after the checks that need no transaction
  std::vector<int64_t> details;
  std::vector<uint8_t> own_payload_hashes;
  const uint8_t* payload_hashes = nullptr;  // 32 per item
  std::vector<uint8_t> leaf_data;
  std::vector<uint64_t> leaf_offsets;  // count + 1
  std::vector<uint8_t> leaf_hashes;    // 32 per item
  uint64_t payload_bytes = 0;          // of the items still good
};

namespace {

constexpr size_t kMinParallelItems = 256;

Status guarded(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  } catch (...) {
    return Status::internal;
  }
  return Status::ok;
}

void reject(PreparedBatch& b, size_t i, uint8_t reason, int64_t detail) {
  b.reasons[i] = reason;
  b.details[i] = detail;
}

// Shape checks, payload hashes, leaf data, signatures, duplicates inside the batch,
// leaf hashes: everything that needs no transaction.
Status prepare(const AppendInput& in, MerkleSuite suite, PreparedBatch& b) {
  const size_t n = in.count;
  b.count = n;
  b.reasons.assign(n, REJECT_OK);
  b.details.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const size_t id_len = in.ids.len[i];
    if (id_len == 0 || id_len > INVOICE_ID_MAX_LEN || !utf8_valid(in.ids.ptr[i], id_len))
      reject(b, i, REJECT_MALFORMED, int64_t(RecordField::invoice_id));
    else if (in.seller_keys.len[i] != SELLER_KEY_LEN)
      reject(b, i, REJECT_MALFORMED, int64_t(RecordField::seller_key));
    else if (in.signatures.len[i] != SIGNATURE_LEN)
      reject(b, i, REJECT_MALFORMED, int64_t(RecordField::signature));
    else if (in.payloads.len[i] > PAYLOAD_MAX_LEN)
      reject(b, i, REJECT_MALFORMED, int64_t(RecordField::payload));
  }

  // Payload hashes, once: they serve the signature and the leaf.
  if (in.payload_hashes != nullptr) {
    b.payload_hashes = in.payload_hashes;
  } else {
    b.own_payload_hashes.resize(n * PAYLOAD_HASH_LEN);
    std::vector<size_t> lens(in.payloads.len);
    for (size_t i = 0; i < n; ++i)
      if (b.reasons[i] != REJECT_OK) lens[i] = 0;  // a malformed item's payload is not read
    uint8_t* out = b.own_payload_hashes.data();
    const Status s = guarded([&] {
      parallel_for(n, in.threads, kMinParallelItems, [&](size_t lo, size_t hi) {
        blake3_hash_list(in.payloads.ptr.data() + lo, lens.data() + lo, hi - lo, invoice_payload_key(),
                         out + lo * PAYLOAD_HASH_LEN);
      });
    });
    if (s != Status::ok) return s;
    b.payload_hashes = out;
  }

  // Leaf data M | seller_key | signature; M is its prefix.
  b.leaf_offsets.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i)
    b.leaf_offsets[i + 1] = b.leaf_offsets[i] + (b.reasons[i] == REJECT_OK ? LEAF_FIXED_LEN + in.ids.len[i] : 0);
  b.leaf_data.resize(b.leaf_offsets[n]);
  Status s = guarded([&] {
    parallel_for(n, in.threads, 4 * kMinParallelItems, [&](size_t lo, size_t hi) {
      for (size_t i = lo; i < hi; ++i) {
        if (b.reasons[i] != REJECT_OK) continue;
        uint8_t* p = b.leaf_data.data() + b.leaf_offsets[i];
        p += invoice_envelope(in.ids.ptr[i], in.ids.len[i], in.issued_at[i], b.payload_hashes + i * PAYLOAD_HASH_LEN, p);
        std::memcpy(p, in.seller_keys.ptr[i], SELLER_KEY_LEN);
        std::memcpy(p + SELLER_KEY_LEN, in.signatures.ptr[i], SIGNATURE_LEN);
      }
    });
  });
  if (s != Status::ok) return s;

  if (in.verify) {
    std::vector<size_t> items;
    for (size_t i = 0; i < n; ++i)
      if (b.reasons[i] == REJECT_OK) items.push_back(i);
    const size_t m = items.size();
    if (m > 0) {
      std::vector<uint8_t> keys(m * SELLER_KEY_LEN), sigs(m * SIGNATURE_LEN), verdicts(m);
      std::vector<const uint8_t*> messages(m);
      std::vector<size_t> lengths(m);
      for (size_t j = 0; j < m; ++j) {
        const size_t i = items[j];
        std::memcpy(&keys[j * SELLER_KEY_LEN], in.seller_keys.ptr[i], SELLER_KEY_LEN);
        std::memcpy(&sigs[j * SIGNATURE_LEN], in.signatures.ptr[i], SIGNATURE_LEN);
        messages[j] = b.leaf_data.data() + b.leaf_offsets[i];
        lengths[j] = ENVELOPE_FIXED_LEN + in.ids.len[i];
      }
      MessageList list;
      list.pointers = messages.data();
      list.lengths = lengths.data();
      s = ed25519_verify_batch(keys.data(), list, sigs.data(), m, in.threads, MsmMethod::automatic, verdicts.data());
      if (s != Status::ok) return s;
      for (size_t j = 0; j < m; ++j)
        if (verdicts[j] != uint8_t(VerifyReason::ok)) reject(b, items[j], verdicts[j], 0);
    }
  }

  // Duplicates inside the batch: the first good item of each (seller, id) stays.
  {
    std::vector<size_t> order;
    for (size_t i = 0; i < n; ++i)
      if (b.reasons[i] == REJECT_OK) order.push_back(i);
    auto less = [&](size_t x, size_t y) {
      const int c = std::memcmp(in.seller_keys.ptr[x], in.seller_keys.ptr[y], SELLER_KEY_LEN);
      if (c != 0) return c < 0;
      const size_t lx = in.ids.len[x], ly = in.ids.len[y];
      const int d = std::memcmp(in.ids.ptr[x], in.ids.ptr[y], std::min(lx, ly));
      if (d != 0) return d < 0;
      if (lx != ly) return lx < ly;
      return x < y;
    };
    std::sort(order.begin(), order.end(), less);
    for (size_t k = 1, first = 0; k < order.size(); ++k) {
      const size_t x = order[first], y = order[k];
      const bool same = std::memcmp(in.seller_keys.ptr[x], in.seller_keys.ptr[y], SELLER_KEY_LEN) == 0 &&
                        in.ids.len[x] == in.ids.len[y] &&
                        std::memcmp(in.ids.ptr[x], in.ids.ptr[y], in.ids.len[x]) == 0;
      if (same)
        reject(b, y, REJECT_DUPLICATE_IN_BATCH, int64_t(x));
      else
        first = k;
    }
  }

  // Leaf hashes (malformed items have empty leaf data: hashed, never used).
  b.leaf_hashes.resize(n * MERKLE_HASH_LEN);
  VarItems leaves;
  leaves.buffer = b.leaf_data.data();
  leaves.buffer_len = b.leaf_data.size();
  leaves.offsets = b.leaf_offsets.data();
  leaves.count = n;
  s = guarded([&] {
    parallel_for(n, in.threads, kMinParallelItems, [&](size_t lo, size_t hi) {
      VarItems part = leaves;
      part.offsets = leaves.offsets + lo;
      part.count = hi - lo;
      merkle_hash_leaves(suite, part, b.leaf_hashes.data() + lo * MERKLE_HASH_LEN);
    });
  });
  if (s != Status::ok) return s;
  for (size_t i = 0; i < n; ++i)
    if (b.reasons[i] == REJECT_OK) b.payload_bytes += in.payloads.len[i];
  return Status::ok;
}

Status put_or_full(MDB_txn* txn, MDB_dbi dbi, MDB_val* k, MDB_val* v, unsigned flags, const std::string& what,
                   std::string* why) {
  const int rc = mdb_put(txn, dbi, k, v, flags);
  if (rc == MDB_SUCCESS) return Status::ok;
  if (rc == MDB_MAP_FULL) return Status::map_full;
  *why = mdb_message(what, rc);
  if (rc == MDB_KEYEXIST) return Status::corrupted;  // checked before: the table disagrees with itself
  return status_of_mdb(rc);
}

}  // namespace

Status LedgerStore::write_batch(MDB_txn* txn, const AppendInput& in, PreparedBatch& b, AppendResult* out,
                                std::string* why) {
  const size_t n = b.count;
  out->reasons = b.reasons;
  out->details = b.details;
  std::vector<uint8_t>& reasons = out->reasons;
  std::vector<int64_t>& details = out->details;

  uint64_t first = 0;
  Status s = read_meta(txn, &first, out->root, why);
  if (s != Status::ok) return s;
  out->first_seq = first;
  out->size = first;
  out->appended = 0;

  // Seller ids: known ones from seller_ids; new ones get ids once the batch is accepted.
  constexpr uint32_t kNewSeller = UINT32_MAX;
  std::unordered_map<std::string, uint32_t> seller_ids;
  std::vector<uint32_t> item_seller(n, kNewSeller);
  for (size_t i = 0; i < n; ++i) {
    if (reasons[i] != REJECT_OK) continue;
    std::string key(reinterpret_cast<const char*>(in.seller_keys.ptr[i]), SELLER_KEY_LEN);
    auto found = seller_ids.find(key);
    if (found == seller_ids.end()) {
      MDB_val k = mdb_val(key.data(), key.size()), v;
      const int rc = mdb_get(txn, dbi_[T_SELLER_IDS], &k, &v);
      uint32_t id = kNewSeller;
      if (rc == MDB_SUCCESS) {
        if (v.mv_size != 4) {
          *why = "seller_ids: an id is not 4 bytes";
          return Status::corrupted;
        }
        id = get_u32be(static_cast<const uint8_t*>(v.mv_data));
      } else if (rc != MDB_NOTFOUND) {
        *why = mdb_message("seller_ids: cannot read", rc);
        return status_of_mdb(rc);
      }
      found = seller_ids.emplace(std::move(key), id).first;
    }
    item_seller[i] = found->second;
  }

  // Duplicates against the ledger: only a known seller can have one.
  uint8_t index_key[INVOICE_INDEX_KEY_MAX];
  for (size_t i = 0; i < n; ++i) {
    if (reasons[i] != REJECT_OK || item_seller[i] == kNewSeller) continue;
    MDB_val k = mdb_val(index_key, invoice_index_key(item_seller[i], in.ids.ptr[i], in.ids.len[i], index_key)), v;
    const int rc = mdb_get(txn, dbi_[T_INVOICE_INDEX], &k, &v);
    if (rc == MDB_SUCCESS) {
      if (v.mv_size != 8) {
        *why = "invoice_index: a seq is not 8 bytes";
        return Status::corrupted;
      }
      reasons[i] = REJECT_DUPLICATE_IN_LEDGER;
      details[i] = int64_t(get_u64be(static_cast<const uint8_t*>(v.mv_data)));
    } else if (rc != MDB_NOTFOUND) {
      *why = mdb_message("invoice_index: cannot read", rc);
      return status_of_mdb(rc);
    }
  }

  std::vector<size_t> good;
  for (size_t i = 0; i < n; ++i)
    if (reasons[i] == REJECT_OK) good.push_back(i);
  if (good.empty() || (!in.skip && good.size() != n)) return Status::ok;  // nothing written: an empty commit
  const size_t m = good.size();

  // New sellers, numbered in order of first appearance.
  MDB_stat seller_stat;
  int rc = mdb_stat(txn, dbi_[T_SELLERS], &seller_stat);
  if (rc != MDB_SUCCESS) {
    *why = mdb_message("sellers: cannot stat", rc);
    return status_of_mdb(rc);
  }
  uint32_t next_seller = uint32_t(seller_stat.ms_entries);
  for (size_t i : good) {
    if (item_seller[i] != kNewSeller) continue;
    std::string key(reinterpret_cast<const char*>(in.seller_keys.ptr[i]), SELLER_KEY_LEN);
    uint32_t& id = seller_ids[key];
    if (id == kNewSeller) {
      id = next_seller++;
      uint8_t id_bytes[4];
      put_u32be(id_bytes, id);
      MDB_val k = mdb_val(id_bytes, 4), v = mdb_val(key.data(), SELLER_KEY_LEN);
      s = put_or_full(txn, dbi_[T_SELLERS], &k, &v, MDB_APPEND, "sellers: cannot add seller " + std::to_string(id), why);
      if (s != Status::ok) return s;
      k = mdb_val(key.data(), SELLER_KEY_LEN);
      v = mdb_val(id_bytes, 4);
      s = put_or_full(txn, dbi_[T_SELLER_IDS], &k, &v, MDB_NOOVERWRITE, "seller_ids: cannot add seller " + std::to_string(id), why);
      if (s != Status::ok) return s;
    }
    item_seller[i] = id;
  }

  // Payload blobs: where each good item's payload goes.
  std::vector<uint64_t> blob_of(m);
  std::vector<uint32_t> offset_of(m);
  struct Blob {
    size_t first, end;  // positions in `good`
    uint64_t bytes;
  };
  std::vector<Blob> blobs;
  for (size_t j = 0; j < m; ++j) {
    const size_t len = in.payloads.len[good[j]];
    if (blobs.empty() || blobs.back().bytes >= PAYLOAD_BLOB_TARGET) blobs.push_back(Blob{j, j, 0});
    Blob& blob = blobs.back();
    blob_of[j] = first + blob.first;
    offset_of[j] = uint32_t(blob.bytes);
    blob.bytes += len;
    blob.end = j + 1;
  }
  for (const Blob& blob : blobs) {
    uint8_t key[8];
    put_u64be(key, first + blob.first);
    MDB_val k = mdb_val(key, 8), v = mdb_val(nullptr, size_t(blob.bytes));
    s = put_or_full(txn, dbi_[T_PAYLOADS], &k, &v, MDB_APPEND | MDB_RESERVE,
                    "payloads: cannot add blob " + std::to_string(first + blob.first), why);
    if (s != Status::ok) return s;
    uint8_t* dst = static_cast<uint8_t*>(v.mv_data);
    for (size_t j = blob.first; j < blob.end; ++j) {
      const size_t i = good[j], len = in.payloads.len[i];
      if (len) std::memcpy(dst + offset_of[j], in.payloads.ptr[i], len);
    }
  }

  // Records, in seq order (appended at the end of the table).
  uint8_t record[RECORD_FIXED_LEN + INVOICE_ID_MAX_LEN];
  for (size_t j = 0; j < m; ++j) {
    const size_t i = good[j];
    RecordView r;
    r.issued_at = in.issued_at[i];
    r.seller_id = item_seller[i];
    r.blob = blob_of[j];
    r.offset = offset_of[j];
    r.payload_len = uint32_t(in.payloads.len[i]);
    r.signature = in.signatures.ptr[i];
    r.id = in.ids.ptr[i];
    r.id_len = in.ids.len[i];
    uint8_t key[8];
    put_u64be(key, first + j);
    MDB_val k = mdb_val(key, 8), v = mdb_val(record, record_encode(r, record));
    s = put_or_full(txn, dbi_[T_RECORDS], &k, &v, MDB_APPEND, "records: cannot add record " + std::to_string(first + j), why);
    if (s != Status::ok) return s;
  }

  // Both indexes, each in key order (a B-tree fills best that way).
  std::vector<size_t> order(m);
  for (size_t j = 0; j < m; ++j) order[j] = j;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const size_t ix = good[x], iy = good[y];
    if (item_seller[ix] != item_seller[iy]) return item_seller[ix] < item_seller[iy];
    const size_t lx = in.ids.len[ix], ly = in.ids.len[iy];
    const int c = std::memcmp(in.ids.ptr[ix], in.ids.ptr[iy], std::min(lx, ly));
    return c != 0 ? c < 0 : lx < ly;
  });
  for (size_t j : order) {
    const size_t i = good[j];
    uint8_t seq[8];
    put_u64be(seq, first + j);
    MDB_val k = mdb_val(index_key, invoice_index_key(item_seller[i], in.ids.ptr[i], in.ids.len[i], index_key));
    MDB_val v = mdb_val(seq, 8);
    s = put_or_full(txn, dbi_[T_INVOICE_INDEX], &k, &v, MDB_NOOVERWRITE,
                    "invoice_index: cannot add record " + std::to_string(first + j), why);
    if (s != Status::ok) return s;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return item_seller[good[x]] != item_seller[good[y]] ? item_seller[good[x]] < item_seller[good[y]] : x < y;
  });
  for (size_t j : order) {
    uint8_t seller[4], seq[8];
    put_u32be(seller, item_seller[good[j]]);
    put_u64be(seq, first + j);
    MDB_val k = mdb_val(seller, 4), v = mdb_val(seq, 8);
    s = put_or_full(txn, dbi_[T_BY_SELLER], &k, &v, MDB_APPENDDUP, "by_seller: cannot add record " + std::to_string(first + j), why);
    if (s != Status::ok) return s;
  }

  // The tree: leaf hashes in, tiles out, then size and root.
  std::vector<uint8_t> leaf_hashes(m * MERKLE_HASH_LEN);
  for (size_t j = 0; j < m; ++j)
    std::memcpy(&leaf_hashes[j * MERKLE_HASH_LEN], &b.leaf_hashes[good[j] * MERKLE_HASH_LEN], MERKLE_HASH_LEN);
  TileNodeStore store(txn, dbi_[T_TILES], suite_, first);
  MerkleTree tree(suite_, store);
  s = tree.append_hashes(leaf_hashes.data(), m, in.threads);
  if (s == Status::ok) s = tree.root(first + m, out->root);
  if (s != Status::ok) {
    if (store.last_mdb_error() == MDB_MAP_FULL) return Status::map_full;
    *why = store.last_mdb_error() ? mdb_message("tiles: cannot write", store.last_mdb_error())
                                  : std::string("tiles: cannot extend the tree: ") + lc_strerror(s);
    return s;
  }
  uint8_t size_bytes[8];
  put_u64be(size_bytes, first + m);
  MDB_val k = mdb_val("size", 4), v = mdb_val(size_bytes, 8);
  s = put_or_full(txn, dbi_[T_META], &k, &v, 0, "meta: cannot write size", why);
  if (s != Status::ok) return s;
  k = mdb_val("root", 4);
  v = mdb_val(out->root, MERKLE_HASH_LEN);
  s = put_or_full(txn, dbi_[T_META], &k, &v, 0, "meta: cannot write root", why);
  if (s != Status::ok) return s;
  out->appended = m;
  out->size = first + m;
  return Status::ok;
}

Status LedgerStore::append(const AppendInput& in, AppendResult* out, std::string* why) {
  Status s = usable(why);
  if (s != Status::ok) return s;
  if (readonly_) {
    *why = "the ledger at " + path_ + " is open read-only (readonly=True)";
    return Status::read_only;
  }
  PreparedBatch batch;
  Status prepared = Status::ok;
  {
    const Status g = guarded([&] { prepared = prepare(in, suite_, batch); });
    if (g != Status::ok) prepared = g;
  }
  if (prepared != Status::ok) {
    *why = std::string("cannot prepare the batch: ") + lc_strerror(prepared);
    return prepared;
  }
  const size_t size_hint = size_t(batch.payload_bytes) + in.count * 400;
  auto body = [&](MDB_txn* txn) -> Status {
    Status w = Status::ok;
    const Status g = guarded([&] { w = write_batch(txn, in, batch, out, why); });
    return g != Status::ok ? g : w;
  };
  return write_txn(size_hint, body, why);
}

}  // namespace ledger_core
