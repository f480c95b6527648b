// What SHA-256 and SHA-512 share as Merkle-Damgard hashes: big-endian word access, the
// one-block buffer of the incremental hashers, and the final padding (0x80, zeros, the
// message length in bits, big-endian, in the last LengthLen bytes of the last block).
// Internal to native/sha2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ledger_core {
namespace sha2_detail {

inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}

inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

inline void store_be32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

inline void store_be64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// Absorbs len bytes: tops up the buffered block first, compresses whole blocks straight
// from `data`, and buffers the tail. compress(blocks, count) compresses count blocks.
template <size_t BlockLen, typename Compress>
inline void md_absorb(uint8_t* block, size_t& block_len, const uint8_t* data, size_t len,
                      Compress&& compress) {
  if (len == 0) return;
  if (block_len > 0) {
    const size_t take = len < BlockLen - block_len ? len : BlockLen - block_len;
    std::memcpy(block + block_len, data, take);
    block_len += take;
    data += take;
    len -= take;
    if (block_len < BlockLen) return;
    compress(block, 1);
    block_len = 0;
  }
  const size_t whole = len / BlockLen;
  if (whole > 0) {
    compress(data, whole);
    data += whole * BlockLen;
    len -= whole * BlockLen;
  }
  if (len > 0) std::memcpy(block, data, len);
  block_len = len;
}

// Pads the buffered tail and compresses the last one or two blocks. total_len is the
// message length in bytes (below 2^61, so the high half of SHA-512's 128-bit length is
// total_len >> 61).
template <size_t BlockLen, size_t LengthLen, typename Compress>
inline void md_finish(uint8_t* block, size_t block_len, uint64_t total_len, Compress&& compress) {
  static_assert(LengthLen == 8 || LengthLen == 16, "SHA-2 lengths are 64 or 128 bits");
  block[block_len++] = 0x80;
  if (block_len > BlockLen - LengthLen) {
    std::memset(block + block_len, 0, BlockLen - block_len);
    compress(block, 1);
    block_len = 0;
  }
  std::memset(block + block_len, 0, BlockLen - 8 - block_len);
  if (LengthLen == 16) store_be64(block + BlockLen - 16, total_len >> 61);
  store_be64(block + BlockLen - 8, total_len << 3);
  compress(block, 1);
}

}  // namespace sha2_detail
}  // namespace ledger_core
