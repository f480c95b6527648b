// The argument helpers of bindings.h: every conversion from a Python object to what the
// native code takes, each failure raised through errors.cpp with the argument's name.
#include <cstring>
#include <string>

#include "bindings.h"

namespace ledger_core {
namespace {

std::string type_name(py::handle obj) { return Py_TYPE(obj.ptr())->tp_name; }

// numpy and the struct module write a format with an optional byte-order prefix.
const char* format_code(const Py_buffer& view) {
  const char* f = view.format ? view.format : "B";
  if (*f == '<' || *f == '=' || *f == '@' || *f == '|') ++f;
  return f;
}

bool is_format(const Py_buffer& view, const char* codes) {
  const char* f = format_code(view);
  return f[0] != '\0' && f[1] == '\0' && std::strchr(codes, f[0]) != nullptr;
}

std::string shape_text(const Py_buffer& view) {
  std::string s = "(";
  for (int d = 0; d < view.ndim; ++d) {
    if (d) s += ", ";
    s += std::to_string(view.shape[d]);
  }
  return s + (view.ndim == 1 ? ",)" : ")");
}

}  // namespace

std::string ArgName::str() const {
  return index == NO_INDEX ? std::string(name) : std::string(name) + "[" + std::to_string(index) + "]";
}

PinnedBytes::PinnedBytes(py::handle obj, ArgName arg) {
  PyObject* o = obj.ptr();
  if (PyBytes_Check(o)) {
    span_.data = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(o));
    span_.len = static_cast<size_t>(PyBytes_GET_SIZE(o));
    return;
  }
  if (!PyObject_CheckBuffer(o))
    throw_error(Status::invalid_type, arg.str() + " must be bytes-like (bytes, bytearray, memoryview, uint8 array), got " +
                                          type_name(obj));
  if (PyObject_GetBuffer(o, &view_, PyBUF_RECORDS_RO) != 0) {
    py::error_already_set e;
    throw_error(Status::invalid_argument, arg.str() + " cannot be read as a buffer: " + e.what());
  }
  held_ = true;
  if (!PyBuffer_IsContiguous(&view_, 'C')) {
    release();
    throw_error(Status::invalid_argument,
                arg.str() + " must be a C-contiguous buffer (a strided view is not read); pass bytes(...) or "
                            "numpy.ascontiguousarray(...)");
  }
  span_.data = static_cast<const uint8_t*>(view_.buf);
  span_.len = static_cast<size_t>(view_.len);
}

void PinnedBytes::release() {
  if (held_) PyBuffer_Release(&view_);
  held_ = false;
}

PinnedBytes::~PinnedBytes() { release(); }

PinnedBytes::PinnedBytes(py::handle obj, ArgName arg, size_t exact_len) : PinnedBytes(obj, arg) {
  if (size() != exact_len)
    throw_error(Status::invalid_argument,
                arg.str() + " must be " + std::to_string(exact_len) + " bytes, got " + std::to_string(size()));
}

namespace {

// The argument itself, once it is known to be an array-like buffer (not bytes).
py::handle array_like(py::handle obj, const std::string& arg, const std::string& want) {
  if (PyBytes_Check(obj.ptr()) || !PyObject_CheckBuffer(obj.ptr()))
    throw_error(Status::invalid_type, arg + " must be " + want + ", got " + type_name(obj));
  return obj;
}

std::string rows_shape(size_t width) { return width ? "(N, " + std::to_string(width) + ")" : "(N, k)"; }

}  // namespace

PinnedRows::PinnedRows(py::handle obj, const char* arg, size_t width)
    : bytes_(array_like(obj, arg, "a uint8 array of shape " + rows_shape(width)), arg) {
  const Py_buffer& view = *bytes_.view();
  if (view.itemsize != 1 || !is_format(view, "B"))
    throw_error(Status::invalid_type, std::string(arg) + " must be a uint8 array of shape " + rows_shape(width) +
                                          ", got items of format '" + format_code(view) + "'");
  if (view.ndim != 2 || (width && size_t(view.shape[1]) != width))
    throw_error(Status::invalid_argument,
                std::string(arg) + " must have shape " + rows_shape(width) + ", got " + shape_text(view));
  items_.data = bytes_.data();
  items_.count = static_cast<size_t>(view.shape[0]);
  items_.item_len = static_cast<size_t>(view.shape[1]);
}

PinnedVarItems::PinnedVarItems(py::handle buffer, py::handle offsets, const char* arg)
    : buffer_(buffer, (std::string(arg) + ".buffer").c_str()),
      offsets_(array_like(offsets, std::string(arg) + ".offsets", "a 1-D array of 64-bit integers"),
               (std::string(arg) + ".offsets").c_str()) {
  const std::string name(arg);
  const Py_buffer& view = *offsets_.view();
  if (view.itemsize != 8 || !is_format(view, "qQlL"))
    throw_error(Status::invalid_type, name + ".offsets must be 64-bit integers, got items of format '" +
                                          format_code(view) + "'");
  if (view.ndim != 1 || view.shape[0] < 1)
    throw_error(Status::invalid_argument, name + ".offsets must be 1-D with N + 1 >= 1 entries, got shape " +
                                              shape_text(view));
  if (reinterpret_cast<uintptr_t>(view.buf) % alignof(uint64_t) != 0)
    throw_error(Status::invalid_argument, name + ".offsets must be 8-byte aligned (pass a numpy array)");
  items_.buffer = buffer_.data();
  items_.buffer_len = buffer_.size();
  items_.offsets = static_cast<const uint64_t*>(view.buf);
  items_.count = static_cast<size_t>(view.shape[0] - 1);
  size_t bad = 0;
  if (!items_valid(items_, &bad)) {
    if (items_.count == 0)
      throw_error(Status::malformed, name + ": offsets[0] = " + std::to_string(items_.offsets[0]) + " is past the end of the " +
                                         std::to_string(items_.buffer_len) + "-byte buffer");
    const uint64_t lo = items_.offsets[bad], hi = items_.offsets[bad + 1];
    if (lo > hi)
      throw_error(Status::malformed, name + ": offsets decrease at item " + std::to_string(bad) + " (" +
                                         std::to_string(lo) + " > " + std::to_string(hi) + "); offsets must not decrease");
    throw_error(Status::malformed, name + ": item " + std::to_string(bad) + " ends at offset " + std::to_string(hi) +
                                       ", past the end of the " + std::to_string(items_.buffer_len) + "-byte buffer");
  }
}

uint64_t uint_arg(py::handle obj, const char* arg, uint64_t max) {
  PyObject* o = obj.ptr();
  if (PyLong_CheckExact(o)) {  // the common case, without PyNumber_Index's new reference
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0 && value >= 0 && static_cast<unsigned long long>(value) <= max) return uint64_t(value);
  }
  if (PyBool_Check(o) || !PyIndex_Check(o))
    throw_error(Status::invalid_type, std::string(arg) + " must be an int, got " + type_name(obj));
  py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(o));
  if (!index) throw py::error_already_set();
  const std::string range = " must be between 0 and " + std::to_string(max);
  int overflow = 0;
  const long long value = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow < 0 || (overflow == 0 && value < 0))
    throw_error(Status::out_of_range, std::string(arg) + range + ", got a negative value");
  unsigned long long u = static_cast<unsigned long long>(value);
  if (overflow > 0) {
    u = PyLong_AsUnsignedLongLong(index.ptr());
    if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
      PyErr_Clear();
      throw_error(Status::out_of_range, std::string(arg) + range + ", got a value of 2**64 or more");
    }
  }
  if (u > max) throw_error(Status::out_of_range, std::string(arg) + range + ", got " + std::to_string(u));
  return u;
}

size_t threads_arg(py::handle obj) {
  if (obj.is_none()) return 0;
  return static_cast<size_t>(uint_arg(obj, "threads", MAX_THREADS));
}

std::string str_arg(py::handle obj, const char* arg) {
  if (!PyUnicode_Check(obj.ptr()))
    throw_error(Status::invalid_type, std::string(arg) + " must be a str, got " + type_name(obj));
  Py_ssize_t len = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(obj.ptr(), &len);
  if (utf8 == nullptr) {
    PyErr_Clear();
    throw_error(Status::invalid_argument, std::string(arg) + " must be encodable as UTF-8 (it holds a lone surrogate)");
  }
  return std::string(utf8, static_cast<size_t>(len));
}

py::bytes new_bytes(size_t len, uint8_t** data) {
  PyObject* obj = len <= size_t(PY_SSIZE_T_MAX) ? PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(len))
                                                 : nullptr;
  if (obj == nullptr) {
    PyErr_Clear();
    throw_error(Status::no_memory, "cannot allocate a result of " + std::to_string(len) + " bytes");
  }
  *data = reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(obj));
  return py::reinterpret_steal<py::bytes>(obj);
}

py::array_t<uint8_t> new_rows(size_t count, size_t width) {
  try {
    return py::array_t<uint8_t>({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(width)});
  } catch (const py::error_already_set&) {
    PyErr_Clear();
  } catch (const std::bad_alloc&) {
  }
  throw_error(Status::no_memory,
              "cannot allocate a result of " + std::to_string(count) + " x " + std::to_string(width) + " bytes");
}

}  // namespace ledger_core
