#include "common/cpu.h"

#include <cpuid.h>
#include <cstdlib>
#include <cstring>

namespace ledger_core {
namespace {

bool portable_requested() {
  const char* value = std::getenv("LEDGER_CORE_PORTABLE");
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

unsigned long long read_xcr0() {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  if (portable_requested()) {
    f.portable_forced = true;
    return f;
  }
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.sse41 = (ecx >> 19) & 1;
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
  const bool ymm_enabled = (xcr0 & 0x6) == 0x6;
  const bool zmm_enabled = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  f.avx2 = avx && ymm_enabled && ((ebx >> 5) & 1);
  f.bmi2 = (ebx >> 8) & 1;
  f.adx = (ebx >> 19) & 1;
  f.sha_ni = (ebx >> 29) & 1;
  f.avx512f = zmm_enabled && ((ebx >> 16) & 1);
  f.avx512vl = f.avx512f && ((ebx >> 31) & 1);
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace ledger_core
