// BLAKE3 (the BLAKE3 specification, O'Connor, Aumasson, Neves, Wilcox-O'Hearn, 2020):
// hash, keyed hash, key derivation and extended output, one-shot, incremental and batched.
//
// The Merkle tree hashes every 64-byte parent node with blake3_hash_many; large single
// inputs are hashed as the BLAKE3 tree, 8 chunks (and then 8 parents) at a time in
// SIMD lanes.
//
// Sizes: digest BLAKE3_OUT_LEN = 32 bytes (finalize gives any length: extended output),
// key BLAKE3_KEY_LEN = 32 bytes, compression block BLAKE3_BLOCK_LEN = 64 bytes, chunk
// BLAKE3_CHUNK_LEN = 1024 bytes.
//
// Empty inputs are allowed everywhere: data (and inputs, material, context) may then be
// null. Outputs may alias inputs for the one-shot functions (blake3_hash,
// blake3_keyed_hash, blake3_derive_key: the output is written after the input is read);
// the batched functions need `out` disjoint from the inputs. Nothing is validated: a
// VarItems must have passed items_valid(), pointers must cover the sizes given.
//
// Thread-safety: every free function is reentrant and may run on many threads at once
// (the SIMD path is chosen once, thread-safely, on first use). A Blake3Hasher is plain
// data: one thread at a time, copy it to fork the state.
//
// Paths: "avx2" (8 inputs in the 8 32-bit lanes of a YMM register) where the CPU has
// it, else "portable"; LEDGER_CORE_PORTABLE=1 forces "portable". The *_portable entry
// points always take the portable path, so tests can compare both in one process.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/span.h"

namespace ledger_core {

constexpr size_t BLAKE3_OUT_LEN = 32;
constexpr size_t BLAKE3_KEY_LEN = 32;
constexpr size_t BLAKE3_BLOCK_LEN = 64;
constexpr size_t BLAKE3_CHUNK_LEN = 1024;
// Chaining values on the stack of a hasher: one per level of a tree of 2^64 bytes.
constexpr size_t BLAKE3_MAX_DEPTH = 54;

// Incremental hashing: one of the init functions, any number of update(), then
// finalize() as often as wanted (it does not modify the state, so update() may follow).
struct Blake3Hasher {
  uint32_t key[8];            // the key words: IV, the user key, or the derived context key
  uint32_t chunk_cv[8];       // chaining value of the chunk being filled
  uint64_t chunk_counter;     // index of the chunk being filled
  uint8_t block[BLAKE3_BLOCK_LEN];  // the last, not yet compressed, block of input
  uint8_t block_len;          // bytes in `block`
  uint8_t blocks_compressed;  // blocks of the current chunk already compressed
  uint8_t flags;              // mode flags: 0, KEYED_HASH or DERIVE_KEY_*
  uint8_t cv_stack_len;
  // Chaining values of completed subtrees, one per set bit of chunk_counter, largest first.
  uint8_t cv_stack[BLAKE3_MAX_DEPTH * BLAKE3_OUT_LEN];

  void init();
  void init_keyed(const uint8_t key[BLAKE3_KEY_LEN]);
  // context: the application's context string (not necessarily NUL-terminated).
  void init_derive_key(const char* context, size_t context_len);
  void update(const uint8_t* data, size_t len);
  // Writes out_len bytes of output (any length: out_len > 32 is extended output, whose
  // first 32 bytes are the digest). Does not modify the state.
  void finalize(uint8_t* out, size_t out_len) const;
};

void blake3_hash(const uint8_t* data, size_t len, uint8_t out[BLAKE3_OUT_LEN]);
void blake3_keyed_hash(const uint8_t key[BLAKE3_KEY_LEN], const uint8_t* data, size_t len,
                       uint8_t out[BLAKE3_OUT_LEN]);
void blake3_derive_key(const char* context, size_t context_len, const uint8_t* material,
                       size_t material_len, uint8_t out[BLAKE3_OUT_LEN]);

// Hashes `count` inputs of equal length input_len, stored contiguously (input i is
// inputs[i * input_len, (i + 1) * input_len)). key null: the plain hash; else the keyed
// hash with that 32-byte key. out: count * 32 bytes, digest i at out[i * 32]. One thread,
// widest SIMD path; inputs of up to 1024 bytes run 8 at a time (64 bytes: one compression
// each), the chunks of inputs of up to 8 KB share lanes across inputs, longer inputs run
// one after another, each through the SIMD tree. No allocation; under 20 KB of stack.
void blake3_hash_many(const uint8_t* inputs, size_t input_len, size_t count, const uint8_t* key,
                      uint8_t* out);

// Hashes variable-length items (already checked with items_valid()); key as above.
// out: items.count * 32 bytes. One thread, widest SIMD path, scheduled as for
// blake3_hash_many (items of similar length share lanes best).
void blake3_hash_var(const VarItems& items, const uint8_t* key, uint8_t* out);

// Hashes `count` items given as pointers and lengths (item i is ptrs[i][0, lens[i]); a
// pointer may be null when its length is 0), key as above: the form for items that do
// not share one buffer (a list of payloads). Scheduled as blake3_hash_var.
void blake3_hash_list(const uint8_t* const* ptrs, const size_t* lens, size_t count, const uint8_t* key,
                      uint8_t* out);

// The same functions forced onto the portable path (for tests and benchmarks).
void blake3_hash_many_portable(const uint8_t* inputs, size_t input_len, size_t count,
                               const uint8_t* key, uint8_t* out);
void blake3_hash_var_portable(const VarItems& items, const uint8_t* key, uint8_t* out);

// The name of the active path ("avx2" or "portable"), for ledger_core.features().
const char* blake3_active_path();

}  // namespace ledger_core
