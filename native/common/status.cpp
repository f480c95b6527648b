#include "common/status.h"

namespace ledger_core {

const char* lc_strerror(Status status) {
  switch (status) {
    case Status::ok: return "ok";
    case Status::invalid_argument: return "invalid argument";
    case Status::out_of_range: return "out of range";
    case Status::malformed: return "malformed input";
    case Status::no_memory: return "out of memory";
    case Status::invalid_type: return "invalid type";
    case Status::map_full: return "the LMDB map is full and could not be grown";
    case Status::not_found: return "not found";
    case Status::exists: return "already exists";
    case Status::corrupted: return "the ledger's files are corrupted";
    case Status::io_error: return "I/O error";
    case Status::locked: return "locked by another process";
    case Status::unsupported: return "unsupported format";
    case Status::read_only: return "the ledger is open read-only";
    case Status::closed: return "the ledger handle is closed";
    case Status::internal: return "internal error (a bug in ledger_core; please report it)";
  }
  return "unknown status";
}

}  // namespace ledger_core
