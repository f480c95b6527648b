// The ledger: an LMDB environment of signed invoices, its tables, one write path and
// the reads (docs/FORMAT.md "The ledger on disk" is the normative layout).
//
//   append(batch):
//     outside any lock, in parallel:  shape checks -> payload hashes (BLAKE3, keyed)
//                                     -> envelopes and leaf data -> Ed25519 batch
//                                     verification -> duplicates inside the batch
//                                     -> leaf hashes
//     under the writer mutex, ONE write transaction:
//                                     seller ids -> duplicates against the ledger
//                                     -> (reject: abort, nothing written)
//                                     -> payload blobs, records, sellers, both
//                                     indexes, tree tiles, size, root -> commit
//   A full map aborts the transaction, grows the map and runs the transaction again
//   from the prepared batch: nothing is lost and nothing is hashed twice. Two threads
//   appending overlap the first phase of one batch with the write of the other.
//
// One LedgerStore per environment per process: open() returns the one already open for
// the same directory (LMDB forbids two environments on one file in a process). A
// writer holds a flock(2) lock on <dir>/writer.lock for as long as the store lives; a
// second writer process gets `locked`, with the holder's pid (written in the file) in the
// message.
//
// The map lock: every use of a transaction holds it shared; growing the map takes it
// exclusive (mdb_env_set_mapsize needs no transaction in use in the process). Read
// transactions (per call from a pool, or a snapshot's) never keep a pointer into the map
// past one call, so a snapshot stays valid across a resize. The lock prefers readers:
// a call blocked on it never holds what the resizer waits for.
//
// Fork: a store opened before fork() reports `closed` in the child (a generation counter
// bumped by pthread_atfork); the child's copy is never closed there (LMDB forbids using
// an environment across fork) and the child may open the ledger again.
//
// Thread-safety: every public function may be called from any thread. No function
// throws; errors are a Status plus a message naming the table, key or item.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "merkle/merkle_hash.h"
#include "store/ledger_format.h"
#include "store/lmdb_env.h"

namespace ledger_core {

struct StoreOptions {
  bool create = true;
  bool readonly = false;
  int suite = -1;          // a MerkleSuite, or -1: blake3 for a new ledger, any for an existing one
  uint64_t map_size = 0;   // 0: DEFAULT_MAP_SIZE for a new ledger, the file's otherwise
  bool durability_full = true;  // false: MDB_NOMETASYNC
};

constexpr uint64_t DEFAULT_MAP_SIZE = uint64_t(1) << 30;

// N byte strings as pointers and lengths (the bindings pin what they point into).
struct ItemColumn {
  std::vector<const uint8_t*> ptr;
  std::vector<size_t> len;
};

struct AppendInput {
  size_t count = 0;
  ItemColumn ids, seller_keys, signatures, payloads;
  const int64_t* issued_at = nullptr;
  const uint8_t* payload_hashes = nullptr;  // 32 * count bytes, or null: hash the payloads
  bool verify = true;
  bool skip = false;  // append the good items of a batch with bad ones (else: none)
  // An importer's progress, written to `imports` in the batch's transaction (also when
  // every item was skipped); nothing when the batch is rejected.
  bool has_progress = false;
  std::string progress_key, progress_value;
  size_t threads = 0;
};

struct AppendResult {
  uint64_t first_seq = 0, appended = 0, size = 0;
  uint8_t root[MERKLE_HASH_LEN] = {};
  std::vector<uint8_t> reasons;  // per item: REJECT_* or a VerifyReason
  std::vector<int64_t> details;  // existing seq, earlier position, or RecordField
};

// Records copied out of the map, as columns.
struct RecordColumns {
  size_t count = 0;
  std::vector<uint8_t> ids;
  std::vector<uint64_t> id_offsets{0};
  std::vector<int64_t> issued_at;
  std::vector<uint8_t> seller_keys;  // 32 per record
  std::vector<uint8_t> signatures;   // 64 per record
  std::vector<uint8_t> payloads;
  std::vector<uint64_t> payload_offsets{0};
};

struct StoredCheckpointRow {
  uint64_t size = 0;
  std::string origin;
  std::string public_key;  // 32 bytes
  std::string note;
};

struct AuditProblem {
  std::string table;
  int64_t seq = -1;  // the record concerned, or -1
  std::string message;
};

struct AuditResult {
  uint64_t size = 0;
  uint64_t records = 0;          // records re-verified
  uint64_t problem_count = 0;    // all found; `problems` keeps the first max_problems
  uint8_t root[MERKLE_HASH_LEN] = {};
  std::vector<AuditProblem> problems;
};

struct TableStat {
  std::string name;
  uint64_t entries = 0, depth = 0, branch_pages = 0, leaf_pages = 0, overflow_pages = 0;
};

// The tables, in docs/FORMAT.md's order.
enum Table : unsigned { T_META, T_RECORDS, T_PAYLOADS, T_SELLERS, T_SELLER_IDS, T_INVOICE_INDEX, T_BY_SELLER,
                        T_TILES, T_CHECKPOINTS, T_IMPORTS, TABLE_COUNT };
const char* table_name(unsigned table);

// A batch's ledger-independent work: payload hashes, leaf data, signature checks, leaf
// hashes (ledger_append.cpp). Held by pointer; PreparedBatchFree deletes one.
struct PreparedBatch;
struct PreparedBatchFree {
  void operator()(PreparedBatch* batch) const;
};
using PreparedBatchPtr = std::unique_ptr<PreparedBatch, PreparedBatchFree>;
class TileCache;  // tile_store.h

// What append would decide about each item on its own, without a ledger (no duplicate
// checks): REJECT_OK, REJECT_MALFORMED (detail: the RecordField) or a VerifyReason, and
// each item's payload hash and leaf hash under `suite` (zeros for a malformed item).
struct InvoiceCheck {
  std::vector<uint8_t> reasons;
  std::vector<int64_t> details;
  std::vector<uint8_t> payload_hashes;  // 32 per item
  std::vector<uint8_t> leaf_hashes;     // 32 per item
};
Status check_invoices(const AppendInput& in, MerkleSuite suite, InvoiceCheck* out, std::string* why);

class LedgerStore {
 public:
  static Status open(const std::string& path, const StoreOptions& options, std::shared_ptr<LedgerStore>* out,
                     std::string* why);
  ~LedgerStore();
  LedgerStore(const LedgerStore&) = delete;
  LedgerStore& operator=(const LedgerStore&) = delete;

  MerkleSuite suite() const { return suite_; }
  bool readonly() const { return readonly_; }
  const std::string& path() const { return path_; }
  // closed when this process is a fork child of the one that opened the store.
  Status usable(std::string* why) const;
  uint64_t map_size() const;
  uint32_t page_size() const { return page_size_; }
  // Closes this process's descriptor of the writer lock (a fork child's copy of it).
  void forget_writer_lock_in_child();

  // --- writes (read_only on a read-only store) ---
  Status append(const AppendInput& in, AppendResult* out, std::string* why);
  // append() in two steps, for a caller that pipelines batches (Ledger.append_batches):
  // prepare() does the work that needs no ledger state, on the calling thread and
  // outside every lock, so batch k + 1 is prepared while batch k commits; then
  // append_prepared() writes it exactly as append() would. `in` must be the same input,
  // alive and unchanged, in both calls (in.skip and the progress may differ).
  Status prepare(const AppendInput& in, PreparedBatchPtr* out, std::string* why);
  Status append_prepared(const AppendInput& in, PreparedBatch& batch, AppendResult* out, std::string* why);
  Status put_checkpoint(uint64_t size, const std::string& origin, const uint8_t public_key[32],
                        const std::string& note, std::string* why);

  // --- reads: `snapshot` is a transaction from begin_snapshot(), or null for a fresh
  // view per call ---
  Status begin_snapshot(MDB_txn** out, std::string* why);
  void end_snapshot(MDB_txn* txn);
  Status size(MDB_txn* snapshot, uint64_t* out, std::string* why);
  Status root(MDB_txn* snapshot, uint64_t size, uint8_t out[MERKLE_HASH_LEN], std::string* why);
  Status leaf_hash(MDB_txn* snapshot, uint64_t seq, uint8_t out[MERKLE_HASH_LEN], std::string* why);
  Status get_many(MDB_txn* snapshot, const uint64_t* seqs, size_t count, RecordColumns* out, std::string* why);
  Status get_range(MDB_txn* snapshot, uint64_t start, uint64_t stop, RecordColumns* out, std::string* why);
  // *seq = -1 when absent.
  Status find(MDB_txn* snapshot, const uint8_t seller_key[32], const uint8_t* id, size_t id_len, int64_t* seq,
              std::string* why);
  Status by_seller(MDB_txn* snapshot, const uint8_t seller_key[32], std::vector<uint64_t>* seqs, std::string* why);
  Status inclusion_proof(MDB_txn* snapshot, uint64_t index, uint64_t size, std::vector<uint8_t>* hashes,
                         std::string* why);
  Status consistency_proof(MDB_txn* snapshot, uint64_t size1, uint64_t size2, std::vector<uint8_t>* hashes,
                           std::string* why);
  Status checkpoints(MDB_txn* snapshot, std::vector<StoredCheckpointRow>* out, std::string* why);
  // The progress an importer stored under `key`; *found false when there is none.
  Status import_progress(MDB_txn* snapshot, const std::string& key, std::string* value, bool* found,
                         std::string* why);
  Status stats(std::vector<TableStat>* out, std::string* why);
  // Maps the used part of the file into this process now (MADV_POPULATE_READ, else one
  // read per page), so that later reads take no page fault; *bytes the length mapped.
  Status populate(uint64_t* bytes, std::string* why);

  // Re-checks every table (ledger_audit.cpp): at most max_problems are listed.
  Status audit(size_t threads, size_t max_problems, AuditResult* out, std::string* why);

 private:
  friend class ReadScope;
  friend class AuditRun;
  LedgerStore() = default;
  Status open_env(const std::string& path, const StoreOptions& options, std::string* why);
  Status open_tables(const StoreOptions& options, std::string* why);
  Status read_meta(MDB_txn* txn, uint64_t* size, uint8_t root[MERKLE_HASH_LEN], std::string* why) const;
  Status take_writer_lock(std::string* why);
  // Waits for calls in flight, then grows the map to at least `at_least` bytes more.
  Status grow_map(uint64_t at_least, std::string* why);
  // Re-reads the map size another process set (MDB_MAP_RESIZED).
  Status adopt_map_size(std::string* why);
  Status begin_read(MDB_txn** out, std::string* why);
  void end_read(MDB_txn* txn);
  // Runs body(txn, &commit) in one write transaction under the writer mutex, and commits
  // when it returns ok with commit still true (false: abort, nothing written, ok). When
  // the map is full (body returns map_full, or the commit does), aborts, grows the map by
  // about 2 x size_hint and runs body again. Any other status aborts and is returned.
  template <typename Body>
  Status write_txn(size_t size_hint, Body& body, std::string* why) {
    return write_txn_raw(
        size_hint, [](void* ctx, MDB_txn* txn, bool* commit) { return (*static_cast<Body*>(ctx))(txn, commit); }, &body,
        why);
  }
  Status write_txn_raw(size_t size_hint, Status (*body)(void*, MDB_txn*, bool*), void* ctx, std::string* why);
  // Writes `batch` (being prepared, or prepared) in one write transaction.
  Status write_batch(const AppendInput& in, PreparedBatch& batch, AppendResult* out, std::string* why);

  std::string path_;
  MdbEnv env_;
  MDB_dbi dbi_[TABLE_COUNT] = {};
  MerkleSuite suite_ = MerkleSuite::blake3;
  bool readonly_ = false;
  uint32_t page_size_ = 4096;
  int lock_fd_ = -1;
  uint64_t generation_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;

  mutable pthread_rwlock_t map_lock_;
  bool map_lock_ready_ = false;
  std::mutex write_mutex_;
  std::mutex pool_mutex_;
  std::vector<MDB_txn*> read_pool_;
  std::unique_ptr<TileCache> tile_cache_;  // recomputed tile levels, shared by reads
  bool imports_present_ = true;            // a reader may open a ledger without `imports`
};

}  // namespace ledger_core
