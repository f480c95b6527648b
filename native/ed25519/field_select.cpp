// Picks the field path: the widest one the CPU supports, portable otherwise.
#include <cstring>

#include "ed25519/field_paths.h"

namespace ledger_core {
namespace ed25519_paths {

namespace {

bool mulx_supported(const CpuFeatures& cpu) { return cpu.bmi2 && cpu.adx; }

}  // namespace

const FieldPath& best_path(const CpuFeatures& cpu) {
  if (mulx_supported(cpu)) return mulx_path();
  return portable_path();
}

const FieldPath* find_path(const char* name, const CpuFeatures& cpu) {
  if (std::strcmp(name, "portable") == 0) return &portable_path();
  if (std::strcmp(name, "bmi2") == 0 && mulx_supported(cpu)) return &mulx_path();
  return nullptr;
}

}  // namespace ed25519_paths
}  // namespace ledger_core
