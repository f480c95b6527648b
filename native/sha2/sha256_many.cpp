// One-shot SHA-256 over a chosen compression function: the batched entry points and the
// portable-forced one share it. Padding is built directly in one or two tail blocks.
#include <cstring>

#include "sha2/sha256.h"
#include "sha2/sha256_impl.h"

namespace ledger_core {
namespace {

using CompressFn = void (*)(uint32_t state[8], const uint8_t* blocks, size_t block_count);
using Compress2Fn = void (*)(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8],
                             const uint8_t* blocks_b, size_t block_count);

using sha256_detail::kInitial;

// The last len % 64 bytes of a len-byte message, padded (0x80, zeros, 64-bit big-endian
// bit length) into one or two blocks of `tail`; returns how many.
size_t padded_tail(const uint8_t* data, size_t len, uint8_t tail[2 * SHA256_BLOCK_LEN]) {
  const size_t whole = len / SHA256_BLOCK_LEN;
  const size_t rest = len - whole * SHA256_BLOCK_LEN;
  std::memset(tail, 0, 2 * SHA256_BLOCK_LEN);
  if (rest > 0) std::memcpy(tail, data + whole * SHA256_BLOCK_LEN, rest);
  tail[rest] = 0x80;
  const size_t tail_blocks = rest + 9 <= SHA256_BLOCK_LEN ? 1 : 2;
  const uint64_t bit_len = __builtin_bswap64(static_cast<uint64_t>(len) << 3);
  std::memcpy(tail + tail_blocks * SHA256_BLOCK_LEN - 8, &bit_len, 8);
  return tail_blocks;
}

void store_digest(const uint32_t state[8], uint8_t out[SHA256_LEN]) {
  for (int i = 0; i < 8; ++i) {
    const uint32_t word = __builtin_bswap32(state[i]);
    std::memcpy(out + 4 * i, &word, 4);
  }
}

void sha256_with(CompressFn compress, const uint8_t* data, size_t len, uint8_t out[SHA256_LEN]) {
  uint32_t state[8];
  std::memcpy(state, kInitial, sizeof state);
  const size_t whole = len / SHA256_BLOCK_LEN;
  if (whole > 0) compress(state, data, whole);
  uint8_t tail[2 * SHA256_BLOCK_LEN];
  compress(state, tail, padded_tail(data, len, tail));
  store_digest(state, out);
}

// Inputs two at a time (equal lengths, so equal block counts), the odd one alone.
void many_with(CompressFn compress, Compress2Fn compress2, const uint8_t* inputs, size_t input_len,
               size_t count, uint8_t* out) {
  if (count == 0) return;
  if (count == 1) {  // a lone message (a Merkle proof's node): no pair to set up
    sha256_with(compress, inputs, input_len, out);
    return;
  }
  const size_t whole = input_len / SHA256_BLOCK_LEN;
  const size_t rest = input_len - whole * SHA256_BLOCK_LEN;
  // Equal lengths: the padding is the same for every input; only the last `rest` message
  // bytes of each tail change.
  uint8_t tail_a[2 * SHA256_BLOCK_LEN], tail_b[2 * SHA256_BLOCK_LEN];
  const size_t tail_blocks = padded_tail(inputs, input_len, tail_a);
  std::memcpy(tail_b, tail_a, sizeof tail_b);
  size_t i = 0;
  for (; i + 2 <= count; i += 2) {
    const uint8_t* a = inputs + i * input_len;
    const uint8_t* b = a + input_len;
    uint32_t state_a[8], state_b[8];
    std::memcpy(state_a, kInitial, sizeof state_a);
    std::memcpy(state_b, kInitial, sizeof state_b);
    if (whole > 0) compress2(state_a, a, state_b, b, whole);
    if (rest > 0) {
      std::memcpy(tail_a, a + whole * SHA256_BLOCK_LEN, rest);
      std::memcpy(tail_b, b + whole * SHA256_BLOCK_LEN, rest);
    }
    compress2(state_a, tail_a, state_b, tail_b, tail_blocks);
    store_digest(state_a, out + i * SHA256_LEN);
    store_digest(state_b, out + (i + 1) * SHA256_LEN);
  }
  if (i < count) sha256_with(compress, inputs + i * input_len, input_len, out + i * SHA256_LEN);
}

}  // namespace

void sha256_portable(const uint8_t* data, size_t len, uint8_t out[SHA256_LEN]) {
  sha256_with(sha256_compress_portable, data, len, out);
}

void sha256_many(const uint8_t* inputs, size_t input_len, size_t count, uint8_t* out) {
  many_with(sha256_compress_blocks, sha256_compress2_blocks, inputs, input_len, count, out);
}

void sha256_many_portable(const uint8_t* inputs, size_t input_len, size_t count, uint8_t* out) {
  many_with(sha256_compress_portable, sha256_compress2_portable, inputs, input_len, count, out);
}

}  // namespace ledger_core
