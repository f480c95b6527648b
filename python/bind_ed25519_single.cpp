// Bindings for single Ed25519 verification. Wrong lengths are an answer here
// (VerifyReason::bad_length), not an exception: the facade validates types, and a
// verifier fed arbitrary bytes should say "invalid", never crash or raise.
#include "bindings.h"
#include "ed25519/field_paths.h"
#include "ed25519/verify.h"

namespace ledger_core {
namespace {

// Verifies with the GIL released when the message is long enough to be worth it.
template <class Verify>
int verify_buffers(const py::buffer& public_key, const py::buffer& message, const py::buffer& signature,
                   Verify&& verify) {
  py::buffer_info pk_info = public_key.request();
  py::buffer_info msg_info = message.request();
  py::buffer_info sig_info = signature.request();
  const ByteSpan pk = byte_span(pk_info), msg = byte_span(msg_info), sig = byte_span(sig_info);
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
      [](const py::buffer& public_key, const py::buffer& message, const py::buffer& signature) {
        return verify_buffers(public_key, message, signature,
                              [](const uint8_t* pk, const uint8_t* msg, size_t len, const uint8_t* sig) {
                                return ed25519_verify(pk, msg, len, sig);
                              });
      },
      py::arg("public_key"), py::arg("message"), py::arg("signature"),
      "The VerifyReason of one signature: 0 ok, 1 bad_length, 2 non_canonical_s, "
      "3 non_canonical_point, 4 small_order_key, 5 equation_failed.");
  m.def("ed25519_active_path", [] { return std::string(ed25519_active_path()); });
  // For tests: the same verification forced onto one field path; None when that path
  // cannot run on this CPU (or LEDGER_CORE_PORTABLE is set).
  m.def(
      "_ed25519_verify_on_path",
      [](const std::string& path, const py::buffer& public_key, const py::buffer& message,
         const py::buffer& signature) -> py::object {
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
