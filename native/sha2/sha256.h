// SHA-256 (FIPS 180-4). The "sha256" Merkle suite (RFC 9162) hashes every node with it.
//
// Sizes: digest SHA256_LEN = 32 bytes, block SHA256_BLOCK_LEN = 64 bytes.
// Inputs may be empty (data may then be null) and may alias the output.
// Thread-safety: the one-shot functions are reentrant; a Sha256 object is not shared.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ledger_core {

constexpr size_t SHA256_LEN = 32;
constexpr size_t SHA256_BLOCK_LEN = 64;

// Incremental hashing: init(), any number of update(), then final(). final() leaves the
// object needing init() before reuse.
struct Sha256 {
  uint32_t state[8];
  uint64_t total_len;
  uint8_t block[SHA256_BLOCK_LEN];
  size_t block_len;

  void init();
  void update(const uint8_t* data, size_t len);
  void final(uint8_t out[SHA256_LEN]);
};

void sha256(const uint8_t* data, size_t len, uint8_t out[SHA256_LEN]);

// SHA-256 on the portable compression path whatever the CPU has (tests compare paths).
void sha256_portable(const uint8_t* data, size_t len, uint8_t out[SHA256_LEN]);

// Hashes `count` inputs of equal length input_len, stored contiguously (input i is
// inputs[i * input_len, (i + 1) * input_len)); out: count * 32 bytes, digest i at
// out[i * 32], disjoint from the inputs. One thread, widest path. The RFC 9162 Merkle
// suite's nodes (0x01 || left || right, 65 bytes) are its main use.
void sha256_many(const uint8_t* inputs, size_t input_len, size_t count, uint8_t* out);
void sha256_many_portable(const uint8_t* inputs, size_t input_len, size_t count, uint8_t* out);

// The name of the active compression path ("sha_ni" where the CPU has SHA-NI and SSE4.1,
// else "portable"), chosen once by sha256_dispatch.cpp; for ledger_core.features().
const char* sha256_active_path();

}  // namespace ledger_core
