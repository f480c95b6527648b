// Bindings for the hash primitives: SHA-2 here, BLAKE3 joining it.
#include "bindings.h"
#include "sha2/sha256.h"
#include "sha2/sha512.h"

namespace ledger_core {
namespace {

template <size_t Len, void (*Hash)(const uint8_t*, size_t, uint8_t*)>
py::bytes one_shot(const py::buffer& data) {
  py::buffer_info info = data.request();
  ByteSpan in = byte_span(info);
  uint8_t out[Len];
  if (in.len >= RELEASE_GIL_MIN_BYTES) {
    py::gil_scoped_release release;
    Hash(in.data, in.len, out);
  } else {
    Hash(in.data, in.len, out);
  }
  return py::bytes(reinterpret_cast<const char*>(out), Len);
}

}  // namespace

void bind_hashing(py::module_& m) {
  m.attr("SHA256_LEN") = SHA256_LEN;
  m.attr("SHA512_LEN") = SHA512_LEN;
  m.def("sha256", &one_shot<SHA256_LEN, sha256>, py::arg("data"));
  m.def("sha512", &one_shot<SHA512_LEN, sha512>, py::arg("data"));
}

}  // namespace ledger_core
