// The portable BLAKE3 path: the compression function in plain C++, and the lane kernel
// as one compression chain after another.
#include "blake3/blake3_impl.h"

namespace ledger_core {
namespace blake3_detail {
namespace {

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

inline void g(uint32_t v[16], int a, int b, int c, int d, uint32_t mx, uint32_t my) {
  v[a] = v[a] + v[b] + mx;
  v[d] = rotr(v[d] ^ v[a], 16);
  v[c] = v[c] + v[d];
  v[b] = rotr(v[b] ^ v[c], 12);
  v[a] = v[a] + v[b] + my;
  v[d] = rotr(v[d] ^ v[a], 8);
  v[c] = v[c] + v[d];
  v[b] = rotr(v[b] ^ v[c], 7);
}

// Runs the 7 rounds over the 16-word state v.
inline void rounds(uint32_t v[16], const uint8_t block[64]) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = load_le32(block + 4 * i);
  for (size_t r = 0; r < ROUNDS; ++r) {
    const uint8_t* s = MSG_SCHEDULE.word[r];
    g(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    g(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    g(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    g(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    g(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
}

inline void init_state(uint32_t v[16], const uint32_t cv[8], uint32_t block_len, uint64_t counter,
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

}  // namespace blake3_detail
}  // namespace ledger_core
