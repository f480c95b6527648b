// The one dispatch point for SHA-256 compression: picks the widest path once.
#include "common/cpu.h"
#include "sha2/sha256.h"

namespace ledger_core {

void sha256_compress_blocks(uint32_t state[8], const uint8_t* blocks, size_t block_count) {
  sha256_compress_portable(state, blocks, block_count);
}

const char* sha256_active_path() { return "portable"; }

}  // namespace ledger_core
