#include "common/span.h"

namespace ledger_core {

bool items_valid(const VarItems& items, size_t* bad_index) {
  if (items.count == 0) return true;
  if (items.offsets == nullptr) {
    if (bad_index) *bad_index = 0;
    return false;
  }
  for (size_t i = 0; i < items.count; ++i) {
    if (items.offsets[i] > items.offsets[i + 1] || items.offsets[i + 1] > items.buffer_len) {
      if (bad_index) *bad_index = i;
      return false;
    }
  }
  return true;
}

}  // namespace ledger_core
