// The blake3 suite over the BLAKE3 primitive of native/blake3.
#include <cstring>

#include "blake3/blake3.h"
#include "common/once.h"
#include "merkle/merkle_hash.h"

namespace ledger_core {
namespace {

constexpr char kLeafContext[] = "ledger_core 2026-11-27 merkle leaf v1";
constexpr char kNodeContext[] = "ledger_core 2026-11-27 merkle node v1";
// Fewer parents than this hash one by one (see merkle_blake3_parents).
constexpr size_t kMinBatchParents = 4;

struct SuiteKeys {
  uint8_t leaf[32];
  uint8_t node[32];
};

// Derived once per process (a LazyValue: thread- and fork-safe, common/once.h).
const SuiteKeys& suite_keys() {
  static LazyValue<SuiteKeys> keys;
  return keys.get([] {
    SuiteKeys k;
    blake3_derive_key(kLeafContext, sizeof kLeafContext - 1, nullptr, 0, k.leaf);
    blake3_derive_key(kNodeContext, sizeof kNodeContext - 1, nullptr, 0, k.node);
    return k;
  });
}

}  // namespace

bool merkle_blake3_available() { return true; }

bool merkle_blake3_keys(uint8_t leaf_key[32], uint8_t node_key[32]) {
  std::memcpy(leaf_key, suite_keys().leaf, 32);
  std::memcpy(node_key, suite_keys().node, 32);
  return true;
}

void merkle_blake3_leaf(const uint8_t* data, size_t len, uint8_t out[MERKLE_HASH_LEN]) {
  blake3_keyed_hash(suite_keys().leaf, data, len, out);
}

void merkle_blake3_leaves_fixed(const FixedItems& items, uint8_t* out) {
  if (items.count == 0) return;
  blake3_hash_many(items.data, items.item_len, items.count, suite_keys().leaf, out);
}

void merkle_blake3_leaves_var(const VarItems& items, uint8_t* out) {
  if (items.count == 0) return;
  blake3_hash_var(items, suite_keys().leaf, out);
}

void merkle_blake3_parents(const uint8_t* children, size_t parent_count, uint8_t* out) {
  if (parent_count < kMinBatchParents) {
    // A proof's parents come one at a time: filling SIMD lanes for one would cost more.
    for (size_t i = 0; i < parent_count; ++i) {
      blake3_keyed_hash(suite_keys().node, children + 2 * MERKLE_HASH_LEN * i, 2 * MERKLE_HASH_LEN,
                        out + MERKLE_HASH_LEN * i);
    }
    return;
  }
  blake3_hash_many(children, 2 * MERKLE_HASH_LEN, parent_count, suite_keys().node, out);
}

void merkle_blake3_empty(uint8_t out[MERKLE_HASH_LEN]) {
  blake3_keyed_hash(suite_keys().node, nullptr, 0, out);
}

}  // namespace ledger_core
