#include "merkle/merkle_hash.h"

#include <cstring>

#include "sha2/sha256.h"

namespace ledger_core {
namespace {

void sha256_leaf(const uint8_t* data, size_t len, uint8_t out[32]) {
  static const uint8_t kLeafPrefix = 0x00;
  Sha256 h;
  h.init();
  h.update(&kLeafPrefix, 1);
  h.update(data, len);
  h.final(out);
}

}  // namespace

bool merkle_suite_available(MerkleSuite suite) {
  return suite == MerkleSuite::sha256 || (suite == MerkleSuite::blake3 && merkle_blake3_available());
}

void merkle_hash_leaf(MerkleSuite suite, const uint8_t* data, size_t len, uint8_t out[MERKLE_HASH_LEN]) {
  if (suite == MerkleSuite::blake3) {
    merkle_blake3_leaf(data, len, out);
  } else {
    sha256_leaf(data, len, out);
  }
}

void merkle_hash_leaves(MerkleSuite suite, const FixedItems& items, uint8_t* out) {
  if (suite == MerkleSuite::blake3) {
    merkle_blake3_leaves_fixed(items, out);
    return;
  }
  for (size_t i = 0; i < items.count; ++i) sha256_leaf(items.item(i), items.item_len, out + 32 * i);
}

void merkle_hash_leaves(MerkleSuite suite, const VarItems& items, uint8_t* out) {
  if (suite == MerkleSuite::blake3) {
    merkle_blake3_leaves_var(items, out);
    return;
  }
  for (size_t i = 0; i < items.count; ++i) sha256_leaf(items.item(i), items.item_len(i), out + 32 * i);
}

void merkle_hash_node(MerkleSuite suite, const uint8_t left[MERKLE_HASH_LEN],
                      const uint8_t right[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN]) {
  uint8_t children[2 * MERKLE_HASH_LEN];
  std::memcpy(children, left, MERKLE_HASH_LEN);
  std::memcpy(children + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
  merkle_hash_parents(suite, children, 1, out);
}

void merkle_hash_parents(MerkleSuite suite, const uint8_t* children, size_t parent_count, uint8_t* out) {
  if (suite == MerkleSuite::blake3) {
    merkle_blake3_parents(children, parent_count, out);
    return;
  }
  // sha256_many hashes equal-length messages two at a time through SHA-NI (a lone one
  // with its padding precomputed); a parent's message is 0x01 || children, so the
  // children are staged behind their prefix byte.
  constexpr size_t kStaged = 128;
  constexpr size_t kMessageLen = 1 + 2 * MERKLE_HASH_LEN;
  uint8_t staged[kStaged * kMessageLen];
  for (size_t done = 0; done < parent_count; done += kStaged) {
    const size_t n = parent_count - done < kStaged ? parent_count - done : kStaged;
    for (size_t i = 0; i < n; ++i) {
      staged[i * kMessageLen] = 0x01;
      std::memcpy(staged + i * kMessageLen + 1, children + 2 * MERKLE_HASH_LEN * (done + i), 2 * MERKLE_HASH_LEN);
    }
    sha256_many(staged, kMessageLen, n, out + MERKLE_HASH_LEN * done);
  }
}

void merkle_empty_root(MerkleSuite suite, uint8_t out[MERKLE_HASH_LEN]) {
  if (suite == MerkleSuite::blake3) {
    merkle_blake3_empty(out);
  } else {
    sha256(nullptr, 0, out);
  }
}

}  // namespace ledger_core
