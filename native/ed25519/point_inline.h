// Point formulas as always-inlined functions: the bodies behind point.h, and the two
// internal coordinate systems that make doubling cheap (ref10's layout, our own code):
//
//   ge_p2    projective (X : Y : Z)                 input of a doubling
//   ge_p1p1  "completed" ((X : Z), (Y : T))         output of a doubling or addition:
//            x = X/Z, y = Y/T; to ge_p2 costs 3M, to ge_p3 costs 4M
//
// A doubling is 4S (ge_p2 -> ge_p1p1); an addition of a cached point is 4M, of a precomp
// point 3M (ge_p3 -> ge_p1p1). A run of doublings therefore stays in ge_p2 and only
// converts to ge_p3 before an addition.
//
// Every function is a template over a field type F (field_inline.h lists what one
// provides; FieldOps fills in radix-2^51 helpers for types that only bring mul and sq).
// Limb bounds, for the radix-2^51 types (field_inline.h): every ge_p2 / ge_p3 / ge_cached /
// ge_precomp coordinate is tight (< 2^52); ge_p1p1 coordinates are loose (< 2^54), which
// is what the conversion products accept. Each subtraction below is annotated where its
// bound is not obvious. The radix-2^64 type of field_mulx.cpp has no bounds to keep.
#pragma once

#include <type_traits>

#include "ed25519/field_inline.h"
#include "ed25519/point.h"

namespace ledger_core {
namespace ge_inline {

namespace fi = fe_inline;

// Field types that supply only mul and sq (in the radix-2^51 representation) get the
// portable helpers for everything else.
template <class F, class = void>
struct FieldOps : fi::PortableField {
  static LC_ALWAYS_INLINE void mul(fe& h, const fe& f, const fe& g) { F::mul(h, f, g); }
  static LC_ALWAYS_INLINE void sq(fe& h, const fe& f) { F::sq(h, f); }
  static LC_ALWAYS_INLINE void sqn(fe& h, const fe& f, int n) {
    F::sq(h, f);
    for (int i = 1; i < n; ++i) F::sq(h, h);
  }
  static LC_ALWAYS_INLINE void sqn2(fe& a, fe& b, int n) {
    for (int i = 0; i < n; ++i) {
      F::sq(a, a);
      F::sq(b, b);
    }
  }
};

template <class F>
struct FieldOps<F, std::void_t<decltype(&F::add)>> : F {};

template <class F>
using FO = FieldOps<F>;

struct ge_p2 {
  fe X, Y, Z;
};

struct ge_p1p1 {
  fe X, Y, Z, T;
};

// Field constants, computed at start-up by point.cpp (no pasted tables).
struct CurveConstants {
  fe d;       // -121665 / 121666
  fe d2;      // 2 d
  fe sqrtm1;  // 2^((p - 1) / 4), a square root of -1
};

// The constants, computed once (thread-safe static initialisation) in point.cpp. Hot
// loops take the reference once and pass it down.
const CurveConstants& curve_constants();

template <class F>
LC_ALWAYS_INLINE void p1p1_to_p2(ge_p2& r, const ge_p1p1& p) {
  FO<F>::mul(r.X, p.X, p.T);
  FO<F>::mul(r.Y, p.Y, p.Z);
  FO<F>::mul(r.Z, p.Z, p.T);
}

template <class F>
LC_ALWAYS_INLINE void p1p1_to_p3(ge_p3& r, const ge_p1p1& p) {
  FO<F>::mul(r.X, p.X, p.T);
  FO<F>::mul(r.Y, p.Y, p.Z);
  FO<F>::mul(r.Z, p.Z, p.T);
  FO<F>::mul(r.T, p.X, p.Y);
}

// Between the public (radix 2^51) form of a point and the field type's own form.
template <class F>
LC_ALWAYS_INLINE void p3_from_portable(ge_p3& r, const ge_p3& p) {
  FO<F>::from_portable(r.X, p.X);
  FO<F>::from_portable(r.Y, p.Y);
  FO<F>::from_portable(r.Z, p.Z);
  FO<F>::from_portable(r.T, p.T);
}

template <class F>
LC_ALWAYS_INLINE void p3_to_portable(ge_p3& r, const ge_p3& p) {
  FO<F>::to_portable(r.X, p.X);
  FO<F>::to_portable(r.Y, p.Y);
  FO<F>::to_portable(r.Z, p.Z);
  FO<F>::to_portable(r.T, p.T);
}

LC_ALWAYS_INLINE void p3_to_p2(ge_p2& r, const ge_p3& p) {
  r.X = p.X;
  r.Y = p.Y;
  r.Z = p.Z;
}

// 2 p for a = -1 (dbl-2008-hwcd): XX = X^2, YY = Y^2, ZZ2 = 2 Z^2, AA = (X + Y)^2;
// result x = (AA - YY - XX) / (YY - XX), y = (YY + XX) / (ZZ2 - YY + XX).
template <class F>
LC_ALWAYS_INLINE void dbl(ge_p1p1& r, const ge_p2& p) {
  fe xx, yy, zz2, s;
  FO<F>::sq(xx, p.X);
  FO<F>::sq(yy, p.Y);
  FO<F>::sq(zz2, p.Z);
  FO<F>::add(zz2, zz2, zz2);        // < 2^53
  FO<F>::add(s, p.X, p.Y);          // < 2^53
  FO<F>::sq(s, s);
  FO<F>::add(r.Y, yy, xx);          // < 2^53, and < 2^53 - 76 as sub_nc's g below
  FO<F>::sub(r.Z, yy, xx);          // < 2^54
  FO<F>::sub(r.X, s, r.Y);          // < 2^54
  FO<F>::add(zz2, zz2, xx);         // < 2^53.6: written as (ZZ2 + XX) - YY so that the
  FO<F>::sub(r.T, zz2, yy);         //   subtrahend is tight; result < 2^54
}

// r = p + q or p - q (add-2008-hwcd-3 with k = 2d folded into q's T), given q as
// (y + x, y - x, 2dT) and zz = 2 Z_p Z_q. Subtracting q adds -q = (y - x, y + x, -2dT):
// q's halves swap and c changes sign. Subtract is a compile-time choice: each of the four
// functions below compiles to the straight-line formula it names.
template <class F, bool Subtract>
LC_ALWAYS_INLINE void add_formula(ge_p1p1& r, const ge_p3& p, const fe& q_yplusx, const fe& q_yminusx,
                                  const fe& q_t2d, const fe& zz) {
  fe a, b, c;
  FO<F>::add(a, p.Y, p.X);
  FO<F>::sub(b, p.Y, p.X);
  FO<F>::mul(a, a, Subtract ? q_yminusx : q_yplusx);
  FO<F>::mul(b, b, Subtract ? q_yplusx : q_yminusx);
  FO<F>::mul(c, q_t2d, p.T);
  FO<F>::sub(r.X, a, b);
  FO<F>::add(r.Y, a, b);
  if (Subtract) {
    FO<F>::sub(r.Z, zz, c);
    FO<F>::add(r.T, zz, c);
  } else {
    FO<F>::add(r.Z, zz, c);
    FO<F>::sub(r.T, zz, c);
  }
}

// p +- q for q in cached (projective) form.
template <class F, bool Subtract = false>
LC_ALWAYS_INLINE void add_cached(ge_p1p1& r, const ge_p3& p, const ge_cached& q) {
  fe zz;
  FO<F>::mul(zz, p.Z, q.Z);
  FO<F>::add(zz, zz, zz);           // < 2^53
  add_formula<F, Subtract>(r, p, q.YplusX, q.YminusX, q.T2d, zz);
}

template <class F>
LC_ALWAYS_INLINE void sub_cached(ge_p1p1& r, const ge_p3& p, const ge_cached& q) {
  add_cached<F, true>(r, p, q);
}

// p +- q for q in precomputed (affine, Z = 1) form.
template <class F, bool Subtract = false>
LC_ALWAYS_INLINE void add_precomp(ge_p1p1& r, const ge_p3& p, const ge_precomp& q) {
  fe z2;
  FO<F>::add(z2, p.Z, p.Z);
  add_formula<F, Subtract>(r, p, q.yplusx, q.yminusx, q.xy2d, z2);
}

template <class F>
LC_ALWAYS_INLINE void sub_precomp(ge_p1p1& r, const ge_p3& p, const ge_precomp& q) {
  add_precomp<F, true>(r, p, q);
}

template <class F>
LC_ALWAYS_INLINE void to_cached(ge_cached& r, const ge_p3& p, const CurveConstants& k) {
  FO<F>::add(r.YplusX, p.Y, p.X);
  FO<F>::carry(r.YplusX);
  FO<F>::sub(r.YminusX, p.Y, p.X);
  FO<F>::carry(r.YminusX);
  r.Z = p.Z;
  FO<F>::mul(r.T2d, p.T, k.d2);
}

template <class F>
LC_ALWAYS_INLINE void identity(ge_p3& h) {
  FO<F>::set_small(h.X, 0);
  FO<F>::set_small(h.Y, 1);
  FO<F>::set_small(h.Z, 1);
  FO<F>::set_small(h.T, 0);
}

template <class F>
LC_ALWAYS_INLINE bool is_identity(const ge_p3& p) {
  return FO<F>::iszero(p.X) && FO<F>::equal(p.Y, p.Z);
}

// r = [2^Doublings]p, the intermediate points kept in the cheaper ge_p2 form.
template <class F, int Doublings>
LC_ALWAYS_INLINE void dbl_times(ge_p3& r, const ge_p3& p) {
  static_assert(Doublings >= 1, "at least one doubling");
  ge_p2 q;
  ge_p1p1 t;
  p3_to_p2(q, p);
  dbl<F>(t, q);
  for (int i = 1; i < Doublings; ++i) {
    p1p1_to_p2<F>(q, t);
    dbl<F>(t, q);
  }
  p1p1_to_p3<F>(r, t);
}

template <class F>
LC_ALWAYS_INLINE void dbl_p3(ge_p3& r, const ge_p3& p) {
  dbl_times<F, 1>(r, p);
}

template <class F>
LC_ALWAYS_INLINE void mul_by_cofactor(ge_p3& r, const ge_p3& p) {
  dbl_times<F, 3>(r, p);
}

// RFC 8032 §5.1.3, strict. With u = y^2 - 1 and v = d y^2 + 1, x^2 = u / v; the candidate
// root is x = u v^3 (u v^7)^((p - 5) / 8), then v x^2 is u (x is a root), -u (x sqrt(-1) is
// a root) or neither (y is not on the curve). Split in two around the exponentiation so
// that several decodings can run their exponentiations side by side (decompress_many).
struct Decoding {
  fe y, u, v, v3, w;  // w: u v^7 before the exponentiation, w^((p-5)/8) after
  bool sign;
};

// False when y >= p.
template <class F>
LC_ALWAYS_INLINE bool decompress_begin(Decoding& d, const uint8_t in[32], const CurveConstants& k) {
  FO<F>::frombytes(d.y, in);
  uint8_t check[32];
  FO<F>::tobytes(check, d.y);
  for (int i = 0; i < 31; ++i)
    if (check[i] != in[i]) return false;  // y >= p: the re-encoding differs
  if (check[31] != (in[31] & 0x7f)) return false;
  d.sign = (in[31] >> 7) != 0;
  fe one;
  FO<F>::set_small(one, 1);
  FO<F>::sq(d.u, d.y);
  FO<F>::mul(d.v, d.u, k.d);
  FO<F>::sub(d.u, d.u, one);
  FO<F>::carry(d.u);
  FO<F>::add(d.v, d.v, one);           // < 2^53, fine as a product input
  FO<F>::sq(d.v3, d.v);
  FO<F>::mul(d.v3, d.v3, d.v);         // v^3
  FO<F>::sq(d.w, d.v3);
  FO<F>::mul(d.w, d.w, d.v);
  FO<F>::mul(d.w, d.w, d.u);           // u v^7
  return true;
}

// False when the point is not on the curve or is "-0".
template <class F>
LC_ALWAYS_INLINE bool decompress_end(ge_p3& out, const Decoding& d, const CurveConstants& k) {
  fe x, vxx, t;
  FO<F>::mul(x, d.w, d.v3);
  FO<F>::mul(x, x, d.u);               // u v^3 (u v^7)^((p-5)/8)
  FO<F>::sq(vxx, x);
  FO<F>::mul(vxx, vxx, d.v);
  FO<F>::sub(t, vxx, d.u);
  if (!FO<F>::iszero(t)) {
    FO<F>::add(t, vxx, d.u);
    if (!FO<F>::iszero(t)) return false;  // u / v is not a square: not on the curve
    FO<F>::mul(x, x, k.sqrtm1);
  }
  const bool x_is_zero = FO<F>::iszero(x);
  if (x_is_zero && d.sign) return false;  // -0 is not an encoding
  if (FO<F>::isnegative(x) != d.sign) {
    fe zero;
    FO<F>::set_small(zero, 0);
    FO<F>::sub(x, zero, x);
    FO<F>::carry(x);
  }
  out.X = x;
  out.Y = d.y;
  FO<F>::set_small(out.Z, 1);
  FO<F>::mul(out.T, x, d.y);
  return true;
}

template <class F>
LC_ALWAYS_INLINE bool decompress_strict(ge_p3& out, const uint8_t in[32], const CurveConstants& k) {
  Decoding d;
  if (!decompress_begin<F>(d, in, k)) return false;
  fi::pow22523<FO<F>>(d.w, d.w);
  return decompress_end<F>(out, d, k);
}

// N strict decodings (1 <= N <= 4) with their exponentiations interleaved: ok[l] says
// whether in[l] decodes, out[l] its point (unspecified when !ok[l]). Single verification
// decodes A and R side by side with it, batch verification its R values N at a time:
// one rule, in decompress_begin / decompress_end, for both.
template <class F, int N>
LC_ALWAYS_INLINE void decompress_many(bool ok[], ge_p3 out[], const uint8_t* const in[], const CurveConstants& k) {
  Decoding d[N];
  fe w[N];
  for (int l = 0; l < N; ++l) {
    ok[l] = decompress_begin<F>(d[l], in[l], k);
    if (ok[l])
      w[l] = d[l].w;
    else
      FO<F>::set_small(w[l], 1);  // keeps the lane busy with a harmless value
  }
  fi::pow22523_lanes<FO<F>, N>(w);
  for (int l = 0; l < N; ++l) {
    if (!ok[l]) continue;
    d[l].w = w[l];
    ok[l] = decompress_end<F>(out[l], d[l], k);
  }
}

// Two strict decodings; true when both succeed.
template <class F>
LC_ALWAYS_INLINE bool decompress_pair(ge_p3& out1, const uint8_t in1[32], ge_p3& out2, const uint8_t in2[32],
                                      const CurveConstants& k) {
  bool ok[2];
  ge_p3 out[2];
  const uint8_t* const in[2] = {in1, in2};
  decompress_many<F, 2>(ok, out, in, k);
  out1 = out[0];
  out2 = out[1];
  return ok[0] && ok[1];
}

}  // namespace ge_inline
}  // namespace ledger_core
