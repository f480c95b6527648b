#include "common/cpu.h"

#include <cpuid.h>

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "common/once.h"

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

void detect_hardware(CpuFeatures& f) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return;
  f.sse41 = (ecx >> 19) & 1;
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
  const bool ymm_enabled = (xcr0 & 0x6) == 0x6;
  const bool zmm_enabled = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return;
  f.avx2 = avx && ymm_enabled && ((ebx >> 5) & 1);
  f.bmi2 = (ebx >> 8) & 1;
  f.adx = (ebx >> 19) & 1;
  f.sha_ni = (ebx >> 29) & 1;
  f.avx512f = zmm_enabled && ((ebx >> 16) & 1);
  f.avx512vl = f.avx512f && ((ebx >> 31) & 1);
}

// Turns off the feature called `name` (one of CPU_FEATURE_NAMES); false for another name.
bool turn_off(CpuFeatures& f, const std::string& name) {
  if (name == "sse41") f.sse41 = false;
  else if (name == "avx2") f.avx2 = false;
  else if (name == "bmi2") f.bmi2 = false;
  else if (name == "adx") f.adx = false;
  else if (name == "sha_ni") f.sha_ni = false;
  else if (name == "avx512") f.avx512f = f.avx512vl = false;
  else return false;
  return true;
}

// LEDGER_CORE_DISABLE's names, lower-cased with spaces removed; empty entries dropped.
std::vector<std::string> disable_list() {
  std::vector<std::string> names;
  const char* value = std::getenv("LEDGER_CORE_DISABLE");
  if (value == nullptr) return names;
  std::string current;
  for (const char* p = value;; ++p) {
    if (*p == ',' || *p == '\0') {
      if (!current.empty()) names.push_back(current);
      current.clear();
      if (*p == '\0') break;
    } else if (!std::isspace(static_cast<unsigned char>(*p))) {
      current.push_back(char(std::tolower(static_cast<unsigned char>(*p))));
    }
  }
  return names;
}

CpuFeatures detect() {
  CpuFeatures f;
  bool off[sizeof CPU_FEATURE_NAMES / sizeof CPU_FEATURE_NAMES[0]] = {};
  if (portable_requested()) {
    f.portable_forced = true;  // nothing detected: every feature stays false
    for (bool& o : off) o = true;
  } else {
    detect_hardware(f);
  }
  for (const std::string& name : disable_list()) {
    if (!turn_off(f, name)) {
      f.disable_unknown.push_back(name);
      continue;
    }
    for (size_t i = 0; i < sizeof off / sizeof off[0]; ++i)
      if (name == CPU_FEATURE_NAMES[i]) off[i] = true;
  }
  for (size_t i = 0; i < sizeof off / sizeof off[0]; ++i)
    if (off[i]) f.disabled.push_back(CPU_FEATURE_NAMES[i]);
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static LazyValue<CpuFeatures> features;
  return features.get(detect);
}

}  // namespace ledger_core
