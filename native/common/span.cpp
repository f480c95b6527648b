#include "common/span.h"

namespace ledger_core {

bool items_valid(const VarItems& items, size_t* bad_index) {
  if (items.offsets == nullptr) {
    if (bad_index) *bad_index = 0;
    return items.count == 0;
  }
  // With no items the one offset must still lie inside the buffer (it is where item 0
  // would start; a caller slicing the buffer at it must not run past the end).
  if (items.count == 0) {
    if (items.offsets[0] <= items.buffer_len) return true;
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
