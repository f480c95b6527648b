// A process-wide value built on first use, without a lock and without a function-local
// static's guard.
//
// Why not `static const T value = make();`: the compiler guards that initialisation with a
// lock-like flag, and a fork() while another thread is inside it copies the flag "in
// progress" into the child, whose first use then waits forever. Here threads that race
// on the first use each build the value and one result is published (the others are
// freed), so a fork at any moment leaves the child either the published value or nothing
// (it builds its own). make() must be deterministic: every racer must build the same value.
//
// A LazyValue is constant-initialised (no guard of its own), so it may be a function-local
// static. The value is never destroyed: workers may use it during static teardown.
// Thread-safety: get() may be called from any thread at any time.
#pragma once

#include <atomic>

namespace ledger_core {

template <class T>
class LazyValue {
 public:
  constexpr LazyValue() = default;

  template <class Make>
  const T& get(Make&& make) {
    const T* value = value_.load(std::memory_order_acquire);
    if (value != nullptr) return *value;
    const T* fresh = new T(make());
    const T* expected = nullptr;
    if (value_.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) return *fresh;
    delete fresh;
    return *expected;
  }

 private:
  std::atomic<const T*> value_{nullptr};
};

}  // namespace ledger_core
