// The one dispatch point for Ed25519 verification (common/dispatch.h): the field path
// (field_paths.h) the CPU supports best, chosen once for single verification, batch
// verification and the MSM alike.
#include "common/dispatch.h"
#include "ed25519/field_paths.h"
#include "ed25519/verify.h"

namespace ledger_core {
namespace ed25519_paths {
namespace {

constexpr DispatchCandidate<const FieldPath*> kCandidates[] = {
    {"bmi2", [](const CpuFeatures& cpu) { return cpu.bmi2 && cpu.adx; }, &MULX_FIELD_PATH},
    {"portable", cpu_needs_nothing, &PORTABLE_FIELD_PATH},
};
Dispatch<const FieldPath*, 2> g_dispatch(kCandidates);

}  // namespace

const FieldPath& active_path() { return *g_dispatch.chosen().kernels; }

const FieldPath* find_path(const char* name) {
  const auto* candidate = g_dispatch.find(name);
  return candidate != nullptr ? candidate->kernels : nullptr;
}

}  // namespace ed25519_paths

const char* ed25519_active_path() { return ed25519_paths::g_dispatch.chosen().name; }

}  // namespace ledger_core
