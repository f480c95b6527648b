// Bindings for the merkle primitives (filled in by the merkle work).
#include "bindings.h"

namespace ledger_core {

void bind_merkle(py::module_& m) { (void)m; }

}  // namespace ledger_core
