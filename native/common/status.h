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
  // The store (native/store/): LMDB's codes mapped by store/lmdb_env.h.
  map_full = 7,     // the LMDB map is full and could not be grown
  not_found = 8,    // a ledger, table or key that must exist does not
  exists = 9,       // a key that must be new exists
  corrupted = 10,   // stored bytes do not parse (LMDB corruption or a bad entry)
  io_error = 11,    // the OS failed a read, write or sync
  locked = 12,      // another process holds the writer lock
  unsupported = 13, // a format version, record kind or hasher this build does not know
  read_only = 14,   // a write on a ledger opened read-only
  closed = 15,      // a closed handle, or one opened by the parent of a forked process
};

// A static, human-readable description of `status`. Never returns null.
const char* lc_strerror(Status status);

}  // namespace ledger_core
