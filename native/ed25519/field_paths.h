// The field arithmetic paths of Ed25519 verification and the one place that picks one.
//
// Each path is the whole verification kernel (verify_inline.h), the batch kernel
// (batch_inline.h) and the MSM (msm_inline.h), instantiated on one field type: a call through a pointer per field multiplication would cost more than the path
// saves, so the choice is made once per verification, at the top. "portable" (radix 2^51
// with unsigned __int128, verify.cpp) always exists; "bmi2" (radix 2^64 with MULX/ADCX/
// ADOX, field_mulx.cpp) when the CPU has BMI2 and ADX. They must give the same answers:
// tests/test_ed25519_core.py compares them in one process (_ed25519_verify_on_path).
// Internal to native/ed25519. Thread-safety: read-only after start-up.
#pragma once

#include <cstdint>

#include "common/cpu.h"
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
  const char* name;
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

// The portable instances (msm.cpp, batch.cpp), named by portable_path() in verify.cpp.
Status msm_portable(ge_p3& r, const Scalar& b_scalar, const Scalar* scalars, const ge_p3* points, size_t count,
                    MsmMethod method, size_t threads);
Status verify_batch_chunk_portable(const BatchChunk& chunk);

const FieldPath& portable_path();
// Radix 2^64 with MULX/ADCX/ADOX (field_mulx.cpp); call only when the CPU has BMI2 and ADX.
const FieldPath& mulx_path();
// Its field operations against the portable ones on the edge values of 256-bit limbs
// (0, p, 2^255, 2^256 - 38, ...): "" or what differed. Only when the CPU has BMI2 and ADX.
const char* mulx_field_selftest();
// The fastest path the CPU supports (portable when LEDGER_CORE_PORTABLE is set).
const FieldPath& best_path(const CpuFeatures& cpu);
// The path called `name` if it exists and the CPU supports it, else null.
const FieldPath* find_path(const char* name, const CpuFeatures& cpu);
// best_path(cpu_features()), cached.
const FieldPath& active_path();

}  // namespace ed25519_paths

// Verification forced onto the path `name` (for tests comparing paths within one process);
// "name:full" also skips the half-size equation and checks the full-size one.
// *path_available is false, and the result meaningless, when that path cannot run here.
// Batch verification (ed25519_verify_batch) forced onto the path `name`, for the same tests;
// *path_available as above.
Status ed25519_verify_batch_on_path(const char* path_name, const uint8_t* public_keys,
                                    const MessageList& messages, const uint8_t* signatures, size_t count,
                                    size_t threads, MsmMethod method, uint8_t* reasons, bool* path_available);

VerifyReason ed25519_verify_on_path(const char* path_name, const uint8_t public_key[32],
                                    const uint8_t* message, size_t message_len,
                                    const uint8_t signature[64], bool* path_available);

}  // namespace ledger_core
