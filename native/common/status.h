// Status codes returned by every fallible native function.
//
// Native code never throws across the binding boundary: it returns a Status, and
// python/errors.cpp maps each value to exactly one Python exception class under
// ledger_core.LedgerError. Add a code here, a message in status.cpp, and a row in
// python/errors.cpp together.
#pragma once

namespace ledger_core {

enum class Status : int {
  ok = 0,
  invalid_argument = 1,  // an argument has the wrong size, shape or value
  out_of_range = 2,      // an index or size lies outside what exists
  malformed = 3,         // input bytes do not parse (bad offsets, bad encoding)
  no_memory = 4,         // an allocation failed
  internal = 5,          // a broken invariant: a bug in ledger_core
  invalid_type = 6,      // an argument has the wrong type (raised by the binding layer)
};

// A static, human-readable description of `status`. Never returns null.
const char* lc_strerror(Status status);

}  // namespace ledger_core
