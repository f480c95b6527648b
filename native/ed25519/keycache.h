// A bounded, process-wide cache of decompressed Ed25519 public keys.
//
// An invoice batch repeats a few thousand sellers across millions of invoices, and a
// strict decompression (a field exponentiation) costs about as much as a tenth of a
// verification. The cache maps the 32 key bytes to what decompression found: the point,
// whether the encoding was canonical and on the curve, and whether the point has small
// order. Failures are cached too: they are as public as successes.
//
// Layout: KEYCACHE_SHARDS shards, each a mutex, a hash map from key to slot and a fixed
// array of slots replaced by the CLOCK algorithm (a hit sets the slot's reference bit;
// the hand clears bits until it finds a clear one, which it evicts). The shard is picked
// from key bytes, so threads rarely contend. Capacity is fixed at KEYCACHE_CAPACITY
// entries, about 300 bytes each with the index (some 20 MB when full, allocated per shard
// on first use).
//
// Thread-safety: every function may be called from any thread at any time. Fork-safe: a
// fork() waits for lookups in progress, and the child gets a usable copy of the cache.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ed25519/point.h"

namespace ledger_core {

constexpr size_t KEYCACHE_SHARDS = 64;
constexpr size_t KEYCACHE_CAPACITY = 64 * 1024;

struct DecodedKey {
  ge_p3 point;          // valid only when canonical
  bool canonical;       // decoded strictly (RFC 8032 §5.1.3, y < p, no x = 0 with sign 1)
  bool small_order;     // [8]A == identity (meaningful only when canonical)
};

// Fills *out for the 32-byte key pk, from the cache or by decompressing (and caching) it.
// Returns true when the answer came from the cache.
bool keycache_get(const uint8_t pk[32], DecodedKey* out);

// Decompresses pk without touching the cache (what keycache_get computes on a miss).
void key_decode(const uint8_t pk[32], DecodedKey* out);

// Entries currently cached, and lookups since the last clear: for tests and the benchmark.
struct KeyCacheStats {
  size_t entries;
  size_t capacity;
  uint64_t hits;
  uint64_t misses;
};
KeyCacheStats keycache_stats();

// Drops every entry and zeroes the counters.
void keycache_clear();

}  // namespace ledger_core
