// The one dispatch point for BLAKE3: picks the widest lane kernel once and caches it.
// (No AVX-512 path: the machines this runs on do not have it.)
#include "blake3/blake3.h"
#include "blake3/blake3_impl.h"
#include "common/cpu.h"

namespace ledger_core {
namespace blake3_detail {
namespace {

struct Choice {
  Kernels kernels;
  const char* name;
};

Choice choose() {
  if (cpu_features().avx2) return {{hash_lanes_avx2, hash_blocks_avx2}, "avx2"};
  return {PORTABLE_KERNELS, "portable"};
}

const Choice& chosen() {
  static const Choice choice = choose();
  return choice;
}

}  // namespace

const Kernels& active_kernels() { return chosen().kernels; }

}  // namespace blake3_detail

const char* blake3_active_path() { return blake3_detail::chosen().name; }

}  // namespace ledger_core
