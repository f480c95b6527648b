// Internals shared by the BLAKE3 files: constants of the specification, the scalar
// compression function, and the lane-parallel kernel every path implements.
//
// A "lane job" hashes up to 8 independent inputs that all have the same number of
// blocks, each from its own key (chaining value) and counter. Chunks of one large input
// (16 blocks each, counters c, c+1, ...), parent nodes (one block each, counter 0) and
// whole short messages (one chunk each, ROOT on the last block) are all lane jobs, so
// one kernel per instruction set serves the whole tree:
//
//     lane 0: key ─ block 0 ─ block 1 ─ ... ─ last block ─▶ 32-byte chaining value
//     lane 1: key ─ block 0 ─ block 1 ─ ... ─ last block ─▶ ...
//     ...          (flags_start)              (flags_end, last_block_len)
//
// The last block of a lane is read from its own pointer, so a short tail can be padded
// with zeros in scratch memory without copying the rest of the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ledger_core {
namespace blake3_detail {

constexpr uint32_t IV[8] = {0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
                            0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u};

enum : uint8_t {
  CHUNK_START = 1 << 0,
  CHUNK_END = 1 << 1,
  PARENT = 1 << 2,
  ROOT = 1 << 3,
  KEYED_HASH = 1 << 4,
  DERIVE_KEY_CONTEXT = 1 << 5,
  DERIVE_KEY_MATERIAL = 1 << 6,
};

constexpr size_t ROUNDS = 7;
constexpr size_t MAX_LANES = 8;

// MSG_SCHEDULE[r][i]: which message word G reads at position i of round r. Round 0 is the
// identity; each later round applies the specification's permutation once more.
struct MessageSchedule {
  uint8_t word[ROUNDS][16];
};
constexpr MessageSchedule make_schedule() {
  constexpr uint8_t permutation[16] = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};
  MessageSchedule s{};
  for (uint8_t i = 0; i < 16; ++i) s.word[0][i] = i;
  for (size_t r = 1; r < ROUNDS; ++r)
    for (size_t i = 0; i < 16; ++i) s.word[r][i] = s.word[r - 1][permutation[i]];
  return s;
}
constexpr MessageSchedule MSG_SCHEDULE = make_schedule();

inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // x86-64 and every target we build for is little-endian
}

inline void store_le32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

inline void load_key_words(const uint8_t key[32], uint32_t words[8]) {
  for (int i = 0; i < 8; ++i) words[i] = load_le32(key + 4 * i);
}

inline void store_cv_bytes(const uint32_t cv[8], uint8_t out[32]) {
  for (int i = 0; i < 8; ++i) store_le32(out + 4 * i, cv[i]);
}

// The compression function: all 16 output words (the first 8 xor-folded as the
// specification's chaining value, the last 8 as extended output needs them).
void compress_portable(const uint32_t cv[8], const uint8_t block[64], uint32_t block_len,
                       uint64_t counter, uint8_t flags, uint32_t out[16]);

// Chaining value only: the first 8 output words, written over cv.
void compress_in_place_portable(uint32_t cv[8], const uint8_t block[64], uint32_t block_len,
                                uint64_t counter, uint8_t flags);

struct LaneJob {
  const uint8_t* input[MAX_LANES];       // blocks 0 .. block_count-2 of each lane
  const uint8_t* last_block[MAX_LANES];  // block block_count-1 (64 readable bytes)
  uint32_t last_block_len[MAX_LANES];
  uint64_t counter[MAX_LANES];
  size_t lane_count;                     // 1 .. MAX_LANES
  size_t block_count;                    // >= 1
  const uint32_t* key;                   // 8 words, the starting chaining value of every lane
  uint8_t flags;                         // on every block
  uint8_t flags_start;                   // also on block 0
  uint8_t flags_end;                     // also on the last block
};

// Writes lane_count chaining values, 32 bytes each, lane i at out[32 * i]. out must not
// overlap the inputs.
using HashLanesFn = void (*)(const LaneJob& job, uint8_t* out);

void hash_lanes_portable(const LaneJob& job, uint8_t* out);
void hash_lanes_avx2(const LaneJob& job, uint8_t* out);

// `count` one-block inputs, input i at inputs + i * stride with block_len (<= 64) bytes
// read from it, each compressed once from `key` with counter 0 and `flags`: whole short
// messages (CHUNK_START | CHUNK_END | ROOT) and parent nodes (PARENT, stride 64). Writes
// count chaining values to out (32 bytes each, contiguous, disjoint from the inputs).
// The batch-wide form of a lane job: the AVX2 kernel prepares the next 8 inputs while
// the current 8 compress.
using HashBlocksFn = void (*)(const uint8_t* inputs, size_t stride, size_t count, uint32_t block_len,
                              const uint32_t key[8], uint8_t flags, uint8_t* out);

void hash_blocks_portable(const uint8_t* inputs, size_t stride, size_t count, uint32_t block_len,
                          const uint32_t key[8], uint8_t flags, uint8_t* out);
void hash_blocks_avx2(const uint8_t* inputs, size_t stride, size_t count, uint32_t block_len,
                      const uint32_t key[8], uint8_t flags, uint8_t* out);

// One path's kernels.
struct Kernels {
  HashLanesFn hash_lanes;
  HashBlocksFn hash_blocks;
};
inline constexpr Kernels PORTABLE_KERNELS = {hash_lanes_portable, hash_blocks_portable};

// The dispatch point's choice (cached after the first call).
const Kernels& active_kernels();

}  // namespace blake3_detail
}  // namespace ledger_core
