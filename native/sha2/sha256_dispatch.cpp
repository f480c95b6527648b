// The one dispatch point for SHA-256 compression (common/dispatch.h): SHA-NI where the CPU
// has it, chosen once.
#include "common/dispatch.h"
#include "sha2/sha256.h"
#include "sha2/sha256_impl.h"

namespace ledger_core {

namespace {

struct Kernels {
  void (*compress)(uint32_t state[8], const uint8_t* blocks, size_t block_count);
  void (*compress2)(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8], const uint8_t* blocks_b,
                    size_t block_count);
};

constexpr DispatchCandidate<Kernels> kCandidates[] = {
    {"sha_ni", [](const CpuFeatures& cpu) { return cpu.sha_ni && cpu.sse41; },
     {sha256_compress_shani, sha256_compress2_shani}},
    {"portable", cpu_needs_nothing, {sha256_compress_portable, sha256_compress2_portable}},
};
Dispatch<Kernels, 2> g_dispatch(kCandidates);

}  // namespace

void sha256_compress_blocks(uint32_t state[8], const uint8_t* blocks, size_t block_count) {
  g_dispatch.chosen().kernels.compress(state, blocks, block_count);
}

void sha256_compress2_blocks(uint32_t state_a[8], const uint8_t* blocks_a, uint32_t state_b[8],
                             const uint8_t* blocks_b, size_t block_count) {
  g_dispatch.chosen().kernels.compress2(state_a, blocks_a, state_b, blocks_b, block_count);
}

const char* sha256_active_path() { return g_dispatch.chosen().name; }

}  // namespace ledger_core
