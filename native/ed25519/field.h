// Arithmetic in GF(p), p = 2^255 - 19, the coordinate field of Ed25519.
//
// Representation: radix 2^51, five unsigned 64-bit limbs, f = sum v[i] 2^(51 i), value
// taken mod p. Limbs are loosely reduced; the bounds every function keeps:
//   - outputs of every function here are "tight": each limb < 2^52;
//   - every function accepts limbs < 2^53 (so the sum of two outputs is a valid input);
//     fe_mul and fe_sq accept up to 2^54.
// Results are exact mod p; only fe_tobytes gives the unique (canonical) representative.
//
// Aliasing: every output may alias any input. Sizes: encodings are FE_LEN = 32 bytes,
// little-endian. Nothing here validates: fe_frombytes accepts values >= p (callers that
// must reject them compare the re-encoding, as ge_decompress_strict does).
//
// Timing: variable-time is allowed (verification handles public data only); in fact no
// function here branches on its inputs, except the zero test in fe_batch_invert.
// Thread-safety: pure functions, reentrant. Never use on secret keys all the same.
//
// Speed: these are the portable radix-2^51 functions (field_inline.h has the bodies).
// Single verification may run on a faster path with its own representation (radix 2^64,
// field_mulx.cpp); that never shows here: every fe and ge_* value outside the kernel is
// radix 2^51.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ledger_core {

constexpr size_t FE_LEN = 32;

struct fe {
  uint64_t v[5];
};

void fe_0(fe& h);
void fe_1(fe& h);
void fe_copy(fe& h, const fe& f);

// h = f + g, h = f - g, h = -f (each carried back to tight limbs).
void fe_add(fe& h, const fe& f, const fe& g);
void fe_sub(fe& h, const fe& f, const fe& g);
void fe_neg(fe& h, const fe& f);

// h = f * g, h = f^2.
void fe_mul(fe& h, const fe& f, const fe& g);
void fe_sq(fe& h, const fe& f);

// out = z^(p-2) = 1/z for z != 0, and 0 for z == 0.
void fe_invert(fe& out, const fe& z);
// out = z^((p-5)/8), the exponent used to take square roots (RFC 8032 §5.1.3).
void fe_pow22523(fe& out, const fe& z);

// h = the little-endian integer in s with bit 255 ignored; may be >= p (not validated).
void fe_frombytes(fe& h, const uint8_t s[32]);
// s = the canonical encoding of h (the representative in [0, p)); bit 255 is 0.
void fe_tobytes(uint8_t s[32], const fe& h);

// RFC 8032's sign: the low bit of the canonical encoding.
bool fe_isnegative(const fe& f);
bool fe_iszero(const fe& f);
bool fe_equal(const fe& f, const fe& g);  // equal mod p

// out[i] = 1 / in[i] for i < n with one inversion and 3(n - 1) multiplications
// (Montgomery's trick). Zero elements map to zero without spoiling the others. in may
// alias out exactly (in == out); partial overlap is not allowed. n = 0 does nothing.
// Uses n field elements of heap scratch; if that allocation fails it falls back to
// chunks on the stack (slower: one inversion per 64 elements), so it never fails.
void fe_batch_invert(fe* out, const fe* in, size_t n);

}  // namespace ledger_core
