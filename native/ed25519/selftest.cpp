// The built-in self-test of native/ed25519 (test_hooks.h): the contract functions
// (field.h, point.h, verify.h) against each other and against slow references, and the
// bmi2 field against the portable one. Test code only: nothing here runs unless a test
// calls ed25519_core_selftest().
#include <cstring>

#include "ed25519/field.h"
#include "ed25519/field_paths.h"
#include "ed25519/point.h"
#include "ed25519/test_hooks.h"
#include "ed25519/verify.h"

namespace ledger_core {
namespace {

struct TestRng {
  uint64_t state;
  uint64_t next() {  // xorshift64*: test data only
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dULL;
  }
  void bytes(uint8_t* out, size_t len) {
    for (size_t i = 0; i < len; ++i) out[i] = uint8_t(next() >> 56);
  }
};

bool fe_same(const fe& a, const fe& b) { return fe_equal(a, b); }

bool point_same(const ge_p3& p, const ge_p3& q) {
  uint8_t a[32], b[32];
  ge_tobytes(a, p);
  ge_tobytes(b, q);
  return std::memcmp(a, b, 32) == 0 && ge_equal(p, q);
}

// [s]P by plain double-and-add over the public point functions (the slow reference).
void scalarmult_reference(ge_p3& r, const uint8_t s[32], const ge_p3& p) {
  ge_identity(r);
  for (int i = 255; i >= 0; --i) {
    ge_double(r, r);
    if ((s[i / 8] >> (i % 8)) & 1) {
      ge_cached c;
      ge_to_cached(c, p);
      ge_add(r, r, c);
    }
  }
}

// The portable element equal (mod p) to the 256-bit little-endian value v, computed
// without this file's code: the low 255 bits, plus 19 for bit 255 (2^255 = 19 mod p).
void portable_of(fe& out, const uint64_t v[4]) {
  uint8_t bytes[32];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 8; ++j) bytes[8 * i + j] = uint8_t(v[i] >> (8 * j));
  fe_frombytes(out, bytes);
  if ((v[3] >> 63) != 0) {
    fe nineteen;
    fe_0(nineteen);
    nineteen.v[0] = 19;
    fe_add(out, out, nineteen);
  }
}

bool same_value(const fe& mulx_value, const fe& portable_value) {
  uint8_t a[32], b[32];
  ed25519_paths::MULX_FIELD_OPS.tobytes(a, mulx_value);
  fe_tobytes(b, portable_value);
  return std::memcmp(a, b, 32) == 0;
}

// The bmi2 field's operations against the portable ones on the edge values of 256-bit
// limbs (0, p, 2^255, 2^256 - 38, ...): "" or what differed. Only when the CPU has BMI2
// and ADX.
const char* mulx_field_selftest() {
  const ed25519_paths::MulxFieldOps& mulx = ed25519_paths::MULX_FIELD_OPS;
  const uint64_t ones = ~uint64_t(0), top = 0x7fffffffffffffffULL;
  // 0, 1, 19, 38, p - 1, p, p + 1, 2p - 1, 2^255 - 1, 2^255, 2^256 - 39, 2^256 - 38, 2^256 - 1,
  // and values with one limb full.
  const uint64_t edges[][4] = {
      {0, 0, 0, 0},          {1, 0, 0, 0},          {19, 0, 0, 0},        {38, 0, 0, 0},
      {ones - 19, ones, ones, top}, {ones - 18, ones, ones, top}, {ones - 17, ones, ones, top},
      {ones - 37, ones, ones, ones}, {ones, ones, ones, top}, {0, 0, 0, top + 1},
      {ones - 38, ones, ones, ones}, {ones - 37, ones, ones, ones}, {ones, ones, ones, ones},
      {ones, 0, 0, 0},       {0, ones, 0, 0},       {0, 0, ones, 0},      {0, 0, 0, ones},
      {0x123456789abcdef0ULL, 0x0fedcba987654321ULL, 0xdeadbeefcafef00dULL, 0x8000000000000001ULL},
  };
  const size_t count = sizeof(edges) / sizeof(edges[0]);
  for (size_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < count; ++j) {
      fe a, b, pa, pb, r, pr;
      for (int l = 0; l < 4; ++l) {
        a.v[l] = edges[i][l];
        b.v[l] = edges[j][l];
      }
      a.v[4] = b.v[4] = 0;
      portable_of(pa, edges[i]);
      portable_of(pb, edges[j]);
      mulx.mul(r, a, b);
      fe_mul(pr, pa, pb);
      if (!same_value(r, pr)) return "bmi2 field: mul differs from portable";
      mulx.add(r, a, b);
      fe_add(pr, pa, pb);
      if (!same_value(r, pr)) return "bmi2 field: add differs from portable";
      mulx.sub(r, a, b);
      fe_sub(pr, pa, pb);
      if (!same_value(r, pr)) return "bmi2 field: sub differs from portable";
    }
    fe a, pa, r, pr;
    for (int l = 0; l < 4; ++l) a.v[l] = edges[i][l];
    a.v[4] = 0;
    portable_of(pa, edges[i]);
    mulx.sq(r, a);
    fe_sq(pr, pa);
    if (!same_value(r, pr)) return "bmi2 field: sq differs from portable";
    mulx.sqn(r, a, 7);
    fe_sq(pr, pa);
    for (int k = 1; k < 7; ++k) fe_sq(pr, pr);
    if (!same_value(r, pr)) return "bmi2 field: sqn differs from portable";
  }
  return "";
}

}  // namespace

const char* ed25519_core_selftest() {
  if (ed25519_paths::find_path("bmi2") != nullptr) {
    const char* mulx = mulx_field_selftest();
    if (mulx[0] != '\0') return mulx;
  }
  TestRng rng = {0x9e3779b97f4a7c15ULL};
  // Field: ring identities on random (and non-canonical) elements, canonical encoding.
  for (int iter = 0; iter < 200; ++iter) {
    uint8_t ab[32], bb[32];
    rng.bytes(ab, 32);
    rng.bytes(bb, 32);
    fe a, b, t0, t1, t2;
    fe_frombytes(a, ab);
    fe_frombytes(b, bb);
    fe_add(t0, a, b);
    fe_sq(t0, t0);  // (a + b)^2
    fe_sq(t1, a);
    fe_sq(t2, b);
    fe_add(t1, t1, t2);
    fe_mul(t2, a, b);
    fe_add(t1, t1, t2);
    fe_add(t1, t1, t2);  // a^2 + b^2 + 2ab
    if (!fe_same(t0, t1)) return "field: (a + b)^2 != a^2 + 2ab + b^2";
    fe_sub(t0, a, b);
    fe_add(t0, t0, b);
    if (!fe_same(t0, a)) return "field: (a - b) + b != a";
    fe_neg(t0, a);
    fe_add(t0, t0, a);
    if (!fe_iszero(t0)) return "field: -a + a != 0";
    fe_invert(t0, a);
    fe_mul(t0, t0, a);
    fe t_one;
    fe_1(t_one);
    if (!fe_iszero(a) && !fe_same(t0, t_one)) return "field: a / a != 1";
  }
  {
    // p + 3 (bit 255 clear) must encode as 3; 2^255 - 1 as 18; bit 255 is ignored on input.
    uint8_t in[32], out[32];
    std::memset(in, 0xff, 32);
    in[31] = 0x7f;
    in[0] = 0xed + 3;  // p = 2^255 - 19 = ff..ff ed; p + 3 = ff..ff f0
    fe x;
    fe_frombytes(x, in);
    fe_tobytes(out, x);
    if (out[0] != 3 || out[31] != 0) return "field: p + 3 does not encode as 3";
    in[0] = 0xff;
    in[31] = 0xff;  // 2^256 - 1, bit 255 ignored: 2^255 - 1 = p + 18
    fe_frombytes(x, in);
    fe_tobytes(out, x);
    if (out[0] != 18 || out[31] != 0) return "field: 2^255 - 1 does not encode as 18";
  }
  {
    // Batch inversion, aliased and not, with zeros in the middle and at the ends.
    constexpr size_t n = 150;
    fe in[n], out[n];
    for (size_t i = 0; i < n; ++i) {
      uint8_t e[32];
      rng.bytes(e, 32);
      fe_frombytes(in[i], e);
      if (i == 0 || i == 77 || i == n - 1) fe_0(in[i]);
    }
    fe_batch_invert(out, in, n);
    for (size_t i = 0; i < n; ++i) {
      fe expect;
      fe_invert(expect, in[i]);
      if (!fe_same(out[i], expect)) return "field: fe_batch_invert != fe_invert";
    }
    fe_batch_invert(in, in, n);
    for (size_t i = 0; i < n; ++i)
      if (!fe_same(in[i], out[i])) return "field: aliased fe_batch_invert differs";
  }
  // Points: every formula against the others, encodings round-trip.
  const ge_p3& base = ge_basepoint();
  ge_p3 points[8];
  ge_identity(points[0]);
  if (!ge_is_identity(points[0]) || ge_is_identity(base)) return "point: identity test";
  for (int i = 1; i < 8; ++i) {
    uint8_t s[32];
    rng.bytes(s, 32);
    scalarmult_reference(points[i], s, base);
  }
  for (int i = 0; i < 8; ++i) {
    const ge_p3& p = points[i];
    uint8_t enc[32];
    ge_tobytes(enc, p);
    ge_p3 back;
    if (!ge_decompress_strict(back, enc) || !point_same(back, p)) return "point: decode(encode(P)) != P";
    ge_p3 twice, sum, diff, neg;
    ge_cached pc;
    ge_to_cached(pc, p);
    ge_double(twice, p);
    ge_add(sum, p, pc);
    if (!point_same(twice, sum)) return "point: P + P != 2P";
    ge_sub(diff, sum, pc);
    if (!point_same(diff, p)) return "point: (P + P) - P != P";
    ge_neg(neg, p);
    ge_add(sum, neg, pc);
    if (!ge_is_identity(sum)) return "point: -P + P != identity";
    if (ge_is_small_order(p) != (i == 0)) return "point: small-order test";
    ge_p3 eight, by_dbl = p;
    ge_mul_by_cofactor(eight, p);
    for (int j = 0; j < 3; ++j) ge_double(by_dbl, by_dbl);
    if (!point_same(eight, by_dbl)) return "point: [8]P != 2(2(2P))";
  }
  {
    ge_precomp pre[8];
    ge_to_precomp_batch(pre, points, 8);
    for (int i = 0; i < 8; ++i) {
      ge_p3 a, b;
      ge_cached c;
      ge_to_cached(c, points[i]);
      ge_add(a, base, c);
      ge_add_precomp(b, base, pre[i]);
      if (!point_same(a, b)) return "point: ge_add_precomp != ge_add";
    }
  }
  {
    // The start-up tables hold the odd multiples of B and of [2^128]B.
    ge_p3 b128 = base;
    for (int i = 0; i < 128; ++i) ge_double(b128, b128);
    const ge_p3* bases[2] = {&base, &b128};
    const ge_precomp* tables[2] = {ge_base_odd_multiples(), ge_base128_odd_multiples()};
    for (int t = 0; t < 2; ++t) {
      ge_p3 odd = *bases[t], twice;
      ge_double(twice, *bases[t]);
      ge_cached twice_cached;
      ge_to_cached(twice_cached, twice);
      for (size_t i = 0; i < BASE_TABLE_COUNT; ++i) {
        ge_p3 zero, got;
        ge_identity(zero);
        ge_add_precomp(got, zero, tables[t][i]);
        if (!point_same(got, odd)) return "point: base table entry wrong";
        ge_add(odd, odd, twice_cached);
      }
    }
  }
  {
    // ed25519_verify_prepared agrees with ed25519_verify (RFC 8032 section 7.1, test 2).
    const char* pk_hex = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    const char* sig_hex =
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
    auto nibble = [](char c) { return uint8_t(c <= '9' ? c - '0' : c - 'a' + 10); };
    uint8_t pk[32], sig[64];
    for (int i = 0; i < 32; ++i) pk[i] = uint8_t(nibble(pk_hex[2 * i]) << 4 | nibble(pk_hex[2 * i + 1]));
    for (int i = 0; i < 64; ++i) sig[i] = uint8_t(nibble(sig_hex[2 * i]) << 4 | nibble(sig_hex[2 * i + 1]));
    uint8_t msg[1] = {0x72};
    ge_p3 A;
    if (!ge_decompress_strict(A, pk) || ge_is_small_order(A)) return "verify: test key does not decode";
    if (ed25519_verify(pk, msg, 1, sig) != VerifyReason::ok ||
        ed25519_verify_prepared(A, pk, msg, 1, sig) != VerifyReason::ok)
      return "verify: RFC 8032 test 2 rejected";
    msg[0] ^= 1;
    if (ed25519_verify_prepared(A, pk, msg, 1, sig) != VerifyReason::equation_failed)
      return "verify: prepared key accepted a changed message";
    msg[0] ^= 1;
    sig[63] |= 0x80;  // S >= 2^255 > L
    if (ed25519_verify_prepared(A, pk, msg, 1, sig) != VerifyReason::non_canonical_s)
      return "verify: prepared key accepted S >= L";
    sig[63] &= 0x7f;
    sig[31] ^= 0x80;  // R with the other sign of x: decodes (x != 0) but breaks the equation
    const VerifyReason flipped = ed25519_verify_prepared(A, pk, msg, 1, sig);
    if (flipped != VerifyReason::equation_failed && flipped != VerifyReason::non_canonical_point)
      return "verify: prepared key accepted a changed R";
  }
  // Double-scalar multiplication against the reference, on edge and random scalars.
  for (int iter = 0; iter < 24; ++iter) {
    uint8_t a[32], b[32];
    rng.bytes(a, 32);
    rng.bytes(b, 32);
    if (iter == 0) std::memset(a, 0, 32);
    if (iter == 1) std::memset(b, 0, 32);
    if (iter == 2) std::memset(a, 0xff, 32);
    if (iter == 3) std::memset(b, 0xff, 32);
    const ge_p3& A = points[1 + iter % 7];
    ge_p3 got, x, y;
    ge_double_scalarmult_vartime(got, a, A, b);
    scalarmult_reference(x, a, A);
    scalarmult_reference(y, b, base);
    ge_cached yc;
    ge_to_cached(yc, y);
    ge_add(x, x, yc);
    if (!point_same(got, x)) return "point: ge_double_scalarmult_vartime != reference";
  }
  return "";
}

}  // namespace ledger_core
