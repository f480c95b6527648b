// The portable field GF(2^255 - 19): the bodies behind field.h, and PortableField, the
// field type the point formulas and the verification kernel are templates over.
//
// Internal to native/ed25519. The small helpers (add, sub, carry, encodings) are always
// inlined; mul, sq and sqn are real functions: inlined into the ~2,000 call sites of one
// verification, GCC's register allocation of the 128-bit column sums degraded and the
// verification ran 40% slower. Another field path (field_mulx.cpp) supplies its own
// type with the same members; PortableField lists them.
//
// Representation (radix 2^51): f = v[0] + v[1] 2^51 + v[2] 2^102 + v[3] 2^153 + v[4] 2^204,
// limbs unsigned 64-bit, value defined mod p. Bounds, all per limb:
//   "tight"  < 2^52        what fe_mul / fe_sq / fe_carry / fe_frombytes produce
//   "loose"  < 2^54        what fe_mul / fe_sq accept
// fe_add_nc(f, g) with f, g tight is < 2^53; fe_sub_nc(f, g) = f + 4p - g needs g < 2^53 - 76
// and gives < f + 2^53. Point formulas use the _nc (no carry) forms only where these
// bounds are shown to hold; see point_inline.h.
//
// Timing: no function here branches on field values (except the zero test in
// fe_batch_invert), but nothing is claimed constant-time: this code verifies public data.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ed25519/field.h"

#define LC_ALWAYS_INLINE inline __attribute__((always_inline))

namespace ledger_core {

struct ge_precomp;
namespace ge_inline {
struct CurveConstants;
}

namespace fe_inline {

typedef unsigned __int128 u128;
constexpr uint64_t kMask51 = (uint64_t(1) << 51) - 1;

LC_ALWAYS_INLINE void add_nc(fe& h, const fe& f, const fe& g) {
  for (int i = 0; i < 5; ++i) h.v[i] = f.v[i] + g.v[i];
}

// h = f + 4p - g: 4p in radix 2^51 is (2^53 - 76, 2^53 - 4, 2^53 - 4, 2^53 - 4, 2^53 - 4).
LC_ALWAYS_INLINE void sub_nc(fe& h, const fe& f, const fe& g) {
  h.v[0] = (f.v[0] + 0x1fffffffffffb4ULL) - g.v[0];
  h.v[1] = (f.v[1] + 0x1ffffffffffffcULL) - g.v[1];
  h.v[2] = (f.v[2] + 0x1ffffffffffffcULL) - g.v[2];
  h.v[3] = (f.v[3] + 0x1ffffffffffffcULL) - g.v[3];
  h.v[4] = (f.v[4] + 0x1ffffffffffffcULL) - g.v[4];
}

// h = f + 8p - g, for g up to 2^54 - 152 (the public fe_sub / fe_neg, which accept any
// limbs < 2^53); the result is < f + 2^54 and needs a carry before multiplying.
LC_ALWAYS_INLINE void sub_wide_nc(fe& h, const fe& f, const fe& g) {
  h.v[0] = (f.v[0] + 0x3fffffffffff68ULL) - g.v[0];
  h.v[1] = (f.v[1] + 0x3ffffffffffff8ULL) - g.v[1];
  h.v[2] = (f.v[2] + 0x3ffffffffffff8ULL) - g.v[2];
  h.v[3] = (f.v[3] + 0x3ffffffffffff8ULL) - g.v[3];
  h.v[4] = (f.v[4] + 0x3ffffffffffff8ULL) - g.v[4];
}

// One carry pass: any limbs < 2^63 become tight (< 2^51 except v[0] < 2^51 + 19 * 2^12).
LC_ALWAYS_INLINE void carry(fe& h) {
  uint64_t c;
  c = h.v[0] >> 51; h.v[0] &= kMask51; h.v[1] += c;
  c = h.v[1] >> 51; h.v[1] &= kMask51; h.v[2] += c;
  c = h.v[2] >> 51; h.v[2] &= kMask51; h.v[3] += c;
  c = h.v[3] >> 51; h.v[3] &= kMask51; h.v[4] += c;
  c = h.v[4] >> 51; h.v[4] &= kMask51; h.v[0] += c * 19;
}

// Reduces five column sums c_i = hi_i 2^64 + lo_i (each < 2^115) to tight limbs, in
// 64-bit operations only: GCC spills 128-bit carry chains to the stack, which made this
// step cost more than the 25 products before it.
LC_ALWAYS_INLINE void reduce_columns(fe& h, uint64_t lo0, uint64_t hi0, uint64_t lo1, uint64_t hi1,
                                     uint64_t lo2, uint64_t hi2, uint64_t lo3, uint64_t hi3,
                                     uint64_t lo4, uint64_t hi4) {
  uint64_t c;
  c = (lo0 >> 51) | (hi0 << 13);  // c_0 >> 51 < 2^64
  lo1 += c; hi1 += lo1 < c;
  c = (lo1 >> 51) | (hi1 << 13);
  lo2 += c; hi2 += lo2 < c;
  c = (lo2 >> 51) | (hi2 << 13);
  lo3 += c; hi3 += lo3 < c;
  c = (lo3 >> 51) | (hi3 << 13);
  lo4 += c; hi4 += lo4 < c;
  c = (lo4 >> 51) | (hi4 << 13);  // weight 2^255 = 19 mod p; 19 c may not fit in 64 bits,
  uint64_t h0 = (lo0 & kMask51) + 19 * (c & kMask51);   // so its low 51 bits go to limb 0
  uint64_t h1 = (lo1 & kMask51) + 19 * (c >> 51);       // and the rest (< 2^13) to limb 1
  h1 += h0 >> 51;
  h.v[0] = h0 & kMask51;
  h.v[1] = h1;
  h.v[2] = lo2 & kMask51;
  h.v[3] = lo3 & kMask51;
  h.v[4] = lo4 & kMask51;
}

LC_ALWAYS_INLINE void reduce_columns(fe& h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
  reduce_columns(h, uint64_t(r0), uint64_t(r0 >> 64), uint64_t(r1), uint64_t(r1 >> 64), uint64_t(r2),
                 uint64_t(r2 >> 64), uint64_t(r3), uint64_t(r3 >> 64), uint64_t(r4), uint64_t(r4 >> 64));
}

// Inputs loose (< 2^54): every product f_i * 19 g_j < 2^54 * 2^58.25, five per column
// < 2^115, which reduce_columns needs. Output tight. h may alias f or g.
LC_ALWAYS_INLINE void mul_body(fe& h, const fe& f, const fe& g) {
  const uint64_t f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const uint64_t g0 = g.v[0], g1 = g.v[1], g2 = g.v[2], g3 = g.v[3], g4 = g.v[4];
  const uint64_t g1_19 = g1 * 19, g2_19 = g2 * 19, g3_19 = g3 * 19, g4_19 = g4 * 19;
  u128 r0 = u128(f0) * g0 + u128(f1) * g4_19 + u128(f2) * g3_19 + u128(f3) * g2_19 + u128(f4) * g1_19;
  u128 r1 = u128(f0) * g1 + u128(f1) * g0 + u128(f2) * g4_19 + u128(f3) * g3_19 + u128(f4) * g2_19;
  u128 r2 = u128(f0) * g2 + u128(f1) * g1 + u128(f2) * g0 + u128(f3) * g4_19 + u128(f4) * g3_19;
  u128 r3 = u128(f0) * g3 + u128(f1) * g2 + u128(f2) * g1 + u128(f3) * g0 + u128(f4) * g4_19;
  u128 r4 = u128(f0) * g4 + u128(f1) * g3 + u128(f2) * g2 + u128(f3) * g1 + u128(f4) * g0;
  reduce_columns(h, r0, r1, r2, r3, r4);
}

// Input loose, output tight; 15 products instead of 25.
LC_ALWAYS_INLINE void sq_body(fe& h, const fe& f) {
  const uint64_t f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const uint64_t f0_2 = f0 * 2, f1_2 = f1 * 2;
  const uint64_t f3_19 = f3 * 19, f3_38 = f3 * 38, f4_19 = f4 * 19, f4_38 = f4 * 38;
  u128 r0 = u128(f0) * f0 + u128(f1_2) * f4_19 + u128(f2) * f3_38;
  u128 r1 = u128(f0_2) * f1 + u128(f2) * f4_38 + u128(f3) * f3_19;
  u128 r2 = u128(f0_2) * f2 + u128(f1) * f1 + u128(f3) * f4_38;
  u128 r3 = u128(f0_2) * f3 + u128(f1_2) * f2 + u128(f4) * f4_19;
  u128 r4 = u128(f0_2) * f4 + u128(f1_2) * f3 + u128(f2) * f2;
  reduce_columns(h, r0, r1, r2, r3, r4);
}

// The portable multiplication and squaring are real (not inlined) functions: inlined
// into the few thousand call sites of a verification, GCC's register allocation of the
// 128-bit column sums degrades and the whole verification ran 40% slower.
inline __attribute__((noinline)) void mul(fe& h, const fe& f, const fe& g) { mul_body(h, f, g); }
inline __attribute__((noinline)) void sq(fe& h, const fe& f) { sq_body(h, f); }
// h = f^(2^n), n >= 1: the long runs of squarings in inversion and square roots stay in
// registers instead of a call and a store per squaring.
// The loops are shared with the bmi2 field (field_mulx.cpp), each inlining its own body.
template <void (*SquareBody)(fe&, const fe&)>
LC_ALWAYS_INLINE void square_n(fe& h, const fe& f, int n) {
  fe t = f;
  for (int i = 0; i < n; ++i) SquareBody(t, t);
  h = t;
}
// a = a^(2^n) and b = b^(2^n), the two chains interleaved.
template <void (*SquareBody)(fe&, const fe&)>
LC_ALWAYS_INLINE void square_n2(fe& a, fe& b, int n) {
  fe x = a, y = b;
  for (int i = 0; i < n; ++i) {
    SquareBody(x, x);
    SquareBody(y, y);
  }
  a = x;
  b = y;
}
inline __attribute__((noinline)) void sqn(fe& h, const fe& f, int n) { square_n<sq_body>(h, f, n); }
inline __attribute__((noinline)) void sqn2(fe& a, fe& b, int n) { square_n2<sq_body>(a, b, n); }

// Canonical 32-byte encoding of any h with limbs < 2^63.
LC_ALWAYS_INLINE void tobytes(uint8_t s[32], const fe& in) {
  fe h = in;
  carry(h);
  carry(h);  // now limbs < 2^51 except v[0] < 2^51 + 19; value < 2^255 + 19 < 2p
  // q = 1 exactly when h >= p, i.e. when h + 19 reaches 2^255.
  uint64_t q = (h.v[0] + 19) >> 51;
  q = (h.v[1] + q) >> 51;
  q = (h.v[2] + q) >> 51;
  q = (h.v[3] + q) >> 51;
  q = (h.v[4] + q) >> 51;
  h.v[0] += 19 * q;
  uint64_t c;
  c = h.v[0] >> 51; h.v[0] &= kMask51; h.v[1] += c;
  c = h.v[1] >> 51; h.v[1] &= kMask51; h.v[2] += c;
  c = h.v[2] >> 51; h.v[2] &= kMask51; h.v[3] += c;
  c = h.v[3] >> 51; h.v[3] &= kMask51; h.v[4] += c;
  h.v[4] &= kMask51;  // drops the 2^255 that subtracting p leaves behind
  const uint64_t w0 = h.v[0] | (h.v[1] << 51);
  const uint64_t w1 = (h.v[1] >> 13) | (h.v[2] << 38);
  const uint64_t w2 = (h.v[2] >> 26) | (h.v[3] << 25);
  const uint64_t w3 = (h.v[3] >> 39) | (h.v[4] << 12);
  const uint64_t w[4] = {w0, w1, w2, w3};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 8; ++j) s[8 * i + j] = uint8_t(w[i] >> (8 * j));
}

LC_ALWAYS_INLINE uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int j = 7; j >= 0; --j) v = (v << 8) | p[j];
  return v;
}

// Bit 255 is ignored; the result is < 2^255 but may be >= p (callers that need canonical
// input compare against tobytes).
LC_ALWAYS_INLINE void frombytes(fe& h, const uint8_t s[32]) {
  const uint64_t w0 = load_le64(s), w1 = load_le64(s + 8), w2 = load_le64(s + 16), w3 = load_le64(s + 24);
  h.v[0] = w0 & kMask51;
  h.v[1] = ((w0 >> 51) | (w1 << 13)) & kMask51;
  h.v[2] = ((w1 >> 38) | (w2 << 26)) & kMask51;
  h.v[3] = ((w2 >> 25) | (w3 << 39)) & kMask51;
  h.v[4] = (w3 >> 12) & kMask51;
}

LC_ALWAYS_INLINE bool iszero(const fe& f) {
  uint8_t s[32];
  tobytes(s, f);
  uint8_t acc = 0;
  for (int i = 0; i < 32; ++i) acc |= s[i];
  return acc == 0;
}

LC_ALWAYS_INLINE bool isnegative(const fe& f) {
  uint8_t s[32];
  tobytes(s, f);
  return (s[0] & 1) != 0;
}

LC_ALWAYS_INLINE bool equal(const fe& f, const fe& g) {
  uint8_t a[32], b[32];
  tobytes(a, f);
  tobytes(b, g);
  return std::memcmp(a, b, 32) == 0;
}

LC_ALWAYS_INLINE void set_small(fe& h, uint64_t x) {
  h.v[0] = x; h.v[1] = 0; h.v[2] = 0; h.v[3] = 0; h.v[4] = 0;
}

// A field path as a type: the point formulas and the verification kernel are templates
// over it, so each path gets its own compiled copy (field_paths.h).
// A field type provides: mul, sq, sqn; add and sub (results valid as product inputs);
// carry (makes a result tight: a no-op where add and sub already are); set_small, iszero,
// equal, isnegative, tobytes, frombytes; constants() and the two base tables in its own
// representation; from_portable / to_portable to cross the public API, whose ge_p3 hold
// radix-2^51 elements.
struct PortableField {
  static constexpr const char* name = "portable";
  // Decode A and R with interleaved exponentiations (decompress_pair)? Measured slower
  // for this path (37.2 -> 38.0 us), faster for the bmi2 one.
  static constexpr bool interleave_decoding = false;
  static LC_ALWAYS_INLINE void mul(fe& h, const fe& f, const fe& g) { fe_inline::mul(h, f, g); }
  static LC_ALWAYS_INLINE void sq(fe& h, const fe& f) { fe_inline::sq(h, f); }
  static LC_ALWAYS_INLINE void sqn(fe& h, const fe& f, int n) { fe_inline::sqn(h, f, n); }
  static LC_ALWAYS_INLINE void sqn2(fe& a, fe& b, int n) { fe_inline::sqn2(a, b, n); }
  static LC_ALWAYS_INLINE void add(fe& h, const fe& f, const fe& g) { fe_inline::add_nc(h, f, g); }
  static LC_ALWAYS_INLINE void sub(fe& h, const fe& f, const fe& g) { fe_inline::sub_nc(h, f, g); }
  static LC_ALWAYS_INLINE void carry(fe& h) { fe_inline::carry(h); }
  static LC_ALWAYS_INLINE void set_small(fe& h, uint64_t x) { fe_inline::set_small(h, x); }
  static LC_ALWAYS_INLINE bool iszero(const fe& f) { return fe_inline::iszero(f); }
  static LC_ALWAYS_INLINE bool equal(const fe& f, const fe& g) { return fe_inline::equal(f, g); }
  static LC_ALWAYS_INLINE bool isnegative(const fe& f) { return fe_inline::isnegative(f); }
  static LC_ALWAYS_INLINE void tobytes(uint8_t s[32], const fe& f) { fe_inline::tobytes(s, f); }
  static LC_ALWAYS_INLINE void frombytes(fe& h, const uint8_t s[32]) { fe_inline::frombytes(h, s); }
  static LC_ALWAYS_INLINE void from_portable(fe& h, const fe& f) { h = f; }
  static LC_ALWAYS_INLINE void to_portable(fe& h, const fe& f) { h = f; }
  static const ge_inline::CurveConstants& constants();  // point.cpp
  static const ge_precomp* base_table();
  static const ge_precomp* base128_table();
};

// Returns z^(2^250 - 1) and z^11 (needed by inversion), with the usual chain of
// 250 squarings and 11 multiplications shared by invert and pow22523.
template <class F = PortableField>
LC_ALWAYS_INLINE void pow_2_250_1(fe& z250, fe& z11, const fe& z) {
  fe t0, t1, t2, z9, z_5, z_10, z_20, z_50, z_100;
  F::sq(t0, z);              // z^2
  F::sqn(t1, t0, 2);         // z^8
  F::mul(z9, z, t1);         // z^9
  F::mul(z11, t0, z9);       // z^11
  F::sq(t2, z11);            // z^22
  F::mul(z_5, z9, t2);       // z^(2^5 - 1)
  F::sqn(t0, z_5, 5);
  F::mul(z_10, t0, z_5);     // 2^10 - 1
  F::sqn(t0, z_10, 10);
  F::mul(z_20, t0, z_10);    // 2^20 - 1
  F::sqn(t0, z_20, 20);
  F::mul(t0, t0, z_20);      // 2^40 - 1
  F::sqn(t0, t0, 10);
  F::mul(z_50, t0, z_10);    // 2^50 - 1
  F::sqn(t0, z_50, 50);
  F::mul(z_100, t0, z_50);   // 2^100 - 1
  F::sqn(t0, z_100, 100);
  F::mul(t0, t0, z_100);     // 2^200 - 1
  F::sqn(t0, t0, 50);
  F::mul(z250, t0, z_50);    // 2^250 - 1
}

// Whether field type F has a four-lane squaring loop (sqn4).
template <class F, class = void>
struct HasSqn4 : std::false_type {};
template <class F>
struct HasSqn4<F, std::void_t<decltype(&F::sqn4)>> : std::true_type {};

// z[l] = z[l]^(2^n) for N independent lanes, the squarings of the lanes alternating.
template <class F, int N>
LC_ALWAYS_INLINE void sqn_lanes(fe* z, int n) {
  if constexpr (N == 1) {
    F::sqn(z[0], z[0], n);
  } else if constexpr (N == 2) {
    F::sqn2(z[0], z[1], n);
  } else if constexpr (N == 4 && HasSqn4<F>::value) {
    F::sqn4(z, n);
  } else {
    for (int i = 0; i < n; ++i)
      for (int l = 0; l < N; ++l) F::sq(z[l], z[l]);
  }
}

// z[l] = z[l]^((p - 5) / 8) for N independent lanes, the usual chain run step by step
// side by side: each squaring waits less on its own lane's previous one.
template <class F, int N>
LC_ALWAYS_INLINE void pow22523_lanes(fe* z) {
  fe z1[N], t[N], z9[N], z_5[N], z_10[N], z_20[N], z_50[N], z_100[N];
  for (int l = 0; l < N; ++l) {
    z1[l] = z[l];
    F::sq(z9[l], z[l]);  // z^2, kept in z9 until it is z^9
  }
  for (int l = 0; l < N; ++l) t[l] = z9[l];
  sqn_lanes<F, N>(t, 2);                                        // z^8
  for (int l = 0; l < N; ++l) {
    fe z2 = z9[l];
    F::mul(z9[l], z1[l], t[l]);                                 // z^9
    F::mul(t[l], z2, z9[l]);                                    // z^11
    F::sq(t[l], t[l]);                                          // z^22
    F::mul(z_5[l], z9[l], t[l]);                                // 2^5 - 1
    t[l] = z_5[l];
  }
  sqn_lanes<F, N>(t, 5);
  for (int l = 0; l < N; ++l) {
    F::mul(z_10[l], t[l], z_5[l]);                              // 2^10 - 1
    t[l] = z_10[l];
  }
  sqn_lanes<F, N>(t, 10);
  for (int l = 0; l < N; ++l) {
    F::mul(z_20[l], t[l], z_10[l]);                             // 2^20 - 1
    t[l] = z_20[l];
  }
  sqn_lanes<F, N>(t, 20);
  for (int l = 0; l < N; ++l) F::mul(t[l], t[l], z_20[l]);     // 2^40 - 1
  sqn_lanes<F, N>(t, 10);
  for (int l = 0; l < N; ++l) {
    F::mul(z_50[l], t[l], z_10[l]);                             // 2^50 - 1
    t[l] = z_50[l];
  }
  sqn_lanes<F, N>(t, 50);
  for (int l = 0; l < N; ++l) {
    F::mul(z_100[l], t[l], z_50[l]);                            // 2^100 - 1
    t[l] = z_100[l];
  }
  sqn_lanes<F, N>(t, 100);
  for (int l = 0; l < N; ++l) F::mul(t[l], t[l], z_100[l]);    // 2^200 - 1
  sqn_lanes<F, N>(t, 50);
  for (int l = 0; l < N; ++l) F::mul(t[l], t[l], z_50[l]);     // 2^250 - 1
  sqn_lanes<F, N>(t, 2);                                        // 2^252 - 4
  for (int l = 0; l < N; ++l) F::mul(z[l], t[l], z1[l]);       // 2^252 - 3
}

// out = z^(p - 2) = z^(2^255 - 21); 0 maps to 0.
template <class F = PortableField>
LC_ALWAYS_INLINE void invert(fe& out, const fe& z) {
  fe z250, z11;
  pow_2_250_1<F>(z250, z11, z);
  F::sqn(z250, z250, 5);     // 2^255 - 32
  F::mul(out, z250, z11);    // 2^255 - 21
}

// out = z^((p - 5) / 8) = z^(2^252 - 3), the exponent of the square root in decompression.
template <class F = PortableField>
LC_ALWAYS_INLINE void pow22523(fe& out, const fe& z) {
  fe z250, z11;
  pow_2_250_1<F>(z250, z11, z);
  F::sqn(z250, z250, 2);     // 2^252 - 4
  F::mul(out, z250, z);      // 2^252 - 3
}

}  // namespace fe_inline
}  // namespace ledger_core
