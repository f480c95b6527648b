#include "ed25519/scalar.h"

#include <cstring>

namespace ledger_core {

const uint8_t ED25519_GROUP_ORDER[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                         0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                         0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

namespace {

using u128 = unsigned __int128;

constexpr uint64_t kL[4] = {0x5812631a5cf5d3edULL, 0x14def9dea2f79cd6ULL, 0x0ULL,
                            0x1000000000000000ULL};
// floor(2^512 / L), five limbs.
constexpr uint64_t kMu[5] = {0xed9ce5a30a2c131bULL, 0x2106215d086329a7ULL,
                             0xffffffffffffffebULL, 0xffffffffffffffffULL, 0xfULL};

uint64_t load64(const uint8_t* p) {
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | p[i];
  return x;
}

void store64(uint8_t* p, uint64_t x) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(x >> (8 * i));
}

// a >= b over n limbs.
bool geq(const uint64_t* a, const uint64_t* b, size_t n) {
  for (size_t i = n; i-- > 0;) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return true;
}

// a -= b over n limbs (borrow out of the top is dropped: arithmetic mod 2^(64n)).
void sub_in_place(uint64_t* a, const uint64_t* b, size_t n) {
  uint64_t borrow = 0;
  for (size_t i = 0; i < n; ++i) {
    u128 d = u128(a[i]) - b[i] - borrow;
    a[i] = uint64_t(d);
    borrow = uint64_t(d >> 64) & 1;
  }
}

// Barrett step: r = x mod L for x < 2^512 (8 limbs).
void barrett(uint64_t r_out[4], const uint64_t x[8]) {
  // q3 = floor(floor(x / 2^192) * mu / 2^320): only limbs 5..9 of the 10-limb product
  // are needed, but the carries from below matter, so the full product is formed.
  const uint64_t* q1 = x + 3;
  uint64_t q2[10] = {0};
  for (size_t i = 0; i < 5; ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < 5; ++j) {
      u128 t = u128(q1[i]) * kMu[j] + q2[i + j] + carry;
      q2[i + j] = uint64_t(t);
      carry = uint64_t(t >> 64);
    }
    q2[i + 5] = carry;
  }
  const uint64_t* q3 = q2 + 5;
  // r2 = (q3 * L) mod 2^320.
  uint64_t r2[5] = {0};
  for (size_t i = 0; i < 5; ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; i + j < 5 && j < 4; ++j) {
      u128 t = u128(q3[i]) * kL[j] + r2[i + j] + carry;
      r2[i + j] = uint64_t(t);
      carry = uint64_t(t >> 64);
    }
    if (i + 4 < 5) r2[i + 4] += carry;
  }
  uint64_t r[5] = {x[0], x[1], x[2], x[3], x[4]};
  sub_in_place(r, r2, 5);  // mod 2^320, as HAC's step 3 allows
  const uint64_t l5[5] = {kL[0], kL[1], kL[2], kL[3], 0};
  while (geq(r, l5, 5)) sub_in_place(r, l5, 5);
  std::memcpy(r_out, r, 4 * sizeof(uint64_t));
}

// out (8 limbs) = a (4 limbs) * b (4 limbs).
void mul_wide(uint64_t out[8], const uint64_t a[4], const uint64_t b[4]) {
  std::memset(out, 0, 8 * sizeof(uint64_t));
  for (size_t i = 0; i < 4; ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < 4; ++j) {
      u128 t = u128(a[i]) * b[j] + out[i + j] + carry;
      out[i + j] = uint64_t(t);
      carry = uint64_t(t >> 64);
    }
    out[i + 4] = carry;
  }
}

}  // namespace

void sc_from_bytes(Scalar& s, const uint8_t in[32]) {
  for (size_t i = 0; i < 4; ++i) s.v[i] = load64(in + 8 * i);
}

void sc_to_bytes(uint8_t out[32], const Scalar& s) {
  for (size_t i = 0; i < 4; ++i) store64(out + 8 * i, s.v[i]);
}

void sc_reduce_wide(Scalar& s, const uint64_t in[8]) { barrett(s.v, in); }

void sc_reduce64(uint8_t out[32], const uint8_t in[64]) {
  uint64_t x[8];
  for (size_t i = 0; i < 8; ++i) x[i] = load64(in + 8 * i);
  Scalar s;
  barrett(s.v, x);
  sc_to_bytes(out, s);
}

bool sc_is_canonical(const uint8_t s[32]) {
  Scalar x;
  sc_from_bytes(x, s);
  return !geq(x.v, kL, 4);
}

void sc_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32], const uint8_t c[32]) {
  Scalar sa, sb, sc;
  sc_from_bytes(sa, a);
  sc_from_bytes(sb, b);
  sc_from_bytes(sc, c);
  uint64_t wide[8];
  mul_wide(wide, sa.v, sb.v);
  // a*b + c < 2^512 unless a*b is within 2^256 of 2^512; reduce a*b first to be safe.
  Scalar ab;
  barrett(ab.v, wide);
  uint64_t sum[8] = {0};
  uint64_t carry = 0;
  for (size_t i = 0; i < 4; ++i) {
    u128 t = u128(ab.v[i]) + sc.v[i] + carry;
    sum[i] = uint64_t(t);
    carry = uint64_t(t >> 64);
  }
  sum[4] = carry;
  Scalar r;
  barrett(r.v, sum);
  sc_to_bytes(out, r);
}

void sc_zero(Scalar& s) { std::memset(s.v, 0, sizeof s.v); }

bool sc_is_zero(const Scalar& s) { return (s.v[0] | s.v[1] | s.v[2] | s.v[3]) == 0; }

void sc_add(Scalar& r, const Scalar& a, const Scalar& b) {
  uint64_t carry = 0;
  uint64_t t[4];
  for (size_t i = 0; i < 4; ++i) {
    u128 x = u128(a.v[i]) + b.v[i] + carry;
    t[i] = uint64_t(x);
    carry = uint64_t(x >> 64);
  }
  // a, b < L < 2^253, so the sum < 2^254: no carry out, one conditional subtraction.
  if (geq(t, kL, 4)) sub_in_place(t, kL, 4);
  std::memcpy(r.v, t, sizeof t);
}

void sc_neg(Scalar& r, const Scalar& a) {
  if (sc_is_zero(a)) {
    sc_zero(r);
    return;
  }
  uint64_t t[4] = {kL[0], kL[1], kL[2], kL[3]};
  sub_in_place(t, a.v, 4);
  std::memcpy(r.v, t, sizeof t);
}

void sc_mul(Scalar& r, const Scalar& a, const Scalar& b) {
  uint64_t wide[8];
  mul_wide(wide, a.v, b.v);
  barrett(r.v, wide);
}

void sc_mul128(Scalar& r, uint64_t z_lo, uint64_t z_hi, const Scalar& b) {
  ScalarAcc acc;
  sc_acc_zero(acc);
  sc_acc_add_mul128(acc, z_lo, z_hi, b);
  barrett(r.v, acc.v);
}

unsigned sc_bit_length(const Scalar& s) {
  for (int i = 3; i >= 0; --i) {
    if (s.v[i]) return unsigned(64 * i + 64 - __builtin_clzll(s.v[i]));
  }
  return 0;
}

void sc_acc_zero(ScalarAcc& acc) { std::memset(acc.v, 0, sizeof acc.v); }

void sc_acc_add_mul128(ScalarAcc& acc, uint64_t z_lo, uint64_t z_hi, const Scalar& b) {
  // The 6-limb product z * b, then one carry chain into the accumulator.
  uint64_t p[6] = {0};
  const uint64_t z[2] = {z_lo, z_hi};
  for (size_t i = 0; i < 2; ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < 4; ++j) {
      u128 t = u128(z[i]) * b.v[j] + p[i + j] + carry;
      p[i + j] = uint64_t(t);
      carry = uint64_t(t >> 64);
    }
    p[i + 4] = carry;
  }
  uint64_t carry = 0;
  for (size_t i = 0; i < 8; ++i) {
    u128 t = u128(acc.v[i]) + (i < 6 ? p[i] : 0) + carry;
    acc.v[i] = uint64_t(t);
    carry = uint64_t(t >> 64);
  }
}

void sc_acc_reduce(Scalar& s, const ScalarAcc& acc) { barrett(s.v, acc.v); }

}  // namespace ledger_core
