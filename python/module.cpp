// ledger_core._native: the private compiled module. The facade in src/ledger_core
// re-exports, documents and validates what is bound here.
#include "bindings.h"

PYBIND11_MODULE(_native, m) {
  m.doc() = "ledger_core native core (private: use the ledger_core package)";
  ledger_core::register_exception_translator();
  ledger_core::bind_common(m);
  ledger_core::bind_hashing(m);
  ledger_core::bind_ed25519(m);
  ledger_core::bind_merkle(m);
  ledger_core::bind_store(m);
}
