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
// A persistent store makes set_size() its commit point: the ledger's TileNodeStore
// (store/tile_store.h) is a view over one LMDB transaction, whose values live only until
// the transaction's next write, so it lends no memory (view() and lend() return null) and
// the tree takes the get()/put() path that CopyingNodeStore exercises in the tests.
//
// Thread-safety: none inside a store; the owner serialises writers against readers.
// No function throws; failures are statuses (common/status.h).
#pragma once

#include <cstddef>
#include <cstdint>

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
  // the next put() or lend() at level L, or null when the store cannot lend its memory
  // (the caller then uses get()). The in-memory store always lends.
  virtual const uint8_t* view(unsigned level, uint64_t index, size_t count) const {
    return nullptr;
  }

  // Zero-copy write: room for `count` hashes at (L, index) .. (L, index + count - 1), to be
  // filled by the caller before any other call on the store; they then count as put.
  // Null when the store cannot lend its memory (the caller then uses put()), or on the
  // conditions under which put() would fail. The in-memory store lends.
  virtual uint8_t* lend(unsigned level, uint64_t index, size_t count) { return nullptr; }

  // A hint that the tree is about to grow to `leaf_count` leaves. With `prefault`, the
  // memory is also touched now, so that later appends do not pay the page faults (and
  // the kernel's zeroing of fresh pages) on their latency path.
  virtual Status reserve(uint64_t leaf_count, bool prefault = false) { return Status::ok; }
};

// One level's hashes in memory: a growable buffer of anonymous memory that grows without
// copying (mremap) and is advised for transparent huge pages, so that filling it costs one
// page fault per 2 MiB instead of one per 4 KiB (the faults, not the hashing, dominated
// appends with 4 KiB pages). malloc/realloc where mremap does not exist.
class HashBuffer {
 public:
  HashBuffer() = default;
  HashBuffer(const HashBuffer&) = delete;
  HashBuffer& operator=(const HashBuffer&) = delete;
  ~HashBuffer();

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }          // bytes in use
  size_t capacity() const { return capacity_; }  // bytes mapped

  // Makes room for `bytes` in all (contents kept); with prefault, touches every page of
  // the new room. False when memory runs out.
  bool reserve(size_t bytes, bool prefault = false);
  // Sets the bytes in use, growing when needed; bytes past the old size are unspecified.
  bool resize(size_t bytes);

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Every level a flat, contiguous array of hashes: 2 hashes (64 bytes) per leaf. The
// children of consecutive parents lie side by side, so a whole level hashes in place,
// and parents are hashed straight into their level (lend()).
class MemoryNodeStore final : public MerkleNodeStore {
 public:
  uint64_t size() const override { return size_; }
  Status set_size(uint64_t leaf_count) override;
  Status get(unsigned level, uint64_t index, size_t count, uint8_t* out) const override;
  Status put(unsigned level, uint64_t index, const uint8_t* hashes, size_t count) override;
  const uint8_t* view(unsigned level, uint64_t index, size_t count) const override;
  uint8_t* lend(unsigned level, uint64_t index, size_t count) override;
  Status reserve(uint64_t leaf_count, bool prefault = false) override;

  // Bytes mapped for node hashes (for the benchmark's bytes-per-leaf figure).
  size_t memory_bytes() const;

 private:
  static constexpr unsigned kMaxLevels = 64;
  HashBuffer levels_[kMaxLevels];
  unsigned level_count_ = 0;  // levels that hold at least one node
  uint64_t size_ = 0;
};

}  // namespace ledger_core

namespace ledger_core {

// An in-memory store that never lends its memory (view() and lend() return null), so the
// tree takes the get()/put() path that stores without addressable memory (LMDB) will
// take. For tests; otherwise a MemoryNodeStore.
class CopyingNodeStore final : public MerkleNodeStore {
 public:
  uint64_t size() const override { return inner_.size(); }
  Status set_size(uint64_t leaf_count) override { return inner_.set_size(leaf_count); }
  Status get(unsigned level, uint64_t index, size_t count, uint8_t* out) const override {
    return inner_.get(level, index, count, out);
  }
  Status put(unsigned level, uint64_t index, const uint8_t* hashes, size_t count) override {
    return inner_.put(level, index, hashes, count);
  }
  Status reserve(uint64_t leaf_count, bool prefault = false) override {
    return inner_.reserve(leaf_count, prefault);
  }
  size_t memory_bytes() const { return inner_.memory_bytes(); }

 private:
  MemoryNodeStore inner_;
};

}  // namespace ledger_core
