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
// Limb bounds (field_inline.h): every ge_p2 / ge_p3 / ge_cached / ge_precomp coordinate is
// tight (< 2^52); ge_p1p1 coordinates are loose (< 2^54), which is what the conversion
// products accept. Each subtraction below is annotated where its bound is not obvious.
#pragma once

#include "ed25519/field_inline.h"
#include "ed25519/point.h"

namespace ledger_core {
namespace ge_inline {

namespace fi = fe_inline;

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
  F::mul(r.X, p.X, p.T);
  F::mul(r.Y, p.Y, p.Z);
  F::mul(r.Z, p.Z, p.T);
}

template <class F>
LC_ALWAYS_INLINE void p1p1_to_p3(ge_p3& r, const ge_p1p1& p) {
  F::mul(r.X, p.X, p.T);
  F::mul(r.Y, p.Y, p.Z);
  F::mul(r.Z, p.Z, p.T);
  F::mul(r.T, p.X, p.Y);
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
  F::sq(xx, p.X);
  F::sq(yy, p.Y);
  F::sq(zz2, p.Z);
  fi::add_nc(zz2, zz2, zz2);        // < 2^53
  fi::add_nc(s, p.X, p.Y);          // < 2^53
  F::sq(s, s);
  fi::add_nc(r.Y, yy, xx);          // < 2^53, and < 2^53 - 76 as sub_nc's g below
  fi::sub_nc(r.Z, yy, xx);          // < 2^54
  fi::sub_nc(r.X, s, r.Y);          // < 2^54
  fi::add_nc(zz2, zz2, xx);         // < 2^53.6: written as (ZZ2 + XX) - YY so that the
  fi::sub_nc(r.T, zz2, yy);         //   subtrahend is tight; result < 2^54
}

// p + q (add-2008-hwcd-3 with k = 2d folded into the cached T).
template <class F>
LC_ALWAYS_INLINE void add_cached(ge_p1p1& r, const ge_p3& p, const ge_cached& q) {
  fe a, b, c, zz;
  fi::add_nc(a, p.Y, p.X);
  fi::sub_nc(b, p.Y, p.X);
  F::mul(a, a, q.YplusX);
  F::mul(b, b, q.YminusX);
  F::mul(c, q.T2d, p.T);
  F::mul(zz, p.Z, q.Z);
  fi::add_nc(zz, zz, zz);           // < 2^53
  fi::sub_nc(r.X, a, b);
  fi::add_nc(r.Y, a, b);
  fi::add_nc(r.Z, zz, c);
  fi::sub_nc(r.T, zz, c);
}

// p - q: q negated is (Y - X, Y + X, Z, -2dT), so the cached halves swap and c changes sign.
template <class F>
LC_ALWAYS_INLINE void sub_cached(ge_p1p1& r, const ge_p3& p, const ge_cached& q) {
  fe a, b, c, zz;
  fi::add_nc(a, p.Y, p.X);
  fi::sub_nc(b, p.Y, p.X);
  F::mul(a, a, q.YminusX);
  F::mul(b, b, q.YplusX);
  F::mul(c, q.T2d, p.T);
  F::mul(zz, p.Z, q.Z);
  fi::add_nc(zz, zz, zz);
  fi::sub_nc(r.X, a, b);
  fi::add_nc(r.Y, a, b);
  fi::sub_nc(r.Z, zz, c);
  fi::add_nc(r.T, zz, c);
}

template <class F>
LC_ALWAYS_INLINE void add_precomp(ge_p1p1& r, const ge_p3& p, const ge_precomp& q) {
  fe a, b, c, z2;
  fi::add_nc(a, p.Y, p.X);
  fi::sub_nc(b, p.Y, p.X);
  F::mul(a, a, q.yplusx);
  F::mul(b, b, q.yminusx);
  F::mul(c, q.xy2d, p.T);
  fi::add_nc(z2, p.Z, p.Z);
  fi::sub_nc(r.X, a, b);
  fi::add_nc(r.Y, a, b);
  fi::add_nc(r.Z, z2, c);
  fi::sub_nc(r.T, z2, c);
}

template <class F>
LC_ALWAYS_INLINE void sub_precomp(ge_p1p1& r, const ge_p3& p, const ge_precomp& q) {
  fe a, b, c, z2;
  fi::add_nc(a, p.Y, p.X);
  fi::sub_nc(b, p.Y, p.X);
  F::mul(a, a, q.yminusx);
  F::mul(b, b, q.yplusx);
  F::mul(c, q.xy2d, p.T);
  fi::add_nc(z2, p.Z, p.Z);
  fi::sub_nc(r.X, a, b);
  fi::add_nc(r.Y, a, b);
  fi::sub_nc(r.Z, z2, c);
  fi::add_nc(r.T, z2, c);
}

template <class F>
LC_ALWAYS_INLINE void to_cached(ge_cached& r, const ge_p3& p, const CurveConstants& k) {
  fi::add_nc(r.YplusX, p.Y, p.X);
  fi::carry(r.YplusX);
  fi::sub_nc(r.YminusX, p.Y, p.X);
  fi::carry(r.YminusX);
  r.Z = p.Z;
  F::mul(r.T2d, p.T, k.d2);
}

LC_ALWAYS_INLINE void identity(ge_p3& h) {
  fi::set_small(h.X, 0);
  fi::set_small(h.Y, 1);
  fi::set_small(h.Z, 1);
  fi::set_small(h.T, 0);
}

LC_ALWAYS_INLINE bool is_identity(const ge_p3& p) {
  return fi::iszero(p.X) && fi::equal(p.Y, p.Z);
}

template <class F>
LC_ALWAYS_INLINE void dbl_p3(ge_p3& r, const ge_p3& p) {
  ge_p2 q;
  ge_p1p1 t;
  p3_to_p2(q, p);
  dbl<F>(t, q);
  p1p1_to_p3<F>(r, t);
}

template <class F>
LC_ALWAYS_INLINE void mul_by_cofactor(ge_p3& r, const ge_p3& p) {
  ge_p2 q;
  ge_p1p1 t;
  p3_to_p2(q, p);
  dbl<F>(t, q);
  p1p1_to_p2<F>(q, t);
  dbl<F>(t, q);
  p1p1_to_p2<F>(q, t);
  dbl<F>(t, q);
  p1p1_to_p3<F>(r, t);
}

// RFC 8032 §5.1.3, strict. With u = y^2 - 1 and v = d y^2 + 1, x^2 = u / v; the candidate
// root is x = u v^3 (u v^7)^((p - 5) / 8), then v x^2 is u (x is a root), -u (x sqrt(-1) is
// a root) or neither (y is not on the curve).
template <class F>
LC_ALWAYS_INLINE bool decompress_strict(ge_p3& out, const uint8_t in[32], const CurveConstants& k) {
  fe y;
  fi::frombytes(y, in);
  uint8_t check[32];
  fi::tobytes(check, y);
  for (int i = 0; i < 31; ++i)
    if (check[i] != in[i]) return false;  // y >= p: the re-encoding differs
  if (check[31] != (in[31] & 0x7f)) return false;
  const bool sign = (in[31] >> 7) != 0;

  fe one, u, v, v3, vxx, x, t;
  fi::set_small(one, 1);
  F::sq(u, y);
  F::mul(v, u, k.d);
  fi::sub_nc(u, u, one);
  fi::carry(u);
  fi::add_nc(v, v, one);            // < 2^53, fine as a product input
  F::sq(v3, v);
  F::mul(v3, v3, v);               // v^3
  F::sq(x, v3);
  F::mul(x, x, v);
  F::mul(x, x, u);                 // u v^7
  fi::pow22523<F>(x, x);
  F::mul(x, x, v3);
  F::mul(x, x, u);                 // u v^3 (u v^7)^((p-5)/8)

  F::sq(vxx, x);
  F::mul(vxx, vxx, v);
  fi::sub_nc(t, vxx, u);
  if (!fi::iszero(t)) {
    fi::add_nc(t, vxx, u);
    if (!fi::iszero(t)) return false;  // u / v is not a square: not on the curve
    F::mul(x, x, k.sqrtm1);
  }
  const bool x_is_zero = fi::iszero(x);
  if (x_is_zero && sign) return false;  // -0 is not an encoding
  if (fi::isnegative(x) != sign) {
    fe zero;
    fi::set_small(zero, 0);
    fi::sub_nc(x, zero, x);
    fi::carry(x);
  }
  out.X = x;
  out.Y = y;
  fi::set_small(out.Z, 1);
  F::mul(out.T, x, y);
  return true;
}

}  // namespace ge_inline
}  // namespace ledger_core
