// The write path of the ledger (ledger_store.h has the outline).
//
// A batch is cut into chunks of APPEND_CHUNK items. A preparer thread works through the
// chunks in order, outside any lock: payload hashes, leaf data (M is its prefix), Ed25519
// batch verification over VERIFY_CHUNKS chunks at a time, leaf hashes. The caller takes
// the writer mutex,
// begins the one write transaction and writes each chunk as soon as it is prepared,
// so signatures of chunk k + 1 are checked while chunk k goes into LMDB, and a batch
// waiting for another's commit prepares meanwhile.
//
//     preparer:  [prep 0][prep 1][prep 2][prep 3]
//     writer:     (mutex) [write 0][write 1][write 2][write 3][tree, meta, commit]
//
// Writing a chunk decides each item in batch order: malformed or bad signature (from the
// preparer), a duplicate of an earlier item of the batch (a map of this batch's keys),
// a duplicate already in the ledger (invoice_index, read in the transaction), else
// accepted with the next seq. With on_invalid="reject" the first rejection stops the
// writes but not the decisions (the report lists every bad item) and the transaction is
// aborted: nothing is written. A full map aborts, grows and writes the prepared chunks
// again; nothing is hashed or verified twice.
//
// prepare() and append_prepared() split the same work for a caller that pipelines whole
// batches: it prepares batch k + 1 on one thread while batch k is written and synced on
// another, so the commit's fdatasync no longer leaves the cores idle.
//
//     prepare:   [prep k+1 ...........]      [prep k+2 ...........]
//     write:     [write k][tree][commit]      [write k+1][tree][commit]
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
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

namespace {

// Items per chunk: large enough for batch verification's efficiency (the MSM cost per
// item flattens out past a few thousand), small enough that the first write starts soon.
constexpr size_t APPEND_CHUNK = 4096;
// Chunks whose signatures are checked in one batch verification (16384 signatures).
constexpr size_t VERIFY_CHUNKS = 4;
constexpr size_t kMinParallelItems = 256;

// What the preparer computes for items [begin, end).
struct PreparedChunk {
  size_t begin = 0, end = 0;
  std::vector<uint8_t> reasons;  // REJECT_OK, REJECT_MALFORMED or a VerifyReason
  std::vector<int64_t> details;
  std::vector<uint8_t> own_payload_hashes;
  const uint8_t* payload_hashes = nullptr;  // of item begin
  std::vector<uint8_t> leaf_data;
  std::vector<uint64_t> leaf_offsets;
  std::vector<uint8_t> leaf_hashes;
};

void reject(PreparedChunk& c, size_t j, uint8_t reason, int64_t detail) {
  c.reasons[j] = reason;
  c.details[j] = detail;
}

// Step 1 of preparing a chunk: field rules, payload hashes, leaf data (M is its prefix).
void prepare_fields(const AppendInput& in, PreparedChunk& c) {
  const size_t n = c.end - c.begin, b = c.begin;
  c.reasons.assign(n, REJECT_OK);
  c.details.assign(n, 0);
  for (size_t j = 0; j < n; ++j) {
    const size_t i = b + j, id_len = in.ids.len[i];
    if (id_len == 0 || id_len > INVOICE_ID_MAX_LEN || !utf8_valid(in.ids.ptr[i], id_len))
      reject(c, j, REJECT_MALFORMED, int64_t(RecordField::invoice_id));
    else if (in.seller_keys.len[i] != SELLER_KEY_LEN)
      reject(c, j, REJECT_MALFORMED, int64_t(RecordField::seller_key));
    else if (in.signatures.len[i] != SIGNATURE_LEN)
      reject(c, j, REJECT_MALFORMED, int64_t(RecordField::signature));
    else if (in.payloads.len[i] > PAYLOAD_MAX_LEN)
      reject(c, j, REJECT_MALFORMED, int64_t(RecordField::payload));
  }
  // Payload hashes, once: they serve the signature and the leaf.
  if (in.payload_hashes != nullptr) {
    c.payload_hashes = in.payload_hashes + b * PAYLOAD_HASH_LEN;
  } else {
    c.own_payload_hashes.resize(n * PAYLOAD_HASH_LEN);
    std::vector<size_t> lens(in.payloads.len.begin() + b, in.payloads.len.begin() + c.end);
    for (size_t j = 0; j < n; ++j)
      if (c.reasons[j] != REJECT_OK) lens[j] = 0;  // a malformed item's payload is not read
    uint8_t* out = c.own_payload_hashes.data();
    parallel_for(n, in.threads, kMinParallelItems, [&](size_t lo, size_t hi) {
      blake3_hash_list(in.payloads.ptr.data() + b + lo, lens.data() + lo, hi - lo, invoice_payload_key(),
                       out + lo * PAYLOAD_HASH_LEN);
    });
    c.payload_hashes = out;
  }
  // Leaf data M | seller_key | signature.
  c.leaf_offsets.assign(n + 1, 0);
  for (size_t j = 0; j < n; ++j)
    c.leaf_offsets[j + 1] = c.leaf_offsets[j] + (c.reasons[j] == REJECT_OK ? LEAF_FIXED_LEN + in.ids.len[b + j] : 0);
  c.leaf_data.resize(c.leaf_offsets[n]);
  for (size_t j = 0; j < n; ++j) {
    if (c.reasons[j] != REJECT_OK) continue;
    const size_t i = b + j;
    uint8_t* p = c.leaf_data.data() + c.leaf_offsets[j];
    p += invoice_envelope(in.ids.ptr[i], in.ids.len[i], in.issued_at[i], c.payload_hashes + j * PAYLOAD_HASH_LEN, p);
    std::memcpy(p, in.seller_keys.ptr[i], SELLER_KEY_LEN);
    std::memcpy(p + SELLER_KEY_LEN, in.signatures.ptr[i], SIGNATURE_LEN);
  }
}

// Step 2: Ed25519 batch verification of the well-formed items of `count` consecutive
// chunks in one call: the MSM's cost per signature falls as a batch holds more
// signatures per distinct signer (a tax authority's feed repeats its sellers).
Status verify_chunks(const AppendInput& in, PreparedChunk* chunks, size_t count) {
  if (!in.verify) return Status::ok;
  std::vector<std::pair<PreparedChunk*, size_t>> items;
  for (size_t g = 0; g < count; ++g)
    for (size_t j = 0; j < chunks[g].end - chunks[g].begin; ++j)
      if (chunks[g].reasons[j] == REJECT_OK) items.emplace_back(&chunks[g], j);
  const size_t m = items.size();
  if (m == 0) return Status::ok;
  std::vector<uint8_t> keys(m * SELLER_KEY_LEN), sigs(m * SIGNATURE_LEN), verdicts(m);
  std::vector<const uint8_t*> messages(m);
  std::vector<size_t> lengths(m);
  for (size_t k = 0; k < m; ++k) {
    PreparedChunk& c = *items[k].first;
    const size_t j = items[k].second, i = c.begin + j;
    std::memcpy(&keys[k * SELLER_KEY_LEN], in.seller_keys.ptr[i], SELLER_KEY_LEN);
    std::memcpy(&sigs[k * SIGNATURE_LEN], in.signatures.ptr[i], SIGNATURE_LEN);
    messages[k] = c.leaf_data.data() + c.leaf_offsets[j];
    lengths[k] = ENVELOPE_FIXED_LEN + in.ids.len[i];
  }
  MessageList list;
  list.pointers = messages.data();
  list.lengths = lengths.data();
  const Status s =
      ed25519_verify_batch(keys.data(), list, sigs.data(), m, in.threads, MsmMethod::automatic, verdicts.data());
  if (s != Status::ok) return s;
  for (size_t k = 0; k < m; ++k)
    if (verdicts[k] != uint8_t(VerifyReason::ok)) reject(*items[k].first, items[k].second, verdicts[k], 0);
  return Status::ok;
}

// Step 3: leaf hashes.
void hash_leaves(const AppendInput& in, MerkleSuite suite, PreparedChunk& c) {
  const size_t n = c.end - c.begin;
  // Leaf hashes (rejected items have empty leaf data: hashed, never used).
  c.leaf_hashes.resize(n * MERKLE_HASH_LEN);
  VarItems leaves;
  leaves.buffer = c.leaf_data.data();
  leaves.buffer_len = c.leaf_data.size();
  leaves.offsets = c.leaf_offsets.data();
  leaves.count = n;
  parallel_for(n, in.threads, kMinParallelItems, [&](size_t lo, size_t hi) {
    VarItems part = leaves;
    part.offsets = leaves.offsets + lo;
    part.count = hi - lo;
    merkle_hash_leaves(suite, part, c.leaf_hashes.data() + lo * MERKLE_HASH_LEN);
  });
}


}  // namespace

// The chunks of a batch, prepared in order: on a thread of its own while the writer
// takes them (append), or all at once by the caller (prepare); wait(k) returns once
// chunk k is ready.
struct PreparedBatch {
  PreparedBatch(const AppendInput& in, MerkleSuite suite) : in_(in), suite_(suite) {
    for (size_t b = 0; b < in.count; b += APPEND_CHUNK) {
      chunks_.emplace_back();
      chunks_.back().begin = b;
      chunks_.back().end = std::min(in.count, b + APPEND_CHUNK);
    }
  }
  ~PreparedBatch() { join(); }
  PreparedBatch(const PreparedBatch&) = delete;
  PreparedBatch& operator=(const PreparedBatch&) = delete;

  // Prepares on a new thread (inline for a one-chunk batch); an error when the thread
  // cannot start.
  Status start() {
    if (chunks_.size() <= 1) return run_all();
    return guarded([&] { thread_ = std::thread([this] { run_all(); }); });
  }

  Status run_all() {
    Status s = Status::ok;
    for (size_t k = 0; k < chunks_.size() && s == Status::ok; k += VERIFY_CHUNKS) {
      const size_t count = std::min(VERIFY_CHUNKS, chunks_.size() - k);
      Status prepared = Status::ok;
      const Status g = guarded([&] {
        for (size_t x = k; x < k + count; ++x) prepare_fields(in_, chunks_[x]);
        prepared = verify_chunks(in_, &chunks_[k], count);
        if (prepared == Status::ok)
          for (size_t x = k; x < k + count; ++x) hash_leaves(in_, suite_, chunks_[x]);
      });
      s = g != Status::ok ? g : prepared;
      std::lock_guard<std::mutex> lock(mutex_);
      if (s == Status::ok) ready_ += count;
      status_ = s;
      ready_cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
    ready_cv_.notify_all();
    return s;
  }

  Status wait(size_t k, PreparedChunk** out) {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_ > k || status_ != Status::ok || done_; });
    if (ready_ <= k) return status_ != Status::ok ? status_ : Status::internal;
    *out = &chunks_[k];
    return Status::ok;
  }

  bool fits(const AppendInput& in, MerkleSuite suite) const { return &in == &in_ && suite == suite_; }
  size_t chunk_count() const { return chunks_.size(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  const AppendInput& in_;
  MerkleSuite suite_;
  std::vector<PreparedChunk> chunks_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable ready_cv_;
  size_t ready_ = 0;
  bool done_ = false;
  Status status_ = Status::ok;
};

void PreparedBatchFree::operator()(PreparedBatch* batch) const { delete batch; }

Status check_invoices(const AppendInput& in, MerkleSuite suite, InvoiceCheck* out, std::string* why) {
  PreparedBatch batch(in, suite);
  Status s = batch.run_all();
  if (s != Status::ok) return fail(why, s, std::string("cannot check the batch: ") + lc_strerror(s));
  return guarded([&] {
    out->reasons.assign(in.count, REJECT_OK);
    out->details.assign(in.count, 0);
    out->payload_hashes.assign(in.count * PAYLOAD_HASH_LEN, 0);
    out->leaf_hashes.assign(in.count * MERKLE_HASH_LEN, 0);
    for (size_t k = 0; k < batch.chunk_count(); ++k) {
      PreparedChunk* c = nullptr;
      batch.wait(k, &c);
      for (size_t j = 0; j < c->end - c->begin; ++j) {
        const size_t i = c->begin + j;
        out->reasons[i] = c->reasons[j];
        out->details[i] = c->details[j];
        if (c->reasons[j] == REJECT_MALFORMED) continue;
        std::memcpy(&out->payload_hashes[i * PAYLOAD_HASH_LEN], c->payload_hashes + j * PAYLOAD_HASH_LEN,
                    PAYLOAD_HASH_LEN);
        std::memcpy(&out->leaf_hashes[i * MERKLE_HASH_LEN], &c->leaf_hashes[j * MERKLE_HASH_LEN], MERKLE_HASH_LEN);
      }
    }
  });
}

namespace {

Status put_or_full(MDB_txn* txn, MDB_dbi dbi, MDB_val* k, MDB_val* v, unsigned flags, const std::string& what,
                   std::string* why) {
  const int rc = mdb_put(txn, dbi, k, v, flags);
  if (rc == MDB_SUCCESS) return Status::ok;
  if (rc == MDB_MAP_FULL) return Status::map_full;
  *why = mdb_message(what, rc);
  if (rc == MDB_KEYEXIST) return Status::corrupted;  // checked before: the table disagrees with itself
  return status_of_mdb(rc);
}

// put_or_full through a cursor; the message (what + " " + seq) is built only on failure.
Status cursor_put_or_full(MDB_cursor* cursor, MDB_val* k, MDB_val* v, unsigned flags, const char* what, uint64_t seq,
                          std::string* why) {
  const int rc = mdb_cursor_put(cursor, k, v, flags);
  if (rc == MDB_SUCCESS) return Status::ok;
  if (rc == MDB_MAP_FULL) return Status::map_full;
  *why = mdb_message(std::string(what) + " " + std::to_string(seq), rc);
  if (rc == MDB_KEYEXIST) return Status::corrupted;  // checked before: the table disagrees with itself
  return status_of_mdb(rc);
}

// Keys of the writer's maps, pointing into the batch's input (alive for the whole
// append): no allocation per item.
struct SellerRef {
  const uint8_t* key;  // 32 bytes
};
struct SellerRefHash {
  size_t operator()(const SellerRef& s) const {
    return std::hash<std::string_view>()(std::string_view(reinterpret_cast<const char*>(s.key), SELLER_KEY_LEN));
  }
};
struct SellerRefEq {
  bool operator()(const SellerRef& a, const SellerRef& b) const {
    return std::memcmp(a.key, b.key, SELLER_KEY_LEN) == 0;
  }
};
struct InvoiceRef {  // (seller key, invoice id): the uniqueness key
  const uint8_t* seller;
  const uint8_t* id;
  size_t id_len;
};
struct InvoiceRefHash {
  size_t operator()(const InvoiceRef& r) const {
    const size_t h = std::hash<std::string_view>()(std::string_view(reinterpret_cast<const char*>(r.id), r.id_len));
    return h ^ (SellerRefHash()(SellerRef{r.seller}) * 0x9E3779B97F4A7C15ull);
  }
};
struct InvoiceRefEq {
  bool operator()(const InvoiceRef& a, const InvoiceRef& b) const {
    return a.id_len == b.id_len && std::memcmp(a.id, b.id, a.id_len) == 0 &&
           std::memcmp(a.seller, b.seller, SELLER_KEY_LEN) == 0;
  }
};

// One run of the write transaction over the prepared chunks.
class BatchWriter {
 public:
  BatchWriter(MDB_txn* txn, const MDB_dbi* dbi, MerkleSuite suite, const AppendInput& in, AppendResult* out,
              std::string* why)
      : txn_(txn), dbi_(dbi), suite_(suite), in_(in), out_(out), why_(why) {}

  Status begin(uint64_t first) {
    first_ = first;
    next_seq_ = first;
    out_->reasons.assign(in_.count, REJECT_OK);
    out_->details.assign(in_.count, 0);
    MDB_stat st;
    int rc = mdb_stat(txn_, dbi_[T_SELLERS], &st);
    if (rc != MDB_SUCCESS) return mdb_fail(why_, rc, "sellers: cannot stat");
    next_seller_ = uint32_t(st.ms_entries);
    for (auto& [cursor, table] : {std::pair<MdbCursor*, unsigned>{&records_, T_RECORDS}, {&index_, T_INVOICE_INDEX},
                                  {&index_lookup_, T_INVOICE_INDEX}, {&by_seller_, T_BY_SELLER}}) {
      rc = cursor->open(txn_, dbi_[table]);
      if (rc != MDB_SUCCESS) return mdb_fail(why_, rc, std::string(table_name(table)) + ": cannot open a cursor");
    }
    guarded([&] { batch_keys_.reserve(in_.count); });
    return Status::ok;
  }

  Status write_chunk(const PreparedChunk& c);
  Status finish(uint8_t root[MERKLE_HASH_LEN]);
  bool failed() const { return failed_; }
  uint64_t appended() const { return next_seq_ - first_; }

 private:
  Status seller_id(size_t i, uint32_t* id);

  MDB_txn* txn_;
  const MDB_dbi* dbi_;
  MerkleSuite suite_;
  const AppendInput& in_;
  AppendResult* out_;
  std::string* why_;
  uint64_t first_ = 0, next_seq_ = 0;
  uint32_t next_seller_ = 0;
  bool failed_ = false;  // reject mode saw a bad item: decide the rest, write nothing more
  std::unordered_map<SellerRef, uint32_t, SellerRefHash, SellerRefEq> sellers_;  // id (known or new in this batch)
  std::unordered_map<InvoiceRef, size_t, InvoiceRefHash, InvoiceRefEq> batch_keys_;  // position, of accepted items
  // One cursor per table written item by item: a cursor keeps its place, so appends and
  // the sorted index inserts do not descend the tree from the root each time.
  MdbCursor records_, index_, index_lookup_, by_seller_;
  std::vector<uint8_t> leaf_hashes_;                   // of the appended records, in seq order
};

// The seller id of item i: known, or the next one (written at once unless failing).
Status BatchWriter::seller_id(size_t i, uint32_t* id) {
  const SellerRef key{in_.seller_keys.ptr[i]};
  auto found = sellers_.find(key);
  if (found != sellers_.end()) {
    *id = found->second;
    return Status::ok;
  }
  MDB_val k = mdb_val(key.key, SELLER_KEY_LEN), v;
  const int rc = mdb_get(txn_, dbi_[T_SELLER_IDS], &k, &v);
  if (rc == MDB_SUCCESS) {
    if (v.mv_size != 4) return fail(why_, Status::corrupted, "seller_ids: an id is not 4 bytes");
    *id = get_u32be(static_cast<const uint8_t*>(v.mv_data));
  } else if (rc == MDB_NOTFOUND) {
    *id = UINT32_MAX;  // unknown: numbered when its first item is accepted
    return Status::ok;
  } else {
    return mdb_fail(why_, rc, "seller_ids: cannot read");
  }
  sellers_.emplace(key, *id);
  return Status::ok;
}

Status BatchWriter::write_chunk(const PreparedChunk& c) {
  const size_t n = c.end - c.begin;
  std::vector<size_t> accepted;  // chunk positions j, in order
  std::vector<uint32_t> seller_of(n, 0);
  uint8_t index_key[INVOICE_INDEX_KEY_MAX];
  for (size_t j = 0; j < n; ++j) {
    const size_t i = c.begin + j;
    if (c.reasons[j] != REJECT_OK) {
      out_->reasons[i] = c.reasons[j];
      out_->details[i] = c.details[j];
      failed_ = failed_ || !in_.skip;
      continue;
    }
    const InvoiceRef key{in_.seller_keys.ptr[i], in_.ids.ptr[i], in_.ids.len[i]};
    auto earlier = batch_keys_.find(key);
    if (earlier != batch_keys_.end()) {
      out_->reasons[i] = REJECT_DUPLICATE_IN_BATCH;
      out_->details[i] = int64_t(earlier->second);
      failed_ = failed_ || !in_.skip;
      continue;
    }
    uint32_t id = 0;
    Status s = seller_id(i, &id);
    if (s != Status::ok) return s;
    if (id != UINT32_MAX) {
      MDB_val k = mdb_val(index_key, invoice_index_key(id, in_.ids.ptr[i], in_.ids.len[i], index_key)), v;
      const int rc = mdb_cursor_get(index_lookup_.get(), &k, &v, MDB_SET_KEY);
      if (rc == MDB_SUCCESS) {
        if (v.mv_size != 8) return fail(why_, Status::corrupted, "invoice_index: a seq is not 8 bytes");
        out_->reasons[i] = REJECT_DUPLICATE_IN_LEDGER;
        out_->details[i] = int64_t(get_u64be(static_cast<const uint8_t*>(v.mv_data)));
        failed_ = failed_ || !in_.skip;
        continue;
      }
      if (rc != MDB_NOTFOUND) return mdb_fail(why_, rc, "invoice_index: cannot read");
    }
    batch_keys_.emplace(key, i);
    if (failed_) continue;  // reject mode: keep deciding, write nothing
    if (id == UINT32_MAX) {
      id = next_seller_++;
      sellers_[SellerRef{in_.seller_keys.ptr[i]}] = id;
      uint8_t id_bytes[4];
      put_u32be(id_bytes, id);
      MDB_val k = mdb_val(id_bytes, 4), v = mdb_val(in_.seller_keys.ptr[i], SELLER_KEY_LEN);
      s = put_or_full(txn_, dbi_[T_SELLERS], &k, &v, MDB_APPEND, "sellers: cannot add seller " + std::to_string(id), why_);
      if (s != Status::ok) return s;
      k = mdb_val(in_.seller_keys.ptr[i], SELLER_KEY_LEN);
      v = mdb_val(id_bytes, 4);
      s = put_or_full(txn_, dbi_[T_SELLER_IDS], &k, &v, MDB_NOOVERWRITE, "seller_ids: cannot add seller " + std::to_string(id), why_);
      if (s != Status::ok) return s;
    }
    seller_of[j] = id;
    accepted.push_back(j);
  }
  if (failed_ || accepted.empty()) return Status::ok;

  // Payload blobs: this chunk's accepted payloads, cut at PAYLOAD_BLOB_TARGET.
  const size_t m = accepted.size();
  const uint64_t chunk_first = next_seq_;
  std::vector<uint64_t> blob_of(m);
  std::vector<uint32_t> offset_of(m);
  for (size_t a = 0; a < m;) {
    size_t end = a;
    uint64_t bytes = 0;
    while (end < m && bytes < PAYLOAD_BLOB_TARGET) {
      blob_of[end] = chunk_first + a;
      offset_of[end] = uint32_t(bytes);
      bytes += in_.payloads.len[c.begin + accepted[end]];
      ++end;
    }
    uint8_t key[8];
    put_u64be(key, chunk_first + a);
    MDB_val k = mdb_val(key, 8), v = mdb_val(nullptr, size_t(bytes));
    Status s = put_or_full(txn_, dbi_[T_PAYLOADS], &k, &v, MDB_APPEND | MDB_RESERVE,
                           "payloads: cannot add blob " + std::to_string(chunk_first + a), why_);
    if (s != Status::ok) return s;
    uint8_t* dst = static_cast<uint8_t*>(v.mv_data);
    for (size_t x = a; x < end; ++x) {
      const size_t i = c.begin + accepted[x], len = in_.payloads.len[i];
      if (len) std::memcpy(dst + offset_of[x], in_.payloads.ptr[i], len);
    }
    a = end;
  }
  // Records, in seq order.
  uint8_t record[RECORD_FIXED_LEN + INVOICE_ID_MAX_LEN];
  for (size_t x = 0; x < m; ++x) {
    const size_t j = accepted[x], i = c.begin + j;
    RecordView r;
    r.issued_at = in_.issued_at[i];
    r.seller_id = seller_of[j];
    r.blob = blob_of[x];
    r.offset = offset_of[x];
    r.payload_len = uint32_t(in_.payloads.len[i]);
    r.signature = in_.signatures.ptr[i];
    r.id = in_.ids.ptr[i];
    r.id_len = in_.ids.len[i];
    uint8_t key[8];
    put_u64be(key, chunk_first + x);
    MDB_val k = mdb_val(key, 8), v = mdb_val(record, record_encode(r, record));
    Status s = cursor_put_or_full(records_.get(), &k, &v, MDB_APPEND, "records: cannot add record", chunk_first + x, why_);
    if (s != Status::ok) return s;
    leaf_hashes_.insert(leaf_hashes_.end(), &c.leaf_hashes[j * MERKLE_HASH_LEN], &c.leaf_hashes[(j + 1) * MERKLE_HASH_LEN]);
  }
  // Both indexes, each in key order (a B-tree fills best that way).
  std::vector<size_t> order(m);
  for (size_t x = 0; x < m; ++x) order[x] = x;
  std::sort(order.begin(), order.end(), [&](size_t p, size_t q) {
    const size_t jp = accepted[p], jq = accepted[q];
    if (seller_of[jp] != seller_of[jq]) return seller_of[jp] < seller_of[jq];
    const size_t ip = c.begin + jp, iq = c.begin + jq;
    const size_t lp = in_.ids.len[ip], lq = in_.ids.len[iq];
    const int cmp = std::memcmp(in_.ids.ptr[ip], in_.ids.ptr[iq], std::min(lp, lq));
    return cmp != 0 ? cmp < 0 : lp < lq;
  });
  for (size_t x : order) {
    const size_t j = accepted[x], i = c.begin + j;
    uint8_t seq[8];
    put_u64be(seq, chunk_first + x);
    MDB_val k = mdb_val(index_key, invoice_index_key(seller_of[j], in_.ids.ptr[i], in_.ids.len[i], index_key));
    MDB_val v = mdb_val(seq, 8);
    Status s = cursor_put_or_full(index_.get(), &k, &v, MDB_NOOVERWRITE, "invoice_index: cannot add record",
                                  chunk_first + x, why_);
    if (s != Status::ok) return s;
  }
  // by_seller: one posting list per seller of this chunk, keyed (first seq, seller id):
  // appended at the end of the table.
  std::stable_sort(order.begin(), order.end(), [&](size_t p, size_t q) {
    return seller_of[accepted[p]] != seller_of[accepted[q]] ? seller_of[accepted[p]] < seller_of[accepted[q]] : p < q;
  });
  std::vector<uint8_t> offsets;
  for (size_t a = 0; a < m;) {
    const uint32_t seller = seller_of[accepted[order[a]]];
    offsets.clear();
    for (; a < m && seller_of[accepted[order[a]]] == seller; ++a) {
      uint8_t offset[4];
      put_u32be(offset, uint32_t(order[a]));
      offsets.insert(offsets.end(), offset, offset + 4);
    }
    uint8_t key[12];
    put_u64be(key, chunk_first);
    put_u32be(key + 8, seller);
    MDB_val k = mdb_val(key, 12), v = mdb_val(offsets.data(), offsets.size());
    Status s = cursor_put_or_full(by_seller_.get(), &k, &v, MDB_APPEND, "by_seller: cannot add the posting lists from",
                                  chunk_first, why_);
    if (s != Status::ok) return s;
  }
  next_seq_ += m;
  return Status::ok;
}

// The tree (leaf hashes in, tiles out), then size and root; and the importer's progress.
Status BatchWriter::finish(uint8_t root[MERKLE_HASH_LEN]) {
  const uint64_t m = appended();
  if (failed_) return Status::ok;
  if (in_.has_progress) {
    MDB_val k = mdb_val(in_.progress_key.data(), in_.progress_key.size());
    MDB_val v = mdb_val(in_.progress_value.data(), in_.progress_value.size());
    const Status s = put_or_full(txn_, dbi_[T_IMPORTS], &k, &v, 0, "imports: cannot write the progress", why_);
    if (s != Status::ok) return s;
  }
  if (m == 0) return Status::ok;
  TileNodeStore store(txn_, dbi_[T_TILES], suite_, first_);
  MerkleTree tree(suite_, store);
  Status s = tree.append_hashes(leaf_hashes_.data(), size_t(m), in_.threads);
  if (s == Status::ok) s = tree.root(first_ + m, root);
  if (s != Status::ok) {
    if (store.last_mdb_error() == MDB_MAP_FULL) return Status::map_full;
    return fail(why_, s, store.last_mdb_error() ? mdb_message("tiles: cannot write", store.last_mdb_error())
                                                : std::string("tiles: cannot extend the tree: ") + lc_strerror(s));
  }
  uint8_t size_bytes[8];
  put_u64be(size_bytes, first_ + m);
  MDB_val k = mdb_val("size", 4), v = mdb_val(size_bytes, 8);
  s = put_or_full(txn_, dbi_[T_META], &k, &v, 0, "meta: cannot write size", why_);
  if (s != Status::ok) return s;
  k = mdb_val("root", 4);
  v = mdb_val(root, MERKLE_HASH_LEN);
  return put_or_full(txn_, dbi_[T_META], &k, &v, 0, "meta: cannot write root", why_);
}

}  // namespace

Status LedgerStore::append(const AppendInput& in, AppendResult* out, std::string* why) {
  Status s = usable(why);
  if (s != Status::ok) return s;
  if (readonly_) return fail(why, Status::read_only, "the ledger at " + path_ + " is open read-only (readonly=True)");
  PreparedBatch batch(in, suite_);
  s = batch.start();
  if (s != Status::ok) return fail(why, s, std::string("cannot start preparing the batch: ") + lc_strerror(s));
  s = write_batch(in, batch, out, why);
  batch.join();
  return s;
}

Status LedgerStore::prepare(const AppendInput& in, PreparedBatchPtr* out, std::string* why) {
  Status s = usable(why);
  if (s != Status::ok) return s;
  s = guarded([&] { out->reset(new PreparedBatch(in, suite_)); });
  if (s != Status::ok) return fail(why, s, "cannot hold the prepared batch");
  s = (*out)->run_all();
  if (s != Status::ok) {
    out->reset();
    return fail(why, s, std::string("cannot prepare the batch: ") + lc_strerror(s));
  }
  return Status::ok;
}

Status LedgerStore::append_prepared(const AppendInput& in, PreparedBatch& batch, AppendResult* out,
                                    std::string* why) {
  Status s = usable(why);
  if (s != Status::ok) return s;
  if (readonly_) return fail(why, Status::read_only, "the ledger at " + path_ + " is open read-only (readonly=True)");
  if (!batch.fits(in, suite_))
    return fail(why, Status::invalid_argument, "the batch was prepared from another input or for another ledger's hasher");
  return write_batch(in, batch, out, why);
}

Status LedgerStore::write_batch(const AppendInput& in, PreparedBatch& preparer, AppendResult* out, std::string* why) {
  uint64_t payload_bytes = 0;
  for (size_t i = 0; i < in.count; ++i) payload_bytes += in.payloads.len[i];
  const size_t size_hint = size_t(payload_bytes) + in.count * 400;
  auto body = [&](MDB_txn* txn, bool* commit) -> Status {
    uint64_t first = 0;
    Status w = read_meta(txn, &first, out->root, why);
    if (w != Status::ok) return w;
    out->first_seq = first;
    out->size = first;
    out->appended = 0;
    BatchWriter writer(txn, dbi_, suite_, in, out, why);
    w = writer.begin(first);
    for (size_t k = 0; w == Status::ok && k < preparer.chunk_count(); ++k) {
      PreparedChunk* chunk = nullptr;
      w = preparer.wait(k, &chunk);
      if (w != Status::ok) return fail(why, w, std::string("cannot prepare the batch: ") + lc_strerror(w));
      const Status g = guarded([&] { w = writer.write_chunk(*chunk); });
      if (g != Status::ok) w = g;
    }
    if (w != Status::ok) return w;
    uint8_t root[MERKLE_HASH_LEN];
    const Status g = guarded([&] { w = writer.finish(root); });
    if (g != Status::ok) return fail(why, g, "cannot extend the tree");
    if (w != Status::ok) return w;
    if (writer.failed() || (writer.appended() == 0 && !in.has_progress)) {
      *commit = false;  // rejected, or nothing to write: nothing is written
      return Status::ok;
    }
    if (writer.appended() > 0) std::memcpy(out->root, root, MERKLE_HASH_LEN);  // else meta's, read above
    out->appended = writer.appended();
    out->size = first + out->appended;
    return Status::ok;
  };
  return write_txn(size_hint, body, why);
}

}  // namespace ledger_core
