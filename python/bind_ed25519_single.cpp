// Bindings for single Ed25519 verification. Wrong lengths are an answer here
// (VerifyReason::bad_length), not an exception: a verifier fed arbitrary bytes says
// "invalid", never crashes or raises; an argument that is not bytes-like at all raises
// InvalidTypeError (a programming error).
#include "bindings.h"
#include "ed25519/field_paths.h"
#include "ed25519/scalar.h"
#include "ed25519/verify.h"

namespace ledger_core {
namespace {

// Verifies with the GIL released when the message is long enough to be worth it.
template <class Verify>
int verify_buffers(const py::object& public_key, const py::object& message, const py::object& signature,
                   Verify&& verify) {
  PinnedBytes pk(public_key, "public_key"), msg(message, "message"), sig(signature, "signature");
  if (pk.size() != ED25519_PUBLIC_KEY_LEN || sig.size() != ED25519_SIGNATURE_LEN)
    return int(VerifyReason::bad_length);
  return run_native(msg.size(), [&] { return int(verify(pk.data(), msg.data(), msg.size(), sig.data())); });
}

}  // namespace

void bind_ed25519_single(py::module_& m) {
  m.attr("ED25519_PUBLIC_KEY_LEN") = ED25519_PUBLIC_KEY_LEN;
  m.attr("ED25519_SIGNATURE_LEN") = ED25519_SIGNATURE_LEN;
  m.attr("ED25519_GROUP_ORDER") = py::bytes(reinterpret_cast<const char*>(ED25519_GROUP_ORDER), 32);
  py::dict reasons;
  for (int r = 0; r < VERIFY_REASON_COUNT; ++r) reasons[verify_reason_name(VerifyReason(r))] = r;
  m.attr("ED25519_VERIFY_REASONS") = reasons;
  m.def(
      "ed25519_verify",
      [](const py::object& public_key, const py::object& message, const py::object& signature) {
        return verify_buffers(public_key, message, signature,
                              [](const uint8_t* pk, const uint8_t* msg, size_t len, const uint8_t* sig) {
                                return ed25519_verify(pk, msg, len, sig);
                              });
      },
      py::arg("public_key"), py::arg("message"), py::arg("signature"),
      "The VerifyReason of one signature (ED25519_VERIFY_REASONS names them).");
  m.def("ed25519_active_path", [] { return std::string(ed25519_active_path()); });
  // For tests: "" when the field and point functions agree with each other and with slow
  // references, else what failed.
  m.def("_ed25519_core_selftest", [] { return std::string(ed25519_core_selftest()); });
  // For tests: the same verification forced onto one field path; None when that path
  // cannot run on this CPU (or LEDGER_CORE_PORTABLE is set).
  m.def(
      "_ed25519_verify_on_path",
      [](const py::object& path_arg, const py::object& public_key, const py::object& message,
         const py::object& signature) -> py::object {
        const std::string path = str_arg(path_arg, "path");
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
