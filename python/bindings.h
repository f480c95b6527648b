// Declarations shared by the binding files. pybind11 appears only under python/.
//
// Every binding takes its arguments as py::object and converts them with the helpers
// below, never through pybind11's own casters: a caster that does not match raises
// pybind11's "incompatible function arguments" TypeError, which is not a LedgerError and
// prints whole arrays. The helpers raise through the one table in errors.cpp instead,
// with a message naming the argument (and the item, in a batch).
//
// Buffers: a bytes object is read in place; anything else goes through the buffer
// protocol and must be C-contiguous (a strided view is refused, never read as if it were
// contiguous). Pinned buffers stay valid until the Pinned* object is destroyed, so work
// may run with the GIL released in between.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "common/span.h"
#include "common/status.h"
#include "merkle/merkle_hash.h"

namespace ledger_core {
namespace py = pybind11;

void bind_common(py::module_& m);
void bind_hashing(py::module_& m);
void bind_ed25519(py::module_& m);
void bind_merkle(py::module_& m);
void bind_store(py::module_& m);

// --- errors (errors.cpp: the one table from Status to exception class) ---------------

// Raises the class mapped to `status` with "context: <lc_strerror(status)>".
[[noreturn]] void throw_status(Status status, const std::string& context);
// Raises the class mapped to `status` with `message` as it is.
[[noreturn]] void throw_error(Status status, const std::string& message);

inline void check_status(Status status, const std::string& context) {
  if (status != Status::ok) throw_status(status, context);
}

// Maps any C++ exception escaping a binding (std::bad_alloc from a container, ...) to a
// LedgerError class. Registered once by the module.
void register_exception_translator();

// --- argument names ----------------------------------------------------------------------

// "items" or "items[3]": built only when an error is raised.
struct ArgName {
  const char* name;
  size_t index = NO_INDEX;
  static constexpr size_t NO_INDEX = ~size_t(0);

  ArgName(const char* n) : name(n) {}  // NOLINT: implicit, so "data" can be passed
  ArgName(const char* n, size_t i) : name(n), index(i) {}
  std::string str() const;
};

// --- buffers -------------------------------------------------------------------------------

// A bytes-like argument pinned for the duration of a call. Neither copied nor moved: a
// Py_buffer may point into itself (PyBuffer_FillInfo's shape and strides), so it stays
// where it was filled; keep many in a std::deque.
class PinnedBytes {
 public:
  // Raises InvalidTypeError for a non-buffer, InvalidArgumentError for a strided one.
  PinnedBytes(py::handle obj, ArgName arg);
  // The same, and the length must be exactly `exact_len` (InvalidArgumentError).
  PinnedBytes(py::handle obj, ArgName arg, size_t exact_len);
  ~PinnedBytes();
  PinnedBytes(const PinnedBytes&) = delete;
  PinnedBytes& operator=(const PinnedBytes&) = delete;

  ByteSpan span() const { return span_; }
  const uint8_t* data() const { return span_.data; }
  size_t size() const { return span_.len; }
  // The buffer-protocol view, or null when the argument was a bytes object.
  const Py_buffer* view() const { return held_ ? &view_ : nullptr; }

 private:
  void release();
  Py_buffer view_{};
  bool held_ = false;
  ByteSpan span_;
};

// A 2-D C-contiguous uint8 array (N, k) pinned as FixedItems; `width` 0 accepts any k,
// else k must equal it. InvalidTypeError for another dtype or a non-array,
// InvalidArgumentError for another shape or a strided array.
class PinnedRows {
 public:
  PinnedRows(py::handle obj, const char* arg, size_t width = 0);
  const FixedItems& items() const { return items_; }

 private:
  PinnedBytes bytes_;
  FixedItems items_;
};

// A contiguous buffer plus N + 1 offsets (a 1-D C-contiguous array of 64-bit integers,
// signed or unsigned) as VarItems, checked: offsets non-decreasing and inside the buffer
// (MalformedInputError naming the first bad item otherwise).
class PinnedVarItems {
 public:
  PinnedVarItems(py::handle buffer, py::handle offsets, const char* arg);
  const VarItems& items() const { return items_; }

 private:
  PinnedBytes buffer_;
  PinnedBytes offsets_;
  VarItems items_;
};

// --- scalars -------------------------------------------------------------------------------

// A Python int in [0, max]: InvalidTypeError for anything else (bool included),
// OutOfRangeError outside the range.
uint64_t uint_arg(py::handle obj, const char* arg, uint64_t max = ~uint64_t(0));

// The most threads one call may ask for (None or 0 is "all cores").
constexpr size_t MAX_THREADS = 4096;
// threads: None or 0 -> 0 (all cores), else 1..MAX_THREADS.
size_t threads_arg(py::handle obj);

// A merkle suite id (merkle.Hasher.native_id): InvalidArgumentError for an unknown one
// or one not built in.
MerkleSuite suite_arg(const py::object& obj);

// A str argument as UTF-8: InvalidTypeError for a non-str, InvalidArgumentError when it
// does not encode (a lone surrogate).
std::string str_arg(py::handle obj, const char* arg);

// --- results -------------------------------------------------------------------------------

// A new bytes object of `len` bytes for native code to fill (not shared until returned,
// so it may be written with the GIL released). NativeMemoryError when it cannot be had.
py::bytes new_bytes(size_t len, uint8_t** data);

// A new C-contiguous uint8 array (count, width); NativeMemoryError when it cannot be had.
py::array_t<uint8_t> new_rows(size_t count, size_t width);

// --- the GIL -------------------------------------------------------------------------------

// The GIL is released only for work worth more than the release (STYLE.md "The GIL").
constexpr size_t RELEASE_GIL_MIN_BYTES = 16 * 1024;

// Runs fn(), with the GIL released when work_bytes reaches RELEASE_GIL_MIN_BYTES.
// Everything fn reads must be pinned by the caller.
template <typename Fn>
auto run_native(size_t work_bytes, Fn&& fn) -> decltype(fn()) {
  if (work_bytes >= RELEASE_GIL_MIN_BYTES) {
    py::gil_scoped_release release;
    return fn();
  }
  return fn();
}

}  // namespace ledger_core
