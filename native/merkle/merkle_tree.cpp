#include "merkle/merkle_tree.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "common/guarded.h"
#include "common/thread_pool.h"

namespace ledger_core {
namespace {

// Leaves per append chunk: a chunk's levels (4 MiB of hashes) stay in the L3 cache.
constexpr size_t kChunkLeaves = size_t(1) << 16;
// Work smaller than this runs on the calling thread: a pool round trip costs microseconds.
constexpr size_t kMinParallelParents = 2048;
constexpr size_t kMinParallelLeaves = 512;
// Leaves hashed per batch by append_leaves before the batch is appended (32 MiB of hashes).
constexpr size_t kLeafBatch = size_t(1) << 20;
constexpr uint64_t kMaxLeaves = uint64_t(1) << 63;

// The number of levels above the leaves in a tree of n >= 1 leaves: the root's level.
unsigned top_level(uint64_t n) { return n <= 1 ? 0 : unsigned(64 - __builtin_clzll(n - 1)); }

// The nodes of the tree of n leaves (1 <= n <= stored size): complete ones come from the
// store, the partial border ones (those holding leaf n - 1) are computed bottom-up once,
// on first need, from one stored node per level.
class SizedView {
 public:
  SizedView(MerkleSuite suite, const MerkleNodeStore& store, uint64_t n)
      : suite_(suite), store_(store), n_(n), top_(top_level(n)) {}

  unsigned top() const { return top_; }

  // Hash of node (level, index); the node must intersect [0, n).
  Status node(unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN]) {
    if (level < 64 && ((index + 1) << level) <= n_) return store_.get(level, index, 1, out);
    if (index != ((n_ - 1) >> level)) return Status::internal;
    if (!border_ready_) {
      const Status s = compute_border();
      if (s != Status::ok) return s;
    }
    std::memcpy(out, border_[level], MERKLE_HASH_LEN);
    return Status::ok;
  }

 private:
  // border_[L] = the node at level L holding leaf n - 1, for L = 0 .. top.
  Status compute_border() {
    Status s = store_.get(0, n_ - 1, 1, border_[0]);
    if (s != Status::ok) return s;
    for (unsigned level = 1; level <= top_; ++level) {
      const uint64_t holder = (n_ - 1) >> level;
      const uint64_t right_child = 2 * holder + 1;
      if ((right_child << (level - 1)) >= n_) {
        // No right child: RFC 9162 promotes the lone left child unchanged.
        std::memcpy(border_[level], border_[level - 1], MERKLE_HASH_LEN);
        continue;
      }
      uint8_t left[MERKLE_HASH_LEN];
      s = store_.get(level - 1, 2 * holder, 1, left);
      if (s != Status::ok) return s;
      merkle_hash_node(suite_, left, border_[level - 1], border_[level]);
    }
    border_ready_ = true;
    return Status::ok;
  }

  MerkleSuite suite_;
  const MerkleNodeStore& store_;
  uint64_t n_;
  unsigned top_;
  bool border_ready_ = false;
  uint8_t border_[64][MERKLE_HASH_LEN];
};

// Appends to *count the siblings of the path from node (level, index) up to the root of
// the tree of n leaves.
Status sibling_path(SizedView& view, uint64_t n, unsigned level, uint64_t index, uint8_t* out,
                    size_t* count) {
  for (; level < view.top(); ++level, index >>= 1) {
    const uint64_t sibling = index ^ 1;
    if ((sibling << level) >= n) continue;
    if (*count >= MERKLE_MAX_PROOF_COUNT) return Status::internal;
    const Status s = view.node(level, sibling, out + MERKLE_HASH_LEN * *count);
    if (s != Status::ok) return s;
    ++*count;
  }
  return Status::ok;
}

// Scratch memory of one append call for stores that do not lend their memory: sized to
// the call's chunks and allocated on first need; released on every return path.
class AppendScratch {
 public:
  explicit AppendScratch(size_t chunk_leaves) : chunk_leaves_(chunk_leaves) {}
  AppendScratch(const AppendScratch&) = delete;
  AppendScratch& operator=(const AppendScratch&) = delete;
  ~AppendScratch() {
    delete[] children_;
    delete[] parents_;
  }
  // Room for the children of a chunk's largest level (2 per parent, one parent more than
  // half the chunk when the chunk starts at an odd leaf).
  uint8_t* children() { return get(children_, chunk_leaves_ + 2); }
  uint8_t* parents() { return get(parents_, chunk_leaves_ / 2 + 1); }

 private:
  static uint8_t* get(uint8_t*& buffer, size_t hashes) {
    if (buffer == nullptr) buffer = new (std::nothrow) uint8_t[hashes * MERKLE_HASH_LEN];
    return buffer;
  }
  size_t chunk_leaves_;
  uint8_t* children_ = nullptr;
  uint8_t* parents_ = nullptr;
};

}  // namespace

MerkleTree::MerkleTree(MerkleSuite suite, std::unique_ptr<MerkleNodeStore> store)
    : suite_(suite), owned_(std::move(store)), store_(owned_.get()) {}

MerkleTree::MerkleTree(MerkleSuite suite, MerkleNodeStore& store) : suite_(suite), store_(&store) {}

// Puts `count` leaf hashes after leaf `first` and every parent they complete; commits
// nothing (the caller sets the size once the whole batch is in).
static Status append_chunk_at(MerkleSuite suite, MerkleNodeStore& store, uint64_t first,
                              const uint8_t* leaf_hashes, size_t count, size_t threads,
                              AppendScratch& scratch) {
  Status s = store.put(0, first, leaf_hashes, count);
  if (s != Status::ok) return s;
  const uint64_t end = first + count;
  for (unsigned level = 1; level < 64; ++level) {
    const uint64_t lo = first >> level, hi = end >> level;
    if (hi == lo) break;  // nothing new here means nothing new above
    const size_t parent_count = size_t(hi - lo);
    const uint8_t* children = store.view(level - 1, 2 * lo, 2 * parent_count);
    if (children == nullptr) {
      uint8_t* copy = scratch.children();
      if (copy == nullptr) return Status::no_memory;
      s = store.get(level - 1, 2 * lo, 2 * parent_count, copy);
      if (s != Status::ok) return s;
      children = copy;
    }
    // Straight into the level when the store lends its memory; else via scratch and put.
    uint8_t* lent = store.lend(level, lo, parent_count);
    uint8_t* parents = lent != nullptr ? lent : scratch.parents();
    if (parents == nullptr) return Status::no_memory;
    const Status hashed = guarded([&] {
      parallel_for(parent_count, threads, kMinParallelParents, [&](size_t begin, size_t end) {
        merkle_hash_parents(suite, children + 2 * MERKLE_HASH_LEN * begin, end - begin,
                            parents + MERKLE_HASH_LEN * begin);
      });
    });
    if (hashed != Status::ok) return hashed;
    if (lent == nullptr) {
      s = store.put(level, lo, parents, parent_count);
      if (s != Status::ok) return s;
    }
  }
  return Status::ok;
}

// Appends in chunks of kChunkLeaves, one after another (large levels of a chunk may still
// be split over threads). Commits nothing.
static Status append_serial(MerkleSuite suite, MerkleNodeStore& store, uint64_t first,
                            const uint8_t* leaf_hashes, size_t count, size_t threads, AppendScratch& scratch) {
  for (size_t done = 0; done < count;) {
    const size_t n = count - done < kChunkLeaves ? count - done : kChunkLeaves;
    const Status s = append_chunk_at(suite, store, first + done, leaf_hashes + done * MERKLE_HASH_LEN, n,
                                     threads, scratch);
    if (s != Status::ok) return s;
    done += n;
  }
  return Status::ok;
}

// Appends `count` leaf hashes after leaf `first`, the whole batch split over threads with
// one synchronisation: the chunks aligned to kChunkLeaves are independent up to level
// kChunkLevels (every node there lies inside one chunk), so each is one task that copies
// its leaves and hashes its levels straight into memory lent by the store beforehand.
// The unaligned head and tail, and the few levels above, run serially. Falls back to
// append_serial when the store does not lend or the batch has no aligned chunk.
// Commits nothing.
static Status append_batch(MerkleSuite suite, MerkleNodeStore& store, uint64_t first,
                           const uint8_t* leaf_hashes, size_t count, size_t threads, AppendScratch& scratch) {
  constexpr unsigned kChunkLevels = 16;
  static_assert(kChunkLeaves == size_t(1) << kChunkLevels, "a chunk is 2^kChunkLevels leaves");
  const uint64_t end = first + count;
  const uint64_t aligned_begin = (first + kChunkLeaves - 1) / kChunkLeaves * kChunkLeaves;
  const uint64_t aligned_end = end / kChunkLeaves * kChunkLeaves;
  if (resolve_thread_count(threads) < 2 || aligned_end <= aligned_begin + kChunkLeaves) {
    return append_serial(suite, store, first, leaf_hashes, count, threads, scratch);
  }
  // Memory for every new node, lent up front: the tasks then only read and write it.
  uint8_t* level_nodes[64] = {nullptr};
  for (unsigned level = 0; level < 64; ++level) {
    const uint64_t lo = first >> level, hi = end >> level;
    if (hi == lo) break;
    level_nodes[level] = store.lend(level, lo, size_t(hi - lo));
    if (level_nodes[level] == nullptr) return append_serial(suite, store, first, leaf_hashes, count, threads, scratch);
  }
  auto node_out = [&](unsigned level, uint64_t index) {
    return level_nodes[level] + (index - (first >> level)) * MERKLE_HASH_LEN;
  };

  Status s = append_serial(suite, store, first, leaf_hashes, size_t(aligned_begin - first), 1, scratch);
  if (s != Status::ok) return s;

  const size_t chunk_count = size_t((aligned_end - aligned_begin) / kChunkLeaves);
  std::atomic<bool> failed(false);
  s = guarded([&] {
    pool_run(chunk_count, threads, [&](size_t chunk) {
      const uint64_t start = aligned_begin + chunk * kChunkLeaves;
      std::memcpy(node_out(0, start), leaf_hashes + (start - first) * MERKLE_HASH_LEN,
                  kChunkLeaves * MERKLE_HASH_LEN);
      for (unsigned level = 1; level <= kChunkLevels; ++level) {
        const uint64_t lo = start >> level;
        const size_t parent_count = kChunkLeaves >> level;
        const uint8_t* children = store.view(level - 1, 2 * lo, 2 * parent_count);
        if (children == nullptr) {
          failed.store(true, std::memory_order_relaxed);
          return;
        }
        merkle_hash_parents(suite, children, parent_count, node_out(level, lo));
      }
    });
  });
  if (s != Status::ok) return s;
  if (failed.load()) return Status::internal;

  // Above the chunks: nodes over the aligned part (and those joining it to the head).
  for (unsigned level = kChunkLevels + 1; level < 64; ++level) {
    const uint64_t lo = aligned_begin >> level, hi = aligned_end >> level;
    if (hi == lo) break;
    const uint8_t* children = store.view(level - 1, 2 * lo, size_t(2 * (hi - lo)));
    if (children == nullptr) return Status::internal;
    merkle_hash_parents(suite, children, size_t(hi - lo), node_out(level, lo));
  }
  return append_serial(suite, store, aligned_end, leaf_hashes + (aligned_end - first) * MERKLE_HASH_LEN,
                       size_t(end - aligned_end), 1, scratch);
}

Status MerkleTree::append_hashes(const uint8_t* leaf_hashes, size_t count, size_t threads) {
  if (count == 0) return Status::ok;
  const uint64_t old_size = store_->size();
  if (count > kMaxLeaves - old_size) return Status::out_of_range;
  AppendScratch scratch(count < kChunkLeaves ? count : kChunkLeaves);
  Status s = store_->reserve(old_size + count);
  if (s != Status::ok) return s;
  s = append_batch(suite_, *store_, old_size, leaf_hashes, count, threads, scratch);
  if (s != Status::ok) return s;
  return store_->set_size(old_size + count);
}

template <typename Items, typename Slice>
static Status append_items(MerkleSuite suite, MerkleNodeStore& store, const Items& items, size_t threads,
                           Slice slice) {
  if (items.count == 0) return Status::ok;
  const uint64_t old_size = store.size();
  if (items.count > kMaxLeaves - old_size) return Status::out_of_range;
  // Leaves are hashed a batch at a time (bounded memory), each batch then appended whole.
  const size_t batch_leaves = items.count < kLeafBatch ? items.count : kLeafBatch;
  std::unique_ptr<uint8_t[]> leaves(new (std::nothrow) uint8_t[batch_leaves * MERKLE_HASH_LEN]);
  if (!leaves) return Status::no_memory;
  AppendScratch scratch(items.count < kChunkLeaves ? items.count : kChunkLeaves);
  Status s = store.reserve(old_size + items.count);
  if (s != Status::ok) return s;
  for (size_t done = 0; done < items.count;) {
    const size_t n = items.count - done < batch_leaves ? items.count - done : batch_leaves;
    uint8_t* out = leaves.get();
    s = guarded([&] {
      parallel_for(n, threads, kMinParallelLeaves, [&](size_t begin, size_t end) {
        merkle_hash_leaves(suite, slice(items, done + begin, end - begin), out + MERKLE_HASH_LEN * begin);
      });
    });
    if (s != Status::ok) return s;
    s = append_batch(suite, store, old_size + done, out, n, threads, scratch);
    if (s != Status::ok) return s;
    done += n;
  }
  return store.set_size(old_size + items.count);
}

Status MerkleTree::append_leaves(const FixedItems& items, size_t threads) {
  return append_items(suite_, *store_, items, threads, [](const FixedItems& all, size_t begin, size_t n) {
    FixedItems part;
    part.data = all.data + begin * all.item_len;
    part.item_len = all.item_len;
    part.count = n;
    return part;
  });
}

Status MerkleTree::append_leaves(const VarItems& items, size_t threads) {
  return append_items(suite_, *store_, items, threads, [](const VarItems& all, size_t begin, size_t n) {
    VarItems part = all;
    part.offsets = all.offsets + begin;
    part.count = n;
    return part;
  });
}

Status MerkleTree::root(uint64_t size, uint8_t out[MERKLE_HASH_LEN]) const {
  if (size > store_->size()) return Status::out_of_range;
  if (size == 0) {
    merkle_empty_root(suite_, out);
    return Status::ok;
  }
  SizedView view(suite_, *store_, size);
  return view.node(view.top(), 0, out);
}

Status MerkleTree::leaf_hash(uint64_t index, uint8_t out[MERKLE_HASH_LEN]) const {
  if (index >= store_->size()) return Status::out_of_range;
  return store_->get(0, index, 1, out);
}

Status MerkleTree::inclusion_proof(uint64_t index, uint64_t size, uint8_t* out, size_t* count) const {
  *count = 0;
  if (size > store_->size() || index >= size) return Status::out_of_range;
  SizedView view(suite_, *store_, size);
  return sibling_path(view, size, 0, index, out, count);
}

Status MerkleTree::consistency_proof(uint64_t old_size, uint64_t new_size, uint8_t* out,
                                     size_t* count) const {
  *count = 0;
  if (old_size == 0 || old_size > new_size || new_size > store_->size()) return Status::out_of_range;
  if (old_size == new_size) return Status::ok;
  SizedView view(suite_, *store_, new_size);
  const unsigned level = unsigned(__builtin_ctzll(old_size));
  const uint64_t index = (old_size >> level) - 1;
  if (index != 0) {
    // The old tree's last complete subtree; a power-of-two old tree is that subtree, and
    // the verifier already holds it as the old root.
    const Status s = view.node(level, index, out);
    if (s != Status::ok) return s;
    *count = 1;
  }
  return sibling_path(view, new_size, level, index, out, count);
}

}  // namespace ledger_core
