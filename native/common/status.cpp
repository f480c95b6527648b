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
    case Status::internal: return "internal error (a bug in ledger_core; please report it)";
  }
  return "unknown status";
}

}  // namespace ledger_core
