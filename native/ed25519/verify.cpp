#include "ed25519/verify.h"

#include <cstring>

#include "ed25519/field_paths.h"
#include "ed25519/scalar.h"
#include "ed25519/test_hooks.h"
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

const FieldPath PORTABLE_FIELD_PATH = {verify_points_portable, double_scalarmult_portable, msm_portable,
                                       verify_batch_chunk_portable};

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
  uint64_t a[4];
  for (int i = 0; i < 4; ++i) a[i] = fe_inline::load_le64(ED25519_GROUP_ORDER + 8 * i);
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
  const ed25519_paths::FieldPath* path = ed25519_paths::find_path(name);
  if (path == nullptr) return VerifyReason::equation_failed;
  *path_available = true;
  return verify_with(*path, nullptr, public_key, message, message_len, signature, !full);
}

void ge_double_scalarmult_vartime(ge_p3& r, const uint8_t a[32], const ge_p3& A, const uint8_t b[32]) {
  ed25519_paths::active_path().double_scalarmult(r, a, A, b);
}

}  // namespace ledger_core
