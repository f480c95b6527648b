// Batched SHA-512 helpers: the message cursor every batched path reads through, and the
// portable batched path (one message at a time through the incremental Sha512).
#include <cstring>

#include "sha2/sha512.h"
#include "sha2/md_buffer.h"
#include "sha2/sha512_impl.h"

namespace ledger_core {
namespace sha512_detail {

using sha2_detail::store_be64;

void MessageCursor::start(const Sha512Parts* message) {
  item = message;
  part = 0;
  offset = 0;
  total = static_cast<uint64_t>(message->len[0]) + message->len[1] + message->len[2];
  remaining = total;
  padded = false;
}

bool MessageCursor::next_block(uint8_t block[SHA512_BLOCK_LEN]) {
  size_t filled = 0;
  while (filled < SHA512_BLOCK_LEN && remaining > 0) {
    // Parts already read (or empty) are skipped; remaining > 0 guarantees a later part
    // still has bytes, so `part` stays below 3.
    while (offset == item->len[part]) {
      ++part;
      offset = 0;
    }
    size_t take = item->len[part] - offset;
    if (take > SHA512_BLOCK_LEN - filled) take = SHA512_BLOCK_LEN - filled;
    std::memcpy(block + filled, item->part[part] + offset, take);
    filled += take;
    offset += take;
    remaining -= take;
  }
  if (filled == SHA512_BLOCK_LEN) return false;
  std::memset(block + filled, 0, SHA512_BLOCK_LEN - filled);
  if (!padded) {
    block[filled++] = 0x80;
    padded = true;
  }
  if (filled > SHA512_BLOCK_LEN - 16) return false;  // the length goes in one more block
  store_be64(block + SHA512_BLOCK_LEN - 16, total >> 61);
  store_be64(block + SHA512_BLOCK_LEN - 8, total << 3);
  return true;
}

void store_digest(const uint64_t state[8], uint8_t out[SHA512_LEN]) {
  for (int i = 0; i < 8; ++i) store_be64(out + 8 * i, state[i]);
}

}  // namespace sha512_detail

void sha512_many_parts_portable(const Sha512Parts* items, size_t count, uint8_t* out) {
  for (size_t i = 0; i < count; ++i, out += SHA512_LEN) {
    Sha512 ctx;
    ctx.init();
    for (int k = 0; k < 3; ++k) ctx.update(items[i].part[k], items[i].len[k]);
    ctx.final(out);
  }
}

}  // namespace ledger_core
