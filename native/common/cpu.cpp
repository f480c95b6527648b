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

// The names LEDGER_CORE_DISABLE accepts and the flags each turns off, in the order
// CpuFeatures::disabled lists them.
struct FeatureSwitch {
  const char* name;
  bool CpuFeatures::*flags[2];
};
constexpr FeatureSwitch kSwitches[] = {
    {"sse41", {&CpuFeatures::sse41, nullptr}},  {"avx2", {&CpuFeatures::avx2, nullptr}},
    {"bmi2", {&CpuFeatures::bmi2, nullptr}},    {"adx", {&CpuFeatures::adx, nullptr}},
    {"sha_ni", {&CpuFeatures::sha_ni, nullptr}}, {"avx512", {&CpuFeatures::avx512f, &CpuFeatures::avx512vl}},
};
constexpr size_t kSwitchCount = sizeof kSwitches / sizeof kSwitches[0];

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
  bool off[kSwitchCount] = {};
  if (portable_requested()) {
    f.portable_forced = true;  // nothing detected: every feature stays false
    for (bool& o : off) o = true;
  } else {
    detect_hardware(f);
  }
  for (const std::string& name : disable_list()) {
    size_t k = 0;
    while (k < kSwitchCount && name != kSwitches[k].name) ++k;
    if (k == kSwitchCount) {
      f.disable_unknown.push_back(name);
      continue;
    }
    off[k] = true;
  }
  for (size_t k = 0; k < kSwitchCount; ++k) {
    if (!off[k]) continue;
    f.disabled.push_back(kSwitches[k].name);
    for (bool CpuFeatures::*flag : kSwitches[k].flags)
      if (flag != nullptr) f.*flag = false;
  }
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static LazyValue<CpuFeatures> features;
  return features.get(detect);
}

}  // namespace ledger_core
