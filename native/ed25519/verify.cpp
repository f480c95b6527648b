#include "ed25519/verify.h"

#include <cstring>

#include "common/cpu.h"
#include "ed25519/field_paths.h"
#include "ed25519/scalar.h"
#include "ed25519/verify_inline.h"
#include "sha2/sha512.h"

namespace ledger_core {

namespace ed25519_paths {

VerifyReason verify_points_portable(const ge_p3* prepared_A, const uint8_t public_key[32],
                                    const uint8_t signature[64], const uint8_t k[32],
                                    const HalfScalars* half) {
  return verify_inline::verify_points<fe_inline::PortableField>(prepared_A, public_key, signature, k, half);
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

// --- lattice basis reduction in dimension 2 (Pornin 2020, binary variant) ---------------
//
// Finds a short vector (c0, c1) of the lattice {(x, y) : x = k y mod L}, starting from the
// basis u = (L, 0), v = (k, 1). Each step subtracts (or adds) v shifted left by s from u
// to cancel the top bits of the inner product p = <u, v>, updating the squared norms
// N(u), N(v) and p rather than recomputing them. It stops when N(v) < 2^254, so that
// |c0|, |c1| < 2^127. About 100 steps for a random k.
//
// Sizes: the norms and p need up to 507 bits (signed), so they are 512-bit two's
// complement numbers, and every step only touches the limbs still in use (the norms
// shrink as the basis gets shorter). The vectors' coordinates are only needed at the end,
// where they are below 2^127 in magnitude, so they are kept modulo 2^128 (the steps are
// ring operations, so the low 128 bits are exact).

constexpr int kWideLimbs = 8;

struct Wide {
  uint64_t w[kWideLimbs];  // two's complement, little-endian limbs
};

typedef unsigned __int128 u128;

// Limb i of x << s (s >= 0), for x given over its first n limbs (sign-extended beyond).
inline uint64_t shifted_limb(const Wide& x, int i, unsigned q, unsigned b) {
  const int src = i - int(q);
  if (src < 0) return 0;
  const uint64_t hi = x.w[src] << b;
  if (b == 0 || src == 0) return hi;
  return hi | (x.w[src - 1] >> (64 - b));
}

// r += sign * (x << s) over the low n limbs (sign = +1 or -1).
inline void add_shifted(Wide& r, const Wide& x, unsigned s, bool subtract, int n) {
  const unsigned q = s / 64, b = s % 64;
  if (!subtract) {
    u128 c = 0;
    for (int i = 0; i < n; ++i) {
      c += u128(r.w[i]) + shifted_limb(x, i, q, b);
      r.w[i] = uint64_t(c);
      c >>= 64;
    }
  } else {
    uint64_t borrow = 0;
    for (int i = 0; i < n; ++i) {
      const uint64_t y = shifted_limb(x, i, q, b);
      const uint64_t d = r.w[i] - y;
      const uint64_t out = d - borrow;
      borrow = (r.w[i] < y) | (d < borrow);
      r.w[i] = out;
    }
  }
}

// Bit length of |x| over n limbs (two's complement, sign in limb n - 1).
inline unsigned bitlen_abs(const Wide& x, int n) {
  const bool negative = (x.w[n - 1] >> 63) != 0;
  // For negative x, |x| = ~x + 1; the bit length of ~x + 1 equals that of ~x except at
  // powers of two, where it is one more: being one bit long there only makes s one
  // larger in a step, which the stopping rule and the final check tolerate.
  for (int i = n - 1; i >= 0; --i) {
    const uint64_t limb = negative ? ~x.w[i] : x.w[i];
    if (limb != 0) return unsigned(64 * i + 64 - __builtin_clzll(limb));
  }
  return 0;
}

inline bool less_unsigned(const Wide& a, const Wide& b, int n) {
  for (int i = n - 1; i >= 0; --i)
    if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
  return false;
}

// r = a * b for a, b < 2^256 (4 limbs each).
void mul256(Wide& r, const uint64_t a[4], const uint64_t b[4]) {
  for (int i = 0; i < kWideLimbs; ++i) r.w[i] = 0;
  for (int i = 0; i < 4; ++i) {
    u128 carry = 0;
    for (int j = 0; j < 4; ++j) {
      carry += u128(a[i]) * b[j] + r.w[i + j];
      r.w[i + j] = uint64_t(carry);
      carry >>= 64;
    }
    r.w[i + 4] = uint64_t(carry);
  }
}

inline u128 shl128(u128 x, unsigned s) { return s >= 128 ? 0 : x << s; }

constexpr uint64_t kL[4] = {0x5812631a5cf5d3edULL, 0x14def9dea2f79cd6ULL, 0, 0x1000000000000000ULL};

// (c0, c1) with c0 = k c1 mod L (not yet trusted: the caller checks it) and
// |c0|, |c1| < 2^127, as magnitudes and signs; false if the step budget ran out.
bool reduce_basis(const uint64_t k[4], u128& c0_mag, bool& c0_negative, u128& c1_mag, bool& c1_negative) {
  u128 u0 = (u128(kL[1]) << 64) | kL[0], u1 = 0;
  u128 v0 = (u128(k[1]) << 64) | k[0], v1 = 1;
  Wide nu, nv, p;
  mul256(nu, kL, kL);
  mul256(nv, k, k);
  const Wide one = {{1, 0, 0, 0, 0, 0, 0, 0}};
  add_shifted(nv, one, 0, false, kWideLimbs);
  mul256(p, kL, k);
  Wide* NU = &nu;
  Wide* NV = &nv;
  int n = kWideLimbs;
  for (int step = 0; step < 400; ++step) {
    if (less_unsigned(*NU, *NV, n)) {
      Wide* w = NU; NU = NV; NV = w;
      u128 t = u0; u0 = v0; v0 = t;
      t = u1; u1 = v1; v1 = t;
    }
    const unsigned len_v = bitlen_abs(*NV, n);
    if (len_v <= 254) {
      c0_negative = (v0 >> 127) != 0;
      c1_negative = (v1 >> 127) != 0;
      c0_mag = c0_negative ? u128(0) - v0 : v0;
      c1_mag = c1_negative ? u128(0) - v1 : v1;
      return true;
    }
    const unsigned len_p = bitlen_abs(p, n);
    if (len_p == 0) return false;
    const unsigned s = len_p > len_v ? len_p - len_v : 0;
    const bool p_negative = (p.w[n - 1] >> 63) != 0;
    // u -= v << s when p > 0, u += v << s when p < 0:
    // N(u) += N(v) << 2s  -+  p << (s + 1);  p -+= N(v) << s.
    {
      const unsigned q2 = (2 * s) / 64, b2 = (2 * s) % 64, q1 = (s + 1) / 64, b1 = (s + 1) % 64;
      __int128 acc = 0;  // signed: N(u) + (N(v) << 2s) -+ (p << (s + 1)), in one pass
      for (int i = 0; i < n; ++i) {
        acc += __int128(u128(NU->w[i])) + __int128(u128(shifted_limb(*NV, i, q2, b2)));
        const __int128 pl = __int128(u128(shifted_limb(p, i, q1, b1)));
        acc = p_negative ? acc + pl : acc - pl;
        NU->w[i] = uint64_t(acc);
        acc >>= 64;
      }
    }
    add_shifted(p, *NV, s, !p_negative, n);
    if (!p_negative) {
      u0 -= shl128(v0, s);
      u1 -= shl128(v1, s);
    } else {
      u0 += shl128(v0, s);
      u1 += shl128(v1, s);
    }
    // Drop limbs that are now pure sign extension in all three numbers (the largest is
    // N(u) or N(v); a margin of 8 bits covers the sums inside the next step).
    const unsigned len_max = bitlen_abs(less_unsigned(*NU, *NV, n) ? *NV : *NU, n);
    const int needed = int((len_max + 8) / 64) + 1;
    if (needed < n) n = needed;
  }
  return false;
}

void scalar_from_128(Scalar& s, u128 m, bool negative) {
  s.v[0] = uint64_t(m);
  s.v[1] = uint64_t(m >> 64);
  s.v[2] = 0;
  s.v[3] = 0;
  if (negative) sc_neg(s, s);
}

bool scalar_equal(const Scalar& a, const Scalar& b) {
  return a.v[0] == b.v[0] && a.v[1] == b.v[1] && a.v[2] == b.v[2] && a.v[3] == b.v[3];
}

// The half-size form of [8]([S]B - R - [k]A) = 0, or false to use the full-size one. The
// relation c0 = c1 k mod L is checked with the scalar arithmetic before it is trusted, so
// a wrong reduction can only cost speed, never change an answer.
bool half_scalars(ed25519_paths::HalfScalars& h, const uint8_t k_bytes[32], const uint8_t s_bytes[32]) {
  Scalar k, s;
  sc_from_bytes(k, k_bytes);
  sc_from_bytes(s, s_bytes);
  u128 c0 = 0, c1 = 0;
  bool c0_negative = false, c1_negative = false;
  if (!reduce_basis(k.v, c0, c0_negative, c1, c1_negative)) return false;
  if (c1 == 0) return false;  // c1 must be invertible mod L
  Scalar c0s, c1s, check, w;
  scalar_from_128(c0s, c0, c0_negative);
  scalar_from_128(c1s, c1, c1_negative);
  sc_mul(check, c1s, k);
  if (!scalar_equal(check, c0s)) return false;
  sc_mul(w, c1s, s);
  const Scalar a_mag = {{uint64_t(c0), uint64_t(c0 >> 64), 0, 0}};
  const Scalar r_mag = {{uint64_t(c1), uint64_t(c1 >> 64), 0, 0}};
  const Scalar lo = {{w.v[0], w.v[1], 0, 0}}, hi = {{w.v[2], w.v[3], 0, 0}};
  sc_to_bytes(h.a, a_mag);
  sc_to_bytes(h.r, r_mag);
  sc_to_bytes(h.b_lo, lo);
  sc_to_bytes(h.b_hi, hi);
  // The equation's terms are -[c0]A and -[c1]R.
  h.a_negated = !c0_negative;
  h.r_negated = !c1_negative;
  return true;
}

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
  ed25519_paths::HalfScalars half;
  const bool have_half = half_scalars(half, k, signature + 32);
  return path.verify_points(prepared_A, public_key, signature, k, have_half ? &half : nullptr);
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
