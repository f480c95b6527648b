// The verification kernel as always-inlined functions, so that each field path file
// compiles its own copy for its own target (field_inline.h explains why).
//
// Signed sliding windows (wNAF) of width w: a scalar becomes digits n_i, each zero or odd
// with |n_i| < 2^(w-1), any two non-zero digits at least w positions apart, and
// sum n_i 2^i equal to the scalar. A non-zero digit costs one addition of a precomputed
// odd multiple |n_i| P (negated when n_i < 0), so about 256 / (w + 1) additions per scalar.
#pragma once

#include <cstring>

#include "ed25519/point_inline.h"
#include "ed25519/verify.h"

namespace ledger_core {
namespace verify_inline {

namespace fi = fe_inline;
namespace gi = ge_inline;

constexpr int kNafLen = 257;   // a 256-bit scalar can carry into bit 256
constexpr int kWidthA = 5;     // per-call table over A: 8 odd multiples
constexpr int kTableACount = 1 << (kWidthA - 2);

// Writes the width-w NAF digits of the 256-bit little-endian s into naf[0, 257) and returns
// the index of the highest non-zero digit (-1 for s = 0). 2 <= w <= 8.
LC_ALWAYS_INLINE int wnaf(int8_t naf[kNafLen], const uint8_t s[32], int w) {
  uint64_t x[5];
  for (int i = 0; i < 4; ++i) x[i] = fi::load_le64(s + 8 * i);
  x[4] = 0;
  std::memset(naf, 0, kNafLen);
  const uint64_t width = uint64_t(1) << w;
  const uint64_t mask = width - 1;
  uint64_t carry = 0;
  int top = -1;
  int pos = 0;
  while (pos < kNafLen) {
    const int idx = pos >> 6, bit = pos & 63;
    uint64_t buf = x[idx] >> bit;
    if (bit + w > 64) buf |= x[idx + 1] << (64 - bit);  // idx < 4 here: bit 256 is the last pos
    const uint64_t window = carry + (buf & mask);
    if ((window & 1) == 0) {  // a zero digit; a pending carry moves up with it
      pos += 1;
      continue;
    }
    if (window < width / 2) {
      carry = 0;
      naf[pos] = int8_t(window);
    } else {
      carry = 1;
      naf[pos] = int8_t(int64_t(window) - int64_t(width));
    }
    top = pos;
    pos += w;
  }
  return top;
}

// r = [a]A + [b]B with the per-call table over A and the start-up table over B.
template <class F>
LC_ALWAYS_INLINE void double_scalarmult(ge_p3& r, const uint8_t a[32], const ge_p3& A,
                                        const uint8_t b[32], const gi::CurveConstants& k) {
  int8_t naf_a[kNafLen], naf_b[kNafLen];
  const int top_a = wnaf(naf_a, a, kWidthA);
  const int top_b = wnaf(naf_b, b, BASE_WNAF_WIDTH);
  int top = top_a > top_b ? top_a : top_b;
  if (top < 0) {
    gi::identity(r);
    return;
  }

  ge_cached odd_a[kTableACount];  // A, 3A, 5A, ..., 15A
  {
    ge_p3 twice, cur = A;
    gi::dbl_p3<F>(twice, A);
    ge_cached twice_cached;
    gi::to_cached<F>(twice_cached, twice, k);
    gi::to_cached<F>(odd_a[0], A, k);
    for (int i = 1; i < kTableACount; ++i) {
      gi::ge_p1p1 t;
      gi::add_cached<F>(t, cur, twice_cached);
      gi::p1p1_to_p3<F>(cur, t);
      gi::to_cached<F>(odd_a[i], cur, k);
    }
  }
  const ge_precomp* odd_b = ge_base_odd_multiples();

  gi::ge_p2 acc;
  fi::set_small(acc.X, 0);
  fi::set_small(acc.Y, 1);
  fi::set_small(acc.Z, 1);
  gi::ge_p1p1 t;
  ge_p3 u;
  for (int i = top; i >= 0; --i) {
    gi::dbl<F>(t, acc);
    const int da = naf_a[i], db = naf_b[i];
    if (da > 0) {
      gi::p1p1_to_p3<F>(u, t);
      gi::add_cached<F>(t, u, odd_a[da >> 1]);
    } else if (da < 0) {
      gi::p1p1_to_p3<F>(u, t);
      gi::sub_cached<F>(t, u, odd_a[(-da) >> 1]);
    }
    if (db > 0) {
      gi::p1p1_to_p3<F>(u, t);
      gi::add_precomp<F>(t, u, odd_b[db >> 1]);
    } else if (db < 0) {
      gi::p1p1_to_p3<F>(u, t);
      gi::sub_precomp<F>(t, u, odd_b[(-db) >> 1]);
    }
    if (i > 0) gi::p1p1_to_p2<F>(acc, t);
  }
  gi::p1p1_to_p3<F>(r, t);
}

// Rules 2 to 4 of verify.h, given S canonical and k = H(R || A || M) mod L.
// prepared_A is null, or A already decoded and checked (rules 2 and 3 for A).
template <class F>
LC_ALWAYS_INLINE VerifyReason verify_points(const ge_p3* prepared_A, const uint8_t public_key[32],
                                            const uint8_t signature[64], const uint8_t k_scalar[32]) {
  const gi::CurveConstants& k = gi::curve_constants();
  ge_p3 A;
  if (prepared_A != nullptr) {
    A = *prepared_A;
  } else if (!gi::decompress_strict<F>(A, public_key, k)) {
    return VerifyReason::non_canonical_point;
  }
  ge_p3 R;
  if (!gi::decompress_strict<F>(R, signature, k)) return VerifyReason::non_canonical_point;
  if (prepared_A == nullptr) {
    ge_p3 a8;
    gi::mul_by_cofactor<F>(a8, A);
    if (gi::is_identity(a8)) return VerifyReason::small_order_key;
  }

  // Q = [S]B - [k]A = [k](-A) + [S]B.
  ge_p3 neg_A = A;
  fe zero;
  fi::set_small(zero, 0);
  fi::sub_nc(neg_A.X, zero, A.X);
  fi::carry(neg_A.X);
  fi::sub_nc(neg_A.T, zero, A.T);
  fi::carry(neg_A.T);
  ge_p3 q;
  double_scalarmult<F>(q, k_scalar, neg_A, signature + 32, k);

  // [8](Q - R) == identity.
  ge_cached r_cached;
  gi::to_cached<F>(r_cached, R, k);
  gi::ge_p1p1 t;
  gi::sub_cached<F>(t, q, r_cached);
  gi::p1p1_to_p3<F>(q, t);
  gi::mul_by_cofactor<F>(q, q);
  return gi::is_identity(q) ? VerifyReason::ok : VerifyReason::equation_failed;
}

}  // namespace verify_inline
}  // namespace ledger_core
