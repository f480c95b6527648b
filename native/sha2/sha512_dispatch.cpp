// The one dispatch point for batched SHA-512 (common/dispatch.h): four messages in AVX2
// lanes where the CPU has AVX2, chosen once. Single messages use the portable compression
// on every CPU (sha512_impl.h says why).
#include "common/dispatch.h"
#include "sha2/sha512.h"
#include "sha2/sha512_impl.h"

namespace ledger_core {

namespace {

struct Kernels {
  void (*many_parts)(const Sha512Parts* items, size_t count, uint8_t* out);
};

constexpr DispatchCandidate<Kernels> kCandidates[] = {
    {"avx2", [](const CpuFeatures& cpu) { return cpu.avx2; }, {sha512_detail::many_parts_avx2}},
    {"portable", cpu_needs_nothing, {sha512_many_parts_portable}},
};
Dispatch<Kernels, 2> g_dispatch(kCandidates);

}  // namespace

void sha512_many_parts(const Sha512Parts* items, size_t count, uint8_t* out) {
  g_dispatch.chosen().kernels.many_parts(items, count, out);
}

const char* sha512_active_path() { return g_dispatch.chosen().name; }

}  // namespace ledger_core
