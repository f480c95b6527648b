// The one dispatch point for SHA-256 compression: picks the widest path once.
#include "common/cpu.h"
#include "sha2/sha256.h"

namespace ledger_core {

namespace {

using CompressFn = void (*)(uint32_t state[8], const uint8_t* blocks, size_t block_count);

struct Choice {
  CompressFn compress;
  const char* name;
};

const Choice& chosen() {
  static const Choice choice = [] {
    const CpuFeatures& f = cpu_features();
    if (f.sha_ni && f.sse41) return Choice{sha256_compress_shani, "sha_ni"};
    return Choice{sha256_compress_portable, "portable"};
  }();
  return choice;
}

}  // namespace

void sha256_compress_blocks(uint32_t state[8], const uint8_t* blocks, size_t block_count) {
  chosen().compress(state, blocks, block_count);
}

const char* sha256_active_path() { return chosen().name; }

}  // namespace ledger_core
