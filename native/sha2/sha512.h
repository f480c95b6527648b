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

// Batched one-shot SHA-512 of `count` independent messages; Ed25519 batch verification
// hashes R || A || M for every signature with it, the three pieces given separately.
//
// Message i = items[i].part[0] || items[i].part[1] || items[i].part[2]; a part of len 0
// may have a null pointer. out receives count * SHA512_LEN bytes, digest i at
// out + SHA512_LEN * i; out must not overlap any part. count 0 writes nothing. Lengths
// are not validated beyond size_t arithmetic. Single-threaded and reentrant.
// sha512_many_parts runs the widest path (AVX2: four messages in the four 64-bit lanes,
// a lane refilled with the next message as soon as its message ends);
// sha512_many_parts_portable hashes one message at a time (for tests and benchmarks).
struct Sha512Parts { const uint8_t* part[3]; size_t len[3]; };
void sha512_many_parts(const Sha512Parts* items, size_t count, uint8_t* out);
void sha512_many_parts_portable(const Sha512Parts* items, size_t count, uint8_t* out);

// The name of the active path of sha512_many_parts ("avx2" or "portable"), for
// ledger_core.features(). Single-message compression is portable on every CPU: one
// message is a chain of dependent rounds, which lanes cannot shorten.
const char* sha512_active_path();

}  // namespace ledger_core
