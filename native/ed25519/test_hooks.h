// Test hooks of Ed25519 verification: verification forced onto one field path, and the
// built-in self-test. For tests comparing the paths within one process; the library's
// own callers use verify.h and batch.h.
//
// Paths are "portable" (radix 2^51) and "bmi2" (radix 2^64 with MULX/ADCX/ADOX, when the
// CPU has BMI2 and ADX and neither LEDGER_CORE_PORTABLE nor LEDGER_CORE_DISABLE turned
// them off). Thread-safety: as ed25519_verify and ed25519_verify_batch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "ed25519/batch.h"
#include "ed25519/msm.h"
#include "ed25519/verify.h"

namespace ledger_core {

// ed25519_verify forced onto the path `path_name`; "<path>:full" also skips the half-size
// equation and checks the full-size one. *path_available is false, and the result
// meaningless, when that path cannot run here.
VerifyReason ed25519_verify_on_path(const char* path_name, const uint8_t public_key[32],
                                    const uint8_t* message, size_t message_len,
                                    const uint8_t signature[64], bool* path_available);

// ed25519_verify_batch forced onto the path `path_name`; *path_available as above (when
// false, nothing is written and the status is ok).
Status ed25519_verify_batch_on_path(const char* path_name, const uint8_t* public_keys,
                                    const MessageList& messages, const uint8_t* signatures, size_t count,
                                    size_t threads, MsmMethod method, uint8_t* reasons, bool* path_available);

// Checks the field and point functions against each other and against slow references
// (ring identities, batch inversion with zeros and aliasing, canonical encodings, every
// point formula, the start-up tables, ge_double_scalarmult_vartime, ed25519_verify_prepared,
// and on BMI2/ADX machines the bmi2 field against the portable one on the edge values of
// 256-bit limbs). Returns "" when all hold, else what failed. Takes a few milliseconds.
const char* ed25519_core_selftest();

}  // namespace ledger_core
