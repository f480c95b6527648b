// One-shot SHA-256 over a chosen compression function: the batched entry points and the
// portable-forced one share it. Padding is built directly in one or two tail blocks.
#include <cstring>

#include "sha2/sha256.h"

namespace ledger_core {
namespace {

using CompressFn = void (*)(uint32_t state[8], const uint8_t* blocks, size_t block_count);

constexpr uint32_t kInitial[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                  0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};

void sha256_with(CompressFn compress, const uint8_t* data, size_t len, uint8_t out[SHA256_LEN]) {
  uint32_t state[8];
  std::memcpy(state, kInitial, sizeof state);
  const size_t whole = len / SHA256_BLOCK_LEN;
  if (whole > 0) compress(state, data, whole);
  const size_t rest = len - whole * SHA256_BLOCK_LEN;
  uint8_t tail[2 * SHA256_BLOCK_LEN];
  std::memset(tail, 0, sizeof tail);
  if (rest > 0) std::memcpy(tail, data + whole * SHA256_BLOCK_LEN, rest);
  tail[rest] = 0x80;
  const size_t tail_blocks = rest + 9 <= SHA256_BLOCK_LEN ? 1 : 2;
  const uint64_t bit_len = __builtin_bswap64(static_cast<uint64_t>(len) << 3);
  std::memcpy(tail + tail_blocks * SHA256_BLOCK_LEN - 8, &bit_len, 8);
  compress(state, tail, tail_blocks);
  for (int i = 0; i < 8; ++i) {
    const uint32_t word = __builtin_bswap32(state[i]);
    std::memcpy(out + 4 * i, &word, 4);
  }
}

void many_with(CompressFn compress, const uint8_t* inputs, size_t input_len, size_t count,
               uint8_t* out) {
  for (size_t i = 0; i < count; ++i)
    sha256_with(compress, inputs + i * input_len, input_len, out + i * SHA256_LEN);
}

}  // namespace

void sha256_portable(const uint8_t* data, size_t len, uint8_t out[SHA256_LEN]) {
  sha256_with(sha256_compress_portable, data, len, out);
}

void sha256_many(const uint8_t* inputs, size_t input_len, size_t count, uint8_t* out) {
  many_with(sha256_compress_blocks, inputs, input_len, count, out);
}

void sha256_many_portable(const uint8_t* inputs, size_t input_len, size_t count, uint8_t* out) {
  many_with(sha256_compress_portable, inputs, input_len, count, out);
}

}  // namespace ledger_core
