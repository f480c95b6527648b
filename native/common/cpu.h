// CPU feature detection, done once per process.
//
// Every primitive with a SIMD path has one dispatch point (dispatch.h) that reads these
// flags the first time it runs and caches the chosen path. Two environment variables,
// read before the first call, turn features off so that every rung can be tested:
//   LEDGER_CORE_PORTABLE=1            every feature absent: every portable path;
//   LEDGER_CORE_DISABLE=avx2,sha_ni   the named features absent, the others as detected.
// LEDGER_CORE_DISABLE is a comma-separated list, case-insensitive, spaces ignored, of
// sse41, avx2, bmi2, adx, sha_ni and avx512 (avx512f and avx512vl); other names are
// ignored and listed in disable_unknown. Which path needs what: blake3 and sha512 avx2; sha256 sha_ni
// and sse41; ed25519 bmi2 and adx.
#pragma once

#include <string>
#include <vector>

namespace ledger_core {

struct CpuFeatures {
  bool sse41 = false;
  bool avx2 = false;       // includes the OS having enabled YMM state
  bool bmi2 = false;
  bool adx = false;
  bool sha_ni = false;     // SHA-256 extensions (SHA1RNDS4 / SHA256RNDS2)
  bool avx512f = false;    // includes the OS having enabled ZMM state
  bool avx512vl = false;
  bool portable_forced = false;  // LEDGER_CORE_PORTABLE was set: all of the above are false
  // Names turned off by the environment (every name under LEDGER_CORE_PORTABLE), in the
  // order listed above, and the names in LEDGER_CORE_DISABLE that are not features
  // (lower-cased, spaces removed), in the order given.
  std::vector<std::string> disabled;
  std::vector<std::string> disable_unknown;
};

// Thread-safe and fork-safe; the first call detects, later calls return the cached result.
const CpuFeatures& cpu_features();

}  // namespace ledger_core
