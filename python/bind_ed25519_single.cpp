// Bindings for single Ed25519 verification. Wrong lengths are an answer here
// (VerifyReason::bad_length), not an exception: the facade validates types, and a
// verifier fed arbitrary bytes should say "invalid", never crash or raise.
#include "bindings.h"
#include "ed25519/test_hooks.h"
#include "ed25519/verify.h"

namespace ledger_core {
namespace {

// The bytes of a bytes object directly (no buffer request: this is the common case and
// a third of the binding's overhead), of anything else through the buffer protocol
// (pinned by `pinned`, which the caller keeps alive). A non-buffer raises TypeError.
ByteSpan bytes_view(const py::object& obj, py::buffer_info& pinned) {
  if (PyBytes_Check(obj.ptr())) {
    ByteSpan span;
    span.data = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(obj.ptr()));
    span.len = static_cast<size_t>(PyBytes_GET_SIZE(obj.ptr()));
    return span;
  }
  pinned = py::reinterpret_borrow<py::buffer>(obj).request();
  return byte_span(pinned);
}

// Verifies with the GIL released when the message is long enough to be worth it.
template <class Verify>
int verify_buffers(const py::object& public_key, const py::object& message, const py::object& signature,
                   Verify&& verify) {
  py::buffer_info pk_info, msg_info, sig_info;
  const ByteSpan pk = bytes_view(public_key, pk_info);
  const ByteSpan msg = bytes_view(message, msg_info);
  const ByteSpan sig = bytes_view(signature, sig_info);
  if (pk.len != ED25519_PUBLIC_KEY_LEN || sig.len != ED25519_SIGNATURE_LEN)
    return int(VerifyReason::bad_length);
  if (msg.len >= RELEASE_GIL_MIN_BYTES) {
    py::gil_scoped_release release;
    return int(verify(pk.data, msg.data, msg.len, sig.data));
  }
  return int(verify(pk.data, msg.data, msg.len, sig.data));
}

}  // namespace

void bind_ed25519_single(py::module_& m) {
  m.attr("ED25519_PUBLIC_KEY_LEN") = ED25519_PUBLIC_KEY_LEN;
  m.attr("ED25519_SIGNATURE_LEN") = ED25519_SIGNATURE_LEN;
  m.def(
      "ed25519_verify",
      [](const py::object& public_key, const py::object& message, const py::object& signature) {
        return verify_buffers(public_key, message, signature,
                              [](const uint8_t* pk, const uint8_t* msg, size_t len, const uint8_t* sig) {
                                return ed25519_verify(pk, msg, len, sig);
                              });
      },
      py::arg("public_key"), py::arg("message"), py::arg("signature"),
      "The VerifyReason of one signature: 0 ok, 1 bad_length, 2 non_canonical_s, "
      "3 non_canonical_point, 4 small_order_key, 5 equation_failed.");
  m.def("ed25519_active_path", [] { return std::string(ed25519_active_path()); });
  // For tests: "" when the field and point functions agree with each other and with slow
  // references, else what failed.
  m.def("_ed25519_core_selftest", [] { return std::string(ed25519_core_selftest()); });
  // For tests: the same verification forced onto one field path; None when that path
  // cannot run on this CPU (or LEDGER_CORE_PORTABLE is set).
  m.def(
      "_ed25519_verify_on_path",
      [](const std::string& path, const py::object& public_key, const py::object& message,
         const py::object& signature) -> py::object {
        bool available = true;
        const int reason = verify_buffers(
            public_key, message, signature,
            [&](const uint8_t* pk, const uint8_t* msg, size_t len, const uint8_t* sig) {
              return ed25519_verify_on_path(path.c_str(), pk, msg, len, sig, &available);
            });
        if (!available) return py::none();
        return py::int_(reason);
      },
      py::arg("path"), py::arg("public_key"), py::arg("message"), py::arg("signature"));
}

}  // namespace ledger_core
