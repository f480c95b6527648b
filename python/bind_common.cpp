// Process-wide facts: CPU features, active SIMD paths, the thread pool.
#include "bindings.h"
#include "common/cpu.h"
#include "blake3/blake3.h"
#include "common/thread_pool.h"
#include "ed25519/verify.h"
#include "sha2/sha256.h"
#include "sha2/sha512.h"

namespace ledger_core {

void bind_common(py::module_& m) {
  m.attr("MAX_THREADS") = MAX_THREADS;
  m.def("cpu_features", [] {
    const CpuFeatures& f = cpu_features();
    py::dict d;
    d["sse41"] = f.sse41;
    d["avx2"] = f.avx2;
    d["bmi2"] = f.bmi2;
    d["adx"] = f.adx;
    d["sha_ni"] = f.sha_ni;
    d["avx512f"] = f.avx512f;
    d["avx512vl"] = f.avx512vl;
    d["portable_forced"] = f.portable_forced;
    return d;
  });
  m.def("active_paths", [] {
    py::dict d;
    d["sha256"] = sha256_active_path();
    d["sha512"] = sha512_active_path();
    d["blake3"] = blake3_active_path();
    d["ed25519"] = ed25519_active_path();
    return d;
  });
  m.def("hardware_thread_count", [] { return hardware_thread_count(); });
}

}  // namespace ledger_core
