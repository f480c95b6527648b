// The one dispatch point for BLAKE3 (common/dispatch.h): the widest lane kernels the CPU
// supports, chosen once. (No AVX-512 path: the machines this runs on do not have it.)
#include "blake3/blake3.h"
#include "blake3/blake3_impl.h"
#include "common/dispatch.h"

namespace ledger_core {
namespace blake3_detail {
namespace {

constexpr DispatchCandidate<Kernels> kCandidates[] = {
    {"avx2", [](const CpuFeatures& cpu) { return cpu.avx2; }, {hash_lanes_avx2, hash_blocks_avx2}},
    {"portable", cpu_needs_nothing, PORTABLE_KERNELS},
};
Dispatch<Kernels, 2> g_dispatch(kCandidates);

}  // namespace

const Kernels& active_kernels() { return g_dispatch.chosen().kernels; }

}  // namespace blake3_detail

const char* blake3_active_path() { return blake3_detail::g_dispatch.chosen().name; }

}  // namespace ledger_core
