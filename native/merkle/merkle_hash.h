// The two hash suites of the Merkle log: how a leaf, a parent and the empty tree hash.
//
//   suite    leaf(d)                      node(l, r)                        empty tree
//   blake3   BLAKE3-keyed(K_LEAF, d)      BLAKE3-keyed(K_NODE, l || r)      BLAKE3-keyed(K_NODE, "")
//   sha256   SHA-256(0x00 || d)           SHA-256(0x01 || l || r)           SHA-256("")
//
// K_LEAF = BLAKE3-derive_key("ledger_core 2026-11-27 merkle leaf v1", "") and
// K_NODE = BLAKE3-derive_key("ledger_core 2026-11-27 merkle node v1", ""): two keys
// instead of a prefix byte keep a parent at 64 bytes, one BLAKE3 compression, so parents
// hash eight at a time through the SIMD hash_many path. "sha256" is RFC 9162 byte for byte,
// so its proofs check with the transparency-dev tools. docs/FORMAT.md is normative.
//
// Every hash is MERKLE_HASH_LEN = 32 bytes. Inputs may be empty (data may then be null).
// Outputs must not overlap inputs unless a function says so. All functions are reentrant
// and thread-safe (the BLAKE3 keys are derived once, on first use, under a static guard).
// Both suites are always built in; merkle_suite_available() leaves room for a build
// without one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/span.h"

namespace ledger_core {

constexpr size_t MERKLE_HASH_LEN = 32;

enum class MerkleSuite : int {
  blake3 = 0,  // the default
  sha256 = 1,  // RFC 9162
};

// True when `suite` is compiled in. sha256 always is.
bool merkle_suite_available(MerkleSuite suite);

// leaf(data).
void merkle_hash_leaf(MerkleSuite suite, const uint8_t* data, size_t len, uint8_t out[MERKLE_HASH_LEN]);

// leaf(item i) into out + 32 * i for every item; out holds 32 * count bytes.
void merkle_hash_leaves(MerkleSuite suite, const FixedItems& items, uint8_t* out);
void merkle_hash_leaves(MerkleSuite suite, const VarItems& items, uint8_t* out);

// node(left, right). out may alias left or right.
void merkle_hash_node(MerkleSuite suite, const uint8_t left[MERKLE_HASH_LEN],
                      const uint8_t right[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN]);

// Parent i = node(children[64 i, 64 i + 32), children[64 i + 32, 64 i + 64)) into
// out + 32 * i, for i < parent_count: the children of consecutive parents lie side by
// side, as they do in a level of the tree, so a level hashes in one call (SIMD batches).
// out must not overlap children.
void merkle_hash_parents(MerkleSuite suite, const uint8_t* children, size_t parent_count, uint8_t* out);

// The root of the empty tree.
void merkle_empty_root(MerkleSuite suite, uint8_t out[MERKLE_HASH_LEN]);

// The two BLAKE3 keys of the blake3 suite (for the documentation and its test). False
// when the suite is not built in.
bool merkle_blake3_keys(uint8_t leaf_key[32], uint8_t node_key[32]);

// Implemented in merkle_hash_blake3.cpp; called by the suite dispatch in merkle_hash.cpp.
bool merkle_blake3_available();
void merkle_blake3_leaf(const uint8_t* data, size_t len, uint8_t out[MERKLE_HASH_LEN]);
void merkle_blake3_leaves_fixed(const FixedItems& items, uint8_t* out);
void merkle_blake3_leaves_var(const VarItems& items, uint8_t* out);
void merkle_blake3_parents(const uint8_t* children, size_t parent_count, uint8_t* out);
void merkle_blake3_empty(uint8_t out[MERKLE_HASH_LEN]);

}  // namespace ledger_core
