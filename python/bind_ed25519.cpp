// Bindings for Ed25519 verification: batch verification here, single verification in
// bind_ed25519_single.cpp.
#include "bindings.h"

namespace ledger_core {

void bind_ed25519_single(py::module_& m);

void bind_ed25519(py::module_& m) { bind_ed25519_single(m); }

}  // namespace ledger_core
