// The one table from native Status to Python exception (py-lmdb keeps one such table).
// The classes live in ledger_core/errors.py so that they can derive from both
// LedgerError and the builtin a caller would expect (ValueError, MemoryError).
#include "bindings.h"

namespace ledger_core {
namespace {

const char* exception_name(Status status) {
  switch (status) {
    case Status::invalid_argument: return "InvalidArgumentError";
    case Status::out_of_range: return "OutOfRangeError";
    case Status::malformed: return "MalformedInputError";
    case Status::no_memory: return "NativeMemoryError";
    case Status::ok:
    case Status::internal: break;
  }
  return "InternalError";
}

}  // namespace

void throw_status(Status status, const std::string& context) {
  py::object errors = py::module_::import("ledger_core.errors");
  py::object cls = errors.attr(exception_name(status));
  std::string message = context.empty() ? lc_strerror(status) : context + ": " + lc_strerror(status);
  PyErr_SetString(cls.ptr(), message.c_str());
  throw py::error_already_set();
}

ByteSpan byte_span(const py::buffer_info& info) {
  ByteSpan span;
  span.data = static_cast<const uint8_t*>(info.ptr);
  span.len = static_cast<size_t>(info.size * info.itemsize);
  return span;
}

FixedItems fixed_items(const ByteArray& rows, const char* arg) {
  if (rows.ndim() != 2) throw py::value_error(std::string(arg) + " must be a 2-D uint8 array");
  FixedItems items;
  items.data = rows.data();
  items.count = static_cast<size_t>(rows.shape(0));
  items.item_len = static_cast<size_t>(rows.shape(1));
  return items;
}

VarItems var_items(const py::buffer_info& buffer, const OffsetArray& offsets, const char* arg) {
  if (offsets.ndim() != 1 || offsets.shape(0) < 1)
    throw py::value_error(std::string(arg) + ": offsets must be a 1-D array of N + 1 entries");
  VarItems items;
  items.buffer = static_cast<const uint8_t*>(buffer.ptr);
  items.buffer_len = static_cast<size_t>(buffer.size * buffer.itemsize);
  items.offsets = offsets.data();
  items.count = static_cast<size_t>(offsets.shape(0) - 1);
  size_t bad = 0;
  if (!items_valid(items, &bad))
    throw py::value_error(std::string(arg) + ": offsets of item " + std::to_string(bad) +
                          " are decreasing or run past the end of the buffer");
  return items;
}

}  // namespace ledger_core
