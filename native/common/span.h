// Non-owning views over caller memory: the binding layer pins the buffers, native
// code reads them. A view never outlives the call it is passed to.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ledger_core {

struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t len = 0;
};

// N variable-length items packed in one buffer, Arrow-style: item i is
// buffer[offsets[i], offsets[i+1]). offsets has count + 1 entries, is non-decreasing,
// and offsets[count] <= buffer_len. Check with items_valid() before use.
struct VarItems {
  const uint8_t* buffer = nullptr;
  size_t buffer_len = 0;
  const uint64_t* offsets = nullptr;
  size_t count = 0;

  const uint8_t* item(size_t i) const { return buffer + offsets[i]; }
  size_t item_len(size_t i) const { return size_t(offsets[i + 1] - offsets[i]); }
};

// N items of equal length item_len, contiguous: item i is data[i * item_len, (i+1) * item_len).
struct FixedItems {
  const uint8_t* data = nullptr;
  size_t item_len = 0;
  size_t count = 0;

  const uint8_t* item(size_t i) const { return data + i * item_len; }
};

// True when offsets are non-decreasing and stay inside the buffer (with no items, the one
// offset too). On false, *bad_index (if non-null) receives the first item whose offsets
// are wrong.
bool items_valid(const VarItems& items, size_t* bad_index);

}  // namespace ledger_core
