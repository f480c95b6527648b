#include "ed25519/keycache.h"

#include <pthread.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace ledger_core {
namespace {

constexpr size_t kShardCapacity = KEYCACHE_CAPACITY / KEYCACHE_SHARDS;

struct Key32 {
  uint8_t b[32];
  bool operator==(const Key32& o) const { return std::memcmp(b, o.b, 32) == 0; }
};

// Public keys are uniformly distributed for honest signers. Keys chosen to collide (or to
// land in one shard) can only cost time: longer probes in a shard of at most
// KEYCACHE_CAPACITY / KEYCACHE_SHARDS entries, and evictions that make other keys in that
// shard be decompressed again. A verdict never depends on the cache's state.
struct Key32Hash {
  size_t operator()(const Key32& k) const {
    uint64_t h;
    std::memcpy(&h, k.b + 8, sizeof h);
    return size_t(h * 0x9e3779b97f4a7c15ULL);
  }
};

struct Slot {
  Key32 key;
  DecodedKey value;
  bool used = false;
  bool referenced = false;
};

struct Shard {
  std::mutex mutex;
  std::unordered_map<Key32, uint32_t, Key32Hash> index;
  std::vector<Slot> slots;
  size_t hand = 0;
};

struct Cache {
  Shard shards[KEYCACHE_SHARDS];
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
};

// Built while the library loads (before any thread can call in) and never destroyed:
// workers may outlive static teardown.
Cache* const g_cache = new Cache();

Cache& cache() { return *g_cache; }

// Fork safety: a fork() while another thread holds a shard's mutex would copy that mutex
// locked into the child, whose next lookup in the shard would wait forever. So fork()
// first takes every shard's mutex (waiting for lookups in progress, which never wait for
// anything themselves), and both parent and child release them afterwards; the child's
// cache is then a consistent copy of the parent's.
void lock_all_shards() {
  for (auto& shard : g_cache->shards) shard.mutex.lock();
}

void unlock_all_shards() {
  for (auto& shard : g_cache->shards) shard.mutex.unlock();
}

[[maybe_unused]] const int g_atfork_registered = pthread_atfork(lock_all_shards, unlock_all_shards, unlock_all_shards);

Shard& shard_for(const uint8_t pk[32]) { return cache().shards[pk[0] % KEYCACHE_SHARDS]; }

}  // namespace

void key_decode(const uint8_t pk[32], DecodedKey* out) {
  out->canonical = ge_decompress_strict(out->point, pk);
  out->small_order = out->canonical && ge_is_small_order(out->point);
  if (!out->canonical) ge_identity(out->point);
}

bool keycache_get(const uint8_t pk[32], DecodedKey* out) {
  Key32 key;
  std::memcpy(key.b, pk, 32);
  Shard& shard = shard_for(pk);
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      Slot& slot = shard.slots[it->second];
      slot.referenced = true;
      *out = slot.value;
      cache().hits.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  cache().misses.fetch_add(1, std::memory_order_relaxed);
  // Decompress outside the lock; two threads missing on the same key both decompress,
  // and the second insert finds the first's entry.
  key_decode(pk, out);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.index.count(key)) return false;
  try {
    if (shard.slots.empty()) shard.slots.resize(kShardCapacity);
    for (;;) {
      Slot& slot = shard.slots[shard.hand];
      if (slot.used && slot.referenced) {
        slot.referenced = false;
        shard.hand = (shard.hand + 1) % kShardCapacity;
        continue;
      }
      if (slot.used) shard.index.erase(slot.key);
      slot.key = key;
      slot.value = *out;
      slot.used = true;
      slot.referenced = false;
      shard.index.emplace(key, uint32_t(shard.hand));
      shard.hand = (shard.hand + 1) % kShardCapacity;
      break;
    }
  } catch (const std::bad_alloc&) {
    // A cache that cannot grow is only slower: the caller already has its answer.
  }
  return false;
}

KeyCacheStats keycache_stats() {
  KeyCacheStats stats{0, KEYCACHE_CAPACITY, cache().hits.load(), cache().misses.load()};
  for (auto& shard : cache().shards) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    stats.entries += shard.index.size();
  }
  return stats;
}

void keycache_clear() {
  for (auto& shard : cache().shards) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    shard.index.clear();
    for (auto& slot : shard.slots) slot.used = slot.referenced = false;
    shard.hand = 0;
  }
  cache().hits.store(0);
  cache().misses.store(0);
}

}  // namespace ledger_core
