#include "sha2/sha256.h"

#include "sha2/md_buffer.h"
#include "sha2/sha256_impl.h"

#include <cstring>

namespace ledger_core {
namespace {

using sha2_detail::load_be32;
using sha2_detail::store_be32;
using sha256_detail::kInitial;
using sha256_detail::kRound;

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

}  // namespace

void sha256_compress_portable(uint32_t state[8], const uint8_t* blocks, size_t block_count) {
  uint32_t w[64];
  for (size_t b = 0; b < block_count; ++b, blocks += SHA256_BLOCK_LEN) {
    for (int i = 0; i < 16; ++i) w[i] = load_be32(blocks + 4 * i);
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b_ = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                          kRound[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b_) ^ (a & c) ^ (b_ & c));
      h = g; g = f; f = e; e = d + t1;
      d = c; c = b_; b_ = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b_; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
  }
}

void sha256_compress2_portable(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8],
                               const uint8_t* blocks_b, size_t block_count) {
  sha256_compress_portable(state_a, blocks_a, block_count);
  sha256_compress_portable(state_b, blocks_b, block_count);
}

void Sha256::init() {
  std::memcpy(state, kInitial, sizeof state);
  total_len = 0;
  block_len = 0;
}

void Sha256::update(const uint8_t* data, size_t len) {
  total_len += len;
  sha2_detail::md_absorb<SHA256_BLOCK_LEN>(block, block_len, data, len,
                                           [this](const uint8_t* blocks, size_t count) {
                                             sha256_compress_blocks(state, blocks, count);
                                           });
}

void Sha256::final(uint8_t out[SHA256_LEN]) {
  sha2_detail::md_finish<SHA256_BLOCK_LEN, 8>(block, block_len, total_len,
                                              [this](const uint8_t* blocks, size_t count) {
                                                sha256_compress_blocks(state, blocks, count);
                                              });
  for (int i = 0; i < 8; ++i) store_be32(out + 4 * i, state[i]);
}

void sha256(const uint8_t* data, size_t len, uint8_t out[SHA256_LEN]) {
  Sha256 ctx;
  ctx.init();
  ctx.update(data, len);
  ctx.final(out);
}

}  // namespace ledger_core
