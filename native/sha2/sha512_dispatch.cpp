// The one dispatch point for SHA-512: picks the batched path once. Single messages use
// the portable compression on every CPU (see sha512.h).
#include "common/cpu.h"
#include "sha2/sha512.h"
#include "sha2/sha512_impl.h"

namespace ledger_core {

namespace {

using ManyPartsFn = void (*)(const Sha512Parts* items, size_t count, uint8_t* out);

struct Choice {
  ManyPartsFn many_parts;
  const char* name;
};

const Choice& chosen() {
  static const Choice choice = [] {
    const CpuFeatures& f = cpu_features();
    if (f.avx2) return Choice{sha512_detail::many_parts_avx2, "avx2"};
    return Choice{sha512_many_parts_portable, "portable"};
  }();
  return choice;
}

}  // namespace

void sha512_compress_blocks(uint64_t state[8], const uint8_t* blocks, size_t block_count) {
  sha512_compress_portable(state, blocks, block_count);
}

void sha512_many_parts(const Sha512Parts* items, size_t count, uint8_t* out) {
  chosen().many_parts(items, count, out);
}

const char* sha512_active_path() { return chosen().name; }

}  // namespace ledger_core
