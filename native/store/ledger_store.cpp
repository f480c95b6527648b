// Opening, locking, the map and the reads of a ledger (ledger_store.h). The append is
// in ledger_append.cpp, the audit in ledger_audit.cpp.
#include "store/ledger_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <unordered_map>
#include <utility>

#include "merkle/merkle_tree.h"
#include "store/store_internal.h"
#include "store/tile_store.h"

namespace ledger_core {

const char* table_name(unsigned table) {
  static const char* const kNames[TABLE_COUNT] = {"meta",       "records",       "payloads",  "sellers",    "seller_ids",
                                                  "invoice_index", "by_seller", "tiles",      "checkpoints",
                                                  "imports"};
  return table < TABLE_COUNT ? kNames[table] : "?";
}

namespace {

// --- process-wide state: the registry of open stores and the fork generation -----------

std::atomic<uint64_t> g_generation{1};
pthread_mutex_t g_registry_mutex = PTHREAD_MUTEX_INITIALIZER;
std::map<std::pair<dev_t, ino_t>, std::weak_ptr<LedgerStore>>* g_registry = nullptr;

void before_fork() { pthread_mutex_lock(&g_registry_mutex); }
void after_fork_parent() { pthread_mutex_unlock(&g_registry_mutex); }
// The child closes its copies of the writer locks: a flock(2) lock lives as long as any
// descriptor of its open file description, and a child must not keep the parent's
// writer lock after the parent closes the ledger.
void after_fork_child() {
  g_generation.fetch_add(1);
  if (g_registry != nullptr)
    for (auto& entry : *g_registry)
      if (std::shared_ptr<LedgerStore> store = entry.second.lock()) store->forget_writer_lock_in_child();
  pthread_mutex_unlock(&g_registry_mutex);
}
const int g_atfork_registered = pthread_atfork(before_fork, after_fork_parent, after_fork_child);

struct RegistryLock {
  RegistryLock() { pthread_mutex_lock(&g_registry_mutex); }
  ~RegistryLock() { pthread_mutex_unlock(&g_registry_mutex); }
};

std::map<std::pair<dev_t, ino_t>, std::weak_ptr<LedgerStore>>& registry() {
  if (g_registry == nullptr) g_registry = new std::map<std::pair<dev_t, ino_t>, std::weak_ptr<LedgerStore>>();
  return *g_registry;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

const char kMetaFormat[] = "format_version";
const char kMetaHasher[] = "hasher";
const char kMetaSize[] = "size";
const char kMetaRoot[] = "root";

const char* suite_name(MerkleSuite suite) { return suite == MerkleSuite::sha256 ? "sha256" : "blake3"; }

}  // namespace

// --- opening ------------------------------------------------------------------------------

Status LedgerStore::open(const std::string& path, const StoreOptions& options, std::shared_ptr<LedgerStore>* out,
                         std::string* why) {
  (void)g_atfork_registered;
  if (path.empty()) return fail(why, Status::invalid_argument, "path is empty");
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail(why, Status::io_error, "cannot stat " + path + ": " + std::strerror(errno));
    if (!options.create || options.readonly)
      return fail(why, Status::not_found, "no ledger at " + path + " (pass create=True to make one)");
    if (::mkdir(path.c_str(), 0775) != 0 && errno != EEXIST)
      return fail(why, Status::io_error, "cannot create the ledger directory " + path + ": " + std::strerror(errno));
    if (::stat(path.c_str(), &st) != 0)
      return fail(why, Status::io_error, "cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return fail(why, Status::invalid_argument, path + " is not a directory (a ledger is an LMDB directory)");
  if (!file_exists(path + "/data.mdb") && (!options.create || options.readonly))
    return fail(why, Status::not_found, "no ledger at " + path + " (no data.mdb; pass create=True to make one)");

  // Declared before the registry lock, so that a store that fails to open is destroyed
  // after the lock is released (its destructor takes the lock).
  std::shared_ptr<LedgerStore> store;
  RegistryLock registry_lock;
  const std::pair<dev_t, ino_t> id(st.st_dev, st.st_ino);
  auto found = registry().find(id);
  if (found != registry().end()) {
    store = found->second.lock();  // released after the registry lock, as above
    const std::shared_ptr<LedgerStore>& existing = store;
    if (existing && existing->generation_ == g_generation.load()) {
      if (existing->readonly_ && !options.readonly)
        return fail(why, Status::invalid_argument,
                    "the ledger at " + path + " is already open read-only in this process; close it before opening it for writing");
      if (options.suite >= 0 && MerkleSuite(options.suite) != existing->suite_)
        return fail(why, Status::invalid_argument,
                    "the ledger at " + path + " uses the " + suite_name(existing->suite_) + " hasher, not " +
                        suite_name(MerkleSuite(options.suite)));
      *out = existing;
      return Status::ok;
    }
  }
  store.reset(new LedgerStore());
  store->tile_cache_.reset(new TileCache());
  store->path_ = path;
  store->dev_ = st.st_dev;
  store->ino_ = st.st_ino;
  store->readonly_ = options.readonly;
  store->generation_ = g_generation.load();
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_READER_NP);
  pthread_rwlock_init(&store->map_lock_, &attr);
  pthread_rwlockattr_destroy(&attr);
  store->map_lock_ready_ = true;
  if (!options.readonly) {
    const Status s = store->take_writer_lock(why);
    if (s != Status::ok) return s;
  }
  Status s = store->open_env(path, options, why);
  if (s != Status::ok) return s;
  s = store->open_tables(options, why);
  if (s != Status::ok) return s;
  registry()[id] = store;
  *out = std::move(store);
  return Status::ok;
}

Status LedgerStore::take_writer_lock(std::string* why) {
  const std::string file = path_ + "/writer.lock";
  lock_fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0664);
  if (lock_fd_ < 0) return fail(why, Status::io_error, "cannot open " + file + ": " + std::strerror(errno));
  // flock(2): the lock belongs to this open file description, so no other descriptor of
  // the file this process opens or closes can drop it (fcntl record locks would). A fork
  // child's inherited descriptor is closed in the child (after_fork_child).
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char text[256] = {0};
    const ssize_t n = pread(lock_fd_, text, sizeof text - 1, 0);
    std::string line = n > 0 ? std::string(text, size_t(n)) : std::string();
    while (!line.empty() && (line.back() == '\n' || line.back() == '\0')) line.pop_back();
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err != EWOULDBLOCK) return fail(why, Status::io_error, "cannot lock " + file + ": " + std::strerror(err));
    return fail(why, Status::locked,
                "the ledger at " + path_ + " is open for writing by another process (" +
                    (line.empty() ? std::string("holder unknown") : line) +
                    "); one writer at a time: open it with readonly=True to read");
  }
  char host[128] = "?";
  gethostname(host, sizeof host - 1);
  char when[32] = "?";
  const time_t now = time(nullptr);
  struct tm utc;
  if (gmtime_r(&now, &utc) != nullptr) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
  const std::string line = "pid " + std::to_string(getpid()) + " host " + host + " since " + when + "\n";
  if (ftruncate(lock_fd_, 0) != 0 || pwrite(lock_fd_, line.data(), line.size(), 0) != ssize_t(line.size())) {
    // The lock is what counts; the text only helps the message of a refused writer.
  }
  return Status::ok;
}

Status LedgerStore::open_env(const std::string& path, const StoreOptions& options, std::string* why) {
  int rc = env_.create();
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "cannot create an LMDB environment");
  mdb_env_set_maxdbs(env_.get(), 16);
  mdb_env_set_maxreaders(env_.get(), 1024);
  const bool fresh = !file_exists(path + "/data.mdb");
  if (fresh || options.map_size) {
    rc = mdb_env_set_mapsize(env_.get(), options.map_size ? options.map_size : DEFAULT_MAP_SIZE);
    if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "cannot set the map size");
  }
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (options.readonly) flags |= MDB_RDONLY;
  if (!options.durability_full) flags |= MDB_NOMETASYNC;
  rc = mdb_env_open(env_.get(), path.c_str(), flags, 0664);
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "cannot open the LMDB environment at " + path);
  MDB_stat st;
  if (mdb_env_stat(env_.get(), &st) == MDB_SUCCESS) page_size_ = st.ms_psize;
  return Status::ok;
}

Status LedgerStore::open_tables(const StoreOptions& options, std::string* why) {
  MdbTxn txn;
  int rc = txn.begin(env_.get(), readonly_ ? MDB_RDONLY : 0);
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "cannot begin a transaction on " + path_);
  for (unsigned t = 0; t < TABLE_COUNT; ++t) {
    const unsigned flags = readonly_ ? 0 : MDB_CREATE;
    rc = mdb_dbi_open(txn.get(), table_name(t), flags, &dbi_[t]);
    if (rc == MDB_NOTFOUND && t == T_IMPORTS) {  // optional: a ledger nothing was imported into by a reader
      imports_present_ = false;
      continue;
    }
    if (rc == MDB_NOTFOUND)
      return fail(why, Status::not_found, "no ledger at " + path_ + ": the LMDB environment has no '" +
                                              table_name(t) + "' table (not made by ledger_core)");
    if (rc == MDB_INCOMPATIBLE)
      return fail(why, Status::corrupted, "table '" + std::string(table_name(t)) + "' of " + path_ +
                                              " has other LMDB flags than a ledger's");
    if (rc != MDB_SUCCESS) return mdb_fail(why, rc, std::string("cannot open table '") + table_name(t) + "'");
  }
  MDB_val key = mdb_val(kMetaFormat, sizeof kMetaFormat - 1), value;
  rc = mdb_get(txn.get(), dbi_[T_META], &key, &value);
  if (rc == MDB_NOTFOUND) {
    MDB_stat records;
    mdb_stat(txn.get(), dbi_[T_RECORDS], &records);
    if (readonly_ || records.ms_entries != 0)
      return fail(why, Status::corrupted, "the ledger at " + path_ + " has no meta/format_version");
    // A new ledger: version, hasher, the empty tree.
    suite_ = options.suite >= 0 ? MerkleSuite(options.suite) : MerkleSuite::blake3;
    uint8_t version[4], size[8] = {0}, root[MERKLE_HASH_LEN];
    put_u32be(version, LEDGER_FORMAT_VERSION);
    merkle_empty_root(suite_, root);
    const char* hasher = suite_name(suite_);
    const std::pair<const char*, MDB_val> rows[] = {
        {kMetaFormat, mdb_val(version, 4)},
        {kMetaHasher, mdb_val(hasher, std::strlen(hasher))},
        {kMetaSize, mdb_val(size, 8)},
        {kMetaRoot, mdb_val(root, MERKLE_HASH_LEN)},
    };
    for (const auto& row : rows) {
      MDB_val k = mdb_val(row.first, std::strlen(row.first)), v = row.second;
      rc = mdb_put(txn.get(), dbi_[T_META], &k, &v, 0);
      if (rc != MDB_SUCCESS) return mdb_fail(why, rc, std::string("cannot write meta/") + row.first);
    }
  } else if (rc != MDB_SUCCESS) {
    return mdb_fail(why, rc, "cannot read meta/format_version");
  } else {
    if (value.mv_size != 4) return fail(why, Status::corrupted, "meta/format_version is not 4 bytes");
    const uint32_t version = get_u32be(static_cast<const uint8_t*>(value.mv_data));
    if (version != LEDGER_FORMAT_VERSION)
      return fail(why, Status::unsupported,
                  "the ledger at " + path_ + " has format version " + std::to_string(version) +
                      "; this ledger_core reads version " + std::to_string(LEDGER_FORMAT_VERSION));
    key = mdb_val(kMetaHasher, sizeof kMetaHasher - 1);
    rc = mdb_get(txn.get(), dbi_[T_META], &key, &value);
    if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "cannot read meta/hasher");
    const std::string hasher(static_cast<const char*>(value.mv_data), value.mv_size);
    if (hasher == "blake3") {
      suite_ = MerkleSuite::blake3;
    } else if (hasher == "sha256") {
      suite_ = MerkleSuite::sha256;
    } else {
      return fail(why, Status::unsupported, "the ledger at " + path_ + " uses an unknown hasher (meta/hasher)");
    }
    if (options.suite >= 0 && MerkleSuite(options.suite) != suite_)
      return fail(why, Status::invalid_argument,
                  "the ledger at " + path_ + " uses the " + hasher + " hasher, not " + suite_name(MerkleSuite(options.suite)));
    uint64_t size = 0;
    uint8_t root[MERKLE_HASH_LEN];
    const Status s = read_meta(txn.get(), &size, root, why);
    if (s != Status::ok) return s;
  }
  rc = txn.commit();  // also makes the table handles permanent
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "cannot commit the opening transaction of " + path_);
  return Status::ok;
}

LedgerStore::~LedgerStore() {
  const bool same_process = generation_ == g_generation.load();
  {
    RegistryLock registry_lock;
    auto found = registry().find({dev_, ino_});
    if (found != registry().end() && found->second.expired()) registry().erase(found);
  }
  if (same_process) {
    for (MDB_txn* txn : read_pool_) mdb_txn_abort(txn);  // before env_ closes the environment
  } else {
    env_.abandon();
  }
  // In a fork child the environment is the parent's: never touched here (LMDB forbids it).
  if (lock_fd_ >= 0) ::close(lock_fd_);
  if (map_lock_ready_) pthread_rwlock_destroy(&map_lock_);
}

void LedgerStore::forget_writer_lock_in_child() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

Status LedgerStore::usable(std::string* why) const {
  if (generation_ != g_generation.load())
    return fail(why, Status::closed,
                "this Ledger was opened by the parent of this forked process and cannot be used here: "
                "open the ledger again in the child (Ledger.open)");
  return Status::ok;
}

uint64_t LedgerStore::map_size() const {
  MDB_envinfo info;
  if (mdb_env_info(env_.get(), &info) != MDB_SUCCESS) return 0;
  return uint64_t(info.me_mapsize);
}

// --- the map -------------------------------------------------------------------------------

Status LedgerStore::grow_map(uint64_t at_least, std::string* why) {
  pthread_rwlock_wrlock(&map_lock_);
  MDB_envinfo info;
  mdb_env_info(env_.get(), &info);
  const uint64_t current = uint64_t(info.me_mapsize);
  uint64_t want = current * 2 > current + at_least ? current * 2 : current + at_least;
  want = (want + (uint64_t(1) << 20) - 1) & ~((uint64_t(1) << 20) - 1);
  const int rc = mdb_env_set_mapsize(env_.get(), want);
  pthread_rwlock_unlock(&map_lock_);
  if (rc != MDB_SUCCESS)
    return mdb_fail(why, rc == EINVAL ? MDB_MAP_FULL : rc,
                    "the LMDB map is full and could not grow from " + std::to_string(current) + " to " +
                        std::to_string(want) + " bytes (address space or disk?)");
  return Status::ok;
}

Status LedgerStore::adopt_map_size(std::string* why) {
  pthread_rwlock_wrlock(&map_lock_);
  const int rc = mdb_env_set_mapsize(env_.get(), 0);
  pthread_rwlock_unlock(&map_lock_);
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "cannot adopt the map size another process set");
  return Status::ok;
}

// --- read transactions ------------------------------------------------------------------

Status LedgerStore::begin_read(MDB_txn** out, std::string* why) {
  MDB_txn* txn = nullptr;
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (!read_pool_.empty()) {
      txn = read_pool_.back();
      read_pool_.pop_back();
    }
  }
  int rc;
  if (txn != nullptr) {
    rc = mdb_txn_renew(txn);
    if (rc != MDB_SUCCESS) mdb_txn_abort(txn);
  } else {
    rc = mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, &txn);
  }
  if (rc != MDB_SUCCESS) {
    // MDB_MAP_RESIZED: the caller holds the map lock shared, so the new size is adopted
    // by the next call (begin_snapshot retries itself); report it as retryable.
    return mdb_fail(why, rc, "cannot begin a read transaction on " + path_);
  }
  *out = txn;
  return Status::ok;
}

void LedgerStore::end_read(MDB_txn* txn) {
  mdb_txn_reset(txn);
  std::lock_guard<std::mutex> lock(pool_mutex_);
  read_pool_.push_back(txn);
}

Status LedgerStore::begin_snapshot(MDB_txn** out, std::string* why) {
  Status s = usable(why);
  if (s != Status::ok) return s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    int rc;
    {
      SharedMapLock lock(map_lock_);
      rc = mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, out);
    }
    if (rc == MDB_SUCCESS) return Status::ok;
    if (rc != MDB_MAP_RESIZED) return mdb_fail(why, rc, "cannot begin a snapshot of " + path_);
    s = adopt_map_size(why);
    if (s != Status::ok) return s;
  }
  return fail(why, Status::map_full, "the map of " + path_ + " keeps being resized by another process");
}

void LedgerStore::end_snapshot(MDB_txn* txn) {
  if (generation_ == g_generation.load()) mdb_txn_abort(txn);
}

Status LedgerStore::read_meta(MDB_txn* txn, uint64_t* size, uint8_t root[MERKLE_HASH_LEN], std::string* why) const {
  MDB_val key = mdb_val(kMetaSize, sizeof kMetaSize - 1), value;
  int rc = mdb_get(txn, dbi_[T_META], &key, &value);
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc, "cannot read meta/size");
  if (value.mv_size != 8) return fail(why, Status::corrupted, "meta/size is not 8 bytes");
  *size = get_u64be(static_cast<const uint8_t*>(value.mv_data));
  key = mdb_val(kMetaRoot, sizeof kMetaRoot - 1);
  rc = mdb_get(txn, dbi_[T_META], &key, &value);
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc, "cannot read meta/root");
  if (value.mv_size != MERKLE_HASH_LEN) return fail(why, Status::corrupted, "meta/root is not 32 bytes");
  std::memcpy(root, value.mv_data, MERKLE_HASH_LEN);
  return Status::ok;
}

// --- reads ------------------------------------------------------------------------------

Status LedgerStore::size(MDB_txn* snapshot, uint64_t* out, std::string* why) {
  uint8_t root[MERKLE_HASH_LEN];
  LEDGER_READ(snapshot, why, { return read_meta(txn, out, root, why); });
}

Status LedgerStore::root(MDB_txn* snapshot, uint64_t size, uint8_t out[MERKLE_HASH_LEN], std::string* why) {
  LEDGER_READ(snapshot, why, {
    uint64_t n = 0;
    Status s = read_meta(txn, &n, out, why);
    if (s != Status::ok) return s;
    if (size > n) return fail(why, Status::out_of_range, "size " + std::to_string(size) + " is past the ledger's size " + std::to_string(n));
    if (size == n) return Status::ok;
    TileNodeStore store(txn, dbi_[T_TILES], suite_, n, tile_cache_.get());
    MerkleTree tree(suite_, store);
    s = tree.root(size, out);
    if (s != Status::ok) return fail(why, s == Status::out_of_range ? Status::corrupted : s, "cannot compute the root at size " + std::to_string(size) + " from the tiles");
    return Status::ok;
  });
}

Status LedgerStore::leaf_hash(MDB_txn* snapshot, uint64_t seq, uint8_t out[MERKLE_HASH_LEN], std::string* why) {
  LEDGER_READ(snapshot, why, {
    uint64_t n = 0;
    uint8_t root[MERKLE_HASH_LEN];
    Status s = read_meta(txn, &n, root, why);
    if (s != Status::ok) return s;
    if (seq >= n) return fail(why, Status::out_of_range, "seq " + std::to_string(seq) + " is past the ledger's size " + std::to_string(n));
    TileNodeStore store(txn, dbi_[T_TILES], suite_, n, tile_cache_.get());
    s = store.get(0, seq, 1, out);
    if (s != Status::ok) return fail(why, Status::corrupted, "tiles: no leaf hash for record " + std::to_string(seq));
    return Status::ok;
  });
}

namespace {

// Copies records out of one read transaction: record, seller key and payload.
class RecordReader {
 public:
  RecordReader(MDB_txn* txn, const MDB_dbi* dbi) : txn_(txn), dbi_(dbi) {}

  Status read(uint64_t seq, RecordColumns* out, std::string* why) {
    uint8_t key[8];
    put_u64be(key, seq);
    MDB_val k = mdb_val(key, 8), v;
    int rc = MDB_SUCCESS;
    if (cursor_.get() == nullptr) rc = cursor_.open(txn_, dbi_[T_RECORDS]);
    // The next record of a range is the cursor's next entry: no descent from the root.
    bool found = false;
    if (rc == MDB_SUCCESS && positioned_ && seq == last_seq_ + 1) {
      rc = mdb_cursor_get(cursor_.get(), &k, &v, MDB_NEXT);
      found = rc == MDB_SUCCESS && k.mv_size == 8 && get_u64be(static_cast<const uint8_t*>(k.mv_data)) == seq;
      if (rc == MDB_NOTFOUND) rc = MDB_SUCCESS;
    }
    if (rc == MDB_SUCCESS && !found) {
      k = mdb_val(key, 8);
      rc = mdb_cursor_get(cursor_.get(), &k, &v, MDB_SET_KEY);
    }
    positioned_ = rc == MDB_SUCCESS;
    last_seq_ = seq;
    if (rc != MDB_SUCCESS)
      return mdb_fail(why, rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc, "records: cannot read record " + std::to_string(seq));
    RecordView r;
    const char* bad = nullptr;
    if (!record_decode(static_cast<const uint8_t*>(v.mv_data), v.mv_size, &r, &bad))
      return fail(why, Status::corrupted, "records: record " + std::to_string(seq) + ": " + bad);
    const uint8_t* seller = nullptr;
    Status s = seller_key(r.seller_id, &seller, why);
    if (s != Status::ok) return s;
    const uint8_t* payload = nullptr;
    s = payload_of(seq, r, &payload, why);
    if (s != Status::ok) return s;
    out->ids.insert(out->ids.end(), r.id, r.id + r.id_len);
    out->id_offsets.push_back(out->ids.size());
    out->issued_at.push_back(r.issued_at);
    out->seller_keys.insert(out->seller_keys.end(), seller, seller + SELLER_KEY_LEN);
    out->signatures.insert(out->signatures.end(), r.signature, r.signature + SIGNATURE_LEN);
    out->payloads.insert(out->payloads.end(), payload, payload + r.payload_len);
    out->payload_offsets.push_back(out->payloads.size());
    ++out->count;
    return Status::ok;
  }

  Status seller_key(uint32_t seller_id, const uint8_t** out, std::string* why) {
    auto found = sellers_.find(seller_id);
    if (found != sellers_.end()) {
      *out = reinterpret_cast<const uint8_t*>(found->second.data());
      return Status::ok;
    }
    uint8_t key[4];
    put_u32be(key, seller_id);
    MDB_val k = mdb_val(key, 4), v;
    const int rc = mdb_get(txn_, dbi_[T_SELLERS], &k, &v);
    if (rc != MDB_SUCCESS)
      return mdb_fail(why, rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc, "sellers: no seller id " + std::to_string(seller_id));
    if (v.mv_size != SELLER_KEY_LEN) return fail(why, Status::corrupted, "sellers: seller id " + std::to_string(seller_id) + " is not 32 bytes");
    std::string& slot = sellers_[seller_id];
    slot.assign(static_cast<const char*>(v.mv_data), SELLER_KEY_LEN);
    *out = reinterpret_cast<const uint8_t*>(slot.data());
    return Status::ok;
  }

  Status payload_of(uint64_t seq, const RecordView& r, const uint8_t** out, std::string* why) {
    if (!blob_valid_ || blob_key_ != r.blob) {
      uint8_t key[8];
      put_u64be(key, r.blob);
      MDB_val k = mdb_val(key, 8), v;
      const int rc = mdb_get(txn_, dbi_[T_PAYLOADS], &k, &v);
      if (rc != MDB_SUCCESS)
        return mdb_fail(why, rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc,
                        "payloads: no blob " + std::to_string(r.blob) + " (record " + std::to_string(seq) + ")");
      blob_ = static_cast<const uint8_t*>(v.mv_data);
      blob_len_ = v.mv_size;
      blob_key_ = r.blob;
      blob_valid_ = true;
    }
    if (uint64_t(r.offset) + r.payload_len > blob_len_)
      return fail(why, Status::corrupted, "records: record " + std::to_string(seq) + "'s payload lies past the end of blob " + std::to_string(r.blob));
    *out = blob_ + r.offset;
    return Status::ok;
  }

 private:
  MDB_txn* txn_;
  const MDB_dbi* dbi_;
  MdbCursor cursor_;  // on records
  bool positioned_ = false;
  uint64_t last_seq_ = 0;
  std::unordered_map<uint32_t, std::string> sellers_;
  bool blob_valid_ = false;
  uint64_t blob_key_ = 0;
  const uint8_t* blob_ = nullptr;
  size_t blob_len_ = 0;
};

}  // namespace

// The records next_seq(0), .., next_seq(count - 1) of one read transaction (checked
// against the size already), into *out.
template <typename NextSeq>
static Status read_records(MDB_txn* txn, const MDB_dbi* dbi, size_t count, NextSeq next_seq, RecordColumns* out,
                           std::string* why) {
  *out = RecordColumns();
  out->issued_at.reserve(count);
  out->id_offsets.reserve(count + 1);
  out->payload_offsets.reserve(count + 1);
  out->seller_keys.reserve(count * SELLER_KEY_LEN);
  out->signatures.reserve(count * SIGNATURE_LEN);
  RecordReader reader(txn, dbi);
  for (size_t i = 0; i < count; ++i) {
    const Status s = reader.read(next_seq(i), out, why);
    if (s != Status::ok) return s;
  }
  return Status::ok;
}

Status LedgerStore::get_many(MDB_txn* snapshot, const uint64_t* seqs, size_t count, RecordColumns* out,
                             std::string* why) {
  LEDGER_READ(snapshot, why, {
    uint64_t n = 0;
    uint8_t root[MERKLE_HASH_LEN];
    const Status s = read_meta(txn, &n, root, why);
    if (s != Status::ok) return s;
    for (size_t i = 0; i < count; ++i)
      if (seqs[i] >= n)
        return fail(why, Status::out_of_range, "seq " + std::to_string(seqs[i]) + " is past the ledger's size " + std::to_string(n));
    return read_records(txn, dbi_, count, [&](size_t i) { return seqs[i]; }, out, why);
  });
}

Status LedgerStore::get_range(MDB_txn* snapshot, uint64_t start, uint64_t stop, RecordColumns* out,
                              std::string* why) {
  LEDGER_READ(snapshot, why, {
    uint64_t n = 0;
    uint8_t root[MERKLE_HASH_LEN];
    const Status s = read_meta(txn, &n, root, why);
    if (s != Status::ok) return s;
    if (start > stop || stop > n)
      return fail(why, Status::out_of_range, "range " + std::to_string(start) + ".." + std::to_string(stop) +
                                                 " is outside the ledger's " + std::to_string(n) + " records");
    return read_records(txn, dbi_, size_t(stop - start), [&](size_t i) { return start + i; }, out, why);
  });
}

namespace {

// The seller id of a key; not_found when the seller has no record.
Status seller_id_of(MDB_txn* txn, MDB_dbi seller_ids, const uint8_t key[32], uint32_t* id, std::string* why) {
  MDB_val k = mdb_val(key, SELLER_KEY_LEN), v;
  const int rc = mdb_get(txn, seller_ids, &k, &v);
  if (rc == MDB_NOTFOUND) return Status::not_found;
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "seller_ids: cannot read");
  if (v.mv_size != 4) return fail(why, Status::corrupted, "seller_ids: an id is not 4 bytes");
  *id = get_u32be(static_cast<const uint8_t*>(v.mv_data));
  return Status::ok;
}

}  // namespace

Status by_seller_scan(MDB_txn* txn, MDB_dbi by_seller, uint32_t seller, std::vector<uint64_t>* seqs,
                      std::string* why) {
  MdbCursor cursor;
  int rc = cursor.open(txn, by_seller);
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "by_seller: cannot open a cursor");
  // Per group: seek (group, seller); a hit is this seller's entry, else the seek landed on
  // a later seller of the group or on a later group.
  uint64_t group = 0;
  for (;;) {
    uint8_t key[12];
    put_u64be(key, group);
    put_u32be(key + 8, seller);
    MDB_val k = mdb_val(key, 12), v;
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return Status::ok;
    if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "by_seller: cannot read");
    if (k.mv_size != 12) return fail(why, Status::corrupted, "by_seller: a key is not 12 bytes");
    const uint8_t* kp = static_cast<const uint8_t*>(k.mv_data);
    const uint64_t first = get_u64be(kp);
    const uint32_t who = get_u32be(kp + 8);
    if (first != group) {  // a later group: look for the seller there
      group = first;
      continue;
    }
    if (who == seller) {
      if (v.mv_size % 4 != 0) return fail(why, Status::corrupted, "by_seller: a value is not a list of u32 offsets");
      const uint8_t* p = static_cast<const uint8_t*>(v.mv_data);
      for (size_t i = 0; i < v.mv_size / 4; ++i) seqs->push_back(first + get_u32be(p + 4 * i));
    }
    if (group == UINT64_MAX) return Status::ok;
    ++group;  // the next group starts at a larger seq: found by the next seek
  }
}

Status LedgerStore::find(MDB_txn* snapshot, const uint8_t seller_key[32], const uint8_t* id, size_t id_len,
                         int64_t* seq, std::string* why) {
  *seq = -1;
  if (id_len == 0 || id_len > INVOICE_ID_MAX_LEN) return Status::ok;  // no such record can exist
  LEDGER_READ(snapshot, why, {
    uint32_t seller = 0;
    Status s = seller_id_of(txn, dbi_[T_SELLER_IDS], seller_key, &seller, why);
    if (s == Status::not_found) return Status::ok;
    if (s != Status::ok) return s;
    uint8_t key[INVOICE_INDEX_KEY_MAX];
    MDB_val k = mdb_val(key, invoice_index_key(seller, id, id_len, key)), v;
    const int rc = mdb_get(txn, dbi_[T_INVOICE_INDEX], &k, &v);
    if (rc == MDB_NOTFOUND) return Status::ok;
    if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "invoice_index: cannot read");
    if (v.mv_size != 8) return fail(why, Status::corrupted, "invoice_index: a seq is not 8 bytes");
    *seq = int64_t(get_u64be(static_cast<const uint8_t*>(v.mv_data)));
    return Status::ok;
  });
}

Status LedgerStore::by_seller(MDB_txn* snapshot, const uint8_t seller_key[32], std::vector<uint64_t>* seqs,
                              std::string* why) {
  LEDGER_READ(snapshot, why, {
    seqs->clear();
    uint32_t seller = 0;
    Status s = seller_id_of(txn, dbi_[T_SELLER_IDS], seller_key, &seller, why);
    if (s == Status::not_found) return Status::ok;
    if (s != Status::ok) return s;
    return by_seller_scan(txn, dbi_[T_BY_SELLER], seller, seqs, why);
  });
}

namespace {

// prove(tree, out, &count) over the committed tree of txn (meta/size leaves), into
// *hashes; a node the tiles lack is corruption (the range was checked before).
template <typename Prove>
Status proof_from_tiles(MDB_txn* txn, MDB_dbi tiles, MerkleSuite suite, uint64_t n, TileCache* cache,
                        std::vector<uint8_t>* hashes, std::string* why, Prove prove) {
  TileNodeStore store(txn, tiles, suite, n, cache);
  MerkleTree tree(suite, store);
  hashes->resize(MERKLE_MAX_PROOF_COUNT * MERKLE_HASH_LEN);
  size_t count = 0;
  const Status s = prove(tree, hashes->data(), &count);
  if (s != Status::ok)
    return fail(why, s == Status::out_of_range ? Status::corrupted : s, "tiles: cannot read the proof's nodes");
  hashes->resize(count * MERKLE_HASH_LEN);
  return Status::ok;
}

}  // namespace

Status LedgerStore::inclusion_proof(MDB_txn* snapshot, uint64_t index, uint64_t size, std::vector<uint8_t>* hashes,
                                    std::string* why) {
  LEDGER_READ(snapshot, why, {
    uint64_t n = 0;
    uint8_t root[MERKLE_HASH_LEN];
    const Status s = read_meta(txn, &n, root, why);
    if (s != Status::ok) return s;
    if (!(index < size && size <= n))
      return fail(why, Status::out_of_range, "need seq < size <= ledger size " + std::to_string(n) + ", got seq " +
                                                 std::to_string(index) + ", size " + std::to_string(size));
    return proof_from_tiles(txn, dbi_[T_TILES], suite_, n, tile_cache_.get(), hashes, why,
                            [&](const MerkleTree& tree, uint8_t* out, size_t* count) {
                              return tree.inclusion_proof(index, size, out, count);
                            });
  });
}

Status LedgerStore::consistency_proof(MDB_txn* snapshot, uint64_t size1, uint64_t size2,
                                      std::vector<uint8_t>* hashes, std::string* why) {
  LEDGER_READ(snapshot, why, {
    uint64_t n = 0;
    uint8_t root[MERKLE_HASH_LEN];
    const Status s = read_meta(txn, &n, root, why);
    if (s != Status::ok) return s;
    if (!(0 < size1 && size1 <= size2 && size2 <= n))
      return fail(why, Status::out_of_range, "need 0 < old_size <= new_size <= ledger size " + std::to_string(n) +
                                                 " (a proof from the empty tree proves nothing), got " +
                                                 std::to_string(size1) + " -> " + std::to_string(size2));
    return proof_from_tiles(txn, dbi_[T_TILES], suite_, n, tile_cache_.get(), hashes, why,
                            [&](const MerkleTree& tree, uint8_t* out, size_t* count) {
                              return tree.consistency_proof(size1, size2, out, count);
                            });
  });
}

Status LedgerStore::import_progress(MDB_txn* snapshot, const std::string& key, std::string* value, bool* found,
                                    std::string* why) {
  *found = false;
  if (!imports_present_) return Status::ok;
  if (key.empty() || key.size() > 511) return fail(why, Status::invalid_argument, "an import key is 1..511 bytes");
  LEDGER_READ(snapshot, why, {
    MDB_val k = mdb_val(key.data(), key.size()), v;
    const int rc = mdb_get(txn, dbi_[T_IMPORTS], &k, &v);
    if (rc == MDB_NOTFOUND) return Status::ok;
    if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "imports: cannot read");
    value->assign(static_cast<const char*>(v.mv_data), v.mv_size);
    *found = true;
    return Status::ok;
  });
}

Status LedgerStore::checkpoints(MDB_txn* snapshot, std::vector<StoredCheckpointRow>* out, std::string* why) {
  LEDGER_READ(snapshot, why, {
    out->clear();
    MdbCursor cursor;
    int rc = cursor.open(txn, dbi_[T_CHECKPOINTS]);
    if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "checkpoints: cannot open a cursor");
    MDB_val k, v;
    for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
      if (k.mv_size < 9 || v.mv_size < 33) return fail(why, Status::corrupted, "checkpoints: an entry is too short");
      StoredCheckpointRow row;
      row.size = get_u64be(static_cast<const uint8_t*>(k.mv_data));
      row.origin.assign(static_cast<const char*>(k.mv_data) + 8, k.mv_size - 8);
      row.public_key.assign(static_cast<const char*>(v.mv_data), 32);
      row.note.assign(static_cast<const char*>(v.mv_data) + 32, v.mv_size - 32);
      out->push_back(std::move(row));
    }
    if (rc != MDB_NOTFOUND) return mdb_fail(why, rc, "checkpoints: cannot read");
    return Status::ok;
  });
}

Status LedgerStore::populate(uint64_t* bytes, std::string* why) {
  Status s = usable(why);
  if (s != Status::ok) return s;
  SharedMapLock lock(map_lock_);  // the map stays where it is meanwhile
  MDB_envinfo info;
  const int rc = mdb_env_info(env_.get(), &info);
  if (rc != MDB_SUCCESS) return mdb_fail(why, rc, "cannot read the environment's map");
  const uint64_t used = (uint64_t(info.me_last_pgno) + 1) * page_size_;
  // LMDB tells the map's address only for MDB_FIXEDMAP: find data.mdb's mapping in
  // /proc/self/maps instead.
  char real[PATH_MAX];
  if (realpath((path_ + "/data.mdb").c_str(), real) == nullptr)
    return fail(why, Status::io_error, "cannot resolve " + path_ + "/data.mdb: " + std::strerror(errno));
  uint8_t* base = nullptr;
  uint64_t mapped = 0;
  if (FILE* maps = std::fopen("/proc/self/maps", "r")) {
    char line[PATH_MAX + 256];
    while (base == nullptr && std::fgets(line, sizeof line, maps) != nullptr) {
      unsigned long lo = 0, hi = 0;
      char* name = std::strchr(line, '/');
      if (name == nullptr || std::sscanf(line, "%lx-%lx", &lo, &hi) != 2) continue;
      name[std::strcspn(name, "\n")] = '\0';
      if (std::strcmp(name, real) == 0) {
        base = reinterpret_cast<uint8_t*>(lo);
        mapped = uint64_t(hi - lo);
      }
    }
    std::fclose(maps);
  }
  if (base == nullptr) return fail(why, Status::not_found, std::string("no mapping of ") + real + " in /proc/self/maps");
  const uint64_t len = std::min(used, mapped);
#ifdef MADV_POPULATE_READ
  if (madvise(base, size_t(len), MADV_POPULATE_READ) == 0) {
    *bytes = len;
    return Status::ok;
  }
#endif
  // An older kernel: read one byte of every page.
  volatile uint8_t sink = 0;
  for (uint64_t off = 0; off < len; off += page_size_) sink = sink ^ base[off];
  (void)sink;
  *bytes = len;
  return Status::ok;
}

Status LedgerStore::stats(std::vector<TableStat>* out, std::string* why) {
  LEDGER_READ(nullptr, why, {
    out->clear();
    for (unsigned t = 0; t < TABLE_COUNT; ++t) {
      MDB_stat st;
      const int rc = mdb_stat(txn, dbi_[t], &st);
      if (rc != MDB_SUCCESS) return mdb_fail(why, rc, std::string("cannot stat table ") + table_name(t));
      TableStat row;
      row.name = table_name(t);
      row.entries = st.ms_entries;
      row.depth = st.ms_depth;
      row.branch_pages = st.ms_branch_pages;
      row.leaf_pages = st.ms_leaf_pages;
      row.overflow_pages = st.ms_overflow_pages;
      out->push_back(row);
    }
    return Status::ok;
  });
}

// --- writes -------------------------------------------------------------------------------

Status LedgerStore::write_txn_raw(size_t size_hint, Status (*body)(void*, MDB_txn*, bool*), void* ctx,
                                  std::string* why) {
  Status s = usable(why);
  if (s != Status::ok) return s;
  if (readonly_) return fail(why, Status::read_only, "the ledger at " + path_ + " is open read-only (readonly=True)");
  std::lock_guard<std::mutex> writer(write_mutex_);
  for (int attempt = 0;; ++attempt) {
    int rc;
    {
      SharedMapLock lock(map_lock_);
      MdbTxn txn;
      rc = txn.begin(env_.get(), 0);
      if (rc == MDB_SUCCESS) {
        bool commit = true;
        s = body(ctx, txn.get(), &commit);
        if (s == Status::ok && !commit) return Status::ok;  // aborted by MdbTxn: nothing written
        if (s == Status::ok) {
          rc = txn.commit();
          if (rc == MDB_SUCCESS) return Status::ok;
          if (rc != MDB_MAP_FULL) return mdb_fail(why, rc, "cannot commit the write transaction on " + path_);
        } else if (s != Status::map_full) {
          return s;  // aborted by MdbTxn: nothing written
        } else {
          rc = MDB_MAP_FULL;
        }
      }
    }
    if (rc == MDB_MAP_RESIZED) {
      s = adopt_map_size(why);
    } else if (rc == MDB_MAP_FULL) {
      if (attempt >= 40) return fail(why, Status::map_full, "the map of " + path_ + " stays full after growing");
      s = grow_map(uint64_t(size_hint) * 2 + (uint64_t(1) << 20), why);
    } else {
      return mdb_fail(why, rc, "cannot begin a write transaction on " + path_);
    }
    if (s != Status::ok) return s;
  }
}

Status LedgerStore::put_checkpoint(uint64_t size, const std::string& origin, const uint8_t public_key[32],
                                   const std::string& note, std::string* why) {
  auto body = [&](MDB_txn* txn, bool*) -> Status {
        uint64_t n = 0;
        uint8_t root[MERKLE_HASH_LEN];
        Status s = read_meta(txn, &n, root, why);
        if (s != Status::ok) return s;
        if (size > n) return fail(why, Status::out_of_range, "checkpoint size " + std::to_string(size) + " is past the ledger's size");
        std::string key(8, '\0');
        put_u64be(reinterpret_cast<uint8_t*>(&key[0]), size);
        key += origin;
        if (key.size() > 511) return fail(why, Status::invalid_argument, "checkpoint origin is too long (at most 503 bytes)");
        std::string value(reinterpret_cast<const char*>(public_key), 32);
        value += note;
        MDB_val k = mdb_val(key.data(), key.size()), v = mdb_val(value.data(), value.size());
        const int rc = mdb_put(txn, dbi_[T_CHECKPOINTS], &k, &v, 0);
        if (rc != MDB_SUCCESS) return rc == MDB_MAP_FULL ? Status::map_full : mdb_fail(why, rc, "checkpoints: cannot write");
        return Status::ok;
  };
  return write_txn(note.size() + origin.size() + 64, body, why);
}

}  // namespace ledger_core
