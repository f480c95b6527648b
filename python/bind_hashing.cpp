// Bindings for the hash primitives: SHA-256, SHA-512, BLAKE3 (one-shot, incremental,
// batched). Buffers are pinned with the GIL held; the GIL is released around native work
// of at least RELEASE_GIL_MIN_BYTES; batches are split over the shared thread pool.
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "blake3/blake3.h"
#include "common/thread_pool.h"
#include "sha2/sha256.h"
#include "sha2/sha512.h"

namespace ledger_core {
namespace {

// Batches run in groups of 8 items (the SIMD lane count) so that no thread gets a
// partly filled lane group except the last; a thread's share is at least this much input.
constexpr size_t LANE_GROUP = 8;
constexpr size_t MIN_BYTES_PER_TASK = 64 * 1024;

// The most output one BLAKE3 call may ask for (a bytes object of that size is allocated):
// 2 GiB, far past any key, MAC or keystream a caller takes in one piece.
constexpr uint64_t BLAKE3_MAX_OUT_LEN = uint64_t(1) << 31;

template <size_t Len, void (*Hash)(const uint8_t*, size_t, uint8_t*)>
py::bytes one_shot(const py::object& data) {
  PinnedBytes in(data, "data");
  uint8_t* out;
  py::bytes result = new_bytes(Len, &out);
  run_native(in.size(), [&] { Hash(in.data(), in.size(), out); });
  return result;
}

// Optional 32-byte key: None -> no key.
struct OptionalKey {
  explicit OptionalKey(const py::object& key) {
    if (!key.is_none()) pinned.emplace(key, "key", BLAKE3_KEY_LEN);
  }
  const uint8_t* data() const { return pinned ? pinned->data() : nullptr; }
  std::optional<PinnedBytes> pinned;
};

size_t output_len(const py::object& length) {
  return static_cast<size_t>(uint_arg(length, "length", BLAKE3_MAX_OUT_LEN));
}

// Splits count items into lane groups over `threads` threads; fn(begin, end) hashes
// items [begin, end).
template <typename Fn>
void parallel_items(size_t count, size_t item_bytes, size_t threads, Fn&& fn) {
  const size_t groups = (count + LANE_GROUP - 1) / LANE_GROUP;
  const size_t group_bytes = (item_bytes == 0 ? 1 : item_bytes) * LANE_GROUP;
  const size_t min_groups = MIN_BYTES_PER_TASK / group_bytes + 1;
  parallel_for(groups, threads, min_groups, [&](size_t begin, size_t end) {
    const size_t first = begin * LANE_GROUP;
    const size_t last = end * LANE_GROUP < count ? end * LANE_GROUP : count;
    fn(first, last);
  });
}

py::bytes blake3_one_shot(const py::object& data, const py::object& key_arg, const py::object& length_arg) {
  PinnedBytes in(data, "data");
  OptionalKey key(key_arg);
  const size_t length = output_len(length_arg);
  uint8_t* out;
  py::bytes result = new_bytes(length, &out);
  run_native(in.size() > length ? in.size() : length, [&] {
    if (length == BLAKE3_OUT_LEN) {  // the one-shot functions skip the hasher for short inputs
      if (key.data()) blake3_keyed_hash(key.data(), in.data(), in.size(), out);
      else blake3_hash(in.data(), in.size(), out);
      return;
    }
    Blake3Hasher h;
    if (key.data()) h.init_keyed(key.data()); else h.init();
    h.update(in.data(), in.size());
    h.finalize(out, length);
  });
  return result;
}

py::bytes blake3_derive_key_binding(const py::object& context_arg, const py::object& material,
                                    const py::object& length_arg) {
  const std::string context = str_arg(context_arg, "context");
  PinnedBytes in(material, "material");
  const size_t length = output_len(length_arg);
  uint8_t* out;
  py::bytes result = new_bytes(length, &out);
  run_native(in.size() > length ? in.size() : length, [&] {
    Blake3Hasher h;
    h.init_derive_key(context.data(), context.size());
    h.update(in.data(), in.size());
    h.finalize(out, length);
  });
  return result;
}

py::array_t<uint8_t> blake3_many_fixed(const py::object& rows, const py::object& key_arg, const py::object& threads_obj,
                                       bool portable) {
  PinnedRows pinned(rows, "items");
  const FixedItems& items = pinned.items();
  OptionalKey key(key_arg);
  const size_t threads = threads_arg(threads_obj);
  py::array_t<uint8_t> result = new_rows(items.count, BLAKE3_OUT_LEN);
  uint8_t* out = result.mutable_data();
  auto hash = portable ? blake3_hash_many_portable : blake3_hash_many;
  run_native(items.count * items.item_len, [&] {
    parallel_items(items.count, items.item_len, threads, [&](size_t begin, size_t end) {
      hash(items.item(begin), items.item_len, end - begin, key.data(), out + begin * BLAKE3_OUT_LEN);
    });
  });
  return result;
}

py::array_t<uint8_t> blake3_many_var(const py::object& buffer, const py::object& offsets, const py::object& key_arg,
                                     const py::object& threads_obj, bool portable) {
  PinnedVarItems pinned(buffer, offsets, "items");
  const VarItems& items = pinned.items();
  OptionalKey key(key_arg);
  const size_t threads = threads_arg(threads_obj);
  py::array_t<uint8_t> result = new_rows(items.count, BLAKE3_OUT_LEN);
  uint8_t* out = result.mutable_data();
  auto hash = portable ? blake3_hash_var_portable : blake3_hash_var;
  const size_t total = items.count ? size_t(items.offsets[items.count] - items.offsets[0]) : 0;
  const size_t mean = items.count ? total / items.count : 0;
  run_native(total, [&] {
    parallel_items(items.count, mean, threads, [&](size_t begin, size_t end) {
      VarItems part = items;
      part.offsets = items.offsets + begin;
      part.count = end - begin;
      hash(part, key.data(), out + begin * BLAKE3_OUT_LEN);
    });
  });
  return result;
}

py::array_t<uint8_t> sha256_many_fixed(const py::object& rows, const py::object& threads_obj, bool portable) {
  PinnedRows pinned(rows, "items");
  const FixedItems& items = pinned.items();
  const size_t threads = threads_arg(threads_obj);
  py::array_t<uint8_t> result = new_rows(items.count, SHA256_LEN);
  uint8_t* out = result.mutable_data();
  auto hash = portable ? sha256_many_portable : sha256_many;
  run_native(items.count * items.item_len, [&] {
    parallel_items(items.count, items.item_len, threads, [&](size_t begin, size_t end) {
      hash(items.item(begin), items.item_len, end - begin, out + begin * SHA256_LEN);
    });
  });
  return result;
}

// Items for sha512_many_parts: each a bytes-like message or a tuple of up to three
// bytes-like parts hashed as their concatenation (R, A, M for Ed25519; the facade turns
// hashing.Parts into such a tuple). The item sequence is copied into a tuple, so another
// thread cannot drop an item while the GIL is released; every part is pinned.
struct PinnedParts {
  py::object items_tuple;
  std::deque<PinnedBytes> pinned;
  std::vector<Sha512Parts> items;
  size_t total_len = 0;
};

void pin_part(PinnedParts& out, PyObject* obj, size_t index, const uint8_t** data, size_t* len) {
  if (PyBytes_Check(obj)) {  // the common case: read in place, kept alive by items_tuple
    *data = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(obj));
    *len = static_cast<size_t>(PyBytes_GET_SIZE(obj));
    return;
  }
  out.pinned.emplace_back(py::handle(obj), ArgName("items", index));
  *data = out.pinned.back().data();
  *len = out.pinned.back().size();
}

void pin_parts(PinnedParts& out, const py::object& seq) {
  if (!PyList_Check(seq.ptr()) && !PyTuple_Check(seq.ptr()))
    throw_error(Status::invalid_type, "items must be a list or tuple, got " + std::string(Py_TYPE(seq.ptr())->tp_name));
  out.items_tuple = py::reinterpret_steal<py::object>(PySequence_Tuple(seq.ptr()));
  if (!out.items_tuple) throw py::error_already_set();
  const size_t count = static_cast<size_t>(PyTuple_GET_SIZE(out.items_tuple.ptr()));
  out.items.resize(count);
  for (size_t i = 0; i < count; ++i) {
    PyObject* obj = PyTuple_GET_ITEM(out.items_tuple.ptr(), static_cast<Py_ssize_t>(i));
    Sha512Parts& item = out.items[i];
    for (int k = 0; k < 3; ++k) {
      item.part[k] = nullptr;
      item.len[k] = 0;
    }
    if (PyTuple_Check(obj)) {
      const size_t part_count = static_cast<size_t>(PyTuple_GET_SIZE(obj));
      if (part_count > 3)
        throw_error(Status::invalid_argument, "items[" + std::to_string(i) + "] has " + std::to_string(part_count) +
                                                  " parts; a message is at most 3 parts");
      for (size_t k = 0; k < part_count; ++k)
        pin_part(out, PyTuple_GET_ITEM(obj, static_cast<Py_ssize_t>(k)), i, &item.part[k], &item.len[k]);
    } else {
      pin_part(out, obj, i, &item.part[0], &item.len[0]);
    }
    out.total_len += item.len[0] + item.len[1] + item.len[2];
  }
}

py::array_t<uint8_t> sha512_many_parts_binding(const py::object& seq, const py::object& threads_obj, bool portable) {
  PinnedParts parts;
  pin_parts(parts, seq);
  const size_t threads = threads_arg(threads_obj);
  const size_t count = parts.items.size();
  py::array_t<uint8_t> result = new_rows(count, SHA512_LEN);
  uint8_t* out = result.mutable_data();
  auto hash = portable ? sha512_many_parts_portable : sha512_many_parts;
  const Sha512Parts* items = parts.items.data();
  run_native(parts.total_len, [&] {
    parallel_items(count, count ? parts.total_len / count : 0, threads, [&](size_t begin, size_t end) {
      hash(items + begin, end - begin, out + begin * SHA512_LEN);
    });
  });
  return result;
}

// The Python-visible incremental hasher. update() of a large input runs with the GIL
// released, so two Python threads could reach one hasher at once: the mutex serialises
// them (it is only ever waited on with the GIL released, or by a holder of the GIL
// whose peer does not need the GIL to finish).
struct Blake3Object {
  Blake3Hasher hasher;
  std::mutex mutex;
};

std::unique_ptr<Blake3Object> blake3_object() { return std::unique_ptr<Blake3Object>(new Blake3Object); }

void bind_blake3_hasher(py::module_& m) {
  py::class_<Blake3Object>(m, "Blake3Hasher")
      .def(py::init([] {
        auto obj = blake3_object();
        obj->hasher.init();
        return obj;
      }))
      .def_static("keyed", [](const py::object& key_arg) {
        PinnedBytes key(key_arg, "key", BLAKE3_KEY_LEN);
        auto obj = blake3_object();
        obj->hasher.init_keyed(key.data());
        return obj;
      }, py::arg("key"))
      .def_static("derive_key", [](const py::object& context_arg) {
        const std::string context = str_arg(context_arg, "context");
        auto obj = blake3_object();
        obj->hasher.init_derive_key(context.data(), context.size());
        return obj;
      }, py::arg("context"))
      .def("update", [](Blake3Object& self, const py::object& data) {
        PinnedBytes in(data, "data");
        run_native(in.size(), [&] {
          std::lock_guard<std::mutex> lock(self.mutex);
          self.hasher.update(in.data(), in.size());
        });
      }, py::arg("data"))
      .def("finalize", [](Blake3Object& self, const py::object& length_arg) {
        const size_t length = output_len(length_arg);
        uint8_t* out;
        py::bytes result = new_bytes(length, &out);
        run_native(length, [&] {
          std::lock_guard<std::mutex> lock(self.mutex);
          self.hasher.finalize(out, length);
        });
        return result;
      }, py::arg("length") = BLAKE3_OUT_LEN)
      .def("copy", [](Blake3Object& self) {
        auto obj = blake3_object();
        std::lock_guard<std::mutex> lock(self.mutex);
        obj->hasher = self.hasher;
        return obj;
      });
}

}  // namespace

void bind_hashing(py::module_& m) {
  m.attr("SHA256_LEN") = SHA256_LEN;
  m.attr("SHA256_BLOCK_LEN") = SHA256_BLOCK_LEN;
  m.attr("SHA512_LEN") = SHA512_LEN;
  m.attr("SHA512_BLOCK_LEN") = SHA512_BLOCK_LEN;
  m.attr("BLAKE3_OUT_LEN") = BLAKE3_OUT_LEN;
  m.attr("BLAKE3_KEY_LEN") = BLAKE3_KEY_LEN;
  m.attr("BLAKE3_BLOCK_LEN") = BLAKE3_BLOCK_LEN;
  m.attr("BLAKE3_CHUNK_LEN") = BLAKE3_CHUNK_LEN;
  m.attr("BLAKE3_MAX_OUT_LEN") = BLAKE3_MAX_OUT_LEN;

  m.def("sha256", &one_shot<SHA256_LEN, sha256>, py::arg("data"));
  m.def("sha256_portable", &one_shot<SHA256_LEN, sha256_portable>, py::arg("data"));
  m.def("sha512", &one_shot<SHA512_LEN, sha512>, py::arg("data"));
  m.def("sha512_many_parts", &sha512_many_parts_binding, py::arg("items"), py::arg("threads") = 0,
        py::arg("portable") = false);
  m.def("sha256_many_fixed", &sha256_many_fixed, py::arg("rows"), py::arg("threads") = 0,
        py::arg("portable") = false);

  m.def("blake3", &blake3_one_shot, py::arg("data"), py::arg("key") = py::none(),
        py::arg("length") = BLAKE3_OUT_LEN);
  m.def("blake3_derive_key", &blake3_derive_key_binding, py::arg("context"), py::arg("material"),
        py::arg("length") = BLAKE3_OUT_LEN);
  m.def("blake3_many_fixed", &blake3_many_fixed, py::arg("rows"), py::arg("key") = py::none(),
        py::arg("threads") = 0, py::arg("portable") = false);
  m.def("blake3_many_var", &blake3_many_var, py::arg("buffer"), py::arg("offsets"),
        py::arg("key") = py::none(), py::arg("threads") = 0, py::arg("portable") = false);
  bind_blake3_hasher(m);
}

}  // namespace ledger_core
