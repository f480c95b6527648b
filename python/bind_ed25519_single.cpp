// Bindings for single Ed25519 verification.
#include "bindings.h"

namespace ledger_core {

void bind_ed25519_single(py::module_& m) { (void)m; }

}  // namespace ledger_core
