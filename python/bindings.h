// Declarations shared by the binding files. pybind11 appears only under python/.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "common/span.h"
#include "common/status.h"

namespace ledger_core {
namespace py = pybind11;

void bind_common(py::module_& m);
void bind_hashing(py::module_& m);
void bind_ed25519(py::module_& m);
void bind_merkle(py::module_& m);

// Raises the ledger_core exception class mapped to `status`, with "context: reason" as
// its message. Call with the GIL held.
[[noreturn]] void throw_status(Status status, const std::string& context);

// Throws for any status other than ok.
inline void check_status(Status status, const std::string& context) {
  if (status != Status::ok) throw_status(status, context);
}

// A uint8 numpy array, C-contiguous (forcecast would copy silently, so it is not used:
// the facade converts and validates before calling in).
using ByteArray = py::array_t<uint8_t, py::array::c_style>;
using OffsetArray = py::array_t<uint64_t, py::array::c_style>;

// Views over a bytes-like object that must stay alive (and pinned by the caller's
// py::buffer_info or py::bytes) while the view is used.
ByteSpan byte_span(const py::buffer_info& info);

// The (N, k) rows of a 2-D uint8 array as FixedItems. Raises ValueError naming `arg`
// when the array is not 2-D.
FixedItems fixed_items(const ByteArray& rows, const char* arg);

// buffer + offsets (N + 1 entries) as VarItems, checked with items_valid(); a bad offset
// raises ValueError naming `arg` and the item.
VarItems var_items(const py::buffer_info& buffer, const OffsetArray& offsets, const char* arg);

// The GIL is released only for work worth more than the release: STYLE.md "The GIL".
constexpr size_t RELEASE_GIL_MIN_BYTES = 16 * 1024;

}  // namespace ledger_core
