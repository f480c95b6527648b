// SHA-512 (FIPS 180-4). Ed25519 hashes R || A || M with it for every signature.
//
// Sizes: digest SHA512_LEN = 64 bytes, block SHA512_BLOCK_LEN = 128 bytes.
// Inputs may be empty (data may then be null) and may alias the output.
// Thread-safety: the one-shot functions are reentrant; a Sha512 object is not shared.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ledger_core {

constexpr size_t SHA512_LEN = 64;
constexpr size_t SHA512_BLOCK_LEN = 128;

// Incremental hashing: init(), any number of update(), then final(). final() leaves the
// object needing init() before reuse.
struct Sha512 {
  uint64_t state[8];
  uint64_t total_len;  // bytes absorbed so far
  uint8_t block[SHA512_BLOCK_LEN];
  size_t block_len;    // bytes buffered in `block`

  void init();
  void update(const uint8_t* data, size_t len);
  void final(uint8_t out[SHA512_LEN]);
};

void sha512(const uint8_t* data, size_t len, uint8_t out[SHA512_LEN]);

// Compresses block_count consecutive 128-byte blocks into state (the portable path;
// sha512_compress_blocks picks the widest path available once).
void sha512_compress_portable(uint64_t state[8], const uint8_t* blocks, size_t block_count);
void sha512_compress_blocks(uint64_t state[8], const uint8_t* blocks, size_t block_count);

// The name of the active compression path ("portable", ...), for ledger_core.features().
const char* sha512_active_path();

}  // namespace ledger_core
