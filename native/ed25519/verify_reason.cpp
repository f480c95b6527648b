#include "ed25519/verify.h"

namespace ledger_core {

const char* verify_reason_name(VerifyReason reason) {
  switch (reason) {
    case VerifyReason::ok: return "OK";
    case VerifyReason::bad_length: return "BAD_LENGTH";
    case VerifyReason::non_canonical_s: return "NON_CANONICAL_S";
    case VerifyReason::non_canonical_point: return "NON_CANONICAL_POINT";
    case VerifyReason::small_order_key: return "SMALL_ORDER_KEY";
    case VerifyReason::equation_failed: return "EQUATION_FAILED";
  }
  return "UNKNOWN";
}

}  // namespace ledger_core
