// Scalars modulo the Ed25519 group order L = 2^252 + 27742317777372353535851937790883648493.
//
// Representation: four little-endian 64-bit limbs (Scalar), value < L unless a function
// says otherwise. Byte encodings are 32 bytes little-endian, as in RFC 8032.
// Reduction is Barrett's (HAC 14.42, base 2^64, k = 4) with mu = floor(2^512 / L): any
// value below 2^512 reduces with one 5x5-limb product, one low 5x5-limb product and at
// most two subtractions of L.
//
// Timing: every function here is variable-time. Scalars in verification are public
// (S, k = H(R||A||M), the verifier's own random z); never use these on secrets.
// Aliasing: outputs may alias inputs everywhere. Thread-safety: all functions are
// reentrant; nothing here keeps state.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ledger_core {

constexpr size_t SCALAR_LEN = 32;

extern const uint8_t ED25519_GROUP_ORDER[32];  // L, little-endian

struct Scalar {
  uint64_t v[4];
};

// A 512-bit accumulator for sums of products (each product < 2^384 when one factor is a
// 128-bit verifier coefficient): no reduction until sc_acc_reduce. Adding up to 2^100
// products of a 128-bit and a 256-bit number cannot overflow it.
struct ScalarAcc {
  uint64_t v[8];
};

// --- byte interface (RFC 8032 encodings) ---

// out = in mod L, in a 64-byte little-endian integer (a SHA-512 digest). out may alias in.
void sc_reduce64(uint8_t out[32], const uint8_t in[64]);

// True when the 32-byte little-endian integer s is < L (RFC 8032 §5.1.7 check on S).
// All 256 bits count: s with the top bit set is not canonical.
bool sc_is_canonical(const uint8_t s[32]);

// out = (a * b + c) mod L for 32-byte little-endian a, b, c of any value < 2^256.
void sc_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32], const uint8_t c[32]);

// --- limb interface ---

// s = the 32-byte little-endian integer in, unreduced (any value < 2^256).
void sc_from_bytes(Scalar& s, const uint8_t in[32]);
// out = the 32 little-endian bytes of s.
void sc_to_bytes(uint8_t out[32], const Scalar& s);
// s = in mod L for a 512-bit integer given as 8 little-endian limbs.
void sc_reduce_wide(Scalar& s, const uint64_t in[8]);

void sc_zero(Scalar& s);
bool sc_is_zero(const Scalar& s);
// r = (a + b) mod L; a and b < L.
void sc_add(Scalar& r, const Scalar& a, const Scalar& b);
// r = (-a) mod L; a < L.
void sc_neg(Scalar& r, const Scalar& a);
// r = (a * b) mod L; a, b any values < 2^256.
void sc_mul(Scalar& r, const Scalar& a, const Scalar& b);
// r = (z * b) mod L for a 128-bit z = z_lo + 2^64 z_hi; b any value < 2^256.
void sc_mul128(Scalar& r, uint64_t z_lo, uint64_t z_hi, const Scalar& b);

// Bit length of s (0 for zero): the MSM skips the top windows of short scalars.
unsigned sc_bit_length(const Scalar& s);

// acc = 0; acc += z * b (z 128-bit, b < 2^256); s = acc mod L.
void sc_acc_zero(ScalarAcc& acc);
void sc_acc_add_mul128(ScalarAcc& acc, uint64_t z_lo, uint64_t z_hi, const Scalar& b);
void sc_acc_reduce(Scalar& s, const ScalarAcc& acc);

}  // namespace ledger_core
