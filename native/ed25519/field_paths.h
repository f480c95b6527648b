// The field arithmetic paths of Ed25519 verification; ed25519_dispatch.cpp picks one.
//
// Each path is the whole verification kernel (verify_inline.h), the batch kernel
// (batch_inline.h) and the MSM (msm_inline.h), instantiated on one field type: a call through a pointer per field multiplication would cost more than the path
// saves, so the choice is made once per verification, at the top. "portable" (radix 2^51
// with unsigned __int128, verify.cpp) always exists; "bmi2" (radix 2^64 with MULX/ADCX/
// ADOX, field_mulx.cpp) when the CPU has BMI2 and ADX. They must give the same answers:
// tests/test_ed25519_core.py compares them in one process (test_hooks.h).
// Internal to native/ed25519. Thread-safety: read-only after start-up.
#pragma once

#include <cstdint>

#include "ed25519/batch.h"
#include "ed25519/msm.h"
#include "ed25519/point.h"
#include "ed25519/verify.h"

namespace ledger_core {
namespace ed25519_paths {

// The half-size form of the verification equation (verify_inline.h explains it).
struct HalfScalars {
  uint8_t a[32];     // |c0|, < 2^128
  bool a_negated;    // the A term is -[c0]A: true when c0 >= 0 (add [|c0|](-A))
  uint8_t r[32];     // |c1|, < 2^128
  bool r_negated;    // likewise for the R term, -[c1]R
  uint8_t b_lo[32];  // w mod 2^128, w = c1 S mod L
  uint8_t b_hi[32];  // w >> 128
};

// One chunk of a batch (batch.h): items [begin, end) of the arrays, random_z holding 16
// bytes per item of the chunk (the z_i), reasons written at the items' indices.
struct BatchChunk {
  const uint8_t* public_keys;
  const MessageList* messages;
  const uint8_t* signatures;
  size_t begin, end, threads;
  MsmMethod method;
  const uint8_t* random_z;
  uint8_t* reasons;
};

struct FieldPath {
  // Rules 2-4 of verify.h for S already known canonical and k = H(R || A || M) mod L;
  // half, when not null, is the half-size form of the same equation.
  VerifyReason (*verify_points)(const ge_p3* prepared_A, const uint8_t public_key[32],
                                const uint8_t signature[64], const uint8_t k[32],
                                const HalfScalars* half);
  void (*double_scalarmult)(ge_p3& r, const uint8_t a[32], const ge_p3& A, const uint8_t b[32]);
  // msm_vartime (msm.h) on this field: public points in and out.
  Status (*msm)(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t count,
                MsmMethod method, size_t threads);
  // The whole batch kernel (batch_inline.h) for one chunk; status as ed25519_verify_batch.
  Status (*verify_batch_chunk)(const BatchChunk& chunk);
};

// The portable instances (msm.cpp, batch.cpp), gathered in PORTABLE_FIELD_PATH (verify.cpp).
Status msm_portable(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t count,
                    MsmMethod method, size_t threads);
Status verify_batch_chunk_portable(const BatchChunk& chunk);

extern const FieldPath PORTABLE_FIELD_PATH;
// Radix 2^64 with MULX/ADCX/ADOX (field_mulx.cpp); only when the CPU has BMI2 and ADX.
extern const FieldPath MULX_FIELD_PATH;

// The bmi2 field's operations out of line, for the self-test (selftest.cpp) to compare
// with the portable ones; only when the CPU has BMI2 and ADX. Elements are four 64-bit
// limbs in v[0..3], any value below 2^256 (field_mulx.cpp).
struct MulxFieldOps {
  void (*mul)(fe& h, const fe& f, const fe& g);
  void (*sq)(fe& h, const fe& f);
  void (*sqn)(fe& h, const fe& f, int n);
  void (*add)(fe& h, const fe& f, const fe& g);
  void (*sub)(fe& h, const fe& f, const fe& g);
  void (*tobytes)(uint8_t s[32], const fe& f);
};
extern const MulxFieldOps MULX_FIELD_OPS;

// The dispatch (ed25519_dispatch.cpp): the path the CPU supports best, chosen once, and
// the path called `name` ("bmi2", "portable") if the CPU supports it, else null.
const FieldPath& active_path();
const FieldPath* find_path(const char* name);

}  // namespace ed25519_paths
}  // namespace ledger_core
