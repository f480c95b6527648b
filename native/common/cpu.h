// CPU feature detection, done once per process.
//
// Every primitive with a SIMD path has one dispatch point that reads these flags the
// first time it runs and caches the chosen function. Setting LEDGER_CORE_PORTABLE=1 in
// the environment before the first call reports every feature as absent, which forces
// every portable path; the test suite runs the primitive tests both ways.
#pragma once

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
};

// Thread-safe; the first call detects, later calls return the cached result.
const CpuFeatures& cpu_features();

}  // namespace ledger_core
