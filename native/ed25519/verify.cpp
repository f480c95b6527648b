#include "ed25519/verify.h"

#include "common/cpu.h"
#include "ed25519/field_paths.h"
#include "ed25519/scalar.h"
#include "ed25519/verify_inline.h"
#include "sha2/sha512.h"

namespace ledger_core {

namespace ed25519_paths {

VerifyReason verify_points_portable(const ge_p3* prepared_A, const uint8_t public_key[32],
                                    const uint8_t signature[64], const uint8_t k[32]) {
  return verify_inline::verify_points<fe_inline::PortableField>(prepared_A, public_key, signature, k);
}

void double_scalarmult_portable(ge_p3& r, const uint8_t a[32], const ge_p3& A, const uint8_t b[32]) {
  verify_inline::double_scalarmult<fe_inline::PortableField>(r, a, A, b, ge_inline::curve_constants());
}

const FieldPath& portable_path() {
  static const FieldPath path = {"portable", verify_points_portable, double_scalarmult_portable};
  return path;
}

const FieldPath& active_path() {
  static const FieldPath& path = best_path(cpu_features());
  return path;
}

}  // namespace ed25519_paths

namespace {

VerifyReason verify_with(const ed25519_paths::FieldPath& path, const ge_p3* prepared_A,
                         const uint8_t public_key[32], const uint8_t* message, size_t message_len,
                         const uint8_t signature[64]) {
  if (!sc_is_canonical(signature + 32)) return VerifyReason::non_canonical_s;
  uint8_t digest[SHA512_LEN];
  Sha512 h;
  h.init();
  h.update(signature, 32);
  h.update(public_key, 32);
  if (message_len != 0) h.update(message, message_len);
  h.final(digest);
  uint8_t k[32];
  sc_reduce64(k, digest);
  return path.verify_points(prepared_A, public_key, signature, k);
}

}  // namespace

VerifyReason ed25519_verify(const uint8_t public_key[32], const uint8_t* message, size_t message_len,
                            const uint8_t signature[64]) {
  return verify_with(ed25519_paths::active_path(), nullptr, public_key, message, message_len, signature);
}

VerifyReason ed25519_verify_prepared(const ge_p3& A, const uint8_t public_key[32], const uint8_t* message,
                                     size_t message_len, const uint8_t signature[64]) {
  return verify_with(ed25519_paths::active_path(), &A, public_key, message, message_len, signature);
}

VerifyReason ed25519_verify_on_path(const char* path_name, const uint8_t public_key[32],
                                    const uint8_t* message, size_t message_len,
                                    const uint8_t signature[64], bool* path_available) {
  const ed25519_paths::FieldPath* path = ed25519_paths::find_path(path_name, cpu_features());
  *path_available = path != nullptr;
  if (path == nullptr) return VerifyReason::equation_failed;
  return verify_with(*path, nullptr, public_key, message, message_len, signature);
}

void ge_double_scalarmult_vartime(ge_p3& r, const uint8_t a[32], const ge_p3& A, const uint8_t b[32]) {
  ed25519_paths::active_path().double_scalarmult(r, a, A, b);
}

const char* ed25519_active_path() { return ed25519_paths::active_path().name; }

}  // namespace ledger_core
