// Bindings for the hash primitives: SHA-256, SHA-512, BLAKE3 (one-shot, incremental,
// batched). Buffers are pinned with the GIL held; the GIL is released around native work
// of at least RELEASE_GIL_MIN_BYTES; batches are split over the shared thread pool.
#include <memory>
#include <mutex>
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

// A bytes-like argument pinned for the duration of a call. bytes objects (the common
// case) are read directly; anything else goes through the buffer protocol.
struct PinnedBytes {
  py::buffer_info info;
  ByteSpan span;
};

PinnedBytes pin_bytes(const py::object& obj) {
  PinnedBytes pinned;
  if (PyBytes_Check(obj.ptr())) {
    pinned.span.data = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(obj.ptr()));
    pinned.span.len = static_cast<size_t>(PyBytes_GET_SIZE(obj.ptr()));
  } else {
    pinned.info = py::reinterpret_borrow<py::buffer>(obj).request();
    pinned.span = byte_span(pinned.info);
  }
  return pinned;
}

// A new bytes object of `len` bytes for native code to fill (it is not shared until
// returned, so it may be written with the GIL released).
py::bytes new_bytes(size_t len, uint8_t** data) {
  PyObject* obj = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(len));
  if (obj == nullptr) throw py::error_already_set();
  *data = reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(obj));
  return py::reinterpret_steal<py::bytes>(obj);
}

template <size_t Len, void (*Hash)(const uint8_t*, size_t, uint8_t*)>
py::bytes one_shot(const py::object& data) {
  PinnedBytes in = pin_bytes(data);
  uint8_t* out;
  py::bytes result = new_bytes(Len, &out);
  if (in.span.len >= RELEASE_GIL_MIN_BYTES) {
    py::gil_scoped_release release;
    Hash(in.span.data, in.span.len, out);
  } else {
    Hash(in.span.data, in.span.len, out);
  }
  return result;
}

// Runs fn with the GIL released when the work is big enough to be worth it.
template <typename Fn>
void run_native(size_t work_bytes, Fn&& fn) {
  if (work_bytes >= RELEASE_GIL_MIN_BYTES) {
    py::gil_scoped_release release;
    fn();
  } else {
    fn();
  }
}

// Optional 32-byte key: None -> null. The buffer_info keeps it pinned.
const uint8_t* optional_key(const py::object& key, py::buffer_info& pinned) {
  if (key.is_none()) return nullptr;
  pinned = py::reinterpret_borrow<py::buffer>(key).request();
  if (static_cast<size_t>(pinned.size * pinned.itemsize) != BLAKE3_KEY_LEN)
    throw py::value_error("key must be " + std::to_string(BLAKE3_KEY_LEN) + " bytes");
  return static_cast<const uint8_t*>(pinned.ptr);
}

ByteArray digest_rows(size_t count, size_t digest_len) {
  return ByteArray({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(digest_len)});
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

py::bytes blake3_one_shot(const py::object& data, const py::object& key, size_t length) {
  PinnedBytes in = pin_bytes(data);
  py::buffer_info key_info;
  const uint8_t* key_ptr = optional_key(key, key_info);
  uint8_t* out;
  py::bytes result = new_bytes(length, &out);
  run_native(in.span.len > length ? in.span.len : length, [&] {
    if (length == BLAKE3_OUT_LEN) {  // the one-shot functions skip the hasher for short inputs
      if (key_ptr) blake3_keyed_hash(key_ptr, in.span.data, in.span.len, out);
      else blake3_hash(in.span.data, in.span.len, out);
      return;
    }
    Blake3Hasher h;
    if (key_ptr) h.init_keyed(key_ptr); else h.init();
    h.update(in.span.data, in.span.len);
    h.finalize(out, length);
  });
  return result;
}

py::bytes blake3_derive_key_binding(const std::string& context, const py::object& material,
                                    size_t length) {
  PinnedBytes in = pin_bytes(material);
  uint8_t* out;
  py::bytes result = new_bytes(length, &out);
  run_native(in.span.len > length ? in.span.len : length, [&] {
    Blake3Hasher h;
    h.init_derive_key(context.data(), context.size());
    h.update(in.span.data, in.span.len);
    h.finalize(out, length);
  });
  return result;
}

ByteArray blake3_many_fixed(const ByteArray& rows, const py::object& key, size_t threads,
                            bool portable) {
  FixedItems items = fixed_items(rows, "items");
  py::buffer_info key_info;
  const uint8_t* key_ptr = optional_key(key, key_info);
  ByteArray result = digest_rows(items.count, BLAKE3_OUT_LEN);
  uint8_t* out = result.mutable_data();
  auto hash = portable ? blake3_hash_many_portable : blake3_hash_many;
  run_native(items.count * items.item_len, [&] {
    parallel_items(items.count, items.item_len, threads, [&](size_t begin, size_t end) {
      hash(items.item(begin), items.item_len, end - begin, key_ptr, out + begin * BLAKE3_OUT_LEN);
    });
  });
  return result;
}

ByteArray blake3_many_var(const py::buffer& buffer, const OffsetArray& offsets, const py::object& key,
                          size_t threads, bool portable) {
  py::buffer_info buffer_info = buffer.request();
  VarItems items = var_items(buffer_info, offsets, "items");
  py::buffer_info key_info;
  const uint8_t* key_ptr = optional_key(key, key_info);
  ByteArray result = digest_rows(items.count, BLAKE3_OUT_LEN);
  uint8_t* out = result.mutable_data();
  auto hash = portable ? blake3_hash_var_portable : blake3_hash_var;
  const size_t total = items.count ? size_t(items.offsets[items.count] - items.offsets[0]) : 0;
  const size_t mean = items.count ? total / items.count : 0;
  run_native(total, [&] {
    parallel_items(items.count, mean, threads, [&](size_t begin, size_t end) {
      VarItems part = items;
      part.offsets = items.offsets + begin;
      part.count = end - begin;
      hash(part, key_ptr, out + begin * BLAKE3_OUT_LEN);
    });
  });
  return result;
}

ByteArray sha256_many_fixed(const ByteArray& rows, size_t threads, bool portable) {
  FixedItems items = fixed_items(rows, "items");
  ByteArray result = digest_rows(items.count, SHA256_LEN);
  uint8_t* out = result.mutable_data();
  auto hash = portable ? sha256_many_portable : sha256_many;
  run_native(items.count * items.item_len, [&] {
    parallel_items(items.count, items.item_len, threads, [&](size_t begin, size_t end) {
      hash(items.item(begin), items.item_len, end - begin, out + begin * SHA256_LEN);
    });
  });
  return result;
}

// Items for sha512_many_parts: each a bytes-like message or a tuple/list of up to three
// bytes-like parts (R, A, M for Ed25519). The item sequence and any list of parts are
// copied into tuples, so another thread cannot drop a bytes object while the GIL is
// released; other buffers are pinned through the buffer protocol. bytes are read in place.
struct PinnedParts {
  py::object items_tuple;
  std::vector<py::object> part_tuples;
  std::vector<PinnedBytes> pinned;
  std::vector<Sha512Parts> items;
  size_t total_len = 0;
};

// C-contiguous: the bytes of the buffer are the item's bytes in order.
bool contiguous(const py::buffer_info& info) {
  py::ssize_t expected = info.itemsize;
  for (py::ssize_t d = info.ndim - 1; d >= 0; --d) {
    if (info.shape[d] > 1 && info.strides[d] != expected) return false;
    expected *= info.shape[d];
  }
  return true;
}

void pin_part(PinnedParts& pinned, PyObject* obj, size_t index, const uint8_t** data, size_t* len) {
  if (PyBytes_Check(obj)) {
    *data = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(obj));
    *len = static_cast<size_t>(PyBytes_GET_SIZE(obj));
    return;
  }
  pinned.pinned.push_back(pin_bytes(py::reinterpret_borrow<py::object>(obj)));
  if (!contiguous(pinned.pinned.back().info))
    throw py::type_error("items[" + std::to_string(index) + "] must be a contiguous buffer");
  *data = pinned.pinned.back().span.data;
  *len = pinned.pinned.back().span.len;
}

PinnedParts pin_parts(const py::object& seq) {
  PinnedParts out;
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
    if (PyList_Check(obj)) {
      out.part_tuples.push_back(py::reinterpret_steal<py::object>(PyList_AsTuple(obj)));
      if (!out.part_tuples.back()) throw py::error_already_set();
      obj = out.part_tuples.back().ptr();
    }
    if (PyTuple_Check(obj)) {
      const size_t part_count = static_cast<size_t>(PyTuple_GET_SIZE(obj));
      if (part_count > 3)
        throw py::value_error("items[" + std::to_string(i) + "] has " + std::to_string(part_count) +
                              " parts; a message is at most 3 parts");
      for (size_t k = 0; k < part_count; ++k)
        pin_part(out, PyTuple_GET_ITEM(obj, static_cast<Py_ssize_t>(k)), i, &item.part[k], &item.len[k]);
    } else {
      pin_part(out, obj, i, &item.part[0], &item.len[0]);
    }
    out.total_len += item.len[0] + item.len[1] + item.len[2];
  }
  return out;
}

ByteArray sha512_many_parts_binding(const py::object& seq, size_t threads, bool portable) {
  PinnedParts parts = pin_parts(seq);
  const size_t count = parts.items.size();
  ByteArray result = digest_rows(count, SHA512_LEN);
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
      .def_static("keyed", [](const py::buffer& key) {
        py::buffer_info info = key.request();
        if (static_cast<size_t>(info.size * info.itemsize) != BLAKE3_KEY_LEN)
          throw py::value_error("key must be " + std::to_string(BLAKE3_KEY_LEN) + " bytes");
        auto obj = blake3_object();
        obj->hasher.init_keyed(static_cast<const uint8_t*>(info.ptr));
        return obj;
      }, py::arg("key"))
      .def_static("derive_key", [](const std::string& context) {
        auto obj = blake3_object();
        obj->hasher.init_derive_key(context.data(), context.size());
        return obj;
      }, py::arg("context"))
      .def("update", [](Blake3Object& self, const py::object& data) {
        PinnedBytes in = pin_bytes(data);
        run_native(in.span.len, [&] {
          std::lock_guard<std::mutex> lock(self.mutex);
          self.hasher.update(in.span.data, in.span.len);
        });
      }, py::arg("data"))
      .def("finalize", [](Blake3Object& self, size_t length) {
        uint8_t* out;
        py::bytes result = new_bytes(length, &out);
        std::lock_guard<std::mutex> lock(self.mutex);
        self.hasher.finalize(out, length);
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
