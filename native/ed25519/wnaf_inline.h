// Signed sliding windows (width-w NAF), the one encoder of single verification
// (verify_inline.h) and the Straus MSM (msm_inline.h).
//
// A scalar becomes digits n_i, each zero or odd with |n_i| < 2^(w-1), any two non-zero
// digits at least w positions apart, and sum n_i 2^i equal to the scalar. A non-zero digit
// costs one addition of a precomputed odd multiple |n_i| P (negated when n_i < 0), so
// about 256 / (w + 1) additions per scalar. A 256-bit scalar can carry into bit 256, so
// there are WNAF_LEN = 257 digits.
#pragma once

#include <cstdint>
#include <cstring>

#include "ed25519/field_inline.h"

namespace ledger_core {
namespace wnaf_inline {

constexpr int WNAF_LEN = 257;

// Writes the width-w digits of the 256-bit number s (four little-endian limbs) into
// naf[0, WNAF_LEN) and returns one past the highest non-zero digit (0 for s = 0), the
// number of doublings a left-to-right pass needs. 2 <= w <= 8.
LC_ALWAYS_INLINE int wnaf(int8_t naf[WNAF_LEN], const uint64_t s[4], int w) {
  const uint64_t x[5] = {s[0], s[1], s[2], s[3], 0};
  std::memset(naf, 0, WNAF_LEN);
  const uint64_t width = uint64_t(1) << w;
  const uint64_t mask = width - 1;
  int bits = 0;  // bit length of s: past it (with no carry pending) every digit is zero
  for (int i = 3; i >= 0; --i) {
    if (x[i] != 0) {
      bits = 64 * i + 64 - __builtin_clzll(x[i]);
      break;
    }
  }
  uint64_t carry = 0;
  int count = 0;
  int pos = 0;
  while (pos < WNAF_LEN) {
    if (carry == 0 && pos >= bits) break;
    const int idx = pos >> 6, bit = pos & 63;
    uint64_t buf = x[idx] >> bit;
    if (bit + w > 64) buf |= x[idx + 1] << (64 - bit);  // idx < 4 here: bit 256 is the last pos
    const uint64_t window = carry + (buf & mask);
    if ((window & 1) == 0) {  // a zero digit; a pending carry moves up with it
      if (carry == 0) {
        // Skip the whole run of zero bits in this limb at once.
        const uint64_t rest = x[idx] >> bit;
        pos += rest != 0 ? __builtin_ctzll(rest) : 64 - bit;
      } else {
        pos += 1;
      }
      continue;
    }
    if (window < width / 2) {
      carry = 0;
      naf[pos] = int8_t(window);
    } else {
      carry = 1;
      naf[pos] = int8_t(int64_t(window) - int64_t(width));
    }
    count = pos + 1;
    pos += w;
  }
  return count;
}

// The same for a 32-byte little-endian scalar.
LC_ALWAYS_INLINE int wnaf(int8_t naf[WNAF_LEN], const uint8_t s[32], int w) {
  const uint64_t limbs[4] = {fe_inline::load_le64(s), fe_inline::load_le64(s + 8), fe_inline::load_le64(s + 16),
                             fe_inline::load_le64(s + 24)};
  return wnaf(naf, limbs, w);
}

}  // namespace wnaf_inline
}  // namespace ledger_core
