// guarded(fn): runs fn and turns a C++ exception escaping it (std::bad_alloc from a
// container, std::system_error from a thread or the pool) into a status, so that nothing
// throws out of native code (common/status.h): no_memory for an allocation failure,
// internal for anything else. fn's own outcome is its business (capture a status).
#pragma once

#include <new>

#include "common/status.h"

namespace ledger_core {

template <typename Fn>
Status guarded(Fn&& fn) {
  try {
    fn();
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  } catch (...) {
    return Status::internal;
  }
  return Status::ok;
}

}  // namespace ledger_core
