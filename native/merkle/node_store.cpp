#include "merkle/node_store.h"

#include <cstring>
#include <new>

#include "merkle/merkle_hash.h"

namespace ledger_core {

Status MemoryNodeStore::set_size(uint64_t leaf_count) {
  const size_t level0 = levels_.empty() ? 0 : levels_[0].size() / MERKLE_HASH_LEN;
  if (leaf_count > level0) return Status::out_of_range;
  size_ = leaf_count;
  return Status::ok;
}

const uint8_t* MemoryNodeStore::view(unsigned level, uint64_t index, size_t count) const {
  if (level >= levels_.size()) return nullptr;
  const std::vector<uint8_t>& nodes = levels_[level];
  const uint64_t have = nodes.size() / MERKLE_HASH_LEN;
  if (index > have || count > have - index) return nullptr;
  return nodes.data() + index * MERKLE_HASH_LEN;
}

Status MemoryNodeStore::get(unsigned level, uint64_t index, size_t count, uint8_t* out) const {
  const uint8_t* nodes = view(level, index, count);
  if (nodes == nullptr) return Status::out_of_range;
  std::memcpy(out, nodes, count * MERKLE_HASH_LEN);
  return Status::ok;
}

Status MemoryNodeStore::put(unsigned level, uint64_t index, const uint8_t* hashes, size_t count) {
  if (level >= 64) return Status::out_of_range;
  try {
    if (level >= levels_.size()) {
      if (level > levels_.size()) return Status::out_of_range;
      levels_.emplace_back();
    }
    std::vector<uint8_t>& nodes = levels_[level];
    const uint64_t have = nodes.size() / MERKLE_HASH_LEN;
    if (index > have) return Status::out_of_range;
    const size_t end = size_t(index + count) * MERKLE_HASH_LEN;
    if (end > nodes.size()) {
      if (end > nodes.capacity()) nodes.reserve(end > 2 * nodes.capacity() ? end : 2 * nodes.capacity());
      nodes.resize(end);
    }
    std::memcpy(nodes.data() + index * MERKLE_HASH_LEN, hashes, count * MERKLE_HASH_LEN);
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  } catch (...) {
    return Status::internal;
  }
  return Status::ok;
}

Status MemoryNodeStore::reserve(uint64_t leaf_count) {
  try {
    for (unsigned level = 0; level < 64 && (leaf_count >> level) > 0; ++level) {
      if (level >= levels_.size()) levels_.emplace_back();
      const size_t want = size_t(leaf_count >> level) * MERKLE_HASH_LEN;
      if (want > levels_[level].capacity()) levels_[level].reserve(want);
    }
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  } catch (...) {
    return Status::internal;
  }
  return Status::ok;
}

size_t MemoryNodeStore::memory_bytes() const {
  size_t total = 0;
  for (const std::vector<uint8_t>& nodes : levels_) total += nodes.capacity();
  return total;
}

}  // namespace ledger_core
