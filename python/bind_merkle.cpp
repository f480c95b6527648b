// Bindings for the Merkle log: the tree over the in-memory node store, leaf and node
// hashing, and the proof verifiers. The facade (ledger_core/merkle.py) validates
// arguments, names suites and shapes proofs; this layer pins buffers, releases the GIL
// around batches and turns statuses into exceptions.
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "bindings.h"
#include "merkle/merkle_hash.h"
#include "merkle/merkle_tree.h"
#include "merkle/merkle_verify.h"
#include "merkle/node_store.h"

namespace ledger_core {

MerkleSuite suite_arg(const py::object& obj) {
  const uint64_t suite = uint_arg(obj, "suite", 255);
  if (suite == uint64_t(MerkleSuite::blake3) || suite == uint64_t(MerkleSuite::sha256)) {
    const MerkleSuite s = static_cast<MerkleSuite>(suite);
    if (merkle_suite_available(s)) return s;
    throw_error(Status::invalid_argument, "merkle suite " + std::to_string(suite) + " is not built into this ledger_core");
  }
  throw_error(Status::invalid_argument, "suite: unknown merkle suite " + std::to_string(suite));
}

namespace {

py::bytes hash_bytes(const uint8_t* hash) {
  return py::bytes(reinterpret_cast<const char*>(hash), MERKLE_HASH_LEN);
}

py::list hash_list(const uint8_t* hashes, size_t count) {
  py::list out(count);
  for (size_t i = 0; i < count; ++i) out[i] = hash_bytes(hashes + i * MERKLE_HASH_LEN);
  return out;
}

// A tree plus the lock that serialises appends (run without the GIL) against readers.
class PyMerkleTree {
 public:
  // lending=false picks the CopyingNodeStore: the get()/put() path, for tests.
  PyMerkleTree(const py::object& suite, bool lending)
      : tree_(suite_arg(suite), lending ? std::unique_ptr<MerkleNodeStore>(new MemoryNodeStore())
                                        : std::unique_ptr<MerkleNodeStore>(new CopyingNodeStore())),
        lending_(lending) {}

  uint64_t size() {
    Guard g(*this);
    return tree_.size();
  }

  uint64_t append_hashes(const py::object& rows, const py::object& threads_obj) {
    PinnedRows pinned(rows, "leaf_hashes", MERKLE_HASH_LEN);
    const FixedItems& items = pinned.items();
    const size_t threads = threads_arg(threads_obj);
    return run_append([&] { return tree_.append_hashes(items.data, items.count, threads); },
                      items.count * MERKLE_HASH_LEN, "MerkleTree.extend_hashes");
  }

  uint64_t append_fixed(const py::object& rows, const py::object& threads_obj) {
    PinnedRows pinned(rows, "items");
    const FixedItems& items = pinned.items();
    const size_t threads = threads_arg(threads_obj);
    return run_append([&] { return tree_.append_leaves(items, threads); }, items.count * items.item_len + items.count * 64,
                      "MerkleTree.extend");
  }

  uint64_t append_var(const py::object& buffer, const py::object& offsets, const py::object& threads_obj) {
    PinnedVarItems pinned(buffer, offsets, "items");
    const VarItems& items = pinned.items();
    const size_t threads = threads_arg(threads_obj);
    return run_append([&] { return tree_.append_leaves(items, threads); }, items.buffer_len + items.count * 64,
                      "MerkleTree.extend");
  }

  // One leaf: hashed here (no batch machinery), then appended as its hash.
  uint64_t append_one(const py::object& data) {
    PinnedBytes in(data, "data");
    uint8_t leaf[MERKLE_HASH_LEN];
    run_native(in.size(), [&] { merkle_hash_leaf(tree_.suite(), in.data(), in.size(), leaf); });
    return run_append([&] { return tree_.append_hashes(leaf, 1, 1); }, 0, "MerkleTree.append");
  }

  void reserve(const py::object& leaf_count_arg) {
    const uint64_t leaf_count = uint_arg(leaf_count_arg, "leaf_count");
    Status s;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      s = tree_.reserve(leaf_count);
    }
    check_status(s, "MerkleTree.reserve: " + std::to_string(leaf_count) + " leaves");
  }

  py::bytes root(const py::object& size_arg) {
    const uint64_t size = uint_arg(size_arg, "size");
    uint8_t out[MERKLE_HASH_LEN];
    Status s;
    {
      Guard g(*this);
      s = tree_.root(size, out);
    }
    check_status(s, "MerkleTree.root: size " + std::to_string(size) + " is larger than the tree");
    return hash_bytes(out);
  }

  py::bytes leaf_hash(const py::object& index_arg) {
    const uint64_t index = uint_arg(index_arg, "index");
    uint8_t out[MERKLE_HASH_LEN];
    Status s;
    {
      Guard g(*this);
      s = tree_.leaf_hash(index, out);
    }
    check_status(s, "MerkleTree.leaf_hash: index " + std::to_string(index) + " is not in the tree");
    return hash_bytes(out);
  }

  py::list inclusion_proof(const py::object& index_arg, const py::object& size_arg) {
    const uint64_t index = uint_arg(index_arg, "index"), size = uint_arg(size_arg, "size");
    uint8_t out[MERKLE_MAX_PROOF_COUNT * MERKLE_HASH_LEN];
    size_t count = 0;
    Status s;
    {
      Guard g(*this);
      s = tree_.inclusion_proof(index, size, out, &count);
    }
    check_status(s, "MerkleTree.inclusion_proof: need index < size <= tree size, got index " +
                        std::to_string(index) + ", size " + std::to_string(size));
    return hash_list(out, count);
  }

  py::list consistency_proof(const py::object& old_arg, const py::object& new_arg) {
    const uint64_t old_size = uint_arg(old_arg, "size1"), new_size = uint_arg(new_arg, "size2");
    uint8_t out[MERKLE_MAX_PROOF_COUNT * MERKLE_HASH_LEN];
    size_t count = 0;
    Status s;
    {
      Guard g(*this);
      s = tree_.consistency_proof(old_size, new_size, out, &count);
    }
    check_status(s, "MerkleTree.consistency_proof: need 0 < size1 <= size2 <= tree size "
                    "(a proof from the empty tree proves nothing), got " +
                        std::to_string(old_size) + " -> " + std::to_string(new_size));
    return hash_list(out, count);
  }

  size_t memory_bytes() {
    Guard g(*this);
    if (!lending_) return static_cast<const CopyingNodeStore&>(tree_.store()).memory_bytes();
    return static_cast<const MemoryNodeStore&>(tree_.store()).memory_bytes();
  }

 private:
  // Takes the tree lock; when an append holds it (without the GIL), waits with the GIL
  // released so that other Python threads keep running.
  struct Guard {
    explicit Guard(PyMerkleTree& t) : lock(t.mutex_, std::defer_lock) {
      if (!lock.try_lock()) {
        py::gil_scoped_release release;
        lock.lock();
      }
    }
    std::unique_lock<std::mutex> lock;
  };

  template <typename Append>
  uint64_t run_append(Append append, size_t work_bytes, const char* context) {
    uint64_t first = 0;
    Status s;
    if (work_bytes >= RELEASE_GIL_MIN_BYTES) {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      first = tree_.size();
      s = append();
    } else {
      Guard g(*this);
      first = tree_.size();
      s = append();
    }
    check_status(s, context);
    return first;
  }

  std::mutex mutex_;
  MerkleTree tree_;
  bool lending_;
};

// A proof as one buffer of 32 * count bytes (the facade joins it); false when the length
// is not a multiple of 32 (a malformed proof verifies false, it does not raise).
bool proof_hashes(const PinnedBytes& proof, const uint8_t** hashes, size_t* count) {
  static const uint8_t kNoHashes[1] = {0};
  if (proof.size() % MERKLE_HASH_LEN != 0) return false;
  *count = proof.size() / MERKLE_HASH_LEN;
  *hashes = proof.size() == 0 ? kNoHashes : proof.data();
  return true;
}

}  // namespace

void bind_merkle(py::module_& m) {
  m.attr("MERKLE_HASH_LEN") = MERKLE_HASH_LEN;
  m.attr("MERKLE_SUITE_BLAKE3") = int(MerkleSuite::blake3);
  m.attr("MERKLE_SUITE_SHA256") = int(MerkleSuite::sha256);
  m.attr("MERKLE_MAX_PROOF_COUNT") = MERKLE_MAX_PROOF_COUNT;

  m.def("merkle_suite_available", [](const py::object& suite_obj) {
    const uint64_t suite = uint_arg(suite_obj, "suite", 255);
    return (suite == uint64_t(MerkleSuite::blake3) || suite == uint64_t(MerkleSuite::sha256)) &&
           merkle_suite_available(static_cast<MerkleSuite>(suite));
  }, py::arg("suite"));

  m.def("merkle_leaf_hash", [](const py::object& suite, const py::object& data) {
    const MerkleSuite s = suite_arg(suite);
    PinnedBytes in(data, "data");
    uint8_t out[MERKLE_HASH_LEN];
    run_native(in.size(), [&] { merkle_hash_leaf(s, in.data(), in.size(), out); });
    return hash_bytes(out);
  }, py::arg("suite"), py::arg("data"));

  m.def("merkle_node_hash", [](const py::object& suite, const py::object& left, const py::object& right) {
    const MerkleSuite s = suite_arg(suite);
    PinnedBytes l(left, "left", MERKLE_HASH_LEN), r(right, "right", MERKLE_HASH_LEN);
    uint8_t out[MERKLE_HASH_LEN];
    merkle_hash_node(s, l.data(), r.data(), out);
    return hash_bytes(out);
  }, py::arg("suite"), py::arg("left"), py::arg("right"));

  m.def("merkle_empty_root", [](const py::object& suite) {
    uint8_t out[MERKLE_HASH_LEN];
    merkle_empty_root(suite_arg(suite), out);
    return hash_bytes(out);
  }, py::arg("suite"));

  m.def("merkle_blake3_keys", []() -> py::object {
    uint8_t leaf[32], node[32];
    if (!merkle_blake3_keys(leaf, node)) return py::none();
    return py::make_tuple(hash_bytes(leaf), hash_bytes(node));
  });

  m.def("merkle_verify_inclusion", [](const py::object& suite, const py::object& leaf_hash, const py::object& index,
                                      const py::object& size, const py::object& proof, const py::object& root) {
    const MerkleSuite s = suite_arg(suite);
    PinnedBytes leaf(leaf_hash, "leaf_hash"), path(proof, "proof"), root_hash(root, "root");
    const uint64_t index_v = uint_arg(index, "index"), size_v = uint_arg(size, "size");
    const uint8_t* hashes = nullptr;
    size_t count = 0;
    if (!proof_hashes(path, &hashes, &count)) return false;
    return merkle_verify_inclusion(s, leaf.span(), index_v, size_v, hashes, count, root_hash.span());
  }, py::arg("suite"), py::arg("leaf_hash"), py::arg("index"), py::arg("size"), py::arg("proof"),
     py::arg("root"));

  m.def("merkle_verify_consistency", [](const py::object& suite, const py::object& old_size,
                                        const py::object& new_size, const py::object& old_root,
                                        const py::object& new_root, const py::object& proof) {
    const MerkleSuite s = suite_arg(suite);
    PinnedBytes old_hash(old_root, "root1"), new_hash(new_root, "root2"), path(proof, "proof");
    const uint64_t old_v = uint_arg(old_size, "size1"), new_v = uint_arg(new_size, "size2");
    const uint8_t* hashes = nullptr;
    size_t count = 0;
    if (!proof_hashes(path, &hashes, &count)) return false;
    return merkle_verify_consistency(s, old_v, new_v, old_hash.span(), new_hash.span(), hashes, count);
  }, py::arg("suite"), py::arg("old_size"), py::arg("new_size"), py::arg("old_root"),
     py::arg("new_root"), py::arg("proof"));

  py::class_<PyMerkleTree>(m, "MerkleTree")
      .def(py::init<const py::object&, bool>(), py::arg("suite"), py::arg("lending") = true)
      .def_property_readonly("size", &PyMerkleTree::size)
      .def("append_one", &PyMerkleTree::append_one, py::arg("data"))
      .def("append_hashes", &PyMerkleTree::append_hashes, py::arg("leaf_hashes"), py::arg("threads") = 1)
      .def("append_fixed", &PyMerkleTree::append_fixed, py::arg("rows"), py::arg("threads") = 1)
      .def("append_var", &PyMerkleTree::append_var, py::arg("buffer"), py::arg("offsets"),
           py::arg("threads") = 1)
      .def("reserve", &PyMerkleTree::reserve, py::arg("leaf_count"))
      .def("root", &PyMerkleTree::root, py::arg("size"))
      .def("leaf_hash", &PyMerkleTree::leaf_hash, py::arg("index"))
      .def("inclusion_proof", &PyMerkleTree::inclusion_proof, py::arg("index"), py::arg("size"))
      .def("consistency_proof", &PyMerkleTree::consistency_proof, py::arg("old_size"), py::arg("new_size"))
      .def("memory_bytes", &PyMerkleTree::memory_bytes);
}

}  // namespace ledger_core
