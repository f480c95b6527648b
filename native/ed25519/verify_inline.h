// The verification kernel as always-inlined templates over the field type, so that each
// field path file (verify.cpp for "portable", field_mulx.cpp for "bmi2") compiles its own
// copy with its own arithmetic; verify.h describes the algorithm, wnaf_inline.h the
// signed sliding windows.
#pragma once

#include <cstring>

#include "ed25519/field_paths.h"
#include "ed25519/point_inline.h"
#include "ed25519/verify.h"
#include "ed25519/wnaf_inline.h"

namespace ledger_core {
namespace verify_inline {

namespace fi = fe_inline;
namespace gi = ge_inline;

using wnaf_inline::wnaf;
constexpr int kNafLen = wnaf_inline::WNAF_LEN;
constexpr int kWidthA = 5;     // per-call table over A: 8 odd multiples
constexpr int kTableACount = 1 << (kWidthA - 2);

// t = u + q or u - q for a table entry in either form.
template <class F, bool Subtract>
LC_ALWAYS_INLINE void add_entry(gi::ge_p1p1& t, const ge_p3& u, const ge_cached& q) {
  gi::add_cached<F, Subtract>(t, u, q);
}
template <class F, bool Subtract>
LC_ALWAYS_INLINE void add_entry(gi::ge_p1p1& t, const ge_p3& u, const ge_precomp& q) {
  gi::add_precomp<F, Subtract>(t, u, q);
}

// out = P, 3P, 5P, ..., (2 kTableACount - 1) P.
template <class F>
LC_ALWAYS_INLINE void odd_multiples(ge_cached out[kTableACount], const ge_p3& P, const gi::CurveConstants& k) {
  ge_p3 twice, cur = P;
  gi::dbl_p3<F>(twice, P);
  ge_cached twice_cached;
  gi::to_cached<F>(twice_cached, twice, k);
  gi::to_cached<F>(out[0], P, k);
  for (int i = 1; i < kTableACount; ++i) {
    gi::ge_p1p1 t;
    gi::add_cached<F>(t, cur, twice_cached);
    gi::p1p1_to_p3<F>(cur, t);
    gi::to_cached<F>(out[i], cur, k);
  }
}

// Adds digit d (odd or zero) of a table of odd multiples (cached or precomputed points)
// to the doubling result t.
template <class F, class Point>
LC_ALWAYS_INLINE void add_digit(gi::ge_p1p1& t, ge_p3& u, int d, const Point* odd) {
  if (d > 0) {
    gi::p1p1_to_p3<F>(u, t);
    add_entry<F, false>(t, u, odd[d >> 1]);
  } else if (d < 0) {
    gi::p1p1_to_p3<F>(u, t);
    add_entry<F, true>(t, u, odd[(-d) >> 1]);
  }
}

// One scalar's digits and its table of odd multiples (cached or precomputed points).
template <class Point>
struct NafTerm {
  const int8_t* naf;
  const Point* odd;
};

// r = sum of [digits]P over the terms, all sharing one left-to-right chain of doublings
// from digit `top` (>= 0) down; each step adds every term's digit in turn.
template <class F, class... Points>
LC_ALWAYS_INLINE void doubling_chain(ge_p3& r, int top, NafTerm<Points>... terms) {
  gi::ge_p2 acc;
  gi::FO<F>::set_small(acc.X, 0);
  gi::FO<F>::set_small(acc.Y, 1);
  gi::FO<F>::set_small(acc.Z, 1);
  gi::ge_p1p1 t;
  ge_p3 u;
  for (int i = top; i >= 0; --i) {
    gi::dbl<F>(t, acc);
    (add_digit<F>(t, u, terms.naf[i], terms.odd), ...);
    if (i > 0) gi::p1p1_to_p2<F>(acc, t);
  }
  gi::p1p1_to_p3<F>(r, t);
}

// r = [a]A + [b]B with the per-call table over A and the start-up table over B.
template <class F>
LC_ALWAYS_INLINE void double_scalarmult(ge_p3& r, const uint8_t a[32], const ge_p3& A,
                                        const uint8_t b[32], const gi::CurveConstants& k) {
  int8_t naf_a[kNafLen], naf_b[kNafLen];
  const int top_a = wnaf(naf_a, a, kWidthA) - 1;  // the highest non-zero digit, -1 for none
  const int top_b = wnaf(naf_b, b, BASE_WNAF_WIDTH) - 1;
  int top = top_a > top_b ? top_a : top_b;
  if (top < 0) {
    gi::identity<F>(r);
    return;
  }

  ge_cached odd_a[kTableACount];  // A, 3A, 5A, ..., 15A
  odd_multiples<F>(odd_a, A, k);
  doubling_chain<F>(r, top, NafTerm<ge_cached>{naf_a, odd_a}, NafTerm<ge_precomp>{naf_b, F::base_table()});
}

// The cofactored equation rewritten with half-size scalars (Pornin, "Optimized lattice
// basis reduction in dimension 2, and fast Schnorr and EdDSA signature verification",
// 2020): with small c0, c1 (|c0|, |c1| < 2^127) such that c0 = c1 k mod L, and
// w = c1 S mod L = w_lo + 2^128 w_hi,
//   [8]([S]B - R - [k]A) = 0   <=>   [8]([w_lo]B + [w_hi]B128 - [c1]R - [c0]A) = 0
// (c1 is invertible mod L and [8] maps everything into the subgroup of order L). Four
// scalars of 128 bits share 128 doublings instead of two of 253 sharing 253.
using ed25519_paths::HalfScalars;

template <class F>
LC_ALWAYS_INLINE void negate_point(ge_p3& r, const ge_p3& p) {
  fe zero;
  gi::FO<F>::set_small(zero, 0);
  r.Y = p.Y;
  r.Z = p.Z;
  gi::FO<F>::sub(r.X, zero, p.X);
  gi::FO<F>::carry(r.X);
  gi::FO<F>::sub(r.T, zero, p.T);
  gi::FO<F>::carry(r.T);
}

// r = [h.a](+-A) + [h.r](+-R) + [h.b_lo]B + [h.b_hi]B128.
template <class F>
LC_ALWAYS_INLINE void quad_scalarmult(ge_p3& r, const HalfScalars& h, const ge_p3& A, const ge_p3& R,
                                      const gi::CurveConstants& k) {
  int8_t naf_a[kNafLen], naf_r[kNafLen], naf_lo[kNafLen], naf_hi[kNafLen];
  int count = wnaf(naf_a, h.a, kWidthA);
  int t2 = wnaf(naf_r, h.r, kWidthA);
  count = t2 > count ? t2 : count;
  t2 = wnaf(naf_lo, h.b_lo, BASE_WNAF_WIDTH);
  count = t2 > count ? t2 : count;
  t2 = wnaf(naf_hi, h.b_hi, BASE_WNAF_WIDTH);
  count = t2 > count ? t2 : count;
  const int top = count - 1;  // the highest non-zero digit, -1 for none
  if (top < 0) {
    gi::identity<F>(r);
    return;
  }
  ge_p3 signed_point;
  ge_cached odd_a[kTableACount], odd_r[kTableACount];
  if (h.a_negated) {
    negate_point<F>(signed_point, A);
    odd_multiples<F>(odd_a, signed_point, k);
  } else {
    odd_multiples<F>(odd_a, A, k);
  }
  if (h.r_negated) {
    negate_point<F>(signed_point, R);
    odd_multiples<F>(odd_r, signed_point, k);
  } else {
    odd_multiples<F>(odd_r, R, k);
  }
  doubling_chain<F>(r, top, NafTerm<ge_cached>{naf_a, odd_a}, NafTerm<ge_cached>{naf_r, odd_r},
                    NafTerm<ge_precomp>{naf_lo, F::base_table()}, NafTerm<ge_precomp>{naf_hi, F::base128_table()});
}

// ge_double_scalarmult_vartime on field type F: public (radix 2^51) points in and out.
template <class F>
LC_ALWAYS_INLINE void double_scalarmult_public(ge_p3& r, const uint8_t a[32], const ge_p3& A,
                                               const uint8_t b[32]) {
  ge_p3 a_f, r_f;
  gi::p3_from_portable<F>(a_f, A);
  double_scalarmult<F>(r_f, a, a_f, b, F::constants());
  gi::p3_to_portable<F>(r, r_f);
}

// Rules 2 to 4 of verify.h, given S canonical and k = H(R || A || M) mod L.
// prepared_A is null, or A already decoded and checked (rules 2 and 3 for A).
// half is null (then Q = [S]B - [k]A is compared with R), or the half-size form of the
// same equation (HalfScalars) computed from k and S.
template <class F>
LC_ALWAYS_INLINE VerifyReason verify_points(const ge_p3* prepared_A, const uint8_t public_key[32],
                                            const uint8_t signature[64], const uint8_t k_scalar[32],
                                            const HalfScalars* half) {
  const gi::CurveConstants& k = F::constants();
  ge_p3 A, R;
  if (prepared_A != nullptr) {
    gi::p3_from_portable<F>(A, *prepared_A);
    if (!gi::decompress_strict<F>(R, signature, k)) return VerifyReason::non_canonical_point;
  } else if (F::interleave_decoding) {
    if (!gi::decompress_pair<F>(A, public_key, R, signature, k))
      return VerifyReason::non_canonical_point;  // A or R: one reason for both
  } else if (!gi::decompress_strict<F>(A, public_key, k) || !gi::decompress_strict<F>(R, signature, k)) {
    return VerifyReason::non_canonical_point;
  }
  if (prepared_A == nullptr) {
    ge_p3 a8;
    gi::mul_by_cofactor<F>(a8, A);
    if (gi::is_identity<F>(a8)) return VerifyReason::small_order_key;
  }

  ge_p3 q;
  if (half != nullptr) {
    quad_scalarmult<F>(q, *half, A, R, k);  // the whole left side of the equation
  } else {
    // Q = [S]B - [k]A = [k](-A) + [S]B, then Q - R.
    ge_p3 neg_A;
    negate_point<F>(neg_A, A);
    double_scalarmult<F>(q, k_scalar, neg_A, signature + 32, k);
    ge_cached r_cached;
    gi::to_cached<F>(r_cached, R, k);
    gi::ge_p1p1 t;
    gi::sub_cached<F>(t, q, r_cached);
    gi::p1p1_to_p3<F>(q, t);
  }
  gi::mul_by_cofactor<F>(q, q);
  return gi::is_identity<F>(q) ? VerifyReason::ok : VerifyReason::equation_failed;
}

}  // namespace verify_inline
}  // namespace ledger_core
