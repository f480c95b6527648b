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
  verify_inline::double_scalarmult_public<fe_inline::PortableField>(r, a, A, b);
}

const FieldPath& portable_path() {
  static const FieldPath path = {"portable", verify_points_portable, double_scalarmult_portable,
                                       msm_portable, verify_batch_chunk_portable};
  return path;
}

const FieldPath& active_path() {
  static const FieldPath& path = best_path(cpu_features());
  return path;
}

}  // namespace ed25519_paths

namespace {

// --- a short vector of the lattice {(x, y) : x = k y mod L} ---------------------------
//
// The extended Euclidean algorithm on (L, k) keeps remainders r_i = t_i k (mod L) and
// satisfies r_i |t_(i+1)| + r_(i+1) |t_i| = L. Stopping at the first remainder below 2^127
// gives c0 = r_(i+1) < 2^127 and |c1| = |t_(i+1)| <= L / r_i < 2^253 / 2^127 = 2^126 (the
// decomposition of Gallant, Lambert and Vanstone; Pornin 2020 uses it for EdDSA). Each
// quotient is found bit by bit, subtracting b << s with the largest s that keeps the
// remainder non-negative, so there is no division: about 190 steps on 4-limb numbers.
// The multipliers t are only needed at the end, where |t| < 2^127, so they are kept
// modulo 2^128 (every step is a ring operation, so the low 128 bits are exact).

typedef unsigned __int128 u128;

constexpr uint64_t kL[4] = {0x5812631a5cf5d3edULL, 0x14def9dea2f79cd6ULL, 0, 0x1000000000000000ULL};

inline int bitlen4(const uint64_t x[4]) {
  for (int i = 3; i >= 0; --i)
    if (x[i] != 0) return 64 * i + 64 - __builtin_clzll(x[i]);
  return 0;
}

inline bool less4(const uint64_t a[4], const uint64_t b[4]) {
  for (int i = 3; i >= 0; --i)
    if (a[i] != b[i]) return a[i] < b[i];
  return false;
}

// out = x << s for 0 <= s < 256 (bits past 2^256 are not produced: x << s <= a < 2^253).
inline void shl4(uint64_t out[4], const uint64_t x[4], int s) {
  const int q = s / 64, b = s % 64;
  for (int i = 3; i >= 0; --i) {
    const int src = i - q;
    const uint64_t cur = src >= 0 ? x[src] : 0;
    const uint64_t prev = src >= 1 ? x[src - 1] : 0;
    out[i] = (cur << b) | ((prev >> 1) >> (63 - b));  // prev >> (64 - b); 0 when b = 0
  }
}

inline void shr1_4(uint64_t x[4]) {
  for (int i = 0; i < 3; ++i) x[i] = (x[i] >> 1) | (x[i + 1] << 63);
  x[3] >>= 1;
}

inline void sub4(uint64_t a[4], const uint64_t b[4]) {
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) {
    const uint64_t d = a[i] - b[i];
    const uint64_t out = d - borrow;
    borrow = (a[i] < b[i]) | (d < borrow);
    a[i] = out;
  }
}

inline u128 shl128(u128 x, int s) { return s >= 128 ? 0 : x << s; }

// (c0, c1) with c0 = k c1 mod L (checked again by the caller), 0 <= c0 < 2^127 and
// |c1| < 2^127, as magnitudes and the sign of c1; false if the step budget ran out.
bool reduce_basis(const uint64_t k[4], u128& c0, u128& c1_mag, bool& c1_negative) {
  uint64_t a[4] = {kL[0], kL[1], kL[2], kL[3]};
  uint64_t b[4] = {k[0], k[1], k[2], k[3]};
  u128 ta = 0, tb = 1;  // a = ta k, b = tb k (mod L)
  int la = bitlen4(a), lb = bitlen4(b);
  for (int step = 0; step < 2000; ++step) {
    if (lb <= 127) {
      c0 = (u128(b[1]) << 64) | b[0];
      c1_negative = (tb >> 127) != 0;
      c1_mag = c1_negative ? u128(0) - tb : tb;
      return true;
    }
    // Here a >= b > 0: subtract the largest b << s not above a.
    int s = la - lb;
    uint64_t t[4];
    shl4(t, b, s);
    if (less4(a, t)) {
      shr1_4(t);
      --s;
    }
    sub4(a, t);
    ta -= shl128(tb, s);
    la = bitlen4(a);
    if (less4(a, b)) {
      for (int i = 0; i < 4; ++i) {
        const uint64_t w = a[i];
        a[i] = b[i];
        b[i] = w;
      }
      const u128 tt = ta;
      ta = tb;
      tb = tt;
      const int l = la;
      la = lb;
      lb = l;
    }
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
  const bool c0_negative = false;
  bool c1_negative = false;
  if (!reduce_basis(k.v, c0, c1, c1_negative)) return false;
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
                         const uint8_t signature[64], bool allow_half = true) {
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
  const bool have_half = allow_half && half_scalars(half, k, signature + 32);
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
  // "<path>:full" forces the full-size equation (the fallback of the half-size one).
  char name[32];
  const char* colon = std::strchr(path_name, ':');
  const size_t name_len = colon != nullptr ? size_t(colon - path_name) : std::strlen(path_name);
  const bool full = colon != nullptr && std::strcmp(colon, ":full") == 0;
  *path_available = false;
  if (name_len >= sizeof(name) || (colon != nullptr && !full)) return VerifyReason::equation_failed;
  std::memcpy(name, path_name, name_len);
  name[name_len] = '\0';
  const ed25519_paths::FieldPath* path = ed25519_paths::find_path(name, cpu_features());
  if (path == nullptr) return VerifyReason::equation_failed;
  *path_available = true;
  return verify_with(*path, nullptr, public_key, message, message_len, signature, !full);
}

void ge_double_scalarmult_vartime(ge_p3& r, const uint8_t a[32], const ge_p3& A, const uint8_t b[32]) {
  ed25519_paths::active_path().double_scalarmult(r, a, A, b);
}

const char* ed25519_active_path() { return ed25519_paths::active_path().name; }

}  // namespace ledger_core

// --- self-test of the contract functions (field.h, point.h) -----------------------------

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

}  // namespace

const char* ed25519_core_selftest() {
  if (ed25519_paths::find_path("bmi2", cpu_features()) != nullptr) {
    const char* mulx = ed25519_paths::mulx_field_selftest();
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
