// Where the Merkle tree keeps its node hashes: an interface, and the in-memory store.
//
// A store holds the hash of every complete subtree exactly once, addressed by
// (level, index): node (L, i) covers leaves [i * 2^L, (i + 1) * 2^L), and level 0 holds
// the leaf hashes. A tree of n leaves has n >> L nodes at level L, about 2n hashes in
// all. Incomplete subtrees on the right edge are never stored: they are recomputed on
// demand from O(log n) stored nodes (see merkle_tree.h).
//
// The tree writes a level's new nodes in one put() per level and batch, and commits the
// new leaf count with set_size() last: nodes past the committed size may be rewritten
// (a failed append is retried over its own leftovers), nodes below it never change.
// A persistent store (LMDB, a later issue) makes set_size() its commit point.
//
// Thread-safety: none inside a store; the owner serialises writers against readers.
// No function throws; failures are statuses (common/status.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"

namespace ledger_core {

class MerkleNodeStore {
 public:
  virtual ~MerkleNodeStore() = default;

  // The committed leaf count.
  virtual uint64_t size() const = 0;

  // Commits `leaf_count` as the size. Every node of the complete subtrees of the first
  // leaf_count leaves must have been put first.
  virtual Status set_size(uint64_t leaf_count) = 0;

  // Copies `count` consecutive hashes (L, index) .. (L, index + count - 1) into out
  // (32 * count bytes). out_of_range when any of them was never put.
  virtual Status get(unsigned level, uint64_t index, size_t count, uint8_t* out) const = 0;

  // Stores `count` consecutive hashes from `hashes` at (L, index) onwards. index may not
  // exceed the number of nodes already at that level (out_of_range): levels grow without
  // gaps. hashes must not point into the store.
  virtual Status put(unsigned level, uint64_t index, const uint8_t* hashes, size_t count) = 0;

  // Zero-copy read: a pointer to `count` consecutive hashes at (L, index), valid until
  // the next put(), or null when the store cannot lend its memory (the caller then uses
  // get()). The in-memory store always lends.
  virtual const uint8_t* view(unsigned level, uint64_t index, size_t count) const {
    return nullptr;
  }

  // A hint that the tree is about to grow to `leaf_count` leaves.
  virtual Status reserve(uint64_t leaf_count) { return Status::ok; }
};

// Every level a flat, contiguous vector of hashes: 2 hashes (64 bytes) per leaf. The
// children of consecutive parents lie side by side, so a whole level hashes in place.
class MemoryNodeStore final : public MerkleNodeStore {
 public:
  uint64_t size() const override { return size_; }
  Status set_size(uint64_t leaf_count) override;
  Status get(unsigned level, uint64_t index, size_t count, uint8_t* out) const override;
  Status put(unsigned level, uint64_t index, const uint8_t* hashes, size_t count) override;
  const uint8_t* view(unsigned level, uint64_t index, size_t count) const override;
  Status reserve(uint64_t leaf_count) override;

  // Bytes held by node hashes (for the benchmark's bytes-per-leaf figure).
  size_t memory_bytes() const;

 private:
  std::vector<std::vector<uint8_t>> levels_;
  uint64_t size_ = 0;
};

}  // namespace ledger_core
