// The portable BLAKE3 path: the compression function in plain C++, and the lane kernel
// as one compression chain after another.
#include "blake3/blake3_impl.h"

namespace ledger_core {
namespace blake3_detail {
namespace {

// Everything below is forced inline with constant indices so that the 16 state words
// live in registers and each round's message indices are compile-time constants.
#define LC_INLINE __attribute__((always_inline)) inline

LC_INLINE uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

LC_INLINE void g(uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d, uint32_t mx, uint32_t my) {
  a = a + b + mx;
  d = rotr(d ^ a, 16);
  c = c + d;
  b = rotr(b ^ c, 12);
  a = a + b + my;
  d = rotr(d ^ a, 8);
  c = c + d;
  b = rotr(b ^ c, 7);
}

template <size_t R>
LC_INLINE void round(uint32_t v[16], const uint32_t m[16]) {
  constexpr const uint8_t* s = MSG_SCHEDULE.word[R];
  g(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
  g(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
  g(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
  g(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
  g(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
  g(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
  g(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
  g(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
}

// Runs the 7 rounds over the 16-word state v.
LC_INLINE void rounds(uint32_t v[16], const uint8_t block[64]) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = load_le32(block + 4 * i);
  round<0>(v, m);
  round<1>(v, m);
  round<2>(v, m);
  round<3>(v, m);
  round<4>(v, m);
  round<5>(v, m);
  round<6>(v, m);
}

LC_INLINE void init_state(uint32_t v[16], const uint32_t cv[8], uint32_t block_len, uint64_t counter,
                       uint8_t flags) {
  for (int i = 0; i < 8; ++i) v[i] = cv[i];
  for (int i = 0; i < 4; ++i) v[8 + i] = IV[i];
  v[12] = static_cast<uint32_t>(counter);
  v[13] = static_cast<uint32_t>(counter >> 32);
  v[14] = block_len;
  v[15] = flags;
}

}  // namespace

void compress_portable(const uint32_t cv[8], const uint8_t block[64], uint32_t block_len,
                       uint64_t counter, uint8_t flags, uint32_t out[16]) {
  uint32_t v[16];
  init_state(v, cv, block_len, counter, flags);
  rounds(v, block);
  for (int i = 0; i < 8; ++i) {
    out[i] = v[i] ^ v[i + 8];
    out[i + 8] = v[i + 8] ^ cv[i];
  }
}

void compress_in_place_portable(uint32_t cv[8], const uint8_t block[64], uint32_t block_len,
                                uint64_t counter, uint8_t flags) {
  uint32_t v[16];
  init_state(v, cv, block_len, counter, flags);
  rounds(v, block);
  for (int i = 0; i < 8; ++i) cv[i] = v[i] ^ v[i + 8];
}

void hash_lanes_portable(const LaneJob& job, uint8_t* out) {
  for (size_t lane = 0; lane < job.lane_count; ++lane) {
    uint32_t cv[8];
    for (int i = 0; i < 8; ++i) cv[i] = job.key[i];
    const uint8_t* input = job.input[lane];
    uint8_t flags = job.flags | job.flags_start;
    for (size_t b = 0; b + 1 < job.block_count; ++b) {
      compress_in_place_portable(cv, input + b * 64, 64, job.counter[lane], flags);
      flags = job.flags;
    }
    compress_in_place_portable(cv, job.last_block[lane], job.last_block_len[lane],
                               job.counter[lane], flags | job.flags_end);
    store_cv_bytes(cv, out + 32 * lane);
  }
}

void hash_blocks_portable(const uint8_t* inputs, size_t stride, size_t count, uint32_t block_len,
                          const uint32_t key[8], uint8_t flags, uint8_t* out) {
  uint8_t padded[64] = {};
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* block = inputs + i * stride;
    if (block_len < 64) {
      std::memcpy(padded, block, block_len);
      block = padded;
    }
    uint32_t cv[8];
    for (int w = 0; w < 8; ++w) cv[w] = key[w];
    compress_in_place_portable(cv, block, block_len, 0, flags);
    store_cv_bytes(cv, out + 32 * i);
  }
}

}  // namespace blake3_detail
}  // namespace ledger_core
