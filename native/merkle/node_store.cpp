#include "merkle/node_store.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "merkle/merkle_hash.h"

namespace ledger_core {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kHugePage = size_t(2) << 20;
// More hashes than this could not be addressed in bytes (and could never be allocated).
constexpr uint64_t kMaxAddressableHashes = SIZE_MAX / (4 * MERKLE_HASH_LEN);

size_t round_up(size_t bytes, size_t unit) { return (bytes + unit - 1) / unit * unit; }

}  // namespace

// --- HashBuffer ---------------------------------------------------------------------------

HashBuffer::~HashBuffer() {
  if (data_ == nullptr) return;
#if defined(__linux__)
  munmap(data_, capacity_);
#else
  std::free(data_);
#endif
}

bool HashBuffer::reserve(size_t bytes, bool prefault) {
  if (bytes <= capacity_) return true;
  const size_t old_capacity = capacity_;
  size_t want = bytes > 2 * capacity_ ? bytes : 2 * capacity_;
  want = want >= kHugePage ? round_up(want, kHugePage) : round_up(want, kPage);
#if defined(__linux__)
  void* grown = data_ == nullptr
                    ? mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                    : mremap(data_, capacity_, want, MREMAP_MAYMOVE);
  if (grown == MAP_FAILED) return false;
  if (want >= kHugePage) madvise(grown, want, MADV_HUGEPAGE);  // advice only: failure is harmless
#else
  void* grown = std::realloc(data_, want);
  if (grown == nullptr) return false;
#endif
  data_ = static_cast<uint8_t*>(grown);
  capacity_ = want;
  if (prefault) {
    // One write per page faults it in; the bytes past size_ carry no meaning yet.
    volatile uint8_t* bytes_out = data_;
    for (size_t at = old_capacity; at < capacity_; at += kPage) bytes_out[at] = 0;
  }
  return true;
}

bool HashBuffer::resize(size_t bytes) {
  if (!reserve(bytes)) return false;
  size_ = bytes;
  return true;
}

// --- MemoryNodeStore ----------------------------------------------------------------------

Status MemoryNodeStore::set_size(uint64_t leaf_count) {
  const uint64_t level0 = level_count_ == 0 ? 0 : levels_[0].size() / MERKLE_HASH_LEN;
  if (leaf_count > level0) return Status::out_of_range;
  size_ = leaf_count;
  return Status::ok;
}

const uint8_t* MemoryNodeStore::view(unsigned level, uint64_t index, size_t count) const {
  if (level >= level_count_) return nullptr;
  const uint64_t have = levels_[level].size() / MERKLE_HASH_LEN;
  if (index > have || count > have - index) return nullptr;
  return levels_[level].data() + index * MERKLE_HASH_LEN;
}

Status MemoryNodeStore::get(unsigned level, uint64_t index, size_t count, uint8_t* out) const {
  const uint8_t* nodes = view(level, index, count);
  if (nodes == nullptr) return Status::out_of_range;
  std::memcpy(out, nodes, count * MERKLE_HASH_LEN);
  return Status::ok;
}

uint8_t* MemoryNodeStore::lend(unsigned level, uint64_t index, size_t count) {
  if (level >= kMaxLevels || level > level_count_) return nullptr;
  HashBuffer& nodes = levels_[level];
  const uint64_t have = level < level_count_ ? nodes.size() / MERKLE_HASH_LEN : 0;
  if (index > have || count > kMaxAddressableHashes - index) return nullptr;
  const size_t end = size_t(index + count) * MERKLE_HASH_LEN;
  if (end > nodes.size() && !nodes.resize(end)) return nullptr;
  if (level == level_count_) level_count_ = level + 1;
  return nodes.data() + index * MERKLE_HASH_LEN;
}

Status MemoryNodeStore::put(unsigned level, uint64_t index, const uint8_t* hashes, size_t count) {
  if (level >= kMaxLevels || level > level_count_) return Status::out_of_range;
  const uint64_t have = level < level_count_ ? levels_[level].size() / MERKLE_HASH_LEN : 0;
  if (index > have) return Status::out_of_range;
  uint8_t* nodes = lend(level, index, count);
  if (nodes == nullptr) return Status::no_memory;
  std::memcpy(nodes, hashes, count * MERKLE_HASH_LEN);
  return Status::ok;
}

Status MemoryNodeStore::reserve(uint64_t leaf_count, bool prefault) {
  if (leaf_count > kMaxAddressableHashes) return Status::no_memory;
  for (unsigned level = 0; level < kMaxLevels && (leaf_count >> level) > 0; ++level) {
    if (!levels_[level].reserve(size_t(leaf_count >> level) * MERKLE_HASH_LEN, prefault)) return Status::no_memory;
  }
  return Status::ok;
}

size_t MemoryNodeStore::memory_bytes() const {
  size_t total = 0;
  for (unsigned level = 0; level < kMaxLevels; ++level) total += levels_[level].capacity();
  return total;
}

}  // namespace ledger_core
