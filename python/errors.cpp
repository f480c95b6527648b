// The one table from native Status to Python exception (py-lmdb keeps one such table).
// The classes live in ledger_core/errors.py so that they can derive from both
// LedgerError and the builtin a caller would expect (ValueError, TypeError, MemoryError).
#include <exception>
#include <new>
#include <stdexcept>

#include "bindings.h"

namespace ledger_core {
namespace {

const char* exception_name(Status status) {
  switch (status) {
    case Status::invalid_argument: return "InvalidArgumentError";
    case Status::invalid_type: return "InvalidTypeError";
    case Status::out_of_range: return "OutOfRangeError";
    case Status::malformed: return "MalformedInputError";
    case Status::no_memory: return "NativeMemoryError";
    case Status::map_full: return "MapFullError";
    case Status::not_found: return "NotFoundError";
    case Status::exists: return "ExistsError";
    case Status::corrupted: return "CorruptedError";
    case Status::io_error: return "LedgerIOError";
    case Status::locked: return "LedgerLockedError";
    case Status::unsupported: return "UnsupportedFormatError";
    case Status::read_only: return "ReadOnlyError";
    case Status::closed: return "LedgerClosedError";
    case Status::ok:
    case Status::internal: break;
  }
  return "InternalError";
}

void set_error(Status status, const std::string& message) {
  py::object errors = py::module_::import("ledger_core.errors");
  py::object cls = errors.attr(exception_name(status));
  PyErr_SetString(cls.ptr(), message.c_str());
}

}  // namespace

void throw_error(Status status, const std::string& message) {
  set_error(status, message);
  throw py::error_already_set();
}

void throw_status(Status status, const std::string& context) {
  throw_error(status, context.empty() ? lc_strerror(status) : context + ": " + lc_strerror(status));
}

void register_exception_translator() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const py::error_already_set&) {
      throw;  // already a Python exception: pybind11 restores it
    } catch (const py::builtin_exception&) {
      throw;  // pybind11's own (raised only for calling-convention errors here)
    } catch (const std::bad_alloc&) {
      set_error(Status::no_memory, "ledger_core could not allocate memory for this call");
    } catch (const std::length_error& e) {
      set_error(Status::no_memory, std::string("ledger_core: request too large: ") + e.what());
    } catch (const std::exception& e) {
      set_error(Status::internal, std::string("ledger_core internal error (a bug; please report it): ") + e.what());
    }
  });
}

}  // namespace ledger_core
