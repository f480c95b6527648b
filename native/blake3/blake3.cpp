// BLAKE3 modes, the incremental hasher and the batched functions, written once over the
// lane kernel (blake3_impl.h) so that every path shares the tree logic.
//
// The tree. Input is cut into 1024-byte chunks; chunk chaining values are the leaves of
// a binary tree whose left subtrees are always complete and as large as possible:
//
//            root (ROOT) = parent(P01_23, chunk4)
//             |-- P01_23 = parent(P01, P23)
//             |    |-- P01 = parent(chunk0, chunk1)
//             |    `-- P23 = parent(chunk2, chunk3)
//             `-- chunk4 (the last chunk: its chaining value is computed at finalize)
//
// The hasher keeps one chaining value per set bit of the number of completed chunks
// (cv_stack, largest subtree first). A chunk (or an aligned run of 2^k chunks hashed in
// SIMD lanes as one subtree) is pushed only when more input is known to follow, so what
// is pushed is never the root; pushing merges equal-sized neighbours, like a carry in
// binary addition. finalize() folds the stack onto the last chunk and sets ROOT on the
// last compression only.
#include "blake3/blake3.h"

#include <cstring>

#include "blake3/blake3_impl.h"

namespace ledger_core {
namespace {

using namespace blake3_detail;

// Large inputs are hashed as aligned subtrees of up to this many chunks at a time.
constexpr size_t MAX_SUBTREE_CHUNKS = 64;

// One compression whose flags are not yet final: a chaining value, or the root output.
struct Output {
  uint32_t cv[8];
  uint8_t block[64];
  uint32_t block_len;
  uint64_t counter;
  uint8_t flags;

  void chaining_value(uint8_t out[32]) const {
    uint32_t words[8];
    std::memcpy(words, cv, sizeof words);
    compress_in_place_portable(words, block, block_len, counter, flags);
    store_cv_bytes(words, out);
  }

  void root_bytes(uint8_t* out, size_t out_len) const {
    uint64_t output_block = 0;
    while (out_len > 0) {
      uint32_t words[16];
      compress_portable(cv, block, block_len, output_block++, flags | ROOT, words);
      uint8_t bytes[64];
      for (int i = 0; i < 16; ++i) store_le32(bytes + 4 * i, words[i]);
      const size_t take = out_len < 64 ? out_len : 64;
      std::memcpy(out, bytes, take);
      out += take;
      out_len -= take;
    }
  }
};

Output parent_output(const uint8_t left_right[64], const uint32_t key[8], uint8_t flags) {
  Output o;
  std::memcpy(o.cv, key, sizeof o.cv);
  std::memcpy(o.block, left_right, 64);
  o.block_len = 64;
  o.counter = 0;
  o.flags = flags | PARENT;
  return o;
}

size_t chunk_len(const Blake3Hasher& h) { return size_t(h.blocks_compressed) * 64 + h.block_len; }

void start_chunk(Blake3Hasher& h, uint64_t counter) {
  std::memcpy(h.chunk_cv, h.key, sizeof h.chunk_cv);
  h.chunk_counter = counter;
  h.block_len = 0;
  h.blocks_compressed = 0;
}

void init_with(Blake3Hasher& h, const uint32_t key[8], uint8_t flags) {
  std::memcpy(h.key, key, sizeof h.key);
  h.flags = flags;
  h.cv_stack_len = 0;
  start_chunk(h, 0);
}

uint8_t chunk_start_flag(const Blake3Hasher& h) { return h.blocks_compressed == 0 ? CHUNK_START : 0; }

Output chunk_output(const Blake3Hasher& h) {
  Output o;
  std::memcpy(o.cv, h.chunk_cv, sizeof o.cv);
  std::memcpy(o.block, h.block, h.block_len);
  std::memset(o.block + h.block_len, 0, 64 - h.block_len);
  o.block_len = h.block_len;
  o.counter = h.chunk_counter;
  o.flags = h.flags | chunk_start_flag(h) | CHUNK_END;
  return o;
}

// Adds len bytes to the current chunk; the caller keeps chunk_len(h) + len <= CHUNK_LEN.
// The last block of the chunk always stays buffered: it may need CHUNK_END (and ROOT).
void chunk_update(Blake3Hasher& h, const uint8_t* data, size_t len) {
  while (len > 0) {
    if (h.block_len == 64) {
      compress_in_place_portable(h.chunk_cv, h.block, 64, h.chunk_counter, h.flags | chunk_start_flag(h));
      ++h.blocks_compressed;
      h.block_len = 0;
    }
    while (h.block_len == 0 && len > 64) {
      compress_in_place_portable(h.chunk_cv, data, 64, h.chunk_counter, h.flags | chunk_start_flag(h));
      ++h.blocks_compressed;
      data += 64;
      len -= 64;
    }
    const size_t take = len < 64u - h.block_len ? len : 64u - h.block_len;
    std::memcpy(h.block + h.block_len, data, take);
    h.block_len = static_cast<uint8_t>(h.block_len + take);
    data += take;
    len -= take;
  }
}

// Pushes the chaining value of the subtree of 2^level chunks that starts at chunk
// h.chunk_counter, merging completed neighbours; then moves the counter past it.
void push_subtree(Blake3Hasher& h, const uint8_t cv[32], unsigned level) {
  uint8_t merged[64];
  std::memcpy(merged + 32, cv, 32);
  uint64_t total = (h.chunk_counter >> level) + 1;
  while ((total & 1) == 0) {
    --h.cv_stack_len;
    std::memcpy(merged, h.cv_stack + size_t(h.cv_stack_len) * 32, 32);
    parent_output(merged, h.key, h.flags).chaining_value(merged + 32);
    total >>= 1;
  }
  std::memcpy(h.cv_stack + size_t(h.cv_stack_len) * 32, merged + 32, 32);
  ++h.cv_stack_len;
  start_chunk(h, h.chunk_counter + (uint64_t(1) << level));
}

// The chaining value of chunk_count (a power of two <= MAX_SUBTREE_CHUNKS) whole chunks
// starting at chunk index `counter`: chunks 8 at a time, then each level of parents.
void subtree_cv(const uint8_t* data, size_t chunk_count, const uint32_t key[8], uint64_t counter,
                uint8_t flags, const Kernels& kernels, uint8_t out[32]) {
  uint8_t buffer_a[MAX_SUBTREE_CHUNKS * 32], buffer_b[MAX_SUBTREE_CHUNKS * 32];
  uint8_t* cvs = buffer_a;
  uint8_t* next = buffer_b;
  LaneJob job;
  job.key = key;
  job.flags = flags;
  job.flags_start = CHUNK_START;
  job.flags_end = CHUNK_END;
  job.block_count = BLAKE3_CHUNK_LEN / 64;
  for (size_t i = 0; i < chunk_count; i += MAX_LANES) {
    job.lane_count = chunk_count - i < MAX_LANES ? chunk_count - i : MAX_LANES;
    for (size_t l = 0; l < job.lane_count; ++l) {
      job.input[l] = data + (i + l) * BLAKE3_CHUNK_LEN;
      job.last_block[l] = job.input[l] + BLAKE3_CHUNK_LEN - 64;
      job.last_block_len[l] = 64;
      job.counter[l] = counter + i + l;
    }
    kernels.hash_lanes(job, cvs + i * 32);
  }
  for (size_t n = chunk_count; n > 1; n /= 2) {
    // Parent i of this level is the 64 bytes cvs[64 i, 64 i + 64): two children.
    kernels.hash_blocks(cvs, 64, n / 2, 64, key, flags | PARENT, next);
    uint8_t* t = cvs;
    cvs = next;
    next = t;
  }
  std::memcpy(out, cvs, 32);
}

void hasher_update(Blake3Hasher& h, const uint8_t* data, size_t len, const Kernels& kernels) {
  while (len > 0) {
    if (chunk_len(h) == BLAKE3_CHUNK_LEN) {
      uint8_t cv[32];
      chunk_output(h).chaining_value(cv);
      push_subtree(h, cv, 0);
    }
    if (chunk_len(h) == 0 && len > 2 * BLAKE3_CHUNK_LEN && (h.chunk_counter & 1) == 0) {
      // Whole chunks with more input after them: hash the largest aligned subtree (of at
      // least 2 chunks: one chunk alone in the lanes would cost more than the scalar path).
      size_t chunks = 2;
      unsigned level = 1;
      while (chunks * 2 <= MAX_SUBTREE_CHUNKS && chunks * 2 * BLAKE3_CHUNK_LEN < len &&
             (h.chunk_counter & (chunks * 2 - 1)) == 0) {
        chunks *= 2;
        ++level;
      }
      uint8_t cv[32];
      subtree_cv(data, chunks, h.key, h.chunk_counter, h.flags, kernels, cv);
      push_subtree(h, cv, level);
      data += chunks * BLAKE3_CHUNK_LEN;
      len -= chunks * BLAKE3_CHUNK_LEN;
      continue;
    }
    const size_t room = BLAKE3_CHUNK_LEN - chunk_len(h);
    const size_t take = len < room ? len : room;
    chunk_update(h, data, take);
    data += take;
    len -= take;
  }
}

void key_words_or_iv(const uint8_t* key, uint32_t words[8], uint8_t* flags) {
  if (key == nullptr) {
    std::memcpy(words, IV, sizeof IV);
    *flags = 0;
  } else {
    load_key_words(key, words);
    *flags = KEYED_HASH;
  }
}

void hash_with(const uint32_t key[8], uint8_t flags, const uint8_t* data, size_t len,
               const Kernels& kernels, uint8_t out[32]) {
  if (len <= BLAKE3_CHUNK_LEN) {
    // One chunk, and it is the root: no tree, no hasher state (a proof's single
    // parent node is one compression).
    const size_t block_count = len == 0 ? 1 : (len + 63) / 64;
    uint32_t cv[8];
    std::memcpy(cv, key, sizeof cv);
    uint8_t block_flags = flags | CHUNK_START;
    for (size_t b = 0; b + 1 < block_count; ++b) {
      compress_in_place_portable(cv, data + b * 64, 64, 0, block_flags);
      block_flags = flags;
    }
    const size_t tail_len = len - (block_count - 1) * 64;
    uint8_t last[64] = {};
    if (tail_len > 0) std::memcpy(last, data + (block_count - 1) * 64, tail_len);
    compress_in_place_portable(cv, last, static_cast<uint32_t>(tail_len), 0, block_flags | CHUNK_END | ROOT);
    store_cv_bytes(cv, out);
    return;
  }
  Blake3Hasher h;
  init_with(h, key, flags);
  hasher_update(h, data, len, kernels);
  h.finalize(out, BLAKE3_OUT_LEN);
}

// Many independent messages, their chunks scheduled into SIMD lanes.
//
// Each chunk waits in a group with the chunks that have its block count and its kind --
// the only chunk of its message (CHUNK_END | ROOT: its chaining value is the digest) or
// one chunk of a longer message (its chaining value a leaf of that message's tree) --
// and a group runs as one lane job when it has a lane for every lane of the kernel.
// Messages of 2 .. MAX_WINDOWED_CHUNKS chunks gather their chunk chaining values in a window;
// when the window is full (or at the end) every waiting chunk is hashed and each of
// those messages' trees is folded to its root. Longer messages have enough chunks to
// fill the lanes on their own and go through the hasher's subtrees one by one.
class ChunkScheduler {
 public:
  ChunkScheduler(const uint32_t key[8], uint8_t flags, const Kernels& kernels)
      : key_(key), flags_(flags), kernels_(kernels) {}

  // Schedules message `data`/`len`; its 32-byte digest is written to `out` by the time
  // finish() returns (possibly earlier).
  void add(const uint8_t* data, size_t len, uint8_t* out) {
    const size_t chunk_count = len == 0 ? 1 : (len + BLAKE3_CHUNK_LEN - 1) / BLAKE3_CHUNK_LEN;
    if (chunk_count == 1) {
      enqueue(ROOT_KIND, data, len, 0, out);
      return;
    }
    if (chunk_count > MAX_WINDOWED_CHUNKS) {
      hash_with(key_, flags_, data, len, kernels_, out);
      return;
    }
    if (window_used_ + chunk_count > WINDOW_CHUNKS) flush_window();
    Message& m = window_messages_[window_message_count_++];
    m.first_cv = window_used_;
    m.chunk_count = chunk_count;
    m.out = out;
    for (size_t c = 0; c < chunk_count; ++c) {
      const size_t offset = c * BLAKE3_CHUNK_LEN;
      const size_t chunk_len = len - offset < BLAKE3_CHUNK_LEN ? len - offset : BLAKE3_CHUNK_LEN;
      enqueue(LEAF_KIND, data + offset, chunk_len, c, window_cvs_ + (window_used_ + c) * 32);
    }
    window_used_ += chunk_count;
  }

  void finish() {
    for (size_t group = 0; group < GROUPS; ++group)
      if (pending_count_[ROOT_KIND][group] > 0) run_group(ROOT_KIND, group);
    flush_window();
  }

 private:
  static constexpr size_t GROUPS = BLAKE3_CHUNK_LEN / 64;  // by block count, 1 .. 16
  static constexpr size_t WINDOW_CHUNKS = 64;
  // Longer messages fill the lanes alone (subtrees of 8+ chunks) and fold their parents
  // in lanes too; folding a windowed message's parents is scalar.
  static constexpr size_t MAX_WINDOWED_CHUNKS = 8;
  static constexpr int ROOT_KIND = 0, LEAF_KIND = 1;

  struct Chunk {
    const uint8_t* data;
    size_t len;
    uint64_t counter;
    uint8_t* out;
  };
  struct Message {
    size_t first_cv;
    size_t chunk_count;
    uint8_t* out;
  };

  void enqueue(int kind, const uint8_t* data, size_t len, uint64_t counter, uint8_t* out) {
    if (len > BLAKE3_CHUNK_LEN) __builtin_unreachable();  // a chunk; tells GCC group < GROUPS
    const size_t group = len == 0 ? 0 : (len - 1) / 64;
    pending_[kind][group][pending_count_[kind][group]++] = Chunk{data, len, counter, out};
    if (pending_count_[kind][group] == MAX_LANES) run_group(kind, group);
  }

  void run_group(int kind, size_t group) {
    LaneJob job;
    job.key = key_;
    job.flags = flags_;
    job.flags_start = CHUNK_START;
    job.flags_end = kind == ROOT_KIND ? CHUNK_END | ROOT : CHUNK_END;
    job.block_count = group + 1;
    job.lane_count = pending_count_[kind][group];
    const size_t tail_offset = group * 64;
    for (size_t l = 0; l < job.lane_count; ++l) {
      const Chunk& c = pending_[kind][group][l];
      const size_t tail_len = c.len - tail_offset;
      job.input[l] = c.data;
      std::memset(scratch_ + l * 64, 0, 64);
      if (tail_len > 0) std::memcpy(scratch_ + l * 64, c.data + tail_offset, tail_len);
      job.last_block[l] = scratch_ + l * 64;
      job.last_block_len[l] = static_cast<uint32_t>(tail_len);
      job.counter[l] = c.counter;
    }
    kernels_.hash_lanes(job, lane_out_);
    for (size_t l = 0; l < job.lane_count; ++l)
      std::memcpy(pending_[kind][group][l].out, lane_out_ + l * 32, 32);
    pending_count_[kind][group] = 0;
  }

  // Hashes every waiting leaf chunk, then folds each windowed message's tree.
  void flush_window() {
    for (size_t group = 0; group < GROUPS; ++group)
      if (pending_count_[LEAF_KIND][group] > 0) run_group(LEAF_KIND, group);
    for (size_t i = 0; i < window_message_count_; ++i) {
      const Message& m = window_messages_[i];
      fold_tree(window_cvs_ + m.first_cv * 32, m.chunk_count, m.out);
    }
    window_message_count_ = 0;
    window_used_ = 0;
  }

  // The root of the tree over chunk_count (>= 2) chunk chaining values, merged as the
  // hasher merges them; ROOT goes on the last parent only.
  void fold_tree(const uint8_t* cvs, size_t chunk_count, uint8_t out[32]) {
    uint8_t stack[8][32];  // at most log2(MAX_WINDOWED_CHUNKS) + 1 subtrees wait
    size_t depth = 0;
    uint8_t merged[64];
    for (size_t c = 0; c + 1 < chunk_count; ++c) {
      std::memcpy(merged + 32, cvs + c * 32, 32);
      for (uint64_t total = c + 1; (total & 1) == 0; total >>= 1) {
        std::memcpy(merged, stack[--depth], 32);
        parent_output(merged, key_, flags_).chaining_value(merged + 32);
      }
      std::memcpy(stack[depth++], merged + 32, 32);
    }
    std::memcpy(merged + 32, cvs + (chunk_count - 1) * 32, 32);
    for (size_t i = depth; i-- > 1;) {
      std::memcpy(merged, stack[i], 32);
      parent_output(merged, key_, flags_).chaining_value(merged + 32);
    }
    std::memcpy(merged, stack[0], 32);
    uint32_t cv[8];
    std::memcpy(cv, key_, sizeof cv);
    compress_in_place_portable(cv, merged, 64, 0, flags_ | PARENT | ROOT);
    store_cv_bytes(cv, out);
  }

  const uint32_t* key_;
  uint8_t flags_;
  const Kernels& kernels_;
  Chunk pending_[2][GROUPS][MAX_LANES];
  size_t pending_count_[2][GROUPS] = {};
  uint8_t scratch_[MAX_LANES * 64];
  uint8_t lane_out_[MAX_LANES * 32];
  uint8_t window_cvs_[WINDOW_CHUNKS * 32];
  Message window_messages_[WINDOW_CHUNKS / 2];
  size_t window_message_count_ = 0;
  size_t window_used_ = 0;
};

void hash_many_with(const uint8_t* inputs, size_t input_len, size_t count, const uint8_t* key,
                    uint8_t* out, const Kernels& kernels) {
  uint32_t key_words[8];
  uint8_t flags;
  key_words_or_iv(key, key_words, &flags);
  if (input_len > BLAKE3_CHUNK_LEN) {
    ChunkScheduler scheduler(key_words, flags, kernels);
    for (size_t i = 0; i < count; ++i) scheduler.add(inputs + i * input_len, input_len, out + i * 32);
    scheduler.finish();
    return;
  }
  if (input_len <= BLAKE3_BLOCK_LEN) {
    // One block each (64-byte Merkle nodes): the batch-wide kernel.
    kernels.hash_blocks(inputs, input_len, count, static_cast<uint32_t>(input_len), key_words,
                        flags | CHUNK_START | CHUNK_END | ROOT, out);
    return;
  }
  // Every input is one chunk: block 0 has CHUNK_START, the last block CHUNK_END | ROOT,
  // and a short last block is padded with zeros in scratch.
  const size_t block_count = input_len == 0 ? 1 : (input_len + 63) / 64;
  const size_t tail_offset = (block_count - 1) * 64;
  const size_t tail_len = input_len - tail_offset;
  const bool tail_in_place = tail_len == 64;
  uint8_t scratch[MAX_LANES * 64];
  if (!tail_in_place) std::memset(scratch, 0, sizeof scratch);
  LaneJob job;
  job.key = key_words;
  job.flags = flags;
  job.flags_start = CHUNK_START;
  job.flags_end = CHUNK_END | ROOT;
  job.block_count = block_count;
  for (size_t l = 0; l < MAX_LANES; ++l) {
    job.last_block_len[l] = static_cast<uint32_t>(tail_len);
    job.counter[l] = 0;
  }
  for (size_t i = 0; i < count; i += MAX_LANES) {
    job.lane_count = count - i < MAX_LANES ? count - i : MAX_LANES;
    for (size_t l = 0; l < job.lane_count; ++l) {
      const uint8_t* input = inputs + (i + l) * input_len;
      job.input[l] = input;
      if (tail_in_place) {
        job.last_block[l] = input + tail_offset;
      } else {
        if (tail_len > 0) std::memcpy(scratch + l * 64, input + tail_offset, tail_len);
        job.last_block[l] = scratch + l * 64;
      }
    }
    kernels.hash_lanes(job, out + i * 32);
  }
}

void hash_var_with(const VarItems& items, const uint8_t* key, uint8_t* out, const Kernels& kernels) {
  uint32_t key_words[8];
  uint8_t flags;
  key_words_or_iv(key, key_words, &flags);
  ChunkScheduler scheduler(key_words, flags, kernels);
  for (size_t i = 0; i < items.count; ++i) scheduler.add(items.item(i), items.item_len(i), out + i * 32);
  scheduler.finish();
}

void hash_list_with(const uint8_t* const* ptrs, const size_t* lens, size_t count, const uint8_t* key,
                    uint8_t* out, const Kernels& kernels) {
  static const uint8_t kEmpty[1] = {0};
  uint32_t key_words[8];
  uint8_t flags;
  key_words_or_iv(key, key_words, &flags);
  ChunkScheduler scheduler(key_words, flags, kernels);
  for (size_t i = 0; i < count; ++i) scheduler.add(lens[i] ? ptrs[i] : kEmpty, lens[i], out + i * 32);
  scheduler.finish();
}

}  // namespace

void Blake3Hasher::init() { init_with(*this, IV, 0); }

void Blake3Hasher::init_keyed(const uint8_t key_bytes[BLAKE3_KEY_LEN]) {
  uint32_t words[8];
  load_key_words(key_bytes, words);
  init_with(*this, words, KEYED_HASH);
}

void Blake3Hasher::init_derive_key(const char* context, size_t context_len) {
  Blake3Hasher context_hasher;
  init_with(context_hasher, IV, DERIVE_KEY_CONTEXT);
  context_hasher.update(reinterpret_cast<const uint8_t*>(context), context_len);
  uint8_t context_key[BLAKE3_KEY_LEN];
  context_hasher.finalize(context_key, BLAKE3_KEY_LEN);
  uint32_t words[8];
  load_key_words(context_key, words);
  init_with(*this, words, DERIVE_KEY_MATERIAL);
}

void Blake3Hasher::update(const uint8_t* data, size_t len) {
  hasher_update(*this, data, len, active_kernels());
}

void Blake3Hasher::finalize(uint8_t* out, size_t out_len) const {
  if (out_len == 0) return;
  Output o = chunk_output(*this);
  uint8_t merged[64];
  for (size_t i = cv_stack_len; i-- > 0;) {
    std::memcpy(merged, cv_stack + i * 32, 32);
    o.chaining_value(merged + 32);
    o = parent_output(merged, key, flags);
  }
  o.root_bytes(out, out_len);
}

void blake3_hash(const uint8_t* data, size_t len, uint8_t out[BLAKE3_OUT_LEN]) {
  hash_with(IV, 0, data, len, active_kernels(), out);
}

void blake3_keyed_hash(const uint8_t key[BLAKE3_KEY_LEN], const uint8_t* data, size_t len,
                       uint8_t out[BLAKE3_OUT_LEN]) {
  uint32_t words[8];
  load_key_words(key, words);
  hash_with(words, KEYED_HASH, data, len, active_kernels(), out);
}

void blake3_derive_key(const char* context, size_t context_len, const uint8_t* material,
                       size_t material_len, uint8_t out[BLAKE3_OUT_LEN]) {
  Blake3Hasher h;
  h.init_derive_key(context, context_len);
  h.update(material, material_len);
  h.finalize(out, BLAKE3_OUT_LEN);
}

void blake3_hash_many(const uint8_t* inputs, size_t input_len, size_t count, const uint8_t* key,
                      uint8_t* out) {
  hash_many_with(inputs, input_len, count, key, out, active_kernels());
}

void blake3_hash_var(const VarItems& items, const uint8_t* key, uint8_t* out) {
  hash_var_with(items, key, out, active_kernels());
}

void blake3_hash_list(const uint8_t* const* ptrs, const size_t* lens, size_t count, const uint8_t* key,
                      uint8_t* out) {
  hash_list_with(ptrs, lens, count, key, out, active_kernels());
}

void blake3_hash_many_portable(const uint8_t* inputs, size_t input_len, size_t count,
                               const uint8_t* key, uint8_t* out) {
  hash_many_with(inputs, input_len, count, key, out, PORTABLE_KERNELS);
}

void blake3_hash_var_portable(const VarItems& items, const uint8_t* key, uint8_t* out) {
  hash_var_with(items, key, out, PORTABLE_KERNELS);
}

}  // namespace ledger_core
