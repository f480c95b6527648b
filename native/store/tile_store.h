// The Merkle tree's node store inside a ledger: tiles in the `tiles` table of one LMDB
// transaction (docs/FORMAT.md "tiles", the shape of C2SP tlog-tiles).
//
//   tree level 16  ...................   tile (2, N): 256 hashes of level 16
//   levels 9..15   recomputed on demand
//   tree level 8   ...................   tile (1, N): 256 hashes of level 8
//   levels 1..7    recomputed on demand
//   tree level 0   ...................   tile (0, N): 256 leaf hashes
//
// Only every 8th level is stored, 256 hashes to an LMDB entry: n (1 + 1/256 + ...) hashes
// for n leaves, about 32.1 bytes a leaf, against 64 for every level. A node of level
// 8L + k (0 < k < 8) is the root of 2^k consecutive hashes of tile (L, .): reading it
// hashes 2^k - 1 parents. A read-only store keeps the recomputed levels of its last few
// tiles, so an inclusion proof hashes each tile on its path once (255 parents).
//
// LMDB values live only until the next write in their transaction, so the store lends no
// memory (view() and lend() stay null) and the tree takes its get()/put() path. Within a
// write transaction the nodes put by the batch are staged in memory, every level (the
// tree reads a level's children right after putting them), and set_size() writes the
// staged nodes of the stored levels as tiles: a full tile once, the partial tile of each
// level rewritten with its new width. The caller then writes size and root in the same
// transaction and commits: the commit point of the tree.
//
// Thread-safety: one store per transaction, used by one thread at a time (the
// transaction's). No function throws; an LMDB failure is a status (map_full for a full
// map, corrupted for a tile of the wrong length) and last_mdb_error() keeps its code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "merkle/merkle_hash.h"
#include "merkle/node_store.h"
#include "store/ledger_format.h"
#include "store/lmdb_env.h"

namespace ledger_core {

// The recomputed levels 1..7 of stored tiles, shared by the reads of one ledger: a tile
// with a given width never changes (tiles only grow, and a grown tile has a new width),
// so an entry keyed by (tile level, tile index, width) is never stale. Direct-mapped,
// TILE_CACHE_SLOTS entries of at most 8 KiB. Thread-safe (one mutex, held for a copy).
class TileCache {
 public:
  static constexpr size_t TILE_CACHE_SLOTS = 1024;
  TileCache();
  // Copies node `pos` of level k (1..7) of tile (tile_level, tile_index) of `width`
  // hashes; false when the tile is not cached.
  bool get(unsigned tile_level, uint64_t tile_index, size_t width, unsigned k, uint64_t pos, uint8_t* out);
  // Caches the levels of a tile: level k's nodes at offset level_offset(width, k).
  void put(unsigned tile_level, uint64_t tile_index, size_t width, std::vector<uint8_t> levels);
  // Where level k (1..7) starts in the levels of a tile of `width` hashes, in hashes.
  static size_t level_offset(size_t width, unsigned k);

 private:
  struct Slot {
    bool used = false;
    unsigned tile_level = 0;
    uint64_t tile_index = 0;
    size_t width = 0;
    std::vector<uint8_t> levels;
  };
  std::mutex mutex_;
  std::vector<Slot> slots_;
};

class TileNodeStore final : public MerkleNodeStore {
 public:
  // Over `tiles` in txn, whose committed tree has `committed_size` leaves. A read-only
  // store may share recomputed tile levels through `cache` (null: none).
  TileNodeStore(MDB_txn* txn, MDB_dbi tiles, MerkleSuite suite, uint64_t committed_size,
                TileCache* cache = nullptr);

  uint64_t size() const override { return size_; }
  Status set_size(uint64_t leaf_count) override;
  Status get(unsigned level, uint64_t index, size_t count, uint8_t* out) const override;
  Status put(unsigned level, uint64_t index, const uint8_t* hashes, size_t count) override;

  // The stored tile (tile_level, tile_index): *hashes points into the map until the next
  // write in the transaction; *width is its hash count. not_found when it is absent,
  // corrupted when its length is not 32 x 1..256.
  Status read_tile(unsigned tile_level, uint64_t tile_index, const uint8_t** hashes, size_t* width) const;

  // The LMDB code behind the last failed status (0 when none came from LMDB).
  int last_mdb_error() const { return mdb_rc_; }

 private:
  struct Staged {
    uint64_t start = 0;
    std::vector<uint8_t> bytes;
    uint64_t count() const { return bytes.size() / MERKLE_HASH_LEN; }
  };
  Status computed_node(unsigned level, uint64_t index, uint8_t* out) const;
  Status cached_node(unsigned level, uint64_t index, uint8_t* out) const;
  bool staging() const { return staging_; }

  MDB_txn* txn_;
  MDB_dbi tiles_;
  MerkleSuite suite_;
  uint64_t size_;
  bool staging_ = false;
  Staged staged_[64];
  mutable int mdb_rc_ = 0;
  TileCache* cache_;
  // The last tiles read, while nothing is put: a read transaction's values stay where they
  // are until it ends, and a proof reads most of its nodes from a few tiles.
  struct RecentTile {
    bool valid = false;
    unsigned tile_level = 0;
    uint64_t tile_index = 0;
    const uint8_t* hashes = nullptr;
    size_t width = 0;
  };
  mutable RecentTile recent_[4];
  mutable unsigned recent_next_ = 0;

};

}  // namespace ledger_core
