// The append-only Merkle tree of the log: RFC 9162 shape, roots and proofs at any size.
//
// Shape. RFC 9162 section 2.1.1 defines the hash of n leaves recursively: split at k, the
// largest power of two smaller than n; the root is node(MTH(left k), MTH(right n - k)).
// The same tree read bottom-up: number the nodes of each level from the left, node (L, i)
// covering leaves [i 2^L, (i + 1) 2^L). A node whose range lies inside [0, n) is
// *complete*; its hash never changes once its last leaf is appended. At most one node per
// level is *partial* (it holds leaf n - 1 but not 2^L leaves): a partial node with one
// child has that child's hash (RFC 9162 never hashes a lone child), one with two
// children hashes them as usual. The root is the node of the top level.
//
//   n = 6                            (3,0)*              * partial: computed on demand
//                         ____________/  \_______
//                    (2,0)                 (2,1)*       (2,1)* has one child, so its
//                    /    \                  |          hash is (1,2)'s
//               (1,0)      (1,1)           (1,2)
//               /  \       /  \            /  \        complete nodes: stored
//           (0,0) (0,1) (0,2) (0,3)    (0,4) (0,5)      leaf hashes (level 0)
//
// Storage. Only complete nodes are stored, once each, in a MerkleNodeStore by (level,
// index): n + n/2 + n/4 + ... < 2n hashes. Appending never rewrites a stored node; it
// adds the leaf hashes to level 0 and, level by level, the parents that just became
// complete. A level's new children are contiguous, so each level of a batch is one
// merkle_hash_parents() call: SIMD, 8 parents per compression batch in the blake3 suite.
// Batches are cut into chunks of 2^16 leaves so that a chunk's levels stay in cache. A
// chunk aligned to 2^16 leaves holds every node of its lowest 16 levels, so the aligned
// chunks of a batch are independent tasks for the shared thread pool (one
// synchronisation per batch); the unaligned ends and the levels above run serially.
//
// Past sizes. The tree of any size m <= n is the same numbering truncated at m: its
// complete nodes are stored nodes, and its partial nodes are the m-1 "border" of at most
// one per level, computed bottom-up from one stored node per level. So the root at m,
// an inclusion proof (RFC 9162 2.1.3.1) and a consistency proof (2.1.4.1) each read
// O(log n) stored nodes and hash O(log n) times.
//
//   inclusion proof of leaf m in size n: for each level L below the top, the sibling of
//     the node holding m, (L, (m >> L) ^ 1), skipped when it starts at or after n;
//   consistency proof from m to n (0 < m < n): with k = ctz(m), the node (k, m/2^k - 1)
//     (omitted when m is a power of two: the verifier knows it as the old root), then
//     the same sibling path upwards from it.
//
// Thread-safety: const methods may run concurrently with each other; appends need
// exclusive access (the binding layer holds a mutex). No function throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/span.h"
#include "common/status.h"
#include "merkle/merkle_hash.h"
#include "merkle/node_store.h"

namespace ledger_core {

// The longest proof: a sibling per level (at most 64) plus the old subtree root.
constexpr size_t MERKLE_MAX_PROOF_COUNT = 65;

class MerkleTree {
 public:
  // Takes ownership of `store`, which may already hold a committed tree of this suite.
  MerkleTree(MerkleSuite suite, std::unique_ptr<MerkleNodeStore> store);
  // A view over a store the caller owns and keeps alive (and unshared) meanwhile: the
  // ledger's tree over one LMDB transaction (store/tile_store.h).
  MerkleTree(MerkleSuite suite, MerkleNodeStore& store);

  MerkleSuite suite() const { return suite_; }
  uint64_t size() const { return store_->size(); }
  const MerkleNodeStore& store() const { return *store_; }

  // Appends `count` leaves whose leaf hashes (32 bytes each, already leaf()-hashed) are
  // in leaf_hashes, and hashes every parent that becomes complete. Large levels are split
  // over `threads` threads of the shared pool (0: all cores; 1: the caller only). On
  // failure (no_memory from the store, out_of_range past 2^63 leaves) the size is
  // unchanged.
  Status append_hashes(const uint8_t* leaf_hashes, size_t count, size_t threads = 1);

  // Prepares the store for `leaf_count` leaves in all, touching the memory now (see
  // MerkleNodeStore::reserve); no_memory when it cannot. The size is unchanged.
  Status reserve(uint64_t leaf_count) { return store_->reserve(leaf_count, true); }

  // Appends the items as leaves: leaf() of each (split over threads too), then as
  // append_hashes. Same statuses.
  Status append_leaves(const FixedItems& items, size_t threads = 1);
  Status append_leaves(const VarItems& items, size_t threads = 1);

  // The root at `size` (0 <= size <= size()): the empty-tree hash at 0.
  // out_of_range when size > size().
  Status root(uint64_t size, uint8_t out[MERKLE_HASH_LEN]) const;

  // The stored hash of leaf `index`; out_of_range when index >= size().
  Status leaf_hash(uint64_t index, uint8_t out[MERKLE_HASH_LEN]) const;

  // RFC 9162 2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves, into
  // out (room for MERKLE_MAX_PROOF_COUNT hashes); *count receives the number of hashes.
  // out_of_range unless index < size <= size().
  Status inclusion_proof(uint64_t index, uint64_t size, uint8_t* out, size_t* count) const;

  // RFC 9162 2.1.4.1 consistency proof from old_size to new_size, same conventions.
  // Empty when the sizes are equal. out_of_range unless 0 < old_size <= new_size <=
  // size(): a proof from the empty tree proves nothing, and the transparency-dev
  // verifiers reject it, so it is not produced.
  Status consistency_proof(uint64_t old_size, uint64_t new_size, uint8_t* out, size_t* count) const;

 private:
  MerkleSuite suite_;
  std::unique_ptr<MerkleNodeStore> owned_;
  MerkleNodeStore* store_;
};

}  // namespace ledger_core
