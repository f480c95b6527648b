// Single Ed25519 signature verification under the ledger's policy (docs/POLICY.md).
//
// For public key A (32 bytes), message M and signature R || S (64 bytes), accept exactly
// when, checked in this order (the first failure is the reason returned):
//   1. S < L                                        else non_canonical_s
//   2. A, then R, decode strictly (RFC 8032 §5.1.3:
//      y < p, no "-0", on the curve)                else non_canonical_point
//   3. A is not of small order ([8]A != identity)   else small_order_key
//   4. [8][S]B == [8]R + [8][k]A, k = SHA-512(R || A || M) mod L   else equation_failed
// The equation is the cofactored one, so single and batch verification agree on every
// input (a cofactorless check would reject some signatures a batch accepts).
//
// How. Rule 4 is checked in half-size form (Pornin 2020): extended Euclid on (L, k),
// stopped at the first remainder below 2^127, gives c0 = c1 k (mod L) with |c0|, |c1|
// < 2^127; with w = c1 S mod L = w_lo + 2^128 w_hi the equation becomes
//     [8]([w_lo]B + [w_hi]B128 - [c1]R - [c0]A) == identity,      B128 = [2^128]B,
// four 128-bit scalars sharing one chain of 128 doublings (instead of 253) with signed
// sliding windows: width 5 over A and R (eight odd multiples built per call), width
// BASE_WNAF_WIDTH over B and B128 (tables built at start-up). The result is compared
// with the identity projectively. (If the reduction ever failed its own check, the
// full-size form [8]([S]B - [k]A - R) == identity is used; both are tested.)
//
//   bit 127 ........................................................ bit 0
//   dbl dbl +3A dbl -5R dbl dbl dbl -27B dbl +9B128 dbl -A ...     one shared doubling chain
//
// The field arithmetic is chosen once per process (field_paths.h): radix 2^64 with
// MULX/ADCX/ADOX when the CPU has BMI2 and ADX ("bmi2"), else radix 2^51 in C
// ("portable"); LEDGER_CORE_PORTABLE=1 forces the latter. Both give identical answers.
//
// Sizes: public key 32, signature 64, message any length (may be empty; message may then
// be null). Nothing is written. Timing: variable-time (all inputs are public).
// Thread-safety: reentrant; the only shared state is read-only tables built at start-up.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ed25519/point.h"

namespace ledger_core {

constexpr size_t ED25519_PUBLIC_KEY_LEN = 32;
constexpr size_t ED25519_SIGNATURE_LEN = 64;

enum class VerifyReason : uint8_t {
  ok = 0,
  bad_length = 1,           // reported by the bindings; the native functions take fixed sizes
  non_canonical_s = 2,
  non_canonical_point = 3,  // A or R
  small_order_key = 4,
  equation_failed = 5,
};
constexpr int VERIFY_REASON_COUNT = 6;

// The name of each reason as the Python facade spells it ("OK", "BAD_LENGTH",
// "NON_CANONICAL_S", "NON_CANONICAL_POINT", "SMALL_ORDER_KEY", "EQUATION_FAILED"): the
// one source of ed25519.Reason. Never null.
const char* verify_reason_name(VerifyReason reason);

VerifyReason ed25519_verify(const uint8_t public_key[32], const uint8_t* message,
                            size_t message_len, const uint8_t signature[64]);

// The same with A already decoded from public_key by ge_decompress_strict and found not
// to be of small order (a key cache): only rules 1, 2 (for R) and 4 are checked. A and
// public_key must match; that is not validated (public_key is hashed, A is used).
VerifyReason ed25519_verify_prepared(const ge_p3& A, const uint8_t public_key[32],
                                     const uint8_t* message, size_t message_len,
                                     const uint8_t signature[64]);

// r = [a]A + [b]B for any 256-bit little-endian a, b (not reduced mod L, not validated),
// B the base point: widths 5 over A and 8 over B, up to 256 doublings, on the active field
// path. A and r are ordinary (radix 2^51) points; r may alias A. Variable time.
void ge_double_scalarmult_vartime(ge_p3& r, const uint8_t a[32], const ge_p3& A, const uint8_t b[32]);

// Checks the field and point functions against each other and against slow references
// (ring identities, batch inversion with zeros and aliasing, canonical encodings, every
// point formula, the start-up tables, ge_double_scalarmult_vartime, ed25519_verify_prepared,
// and on BMI2/ADX machines the bmi2 field against the portable one). Returns "" when all
// hold, else what failed. Takes a few milliseconds; for tests.
const char* ed25519_core_selftest();

// The name of the field arithmetic path the verification uses ("bmi2" or "portable"),
// chosen once from cpu_features().
const char* ed25519_active_path();

}  // namespace ledger_core
