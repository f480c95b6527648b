// Ed25519 batch verification: one verdict per item, the same verdict single verification
// (verify.h) gives, for a fraction of its cost.
//
// The policy (docs/POLICY.md) accepts (A, M, R||S) when S < L, A and R decode strictly,
// [8]A != identity, and the cofactored equation [8][S]B == [8]R + [8][k]A holds, with
// k = SHA-512(R || A || M) mod L. Items that fail one of the first three checks get their
// reason at once and never enter an equation, so a malformed item cannot poison the rest.
//
// The surviving items are checked together. Each gets an independent 128-bit random z_i
// from the OS (getrandom(2)), and one multi-scalar multiplication (msm.h) evaluates
//
//     [8] ( -(sum z_i S_i) B  +  sum z_i R_i  +  sum_keys (sum_{i: A_i = A} z_i k_i) A )
//
// If every item satisfies its cofactored equation this is the identity. If some item does
// not, its defect [8]([S_i]B - R_i - [k_i]A_i) is a non-zero point of order L, and the sum
// is the identity for at most one value of z_i mod L given the others, so each check of
// a group holding it passes with probability <= 2^-128; a bad item meets at most 13 such
// checks while failing groups are halved (docs/POLICY.md), so it is accepted with
// probability <= 13 * 2^-128 < 2^-124. The cofactor 8 is applied to the sum, so small-order
// components (torsion in R_i, mixed-order keys) cancel exactly as they do in single
// verification: the two agree on every item, not just honest ones.
//
// Structure of a call:
//
//     items --(chunks of <= BATCH_CHUNK_MAX, one after the other)--> chunk:
//       per item, in parallel slices:  S < L?  A from the key cache (decoded once per
//                                      process)  R strict? (four R at a time, their
//                                      square roots interleaved)  [8]A != 0?
//                                      then k = H(R||A||M) for the slice's survivors
//                                      in one multi-buffer call (sha512_many_parts)
//       in order:   merge items by key bytes -> one term per distinct key
//       equation over survivors (one MSM, parallel over its windows):
//                   ok   -> all ok
//                   fail -> halve and retry each half; at BATCH_SINGLE_MAX items or
//                           fewer, check each item's own equation (z = 1).
//
// Threads share each chunk's work in small pieces (per-item slices, Pippenger windows)
// rather than taking one sub-batch each: on a loaded machine a thread the OS starves
// then delays only its piece, and one large MSM merges more repeated keys and costs less
// per point than several small ones.
//
// Everything from R decoding to the final [8] check runs on one field path (field_paths.h:
// portable radix 2^51, or MULX/ADX radix 2^64), chosen once with single verification's;
// batch_inline.h is the kernel, compiled once per path, and batch.cpp only chunks, draws
// the z_i and dispatches.
//
// Items with the same public key share one MSM term: a batch of invoices from a few
// thousand sellers costs ~1 term per item (R_i, with a half-length scalar) instead of 2.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/span.h"
#include "common/status.h"
#include "ed25519/msm.h"
#include "ed25519/verify.h"

namespace ledger_core {

// At or below this many items, a failing group is settled item by item.
constexpr size_t BATCH_SINGLE_MAX = 4;
// Most items one MSM covers; larger batches become several chunks (bounded memory).
constexpr size_t BATCH_CHUNK_MAX = 16384;

// The messages of a batch, in one of three layouts: exactly one of fixed, var, or
// (pointers, lengths) is set. The pointer form lets the bindings pass the buffers of a
// list of byte strings without copying them into one buffer.
struct MessageList {
  const FixedItems* fixed = nullptr;
  const VarItems* var = nullptr;
  const uint8_t* const* pointers = nullptr;
  const size_t* lengths = nullptr;

  const uint8_t* item(size_t i) const {
    return fixed ? fixed->item(i) : var ? var->item(i) : pointers[i];
  }
  size_t item_len(size_t i) const {
    return fixed ? fixed->item_len : var ? var->item_len(i) : lengths[i];
  }
};

// Verifies `count` items: public key i is public_keys[32 i, 32 i + 32), signature i is
// signatures[64 i, 64 i + 64), message i is messages.item(i). Writes one VerifyReason
// value (verify.h) per item to reasons[0, count). count may be 0.
// threads: 0 = all hardware threads (resolve_thread_count); work runs on the shared pool.
// method: which MSM to use (automatic picks by size; forcing one is for benchmarks).
// Not validated: the caller guarantees the sizes above (the binding layer checks shapes).
// Returns ok; no_memory if scratch space could not be allocated; internal if the OS
// random generator failed. On a non-ok status reasons[] is unspecified.
// Thread-safe; the public-key cache (keycache.h) is shared across calls.
Status ed25519_verify_batch(const uint8_t* public_keys, const MessageList& messages,
                            const uint8_t* signatures, size_t count, size_t threads,
                            MsmMethod method, uint8_t* reasons);

}  // namespace ledger_core
