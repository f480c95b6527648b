// Bindings for the ledger store (native/store/): the Store and Snapshot classes and the
// invoice envelope helpers. The facade (ledger_core/ledger.py, invoice.py) shapes
// results into typed objects; this layer pins columns, releases the GIL around LMDB and
// batch work, and turns statuses into exceptions with the store's message.
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings.h"
#include "merkle/merkle_hash.h"
#include "store/ledger_format.h"
#include "store/ledger_store.h"

namespace ledger_core {
namespace {

// The facade's Packed class, looked up once (never released: it outlives the module).
py::handle packed_type() {
  static PyObject* type = nullptr;
  if (type == nullptr) type = py::module_::import("ledger_core._buffers").attr("Packed").cast<py::object>().release().ptr();
  return type;
}

// A batch column as pointers and lengths: a list or tuple of bytes-like items (str too
// for invoice ids: UTF-8, a lone surrogate making the item malformed), a 2-D uint8 array
// (its rows), or a ledger_core.Packed. Everything stays pinned while this object lives.
class PinnedColumn {
 public:
  PinnedColumn(py::handle obj, const char* arg, bool allow_str) {
    if (py::isinstance(obj, packed_type())) {
      var_.reset(new PinnedVarItems(obj.attr("buffer"), obj.attr("offsets"), arg));
      const VarItems& items = var_->items();
      column.ptr.resize(items.count);
      column.len.resize(items.count);
      for (size_t i = 0; i < items.count; ++i) {
        column.ptr[i] = items.item(i);
        column.len[i] = items.item_len(i);
      }
      return;
    }
    if (PyList_Check(obj.ptr()) || PyTuple_Check(obj.ptr())) {
      // A tuple of the items, held: another thread may change a list while the GIL is
      // released, and the pointers below borrow from the items.
      held_ = py::reinterpret_steal<py::object>(PySequence_Tuple(obj.ptr()));
      if (!held_) throw py::error_already_set();
      const size_t n = size_t(PyTuple_GET_SIZE(held_.ptr()));
      PyObject** items = &PyTuple_GET_ITEM(held_.ptr(), 0);
      column.ptr.resize(n);
      column.len.resize(n);
      for (size_t i = 0; i < n; ++i) {
        PyObject* item = items[i];
        if (PyBytes_Check(item)) {
          column.ptr[i] = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(item));
          column.len[i] = size_t(PyBytes_GET_SIZE(item));
        } else if (allow_str && PyUnicode_Check(item)) {
          Py_ssize_t len = 0;
          const char* utf8 = PyUnicode_AsUTF8AndSize(item, &len);
          if (utf8 == nullptr) {
            PyErr_Clear();  // a lone surrogate: not UTF-8, so the item is malformed
            column.ptr[i] = nullptr;
            column.len[i] = 0;
          } else {
            column.ptr[i] = reinterpret_cast<const uint8_t*>(utf8);
            column.len[i] = size_t(len);
          }
        } else {
          pins_.emplace_back(py::handle(item), ArgName(arg, i));
          column.ptr[i] = pins_.back().data();
          column.len[i] = pins_.back().size();
        }
      }
      return;
    }
    if (!PyBytes_Check(obj.ptr()) && PyObject_CheckBuffer(obj.ptr())) {
      rows_.reset(new PinnedRows(obj, arg));
      const FixedItems& items = rows_->items();
      column.ptr.resize(items.count);
      column.len.assign(items.count, items.item_len);
      for (size_t i = 0; i < items.count; ++i) column.ptr[i] = items.item(i);
      return;
    }
    throw_error(Status::invalid_type, std::string(arg) + " must be a list of " + (allow_str ? "str" : "bytes") +
                                          ", a 2-D uint8 array or a ledger_core.Packed, got " + Py_TYPE(obj.ptr())->tp_name);
  }
  ItemColumn column;

 private:
  py::object held_;
  std::deque<PinnedBytes> pins_;
  std::unique_ptr<PinnedRows> rows_;
  std::unique_ptr<PinnedVarItems> var_;
};

[[noreturn]] void raise(Status s, const std::string& why) { throw_error(s, why.empty() ? lc_strerror(s) : why); }

py::bytes hash_bytes(const uint8_t* h) { return py::bytes(reinterpret_cast<const char*>(h), MERKLE_HASH_LEN); }

py::list hash_list(const std::vector<uint8_t>& hashes) {
  const size_t n = hashes.size() / MERKLE_HASH_LEN;
  py::list out(n);
  for (size_t i = 0; i < n; ++i) out[i] = hash_bytes(hashes.data() + i * MERKLE_HASH_LEN);
  return out;
}

py::tuple record_columns(const RecordColumns& r) {
  py::list ids(r.count), payloads(r.count);
  for (size_t i = 0; i < r.count; ++i) {
    const char* id = reinterpret_cast<const char*>(r.ids.data()) + r.id_offsets[i];
    PyObject* text = PyUnicode_DecodeUTF8(id, Py_ssize_t(r.id_offsets[i + 1] - r.id_offsets[i]), "surrogateescape");
    if (text == nullptr) throw py::error_already_set();
    ids[i] = py::reinterpret_steal<py::object>(text);
    payloads[i] = py::bytes(reinterpret_cast<const char*>(r.payloads.data()) + r.payload_offsets[i],
                            size_t(r.payload_offsets[i + 1] - r.payload_offsets[i]));
  }
  py::array_t<int64_t> issued(static_cast<py::ssize_t>(r.count));
  if (r.count) std::memcpy(issued.mutable_data(), r.issued_at.data(), r.count * sizeof(int64_t));
  py::array_t<uint8_t> sellers = new_rows(r.count, SELLER_KEY_LEN), sigs = new_rows(r.count, SIGNATURE_LEN);
  if (r.count) {
    std::memcpy(sellers.mutable_data(), r.seller_keys.data(), r.seller_keys.size());
    std::memcpy(sigs.mutable_data(), r.signatures.data(), r.signatures.size());
  }
  return py::make_tuple(ids, issued, sellers, sigs, payloads);
}

// The read methods of a Store and of a Snapshot: `txn` is null for a Store (a fresh view
// per call) or the snapshot's transaction.
struct Reads {
  static uint64_t size(LedgerStore& s, MDB_txn* txn) {
    uint64_t n = 0;
    std::string why;
    const Status st = s.size(txn, &n, &why);
    if (st != Status::ok) raise(st, why);
    return n;
  }
  static py::bytes root(LedgerStore& s, MDB_txn* txn, const py::object& size_obj) {
    const uint64_t size = uint_arg(size_obj, "size");
    uint8_t out[MERKLE_HASH_LEN];
    std::string why;
    const Status st = s.root(txn, size, out, &why);
    if (st != Status::ok) raise(st, why);
    return hash_bytes(out);
  }
  static py::bytes leaf_hash(LedgerStore& s, MDB_txn* txn, const py::object& seq_obj) {
    const uint64_t seq = uint_arg(seq_obj, "seq");
    uint8_t out[MERKLE_HASH_LEN];
    std::string why;
    const Status st = s.leaf_hash(txn, seq, out, &why);
    if (st != Status::ok) raise(st, why);
    return hash_bytes(out);
  }
  static py::tuple get_many(LedgerStore& s, MDB_txn* txn, const py::object& seqs_obj) {
    PinnedBytes seqs(seqs_obj, "seqs");
    if (seqs.view() == nullptr || seqs.view()->itemsize != 8 || seqs.size() % 8 != 0)
      throw_error(Status::invalid_type, "seqs must be a uint64 array");
    const uint64_t* p = reinterpret_cast<const uint64_t*>(seqs.data());
    const size_t n = seqs.size() / 8;
    RecordColumns cols;
    std::string why;
    const Status st = run_native(n * 1024, [&] { return s.get_many(txn, p, n, &cols, &why); });
    if (st != Status::ok) raise(st, why);
    return record_columns(cols);
  }
  static py::tuple get_range(LedgerStore& s, MDB_txn* txn, const py::object& start_obj, const py::object& stop_obj) {
    const uint64_t start = uint_arg(start_obj, "start"), stop = uint_arg(stop_obj, "stop");
    RecordColumns cols;
    std::string why;
    const Status st = run_native(stop > start ? size_t(stop - start) * 1024 : 0,
                                 [&] { return s.get_range(txn, start, stop, &cols, &why); });
    if (st != Status::ok) raise(st, why);
    return record_columns(cols);
  }
  // invoice_id: a str (its UTF-8; one with a lone surrogate matches nothing) or bytes-like.
  static int64_t find(LedgerStore& s, MDB_txn* txn, const py::object& key_obj, const py::object& id_obj) {
    PinnedBytes key(key_obj, "seller_key", SELLER_KEY_LEN);
    int64_t seq = -1;
    std::string why;
    Status st;
    if (PyUnicode_Check(id_obj.ptr())) {
      Py_ssize_t len = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(id_obj.ptr(), &len);
      if (utf8 == nullptr) {
        PyErr_Clear();
        return -1;
      }
      st = s.find(txn, key.data(), reinterpret_cast<const uint8_t*>(utf8), size_t(len), &seq, &why);
    } else {
      PinnedBytes id(id_obj, "invoice_id");
      st = s.find(txn, key.data(), id.data(), id.size(), &seq, &why);
    }
    if (st != Status::ok) raise(st, why);
    return seq;
  }
  // One record as (invoice_id, issued_at, seller_key, signature, payload).
  static py::tuple get(LedgerStore& s, MDB_txn* txn, const py::object& seq_obj) {
    const uint64_t seq = uint_arg(seq_obj, "seq");
    RecordColumns r;
    std::string why;
    const Status st = s.get_many(txn, &seq, 1, &r, &why);
    if (st != Status::ok) raise(st, why);
    PyObject* id = PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(r.ids.data()), Py_ssize_t(r.ids.size()), "surrogateescape");
    if (id == nullptr) throw py::error_already_set();
    return py::make_tuple(py::reinterpret_steal<py::object>(id), r.issued_at[0],
                          py::bytes(reinterpret_cast<const char*>(r.seller_keys.data()), SELLER_KEY_LEN),
                          py::bytes(reinterpret_cast<const char*>(r.signatures.data()), SIGNATURE_LEN),
                          py::bytes(reinterpret_cast<const char*>(r.payloads.data()), r.payloads.size()));
  }
  static py::array_t<uint64_t> by_seller(LedgerStore& s, MDB_txn* txn, const py::object& key_obj) {
    PinnedBytes key(key_obj, "seller_key", SELLER_KEY_LEN);
    std::vector<uint64_t> seqs;
    std::string why;
    const Status st = run_native(RELEASE_GIL_MIN_BYTES, [&] { return s.by_seller(txn, key.data(), &seqs, &why); });
    if (st != Status::ok) raise(st, why);
    py::array_t<uint64_t> out(static_cast<py::ssize_t>(seqs.size()));
    if (!seqs.empty()) std::memcpy(out.mutable_data(), seqs.data(), seqs.size() * 8);
    return out;
  }
  static py::list inclusion_proof(LedgerStore& s, MDB_txn* txn, const py::object& index_obj, const py::object& size_obj) {
    const uint64_t index = uint_arg(index_obj, "seq"), size = uint_arg(size_obj, "size");
    std::vector<uint8_t> hashes;
    std::string why;
    const Status st = s.inclusion_proof(txn, index, size, &hashes, &why);
    if (st != Status::ok) raise(st, why);
    return hash_list(hashes);
  }
  static py::list consistency_proof(LedgerStore& s, MDB_txn* txn, const py::object& a_obj, const py::object& b_obj) {
    const uint64_t a = uint_arg(a_obj, "old_size"), b = uint_arg(b_obj, "new_size");
    std::vector<uint8_t> hashes;
    std::string why;
    const Status st = s.consistency_proof(txn, a, b, &hashes, &why);
    if (st != Status::ok) raise(st, why);
    return hash_list(hashes);
  }
  static py::object import_progress(LedgerStore& s, MDB_txn* txn, const py::object& key_obj) {
    const std::string key = str_arg(key_obj, "source");
    std::string value, why;
    bool found = false;
    const Status st = s.import_progress(txn, key, &value, &found, &why);
    if (st != Status::ok) raise(st, why);
    if (!found) return py::none();
    return py::str(value);
  }
  static py::list checkpoints(LedgerStore& s, MDB_txn* txn) {
    std::vector<StoredCheckpointRow> rows;
    std::string why;
    const Status st = s.checkpoints(txn, &rows, &why);
    if (st != Status::ok) raise(st, why);
    py::list out;
    for (const StoredCheckpointRow& r : rows)
      out.append(py::make_tuple(r.size, py::str(r.origin), py::bytes(r.public_key), py::str(r.note)));
    return out;
  }
};

// A batch's columns pinned as an AppendInput for as long as this object lives.
struct PinnedBatch {
  PinnedBatch(const py::object& ids, const py::object& issued_at, const py::object& sellers, const py::object& sigs,
              const py::object& payloads, const py::object& payload_hashes, const py::object& verify,
              const py::object& threads)
      : id_col(ids, "invoice_ids", true),
        seller_col(sellers, "seller_keys", false),
        sig_col(sigs, "signatures", false),
        payload_col(payloads, "payloads", false),
        issued(issued_at, "issued_at") {
    if (issued.view() == nullptr || issued.view()->itemsize != 8)
      throw_error(Status::invalid_type, "issued_at must be an int64 array");
    in.count = issued.size() / 8;
    for (const ItemColumn* c : {&id_col.column, &seller_col.column, &sig_col.column, &payload_col.column})
      if (c->ptr.size() != in.count)
        throw_error(Status::invalid_argument, "batch columns differ in length: issued_at has " + std::to_string(in.count) +
                                                  " items, another column " + std::to_string(c->ptr.size()));
    in.ids = std::move(id_col.column);
    in.seller_keys = std::move(seller_col.column);
    in.signatures = std::move(sig_col.column);
    in.payloads = std::move(payload_col.column);
    in.issued_at = reinterpret_cast<const int64_t*>(issued.data());
    if (!payload_hashes.is_none()) {
      hashes.reset(new PinnedRows(payload_hashes, "payload_hashes", PAYLOAD_HASH_LEN));
      if (hashes->items().count != in.count) throw_error(Status::invalid_argument, "payload_hashes must have one row per item");
      in.payload_hashes = hashes->items().data;
    }
    in.verify = verify.cast<bool>();
    in.threads = threads_arg(threads);
  }

  void set_write_options(const py::object& skip, const py::object& progress) {
    in.skip = skip.cast<bool>();
    in.has_progress = false;
    in.progress_key.clear();
    in.progress_value.clear();
    if (progress.is_none()) return;
    if (!PyTuple_Check(progress.ptr()) || PyTuple_GET_SIZE(progress.ptr()) != 2)
      throw_error(Status::invalid_type, "progress must be None or a (key, value) tuple of str");
    in.progress_key = str_arg(py::reinterpret_borrow<py::tuple>(progress)[0], "progress key");
    in.progress_value = str_arg(py::reinterpret_borrow<py::tuple>(progress)[1], "progress value");
    if (in.progress_key.empty() || in.progress_key.size() > 511)
      throw_error(Status::invalid_argument, "progress key must be 1..511 bytes of UTF-8");
    in.has_progress = true;
  }

  PinnedColumn id_col, seller_col, sig_col, payload_col;
  PinnedBytes issued;
  std::unique_ptr<PinnedRows> hashes;
  AppendInput in;
};

// Store.prepare's result: the pinned batch and its prepared chunks, for append_prepared.
struct PyPrepared {
  PyPrepared(std::shared_ptr<LedgerStore> s, const py::object& ids, const py::object& issued_at,
             const py::object& sellers, const py::object& sigs, const py::object& payloads,
             const py::object& payload_hashes, const py::object& verify, const py::object& threads)
      : store(std::move(s)), batch(ids, issued_at, sellers, sigs, payloads, payload_hashes, verify, threads) {}
  std::shared_ptr<LedgerStore> store;
  PinnedBatch batch;
  PreparedBatchPtr prepared;
  std::mutex mutex;
};

py::tuple append_result(const AppendInput& in, const AppendResult& out) {
  py::array_t<uint8_t> reasons(static_cast<py::ssize_t>(in.count));
  py::array_t<int64_t> details(static_cast<py::ssize_t>(in.count));
  if (in.count) {
    std::memcpy(reasons.mutable_data(), out.reasons.data(), in.count);
    std::memcpy(details.mutable_data(), out.details.data(), in.count * sizeof(int64_t));
  }
  return py::make_tuple(out.first_seq, out.appended, out.size, hash_bytes(out.root), reasons, details);
}

class PyStore {
 public:
  PyStore(const py::object& path_obj, const py::object& create, const py::object& readonly, const py::object& suite,
          const py::object& map_size, const py::object& durability) {
    const std::string path = str_arg(path_obj, "path");
    StoreOptions options;
    options.create = create.cast<bool>();
    options.readonly = readonly.cast<bool>();
    options.suite = suite.is_none() ? -1 : int(uint_arg(suite, "suite", 1));
    options.map_size = uint_arg(map_size, "map_size");
    options.durability_full = uint_arg(durability, "durability", 1) == 0;
    readonly_ = options.readonly;
    std::string why;
    Status st;
    {
      py::gil_scoped_release release;
      st = LedgerStore::open(path, options, &store_, &why);
    }
    if (st != Status::ok) raise(st, why);
  }

  // A read-only handle may share a writer's environment (one per process): it still
  // refuses writes.
  std::shared_ptr<LedgerStore> writable_store() const {
    std::shared_ptr<LedgerStore> s = store();
    if (readonly_) throw_error(Status::read_only, "the ledger at " + s->path() + " is open read-only (readonly=True) through this handle");
    return s;
  }

  std::shared_ptr<LedgerStore> store() const {
    if (!store_) throw_error(Status::closed, "the ledger is closed");
    std::string why;
    const Status st = store_->usable(&why);
    if (st != Status::ok) raise(st, why);
    return store_;
  }

  void close() {
    std::shared_ptr<LedgerStore> last;
    last.swap(store_);
    py::gil_scoped_release release;
    last.reset();
  }

  int suite() const { return int(store()->suite()); }
  uint64_t map_size() const { return store()->map_size(); }

  py::tuple append(const py::object& ids, const py::object& issued_at, const py::object& sellers, const py::object& sigs,
                   const py::object& payloads, const py::object& payload_hashes, const py::object& verify,
                   const py::object& skip, const py::object& threads, const py::object& progress) {
    std::shared_ptr<LedgerStore> s = writable_store();
    PinnedBatch batch(ids, issued_at, sellers, sigs, payloads, payload_hashes, verify, threads);
    batch.set_write_options(skip, progress);
    AppendResult out;
    std::string why;
    Status st;
    {
      py::gil_scoped_release release;  // always: the commit syncs to disk
      st = s->append(batch.in, &out, &why);
    }
    if (st != Status::ok) raise(st, why);
    return append_result(batch.in, out);
  }

  PyPrepared* prepare(const py::object& ids, const py::object& issued_at, const py::object& sellers,
                      const py::object& sigs, const py::object& payloads, const py::object& payload_hashes,
                      const py::object& verify, const py::object& threads) {
    std::shared_ptr<LedgerStore> s = writable_store();
    std::unique_ptr<PyPrepared> p(new PyPrepared(s, ids, issued_at, sellers, sigs, payloads, payload_hashes, verify,
                                                 threads));
    std::string why;
    Status st;
    {
      py::gil_scoped_release release;
      st = s->prepare(p->batch.in, &p->prepared, &why);
    }
    if (st != Status::ok) raise(st, why);
    return p.release();
  }

  py::tuple append_prepared(PyPrepared& p, const py::object& skip, const py::object& progress) {
    std::shared_ptr<LedgerStore> s = writable_store();
    if (p.store != s || !p.prepared) throw_error(Status::invalid_argument, "the batch was prepared for another ledger");
    std::unique_lock<std::mutex> in_use(p.mutex, std::try_to_lock);
    if (!in_use.owns_lock()) throw_error(Status::invalid_argument, "the prepared batch is being appended by another thread");
    p.batch.set_write_options(skip, progress);
    AppendResult out;
    std::string why;
    Status st;
    {
      py::gil_scoped_release release;
      st = s->append_prepared(p.batch.in, *p.prepared, &out, &why);
    }
    if (st != Status::ok) raise(st, why);
    return append_result(p.batch.in, out);
  }

  void put_checkpoint(const py::object& size_obj, const py::object& origin_obj, const py::object& key_obj,
                      const py::object& note_obj) {
    std::shared_ptr<LedgerStore> s = writable_store();
    const uint64_t size = uint_arg(size_obj, "size");
    const std::string origin = str_arg(origin_obj, "origin"), note = str_arg(note_obj, "note");
    PinnedBytes key(key_obj, "public_key", 32);
    std::string why;
    Status st;
    {
      py::gil_scoped_release release;
      st = s->put_checkpoint(size, origin, key.data(), note, &why);
    }
    if (st != Status::ok) raise(st, why);
  }

  py::tuple audit(const py::object& threads_obj, const py::object& max_obj) {
    std::shared_ptr<LedgerStore> s = store();
    const size_t threads = threads_arg(threads_obj);
    const size_t max_problems = size_t(uint_arg(max_obj, "max_problems"));
    AuditResult out;
    std::string why;
    Status st;
    {
      py::gil_scoped_release release;
      st = s->audit(threads, max_problems, &out, &why);
    }
    if (st != Status::ok) raise(st, why);
    py::list problems;
    for (const AuditProblem& p : out.problems) problems.append(py::make_tuple(py::str(p.table), p.seq, py::str(p.message)));
    return py::make_tuple(out.size, hash_bytes(out.root), out.records, problems, out.problem_count);
  }

  uint64_t populate() {
    std::shared_ptr<LedgerStore> s = store();
    uint64_t bytes = 0;
    std::string why;
    Status st;
    {
      py::gil_scoped_release release;
      st = s->populate(&bytes, &why);
    }
    if (st != Status::ok) raise(st, why);
    return bytes;
  }

  py::dict stats() {
    std::shared_ptr<LedgerStore> s = store();
    std::vector<TableStat> rows;
    std::string why;
    const Status st = s->stats(&rows, &why);
    if (st != Status::ok) raise(st, why);
    py::dict out;
    for (const TableStat& r : rows) {
      py::dict row;
      row["entries"] = r.entries;
      row["depth"] = r.depth;
      row["branch_pages"] = r.branch_pages;
      row["leaf_pages"] = r.leaf_pages;
      row["overflow_pages"] = r.overflow_pages;
      out[py::str(r.name)] = row;
    }
    out["page_size"] = s->page_size();
    out["map_size"] = s->map_size();
    return out;
  }

 private:
  std::shared_ptr<LedgerStore> store_;
  bool readonly_ = false;
};

// A read transaction held across calls; one call at a time.
class PySnapshot {
 public:
  explicit PySnapshot(const PyStore& owner) : store_(owner.store()) {
    std::string why;
    const Status st = store_->begin_snapshot(&txn_, &why);
    if (st != Status::ok) raise(st, why);
  }
  ~PySnapshot() { end(); }

  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    end();
  }

  template <typename Fn>
  auto with(Fn fn) -> decltype(fn(std::declval<LedgerStore&>(), (MDB_txn*)nullptr)) {
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    if (!lock.try_lock()) {
      py::gil_scoped_release release;
      lock.lock();
    }
    if (txn_ == nullptr) throw_error(Status::closed, "the snapshot is closed");
    std::string why;
    const Status st = store_->usable(&why);
    if (st != Status::ok) raise(st, why);
    return fn(*store_, txn_);
  }

 private:
  void end() {
    if (txn_ != nullptr) store_->end_snapshot(txn_);
    txn_ = nullptr;
  }
  std::shared_ptr<LedgerStore> store_;
  MDB_txn* txn_ = nullptr;
  std::mutex mutex_;
};

template <typename Cls, typename Bind>
void bind_reads(Cls& cls, Bind with) {
  cls.def("size", [with](py::object self) { return with(self, [](LedgerStore& s, MDB_txn* t) { return Reads::size(s, t); }); });
  cls.def("root", [with](py::object self, py::object size) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::root(s, t, size); });
  });
  cls.def("leaf_hash", [with](py::object self, py::object seq) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::leaf_hash(s, t, seq); });
  });
  cls.def("get", [with](py::object self, py::object seq) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::get(s, t, seq); });
  });
  cls.def("get_many", [with](py::object self, py::object seqs) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::get_many(s, t, seqs); });
  });
  cls.def("get_range", [with](py::object self, py::object a, py::object b) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::get_range(s, t, a, b); });
  });
  cls.def("find", [with](py::object self, py::object key, py::object id) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::find(s, t, key, id); });
  });
  cls.def("by_seller", [with](py::object self, py::object key) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::by_seller(s, t, key); });
  });
  cls.def("inclusion_proof", [with](py::object self, py::object index, py::object size) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::inclusion_proof(s, t, index, size); });
  });
  cls.def("consistency_proof", [with](py::object self, py::object a, py::object b) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::consistency_proof(s, t, a, b); });
  });
  cls.def("import_progress", [with](py::object self, py::object key) {
    return with(self, [&](LedgerStore& s, MDB_txn* t) { return Reads::import_progress(s, t, key); });
  });
  cls.def("checkpoints", [with](py::object self) {
    return with(self, [](LedgerStore& s, MDB_txn* t) { return Reads::checkpoints(s, t); });
  });
}

py::bytes payload_hash(const py::object& payload) {
  PinnedBytes in(payload, "payload");
  uint8_t out[PAYLOAD_HASH_LEN];
  run_native(in.size(), [&] { invoice_payload_hash(in.data(), in.size(), out); });
  return py::bytes(reinterpret_cast<const char*>(out), PAYLOAD_HASH_LEN);
}

py::bytes envelope(const py::object& id_obj, const py::object& issued_obj, const py::object& hash_obj) {
  PinnedBytes id(id_obj, "invoice_id");
  PinnedBytes hash(hash_obj, "payload_hash", PAYLOAD_HASH_LEN);
  if (id.size() == 0 || id.size() > INVOICE_ID_MAX_LEN || !utf8_valid(id.data(), id.size()))
    throw_error(Status::invalid_argument, "invoice_id must be 1..128 bytes of valid UTF-8, got " + std::to_string(id.size()) + " bytes");
  if (PyBool_Check(issued_obj.ptr()) || !PyLong_Check(issued_obj.ptr()))
    throw_error(Status::invalid_type, "issued_at must be an int");
  int overflow = 0;
  const long long issued = PyLong_AsLongLongAndOverflow(issued_obj.ptr(), &overflow);
  if (overflow != 0) throw_error(Status::out_of_range, "issued_at must fit an int64 (milliseconds since the epoch)");
  uint8_t* out = nullptr;
  py::bytes result = new_bytes(ENVELOPE_FIXED_LEN + id.size(), &out);
  invoice_envelope(id.data(), id.size(), int64_t(issued), hash.data(), out);
  return result;
}

}  // namespace

void bind_store(py::module_& m) {
  m.attr("INVOICE_ID_MAX_LEN") = INVOICE_ID_MAX_LEN;
  m.attr("PAYLOAD_MAX_LEN") = PAYLOAD_MAX_LEN;
  py::dict reasons;
  reasons["DUPLICATE_IN_LEDGER"] = int(REJECT_DUPLICATE_IN_LEDGER);
  reasons["DUPLICATE_IN_BATCH"] = int(REJECT_DUPLICATE_IN_BATCH);
  reasons["MALFORMED"] = int(REJECT_MALFORMED);
  m.attr("LEDGER_REJECT_REASONS") = reasons;
  py::list fields;
  for (int f = 0; f < RECORD_FIELD_COUNT; ++f) fields.append(record_field_name(RecordField(f)));
  m.attr("LEDGER_FIELDS") = py::tuple(fields);
  m.def("ledger_field_rule", [](const py::object& code) {
    return std::string(record_field_rule(RecordField(uint_arg(code, "field", RECORD_FIELD_COUNT - 1))));
  });
  m.def("invoice_payload_key", [] { return py::bytes(reinterpret_cast<const char*>(invoice_payload_key()), 32); });
  m.def("invoice_payload_hash", &payload_hash);
  m.def("invoice_envelope", &envelope);
  m.def("invoice_check", [](const py::object& ids, const py::object& issued_at, const py::object& sellers,
                            const py::object& sigs, const py::object& payloads, const py::object& payload_hashes,
                            const py::object& verify, const py::object& threads, const py::object& suite) {
    const MerkleSuite s = suite_arg(suite);
    PinnedBatch batch(ids, issued_at, sellers, sigs, payloads, payload_hashes, verify, threads);
    InvoiceCheck out;
    std::string why;
    Status st;
    {
      py::gil_scoped_release release;
      st = check_invoices(batch.in, s, &out, &why);
    }
    if (st != Status::ok) raise(st, why);
    const size_t n = batch.in.count;
    py::array_t<uint8_t> reasons(static_cast<py::ssize_t>(n));
    py::array_t<int64_t> details(static_cast<py::ssize_t>(n));
    py::array_t<uint8_t> hashes = new_rows(n, PAYLOAD_HASH_LEN), leaves = new_rows(n, MERKLE_HASH_LEN);
    if (n) {
      std::memcpy(reasons.mutable_data(), out.reasons.data(), n);
      std::memcpy(details.mutable_data(), out.details.data(), n * sizeof(int64_t));
      std::memcpy(hashes.mutable_data(), out.payload_hashes.data(), out.payload_hashes.size());
      std::memcpy(leaves.mutable_data(), out.leaf_hashes.data(), out.leaf_hashes.size());
    }
    return py::make_tuple(reasons, details, hashes, leaves);
  });

  py::class_<PyStore> store(m, "Store");
  store.def(py::init<py::object, py::object, py::object, py::object, py::object, py::object>());
  store.def_property_readonly("suite", &PyStore::suite);
  store.def("map_size", &PyStore::map_size);
  store.def("close", &PyStore::close);
  store.def("append", &PyStore::append);
  store.def("prepare", &PyStore::prepare, py::return_value_policy::take_ownership);
  store.def("append_prepared", &PyStore::append_prepared);
  py::class_<PyPrepared>(m, "Prepared").def_property_readonly("count", [](const PyPrepared& p) {
    return p.batch.in.count;
  });
  store.def("put_checkpoint", &PyStore::put_checkpoint);
  store.def("audit", &PyStore::audit);
  store.def("stats", &PyStore::stats);
  store.def("populate", &PyStore::populate);
  store.def("snapshot", [](const PyStore& self) { return new PySnapshot(self); });
  bind_reads(store, [](py::object self, auto fn) {
    std::shared_ptr<LedgerStore> s = self.cast<PyStore&>().store();
    return fn(*s, nullptr);
  });

  py::class_<PySnapshot> snapshot(m, "Snapshot");
  snapshot.def("close", &PySnapshot::close);
  bind_reads(snapshot, [](py::object self, auto fn) { return self.cast<PySnapshot&>().with(fn); });
}

}  // namespace ledger_core
