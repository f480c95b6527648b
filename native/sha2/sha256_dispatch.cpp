// The one dispatch point for SHA-256 compression: picks the widest path once.
#include "common/cpu.h"
#include "sha2/sha256.h"

namespace ledger_core {

namespace {

using CompressFn = void (*)(uint32_t state[8], const uint8_t* blocks, size_t block_count);
using Compress2Fn = void (*)(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8],
                             const uint8_t* blocks_b, size_t block_count);

struct Choice {
  CompressFn compress;
  Compress2Fn compress2;
  const char* name;
};

const Choice& chosen() {
  static const Choice choice = [] {
    const CpuFeatures& f = cpu_features();
    if (f.sha_ni && f.sse41) return Choice{sha256_compress_shani, sha256_compress2_shani, "sha_ni"};
    return Choice{sha256_compress_portable, sha256_compress2_portable, "portable"};
  }();
  return choice;
}

}  // namespace

void sha256_compress_blocks(uint32_t state[8], const uint8_t* blocks, size_t block_count) {
  chosen().compress(state, blocks, block_count);
}

void sha256_compress2_blocks(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8],
                             const uint8_t* blocks_b, size_t block_count) {
  chosen().compress2(state_a, blocks_a, state_b, blocks_b, block_count);
}

void sha256_compress2_portable(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8],
                               const uint8_t* blocks_b, size_t block_count) {
  sha256_compress_portable(state_a, blocks_a, block_count);
  sha256_compress_portable(state_b, blocks_b, block_count);
}

const char* sha256_active_path() { return chosen().name; }

}  // namespace ledger_core
