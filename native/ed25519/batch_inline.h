// The batch verification kernel (batch.h explains the algorithm) as a template over the
// field type: each field path (field_paths.h) compiles its own copy, so R decoding, the
// MSM and the final cofactor check all run on that path's arithmetic. Points live in the
// field type's representation from decoding to the final check; only the cached public
// keys (keycache.h, radix 2^51) are converted, once per distinct key per chunk.
#pragma once

#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "ed25519/field_paths.h"
#include "ed25519/keycache.h"
#include "ed25519/msm_inline.h"
#include "ed25519/scalar.h"
#include "sha2/sha512.h"

namespace ledger_core {
namespace batch_inline {

namespace gi = ge_inline;
using ed25519_paths::BatchChunk;

// R values decoded side by side (decompress_many): four chains of squarings keep the
// multiplier busier than two (bmi2: 6.40 -> 6.25 us per signature at 4096 Zipf).
constexpr int kDecodeLanes = 4;

inline uint64_t load64(const uint8_t* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);  // x86-64 and every target we build for are little-endian
  return x;
}

// What the per-item stage learns about one item (filled in parallel, one slot per item).
struct Prepared {
  ge_p3 R;  // in the field type's representation
  Scalar S;
  Scalar k;
  DecodedKey key;
  bool pending;  // passed rules 0-3: waits for an equation
};

// An item that waits for an equation.
struct Pending {
  uint32_t item;  // offset of the item in the chunk (index into the Prepared array)
  uint32_t key;   // index into Chunk::keys_
  uint64_t z_lo, z_hi;
};

// One chunk of at most BATCH_CHUNK_MAX items, verified with all the threads allowed: the
// per-item checks are spread over the pool in small slices, and the MSMs parallelise
// inside (msm.h), so a thread that the OS starves slows the batch by its share only.
template <class F>
class Chunk {
 public:
  explicit Chunk(const BatchChunk& c)
      : pks_(c.public_keys), msgs_(*c.messages), sigs_(c.signatures), begin_(c.begin), end_(c.end),
        threads_(c.threads), method_(c.method), random_(c.random_z), reasons_(c.reasons) {}

  Status run() {
    const size_t n = end_ - begin_;
    prepared_.resize(n);
    parallel_for(n, threads_, 16, [&](size_t b, size_t e) { prepare_range(b, e); });
    // Key merging, in item order: an open-addressing table from key bytes to a key id.
    size_t table_size = 16;
    while (table_size < 2 * n) table_size <<= 1;
    std::vector<uint32_t> table(table_size, 0);  // key id + 1, 0 = empty
    std::vector<const uint8_t*> key_bytes;
    pending_.reserve(n);
    for (size_t j = 0; j < n; ++j) {
      if (!prepared_[j].pending) continue;
      const uint8_t* pk = pks_ + 32 * (begin_ + j);
      size_t slot = size_t(load64(pk + 16) * 0x9e3779b97f4a7c15ULL) & (table_size - 1);
      while (table[slot] && std::memcmp(key_bytes[table[slot] - 1], pk, 32) != 0)
        slot = (slot + 1) & (table_size - 1);
      if (!table[slot]) {
        ge_p3 point;
        gi::p3_from_portable<F>(point, prepared_[j].key.point);
        keys_.push_back(point);
        key_bytes.push_back(pk);
        table[slot] = uint32_t(keys_.size());
      }
      const uint8_t* z = random_ + 16 * j;
      pending_.push_back(Pending{uint32_t(j), table[slot] - 1, load64(z), load64(z + 8)});
    }
    key_acc_.resize(keys_.size());
    key_seen_.assign(keys_.size(), 0);
    std::vector<uint32_t> all(pending_.size());
    for (size_t j = 0; j < all.size(); ++j) all[j] = uint32_t(j);
    return settle(all);
  }

 private:
  // Rules 0-3 for items begin_ + [b, e) (verify.h's order: S, A, R, A's order), then k for
  // the survivors. R is decoded kDecodeLanes items at a time; the k_i of the slice are
  // hashed in one sha512_many_parts call (several messages per SIMD register set).
  void prepare_range(size_t b, size_t e) {
    size_t waiting[kDecodeLanes];  // items whose R waits for partners
    size_t waiting_count = 0;
    for (size_t j = b; j < e; ++j) {
      const size_t i = begin_ + j;
      Prepared& p = prepared_[j];
      p.pending = false;
      if (!sc_is_canonical(sigs_ + 64 * i + 32)) {
        reasons_[i] = uint8_t(VerifyReason::non_canonical_s);
        continue;
      }
      keycache_get(pks_ + 32 * i, &p.key);
      if (!p.key.canonical) {
        reasons_[i] = uint8_t(VerifyReason::non_canonical_point);
        continue;
      }
      waiting[waiting_count++] = j;
      if (waiting_count == size_t(kDecodeLanes)) {
        decode_group(waiting, waiting_count);
        waiting_count = 0;
      }
    }
    if (waiting_count) decode_group(waiting, waiting_count);
    hash_range(b, e);
  }

  // Decodes R for up to kDecodeLanes items that passed rules 0-2 for A, then rule 3.
  // A short group repeats its last item in the spare lanes.
  void decode_group(const size_t* items, size_t count) {
    const uint8_t* encodings[kDecodeLanes];
    for (size_t l = 0; l < size_t(kDecodeLanes); ++l)
      encodings[l] = sigs_ + 64 * (begin_ + items[l < count ? l : count - 1]);
    ge_p3 points[kDecodeLanes];
    bool ok[kDecodeLanes];
    gi::decompress_many<F, kDecodeLanes>(ok, points, encodings, F::constants());
    for (size_t l = 0; l < count; ++l) {
      const size_t j = items[l];
      const size_t i = begin_ + j;
      Prepared& p = prepared_[j];
      if (!ok[l]) {
        reasons_[i] = uint8_t(VerifyReason::non_canonical_point);
        continue;
      }
      p.R = points[l];
      if (p.key.small_order) {
        reasons_[i] = uint8_t(VerifyReason::small_order_key);
        continue;
      }
      p.pending = true;
    }
  }

  // k = SHA-512(R || A || M) mod L and S for the pending items of [b, e).
  void hash_range(size_t b, size_t e) {
    constexpr size_t kGroup = 64;  // items per sha512_many_parts call (stack space)
    Sha512Parts parts[kGroup];
    uint8_t digests[kGroup * SHA512_LEN];
    size_t items[kGroup];
    size_t count = 0;
    for (size_t j = b; j < e; ++j) {
      if (!prepared_[j].pending) continue;
      const size_t i = begin_ + j;
      Sha512Parts& part = parts[count];
      part.part[0] = sigs_ + 64 * i;
      part.len[0] = 32;
      part.part[1] = pks_ + 32 * i;
      part.len[1] = 32;
      part.part[2] = msgs_.item(i);
      part.len[2] = msgs_.item_len(i);
      items[count++] = j;
      if (count == kGroup) {
        finish_hashes(parts, items, count, digests);
        count = 0;
      }
    }
    if (count) finish_hashes(parts, items, count, digests);
  }

  void finish_hashes(const Sha512Parts* parts, const size_t* items, size_t count, uint8_t* digests) {
    sha512_many_parts(parts, count, digests);
    for (size_t l = 0; l < count; ++l) {
      Prepared& p = prepared_[items[l]];
      uint64_t wide[8];
      for (size_t w = 0; w < 8; ++w) wide[w] = load64(digests + SHA512_LEN * l + 8 * w);
      sc_reduce_wide(p.k, wide);
      sc_from_bytes(p.S, sigs_ + 64 * (begin_ + items[l]) + 32);
    }
  }

  void give(uint32_t pending_index, VerifyReason reason) {
    reasons_[begin_ + pending_[pending_index].item] = uint8_t(reason);
  }

  // Gives every pending item in `group` its verdict.
  Status settle(const std::vector<uint32_t>& group) {
    if (group.empty()) return Status::ok;
    if (group.size() <= BATCH_SINGLE_MAX) {
      for (uint32_t j : group) {
        bool ok = false;
        Status st = equation({j}, /*unit_coefficients=*/true, &ok);
        if (st != Status::ok) return st;
        give(j, ok ? VerifyReason::ok : VerifyReason::equation_failed);
      }
      return Status::ok;
    }
    bool ok = false;
    Status st = equation(group, false, &ok);
    if (st != Status::ok) return st;
    if (ok) {
      for (uint32_t j : group) give(j, VerifyReason::ok);
      return Status::ok;
    }
    const size_t half = group.size() / 2;
    std::vector<uint32_t> left(group.begin(), group.begin() + half);
    std::vector<uint32_t> right(group.begin() + half, group.end());
    st = settle(left);
    if (st != Status::ok) return st;
    return settle(right);
  }

  // *ok = ([8] of the random linear combination over `group` is the identity). With
  // unit_coefficients every z is 1: for one item that is exactly its own cofactored
  // equation, no randomness involved.
  Status equation(const std::vector<uint32_t>& group, bool unit_coefficients, bool* ok) {
    // Kept per thread between calls (no fresh pages per batch); equation() never nests.
    thread_local std::vector<ge_p3> points;
    thread_local std::vector<Scalar> scalars;
    points.clear();
    scalars.clear();
    ScalarAcc s_acc;
    sc_acc_zero(s_acc);
    std::vector<uint32_t> touched;
    for (uint32_t j : group) {
      const Pending& p = pending_[j];
      const Prepared& item = prepared_[p.item];
      const uint64_t z_lo = unit_coefficients ? 1 : p.z_lo;
      const uint64_t z_hi = unit_coefficients ? 0 : p.z_hi;
      sc_acc_add_mul128(s_acc, z_lo, z_hi, item.S);
      if (!key_seen_[p.key]) {
        key_seen_[p.key] = 1;
        sc_acc_zero(key_acc_[p.key]);
        touched.push_back(p.key);
      }
      sc_acc_add_mul128(key_acc_[p.key], z_lo, z_hi, item.k);
      Scalar z;
      z.v[0] = z_lo;
      z.v[1] = z_hi;
      z.v[2] = z.v[3] = 0;
      points.push_back(item.R);
      scalars.push_back(z);
    }
    for (uint32_t key : touched) {
      key_seen_[key] = 0;
      Scalar c;
      sc_acc_reduce(c, key_acc_[key]);
      points.push_back(keys_[key]);
      scalars.push_back(c);
    }
    Scalar b;
    sc_acc_reduce(b, s_acc);
    sc_neg(b, b);
    ge_p3 sum;
    Status st = msm_inline::msm_split<F>(sum, b, scalars.data(), points.data(), points.size(), method_, threads_);
    if (st != Status::ok) return st;
    ge_p3 cleared;
    gi::mul_by_cofactor<F>(cleared, sum);
    *ok = gi::is_identity<F>(cleared);
    return Status::ok;
  }

  const uint8_t* pks_;
  const MessageList& msgs_;
  const uint8_t* sigs_;
  size_t begin_, end_, threads_;
  MsmMethod method_;
  const uint8_t* random_;
  uint8_t* reasons_;
  std::vector<Prepared> prepared_;
  std::vector<Pending> pending_;
  std::vector<ge_p3> keys_;
  std::vector<ScalarAcc> key_acc_;
  std::vector<uint8_t> key_seen_;
};

// One chunk on field type F; no_memory when scratch space could not be allocated.
template <class F>
Status verify_chunk(const BatchChunk& c) {
  try {
    Chunk<F> chunk(c);
    return chunk.run();
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

}  // namespace batch_inline
}  // namespace ledger_core
