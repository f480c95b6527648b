#include "merkle/merkle_verify.h"

#include <cstring>

namespace ledger_core {
namespace {

bool is_hash(ByteSpan span) { return span.len == MERKLE_HASH_LEN && span.data != nullptr; }

bool equal(ByteSpan a, ByteSpan b) {
  return a.len == b.len && (a.len == 0 || std::memcmp(a.data, b.data, a.len) == 0);
}

// Constant-time comparison of two 32-byte hashes: roots are public, but costs nothing.
bool equal_hash(const uint8_t* a, const uint8_t* b) {
  uint8_t diff = 0;
  for (size_t i = 0; i < MERKLE_HASH_LEN; ++i) diff |= uint8_t(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

bool merkle_verify_inclusion(MerkleSuite suite, ByteSpan leaf_hash, uint64_t index, uint64_t size,
                             const uint8_t* proof, size_t proof_count, ByteSpan root) {
  if (!is_hash(leaf_hash) || !is_hash(root) || index >= size) return false;
  if (proof_count > 0 && proof == nullptr) return false;
  uint64_t fn = index, sn = size - 1;
  uint8_t r[MERKLE_HASH_LEN];
  std::memcpy(r, leaf_hash.data, MERKLE_HASH_LEN);
  for (size_t i = 0; i < proof_count; ++i) {
    const uint8_t* p = proof + i * MERKLE_HASH_LEN;
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      merkle_hash_node(suite, p, r, r);
      if (!(fn & 1)) {
        do {
          fn >>= 1;
          sn >>= 1;
        } while (!(fn & 1) && fn != 0);
      }
    } else {
      merkle_hash_node(suite, r, p, r);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && equal_hash(r, root.data);
}

bool merkle_verify_consistency(MerkleSuite suite, uint64_t old_size, uint64_t new_size,
                               ByteSpan old_root, ByteSpan new_root, const uint8_t* proof,
                               size_t proof_count) {
  if (old_size == 0 || old_size > new_size) return false;
  if (old_size == new_size) return proof_count == 0 && equal(old_root, new_root);
  if (!is_hash(old_root) || !is_hash(new_root) || proof_count == 0 || proof == nullptr) return false;

  // A power-of-two old tree is a subtree of the new one: its root starts the path.
  const bool old_is_subtree = (old_size & (old_size - 1)) == 0;
  const uint8_t* first = old_is_subtree ? old_root.data : proof;
  const size_t rest_begin = old_is_subtree ? 0 : 1;

  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
  std::memcpy(fr, first, MERKLE_HASH_LEN);
  std::memcpy(sr, first, MERKLE_HASH_LEN);
  for (size_t i = rest_begin; i < proof_count; ++i) {
    const uint8_t* c = proof + i * MERKLE_HASH_LEN;
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      merkle_hash_node(suite, c, fr, fr);
      merkle_hash_node(suite, c, sr, sr);
      if (!(fn & 1)) {
        do {
          fn >>= 1;
          sn >>= 1;
        } while (!(fn & 1) && fn != 0);
      }
    } else {
      merkle_hash_node(suite, sr, c, sr);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && equal_hash(fr, old_root.data) && equal_hash(sr, new_root.data);
}

}  // namespace ledger_core
