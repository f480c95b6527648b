#include "store/tile_store.h"

#include <algorithm>
#include <cstring>

namespace ledger_core {
namespace {

constexpr unsigned kMaxLevel = 63;

}  // namespace

static_assert(TILE_WIDTH == 256 && TILE_HEIGHT == 8, "tiles are 256 hashes of every 8th level");

TileCache::TileCache() : slots_(TILE_CACHE_SLOTS) {}

size_t TileCache::level_offset(size_t width, unsigned k) {
  size_t offset = 0;
  for (unsigned j = 1; j < k; ++j) offset += width >> j;
  return offset;
}

namespace {
size_t slot_of(unsigned tile_level, uint64_t tile_index) {
  return size_t((tile_index * 0x9E3779B97F4A7C15ull + tile_level) >> 40) % TileCache::TILE_CACHE_SLOTS;
}
}  // namespace

bool TileCache::get(unsigned tile_level, uint64_t tile_index, size_t width, unsigned k, uint64_t pos, uint8_t* out) {
  std::lock_guard<std::mutex> lock(mutex_);
  const Slot& slot = slots_[slot_of(tile_level, tile_index)];
  if (!slot.used || slot.tile_level != tile_level || slot.tile_index != tile_index || slot.width != width) return false;
  if (pos >= (width >> k)) return false;
  std::memcpy(out, slot.levels.data() + (level_offset(width, k) + pos) * MERKLE_HASH_LEN, MERKLE_HASH_LEN);
  return true;
}

void TileCache::put(unsigned tile_level, uint64_t tile_index, size_t width, std::vector<uint8_t> levels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Slot& slot = slots_[slot_of(tile_level, tile_index)];
  slot.used = true;
  slot.tile_level = tile_level;
  slot.tile_index = tile_index;
  slot.width = width;
  slot.levels.swap(levels);
}

TileNodeStore::TileNodeStore(MDB_txn* txn, MDB_dbi tiles, MerkleSuite suite, uint64_t committed_size, TileCache* cache)
    : txn_(txn), tiles_(tiles), suite_(suite), size_(committed_size), cache_(cache) {}

Status TileNodeStore::read_tile(unsigned tile_level, uint64_t tile_index, const uint8_t** hashes,
                                size_t* width) const {
  if (!staging_) {
    for (const RecentTile& t : recent_) {
      if (t.valid && t.tile_level == tile_level && t.tile_index == tile_index) {
        *hashes = t.hashes;
        *width = t.width;
        return Status::ok;
      }
    }
  }
  uint8_t key[9];
  tile_key(tile_level, tile_index, key);
  MDB_val k = mdb_val(key, sizeof key), v;
  const int rc = mdb_get(txn_, tiles_, &k, &v);
  if (rc != MDB_SUCCESS) {
    mdb_rc_ = rc;
    return status_of_mdb(rc);
  }
  if (v.mv_size == 0 || v.mv_size % MERKLE_HASH_LEN != 0 || v.mv_size > TILE_WIDTH * MERKLE_HASH_LEN)
    return Status::corrupted;
  *hashes = static_cast<const uint8_t*>(v.mv_data);
  *width = v.mv_size / MERKLE_HASH_LEN;
  if (!staging_) {
    RecentTile& slot = recent_[recent_next_];
    recent_next_ = (recent_next_ + 1) % 4;
    slot = RecentTile{true, tile_level, tile_index, *hashes, *width};
  }
  return Status::ok;
}

Status TileNodeStore::get(unsigned level, uint64_t index, size_t count, uint8_t* out) const {
  if (level > kMaxLevel) return Status::out_of_range;
  const Staged& st = staged_[level];
  const uint64_t st_end = st.start + st.count();
  for (size_t i = 0; i < count;) {
    const uint64_t at = index + i;
    if (st.count() > 0 && at >= st.start && at < st_end) {
      const size_t n = size_t(std::min<uint64_t>(count - i, st_end - at));
      std::memcpy(out + i * MERKLE_HASH_LEN, st.bytes.data() + (at - st.start) * MERKLE_HASH_LEN,
                  n * MERKLE_HASH_LEN);
      i += n;
      continue;
    }
    if (level % TILE_HEIGHT != 0) {
      const Status s = staging() ? computed_node(level, at, out + i * MERKLE_HASH_LEN)
                                 : cached_node(level, at, out + i * MERKLE_HASH_LEN);
      if (s != Status::ok) return s;
      ++i;
      continue;
    }
    const uint8_t* hashes = nullptr;
    size_t width = 0;
    const Status s = read_tile(level / TILE_HEIGHT, at / TILE_WIDTH, &hashes, &width);
    if (s == Status::not_found) return Status::out_of_range;
    if (s != Status::ok) return s;
    const size_t pos = size_t(at % TILE_WIDTH);
    if (pos >= width) return Status::out_of_range;
    size_t n = std::min<size_t>(count - i, width - pos);
    if (st.count() > 0 && st.start > at) n = size_t(std::min<uint64_t>(n, st.start - at));
    std::memcpy(out + i * MERKLE_HASH_LEN, hashes + pos * MERKLE_HASH_LEN, n * MERKLE_HASH_LEN);
    i += n;
  }
  return Status::ok;
}

// Node (level, index) of a level between tiles: hashed up from its 2^k base nodes.
Status TileNodeStore::computed_node(unsigned level, uint64_t index, uint8_t* out) const {
  const unsigned base = level - level % TILE_HEIGHT, k = level - base;
  const size_t leaves = size_t(1) << k;
  uint8_t a[TILE_WIDTH / 2 * MERKLE_HASH_LEN], b[TILE_WIDTH / 4 * MERKLE_HASH_LEN];
  Status s = get(base, index << k, leaves, a);
  if (s != Status::ok) return s;
  uint8_t* from = a;
  uint8_t* to = b;
  for (size_t n = leaves / 2; n >= 1; n /= 2) {
    merkle_hash_parents(suite_, from, n, to);
    std::swap(from, to);
  }
  std::memcpy(out, from, MERKLE_HASH_LEN);
  return Status::ok;
}

// As computed_node, through the shared cache of recomputed tile levels: each tile is
// hashed up once (255 parents for a full tile) and then read.
Status TileNodeStore::cached_node(unsigned level, uint64_t index, uint8_t* out) const {
  if (cache_ == nullptr) return computed_node(level, index, out);
  const unsigned base = level - level % TILE_HEIGHT, k = level - base;
  const unsigned tile_level = base / TILE_HEIGHT;
  const uint64_t tile_index = (index << k) / TILE_WIDTH;
  const uint64_t pos = index - tile_index * (TILE_WIDTH >> k);
  const uint8_t* hashes = nullptr;
  size_t width = 0;
  Status s = read_tile(tile_level, tile_index, &hashes, &width);
  if (s == Status::not_found) return Status::out_of_range;
  if (s != Status::ok) return s;
  if (cache_->get(tile_level, tile_index, width, k, pos, out)) return Status::ok;
  if (pos >= (width >> k)) return Status::out_of_range;
  std::vector<uint8_t> levels(TileCache::level_offset(width, TILE_HEIGHT) * MERKLE_HASH_LEN);
  const uint8_t* below = hashes;
  for (unsigned j = 1; j < TILE_HEIGHT; ++j) {
    const size_t count = width >> j;
    uint8_t* here = levels.data() + TileCache::level_offset(width, j) * MERKLE_HASH_LEN;
    if (count) merkle_hash_parents(suite_, below, count, here);
    below = here;
  }
  std::memcpy(out, levels.data() + (TileCache::level_offset(width, k) + pos) * MERKLE_HASH_LEN, MERKLE_HASH_LEN);
  cache_->put(tile_level, tile_index, width, std::move(levels));
  return Status::ok;
}

Status TileNodeStore::put(unsigned level, uint64_t index, const uint8_t* hashes, size_t count) {
  if (level > kMaxLevel) return Status::out_of_range;
  staging_ = true;
  for (RecentTile& t : recent_) t.valid = false;  // pointers into the map may move now
  Staged& st = staged_[level];
  if (st.count() == 0) {
    st.start = index;
  } else if (index != st.start + st.count()) {
    return Status::internal;  // the tree puts each level's nodes in order, once
  }
  try {
    st.bytes.insert(st.bytes.end(), hashes, hashes + count * MERKLE_HASH_LEN);
  } catch (...) {
    return Status::no_memory;
  }
  return Status::ok;
}

Status TileNodeStore::set_size(uint64_t leaf_count) {
  std::vector<uint8_t> prefix;
  for (unsigned level = 0; level <= kMaxLevel; level += TILE_HEIGHT) {
    const Staged& st = staged_[level];
    if (st.count() == 0) continue;
    const uint64_t first = st.start, end = st.start + st.count();
    for (uint64_t tile = first / TILE_WIDTH; tile <= (end - 1) / TILE_WIDTH; ++tile) {
      const uint64_t tile_first = tile * TILE_WIDTH;
      const uint64_t lo = std::max(first, tile_first), hi = std::min(end, tile_first + TILE_WIDTH);
      const size_t kept = size_t(lo - tile_first);  // committed hashes of a partial tile
      prefix.clear();
      if (kept > 0) {
        const uint8_t* hashes = nullptr;
        size_t width = 0;
        const Status s = read_tile(level / TILE_HEIGHT, tile, &hashes, &width);
        if (s == Status::not_found) return Status::corrupted;  // the committed tree needs it
        if (s != Status::ok) return s;
        if (width < kept) return Status::corrupted;
        prefix.assign(hashes, hashes + kept * MERKLE_HASH_LEN);  // copied: the put below may move it
      }
      uint8_t key[9];
      tile_key(level / TILE_HEIGHT, tile, key);
      MDB_val k = mdb_val(key, sizeof key);
      MDB_val v = mdb_val(nullptr, size_t(hi - tile_first) * MERKLE_HASH_LEN);
      const int rc = mdb_put(txn_, tiles_, &k, &v, MDB_RESERVE);
      if (rc != MDB_SUCCESS) {
        mdb_rc_ = rc;
        return status_of_mdb(rc);
      }
      uint8_t* dst = static_cast<uint8_t*>(v.mv_data);
      if (kept) std::memcpy(dst, prefix.data(), prefix.size());
      std::memcpy(dst + kept * MERKLE_HASH_LEN, st.bytes.data() + (lo - first) * MERKLE_HASH_LEN,
                  size_t(hi - lo) * MERKLE_HASH_LEN);
    }
  }
  size_ = leaf_count;
  return Status::ok;
}

}  // namespace ledger_core
