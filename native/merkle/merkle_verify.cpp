#include "merkle/merkle_verify.h"

#include <cstring>

namespace ledger_core {
namespace {

bool is_hash(ByteSpan span) { return span.len == MERKLE_HASH_LEN && span.data != nullptr; }

// Constant-time comparison of two 32-byte hashes: roots are public, but costs nothing.
bool equal(ByteSpan a, ByteSpan b) {
  return a.len == b.len && (a.len == 0 || std::memcmp(a.data, b.data, a.len) == 0);
}

bool equal_hash(const uint8_t* a, const uint8_t* b) {
  uint8_t diff = 0;
  for (size_t i = 0; i < MERKLE_HASH_LEN; ++i) diff |= uint8_t(a[i] ^ b[i]);
  return diff == 0;
}

// The proof walk, split as transparency-dev/merkle's verifiers split it. The path from a
// leaf to the root first climbs through the levels where the leaf's subtree and the
// tree's last leaf's subtree differ ("inner": the sibling is left or right as the
// index's bit says), then along the right border of the tree, where every sibling is on
// the left (empty right subtrees are skipped, so those levels take no proof hash):
//
//   size 7, leaf 4 (e); proof = f, g, [0, 4):
//
//     root ─┬─ [0, 4)                        border: [0, 4) is a left sibling
//           └─ [4, 7) ─┬─ [4, 6) ─┬─ e
//                      │          └─ f       inner level 0: f on the right (bit 0 of 4 is 0)
//                      └─ g                  inner level 1: g on the right (bit 1 of 4 is 0)
//
// For index i in a tree of size n, inner = bit_length(i XOR (n - 1)) levels, border =
// popcount(i >> inner) hashes (here 2 and 1): a valid proof has exactly inner + border.

// seed = the hash up `count` inner levels: at level j the proof hash is the left sibling
// when bit j of index is set, else the right one.
void chain_inner(MerkleSuite suite, uint8_t seed[MERKLE_HASH_LEN], const uint8_t* proof, size_t count,
                 uint64_t index) {
  for (size_t j = 0; j < count; ++j) {
    const uint8_t* sibling = proof + j * MERKLE_HASH_LEN;
    if ((index >> j) & 1)
      merkle_hash_node(suite, sibling, seed, seed);
    else
      merkle_hash_node(suite, seed, sibling, seed);
  }
}

// The same, using only the left siblings (the old tree of a consistency proof has no
// right siblings: they were appended after it).
void chain_inner_right(MerkleSuite suite, uint8_t seed[MERKLE_HASH_LEN], const uint8_t* proof, size_t count,
                       uint64_t index) {
  for (size_t j = 0; j < count; ++j)
    if ((index >> j) & 1) merkle_hash_node(suite, proof + j * MERKLE_HASH_LEN, seed, seed);
}

// seed = the hash up the right border: every proof hash is a left sibling.
void chain_border_right(MerkleSuite suite, uint8_t seed[MERKLE_HASH_LEN], const uint8_t* proof, size_t count) {
  for (size_t j = 0; j < count; ++j) merkle_hash_node(suite, proof + j * MERKLE_HASH_LEN, seed, seed);
}

// Levels of the inner walk for leaf `index` of a tree of `size` leaves (index < size).
size_t inner_levels(uint64_t index, uint64_t size) {
  const uint64_t diff = index ^ (size - 1);
  return diff == 0 ? 0 : size_t(64 - __builtin_clzll(diff));
}

size_t border_levels(uint64_t index, size_t inner) {
  return inner >= 64 ? 0 : size_t(__builtin_popcountll(index >> inner));
}

}  // namespace

bool merkle_verify_inclusion(MerkleSuite suite, ByteSpan leaf_hash, uint64_t index, uint64_t size,
                             const uint8_t* proof, size_t proof_count, ByteSpan root) {
  if (!is_hash(leaf_hash) || !is_hash(root) || index >= size) return false;
  if (proof_count > 0 && proof == nullptr) return false;
  const size_t inner = inner_levels(index, size);
  const size_t border = border_levels(index, inner);
  if (proof_count != inner + border) return false;
  uint8_t r[MERKLE_HASH_LEN];
  std::memcpy(r, leaf_hash.data, MERKLE_HASH_LEN);
  chain_inner(suite, r, proof, inner, index);
  chain_border_right(suite, r, proof + inner * MERKLE_HASH_LEN, border);
  return equal_hash(r, root.data);
}

bool merkle_verify_consistency(MerkleSuite suite, uint64_t old_size, uint64_t new_size,
                               ByteSpan old_root, ByteSpan new_root, const uint8_t* proof,
                               size_t proof_count) {
  if (old_size == 0 || old_size > new_size || !is_hash(old_root) || !is_hash(new_root)) return false;
  if (old_size == new_size) return proof_count == 0 && equal(old_root, new_root);
  if (proof_count == 0 || proof == nullptr) return false;

  // The old tree's last leaf, old_size - 1, seen in the new tree: the proof is the tail of
  // its inclusion proof, above level `shift` where the old tree has a complete subtree.
  const unsigned shift = unsigned(__builtin_ctzll(old_size));
  size_t inner = inner_levels(old_size - 1, new_size);
  const size_t border = border_levels(old_size - 1, inner);
  inner -= shift;  // shift < inner, as old_size < new_size
  // That complete subtree's hash starts the walk: given in the proof, unless it is the
  // whole old tree (a power-of-two old_size), whose root is old_root.
  const bool old_is_subtree = old_size == uint64_t(1) << shift;
  const uint8_t* seed = old_is_subtree ? old_root.data : proof;
  const size_t start = old_is_subtree ? 0 : 1;
  if (proof_count != start + inner + border) return false;
  const uint8_t* path = proof + start * MERKLE_HASH_LEN;
  const uint64_t mask = (old_size - 1) >> shift;

  uint8_t old_hash[MERKLE_HASH_LEN], new_hash[MERKLE_HASH_LEN];
  std::memcpy(old_hash, seed, MERKLE_HASH_LEN);
  std::memcpy(new_hash, seed, MERKLE_HASH_LEN);
  chain_inner_right(suite, old_hash, path, inner, mask);
  chain_border_right(suite, old_hash, path + inner * MERKLE_HASH_LEN, border);
  chain_inner(suite, new_hash, path, inner, mask);
  chain_border_right(suite, new_hash, path + inner * MERKLE_HASH_LEN, border);
  return equal_hash(old_hash, old_root.data) && equal_hash(new_hash, new_root.data);
}

}  // namespace ledger_core
