// Verifiers of RFC 9162 inclusion (2.1.3.2) and consistency (2.1.4.2) proofs.
//
// They need no tree: only the suite, the sizes, the hashes and the proof. A proof is
// proof_count hashes of 32 bytes, contiguous. Hashes arrive as spans so that a wrong
// length is a failed verification, never an error: anything malformed returns false.
//
// Conventions (those of the transparency-dev/merkle verifiers and their test vectors):
//   - inclusion needs index < size; a tree of size 0 includes nothing;
//   - consistency from old_size 0 is always false (a proof from the empty tree proves
//     nothing), as is old_size > new_size;
//   - roots are 32 bytes at every size (issue 12: equal sizes with 3-byte roots were true);
//   - equal sizes need an empty proof and byte-equal roots;
//   - a proof with a missing, extra or altered hash fails.
// Pure functions: reentrant, thread-safe, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/span.h"
#include "merkle/merkle_hash.h"

namespace ledger_core {

bool merkle_verify_inclusion(MerkleSuite suite, ByteSpan leaf_hash, uint64_t index, uint64_t size,
                             const uint8_t* proof, size_t proof_count, ByteSpan root);

bool merkle_verify_consistency(MerkleSuite suite, uint64_t old_size, uint64_t new_size,
                               ByteSpan old_root, ByteSpan new_root, const uint8_t* proof,
                               size_t proof_count);

}  // namespace ledger_core
