// Bindings for the ed25519 primitives (filled in by the ed25519 work).
#include "bindings.h"

namespace ledger_core {

void bind_ed25519(py::module_& m) { (void)m; }

}  // namespace ledger_core
