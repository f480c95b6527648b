// The one dispatch shape every primitive with SIMD paths uses (BLAKE3's blake3_dispatch.c
// is the model): a table of candidates, widest first and the portable path last, each a
// name, the CPU features it needs and its kernels. The first candidate the CPU supports
// (cpu_features(), so LEDGER_CORE_PORTABLE and LEDGER_CORE_DISABLE apply) is chosen on first
// use and cached for the process; each module's *_dispatch.cpp holds its table, its cache
// and its entry points together, and its kernels are declared in its internal header only.
//
//     blake3_dispatch.cpp:   { "avx2",     needs avx2,          {lanes_avx2, blocks_avx2} }
//                            { "portable", needs nothing,       {lanes_portable, ...} }
//
// Thread- and fork-safe: the cache is one atomic pointer, no lock and no static guard
// (once.h says why); racing first calls all store the same choice, a pure function of
// cpu_features(), itself fixed for the process. A Dispatch is constant-initialised.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>

#include "common/cpu.h"

namespace ledger_core {

template <class Kernels>
struct DispatchCandidate {
  const char* name;
  bool (*supported)(const CpuFeatures& cpu);
  Kernels kernels;
};

// For the portable candidate, the table's last.
constexpr bool cpu_needs_nothing(const CpuFeatures&) { return true; }

// A module's candidate table and the cached choice over it.
template <class Kernels, size_t N>
class Dispatch {
 public:
  using Candidate = DispatchCandidate<Kernels>;

  constexpr explicit Dispatch(const Candidate (&table)[N]) : table_(table) {}

  // The first candidate cpu_features() supports, chosen once.
  const Candidate& chosen() {
    const Candidate* c = choice_.load(std::memory_order_acquire);
    if (c == nullptr) {  // racers all choose the same candidate
      c = choose(cpu_features());
      choice_.store(c, std::memory_order_release);
    }
    return *c;
  }

  // The candidate called `name` if the CPU supports it, else null (tests compare paths).
  const Candidate* find(const char* name) const {
    const CpuFeatures& cpu = cpu_features();
    for (const Candidate& c : table_)
      if (std::strcmp(c.name, name) == 0) return c.supported(cpu) ? &c : nullptr;
    return nullptr;
  }

 private:
  const Candidate* choose(const CpuFeatures& cpu) const {
    for (const Candidate& c : table_)
      if (c.supported(cpu)) return &c;
    return &table_[N - 1];  // the portable candidate needs nothing
  }

  const Candidate (&table_)[N];
  std::atomic<const Candidate*> choice_{nullptr};
};

}  // namespace ledger_core
