#include "sha2/sha512.h"

#include <cstring>

#include "sha2/sha512_impl.h"

namespace ledger_core {
namespace {

using sha512_detail::kInitial;
using sha512_detail::kRound;

inline uint64_t rotr(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

inline void store_be64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

}  // namespace

void sha512_compress_portable(uint64_t state[8], const uint8_t* blocks, size_t block_count) {
  uint64_t w[80];
  for (size_t b = 0; b < block_count; ++b, blocks += SHA512_BLOCK_LEN) {
    for (int i = 0; i < 16; ++i) w[i] = load_be64(blocks + 8 * i);
    for (int i = 16; i < 80; ++i) {
      const uint64_t s0 = rotr(w[i - 15], 1) ^ rotr(w[i - 15], 8) ^ (w[i - 15] >> 7);
      const uint64_t s1 = rotr(w[i - 2], 19) ^ rotr(w[i - 2], 61) ^ (w[i - 2] >> 6);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint64_t a = state[0], b_ = state[1], c = state[2], d = state[3];
    uint64_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 80; ++i) {
      const uint64_t t1 = h + (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) + ((e & f) ^ (~e & g)) +
                          kRound[i] + w[i];
      const uint64_t t2 = (rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) + ((a & b_) ^ (a & c) ^ (b_ & c));
      h = g; g = f; f = e; e = d + t1;
      d = c; c = b_; b_ = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b_; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
  }
}

void Sha512::init() {
  std::memcpy(state, kInitial, sizeof state);
  total_len = 0;
  block_len = 0;
}

void Sha512::update(const uint8_t* data, size_t len) {
  if (len == 0) return;
  total_len += len;
  if (block_len > 0) {
    const size_t take = len < SHA512_BLOCK_LEN - block_len ? len : SHA512_BLOCK_LEN - block_len;
    std::memcpy(block + block_len, data, take);
    block_len += take;
    data += take;
    len -= take;
    if (block_len < SHA512_BLOCK_LEN) return;
    sha512_compress_blocks(state, block, 1);
    block_len = 0;
  }
  const size_t whole = len / SHA512_BLOCK_LEN;
  if (whole > 0) {
    sha512_compress_blocks(state, data, whole);
    data += whole * SHA512_BLOCK_LEN;
    len -= whole * SHA512_BLOCK_LEN;
  }
  if (len > 0) std::memcpy(block, data, len);
  block_len = len;
}

void Sha512::final(uint8_t out[SHA512_LEN]) {
  // Total length is a 128-bit big-endian bit count; inputs here are far below 2^61 bytes.
  const uint64_t bit_len = total_len << 3;
  const uint64_t bit_len_high = total_len >> 61;
  block[block_len++] = 0x80;
  if (block_len > SHA512_BLOCK_LEN - 16) {
    std::memset(block + block_len, 0, SHA512_BLOCK_LEN - block_len);
    sha512_compress_blocks(state, block, 1);
    block_len = 0;
  }
  std::memset(block + block_len, 0, SHA512_BLOCK_LEN - 16 - block_len);
  store_be64(block + SHA512_BLOCK_LEN - 16, bit_len_high);
  store_be64(block + SHA512_BLOCK_LEN - 8, bit_len);
  sha512_compress_blocks(state, block, 1);
  for (int i = 0; i < 8; ++i) store_be64(out + 8 * i, state[i]);
}

void sha512(const uint8_t* data, size_t len, uint8_t out[SHA512_LEN]) {
  Sha512 ctx;
  ctx.init();
  ctx.update(data, len);
  ctx.final(out);
}

}  // namespace ledger_core
